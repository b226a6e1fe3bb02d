//! Routing: which feature's view is open over which pane, and how the
//! features follow the session (a new current tenant, a pane opened).

use uuid::Uuid;

use super::action::Action;
use super::app::{App, FormPurpose, Pane};
use super::approvals::uuid_at;
use super::component::{with_cx, Component};
use super::effect::{Effect, Request, RequestId};
use super::keymap::Context;
use super::notifications::Notification;
use super::request::Response;
use super::state::{InFlight, Load, Slot};
use super::widgets::toast::{Toast, ToastKind};
use crate::domain::ServerEvent;

impl App {
    /// After an action or a reply: features that show the current
    /// tenant's data (re)load it when it changed or their pane opened.
    pub(crate) fn follow(&mut self, opened: bool) -> Vec<Effect> {
        self.session.note_current();
        let mut out = Vec::new();
        if self.session.current().is_some() {
            if let Some(memory) = self.pending_leads.take() {
                out.extend(with_cx!(self, leads, |l, cx| l.restore(&memory, &mut cx)));
            }
        }
        let shown = self.pane == Pane::Leads;
        out.extend(with_cx!(self, leads, |l, cx| l.follow_tenant(shown, opened, &mut cx)));
        let pane = self.pane;
        out.extend(with_cx!(self, agents, |a, cx| a.follow_tenant(pane, opened, &mut cx)));
        let chat_shown = self.pane == Pane::Playground;
        out.extend(with_cx!(self, playground, |p, cx| p
            .follow_tenant(chat_shown, opened, &mut cx)));
        out.extend(with_cx!(self, approvals, |a, cx| a.follow_tenant(shown, &mut cx)));
        out.extend(with_cx!(self, analytics, |a, cx| a.follow_tenant(shown, &mut cx)));
        out.extend(with_cx!(self, audit, |a, cx| a.follow_tenant(shown, &mut cx)));
        out.extend(with_cx!(self, webhooks, |w, cx| w.follow_tenant(&mut cx)));
        out.extend(with_cx!(self, knowledge, |k, cx| k.follow_tenant(&mut cx)));
        out.extend(with_cx!(self, evals, |e, cx| e.follow_tenant(&mut cx)));
        out.extend(with_cx!(self, onboarding, |o, cx| o.follow_tenant(&mut cx)));
        out
    }

    /// Takes what was remembered of the context: the tenant to start on,
    /// the recently used tenants, the Leads list's scope and search.
    pub fn recall(&mut self, memory: super::contexts::ContextMemory) {
        self.session.preferred = memory.tenant;
        self.session.recent = memory.recent_tenants;
        let leads = memory.leads;
        self.pending_leads = (leads != super::leads::LeadsMemory::default()).then_some(leads);
    }

    /// What to remember of the context now (once a tenant is current).
    pub fn memory(&self) -> Option<super::contexts::ContextMemory> {
        let tenant = self.session.current()?.slug.clone();
        Some(super::contexts::ContextMemory {
            tenant: Some(tenant),
            recent_tenants: self.session.recent.clone(),
            // Until it is brought back, the remembered view stands.
            leads: self
                .pending_leads
                .clone()
                .unwrap_or_else(|| self.leads.memory()),
        })
    }

    /// The Playground pane's keys: a new session's form offers the agents
    /// feature's agents; Esc backs out of the newest error before the chat.
    pub(crate) fn route_playground(&mut self, action: Action) -> Vec<Effect> {
        let Some(tenant) = self.playground.tenant() else {
            return Vec::new();
        };
        match action {
            Action::New => return self.open_session_form(tenant, false),
            Action::NewCompare => return self.open_session_form(tenant, true),
            Action::Edit if self.playground.chat().is_some() => {
                return self.edit_playground_prompt(tenant)
            }
            Action::AddToEval => {
                let last = self.playground.chat().and_then(|c| {
                    c.user_messages()
                        .first()
                        .map(|m| (m.session_id, m.id, m.content.clone()))
                });
                let Some((session_id, message_id, message)) = last else {
                    self.toast(Toast::info("Nothing to add yet: send a message first"));
                    return Vec::new();
                };
                let from = super::evals::CaseFrom::Playground {
                    tenant,
                    at: crate::domain::eval::PlaygroundMessageRef {
                        session_id,
                        message_id,
                    },
                    message,
                };
                return with_cx!(self, evals, |e, cx| e.add_from(from, &mut cx));
            }
            // The local model is this machine's, not the tenant's.
            Action::FetchModel => return self.start_model_fetch(),
            Action::Back
                if self.playground.backs_out_of_chat()
                    && self.toasts.iter().any(|t| t.kind == ToastKind::Error) =>
            {
                self.dismiss_toast();
                return Vec::new();
            }
            _ => {}
        }
        // Scrolling pages by the rows the chat has: the pane's, less the
        // offer drawn under it.
        let below = self.playground_offer_rows(super::ui::pane_area(self.viewport));
        self.playground.set_rows_below(below);
        with_cx!(self, playground, |p, cx| p.update(action, &mut cx))
    }

    /// Loads the tenant's agents for a playground form, if they are not;
    /// the key is pressed again once they are.
    fn agents_loading(&mut self, tenant: Uuid) -> Option<Vec<Effect>> {
        if self.agents.lists_for(tenant) {
            return None;
        }
        let out = with_cx!(self, agents, |a, cx| a.load_for_playground(&mut cx));
        self.toast(Toast::info(
            "Loading the agents… press the key again in a moment",
        ));
        Some(out)
    }

    /// `e` in a session: its agent's prompt, as the Agents feature read it.
    fn edit_playground_prompt(&mut self, tenant: Uuid) -> Vec<Effect> {
        let lane = self
            .playground
            .chat()
            .and_then(|c| c.session().lanes.first());
        let Some(agent_id) = lane.map(|l| l.agent_id) else {
            return Vec::new();
        };
        if let Some(out) = self.agents_loading(tenant) {
            return out;
        }
        let agent = self
            .agents
            .items()
            .iter()
            .find(|a| a.id == agent_id)
            .cloned();
        with_cx!(self, playground, |p, cx| p
            .edit_prompt(tenant, agent, &mut cx))
    }

    /// A new playground session's form, once the agents are loaded.
    fn open_session_form(&mut self, tenant: Uuid, compare: bool) -> Vec<Effect> {
        if let Some(out) = self.agents_loading(tenant) {
            return out;
        }
        if self.agents.items().is_empty() {
            let key = self.keymap.key_label(Context::Global, "pane_3");
            self.toast(Toast::error(format!(
                "No agents yet: create one in the Agents pane ({key}) first"
            )));
            return Vec::new();
        }
        let agents = self.agents.items().iter().map(|a| a.id).collect();
        let mut workspaces = vec![None];
        workspaces.extend(self.agents.workspace_items().iter().map(|w| Some(w.id)));
        self.open_form(FormPurpose::NewPlaygroundSession {
            tenant,
            agents,
            workspaces,
            compare,
        });
        Vec::new()
    }

    /// `:webhooks` (the current tenant's) or `w` in a tenant's detail (that
    /// tenant becomes current, so its deliveries update live): the
    /// webhooks screen opens in the Tenants pane.
    pub(crate) fn open_webhooks(&mut self, tenant: Option<Uuid>) -> Vec<Effect> {
        if let Some(t) = tenant.and_then(|id| self.session.tenant(id)).cloned() {
            if self.session.current_tenant != Some(t.id) {
                self.switch_to(&t);
            }
        }
        if self.session.current_tenant.is_none() {
            self.toast(Toast::error("Choose a tenant first (:tenant <slug>)"));
            return Vec::new();
        }
        self.pane = Pane::Tenants;
        self.overview.close();
        self.knowledge.close();
        self.evals.close();
        with_cx!(self, webhooks, |w, cx| w.open(&mut cx))
    }

    /// `:knowledge` (the current tenant's documents) and `:knowledge
    /// import PATH`: the Knowledge view opens in the Tenants pane.
    pub(crate) fn knowledge_command(&mut self, arg: &str) -> Result<Vec<Effect>, String> {
        if self.session.current_tenant.is_none() {
            return Err("pick a tenant first (:tenant <slug>)".into());
        }
        let (sub, rest) = match arg.split_once(char::is_whitespace) {
            Some((s, r)) => (s, r.trim()),
            None => (arg, ""),
        };
        let out = match sub {
            "" => with_cx!(self, knowledge, |k, cx| k.open(&mut cx)),
            "import" => with_cx!(self, knowledge, |k, cx| k.import(rest, &mut cx))?,
            other => {
                return Err(format!(
                    "unknown :knowledge {other:?}: use :knowledge or :knowledge import PATH"
                ))
            }
        };
        self.pane = Pane::Tenants;
        self.overview.close();
        self.webhooks.close();
        self.evals.close();
        Ok(out)
    }

    /// `:evals` (the current tenant's eval sets) and `:evals import FILE`
    /// (into the set open or selected): the Evals screen opens in the
    /// Tenants pane.
    pub(crate) fn evals_command(&mut self, arg: &str) -> Result<Vec<Effect>, String> {
        if self.session.current_tenant.is_none() {
            return Err("pick a tenant first (:tenant <slug>)".into());
        }
        let (sub, rest) = match arg.split_once(char::is_whitespace) {
            Some((s, r)) => (s, r.trim()),
            None => (arg, ""),
        };
        let out = match sub {
            "" => with_cx!(self, evals, |e, cx| e.open(&mut cx)),
            "import" if self.evals.is_open() => {
                with_cx!(self, evals, |e, cx| e.import(rest, &mut cx))?
            }
            "import" => {
                let open = self.keymap.key_label(Context::EvalSets, "open");
                return Err(format!(
                    "open a set first (:evals, then {open}), then :evals import FILE"
                ));
            }
            other => {
                return Err(format!(
                    "unknown :evals {other:?}: use :evals or :evals import FILE"
                ))
            }
        };
        self.pane = Pane::Tenants;
        self.overview.close();
        self.webhooks.close();
        self.knowledge.close();
        Ok(out)
    }

    /// `:invitations`: the user's invitations open in the Tenants pane.
    pub(crate) fn open_invitations(&mut self) -> Vec<Effect> {
        self.pane = Pane::Tenants;
        self.tenants.close_detail();
        self.overview.close();
        self.knowledge.close();
        self.evals.close();
        with_cx!(self, invitations, |v, cx| v.open(&mut cx))
    }

    /// The platform overview opens in the Tenants pane, over the table.
    pub(crate) fn open_overview(&mut self) -> Vec<Effect> {
        self.pane = Pane::Tenants;
        self.tenants.close_detail();
        self.knowledge.close();
        self.evals.close();
        with_cx!(self, overview, |o, cx| o.open(&mut cx))
    }

    /// `enter` on an overview row: that tenant becomes current and its
    /// leads open.
    pub(crate) fn open_tenant_leads(&mut self, id: Uuid) -> Vec<Effect> {
        match self.session.tenant(id).cloned() {
            Some(t) => {
                self.overview.close();
                self.switch_to(&t);
                self.pane = Pane::Leads;
                self.approvals.close();
                self.leads.close_detail();
            }
            None => self.toast(Toast::error("That tenant is not in your list yet")),
        }
        Vec::new()
    }

    /// `A` or `:approvals`: the drafts awaiting approval open in the Leads
    /// pane, over the list.
    pub(crate) fn open_approvals(&mut self) -> Vec<Effect> {
        self.pane = Pane::Leads;
        self.leads.close_detail();
        self.analytics.close();
        self.audit.close();
        with_cx!(self, approvals, |a, cx| a.open(&mut cx))
    }

    /// The approvals view's keys; `enter` on a row opens the lead behind
    /// the draft in the Leads pane's detail.
    pub(crate) fn route_approvals(&mut self, action: Action) -> Vec<Effect> {
        if let Some(lead) = self.approvals.chosen(&action) {
            self.approvals.close();
            return with_cx!(self, leads, |l, cx| l.open_detail(lead, &mut cx));
        }
        with_cx!(self, approvals, |a, cx| a.update(action, &mut cx))
    }

    /// `:audit`: the tenant's audit log opens in the Leads pane.
    pub(crate) fn open_audit(&mut self) -> Vec<Effect> {
        self.pane = Pane::Leads;
        self.leads.close_detail();
        self.approvals.close();
        self.analytics.close();
        with_cx!(self, audit, |a, cx| a.open(&mut cx))
    }

    /// `:analytics`: the figures open in the Leads pane, over the list.
    pub(crate) fn open_analytics(&mut self) -> Vec<Effect> {
        self.pane = Pane::Leads;
        self.leads.close_detail();
        self.approvals.close();
        self.audit.close();
        with_cx!(self, analytics, |a, cx| a.open(&mut cx))
    }

    /// A workflow reply: the approvals view's, and a decision or a retry
    /// also the open lead's (asked from its detail, or the lead is open).
    pub(crate) fn route_workflow_reply(
        &mut self,
        id: RequestId,
        flight: &InFlight,
        response: Response,
    ) -> Vec<Effect> {
        let retry = matches!(response, Response::WorkflowRetried(_));
        let changed = match &response {
            Response::WorkflowDecided(Ok(wf)) | Response::WorkflowRetried(Ok(wf)) => {
                Some(wf.clone())
            }
            _ => None,
        };
        let out = with_cx!(self, approvals, |a, cx| a
            .on_response(id, flight, response, &mut cx));
        let Some(wf) = changed else {
            return out;
        };
        self.leads.on_workflow(&wf);
        // Approval recorded the reply: the lead's SLA clock stopped.
        let lead = wf.lead_id;
        if let Some(out) = with_cx!(self, leads, |l, cx| l.on_decided(lead, &mut cx)) {
            return out;
        }
        // A retry moves the workflow to another list: read it again.
        if retry {
            return with_cx!(self, approvals, |a, cx| a.after_retry(flight, &mut cx));
        }
        out
    }

    /// Workflow events of the current tenant's stream: the open lead's, and
    /// the approvals view's.
    pub(crate) fn route_workflow_event(&mut self, tenant: Uuid, ev: &ServerEvent) -> Vec<Effect> {
        let workflow = uuid_at(ev, "workflow_id");
        let lead = uuid_at(ev, "lead_id");
        if ev.kind == "lead.qualified" {
            // The lead gained a qualification: read it with its workflow.
            if let Some(out) = with_cx!(self, leads, |l, cx| l.on_qualified(lead, &mut cx)) {
                self.dirty = true;
                return out;
            }
        }
        let shown = self.pane == Pane::Leads;
        let mut out = with_cx!(self, approvals, |a, cx| a
            .on_event(tenant, ev, shown, &mut cx));
        // The open lead's workflow moved on: read it again.
        out.extend(with_cx!(self, leads, |l, cx| l
            .on_workflow_moved(lead, workflow, &mut cx)));
        self.dirty = true;
        out
    }

    /// The notification centre's keys; `enter` on a notification about a
    /// lead opens that lead.
    pub(crate) fn route_notifications(&mut self, action: Action) -> Vec<Effect> {
        if let Some(n) = self.notifications.chosen(&action).cloned() {
            return self.jump_to_lead(n);
        }
        with_cx!(self, notifications, |n, cx| n.update(action, &mut cx))
    }

    /// Makes the notification's tenant current (as choosing it in the
    /// Tenants pane does), opens its Leads pane and asks for the lead; the
    /// detail opens at once when a copy is at hand, else when it arrives.
    fn jump_to_lead(&mut self, n: Notification) -> Vec<Effect> {
        let Some(id) = n.lead_id.or(n.lead.as_ref().map(|l| l.id)) else {
            return Vec::new();
        };
        let tenant = n
            .tenant_id
            .or(n.lead.as_ref().map(|l| l.tenant_id))
            .or(self.session.current_tenant);
        let Some(tenant) = tenant else {
            return Vec::new();
        };
        if self.session.current_tenant != Some(tenant) {
            let Some(t) = self.session.tenant(tenant).cloned() else {
                self.toast(Toast::error(
                    "That lead's tenant is not one you can open (any more)",
                ));
                return Vec::new();
            };
            self.switch_to(&t);
        }
        self.notifications.close();
        self.pane = Pane::Leads;
        self.approvals.close();
        self.analytics.close();
        self.audit.close();
        let at_hand = n.lead.filter(|l| l.tenant_id == tenant);
        let (mut out, opened) = with_cx!(self, leads, |l, cx| l.show_lead(id, at_hand, &mut cx));
        out.extend(self.send_about(
            Request::LoadLead {
                tenant: tenant.to_string(),
                id,
            },
            Some(Slot::NotifiedLead),
            "",
            "Could not load the lead",
            Some(tenant),
            Some(id),
        ));
        if opened {
            out.extend(with_cx!(self, leads, |l, cx| l.load_workflow(id, &mut cx)));
        }
        out
    }

    /// The lead a notification asked for: the centre forgets a deleted
    /// one; the lead's detail opens (or refreshes), unless the user has
    /// since gone elsewhere.
    pub(crate) fn route_notified_lead(
        &mut self,
        id: RequestId,
        flight: &InFlight,
        response: Response,
    ) -> Vec<Effect> {
        let mut out = with_cx!(self, notifications, |n, cx| n.on_response(
            id,
            flight,
            response.clone(),
            &mut cx
        ));
        let (Response::Lead(data), Some(tenant), Some(lead)) =
            (response, flight.tenant, flight.target)
        else {
            return out;
        };
        match data.lead {
            Err(e) if e.status() == Some(404) => {
                with_cx!(self, leads, |l, cx| l
                    .on_notified_gone(tenant, lead, &mut cx));
            }
            Err(e) => {
                self.leads.on_notified_failure(lead, e.message());
                self.toast(Toast::error(format!("{}: {}", flight.fail, e.message())));
            }
            Ok(found) => {
                let timeline = data
                    .timeline
                    .map_or_else(|e| Load::Failed(e.message()), Load::Loaded);
                let shown = self.pane == Pane::Leads;
                out.extend(with_cx!(self, leads, |l, cx| l
                    .on_notified_lead(tenant, found, timeline, shown, &mut cx)));
            }
        }
        out
    }
}
