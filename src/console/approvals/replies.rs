//! What the console does with workflow replies and workflow events.

use uuid::Uuid;

use crate::api::ApiError;
use crate::console::app::{App, InFlight, Load, Modal};
use crate::console::approvals::WorkflowList;
use crate::console::component::with_cx;
use crate::console::effect::{Effect, Request, RequestId};
use crate::console::request::Response;
use crate::console::widgets::toast::Toast;
use crate::domain::ServerEvent;

fn uuid_at(ev: &ServerEvent, key: &str) -> Option<Uuid> {
    ev.data
        .get(key)
        .and_then(|v| v.as_str())
        .and_then(|s| Uuid::parse_str(s).ok())
}

impl App {
    /// Whether this reply belongs to the approvals or a lead's workflow.
    pub(crate) fn is_workflow_response(r: &Response) -> bool {
        matches!(
            r,
            Response::Approvals(_)
                | Response::ApprovalLoaded(_)
                | Response::WorkflowDecided(_)
                | Response::WorkflowRetried(_)
        )
    }

    pub(crate) fn on_workflow_response(
        &mut self,
        id: RequestId,
        flight: &InFlight,
        response: Response,
    ) -> Vec<Effect> {
        let here = flight.tenant.is_some() && flight.tenant == self.approvals.tenant;
        match response {
            Response::Approvals(r) if here => {
                self.approvals.list = match r {
                    Ok(list) => Load::Loaded(list),
                    Err(e) => Load::Failed(e.message()),
                };
                let rows = self.approvals.items().len();
                self.approvals.selected = self.approvals.selected.min(rows.saturating_sub(1));
            }
            Response::ApprovalLoaded(Ok(a))
                if here && self.approvals.show.includes(a.workflow.status) =>
            {
                self.approvals.upsert(*a)
            }
            Response::WorkflowDecided(r) => return self.on_decided(id, flight, r, false),
            Response::WorkflowRetried(r) => return self.on_decided(id, flight, r, true),
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
        result: Result<crate::domain::Workflow, ApiError>,
        retry: bool,
    ) -> Vec<Effect> {
        if self.approvals.deciding == flight.target {
            self.approvals.deciding = None;
        }
        match result {
            Ok(wf) => {
                self.finish_form(id);
                self.approvals.place(&wf);
                self.leads.on_workflow(&wf);
                self.toast(Toast::success(flight.ok.clone()));
                // Approval recorded the reply: the lead's SLA clock stopped.
                let lead = wf.lead_id;
                if let Some(out) = with_cx!(self, leads, |l, cx| l.on_decided(lead, &mut cx)) {
                    return out;
                }
                // A retry moves the workflow to another list: read it again.
                if retry && self.approvals.open && self.approvals.tenant == flight.tenant {
                    return self.load_approvals();
                }
            }
            Err(err) => {
                let msg = match err.status() {
                    Some(409) if retry => format!(
                        "{}: {} — it changed meanwhile (retried or running already); ctrl-r reloads",
                        flight.fail,
                        err.message()
                    ),
                    Some(409) => format!(
                        "{}: {} — someone decided it already; ctrl-r reloads",
                        flight.fail,
                        err.message()
                    ),
                    _ => format!("{}: {}", flight.fail, err.message()),
                };
                let mut on_form = false;
                if let Some(Modal::Form(open)) = &mut self.modal {
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
                    self.approvals.error = Some(msg.clone());
                }
                self.toast(Toast::error(msg));
            }
        }
        Vec::new()
    }

    /// Workflow events of the current tenant's stream.
    pub(crate) fn on_workflow_event(&mut self, tenant: Uuid, ev: &ServerEvent) -> Vec<Effect> {
        let workflow = uuid_at(ev, "workflow_id");
        let lead = uuid_at(ev, "lead_id");
        let listed =
            self.approvals.tenant == Some(tenant) && matches!(self.approvals.list, Load::Loaded(_));
        let mut out = Vec::new();
        match ev.kind.as_str() {
            "workflow.awaiting_approval" => {
                let name = ev
                    .data
                    .get("lead_name")
                    .and_then(|v| v.as_str())
                    .unwrap_or("a lead");
                self.toast(Toast::info(format!("A reply to {name} awaits approval")));
                let awaiting = self.approvals.show == WorkflowList::Awaiting;
                if let Some(id) = workflow.filter(|_| listed && awaiting) {
                    out.extend(self.send_about(
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
            "lead.qualified" => {
                // The lead gained a qualification: read it with its workflow.
                if let Some(out) = with_cx!(self, leads, |l, cx| l.on_qualified(lead, &mut cx)) {
                    self.dirty = true;
                    return out;
                }
            }
            "workflow.approved" | "workflow.rejected" | "workflow.failed" => {
                if let Some(id) = workflow.filter(|_| self.approvals.show == WorkflowList::Awaiting)
                {
                    self.approvals.remove(id);
                }
                if ev.kind == "workflow.failed" {
                    let why = ev.data.get("error").and_then(|v| v.as_str()).unwrap_or("");
                    self.toast(Toast::error(format!("A workflow failed: {why}")));
                }
            }
            _ => {}
        }
        // The other lists are read again while on screen: a workflow that
        // failed, was decided or retried may join or leave them.
        let shown = self.approvals.open && self.pane == crate::console::app::Pane::Leads;
        let about_workflows = ev.kind.starts_with("workflow.");
        if listed && shown && about_workflows && self.approvals.show != WorkflowList::Awaiting {
            out.extend(self.load_approvals());
        }
        // The open lead's workflow moved on: read it again.
        out.extend(with_cx!(self, leads, |l, cx| l
            .on_workflow_moved(lead, workflow, &mut cx)));
        self.dirty = true;
        out
    }
}
