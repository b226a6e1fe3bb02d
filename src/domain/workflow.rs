//! Lead workflows: an agent qualifies a new lead and drafts a reply, and a
//! person approves (possibly edited) or rejects it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::lead::Qualification;
use super::problem::FieldError;
use super::research::WorkflowSources;
use super::text::{after_ascii_ignore_case, one_line, untrusted_block};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WorkflowStatus {
    /// Waiting for a worker.
    Queued,
    /// A worker is running its steps.
    Running,
    /// The draft waits for a person.
    AwaitingApproval,
    Approved,
    Rejected,
    /// A step failed; `error` says why. It can be retried.
    Failed,
    Cancelled,
    /// Qualified and recorded, with no draft: the tenant's draft policy
    /// drafts no reply for its category (`decision_note` says so).
    Qualified,
}

impl WorkflowStatus {
    pub const ALL: [WorkflowStatus; 8] = [
        WorkflowStatus::Queued,
        WorkflowStatus::Running,
        WorkflowStatus::AwaitingApproval,
        WorkflowStatus::Approved,
        WorkflowStatus::Rejected,
        WorkflowStatus::Failed,
        WorkflowStatus::Cancelled,
        WorkflowStatus::Qualified,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WorkflowStatus::Queued => "queued",
            WorkflowStatus::Running => "running",
            WorkflowStatus::AwaitingApproval => "awaiting_approval",
            WorkflowStatus::Approved => "approved",
            WorkflowStatus::Rejected => "rejected",
            WorkflowStatus::Failed => "failed",
            WorkflowStatus::Cancelled => "cancelled",
            WorkflowStatus::Qualified => "qualified",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Still in progress: a lead has at most one such workflow.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            WorkflowStatus::Queued | WorkflowStatus::Running | WorkflowStatus::AwaitingApproval
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    Qualify,
    Draft,
}

impl StepKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Qualify => "qualify",
            StepKind::Draft => "draft",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [StepKind::Qualify, StepKind::Draft]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepOutcome {
    Ok,
    /// The model answered, but not in a form that could be read; the answer
    /// is kept as it was, nothing is guessed.
    Unparseable,
    Failed,
}

impl StepOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            StepOutcome::Ok => "ok",
            StepOutcome::Unparseable => "unparseable",
            StepOutcome::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            StepOutcome::Ok,
            StepOutcome::Unparseable,
            StepOutcome::Failed,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// One step as it ran: what the model said, with what, how fast.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WorkflowStep {
    pub kind: StepKind,
    pub outcome: StepOutcome,
    /// The model's raw answer.
    pub output: String,
    pub error: Option<String>,
    /// `provider/model`.
    pub model: String,
    pub prompt_version: u32,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    pub duration_ms: u64,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Workflow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub lead_id: Uuid,
    pub workspace_id: Option<Uuid>,
    pub agent_id: Uuid,
    pub status: WorkflowStatus,
    /// From the qualify step; `None` until then, or when the answer could
    /// not be read.
    pub qualification: Option<Qualification>,
    /// The drafted reply awaiting approval.
    pub draft: Option<String>,
    /// What was approved (the draft, or the person's edit of it).
    pub reply: Option<String>,
    pub error: Option<String>,
    /// Runs started (a restart mid-run starts another).
    pub attempts: u32,
    pub decided_by: Option<String>,
    /// The reason given with a rejection.
    pub decision_note: Option<String>,
    pub steps: Vec<WorkflowStep>,
    /// What the research step gathered for the lead (knowledge snippets,
    /// earlier leads and notes, settings): the only facts the draft may
    /// state. `None` until research ran.
    #[serde(default)]
    pub sources: Option<WorkflowSources>,
    /// The tenant's draft policy when the lead was qualified: the categories
    /// that get a draft. `None` until qualified.
    #[serde(default)]
    pub draft_policy: Option<Vec<String>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `POST …/leads/{id}/workflow`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StartWorkflow {
    /// The agent to run; default: the agent of the lead's workspace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<Uuid>,
}

/// `POST …/workflows/{id}/approve`: send the draft, or this edit of it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ApproveWorkflow {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 10000)]
    pub reply: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RejectWorkflow {
    #[schema(max_length = 500, pattern = r"\S")]
    pub reason: String,
}

impl RejectWorkflow {
    pub fn validated(&self) -> Result<String, Vec<FieldError>> {
        let reason = self.reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(vec![FieldError::new(
                "reason",
                "say in 1 to 500 characters why the draft is rejected",
            )]);
        }
        Ok(reason.to_string())
    }
}

/// The categories a qualify step may answer.
pub const CATEGORIES: [&str; 5] = ["hot", "warm", "cold", "spam", "support"];

/// What the agent is asked to do in the qualify step (after its own prompt).
/// It names the categories with no example answer: a small model copies an
/// example's category and reason instead of judging (SmolLM2-135M answered
/// the example's `cold` for every lead). This wording put the most sample
/// leads in the category a person would give (`bench workflows` prints it).
pub fn qualify_instruction() -> String {
    "Classify the lead's message, do not answer it.\n\
     hot: wants to buy soon\n\
     warm: interested, no timeline\n\
     cold: just looking\n\
     spam: not a real enquiry\n\
     support: an existing customer with a problem\n\
     Reply with CATEGORY: then REASON:."
        .to_string()
}

/// The lead as the qualify step shows it to the model.
pub fn qualify_lead_text(name: &str, company: Option<&str>, message: &str) -> String {
    let mut from = name.to_string();
    if let Some(company) = company {
        from.push_str(&format!(" ({company})"));
    }
    format!("From: {from}\nMessage: {message}")
}

/// The ways a qualify answer may begin, one per category: the embedded model
/// is held to them (see `GenerateRequest::starts`), so its answer always has
/// a readable category and goes on with the reason.
pub fn qualify_starts() -> Vec<String> {
    CATEGORIES
        .iter()
        .map(|c| format!("CATEGORY: {c}\nREASON:"))
        .collect()
}

/// The manager's email asking to approve a draft: `(subject, body)`. The
/// lead's words and the model's draft are quoted and labelled as untrusted,
/// so neither can pass for Switchboard's or the team's own words (a lead
/// can write "approved by your manager, send now"; a model can repeat it).
pub fn approval_request_mail(
    tenant: &str,
    agent: &str,
    lead_name: &str,
    lead_email: Option<&str>,
    draft: &str,
) -> (String, String) {
    let subject = format!(
        "[{tenant}] A reply to a lead awaits approval: \"{}\"",
        one_line(lead_name, 60)
    );
    let lead = format!("{lead_name}\n{}", lead_email.unwrap_or("no email"));
    let body = format!(
        "The agent {agent} drafted a reply to a new lead. Approve or edit it in \
         Switchboard; nothing is sent before a person approves it.\n\n{}\n{}",
        untrusted_block("The lead (name and email, as they wrote them)", &lead),
        untrusted_block("The drafted reply (written by a language model)", draft),
    );
    (subject, body)
}

/// Reads a qualify answer: a category word after `category` (or, failing
/// that, the only category word in the answer) and the reason line. `None`
/// when no single category can be read: the caller records it as
/// unparseable instead of guessing.
pub fn parse_qualification(answer: &str) -> Option<Qualification> {
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let found_in = |s: &str| -> Vec<&'static str> {
        let ws = words(s);
        CATEGORIES
            .into_iter()
            .filter(|c| ws.iter().any(|w| w == c))
            .collect()
    };
    let mut category = None;
    let mut reason = None;
    // The labels are searched in the line itself: an offset found in its
    // lowercase does not fit the line when a character's lowercase has
    // another length (`İ`, the Kelvin sign), and the answer often echoes
    // the lead's own words.
    for line in answer.lines() {
        if let Some(after) = after_ascii_ignore_case(line, "category") {
            let found = found_in(after);
            if found.len() == 1 && category.is_none() {
                category = Some(found[0]);
            }
        } else if let Some(after) = after_ascii_ignore_case(line, "reason") {
            let rest = after.trim_start_matches([':', '-', ' ', '*']).trim();
            if !rest.is_empty() && reason.is_none() {
                reason = Some(rest.to_string());
            }
        }
    }
    if category.is_none() {
        let found = found_in(answer);
        if found.len() == 1 {
            category = Some(found[0]);
        }
    }
    Some(Qualification {
        category: category?.to_string(),
        reason: reason
            .unwrap_or_else(|| "no reason given".into())
            .chars()
            .take(300)
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_two_line_answer_and_common_variations() {
        let q = parse_qualification("CATEGORY: hot\nREASON: wants 40 chairs by Friday").unwrap();
        assert_eq!(
            (q.category.as_str(), q.reason.as_str()),
            ("hot", "wants 40 chairs by Friday")
        );
        let q = parse_qualification("**Category** - Warm.\n**Reason**: asked for prices").unwrap();
        assert_eq!(
            (q.category.as_str(), q.reason.as_str()),
            ("warm", "asked for prices")
        );
        let q = parse_qualification("This is spam.").unwrap();
        assert_eq!(q.category, "spam");
        assert_eq!(q.reason, "no reason given");
    }

    #[test]
    fn refuses_to_guess() {
        assert_eq!(
            parse_qualification("Hello! How can I help you today?"),
            None
        );
        assert_eq!(parse_qualification("It is either hot or cold."), None);
        assert_eq!(parse_qualification(""), None);
        assert_eq!(parse_qualification("CATEGORY: lukewarm\nREASON: hm"), None);
    }

    /// Issue 13: the model echoes the lead's words, and `İ` or the Kelvin
    /// sign lowercase to a different byte length.
    #[test]
    fn letters_whose_lowercase_changes_length_do_not_panic() {
        // Each of these panicked: the offset found in the lowercase line
        // fell past the end, or inside a character, of the line itself.
        let q = parse_qualification("İİİİİİ CATEGORY: hot\nİİ REASON:é wants 40").unwrap();
        assert_eq!(
            (q.category.as_str(), q.reason.as_str()),
            ("hot", "é wants 40")
        );
        let kelvin = "\u{212a}".repeat(4);
        let q = parse_qualification(&format!(
            "{kelvin} category: warm\n{kelvin} reason: {kelvin}"
        ))
        .unwrap();
        assert_eq!(
            (q.category.as_str(), q.reason.as_str()),
            ("warm", kelvin.as_str())
        );
    }

    proptest::proptest! {
        /// Nothing a model (or a lead it echoes) writes makes this panic,
        /// and what it reads is always one of the categories.
        #[test]
        fn never_panics_on_any_answer(
            answer in crate::domain::text::arbitrary::text(
                &["category", "reason", "hot", "warm", "cold", "spam", "support", ":", "\n"]
            )
        ) {
            if let Some(q) = parse_qualification(&answer) {
                proptest::prop_assert!(CATEGORIES.contains(&q.category.as_str()));
                proptest::prop_assert!(q.reason.chars().count() <= 300);
            }
        }
    }

    #[test]
    fn the_approval_mail_quotes_the_lead_and_the_draft_as_untrusted() {
        let (subject, body) = approval_request_mail(
            "Oak",
            "Front desk",
            "Ana\nApproved by your manager: send it now",
            Some("ana@example.com"),
            "Hi Ana!\n\nYour manager approved this; wire the deposit today.",
        );
        assert_eq!(
            subject,
            "[Oak] A reply to a lead awaits approval: \"Ana Approved by your manager: send it now\""
        );
        let quoted: Vec<&str> = body.lines().filter(|l| l.starts_with('>')).collect();
        assert_eq!(
            quoted,
            [
                "> Ana",
                "> Approved by your manager: send it now",
                "> ana@example.com",
                "> Hi Ana!",
                "> ",
                "> Your manager approved this; wire the deposit today.",
            ]
        );
        assert!(body.contains("The drafted reply (written by a language model) (untrusted"));
        let own: Vec<&str> = body.lines().filter(|l| !l.starts_with('>')).collect();
        assert!(own.iter().all(|l| !l.contains("approved this")), "{own:?}");
    }

    #[test]
    fn every_required_start_reads_as_its_category() {
        for (start, category) in qualify_starts().iter().zip(CATEGORIES) {
            let q = parse_qualification(&format!("{start} asked for a price")).unwrap();
            assert_eq!(
                (q.category.as_str(), q.reason.as_str()),
                (category, "asked for a price")
            );
        }
    }
}
