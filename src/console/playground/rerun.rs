//! Answering again: `r` regenerates the last reply; `e` edits the agent's
//! prompt, saves it as a new version and re-runs the last message against
//! it under the old reply; `o` sets the session's temperature and reply
//! length, sent with each message.

use uuid::Uuid;

use super::{LiveReply, PlaygroundView};
use crate::console::component::Cx;
use crate::console::effect::{Effect, Regenerate, ReplyRequest, Request, RequestId};
use crate::console::keymap::Context;
use crate::console::state::{FormPurpose, Modal, OpenForm, Slot};
use crate::console::widgets::form::{Field, Form};
use crate::domain::playground::ReplyOverrides;
use crate::domain::{Agent, AgentPatch, FieldError};

/// Rows of the prompt editor: most of an 80×24 screen.
const PROMPT_ROWS: u16 = 10;

impl PlaygroundView {
    /// Why the chat cannot answer again now, said above the input.
    pub(super) fn busy_hint(&self, cx: &Cx<'_>) -> Option<String> {
        let chat = self.chat.as_ref()?;
        chat.reply.as_ref()?;
        let stop = cx.keymap.key_label(Context::PlaygroundStreaming, "stop");
        Some(format!(
            "A reply is still streaming: wait for it, or press {stop} to stop it."
        ))
    }

    /// `r`: the last message answered again by every lane, or by `lane`
    /// with `version` of its agent (after a prompt edit). The old reply
    /// stays in the transcript, the new one comes under it.
    pub(super) fn regenerate(
        &mut self,
        tenant: Uuid,
        rerun: Option<(u8, u32)>,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        let busy = self.busy_hint(cx);
        let overrides = self.overrides();
        let Some(chat) = self.chat.as_mut() else {
            return Vec::new();
        };
        if let Some(hint) = busy {
            chat.error = Some(hint);
            return Vec::new();
        }
        let Some(last) = chat.user_messages().first().map(|m| m.content.clone()) else {
            let write = cx.keymap.key_label(Context::PlaygroundChat, "write");
            chat.error = Some(format!(
                "Nothing to regenerate yet: press {write} and write a message first."
            ));
            return Vec::new();
        };
        cx.requests.next_id += 1;
        let id = RequestId(cx.requests.next_id);
        let n = chat.session.lanes.len().max(1);
        let lanes = (0..n)
            .map(|i| match rerun {
                Some((lane, _)) if usize::from(lane) != i => None,
                _ => Some(String::new()),
            })
            .collect();
        chat.error = None;
        chat.scroll = None;
        chat.reply = Some(LiveReply {
            id,
            sent: last.clone(),
            user_stored: true,
            lanes,
            stopping: false,
            regenerating: true,
            version: rerun.map(|(_, v)| v),
        });
        vec![Effect::StreamReply(
            id,
            ReplyRequest {
                tenant: tenant.to_string(),
                session: chat.session.id,
                content: last,
                overrides,
                regenerate: Some(Regenerate {
                    lane: rerun.map(|(l, _)| l),
                    version: rerun.map(|(_, v)| v),
                }),
            },
        )]
    }

    /// `e`: the prompt of the session's agent (its first lane's) in the
    /// multi-line editor; `agent` is it as the Agents feature last read it.
    pub(crate) fn edit_prompt(
        &mut self,
        tenant: Uuid,
        agent: Option<Agent>,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        let busy = self.busy_hint(cx);
        let Some(chat) = self.chat.as_mut() else {
            return Vec::new();
        };
        if let Some(hint) = busy {
            chat.error = Some(hint);
            return Vec::new();
        }
        let regenerate = cx.keymap.key_label(Context::PlaygroundChat, "regenerate");
        let Some(agent) = agent else {
            let name = chat.lane_name(0);
            chat.error = Some(format!(
                "{name} is no longer among this tenant's agents: start a new session."
            ));
            return Vec::new();
        };
        if agent.read_only {
            chat.error = Some(format!(
                "{} belongs to {}: only its owner can edit its prompt. Press {regenerate} \
                 to answer again with it as it is.",
                agent.name, agent.owner_name
            ));
            return Vec::new();
        }
        chat.error = None;
        let title = format!(
            "{}'s prompt (v{}): saving makes v{} and answers again",
            agent.name,
            agent.version,
            agent.version + 1
        );
        let fields = vec![Field::tall(
            "system_prompt",
            "Prompt",
            &agent.config.system_prompt,
            PROMPT_ROWS,
        )];
        *cx.modal = Some(Modal::Form(Box::new(OpenForm {
            form: Form::new(title, fields, cx.theme),
            purpose: FormPurpose::PlaygroundPrompt {
                tenant,
                agent: agent.id,
                name: agent.name,
            },
            pending: None,
        })));
        Vec::new()
    }

    /// The prompt was saved as a new version: the last message is
    /// answered again with it, under the old reply.
    pub(crate) fn rerun(&mut self, agent: &Agent, cx: &mut Cx<'_>) -> Vec<Effect> {
        let Some(tenant) = self.tenant else {
            return Vec::new();
        };
        let lane = self
            .chat
            .as_ref()
            .and_then(|c| c.session.lanes.iter().position(|l| l.agent_id == agent.id));
        match lane {
            Some(lane) => self.regenerate(tenant, Some((lane as u8, agent.version)), cx),
            None => Vec::new(),
        }
    }

    /// `o`: the session's temperature and reply length, blank for the
    /// agent's own.
    pub(crate) fn open_settings(&mut self, cx: &mut Cx<'_>) {
        let Some(chat) = &self.chat else {
            return;
        };
        let o = self.overrides();
        let fields = vec![
            Field::line_with_placeholder(
                "temperature",
                "Temperature",
                &o.temperature.map(|t| t.to_string()).unwrap_or_default(),
                "the agent's; 0 to 2",
            ),
            Field::line_with_placeholder(
                "max_tokens",
                "Max tokens",
                &o.max_tokens.map(|n| n.to_string()).unwrap_or_default(),
                "the agent's; 1 to 4096",
            ),
        ];
        *cx.modal = Some(Modal::Form(Box::new(OpenForm {
            form: Form::new("Reply settings for this session", fields, cx.theme),
            purpose: FormPurpose::PlaygroundSettings {
                session: chat.session.id,
            },
            pending: None,
        })));
    }

    /// The session's overrides, sent with each message.
    pub(super) fn overrides(&self) -> ReplyOverrides {
        self.chat
            .as_ref()
            .and_then(|c| self.overrides.get(&c.session.id))
            .copied()
            .unwrap_or_default()
    }

    /// Saves one of this file's forms; the bool says whether it stays open.
    pub(super) fn submit_rerun_form(
        &mut self,
        open: &mut OpenForm,
        cx: &mut Cx<'_>,
    ) -> (Vec<Effect>, bool) {
        match &open.purpose {
            FormPurpose::PlaygroundSettings { session } => {
                let session = *session;
                match parse_settings(&open.form) {
                    Ok(o) => {
                        self.overrides.insert(session, o);
                        (Vec::new(), false)
                    }
                    Err(errors) => {
                        open.form.clear_errors();
                        for e in errors {
                            open.form.set_error(&e.field, e.message, cx.theme);
                        }
                        open.form
                            .set_failure("Fix the marked field and save again.".into());
                        (Vec::new(), true)
                    }
                }
            }
            FormPurpose::PlaygroundPrompt {
                tenant,
                agent,
                name,
            } => {
                let prompt = open.form.value("system_prompt");
                if !open.form.changed("system_prompt") {
                    let regenerate = cx.keymap.key_label(Context::PlaygroundChat, "regenerate");
                    open.form.set_failure(format!(
                        "The prompt is unchanged: edit it, or press esc and {regenerate} to \
                         answer again as it is."
                    ));
                    return (Vec::new(), true);
                }
                let req = Request::UpdateAgent {
                    tenant: tenant.to_string(),
                    id: *agent,
                    patch: AgentPatch {
                        system_prompt: Some(prompt),
                        ..AgentPatch::default()
                    },
                };
                let ok = format!("Saved {name}'s prompt as v{{v}}; answering again with it");
                let fail = format!("Could not save {name}'s prompt");
                let effects = cx.send_about(
                    req,
                    Some(Slot::PlaygroundPrompt),
                    &ok,
                    &fail,
                    Some(*tenant),
                    Some(*agent),
                );
                open.pending = Some(cx.requests.last_id());
                open.form.clear_errors();
                open.form.submitting = true;
                (effects, true)
            }
            _ => (Vec::new(), true),
        }
    }
}

/// The settings form's values, checked as the server checks them.
fn parse_settings(form: &Form) -> Result<ReplyOverrides, Vec<FieldError>> {
    let mut errors = Vec::new();
    let temperature = form.value("temperature").trim().to_string();
    let max_tokens = form.value("max_tokens").trim().to_string();
    let mut o = ReplyOverrides::default();
    if !temperature.is_empty() {
        match temperature.replace(',', ".").parse::<f32>() {
            Ok(t) if t.is_finite() => o.temperature = Some(t),
            _ => errors.push(FieldError::new(
                "temperature",
                "must be a number from 0 to 2, e.g. 0.7",
            )),
        }
    }
    if !max_tokens.is_empty() {
        match max_tokens.parse::<u32>() {
            Ok(n) => o.max_tokens = Some(n),
            Err(_) => errors.push(FieldError::new(
                "max_tokens",
                "must be a whole number from 1 to 4096",
            )),
        }
    }
    o.validate(&mut errors);
    if errors.is_empty() {
        Ok(o)
    } else {
        Err(errors)
    }
}

/// "temp 0.7 · max 120 tokens": the session's overrides, for the line
/// above the input.
pub(super) fn overrides_label(o: &ReplyOverrides) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(t) = o.temperature {
        parts.push(format!("temp {t}"));
    }
    if let Some(n) = o.max_tokens {
        parts.push(format!("max {n} tokens"));
    }
    (!parts.is_empty()).then(|| parts.join(" · "))
}
