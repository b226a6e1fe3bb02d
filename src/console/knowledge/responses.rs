//! The Knowledge view's answers: lists, a document, a search's snippets,
//! saves (a refused one keeps the form and its draft, with the server's
//! field errors), deletions and an import's report.

use super::ImportOutcome;
use super::{KnowledgeResponse, KnowledgeView};
use crate::api::{ApiError, ApiResult};
use crate::console::component::Cx;
use crate::console::effect::{Effect, RequestId};
use crate::console::state::{InFlight, Load, Modal, Slot};
use crate::console::widgets::toast::Toast;
use crate::domain::{KnowledgeDocument, KnowledgeSummary};

fn summary_of(d: &KnowledgeDocument) -> KnowledgeSummary {
    KnowledgeSummary {
        id: d.id,
        title: d.title.clone(),
        format: d.format,
        chars: d.body.chars().count() as u32,
        chunks: d.chunks,
        created_at: d.created_at,
        updated_at: d.updated_at,
    }
}

impl KnowledgeView {
    pub(super) fn on_knowledge_response(
        &mut self,
        id: RequestId,
        flight: &InFlight,
        response: KnowledgeResponse,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        // An import reports wherever the user went meanwhile.
        if let KnowledgeResponse::Imported(r) = response {
            return self.imported(flight, r, cx);
        }
        if flight.tenant != self.tenant {
            return Vec::new();
        }
        let ok = |cx: &mut Cx<'_>| {
            if !flight.ok.is_empty() {
                cx.toast(Toast::success(flight.ok.clone()));
            }
        };
        match response {
            KnowledgeResponse::List(r) => self.documents.arrived(r),
            KnowledgeResponse::Document(r) if flight.slot == Some(Slot::KnowledgeEdit) => match r {
                Ok(doc) => self.edit_loaded(doc, cx),
                Err(e) => {
                    self.edit_when_loaded = None;
                    self.failed(flight, &e, cx);
                }
            },
            KnowledgeResponse::Document(r) => {
                if flight.target != self.open_id {
                    return Vec::new();
                }
                self.document = match r {
                    Ok(d) => Load::Loaded(d),
                    Err(e) => Load::Failed(e.message()),
                };
            }
            KnowledgeResponse::Search(r) => self.results.arrived(r),
            KnowledgeResponse::Created(Ok(doc)) | KnowledgeResponse::Updated(Ok(doc)) => {
                cx.finish_form(id);
                if let Some(list) = self.documents.loaded_mut() {
                    let row = summary_of(&doc);
                    match list.iter_mut().find(|d| d.id == doc.id) {
                        Some(d) => *d = row,
                        None => {
                            list.push(row);
                            list.sort_by_key(|d| d.title.to_lowercase());
                        }
                    }
                }
                self.documents.select_where(|d| d.id == doc.id);
                if self.open_id == Some(doc.id) {
                    self.document = Load::Loaded(doc);
                }
                ok(cx);
            }
            KnowledgeResponse::Deleted(Ok(())) => {
                if let Some(gone) = flight.target {
                    self.documents.retain(|d| d.id != gone);
                    self.results.retain(|s| s.document_id != gone);
                }
                if flight.target.is_some() && flight.target == self.open_id {
                    self.screen = self.came_from;
                    self.open_id = None;
                    self.document = Load::Idle;
                }
                ok(cx);
            }
            // Answered above.
            KnowledgeResponse::Imported(_) => {}
            KnowledgeResponse::Created(Err(e))
            | KnowledgeResponse::Updated(Err(e))
            | KnowledgeResponse::Deleted(Err(e)) => {
                self.keep_draft(id, &e, cx);
                self.failed(flight, &e, cx);
            }
        }
        Vec::new()
    }

    /// An import's report; the list is read again when it shows that tenant.
    fn imported(
        &mut self,
        flight: &InFlight,
        r: ApiResult<ImportOutcome>,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        let outcome = match r {
            Ok(o) => o,
            Err(e) => {
                self.failed(flight, &e, cx);
                return Vec::new();
            }
        };
        let text = outcome.summary();
        if outcome.created.is_empty() {
            cx.toast(Toast::error(text));
            return Vec::new();
        }
        cx.toast(Toast::success(text));
        if self.open && flight.tenant == self.tenant {
            return self.load(cx);
        }
        Vec::new()
    }

    /// A refused save: the form stays open with what was typed, each
    /// field's complaint under it.
    fn keep_draft(&self, id: RequestId, e: &ApiError, cx: &mut Cx<'_>) {
        // A body's error is long and its field narrow: the summary under
        // the form says it in full.
        if let Some(Modal::Form(open)) = &mut *cx.modal {
            open.refused(id, e, true);
        }
    }

    fn failed(&self, flight: &InFlight, e: &ApiError, cx: &mut Cx<'_>) {
        let msg = match e.status() {
            Some(403) => format!(
                "{}: {} (needs the knowledge:manage permission)",
                flight.fail,
                e.message()
            ),
            _ => format!("{}: {}", flight.fail, e.message()),
        };
        cx.toast(Toast::error(msg));
    }
}
