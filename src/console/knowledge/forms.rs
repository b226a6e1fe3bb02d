//! The document form: a title and a tall body. A new document opens it at
//! once; editing asks for the body first (the list holds none) and opens
//! the form when it arrives.

use uuid::Uuid;

use super::{KnowledgeRequest, KnowledgeView};
use crate::console::app::{FormPurpose, Modal, OpenForm};
use crate::console::component::Cx;
use crate::console::effect::Effect;
use crate::console::state::{Load, Slot};
use crate::console::widgets::form::{Field, Form};
use crate::domain::knowledge::MAX_TITLE_CHARS;
use crate::domain::{KnowledgeDocument, KnowledgePatch, NewKnowledgeDocument};

/// Rows the body shows in the form.
const BODY_ROWS: u16 = 12;

pub(crate) fn is_knowledge_form(p: &FormPurpose) -> bool {
    matches!(
        p,
        FormPurpose::NewKnowledge(_) | FormPurpose::EditKnowledge { .. }
    )
}

fn fields(title: &str, body: &str) -> Vec<Field> {
    vec![
        Field::line("title", "Title", title),
        Field::tall("body", "Body (Markdown or plain text)", body, BODY_ROWS),
    ]
}

impl KnowledgeView {
    pub(super) fn open_new_form(&mut self, tenant: Uuid, cx: &mut Cx<'_>) {
        *cx.modal = Some(Modal::Form(Box::new(OpenForm {
            form: Form::new("New document", fields("", ""), cx.theme),
            purpose: FormPurpose::NewKnowledge(tenant),
            pending: None,
        })));
    }

    fn open_edit_form(&self, tenant: Uuid, doc: &KnowledgeDocument, cx: &mut Cx<'_>) {
        *cx.modal = Some(Modal::Form(Box::new(OpenForm {
            form: Form::new(
                format!("Edit \"{}\"", crate::console::sanitize::clean(&doc.title)),
                fields(&doc.title, &doc.body),
                cx.theme,
            ),
            purpose: FormPurpose::EditKnowledge { tenant, id: doc.id },
            pending: None,
        })));
    }

    /// `e`: the open document's body is at hand; another is read first.
    pub(super) fn edit(&mut self, tenant: Uuid, id: Uuid, cx: &mut Cx<'_>) -> Vec<Effect> {
        if let Some(doc) = self.document.loaded().filter(|d| d.id == id) {
            let doc = doc.clone();
            self.open_edit_form(tenant, &doc, cx);
            return Vec::new();
        }
        self.edit_when_loaded = Some(id);
        let req = KnowledgeRequest::Document {
            tenant: tenant.to_string(),
            id,
        };
        let fail = "Could not load the document to edit";
        self.send(req, Some(Slot::KnowledgeEdit), "", fail, Some(id), cx)
    }

    /// The document asked for by `e` arrived: the form opens on it.
    pub(super) fn edit_loaded(&mut self, doc: KnowledgeDocument, cx: &mut Cx<'_>) {
        if self.edit_when_loaded.take() != Some(doc.id) {
            return;
        }
        if let Some(tenant) = self.tenant {
            self.open_edit_form(tenant, &doc, cx);
        }
        if self.open_id == Some(doc.id) {
            self.document = Load::Loaded(doc);
        }
    }

    /// Save in the form: checks what can be checked here, then sends.
    pub(crate) fn submit(&mut self, open: &mut OpenForm, cx: &mut Cx<'_>) -> (Vec<Effect>, bool) {
        let title = open.form.value("title").trim().to_string();
        let body = open.form.value("body");
        open.form.clear_errors();
        if title.is_empty() {
            open.form
                .set_error("title", "needed: what the document is about", cx.theme);
        } else if title.chars().count() > MAX_TITLE_CHARS {
            open.form.set_error(
                "title",
                format!("at most {MAX_TITLE_CHARS} characters"),
                cx.theme,
            );
        }
        if body.trim().is_empty() {
            open.form
                .set_error("body", "write the document's text first", cx.theme);
        }
        if open.form.field("title").is_some_and(|f| f.error.is_some())
            || open.form.field("body").is_some_and(|f| f.error.is_some())
        {
            return (Vec::new(), true);
        }
        let (req, ok, fail, target) = match &open.purpose {
            FormPurpose::NewKnowledge(tenant) => (
                KnowledgeRequest::Create {
                    tenant: tenant.to_string(),
                    new: NewKnowledgeDocument {
                        title: title.clone(),
                        body,
                        format: None,
                    },
                },
                format!("Added the document \"{title}\""),
                "Could not add the document",
                None,
            ),
            FormPurpose::EditKnowledge { tenant, id } => (
                KnowledgeRequest::Update {
                    tenant: tenant.to_string(),
                    id: *id,
                    patch: KnowledgePatch {
                        title: Some(title.clone()),
                        body: Some(body),
                        format: None,
                    },
                },
                format!("Saved the document \"{title}\""),
                "Could not save the document",
                Some(*id),
            ),
            _ => return (Vec::new(), true),
        };
        let effects = self.send(req, None, &ok, fail, target, cx);
        open.pending = Some(cx.requests.last_id());
        open.form.submitting = true;
        (effects, true)
    }
}
