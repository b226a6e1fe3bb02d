//! The agent and workspace forms: what they ask, prefilled from the state,
//! and what their save sends. Numbers are checked here, before sending,
//! so a typo is marked under its field rather than sent as nothing.

use uuid::Uuid;

use super::{agent_options, AgentsView, DEFAULT_MODEL};
use crate::console::app::{FormPurpose, Modal, OpenForm};
use crate::console::component::Cx;
use crate::console::effect::{Effect, Request};
use crate::console::widgets::form::{Field, Form};
use crate::console::widgets::toast::Toast;
use crate::domain::agent::{validate_tags, DEFAULT_MAX_TOKENS, DEFAULT_TEMPERATURE};
use crate::domain::{AgentPatch, Channel, NewAgent, NewWorkspace, WorkspacePatch};

const STRATEGY: [&str; 2] = ["inactive", "active"];
/// Rows of the prompt's text area: enough to read a paragraph while editing.
const PROMPT_ROWS: u16 = 7;

/// What a save sends: the request and its success and failure toasts.
type Submit = (Request, String, String);

/// Whether a form is one of this feature's.
pub(crate) fn is_agent_form(p: &FormPurpose) -> bool {
    matches!(
        p,
        FormPurpose::NewAgent(_)
            | FormPurpose::EditAgent { .. }
            | FormPurpose::NewWorkspace { .. }
            | FormPurpose::EditWorkspace { .. }
    )
}

impl AgentsView {
    /// Opens the form for one of this feature's purposes, prefilled; none
    /// when what it edits is gone.
    pub(super) fn open_form(&self, purpose: FormPurpose, cx: &mut Cx<'_>) {
        let Some((title, fields)) = self.form_fields(&purpose) else {
            return;
        };
        *cx.modal = Some(Modal::Form(Box::new(OpenForm {
            form: Form::new(title, fields, cx.theme),
            purpose,
            pending: None,
        })));
    }

    /// The model: a choice among what the server's providers offer (and
    /// the current one, even if this server lacks it), or free text while
    /// the list is unknown.
    fn model_field(&self, current: &str) -> Field {
        let mut options: Vec<&str> = self.models.iter().map(|m| m.id.as_str()).collect();
        if options.is_empty() {
            return Field::line("model", "Model", current);
        }
        if !options.contains(&current) {
            options.insert(0, current);
        }
        Field::choice("model", "Model", &options, current)
    }

    /// The fields of an agent or workspace form; `None` when what it edits
    /// is gone.
    fn form_fields(&self, purpose: &FormPurpose) -> Option<(String, Vec<Field>)> {
        let channels: Vec<&str> = Channel::ALL.iter().map(|c| c.as_str()).collect();
        match purpose {
            FormPurpose::NewAgent(_) => Some((
                "New agent".into(),
                vec![
                    Field::line("name", "Name", ""),
                    Field::line("description", "Description", ""),
                    self.model_field(DEFAULT_MODEL),
                    Field::line(
                        "temperature",
                        "Temperature",
                        &DEFAULT_TEMPERATURE.to_string(),
                    ),
                    Field::line("max_tokens", "Max tokens", &DEFAULT_MAX_TOKENS.to_string()),
                    Field::tall("system_prompt", "Prompt", "", PROMPT_ROWS),
                    Field::line("category", "Category", ""),
                    Field::line_with_placeholder("tags", "Tags", "", "e.g. sales, follow-up"),
                ],
            )),
            FormPurpose::EditAgent { id, .. } => {
                let a = self.items().iter().find(|a| a.id == *id)?;
                let c = &a.config;
                Some((
                    format!("Edit {} (v{})", a.name, a.version),
                    vec![
                        Field::line("name", "Name", &a.name),
                        Field::line("description", "Description", &a.description),
                        self.model_field(&c.model),
                        Field::line("temperature", "Temperature", &c.temperature.to_string()),
                        Field::line("max_tokens", "Max tokens", &c.max_tokens.to_string()),
                        Field::tall("system_prompt", "Prompt", &c.system_prompt, PROMPT_ROWS),
                        Field::line("category", "Category", a.category.as_deref().unwrap_or("")),
                        Field::line_with_placeholder(
                            "tags",
                            "Tags",
                            &a.tags.join(", "),
                            "e.g. sales, follow-up",
                        ),
                    ],
                ))
            }
            FormPurpose::NewWorkspace { .. } => {
                let (labels, _) = agent_options(self.items());
                let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
                Some((
                    "New workspace".into(),
                    vec![
                        Field::line("name", "Name", ""),
                        Field::choice("channel", "Channel", &channels, "web_form"),
                        Field::choice("agent_id", "Agent", &labels, labels[0]),
                        Field::choice("strategy_active", "Strategy", &STRATEGY, STRATEGY[0]),
                    ],
                ))
            }
            FormPurpose::EditWorkspace { id, agents, .. } => {
                let w = self.workspace_items().iter().find(|w| w.id == *id)?;
                let (labels, _) = agent_options(self.items());
                let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
                // A deleted or unshared agent is not offered: "none" until changed.
                let at = agents.iter().position(|a| *a == w.agent_id).unwrap_or(0);
                Some((
                    format!("Edit {}", w.name),
                    vec![
                        Field::line("name", "Name", &w.name),
                        Field::choice("channel", "Channel", &channels, w.channel.as_str()),
                        Field::choice("agent_id", "Agent", &labels, labels[at]),
                        Field::choice(
                            "strategy_active",
                            "Strategy",
                            &STRATEGY,
                            STRATEGY[usize::from(w.strategy_active)],
                        ),
                    ],
                ))
            }
            _ => None,
        }
    }

    /// Saves an agent or workspace form; the bool says whether it stays open.
    pub(crate) fn submit(&mut self, open: &mut OpenForm, cx: &mut Cx<'_>) -> (Vec<Effect>, bool) {
        let submit = match &open.purpose {
            FormPurpose::NewAgent(_) | FormPurpose::EditAgent { .. } => {
                match self.agent_submit(open) {
                    Ok(Some(s)) => s,
                    Ok(None) => {
                        cx.toast(Toast::info("Nothing changed"));
                        return (Vec::new(), false);
                    }
                    Err(()) => return (Vec::new(), true),
                }
            }
            _ => match self.workspace_submit(&open.form, &open.purpose) {
                Some(s) => s,
                None => {
                    cx.toast(Toast::info("Nothing changed"));
                    return (Vec::new(), false);
                }
            },
        };
        let (req, ok, fail) = submit;
        let effects = cx.send_about(req, None, &ok, &fail, self.tenant, None);
        open.pending = Some(cx.requests.last_id());
        open.form.clear_errors();
        open.form.submitting = true;
        (effects, true)
    }

    /// `Err` when a number does not parse (marked in the form), `Ok(None)`
    /// when an edit changed nothing.
    fn agent_submit(&self, open: &mut OpenForm) -> Result<Option<Submit>, ()> {
        let (temperature, max_tokens) = check_numbers(&mut open.form)?;
        let tags = check_tags(&mut open.form)?;
        let f = &open.form;
        let category = f.value("category").trim().to_string();
        let category = (!category.is_empty()).then_some(category);
        let text = |name: &str| f.value(name).trim().to_string();
        // The prompt keeps its inner layout; only the ends are trimmed.
        let prompt = f.value("system_prompt").trim().to_string();
        let Some(tenant) = self.tenant else {
            return Err(());
        };
        match &open.purpose {
            FormPurpose::EditAgent { id, .. } => {
                let name = self
                    .items()
                    .iter()
                    .find(|a| a.id == *id)
                    .map_or_else(|| text("name"), |a| a.name.clone());
                let changed = |n: &str| f.changed(n).then(|| text(n));
                let patch = AgentPatch {
                    name: changed("name"),
                    description: changed("description"),
                    system_prompt: f.changed("system_prompt").then_some(prompt),
                    model: changed("model"),
                    temperature: f.changed("temperature").then_some(temperature),
                    max_tokens: f.changed("max_tokens").then_some(max_tokens),
                    // An emptied field clears the category.
                    category: f.changed("category").then(|| category.clone()),
                    tags: f.changed("tags").then(|| tags.clone()),
                };
                if patch == AgentPatch::default() {
                    return Ok(None);
                }
                let shown = patch.name.clone().unwrap_or(name);
                // The version is only known from the reply: `{v}` is filled then.
                let ok = if patch.touches_config() {
                    format!("Saved {shown} as v{{v}}")
                } else {
                    format!("Saved {shown}")
                };
                let req = Request::UpdateAgent {
                    tenant: tenant.to_string(),
                    id: *id,
                    patch,
                };
                Ok(Some((req, ok, format!("Could not save {shown}"))))
            }
            _ => {
                let description = text("description");
                let new = NewAgent {
                    name: text("name"),
                    description: (!description.is_empty()).then_some(description),
                    system_prompt: prompt,
                    model: text("model"),
                    temperature: Some(temperature),
                    max_tokens: Some(max_tokens),
                    category,
                    tags,
                };
                let ok = format!("Created agent {} (v1)", new.name);
                let req = Request::CreateAgent {
                    tenant: tenant.to_string(),
                    new,
                };
                Ok(Some((req, ok, "Could not create the agent".into())))
            }
        }
    }

    fn workspace_submit(&self, f: &Form, purpose: &FormPurpose) -> Option<Submit> {
        let name = f.value("name").trim().to_string();
        let channel = Channel::parse(&f.value("channel")).unwrap_or(Channel::WebForm);
        let strategy = f.value("strategy_active") == STRATEGY[1];
        let agent_of = |ids: &[Option<Uuid>]| {
            f.choice_index("agent_id")
                .and_then(|i| ids.get(i).copied())
                .flatten()
        };
        let tenant = self.tenant?;
        match purpose {
            FormPurpose::NewWorkspace { agents, .. } => {
                let new = NewWorkspace {
                    name: name.clone(),
                    channel,
                    agent_id: agent_of(agents),
                    strategy_active: strategy,
                };
                let req = Request::CreateWorkspace {
                    tenant: tenant.to_string(),
                    new,
                };
                Some((
                    req,
                    format!("Created workspace {name}"),
                    "Could not create the workspace".into(),
                ))
            }
            FormPurpose::EditWorkspace { id, agents, .. } => {
                let patch = WorkspacePatch {
                    name: f.changed("name").then(|| name.clone()),
                    channel: f.changed("channel").then_some(channel),
                    agent_id: f.changed("agent_id").then(|| agent_of(agents)),
                    strategy_active: f.changed("strategy_active").then_some(strategy),
                };
                if patch == WorkspacePatch::default() {
                    return None;
                }
                let req = Request::UpdateWorkspace {
                    tenant: tenant.to_string(),
                    id: *id,
                    patch,
                };
                Some((
                    req,
                    format!("Saved workspace {name}"),
                    format!("Could not save {name}"),
                ))
            }
            _ => None,
        }
    }
}

/// The tags as typed (separated by commas or spaces), checked by the
/// server's own rule so a bad one is marked before anything is sent.
fn check_tags(form: &mut Form) -> Result<Vec<String>, ()> {
    let typed: Vec<String> = form
        .value("tags")
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect();
    let mut errors = Vec::new();
    let tags = validate_tags(&typed, &mut errors);
    let Some(first) = errors.into_iter().next() else {
        return Ok(tags);
    };
    form.clear_errors();
    if let Some(field) = form.fields.iter_mut().find(|x| x.name == "tags") {
        field.error = Some(first.message);
    }
    form.set_failure("Fix the marked field and save again.".into());
    Err(())
}

/// Parses temperature and max tokens, marking the fields that are not numbers.
fn check_numbers(form: &mut Form) -> Result<(f32, u32), ()> {
    let temperature = form
        .value("temperature")
        .trim()
        .parse::<f32>()
        .ok()
        .filter(|t| t.is_finite());
    let max_tokens = form.value("max_tokens").trim().parse::<u32>().ok();
    if let (Some(t), Some(m)) = (temperature, max_tokens) {
        return Ok((t, m));
    }
    form.clear_errors();
    for (name, bad, msg) in [
        (
            "temperature",
            temperature.is_none(),
            "must be a number, e.g. 0.3",
        ),
        (
            "max_tokens",
            max_tokens.is_none(),
            "must be a whole number, e.g. 400",
        ),
    ] {
        if let Some(field) = form.fields.iter_mut().find(|x| x.name == name && bad) {
            field.error = Some(msg.into());
        }
    }
    form.set_failure("Fix the marked field and save again.".into());
    Err(())
}
