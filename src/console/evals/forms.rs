//! The Evals screen's forms: a set's name, a case (its message and
//! expectations), a run (an agent and one or two versions), an import's
//! file, and a case added from a lead or a playground message (with the
//! set to add it to). A refused save keeps the form and its draft.

use uuid::Uuid;

use super::{EvalRequest, EvalsView};
use crate::console::app::{FormPurpose, Modal, OpenForm};
use crate::console::component::Cx;
use crate::console::effect::Effect;
use crate::console::keymap::Context;
use crate::console::widgets::form::{Field, Form};
use crate::domain::eval::{
    Category, EvalCase, EvalCasePatch, EvalExpectations, EvalLead, EvalSet, EvalSetPatch,
    NewEvalCase, NewEvalRun, NewEvalSet, Phrase, PlaygroundMessageRef,
};
use crate::domain::Agent;

/// Rows the case's message shows in the form.
const MESSAGE_ROWS: u16 = 5;
/// What the category choice offers; the first expects none.
const CATEGORIES: [&str; 6] = ["any", "hot", "warm", "cold", "spam", "support"];

/// Where a case added with `E` comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseFrom {
    Lead {
        tenant: Uuid,
        lead: Uuid,
        name: String,
        message: String,
    },
    Playground {
        tenant: Uuid,
        at: PlaygroundMessageRef,
        message: String,
    },
}

impl CaseFrom {
    pub fn tenant(&self) -> Uuid {
        match self {
            CaseFrom::Lead { tenant, .. } | CaseFrom::Playground { tenant, .. } => *tenant,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            CaseFrom::Lead { message, .. } | CaseFrom::Playground { message, .. } => message,
        }
    }
}

pub(crate) fn is_eval_form(p: &FormPurpose) -> bool {
    matches!(
        p,
        FormPurpose::EvalSet { .. }
            | FormPurpose::EvalCase { .. }
            | FormPurpose::EvalCaseFrom { .. }
            | FormPurpose::EvalRun { .. }
            | FormPurpose::EvalImport { .. }
    )
}

fn show(title: impl Into<String>, fields: Vec<Field>, purpose: FormPurpose, cx: &mut Cx<'_>) {
    *cx.modal = Some(Modal::Form(Box::new(OpenForm {
        form: Form::new(title, fields, cx.theme),
        purpose,
        pending: None,
    })));
}

pub(super) fn open_set_form(tenant: Uuid, set: Option<&EvalSet>, cx: &mut Cx<'_>) {
    let (title, name, description) = match set {
        None => ("New eval set".to_string(), "", ""),
        Some(s) => (
            format!("Rename \"{}\"", crate::console::sanitize::clean(&s.name)),
            s.name.as_str(),
            s.description.as_str(),
        ),
    };
    let fields = vec![
        Field::line("name", "Name", name),
        Field::line("description", "Description", description),
    ];
    let purpose = FormPurpose::EvalSet {
        tenant,
        set: set.map(|s| s.id),
    };
    show(title, fields, purpose, cx);
}

fn phrases(list: &[Phrase]) -> String {
    list.iter()
        .map(|p| p.0.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The expectation fields, prefilled from `expect`.
fn expectation_fields(expect: &EvalExpectations) -> Vec<Field> {
    let category = expect.category.map_or("any", Category::as_str);
    vec![
        Field::choice("category", "Expected category", &CATEGORIES, category),
        Field::line(
            "must_contain",
            "Must contain (a; b)",
            &phrases(&expect.must_contain),
        ),
        Field::line(
            "must_not_contain",
            "Must not contain (a; b)",
            &phrases(&expect.must_not_contain),
        ),
        Field::line(
            "max_chars",
            "Longest reply (chars)",
            &expect.max_chars.map(|n| n.to_string()).unwrap_or_default(),
        ),
    ]
}

pub(super) fn open_case_form(tenant: Uuid, set: Uuid, case: Option<&EvalCase>, cx: &mut Cx<'_>) {
    let (title, message, name, expect) = match case {
        None => ("New case".to_string(), "", "", EvalExpectations::default()),
        Some(c) => (
            format!("Edit case #{}", c.position),
            c.message.as_str(),
            c.lead.name.as_deref().unwrap_or(""),
            c.expect.clone(),
        ),
    };
    let mut fields = vec![
        Field::tall("message", "The lead's message", message, MESSAGE_ROWS),
        Field::line("lead_name", "Lead's name (optional)", name),
    ];
    fields.extend(expectation_fields(&expect));
    let purpose = FormPurpose::EvalCase {
        tenant,
        set,
        case: case.map(|c| c.id),
    };
    show(title, fields, purpose, cx);
}

pub(super) fn open_import_form(tenant: Uuid, set: Uuid, cx: &mut Cx<'_>) {
    let fields = vec![Field::line("path", "File (.csv or .json)", "")];
    show(
        "Import cases",
        fields,
        FormPurpose::EvalImport { tenant, set },
        cx,
    );
}

/// The run form, once the agents are known.
pub(super) fn open_run_form(tenant: Uuid, set: Uuid, agents: &[Agent], cx: &mut Cx<'_>) {
    let names: Vec<String> = agents
        .iter()
        .map(|a| format!("{} (v{})", a.name, a.version))
        .collect();
    let options: Vec<&str> = names.iter().map(String::as_str).collect();
    let initial = options.first().copied().unwrap_or("");
    let fields = vec![
        Field::choice("agent", "Agent", &options, initial),
        Field::line("version", "Version A (blank: current)", ""),
        Field::line("against", "Version B (optional)", ""),
    ];
    let purpose = FormPurpose::EvalRun {
        tenant,
        set,
        agents: agents.iter().map(|a| a.id).collect(),
    };
    show("Run the set", fields, purpose, cx);
}

/// The "add to an eval set" form, once the sets are known.
pub(super) fn open_add_form(from: CaseFrom, sets: &[EvalSet], cx: &mut Cx<'_>) {
    let options: Vec<&str> = sets.iter().map(|s| s.name.as_str()).collect();
    let initial = options.first().copied().unwrap_or("");
    let mut fields = vec![
        Field::choice("set", "Add to the set", &options, initial),
        Field::tall(
            "message",
            "The lead's message",
            from.message(),
            MESSAGE_ROWS,
        ),
    ];
    fields.extend(expectation_fields(&EvalExpectations::default()));
    let purpose = FormPurpose::EvalCaseFrom {
        sets: sets.iter().map(|s| s.id).collect(),
        from,
    };
    show("Add to an eval set", fields, purpose, cx);
}

fn split_phrases(text: &str) -> Vec<Phrase> {
    text.split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| Phrase(p.to_string()))
        .collect()
}

/// The expectations typed in the form, or the field that is wrong.
fn expectations(form: &mut Form, cx: &Cx<'_>) -> Option<EvalExpectations> {
    let category = Category::parse(&form.value("category"));
    let max = form.value("max_chars");
    let max_chars = match max.trim() {
        "" => None,
        n => match n.parse::<u32>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                form.set_error(
                    "max_chars",
                    "a whole number of characters, or blank",
                    cx.theme,
                );
                return None;
            }
        },
    };
    Some(EvalExpectations {
        category,
        must_contain: split_phrases(&form.value("must_contain")),
        must_not_contain: split_phrases(&form.value("must_not_contain")),
        max_chars,
    })
}

fn version(form: &mut Form, name: &str, cx: &Cx<'_>) -> Result<Option<u32>, ()> {
    let text = form.value(name);
    let text = text.trim().trim_start_matches(['v', 'V']);
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<u32>() {
        Ok(n) if n > 0 => Ok(Some(n)),
        _ => {
            form.set_error(name, "a version number such as 3, or blank", cx.theme);
            Err(())
        }
    }
}

impl EvalsView {
    /// Save in one of the forms: checks what can be checked here, sends.
    pub(crate) fn submit(&mut self, open: &mut OpenForm, cx: &mut Cx<'_>) -> (Vec<Effect>, bool) {
        open.form.clear_errors();
        let built = match open.purpose.clone() {
            FormPurpose::EvalSet { tenant, set } => self.set_request(open, tenant, set, cx),
            FormPurpose::EvalCase { tenant, set, case } => {
                self.case_request(open, tenant, set, case, cx)
            }
            FormPurpose::EvalCaseFrom { sets, from } => {
                self.added_case_request(open, &sets, from, cx)
            }
            FormPurpose::EvalRun {
                tenant,
                set,
                agents,
            } => self.run_request(open, tenant, set, &agents, cx),
            FormPurpose::EvalImport { tenant, set } => {
                let path = open.form.value("path").trim().to_string();
                if path.is_empty() {
                    open.form
                        .set_error("path", "the file to read the cases from", cx.theme);
                    None
                } else {
                    let req = EvalRequest::Import {
                        tenant: tenant.to_string(),
                        set,
                        path: path.clone(),
                    };
                    Some((
                        req,
                        String::new(),
                        format!("Could not import {path}"),
                        Some(set),
                    ))
                }
            }
            _ => None,
        };
        let Some((req, ok, fail, target)) = built else {
            return (Vec::new(), true);
        };
        let tenant = match &open.purpose {
            FormPurpose::EvalSet { tenant, .. }
            | FormPurpose::EvalCase { tenant, .. }
            | FormPurpose::EvalRun { tenant, .. }
            | FormPurpose::EvalImport { tenant, .. } => Some(*tenant),
            FormPurpose::EvalCaseFrom { from, .. } => Some(from.tenant()),
            _ => None,
        };
        let effects = cx.send_about(
            crate::console::effect::Request::Eval(req),
            None,
            &ok,
            &fail,
            tenant,
            target,
        );
        open.pending = Some(cx.requests.last_id());
        open.form.submitting = true;
        (effects, true)
    }

    fn set_request(
        &self,
        open: &mut OpenForm,
        tenant: Uuid,
        set: Option<Uuid>,
        cx: &mut Cx<'_>,
    ) -> Option<(EvalRequest, String, String, Option<Uuid>)> {
        let name = open.form.value("name").trim().to_string();
        let description = open.form.value("description").trim().to_string();
        if name.is_empty() {
            open.form
                .set_error("name", "needed: what the set tests", cx.theme);
            return None;
        }
        let t = tenant.to_string();
        Some(match set {
            None => (
                EvalRequest::CreateSet {
                    tenant: t,
                    new: NewEvalSet {
                        name: name.clone(),
                        description: (!description.is_empty()).then_some(description),
                        cases: Vec::new(),
                    },
                },
                format!("Created the eval set \"{name}\""),
                "Could not create the eval set".into(),
                None,
            ),
            Some(id) => (
                EvalRequest::UpdateSet {
                    tenant: t,
                    set: id,
                    patch: EvalSetPatch {
                        name: Some(name.clone()),
                        description: Some(description),
                    },
                },
                format!("Saved the eval set \"{name}\""),
                "Could not save the eval set".into(),
                Some(id),
            ),
        })
    }

    fn case_request(
        &self,
        open: &mut OpenForm,
        tenant: Uuid,
        set: Uuid,
        case: Option<Uuid>,
        cx: &mut Cx<'_>,
    ) -> Option<(EvalRequest, String, String, Option<Uuid>)> {
        let message = open.form.value("message");
        if message.trim().is_empty() {
            open.form
                .set_error("message", "write what the lead says", cx.theme);
            return None;
        }
        let expect = expectations(&mut open.form, cx)?;
        let name = open.form.value("lead_name").trim().to_string();
        let lead = EvalLead {
            name: (!name.is_empty()).then_some(name),
            ..EvalLead::default()
        };
        let t = tenant.to_string();
        Some(match case {
            None => (
                EvalRequest::AddCase {
                    tenant: t,
                    set,
                    new: NewEvalCase {
                        message: Some(message),
                        lead: Some(lead),
                        expect,
                        ..NewEvalCase::default()
                    },
                },
                "Added the case".into(),
                "Could not add the case".into(),
                Some(set),
            ),
            Some(id) => (
                EvalRequest::UpdateCase {
                    tenant: t,
                    set,
                    case: id,
                    patch: EvalCasePatch {
                        message: Some(message),
                        lead: Some(lead),
                        expect: Some(expect),
                    },
                },
                "Saved the case".into(),
                "Could not save the case".into(),
                Some(set),
            ),
        })
    }

    /// A case from a lead or a playground message: unchanged, the server
    /// copies the message and the lead's fields and remembers where it
    /// came from; edited, it is sent as written.
    fn added_case_request(
        &self,
        open: &mut OpenForm,
        sets: &[Uuid],
        from: CaseFrom,
        cx: &mut Cx<'_>,
    ) -> Option<(EvalRequest, String, String, Option<Uuid>)> {
        let Some(set) = open.form.choice_index("set").and_then(|i| sets.get(i)) else {
            let new = cx.keymap.key_label(Context::EvalSets, "new");
            let why = format!("create a set first (:evals, then {new})");
            open.form.set_error("set", why, cx.theme);
            return None;
        };
        let set = *set;
        let message = open.form.value("message");
        if message.trim().is_empty() {
            open.form
                .set_error("message", "write what the lead says", cx.theme);
            return None;
        }
        let expect = expectations(&mut open.form, cx)?;
        let edited = message != from.message();
        let mut new = NewEvalCase {
            expect,
            ..NewEvalCase::default()
        };
        match (&from, edited) {
            (_, true) => {
                new.message = Some(message);
                if let CaseFrom::Lead { name, .. } = &from {
                    new.lead = Some(EvalLead {
                        name: Some(name.clone()),
                        ..EvalLead::default()
                    });
                }
            }
            (CaseFrom::Lead { lead, .. }, false) => new.from_lead = Some(*lead),
            (CaseFrom::Playground { at, .. }, false) => new.from_playground = Some(*at),
        }
        let set_name = open.form.value("set");
        let req = EvalRequest::AddCase {
            tenant: from.tenant().to_string(),
            set,
            new,
        };
        Some((
            req,
            format!("Added a case to \"{set_name}\""),
            format!("Could not add the case to \"{set_name}\""),
            Some(set),
        ))
    }

    fn run_request(
        &self,
        open: &mut OpenForm,
        tenant: Uuid,
        set: Uuid,
        agents: &[Uuid],
        cx: &mut Cx<'_>,
    ) -> Option<(EvalRequest, String, String, Option<Uuid>)> {
        let Some(agent) = open.form.choice_index("agent").and_then(|i| agents.get(i)) else {
            open.form
                .set_error("agent", "the tenant has no agent to run", cx.theme);
            return None;
        };
        let agent_id = *agent;
        let a = version(&mut open.form, "version", cx);
        let b = version(&mut open.form, "against", cx);
        let (Ok(version), Ok(against)) = (a, b) else {
            return None;
        };
        let req = EvalRequest::StartRun {
            tenant: tenant.to_string(),
            set,
            new: NewEvalRun {
                agent_id,
                version,
                against,
            },
        };
        Some((
            req,
            "Started the run".into(),
            "Could not start the run".into(),
            Some(set),
        ))
    }

    /// `E` on a lead or in the playground: the sets are read for the form.
    pub(crate) fn add_from(&mut self, from: CaseFrom, cx: &mut Cx<'_>) -> Vec<Effect> {
        let tenant = from.tenant();
        self.adding = Some(from);
        let req = EvalRequest::Sets {
            tenant: tenant.to_string(),
        };
        cx.send_about(
            crate::console::effect::Request::Eval(req),
            Some(crate::console::state::Slot::EvalPick),
            "",
            "Could not load the eval sets",
            Some(tenant),
            None,
        )
    }
}
