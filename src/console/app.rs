//! The console's state as plain data, and the state machine over it:
//! actions and API replies in, effects out, no I/O.

use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use uuid::Uuid;

use super::account::{InvitationsView, SignedOut};
use super::action::Action;
use super::agents::{self, AgentsView};
use super::analytics::AnalyticsView;
use super::approvals::ApprovalsView;
use super::audit::AuditView;
use super::component::{load_tenants, with_cx, Component, Shared};
use super::effect::{Effect, Request};
use super::evals::EvalsView;
use super::inflight::Requests;
use super::keymap::{Context, Keymap};
use super::knowledge::KnowledgeView;
use super::leads::{self, LeadsView};
use super::notifications::history::SavedHistory;
use super::notifications::Notifications;
use super::onboarding::Onboarding;
use super::overview::OverviewView;
use super::playground::{self, PlaygroundView};
use super::session::Session;
pub use super::state::*;
use super::tenants::{self, TenantsView};
use super::theme::Theme;
use super::webhooks::WebhooksView;
use super::widgets::form::{FieldKind, Form};
use super::widgets::toast::{Toast, ToastKind};
use crate::domain::Tenant;

#[derive(Debug, Clone)]
pub struct App {
    pub keymap: Keymap,
    pub theme: Theme,
    pub server_label: String,
    /// The context connected to (`:ctx` switches), in the header.
    pub context: Option<String>,
    /// The Leads list's remembered scope and search, brought back once the
    /// tenants are known.
    pub pending_leads: Option<super::leads::LeadsMemory>,
    /// Every context `:ctx` can switch to, for completion.
    pub context_names: Vec<String>,
    /// The platform's base URL, for hints such as where forms post leads.
    pub server_url: String,
    /// Set by anything that changes what is on screen; the runtime draws
    /// only then and clears it.
    pub dirty: bool,
    pub quit: bool,
    pub pane: Pane,
    /// Who is signed in, their tenants and the current one: every feature
    /// reads it.
    pub session: Session,
    pub tenants: TenantsView,
    /// "Initialize tenant", over the Tenants pane while it is shown.
    pub onboarding: Onboarding,
    pub modal: Option<Modal>,
    pub command: Option<CommandLine>,
    pub toasts: Vec<Toast>,
    pub spinner: usize,
    /// The clock the SLA countdowns are drawn against; the runtime sets it
    /// each tick, tests fix it, so drawing stays a function of the state.
    pub now: DateTime<Utc>,
    /// The terminal's size, from resize events: how many rows a page is.
    pub viewport: (u16, u16),
    pub leads: LeadsView,
    /// The Agents and Workspaces panes.
    pub agents: AgentsView,
    pub playground: PlaygroundView,
    /// Workflows awaiting approval, and the open lead's workflow.
    pub approvals: ApprovalsView,
    /// The platform overview (platform admins).
    pub overview: OverviewView,
    pub analytics: AnalyticsView,
    pub audit: AuditView,
    pub notifications: Notifications,
    /// The invitations waiting for the signed-in user.
    pub invitations: InvitationsView,
    /// The current tenant's webhook endpoints and their deliveries.
    pub webhooks: WebhooksView,
    /// The current tenant's knowledge documents.
    pub knowledge: KnowledgeView,
    /// The current tenant's eval sets and runs.
    pub evals: EvalsView,
    /// Signed in through the embedded platform's local session file (the
    /// local admin, who has no password).
    pub local_session: bool,
    /// The embedded model on this machine: its path and its download.
    pub local_model: super::model_fetch::LocalModel,
    /// Set when the session ended; the console then closes.
    pub signed_out: Option<SignedOut>,
    pub(crate) requests: Requests,
}

impl App {
    pub fn new(keymap: Keymap, theme: Theme, server_label: impl Into<String>) -> Self {
        Self {
            keymap,
            theme,
            server_label: server_label.into(),
            context: None,
            pending_leads: None,
            context_names: Vec::new(),
            server_url: String::new(),
            dirty: true,
            quit: false,
            pane: Pane::Tenants,
            session: Session::default(),
            tenants: TenantsView::default(),
            onboarding: Onboarding::default(),
            modal: None,
            command: None,
            toasts: Vec::new(),
            spinner: 0,
            now: Utc::now(),
            viewport: (80, 24),
            leads: LeadsView::default(),
            agents: AgentsView::default(),
            playground: PlaygroundView::default(),
            approvals: ApprovalsView::default(),
            overview: OverviewView::default(),
            analytics: AnalyticsView::default(),
            audit: AuditView::default(),
            notifications: Notifications::default(),
            invitations: InvitationsView::default(),
            webhooks: WebhooksView::default(),
            knowledge: KnowledgeView::default(),
            evals: EvalsView::default(),
            local_session: false,
            local_model: Default::default(),
            signed_out: None,
            requests: Requests::default(),
        }
    }

    /// The first requests: who am I, and which tenants can I see.
    pub fn start(&mut self) -> Vec<Effect> {
        self.session.me = Load::Loading;
        self.session.tenants = Load::Loading;
        let mut out = self.send(
            Request::Me,
            Some(Slot::Me),
            "",
            "Could not load your profile",
        );
        out.extend(self.load_tenants());
        out
    }

    pub(crate) fn load_tenants(&mut self) -> Vec<Effect> {
        let out = load_tenants(&mut self.session, &mut self.requests);
        self.dirty = true;
        out
    }

    /// Tags a request and remembers what to say about its outcome.
    pub(crate) fn send(
        &mut self,
        req: Request,
        slot: Option<Slot>,
        ok: &str,
        fail: &str,
    ) -> Vec<Effect> {
        self.send_about(req, slot, ok, fail, None, None)
    }

    pub(crate) fn send_about(
        &mut self,
        req: Request,
        slot: Option<Slot>,
        ok: &str,
        fail: &str,
        tenant: Option<Uuid>,
        target: Option<Uuid>,
    ) -> Vec<Effect> {
        self.dirty = true;
        self.requests
            .send_about(req, slot, ok, fail, tenant, target)
    }

    pub fn is_busy(&self) -> bool {
        self.requests.is_busy()
    }

    /// What a feature may read while it draws.
    pub fn shared(&self) -> Shared<'_> {
        Shared {
            theme: &self.theme,
            keymap: &self.keymap,
            session: &self.session,
            now: self.now,
            server_url: &self.server_url,
        }
    }

    /// Makes `t` the current tenant and says so.
    pub(crate) fn switch_to(&mut self, t: &Tenant) {
        self.session.current_tenant = Some(t.id);
        self.toast(Toast::success(format!("Switched to {}", t.name)));
    }

    pub fn toast(&mut self, toast: Toast) {
        self.notifications.note_toast(&toast, self.now);
        self.toasts.push(toast);
        // A long session must not pile up toasts off-screen.
        if self.toasts.len() > 6 {
            self.toasts.remove(0);
        }
        self.dirty = true;
    }

    /// Where keys go now, most specific first, and whether a text input
    /// has the focus (then unbound keys are typed, and global keys are off).
    pub fn contexts(&self) -> (Vec<Context>, bool) {
        let form_contexts = |form: &Form| {
            let mut c = match form.focused().map(|f| &f.kind) {
                Some(FieldKind::Choice { .. }) => vec![Context::FormChoice, Context::FormLine],
                Some(FieldKind::Line(_)) => vec![Context::FormLine],
                _ => vec![],
            };
            c.push(Context::Form);
            c
        };
        match &self.modal {
            Some(Modal::Help { .. }) => return (vec![Context::Help], false),
            Some(Modal::Confirm { .. }) => return (vec![Context::Confirm], false),
            Some(Modal::Secret(_)) => return (vec![Context::Secret], false),
            Some(Modal::Picker(_)) => return (vec![Context::Picker], false),
            Some(Modal::Share(_)) => return (vec![Context::ShareDialog], false),
            Some(Modal::Form(f)) => return (form_contexts(&f.form), true),
            None => {}
        }
        self.pane_contexts()
    }

    /// The contexts of what is under any dialog: the command line or the pane.
    pub fn pane_contexts(&self) -> (Vec<Context>, bool) {
        if self.command.is_some() {
            return (vec![Context::CommandLine], true);
        }
        if self.notifications.is_open() {
            return self.notifications.contexts(&self.shared());
        }
        if self.pane == Pane::Leads {
            return self.lead_contexts();
        }
        if agents::shows(self.pane) {
            return self.agents.contexts(&self.shared());
        }
        if self.pane == Pane::Playground {
            return self.playground.contexts(&self.shared());
        }
        if self.pane != Pane::Tenants {
            return (vec![Context::Global], false);
        }
        if self.onboarding.is_open() {
            return self.onboarding.contexts(&self.shared());
        }
        if self.webhooks.is_open() {
            return self.webhooks.contexts(&self.shared());
        }
        if self.knowledge.is_open() {
            return self.knowledge.contexts(&self.shared());
        }
        if self.evals.is_open() {
            return self.evals.contexts(&self.shared());
        }
        if !self.tenants.is_filtering() {
            if self.invitations.is_open() {
                return self.invitations.contexts(&self.shared());
            }
            if self.overview.is_open() {
                return self.overview.contexts(&self.shared());
            }
        }
        self.tenants.contexts(&self.shared())
    }

    /// Turns a key into an action through the keymap. Ctrl-C always quits
    /// and ctrl-Z always suspends, whatever the keymap says, as in any
    /// terminal program, so the console can never trap the user.
    pub fn action_for_key(&self, key: KeyEvent) -> Option<Action> {
        if key.modifiers.contains(KeyModifiers::CONTROL) {
            match key.code {
                KeyCode::Char('c') => return Some(Action::Quit),
                KeyCode::Char('z') => return Some(Action::Suspend),
                _ => {}
            }
        }
        let (contexts, typing) = self.contexts();
        match self.keymap.resolve(&contexts, &key) {
            Some(a) => Some(a),
            None if typing => Some(Action::Key(key)),
            None => None,
        }
    }

    pub fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        match self.action_for_key(key) {
            Some(a) => self.update(a),
            None => Vec::new(),
        }
    }

    /// The saved notification history arrived (read off the loop).
    pub fn on_history(&mut self, user: Uuid, saved: SavedHistory) {
        self.dirty |= self.notifications.on_history(user, saved);
    }

    /// Sets the clock; redraws only when a countdown's minute changed (the
    /// leads' SLA, a rotated key's "expires in").
    pub fn set_now(&mut self, now: DateTime<Utc>) {
        let counting = matches!(self.pane, Pane::Leads | Pane::Tenants);
        if counting && now.timestamp() / 60 != self.now.timestamp() / 60 {
            self.dirty = true;
        }
        self.now = now;
    }

    /// The Leads pane hosts the audit log, analytics and approvals over
    /// the list of leads.
    fn lead_contexts(&self) -> (Vec<Context>, bool) {
        if self.leads.is_filtering() {
            return self.leads.contexts(&self.shared());
        }
        if self.audit.is_open() {
            return self.audit.contexts(&self.shared());
        }
        if self.analytics.is_open() {
            return self.analytics.contexts(&self.shared());
        }
        if self.approvals.is_open() {
            return self.approvals.contexts(&self.shared());
        }
        self.leads.contexts(&self.shared())
    }

    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        let was = self.pane;
        let mut out = self.dispatch(action);
        out.extend(self.follow(was != self.pane));
        out
    }

    fn dispatch(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Tick => return self.tick(),
            Action::Resize(w, h) => {
                self.viewport = (w, h);
                with_cx!(self, leads, |l, cx| l.on_resize(&cx));
                self.dirty = true;
                return Vec::new();
            }
            Action::Quit => {
                self.quit = true;
                let mut out = self.notifications.save_history();
                out.push(Effect::Quit);
                return out;
            }
            Action::SessionEnded => return self.sign_out(SignedOut::SessionEnded),
            Action::Suspend => {
                // The whole screen is drawn again on resume.
                self.dirty = true;
                return vec![Effect::Suspend];
            }
            _ => {}
        }
        self.dirty = true;
        if let Some(modal) = self.modal.take() {
            return self.update_modal(modal, action);
        }
        if let Some(cmd) = self.command.take() {
            return self.update_command(cmd, action);
        }
        match action {
            Action::Help => {
                self.modal = Some(Modal::Help { scroll: 0 });
                return Vec::new();
            }
            Action::Command => {
                self.command = Some(CommandLine::default());
                return Vec::new();
            }
            Action::Notifications => {
                self.notifications.open();
                return Vec::new();
            }
            Action::NextPane | Action::PrevPane | Action::Pane(_)
                if self.notifications.is_open() =>
            {
                self.notifications.close();
                return self.dispatch(action);
            }
            other if self.notifications.is_open() => return self.route_notifications(other),
            Action::NextPane => self.pane = Pane::ALL[(self.pane.index() + 1) % 5],
            Action::PrevPane => self.pane = Pane::ALL[(self.pane.index() + 4) % 5],
            Action::Pane(n) => {
                if let Some(p) = Pane::ALL.get(usize::from(n).wrapping_sub(1)) {
                    self.pane = *p;
                }
            }
            Action::DismissToast => self.dismiss_toast(),
            Action::Initialize => return self.initialize_current(),
            Action::Approvals => return self.open_approvals(),
            a @ (Action::StartWorkflow | Action::StopWorkflow) if self.pane == Pane::Leads => {
                return with_cx!(self, leads, |l, cx| l.workflow_action(a, &mut cx))
            }
            other if self.pane == Pane::Leads && self.audit.is_open() => {
                return with_cx!(self, audit, |a, cx| a.update(other, &mut cx))
            }
            other if self.pane == Pane::Leads && self.analytics.is_open() => {
                return with_cx!(self, analytics, |a, cx| a.update(other, &mut cx))
            }
            other if self.pane == Pane::Leads && self.approvals.is_open() => {
                return self.route_approvals(other)
            }
            other if self.pane == Pane::Tenants => return self.route_tenants(other),
            other if self.pane == Pane::Leads => return self.route_leads(other),
            other if agents::shows(self.pane) => return self.route_agents(other),
            other if self.pane == Pane::Playground => return self.route_playground(other),
            _ => {}
        }
        Vec::new()
    }

    /// Esc backs out of the newest error toast first: it is the top
    /// layer. True when it did.
    fn back_out_of_error(&mut self, action: &Action) -> bool {
        let error = self.toasts.iter().any(|t| t.kind == ToastKind::Error);
        if *action == Action::Back && error {
            self.dismiss_toast();
        }
        *action == Action::Back && error
    }

    /// The Agents and Workspaces panes' keys; Esc backs out of the newest
    /// error first, and the Agents pane's download key is the App's (the
    /// local model is this machine's, not the tenant's).
    fn route_agents(&mut self, action: Action) -> Vec<Effect> {
        if self.back_out_of_error(&action) {
            return Vec::new();
        }
        if action == Action::FetchModel && self.pane == Pane::Agents {
            return self.start_model_fetch();
        }
        with_cx!(self, agents, |a, cx| a.update(action, &mut cx))
    }

    /// Removes the newest error toast, or else the newest toast.
    pub fn dismiss_toast(&mut self) {
        if let Some(i) = self.toasts.iter().rposition(|t| t.kind == ToastKind::Error) {
            self.toasts.remove(i);
        } else {
            self.toasts.pop();
        }
    }

    fn tick(&mut self) -> Vec<Effect> {
        let before = self.toasts.len();
        for t in &mut self.toasts {
            if let Some(ttl) = &mut t.ttl {
                *ttl = ttl.saturating_sub(1);
            }
        }
        self.toasts.retain(|t| t.ttl != Some(0));
        if self.is_busy() {
            self.spinner = self.spinner.wrapping_add(1);
            self.dirty = true;
        }
        if self.toasts.len() != before {
            self.dirty = true;
        }
        let mut out = self.notifications.save_history();
        out.extend(with_cx!(self, evals, |e, cx| e.on_tick(&mut cx)));
        out
    }

    /// The Tenants pane hosts onboarding, the user's invitations and the
    /// platform overview over the tenants table.
    fn route_tenants(&mut self, action: Action) -> Vec<Effect> {
        if self.onboarding.is_open() {
            // The download belongs to the App: the screen only offers it.
            if action == Action::FetchModel {
                return self.start_model_fetch();
            }
            return with_cx!(self, onboarding, |o, cx| o.update(action, &mut cx));
        }
        if self.webhooks.is_open() {
            return with_cx!(self, webhooks, |w, cx| w.update(action, &mut cx));
        }
        if self.knowledge.is_open() {
            return with_cx!(self, knowledge, |k, cx| k.update(action, &mut cx));
        }
        if self.evals.is_open() {
            return with_cx!(self, evals, |e, cx| e.update(action, &mut cx));
        }
        if action == Action::Webhooks {
            if let Some(tenant) = self.tenants.detail().map(|d| d.tenant) {
                return self.open_webhooks(Some(tenant));
            }
        }
        if !self.tenants.is_filtering() {
            if self.back_out_of_error(&action) {
                return Vec::new();
            }
            if self.tenants.detail().is_none() {
                if self.invitations.is_open() {
                    return with_cx!(self, invitations, |v, cx| v.update(action, &mut cx));
                }
                if self.overview.is_open() {
                    if let Some(id) = self.overview.chosen(&action) {
                        return self.open_tenant_leads(id);
                    }
                    return with_cx!(self, overview, |o, cx| o.update(action, &mut cx));
                }
                if action == Action::Overview {
                    return self.open_overview();
                }
            }
        }
        with_cx!(self, tenants, |t, cx| t.update(action, &mut cx))
    }

    /// The Leads pane's own keys go to the list, or the lead open over it.
    fn route_leads(&mut self, action: Action) -> Vec<Effect> {
        if action == Action::AddToEval {
            let Some(lead) = self.leads.detail().map(|d| d.lead.clone()) else {
                return Vec::new();
            };
            let from = super::evals::CaseFrom::Lead {
                tenant: lead.tenant_id,
                lead: lead.id,
                name: lead.name,
                message: lead.message,
            };
            return with_cx!(self, evals, |e, cx| e.add_from(from, &mut cx));
        }
        if !self.leads.is_filtering() && self.back_out_of_error(&action) {
            return Vec::new();
        }
        with_cx!(self, leads, |l, cx| l.update(action, &mut cx))
    }

    /// Sends a confirmed destructive action, through the feature it is of.
    pub(crate) fn perform(&mut self, what: Confirmable) -> Vec<Effect> {
        let what = match with_cx!(self, tenants, |_t, cx| tenants::perform(what, &mut cx)) {
            Ok(out) => return out,
            Err(other) => other,
        };
        let what = match with_cx!(self, leads, |l, cx| leads::perform(what, l, &mut cx)) {
            Ok(out) => return out,
            Err(other) => other,
        };
        match what {
            other @ (Confirmable::DeleteAgent { .. }
            | Confirmable::RestoreVersion { .. }
            | Confirmable::DeleteWorkspace { .. }) => {
                with_cx!(self, agents, |a, cx| a.perform(other, &mut cx))
            }
            other @ Confirmable::DeletePlaygroundSession { .. } => {
                with_cx!(self, playground, |_p, cx| playground::perform(
                    other, &mut cx
                ))
            }
            Confirmable::ClearNotifications { count } => {
                with_cx!(self, notifications, |n, cx| n.clear(count, &mut cx))
            }
            Confirmable::DeclineInvitation { id, tenant } => {
                with_cx!(self, invitations, |v, cx| v.decline(id, &tenant, &mut cx))
            }
            Confirmable::LogoutEverywhere => self.logout_everywhere(),
            other @ (Confirmable::DeleteWebhook { .. }
            | Confirmable::RotateWebhookSecret { .. }) => {
                with_cx!(self, webhooks, |w, cx| w.perform(other, &mut cx))
            }
            other @ Confirmable::DeleteKnowledge { .. } => {
                with_cx!(self, knowledge, |k, cx| k.perform(other, &mut cx))
            }
            other @ (Confirmable::DeleteEvalSet { .. } | Confirmable::DeleteEvalCase { .. }) => {
                with_cx!(self, evals, |e, cx| e.perform(other, &mut cx))
            }
            // The Tenants and Leads features', sent above.
            Confirmable::DeleteLead { .. }
            | Confirmable::DeleteLeads { .. }
            | Confirmable::ReplaceExport { .. }
            | Confirmable::Suspend { .. }
            | Confirmable::Reactivate { .. }
            | Confirmable::RemoveMember { .. }
            | Confirmable::RevokeKey { .. }
            | Confirmable::RevokeInvitation { .. } => Vec::new(),
        }
    }

    fn update_modal(&mut self, modal: Modal, action: Action) -> Vec<Effect> {
        match modal {
            Modal::Help { scroll } => {
                match action {
                    Action::Up => {
                        self.modal = Some(Modal::Help {
                            scroll: scroll.saturating_sub(1),
                        })
                    }
                    Action::Down => {
                        let max = self.keymap.help_lines().len() as u16;
                        self.modal = Some(Modal::Help {
                            scroll: (scroll + 1).min(max),
                        });
                    }
                    Action::Cancel | Action::Help => {}
                    _ => self.modal = Some(Modal::Help { scroll }),
                }
                Vec::new()
            }
            Modal::Confirm {
                question,
                action: what,
            } => match action {
                Action::Confirm => self.perform(what),
                Action::Cancel => Vec::new(),
                _ => {
                    self.modal = Some(Modal::Confirm {
                        question,
                        action: what,
                    });
                    Vec::new()
                }
            },
            Modal::Secret(mut dialog) => match action {
                Action::Copy => {
                    dialog.copied = true;
                    let secret = dialog.secret.clone();
                    self.modal = Some(Modal::Secret(dialog));
                    self.toast(Toast::info("Copied to the clipboard"));
                    vec![Effect::CopyToClipboard(secret)]
                }
                Action::Cancel => Vec::new(),
                _ => {
                    self.modal = Some(Modal::Secret(dialog));
                    Vec::new()
                }
            },
            Modal::Picker(p) => self.update_picker(p, action),
            Modal::Share(d) => {
                with_cx!(self, agents, |_a, cx| AgentsView::update_share(
                    d, action, &mut cx
                ))
            }
            Modal::Form(mut open) => {
                let (effects, keep) = self.update_form(&mut open, action);
                // A save may have replaced the form with a secret dialog.
                if keep && self.modal.is_none() {
                    self.modal = Some(Modal::Form(open));
                }
                effects
            }
        }
    }

    /// Handles a key in an open picker; the picker closes on a choice or Esc.
    fn update_picker(&mut self, mut p: Picker, action: Action) -> Vec<Effect> {
        let n = p.options.len();
        match action {
            Action::Up => p.selected = p.selected.saturating_sub(1),
            Action::Down => p.selected = (p.selected + 1).min(n.saturating_sub(1)),
            Action::Cancel => return Vec::new(),
            Action::Confirm => return self.picked(p),
            _ => {}
        }
        self.modal = Some(Modal::Picker(p));
        Vec::new()
    }

    /// A choice in a picker, for the feature whose picker it is.
    fn picked(&mut self, p: Picker) -> Vec<Effect> {
        let Some(choice) = p.options.get(p.selected).cloned() else {
            return Vec::new();
        };
        match p.purpose {
            PickPurpose::LinkAgent {
                tenant,
                workspace,
                ids,
            } => with_cx!(self, agents, |a, cx| a
                .picked_agent(tenant, workspace, &ids, p.selected, &choice, &mut cx)),
            PickPurpose::SaveAsLead {
                tenant,
                session,
                ids,
            } => {
                if let Some(message) = ids.get(p.selected) {
                    self.open_form(FormPurpose::SaveAsLead {
                        tenant,
                        session,
                        message: *message,
                    });
                }
                Vec::new()
            }
            purpose @ (PickPurpose::Stage { .. }
            | PickPurpose::Assign { .. }
            | PickPurpose::BulkStage { .. }
            | PickPurpose::BulkAssign { .. }
            | PickPurpose::WorkflowAgent { .. }) => {
                with_cx!(self, leads, |l, cx| l
                    .picked(purpose, p.selected, &choice, &mut cx))
            }
        }
    }
}
