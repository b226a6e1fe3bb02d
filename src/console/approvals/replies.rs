//! What the approvals view does with workflow replies and workflow events.

use uuid::Uuid;

use super::{ApprovalsView, WorkflowList};
use crate::api::ApiError;
use crate::console::component::Cx;
use crate::console::effect::{Effect, Request, RequestId};
use crate::console::keymap::Context;
use crate::console::request::Response;
use crate::console::state::{InFlight, Modal};
use crate::console::widgets::toast::Toast;
use crate::domain::{ServerEvent, Workflow};

/// The id an event carries under `key`.
pub(crate) fn uuid_at(ev: &ServerEvent, key: &str) -> Option<Uuid> {
    ev.data
        .get(key)
        .and_then(|v| v.as_str())
        .and_then(|s| Uuid::parse_str(s).ok())
}

impl ApprovalsView {
    /// Whether this reply belongs to the approvals (a decision or a retry
    /// is answered here wherever it was asked from; the router then tells
    /// the lead's detail).
    pub(crate) fn answers(r: &Response) -> bool {
        matches!(
            r,
            Response::Approvals(_)
                | Response::ApprovalLoaded(_)
                | Response::WorkflowDecided(_)
                | Response::WorkflowRetried(_)
        )
    }

    pub(super) fn apply(
        &mut self,
        id: RequestId,
        flight: &InFlight,
        response: Response,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        let here = flight.tenant.is_some() && flight.tenant == self.tenant;
        match response {
            Response::Approvals(r) if here => {
                self.list.arrived(r);
            }
            Response::ApprovalLoaded(Ok(a)) if here && self.show.includes(a.workflow.status) => {
                self.upsert(*a)
            }
            Response::WorkflowDecided(r) => self.on_decided(id, flight, r, false, cx),
            Response::WorkflowRetried(r) => self.on_decided(id, flight, r, true, cx),
            _ => {}
        }
        Vec::new()
    }

    /// A decision's or a retry's answer, wherever it was asked from (the
    /// view's list, a form, a lead's detail).
    fn on_decided(
        &mut self,
        id: RequestId,
        flight: &InFlight,
        result: Result<Workflow, ApiError>,
        retry: bool,
        cx: &mut Cx<'_>,
    ) {
        if self.deciding == flight.target {
            self.deciding = None;
        }
        match result {
            Ok(wf) => {
                cx.finish_form(id);
                self.place(&wf);
                cx.toast(Toast::success(flight.ok.clone()));
            }
            Err(err) => {
                let reload = cx.keymap.key_label(Context::Approvals, "refresh");
                let msg = match err.status() {
                    Some(409) if retry => format!(
                        "{}: {} — it changed meanwhile (retried or running already); {reload} \
                         reloads",
                        flight.fail,
                        err.message()
                    ),
                    Some(409) => format!(
                        "{}: {} — someone decided it already; {reload} reloads",
                        flight.fail,
                        err.message()
                    ),
                    _ => format!("{}: {}", flight.fail, err.message()),
                };
                let mut on_form = false;
                if let Some(Modal::Form(open)) = &mut *cx.modal {
                    if open.pending == Some(id) {
                        on_form = true;
                        open.pending = None;
                        open.form.submitting = false;
                        match err.problem().filter(|p| !p.errors.is_empty()) {
                            Some(p) => open.form.apply_problem(p),
                            None => open.form.set_failure(msg.clone()),
                        }
                    }
                }
                if !on_form {
                    self.error = Some(msg.clone());
                }
                cx.toast(Toast::error(msg));
            }
        }
    }

    /// A retry went through and no open lead took it: the workflow moved
    /// to another list, so the list is read again.
    pub(crate) fn after_retry(&mut self, flight: &InFlight, cx: &mut Cx<'_>) -> Vec<Effect> {
        if self.open && self.tenant == flight.tenant {
            return self.load(cx);
        }
        Vec::new()
    }

    /// A workflow event of the current tenant's stream (`shown`: the Leads
    /// pane is on screen).
    pub(crate) fn on_event(
        &mut self,
        tenant: Uuid,
        ev: &ServerEvent,
        shown: bool,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        let workflow = uuid_at(ev, "workflow_id");
        let listed = self.tenant == Some(tenant) && self.list.loaded().is_some();
        let mut out = Vec::new();
        match ev.kind.as_str() {
            "workflow.awaiting_approval" => {
                let name = ev
                    .data
                    .get("lead_name")
                    .and_then(|v| v.as_str())
                    .unwrap_or("a lead");
                cx.toast(Toast::info(format!("A reply to {name} awaits approval")));
                let awaiting = self.show == WorkflowList::Awaiting;
                if let Some(id) = workflow.filter(|_| listed && awaiting) {
                    out.extend(cx.send_about(
                        Request::LoadApproval {
                            tenant: tenant.to_string(),
                            id,
                        },
                        None,
                        "",
                        "Could not load the new approval",
                        Some(tenant),
                        Some(id),
                    ));
                }
            }
            "workflow.approved" | "workflow.rejected" | "workflow.failed" => {
                if let Some(id) = workflow.filter(|_| self.show == WorkflowList::Awaiting) {
                    self.remove(id);
                }
                if ev.kind == "workflow.failed" {
                    let why = ev.data.get("error").and_then(|v| v.as_str()).unwrap_or("");
                    cx.toast(Toast::error(format!("A workflow failed: {why}")));
                }
            }
            _ => {}
        }
        // The other lists are read again while on screen: a workflow that
        // failed, was decided or retried may join or leave them.
        let shown = self.open && shown;
        let about_workflows = ev.kind.starts_with("workflow.");
        if listed && shown && about_workflows && self.show != WorkflowList::Awaiting {
            out.extend(self.load(cx));
        }
        out
    }
}
