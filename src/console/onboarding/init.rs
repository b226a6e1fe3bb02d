//! "Initialize tenant", one screen: the tenant (created on the first run,
//! or the empty one just opened), a first
//! agent from a template prompt on the first ready model, a web-form
//! workspace linked to it, a starter knowledge document from the business
//! description, the sample leads, then a playground session on
//! that agent, ready to chat. Each step runs after the one before; a
//! failure stops there, is shown inline, and saving again resumes from it
//! with everything typed kept.

use super::{Handoff, Onboarding};
use crate::console::agents::DEFAULT_MODEL;
use crate::console::component::Cx;
use crate::console::effect::{Effect, Request, RequestId};
use crate::console::request::Response;
use crate::console::state::{InFlight, OpenForm};
use crate::console::tenants::SAMPLES;
use crate::console::widgets::form::Form;
use crate::console::widgets::toast::Toast;
use crate::domain::knowledge::starter_document;
use crate::domain::{
    Agent, Channel, NewAgent, NewPlaygroundSession, NewTenant, PlaygroundSession, Tenant, Tier,
    Workspace,
};

/// The name of the agent and workspace that initializing creates.
pub const FIRST_AGENT: &str = "First response";
pub const FIRST_WORKSPACE: &str = "Website";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitStep {
    Tenant,
    Model,
    Agent,
    Workspace,
    Knowledge,
    Samples,
    Session,
}

impl InitStep {
    pub const ALL: [InitStep; 7] = [
        InitStep::Tenant,
        InitStep::Model,
        InitStep::Agent,
        InitStep::Workspace,
        InitStep::Knowledge,
        InitStep::Samples,
        InitStep::Session,
    ];

    pub fn label(self) -> &'static str {
        match self {
            InitStep::Tenant => "Create the tenant",
            InitStep::Model => "Choose the first ready model",
            InitStep::Agent => "Create the agent “First response”",
            InitStep::Workspace => "Create the web-form workspace “Website”",
            InitStep::Knowledge => "Write the starter knowledge",
            InitStep::Samples => "Import the sample leads",
            InitStep::Session => "Open the playground",
        }
    }
}

/// What initializing has done so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InitProgress {
    pub tenant: Option<Tenant>,
    pub model: Option<String>,
    /// No model was ready: the agent got the local one, whose weights are
    /// not installed yet (the screen and the Agents pane offer them).
    pub model_missing: bool,
    pub agent: Option<Agent>,
    pub workspace: Option<Workspace>,
    /// The starter knowledge document's title (`Some(None)` when there
    /// was no business description to write it from).
    pub knowledge: Option<Option<String>>,
    /// How many sample leads came in (`Some(0)` when skipped).
    pub samples: Option<u32>,
    pub running: Option<InitStep>,
    pub failed: Option<(InitStep, String)>,
    /// The tenant existed (opened empty), so its step is the one chosen,
    /// not one created.
    pub existing: bool,
}

impl InitProgress {
    /// A step's line in the checklist.
    pub fn label(&self, step: InitStep) -> &'static str {
        match step {
            InitStep::Tenant if self.existing => "Use the tenant",
            _ => step.label(),
        }
    }

    pub fn done(&self, step: InitStep) -> bool {
        match step {
            InitStep::Tenant => self.tenant.is_some(),
            InitStep::Model => self.model.is_some(),
            InitStep::Agent => self.agent.is_some(),
            InitStep::Workspace => self.workspace.is_some(),
            InitStep::Knowledge => self.knowledge.is_some(),
            InitStep::Samples => self.samples.is_some(),
            InitStep::Session => false,
        }
    }

    /// What a done step made, for the checklist.
    pub fn outcome(&self, step: InitStep) -> Option<String> {
        match step {
            InitStep::Tenant => self.tenant.as_ref().map(|t| t.slug.clone()),
            // Short enough for the checklist at 80 columns.
            InitStep::Model if self.model_missing => self
                .model
                .as_ref()
                .map(|_| "none ready: the agent gets the local one".to_string()),
            InitStep::Model => self.model.clone(),
            InitStep::Knowledge => self.knowledge.as_ref().map(|k| match k {
                Some(title) => format!("“{title}”"),
                None => "skipped: no business description".to_string(),
            }),
            InitStep::Samples => self.samples.map(|n| match n {
                0 => "none".to_string(),
                n => format!("{n} leads"),
            }),
            _ => None,
        }
    }

    fn next(&self) -> InitStep {
        InitStep::ALL
            .into_iter()
            .find(|s| !self.done(*s))
            .unwrap_or(InitStep::Session)
    }
}

/// The first agent's prompt: a friendly, concise first response to an
/// inbound lead of this business.
pub fn template_prompt(tenant: &str, business: &str) -> String {
    let who = if business.trim().is_empty() {
        tenant.to_string()
    } else {
        format!("{tenant}, {}", business.trim())
    };
    format!(
        "You are the first-response assistant of {who}. Prospective customers \
         (inbound leads) write to us through our website and other channels; you write \
         the first reply.\n\
         - Be friendly and concise: at most four short sentences.\n\
         - Thank them, and use their name if they gave it.\n\
         - Answer only what you know about {tenant}; never invent prices, availability \
         or promises. Say a team member will confirm the details.\n\
         - Ask one question that helps us follow up: what they need, when, and the best \
         way to reach them."
    )
}

impl Onboarding {
    /// Ctrl-S on the onboarding screen: runs the first step not done yet.
    pub(super) fn submit(&mut self, open: &mut OpenForm, cx: &mut Cx<'_>) -> (Vec<Effect>, bool) {
        if self.progress.running.is_some() {
            return (Vec::new(), true);
        }
        open.form.clear_errors();
        self.progress.failed = None;
        let step = self.progress.next();
        let effects = self.send_step(step, &open.form, cx);
        open.pending = Some(RequestId(cx.requests.next_id));
        open.form.submitting = true;
        (effects, true)
    }

    fn send_step(&mut self, step: InitStep, form: &Form, cx: &mut Cx<'_>) -> Vec<Effect> {
        let text = |name: &str| form.value(name).trim().to_string();
        let p = &mut self.progress;
        let tenant = p.tenant.as_ref().map(|t| (t.id, t.name.clone()));
        let req = match (step, tenant) {
            (InitStep::Tenant, _) => Request::CreateTenant(NewTenant {
                name: text("name"),
                slug: None,
                tier: Tier::parse(&form.value("tier")),
                settings: None,
                user_limit: None,
            }),
            (InitStep::Model, _) => Request::Models,
            (InitStep::Agent, Some((id, name))) => Request::CreateAgent {
                tenant: id.to_string(),
                new: NewAgent {
                    name: FIRST_AGENT.into(),
                    description: Some(format!("Answers {name}'s inbound leads first")),
                    system_prompt: template_prompt(&name, &text("business")),
                    model: p.model.clone().unwrap_or(DEFAULT_MODEL.into()),
                    temperature: None,
                    max_tokens: None,
                    ..Default::default()
                },
            },
            (InitStep::Workspace, Some((id, _))) => Request::CreateWorkspace {
                tenant: id.to_string(),
                new: crate::domain::NewWorkspace {
                    name: FIRST_WORKSPACE.into(),
                    channel: Channel::WebForm,
                    agent_id: p.agent.as_ref().map(|a| a.id),
                    strategy_active: true,
                },
            },
            (InitStep::Knowledge, Some((id, name))) => {
                match starter_document(&name, &text("business")) {
                    Some(new) => Request::CreateKnowledge {
                        tenant: id.to_string(),
                        new,
                    },
                    // Nothing typed to write it from: skipped.
                    None => {
                        p.knowledge = Some(None);
                        let next = p.next();
                        return self.send_step(next, form, cx);
                    }
                }
            }
            (InitStep::Samples, Some((id, _))) => Request::ImportSample {
                tenant: id.to_string(),
            },
            (InitStep::Session, Some((id, _))) => Request::CreatePlaygroundSession {
                tenant: id.to_string(),
                new: NewPlaygroundSession {
                    agent_id: p.agent.as_ref().map(|a| a.id),
                    workspace_id: p.workspace.as_ref().map(|w| w.id),
                    ..NewPlaygroundSession::default()
                },
            },
            // Every later step follows the tenant's; nothing to send yet.
            (_, None) => return Vec::new(),
        };
        p.running = Some(step);
        let tenant = p.tenant.as_ref().map(|t| t.id);
        cx.send_about(req, None, "", step.label(), tenant, None)
    }

    /// The answer to a step: record it and run the next, or stop and say why.
    pub(super) fn on_step_response(
        &mut self,
        flight: &InFlight,
        response: Response,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        let Some(step) = self.progress.running.take() else {
            return Vec::new();
        };
        let Some(mut open) = self.form.take() else {
            return Vec::new();
        };
        open.pending = None;
        open.form.submitting = false;
        if let Some(err) = response.error() {
            let msg = err.message();
            match err.problem().filter(|_| step == InitStep::Tenant) {
                Some(p) => open.form.apply_problem(p),
                None => open.form.set_failure(format!("{}: {msg}", flight.fail)),
            }
            self.progress.failed = Some((step, msg));
            self.form = Some(open);
            return Vec::new();
        }
        let wants_samples = open.form.value("samples") == SAMPLES[0];
        let p = &mut self.progress;
        match response {
            Response::TenantCreated(Ok(t)) => {
                cx.session.push_tenant(t.clone());
                cx.session.current_tenant = Some(t.id);
                // Initialized here: not offered again when it is opened.
                self.asked.insert(t.id);
                // The Tenants pane shows it selected when the user goes there.
                self.handoff = Some(Handoff::TenantCreated(t.id));
                p.tenant = Some(t);
            }
            Response::Models(Ok(list)) => {
                let ready = list.into_iter().find(|m| m.ready).map(|m| m.id);
                p.model_missing = ready.is_none();
                p.model = Some(ready.unwrap_or_else(|| DEFAULT_MODEL.to_string()));
            }
            Response::AgentCreated(Ok(a)) => p.agent = Some(a),
            Response::WorkspaceSaved(Ok(w)) => {
                p.workspace = Some(w);
                if !wants_samples {
                    p.samples = Some(0);
                }
            }
            Response::KnowledgeCreated(Ok(doc)) => p.knowledge = Some(Some(doc.title)),
            Response::Imported(Ok(report)) => p.samples = Some(report.imported),
            Response::PlaygroundSessionCreated(Ok(s)) => return self.finished(s, cx),
            _ => {}
        }
        let next = self.progress.next();
        let effects = self.send_step(next, &open.form, cx);
        open.pending = Some(RequestId(cx.requests.next_id));
        open.form.submitting = true;
        self.form = Some(open);
        effects
    }

    /// Closes the screen and hands the session to the playground, input
    /// focused.
    fn finished(&mut self, session: PlaygroundSession, cx: &mut Cx<'_>) -> Vec<Effect> {
        let p = &self.progress;
        let name = p
            .tenant
            .as_ref()
            .map(|t| t.name.clone())
            .unwrap_or_default();
        let leads = match p.samples {
            Some(0) | None => String::new(),
            Some(n) => format!(", {n} sample leads"),
        };
        let knowledge = match p.knowledge {
            Some(Some(_)) => ", a knowledge document",
            _ => "",
        };
        self.form = None;
        self.handoff = Some(Handoff::Finished(session));
        cx.toast(Toast::success(format!(
            "{name} is ready: an agent, a web-form workspace{knowledge}{leads}. Write as a lead would."
        )));
        // The header's usage counts changed with the samples.
        cx.load_tenants()
    }
}
