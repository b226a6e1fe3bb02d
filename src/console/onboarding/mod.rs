//! Onboarding: "Initialize tenant", the one screen in the Tenants pane that
//! sets a tenant up step by step (see `init`). Opened on the first run for a
//! platform admin with no tenant yet; later only when asked for (`I` or
//! `:init`, on the current tenant). When someone who may run it opens a
//! tenant with no agents and no leads, a toast offers it (once per tenant
//! per run): an offer never opens a form by itself, so keys typed next go
//! where the user meant them.

mod init;
mod pane;

use std::collections::HashSet;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use uuid::Uuid;

pub use init::{template_prompt, InitProgress, InitStep, FIRST_AGENT, FIRST_WORKSPACE};

use crate::console::action::Action;
use crate::console::component::{Component, Cx, Shared};
use crate::console::effect::{Effect, Request, RequestId};
use crate::console::keymap::Context;
use crate::console::request::Response;
use crate::console::session::Session;
use crate::console::state::{FormPurpose, InFlight, OpenForm};
use crate::console::tenants;
use crate::console::widgets::form::{FieldKind, Form};
use crate::console::widgets::toast::Toast;
use crate::domain::{LeadQuery, Permission, PlaygroundSession, Tenant, TenantStatus};

/// Seconds the offer to initialize an empty tenant stays on screen.
const OFFER_TICKS: u8 = 12;

/// What initializing needs in a tenant: its steps' permissions (an agent
/// and its workspace, the starter knowledge, the sample leads, a playground
/// session). Only members who have them all are offered it.
pub const INIT_NEEDS: [Permission; 4] = [
    Permission::AgentsManage,
    Permission::KnowledgeManage,
    Permission::LeadsEdit,
    Permission::PlaygroundUse,
];

/// Whether the signed-in user may initialize `tenant`.
pub fn may_initialize(session: &Session, tenant: &Tenant) -> bool {
    session.may(tenant.id, &INIT_NEEDS)
}

/// The two questions asked of a tenant just opened: has it agents of its
/// own, has it leads.
#[derive(Debug, Clone)]
struct Probe {
    tenant: Uuid,
    agents: RequestId,
    leads: RequestId,
    no_agents: Option<bool>,
    no_leads: Option<bool>,
}

/// What onboarding leaves to other features once a step is answered: the
/// App hands it on (onboarding never writes another feature's state).
#[derive(Debug, Clone, PartialEq)]
pub enum Handoff {
    /// The tenant was created: the Tenants table selects it.
    TenantCreated(Uuid),
    /// The Initialize screen was asked for: the Tenants pane shows it.
    Offered,
    /// Every step went through: the playground opens on this session.
    Finished(PlaygroundSession),
}

#[derive(Debug, Clone, Default)]
pub struct Onboarding {
    /// The "Initialize tenant" form, while it is shown.
    form: Option<Box<OpenForm>>,
    /// Set once onboarding was offered, so cancelling it sticks.
    offered: bool,
    /// What initializing has done so far.
    progress: InitProgress,
    handoff: Option<Handoff>,
    /// The tenants asked about (or initialized) this run: never again.
    asked: HashSet<Uuid>,
    probe: Option<Probe>,
    /// The question "is a model ready?" asked when the screen opens.
    models_probe: Option<RequestId>,
    /// No model is ready and the server has the local one: the screen
    /// offers its download (the App owns the download itself).
    local_missing: bool,
}

impl Onboarding {
    pub fn is_open(&self) -> bool {
        self.form.is_some()
    }

    pub fn progress(&self) -> &InitProgress {
        &self.progress
    }

    /// Whether the open screen offers to download the local model.
    pub fn offers_local_model(&self) -> bool {
        self.is_open() && self.local_missing
    }

    /// The local model was installed: nothing left to offer.
    pub(crate) fn local_model_installed(&mut self) {
        self.local_missing = false;
    }

    /// Asks whether any model is ready, so the screen can offer the local
    /// one's download before the model step gets there.
    fn ask_models(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let out = cx.send_about(
            Request::Models,
            None,
            "",
            "Could not load the model list",
            None,
            None,
        );
        self.models_probe = Some(RequestId(cx.requests.next_id));
        out
    }

    /// Records what a model list says of the local model.
    fn note_models(&mut self, list: &[crate::domain::ModelInfo]) {
        self.local_missing =
            !list.iter().any(|m| m.ready) && list.iter().any(|m| m.id.starts_with("local/"));
    }

    /// Whether `id` answers one of initializing's steps, or asks whether
    /// the tenant just opened is empty.
    pub(crate) fn owns(&self, id: RequestId) -> bool {
        self.form.as_ref().is_some_and(|o| o.pending == Some(id))
            || self.models_probe == Some(id)
            || self
                .probe
                .as_ref()
                .is_some_and(|p| p.agents == id || p.leads == id)
    }

    /// A tenant just became current: if it may be empty and the user may
    /// initialize it, asks whether it has agents and leads (once per
    /// tenant per run). A tenant with leads this month is not empty, so
    /// most tenants cost no request.
    pub(crate) fn follow_tenant(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let Some(t) = cx.session.current() else {
            return Vec::new();
        };
        if self.is_open()
            || self.asked.contains(&t.id)
            || t.is_platform
            || t.status != TenantStatus::Active
            || t.usage.leads_this_month > 0
            || !may_initialize(cx.session, t)
        {
            return Vec::new();
        }
        let tenant = t.id;
        self.asked.insert(tenant);
        let mut out = cx.send_about(
            Request::ListAgents {
                tenant: tenant.to_string(),
            },
            None,
            "",
            "Could not list the tenant's agents",
            Some(tenant),
            None,
        );
        let agents = RequestId(cx.requests.next_id);
        out.extend(cx.send_about(
            Request::ListLeads {
                tenant: tenant.to_string(),
                query: LeadQuery {
                    limit: Some(1),
                    ..LeadQuery::default()
                },
            },
            None,
            "",
            "Could not list the tenant's leads",
            Some(tenant),
            None,
        ));
        self.probe = Some(Probe {
            tenant,
            agents,
            leads: RequestId(cx.requests.next_id),
            no_agents: None,
            no_leads: None,
        });
        out
    }

    /// An answer about the tenant just opened; both empty, and it is still
    /// current: initializing it is offered.
    fn on_probe(&mut self, id: RequestId, response: Response, cx: &mut Cx<'_>) {
        let Some(p) = &mut self.probe else {
            return;
        };
        match response {
            // Agents shared from the platform are not the tenant's own.
            Response::Agents(Ok(list)) if id == p.agents => {
                p.no_agents = Some(!list.iter().any(|a| a.tenant_id == p.tenant));
            }
            Response::Leads(Ok(page)) if id == p.leads => p.no_leads = Some(page.items.is_empty()),
            // A question that failed offers nothing: it is an offer, not a task.
            _ => {
                self.probe = None;
                return;
            }
        }
        let (Some(no_agents), Some(no_leads)) = (p.no_agents, p.no_leads) else {
            return;
        };
        let tenant = p.tenant;
        self.probe = None;
        let current = cx.session.current().filter(|t| t.id == tenant).cloned();
        if let Some(t) = current.filter(|_| no_agents && no_leads && !self.is_open()) {
            // An offer, never a form that opens by itself: the keys the
            // user types next are meant for what they were doing.
            let key = cx.keymap.key_label(Context::Global, "initialize");
            cx.toast(Toast {
                ttl: Some(OFFER_TICKS),
                ..Toast::info(format!(
                    "{} has no agents and no leads yet. Press {key} (or :init) to set it up: \
                     a first agent, a web-form workspace and sample leads.",
                    t.name
                ))
            });
        }
    }

    /// `I` or `:init`: the Initialize screen for the current tenant, or
    /// why not (the App shows the reason). Works on any client tenant the
    /// user may initialize, empty or not: it only adds.
    pub(crate) fn open_current(&mut self, cx: &mut Cx<'_>) -> Result<Vec<Effect>, String> {
        if self.is_open() {
            self.handoff = Some(Handoff::Offered);
            return Ok(Vec::new());
        }
        let tenants = cx.keymap.key_label(Context::Global, "pane_1");
        let switch = cx.keymap.key_label(Context::TenantList, "switch");
        let Some(t) = cx.session.current().cloned() else {
            return Err(format!(
                "No current tenant: pick one in Tenants ({tenants}) with {switch}, then \
                 initialize it."
            ));
        };
        if t.is_platform {
            return Err(format!(
                "The platform tenant is not initialized; pick a client tenant ({tenants}, then \
                 {switch})."
            ));
        }
        if t.status != TenantStatus::Active {
            let suspend = cx.keymap.key_label(Context::TenantList, "suspend");
            return Err(format!(
                "{} is suspended: reactivate it ({suspend} in Tenants) before initializing it.",
                t.name
            ));
        }
        if !may_initialize(cx.session, &t) {
            let needs: Vec<&str> = INIT_NEEDS.iter().map(|p| p.as_str()).collect();
            return Err(format!(
                "Initializing {} needs {}; ask one of its admins.",
                t.name,
                needs.join(", ")
            ));
        }
        self.asked.insert(t.id);
        self.open_for(t, cx);
        Ok(self.ask_models(cx))
    }

    /// Offers to initialize `tenant`, which exists: the form asks only what
    /// the later steps need.
    fn open_for(&mut self, tenant: Tenant, cx: &mut Cx<'_>) {
        let purpose = FormPurpose::Onboarding;
        let Some((_, mut fields)) = tenants::form_fields(&purpose, cx.session, None) else {
            return;
        };
        fields.retain(|f| !matches!(f.name, "name" | "tier"));
        let title = format!("Initialize {}", tenant.name);
        self.progress = InitProgress {
            tenant: Some(tenant),
            existing: true,
            ..InitProgress::default()
        };
        self.form = Some(Box::new(OpenForm {
            form: Form::new(title, fields, cx.theme),
            purpose,
            pending: None,
        }));
        self.handoff = Some(Handoff::Offered);
    }

    /// What the App must hand on after a reply, once.
    pub(crate) fn take_handoff(&mut self) -> Option<Handoff> {
        self.handoff.take()
    }

    /// A platform admin with no tenant but the platform's gets the
    /// first-tenant form, once.
    pub(crate) fn offer_first_run(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        if self.offered {
            return Vec::new();
        }
        let (Some(me), Some(list)) = (cx.session.me.loaded(), cx.session.tenants.loaded()) else {
            return Vec::new();
        };
        if !(me.platform_admin && list.iter().all(|t| t.is_platform)) {
            return Vec::new();
        }
        self.offered = true;
        self.progress = InitProgress::default();
        self.open(cx);
        self.ask_models(cx)
    }

    fn open(&mut self, cx: &mut Cx<'_>) {
        let purpose = FormPurpose::Onboarding;
        let Some((title, fields)) = tenants::form_fields(&purpose, cx.session, None) else {
            return;
        };
        self.form = Some(Box::new(OpenForm {
            form: Form::new(title, fields, cx.theme),
            purpose,
            pending: None,
        }));
    }

    /// Handles an action for the form; the bool says whether it stays open.
    fn update_form(
        &mut self,
        open: &mut OpenForm,
        action: Action,
        cx: &mut Cx<'_>,
    ) -> (Vec<Effect>, bool) {
        match action {
            Action::Save if open.form.submitting => {}
            Action::Save => return self.submit(open, cx),
            Action::Cancel => return (Vec::new(), false),
            Action::NextField => open.form.move_focus(true, cx.theme),
            Action::PrevField => open.form.move_focus(false, cx.theme),
            Action::ChoicePrev => open.form.cycle_choice(false),
            Action::ChoiceNext => open.form.cycle_choice(true),
            Action::Key(k) => open.form.input(k),
            Action::Paste(s) => open.form.paste(&s),
            _ => {}
        }
        (Vec::new(), true)
    }
}

/// Where keys go while a form has the focus.
fn form_contexts(form: &Form) -> Vec<Context> {
    let mut c = match form.focused().map(|f| &f.kind) {
        Some(FieldKind::Choice { .. }) => vec![Context::FormChoice, Context::FormLine],
        Some(FieldKind::Line(_)) => vec![Context::FormLine],
        _ => vec![],
    };
    c.push(Context::Form);
    c
}

impl Component for Onboarding {
    fn contexts(&self, _shared: &Shared<'_>) -> (Vec<Context>, bool) {
        match &self.form {
            Some(open) => {
                let mut contexts = form_contexts(&open.form);
                if self.local_missing {
                    contexts.insert(contexts.len() - 1, Context::InitializeModel);
                }
                (contexts, true)
            }
            None => (Vec::new(), false),
        }
    }

    fn update(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        let Some(mut open) = self.form.take() else {
            return Vec::new();
        };
        let (effects, keep) = self.update_form(&mut open, action, cx);
        if keep {
            self.form = Some(open);
        }
        effects
    }

    fn on_response(
        &mut self,
        id: RequestId,
        flight: &InFlight,
        response: Response,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        if self.form.as_ref().is_some_and(|o| o.pending == Some(id)) {
            if let Response::Models(Ok(list)) = &response {
                self.note_models(list);
            }
            return self.on_step_response(flight, response, cx);
        }
        if self.models_probe == Some(id) {
            self.models_probe = None;
            // A failed question offers nothing; the model step asks again.
            if let Response::Models(Ok(list)) = &response {
                self.note_models(list);
            }
            return Vec::new();
        }
        self.on_probe(id, response, cx);
        Vec::new()
    }

    fn render(&self, shared: &Shared<'_>, area: Rect, buf: &mut Buffer) {
        if let Some(open) = &self.form {
            pane::render(self, shared, &open.form, area, buf);
        }
    }
}
