//! The playground's two forms: starting a session (agent, version, an
//! optional workspace, and in compare mode a second agent/version), and the
//! contact details for saving a message as a lead.

use crate::console::component::Cx;
use crate::console::effect::{Effect, Request};
use crate::console::state::{FormPurpose, Modal, OpenForm};
use crate::console::widgets::form::{Field, FieldKind, Form};
use crate::domain::{Agent, NewPlaygroundSession, PlaygroundTarget, SaveAsLead, Workspace};

/// The version choices of an agent: its current version, then each one,
/// newest first (every edit or restore made the next number).
fn version_options(a: Option<&Agent>) -> Vec<String> {
    let Some(a) = a else {
        return vec!["current".into()];
    };
    let mut out = vec![format!("current (v{})", a.version)];
    out.extend((1..=a.version).rev().map(|v| format!("v{v}")));
    out
}

/// Option `i` of [`version_options`] as a pin: `None` follows the current.
fn version_at(a: &Agent, i: usize) -> Option<u32> {
    (i > 0).then(|| a.version + 1 - i as u32)
}

fn agent_label(a: &Agent) -> String {
    if a.read_only {
        format!("{} ({})", a.name, a.owner_name)
    } else {
        a.name.clone()
    }
}

/// The fields of a playground form, from the agents and workspaces on
/// offer; `None` when it cannot be built.
pub(crate) fn form_fields(
    purpose: &FormPurpose,
    agents: &[Agent],
    workspaces: &[Workspace],
) -> Option<(String, Vec<Field>)> {
    match purpose {
        FormPurpose::NewPlaygroundSession { compare, .. } => {
            let labels: Vec<String> = agents.iter().map(agent_label).collect();
            let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
            let first = agents.first();
            let versions = version_options(first);
            let versions: Vec<&str> = versions.iter().map(String::as_str).collect();
            let mut ws = vec!["— none".to_string()];
            ws.extend(workspaces.iter().map(|w| w.name.clone()));
            let ws: Vec<&str> = ws.iter().map(String::as_str).collect();
            let mut fields = vec![
                Field::choice("agent_id", "Agent", &labels, labels.first()?),
                Field::choice("version", "Version", &versions, versions[0]),
                Field::choice("workspace_id", "Workspace", &ws, ws[0]),
            ];
            if *compare {
                // Comparing an agent with its previous version is the
                // usual question, so that is the default.
                let previous = versions.get(2).unwrap_or(&versions[0]);
                fields.push(Field::choice(
                    "compare_id",
                    "Compare with",
                    &labels,
                    labels[0],
                ));
                fields.push(Field::choice(
                    "compare_version",
                    "Its version",
                    &versions,
                    previous,
                ));
            }
            let title = if *compare {
                "Compare two agents or versions"
            } else {
                "New playground session"
            };
            Some((title.into(), fields))
        }
        FormPurpose::SaveAsLead { .. } => Some((
            "Save as lead".into(),
            vec![
                Field::line("name", "Name", ""),
                Field::line_with_placeholder("email", "Email", "", "email or phone"),
                Field::line("phone", "Phone", ""),
            ],
        )),
        _ => None,
    }
}

/// Opens one of the playground's forms that need nothing but the purpose
/// (the contact details of "save as lead").
pub(super) fn open_form(purpose: FormPurpose, cx: &mut Cx<'_>) {
    let Some((title, fields)) = form_fields(&purpose, &[], &[]) else {
        return;
    };
    *cx.modal = Some(Modal::Form(Box::new(OpenForm {
        form: Form::new(title, fields, cx.theme),
        purpose,
        pending: None,
    })));
}

/// After an agent choice moved, its version choice lists that agent's.
pub(crate) fn refresh_form(open: &mut OpenForm, offered: &[Agent]) {
    let FormPurpose::NewPlaygroundSession { agents, .. } = &open.purpose else {
        return;
    };
    let form = &mut open.form;
    let version_field = match form.focused().map(|f| f.name) {
        Some("agent_id") => "version",
        Some("compare_id") => "compare_version",
        _ => return,
    };
    let agent = form
        .choice_index(form.focused().map_or("", |f| f.name))
        .and_then(|i| agents.get(i))
        .and_then(|id| offered.iter().find(|a| a.id == *id));
    let options = version_options(agent);
    if let Some(f) = form.fields.iter_mut().find(|f| f.name == version_field) {
        f.kind = FieldKind::Choice {
            options,
            selected: 0,
        };
    }
}

/// Sends a playground form; the bool says whether it stays open.
pub(super) fn submit(
    open: &mut OpenForm,
    offered: &[Agent],
    cx: &mut Cx<'_>,
) -> (Vec<Effect>, bool) {
    let (req, ok, fail, tenant) = match &open.purpose {
        FormPurpose::NewPlaygroundSession {
            tenant,
            agents,
            workspaces,
            compare,
        } => {
            let f = &open.form;
            let pick = |field: &str| {
                f.choice_index(field)
                    .and_then(|i| agents.get(i))
                    .and_then(|id| offered.iter().find(|a| a.id == *id))
            };
            let Some(agent) = pick("agent_id") else {
                return (Vec::new(), true);
            };
            let version = version_at(agent, f.choice_index("version").unwrap_or(0));
            let compare = if *compare {
                pick("compare_id").map(|b| PlaygroundTarget {
                    agent_id: b.id,
                    version: version_at(b, f.choice_index("compare_version").unwrap_or(0)),
                })
            } else {
                None
            };
            let workspace_id = f
                .choice_index("workspace_id")
                .and_then(|i| workspaces.get(i).copied())
                .flatten();
            let new = NewPlaygroundSession {
                agent_id: Some(agent.id),
                version,
                workspace_id,
                compare,
                title: None,
            };
            let ok = format!("Started a session with {}", agent.name);
            let req = Request::CreatePlaygroundSession {
                tenant: tenant.to_string(),
                new,
            };
            (req, ok, "Could not start the session".to_string(), *tenant)
        }
        FormPurpose::SaveAsLead {
            tenant,
            session,
            message,
        } => {
            let f = &open.form;
            let text = |name: &str| {
                let v = f.value(name).trim().to_string();
                (!v.is_empty()).then_some(v)
            };
            let contact = SaveAsLead {
                name: text("name"),
                email: text("email"),
                phone: text("phone"),
            };
            let req = Request::SavePlaygroundLead {
                tenant: tenant.to_string(),
                session: *session,
                message: *message,
                contact,
            };
            (
                req,
                String::new(),
                "Could not save the lead".into(),
                *tenant,
            )
        }
        _ => return (Vec::new(), true),
    };
    let target = match &open.purpose {
        FormPurpose::SaveAsLead { message, .. } => Some(*message),
        _ => None,
    };
    let effects = cx.send_about(req, None, &ok, &fail, Some(tenant), target);
    open.pending = Some(cx.requests.last_id());
    open.form.clear_errors();
    open.form.submitting = true;
    (effects, true)
}

/// Whether `form` belongs to the playground (its save is sent from here).
pub(crate) fn is_playground_form(purpose: &FormPurpose) -> bool {
    matches!(
        purpose,
        FormPurpose::NewPlaygroundSession { .. }
            | FormPurpose::SaveAsLead { .. }
            | FormPurpose::PlaygroundPrompt { .. }
            | FormPurpose::PlaygroundSettings { .. }
    )
}
