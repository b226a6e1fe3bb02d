//! The Leads feature's forms: a manual lead, and a note or reply on a lead.

use uuid::Uuid;

use super::LeadsView;
use crate::console::component::Cx;
use crate::console::effect::{Effect, Request};
use crate::console::state::{FormPurpose, Modal, OpenForm};
use crate::console::widgets::form::{Field, Form};
use crate::domain::{LeadInput, NewNote};

/// The note form's second field: a reply is what stops the SLA clock.
const NOTE_KINDS: [&str; 2] = ["internal note", "reply to the lead"];

pub(crate) fn is_lead_form(p: &FormPurpose) -> bool {
    matches!(p, FormPurpose::NewLead(_) | FormPurpose::AddNote { .. })
}

impl LeadsView {
    /// Opens the form for one of this feature's purposes.
    pub(super) fn open_form(&self, purpose: FormPurpose, cx: &mut Cx<'_>) {
        let (title, fields) = match &purpose {
            FormPurpose::NewLead(_) => new_lead_fields(),
            FormPurpose::AddNote { lead, .. } => self.note_fields(*lead),
            _ => return,
        };
        *cx.modal = Some(Modal::Form(Box::new(OpenForm {
            form: Form::new(title, fields, cx.theme),
            purpose,
            pending: None,
        })));
    }

    fn note_fields(&self, lead: Uuid) -> (String, Vec<Field>) {
        let name = self
            .detail
            .as_ref()
            .filter(|d| d.lead.id == lead)
            .map_or("the lead".to_string(), |d| d.lead.name.clone());
        (
            format!("Note on {name}"),
            vec![
                Field::multi("body", "Note", ""),
                Field::choice("is_reply", "Kind", &NOTE_KINDS, NOTE_KINDS[0]),
            ],
        )
    }
}

fn new_lead_fields() -> (String, Vec<Field>) {
    (
        "New lead".to_string(),
        vec![
            Field::line("name", "Name", ""),
            Field::line("email", "Email", ""),
            Field::line("phone", "Phone", ""),
            Field::line("company", "Company", ""),
            Field::multi("message", "Message", ""),
        ],
    )
}

/// Saves a lead form: the form stays, marked as submitting, until its
/// reply closes it or shows what was wrong.
pub(crate) fn submit(open: &mut OpenForm, cx: &mut Cx<'_>) -> (Vec<Effect>, bool) {
    let f = &open.form;
    let (req, ok, fail, tenant) = match &open.purpose {
        FormPurpose::NewLead(t) => submit_new_lead(f, *t),
        FormPurpose::AddNote { tenant, lead } => submit_note(f, *tenant, *lead),
        _ => return (Vec::new(), true),
    };
    let effects = cx.send_about(req, None, &ok, &fail, Some(tenant), None);
    open.pending = Some(cx.requests.last_id());
    open.form.clear_errors();
    open.form.submitting = true;
    (effects, true)
}

/// What a lead form's save sends: the request, its toasts, the tenant.
type Submit = (Request, String, String, Uuid);

fn submit_new_lead(form: &Form, tenant: Uuid) -> Submit {
    let opt = |name: &str| {
        let v = form.value(name).trim().to_string();
        (!v.is_empty()).then_some(v)
    };
    let input = LeadInput {
        name: form.value("name").trim().to_string(),
        email: opt("email"),
        phone: opt("phone"),
        company: opt("company"),
        message: form.value("message").trim().to_string(),
        ..LeadInput::default()
    };
    let ok = format!("Added lead {}", input.name);
    (
        Request::CreateLead {
            tenant: tenant.to_string(),
            input,
        },
        ok,
        "Could not add the lead".into(),
        tenant,
    )
}

fn submit_note(form: &Form, tenant: Uuid, lead: Uuid) -> Submit {
    let is_reply = form.value("is_reply") == NOTE_KINDS[1];
    let note = NewNote {
        body: form.value("body").trim().to_string(),
        is_reply,
    };
    let ok = if is_reply {
        "Reply recorded"
    } else {
        "Note added"
    };
    (
        Request::AddNote {
            tenant: tenant.to_string(),
            id: lead,
            note,
        },
        ok.into(),
        "Could not add the note".into(),
        tenant,
    )
}
