//! What the console does with each API reply: update the data, close or keep
//! the form, and say what happened in a toast.

use super::account::SignedOut;
use super::app::{App, InFlight, Load, Modal, Pane, Slot};
use super::approvals::ApprovalsView;
use super::component::{with_cx, Component};
use super::effect::{Effect, RequestId};
use super::inflight::Stale;
use super::leads;
use super::notifications::url_host;
use super::onboarding::Handoff;
use super::playground::{self, PlaygroundView, ReplyMsg};
use super::request::Response;
use super::tenants;
use super::widgets::toast::Toast;
use uuid::Uuid;

use crate::api::ApiError;
use crate::domain::{PlaygroundSession, ServerEvent};

impl App {
    /// Applies a reply. Replies to unknown or superseded requests are dropped.
    pub fn on_response(&mut self, id: RequestId, response: Response) -> Vec<Effect> {
        let mut out = self.apply_response(id, response);
        // The tenants list may have chosen the current tenant just now.
        out.extend(self.follow(false));
        out
    }

    /// Applies one message about the playground's reply stream `id`.
    pub fn on_reply(&mut self, id: RequestId, msg: ReplyMsg) -> Vec<Effect> {
        let (out, changed) = with_cx!(self, playground, |p, cx| p.on_reply(id, msg, &mut cx));
        self.dirty |= changed;
        out
    }

    fn apply_response(&mut self, id: RequestId, response: Response) -> Vec<Effect> {
        let flight = match self.requests.settle(id) {
            Ok(f) => f,
            Err(Stale::Unknown) => return Vec::new(),
            Err(Stale::Superseded) => {
                self.dirty = true; // the spinner may stop
                return Vec::new();
            }
        };
        self.dirty = true;
        // Signed out elsewhere, or idle too long: nothing else can work now.
        if response.error().is_some_and(Self::session_ended) {
            return self.sign_out(SignedOut::SessionEnded);
        }
        if let Response::Account(r) = response {
            return self.on_account_response(&flight, r);
        }
        if let Response::Platform(r) = response {
            return self.on_platform_response(&flight, r);
        }
        if matches!(response, Response::Webhook(_)) {
            return with_cx!(self, webhooks, |w, cx| w
                .on_response(id, &flight, response, &mut cx));
        }
        if matches!(response, Response::Eval(_)) {
            return with_cx!(self, evals, |e, cx| e
                .on_response(id, &flight, response, &mut cx));
        }
        if matches!(response, Response::Knowledge(_)) {
            return with_cx!(self, knowledge, |k, cx| k
                .on_response(id, &flight, response, &mut cx));
        }
        if let Response::ExportExists(_) = response {
            return with_cx!(self, leads, |l, cx| l
                .on_response(id, &flight, response, &mut cx));
        }
        if self.onboarding.owns(id) {
            let out = with_cx!(self, onboarding, |o, cx| o
                .on_response(id, &flight, response, &mut cx));
            return self.hand_on_from_onboarding(out);
        }
        if playground::answers(&response) {
            return with_cx!(self, playground, |p, cx| p
                .on_response(id, &flight, response, &mut cx));
        }
        if flight.slot == Some(Slot::PlaygroundPrompt) {
            return self.on_prompt_saved(id, &flight, response);
        }
        if flight.slot == Some(Slot::NotifiedLead) {
            return self.route_notified_lead(id, &flight, response);
        }
        // The agents offered to run a lead's workflow with are the lead's.
        if flight.slot == Some(Slot::WorkflowAgents) {
            if let Response::Agents(r) = response {
                with_cx!(self, leads, |l, cx| l
                    .on_workflow_agents(&flight, r, &mut cx));
            }
            return Vec::new();
        }
        if matches!(response, Response::Audit(_)) {
            return with_cx!(self, audit, |a, cx| a
                .on_response(id, &flight, response, &mut cx));
        }
        if matches!(response, Response::Analytics(_)) {
            return with_cx!(self, analytics, |a, cx| a
                .on_response(id, &flight, response, &mut cx));
        }
        if matches!(response, Response::Overview(_)) {
            return with_cx!(self, overview, |o, cx| o
                .on_response(id, &flight, response, &mut cx));
        }
        // The open lead's workflow is the lead's.
        if matches!(
            response,
            Response::LeadWorkflows(_) | Response::WorkflowStarted(_)
        ) {
            return with_cx!(self, leads, |l, cx| l
                .on_response(id, &flight, response, &mut cx));
        }
        if ApprovalsView::answers(&response) {
            return self.route_workflow_reply(id, &flight, response);
        }
        if let Some(err) = response.error().cloned() {
            // A detail load reports each list's failure in its tab instead.
            let in_tab = matches!(
                response,
                Response::TenantDetail(_)
                    | Response::Lead(_)
                    | Response::TenantUsage(crate::console::tenants::UsageResponse::Loaded(_))
            );
            if !in_tab {
                return self.on_failure(id, &flight, err, &response);
            }
        }
        match response {
            r if leads::answers(&r) => {
                return with_cx!(self, leads, |l, cx| l.on_response(id, &flight, r, &mut cx));
            }
            Response::Usage(Ok(u)) => {
                let tenant = flight.tenant.and_then(|id| {
                    let list = self.session.tenants.loaded_mut()?;
                    list.iter_mut().find(|t| t.id == id)
                });
                if let Some(t) = tenant {
                    t.usage.leads_this_month = u.leads_this_month;
                    t.usage.lead_limit = u.lead_limit;
                    t.usage.users = u.users;
                    t.usage.user_limit = u.user_limit;
                }
            }
            r @ (Response::Agents(_)
            | Response::AgentVersions(_)
            | Response::AgentCreated(_)
            | Response::AgentUpdated(_)
            | Response::AgentRestored(_)
            | Response::AgentShared(_)
            | Response::AgentDeleted(_)
            | Response::Workspaces(_)
            | Response::WorkspaceSaved(_)
            | Response::WorkspaceDeleted(_)
            | Response::Models(_)) => {
                return with_cx!(self, agents, |a, cx| a.on_response(id, &flight, r, &mut cx))
            }
            Response::Me(Ok(me)) => {
                let user = me.user.id;
                self.session.me = Load::Loaded(me);
                let mut out = self.maybe_onboard();
                // The notification history is kept per user.
                out.extend(self.notifications.load_history(user));
                if !self.invitations.announced() {
                    out.extend(with_cx!(self, invitations, |v, cx| v.check(&mut cx)));
                }
                return out;
            }
            Response::Tenants(Ok(list)) => {
                let first_load = !matches!(self.session.tenants, Load::Loaded(_));
                self.session.set_tenants(list);
                self.tenants.on_list(&self.session, first_load);
                return self.maybe_onboard();
            }
            r if tenants::answers(&r) => {
                return with_cx!(self, tenants, |t, cx| t
                    .on_response(id, &flight, r, &mut cx));
            }
            // Failures were handled above; these arms cannot be reached.
            _ => {}
        }
        Vec::new()
    }

    /// A prompt edited from the playground: the Agents feature records the
    /// new version (and closes the form); the playground answers again with
    /// it. A failure keeps the draft in the form, with the problem.
    fn on_prompt_saved(
        &mut self,
        id: RequestId,
        flight: &InFlight,
        response: Response,
    ) -> Vec<Effect> {
        if let Some(err) = response.error().cloned() {
            return self.on_failure(id, flight, err, &response);
        }
        let saved = match &response {
            Response::AgentUpdated(Ok(a)) => Some(a.clone()),
            _ => None,
        };
        let mut out = with_cx!(self, agents, |a, cx| a
            .on_response(id, flight, response, &mut cx));
        if let Some(a) = saved {
            out.extend(with_cx!(self, playground, |p, cx| p.rerun(&a, &mut cx)));
        }
        out
    }

    pub(crate) fn on_failure(
        &mut self,
        id: RequestId,
        flight: &InFlight,
        err: ApiError,
        response: &Response,
    ) -> Vec<Effect> {
        match response {
            Response::Me(_) => {
                self.session.me = Load::Failed(err.message());
                // An unreachable server is already shown inline by the
                // tenants list; anything else (not signed in) needs saying.
                if !matches!(err, ApiError::Unreachable { .. }) {
                    self.toast(Toast::error(format!("{}: {}", flight.fail, err.message())));
                }
            }
            // Shown inline in the pane, with the retry key.
            Response::Tenants(_) => self.session.tenants = Load::Failed(err.message()),
            // The header keeps the last known count.
            _ if flight.slot == Some(Slot::Usage) => {}
            // One of many marked leads: its tenant's tally says it.
            Response::LeadUpdated(_) | Response::LeadDeleted(_) if self.leads.in_batch(flight) => {
                if let Some(lead) = flight.target {
                    let why = err.message();
                    with_cx!(self, leads, |l, cx| l.batch_step(lead, Some(&why), &mut cx));
                }
            }
            _ if self.leads.on_failure(flight, &err.message()) => {}
            _ if with_cx!(self, agents, |a, cx| a
                .on_failure(id, flight, &err, &mut cx)) => {}
            _ => {
                // A form keeps its draft and shows the errors where they belong.
                if let Some(Modal::Form(open)) = &mut self.modal {
                    open.refused(id, &err, false);
                }
                self.toast(Toast::error(format!("{}: {}", flight.fail, err.message())));
            }
        }
        Vec::new()
    }

    /// A platform admin with no tenant but the platform's gets the
    /// first-tenant form, once.
    fn maybe_onboard(&mut self) -> Vec<Effect> {
        with_cx!(self, onboarding, |o, cx| o.offer_first_run(&mut cx))
    }

    /// `I` or `:init`: the Initialize screen for the current tenant, or a
    /// toast saying why not.
    pub(crate) fn initialize_current(&mut self) -> Vec<Effect> {
        match with_cx!(self, onboarding, |o, cx| o.open_current(&mut cx)) {
            Ok(out) => self.hand_on_from_onboarding(out),
            Err(why) => {
                self.toast(Toast::error(why));
                self.hand_on_from_onboarding(Vec::new())
            }
        }
    }

    /// Does what onboarding leaves to other features after a reply.
    fn hand_on_from_onboarding(&mut self, mut out: Vec<Effect>) -> Vec<Effect> {
        match self.onboarding.take_handoff() {
            Some(Handoff::TenantCreated(id)) => self.tenants.select(id, &self.session),
            Some(Handoff::Offered) => self.pane = Pane::Tenants,
            Some(Handoff::Finished(session)) => out.extend(self.land_in_playground(session)),
            None => {}
        }
        out
    }

    /// Initializing went through: the playground opens on its session,
    /// ready to chat.
    fn land_in_playground(&mut self, session: PlaygroundSession) -> Vec<Effect> {
        self.pane = Pane::Playground;
        self.playground = PlaygroundView::landed(self.session.current_tenant, session, &self.theme);
        Vec::new()
    }
}

impl App {
    /// One toast per lead, until a burst (an import, a campaign): then one
    /// toast that counts, so the screen is not buried.
    fn toast_new_lead(&mut self, name: &str, place: &str) {
        const GROUP: &str = "new-lead";
        if let Some(t) = self
            .toasts
            .iter_mut()
            .find(|t| t.group == Some(GROUP) && t.ttl.is_some())
        {
            t.count += 1;
            t.text = format!("{} new leads — {place} (latest: {name})", t.count);
            t.ttl = Some(crate::console::widgets::toast::SUCCESS_TICKS);
            self.dirty = true;
            return;
        }
        let mut t = Toast::info(format!("New lead: {name} — {place}"));
        t.group = Some(GROUP);
        self.toast(t);
    }

    /// A breach stays until dismissed (someone needs to act); several at
    /// once (a backlog, an import of old leads) share one toast that counts.
    fn toast_breach(&mut self, name: &str) {
        const GROUP: &str = "sla-breach";
        if let Some(t) = self.toasts.iter_mut().find(|t| t.group == Some(GROUP)) {
            t.count += 1;
            t.text = format!("{} leads breached their SLA (latest: {name})", t.count);
            self.dirty = true;
            return;
        }
        let mut t = Toast::error(format!("SLA breached: {name}"));
        t.group = Some(GROUP);
        self.toast(t);
    }

    /// An endpoint stopped after failing for a day: it stays until dismissed
    /// (nothing reaches the receiver until someone acts); several at once (a
    /// receiver behind them all went down) share one toast that counts.
    fn toast_webhook_disabled(&mut self, ev: &ServerEvent) {
        const GROUP: &str = "webhook-disabled";
        let host = ev
            .data
            .get("url")
            .and_then(|v| v.as_str())
            .map_or_else(|| "an endpoint".into(), url_host);
        if let Some(t) = self.toasts.iter_mut().find(|t| t.group == Some(GROUP)) {
            t.count += 1;
            t.text = format!(
                "{} webhook endpoints disabled (latest: {host}); fix the receivers, \
                 then re-enable them in :webhooks",
                t.count
            );
            self.dirty = true;
            return;
        }
        let mut t = Toast::error(format!(
            "Webhook to {host} disabled after repeated failures; fix the receiver, \
             then re-enable it in :webhooks"
        ));
        t.group = Some(GROUP);
        self.toast(t);
    }

    /// Applies one event of `tenant`'s stream. Events of a tenant that is no
    /// longer current (the stream is being switched) are dropped.
    pub fn on_event(&mut self, tenant: Uuid, ev: ServerEvent) -> Vec<Effect> {
        if self.session.current_tenant != Some(tenant) {
            // Another tenant's event reaches only the all-tenants queue.
            if self.leads.all_tenants() {
                return self.apply_queue_event(tenant, ev);
            }
            return Vec::new();
        }
        if self
            .notifications
            .note_event(tenant, &ev, &self.session, self.now)
        {
            self.dirty = true;
        }
        self.notifications.set_in_event(true);
        let out = self.apply_event(tenant, ev);
        self.notifications.set_in_event(false);
        out
    }

    /// An event of a tenant other than the current one, while the Leads
    /// pane lists every tenant's leads: its leads join, change or leave the
    /// queue, and new leads and breaches are toasted with their tenant.
    fn apply_queue_event(&mut self, tenant: Uuid, ev: ServerEvent) -> Vec<Effect> {
        let place = ev
            .tenant()
            .map(|t| t.name)
            .or_else(|| self.session.tenant(tenant).map(|t| t.name.clone()))
            .unwrap_or_default();
        match ev.kind.as_str() {
            "lead.created" => {
                let Some(lead) = ev.lead() else {
                    return Vec::new();
                };
                if !self.leads.lists(tenant, lead.id) && !lead.spam {
                    self.toast_new_lead(&lead.name, &place);
                }
                self.dirty = true;
                with_cx!(self, leads, |l, cx| l.on_created(tenant, lead, &cx));
            }
            "lead.updated" | "lead.deleted" | "lead.hidden" => self.apply_lead_change(tenant, &ev),
            "sla.breached" => {
                let name = ev.data.get("name").and_then(|v| v.as_str()).unwrap_or("?");
                self.toast_breach(&format!("{name} ({place})"));
            }
            _ => {}
        }
        Vec::new()
    }

    /// A lead changed, was deleted, or is no longer visible to this user
    /// (assigned away from a member who sees only their assigned leads):
    /// the Leads feature updates or drops it, in either scope.
    fn apply_lead_change(&mut self, tenant: Uuid, ev: &ServerEvent) {
        if ev.kind == "lead.updated" {
            if let Some(lead) = ev.lead() {
                self.dirty |= with_cx!(self, leads, |l, cx| l.on_updated(tenant, lead, &cx));
            }
            return;
        }
        let id = ev
            .data
            .get("lead_id")
            .and_then(|v| v.as_str())
            .and_then(|s| Uuid::parse_str(s).ok());
        if let Some(id) = id {
            let hidden = ev.kind == "lead.hidden";
            self.dirty |= with_cx!(self, leads, |l, cx| l
                .on_removed(tenant, id, hidden, &mut cx));
        }
    }

    /// Hands an event to the feature it is about; new leads and SLA
    /// breaches are also toasted, grouped when they come in bursts.
    fn apply_event(&mut self, tenant: Uuid, ev: ServerEvent) -> Vec<Effect> {
        match ev.kind.as_str() {
            "lead.created" => {
                let Some(lead) = ev.lead() else {
                    return Vec::new();
                };
                // Our own manual lead is already listed and toasted; spam
                // does not deserve anyone's attention.
                if !self.leads.lists(tenant, lead.id) && !lead.spam {
                    let place = self
                        .session
                        .current()
                        .map(|t| t.name.clone())
                        .unwrap_or_default();
                    self.toast_new_lead(&lead.name, &place);
                }
                self.dirty = true;
                return with_cx!(self, leads, |l, cx| {
                    l.on_created(tenant, lead, &cx);
                    cx.load_usage(tenant)
                });
            }
            "lead.updated" | "lead.deleted" | "lead.hidden" => self.apply_lead_change(tenant, &ev),
            "sla.breached" => {
                let name = ev.data.get("name").and_then(|v| v.as_str()).unwrap_or("?");
                self.toast_breach(name);
            }
            "lead.qualified"
            | "workflow.awaiting_approval"
            | "workflow.approved"
            | "workflow.rejected"
            | "workflow.failed" => return self.route_workflow_event(tenant, &ev),
            "webhook.disabled" => {
                self.webhooks.on_event(tenant, &ev);
                self.toast_webhook_disabled(&ev);
            }
            "webhook.delivery" => self.dirty |= self.webhooks.on_event(tenant, &ev),
            "eval.progress" | "eval.finished" => {
                self.dirty |= self.evals.is_open();
                return with_cx!(self, evals, |e, cx| e.on_event(tenant, &ev, &mut cx));
            }
            // At-risk shows by itself: the SLA column is computed at render.
            _ => {}
        }
        Vec::new()
    }
}
