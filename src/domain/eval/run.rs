//! Runs of an eval set: what starts one, its lanes (versions), progress,
//! per-lane summary, each case's result, and comparisons of two lanes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::CaseSnapshot;

/// `POST …/evals/{id}/runs`: the agent, its version (default: the current
/// one), and optionally a second version to run beside it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NewEvalRun {
    pub agent_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub version: Option<u32>,
    /// Another version of the same agent to compare with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub against: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EvalRunStatus {
    /// Cases are being run (in the background).
    Running,
    /// Every case ran (some may have failed to; see each result).
    Completed,
    /// Stopped before the end: the server stopped, or failed; `error` says why.
    Failed,
    /// Stopped by a person.
    Cancelled,
}

impl EvalRunStatus {
    pub const ALL: [EvalRunStatus; 4] = [
        EvalRunStatus::Running,
        EvalRunStatus::Completed,
        EvalRunStatus::Failed,
        EvalRunStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EvalRunStatus::Running => "running",
            EvalRunStatus::Completed => "completed",
            EvalRunStatus::Failed => "failed",
            EvalRunStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    pub fn is_finished(self) -> bool {
        self != EvalRunStatus::Running
    }
}

/// One version a run runs the cases against (lane 0; lane 1 when compared).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EvalLane {
    pub version: u32,
    /// `provider/model` of that version.
    pub model: String,
}

/// How far a run is: case results stored, of all it will store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EvalProgress {
    pub done: u32,
    pub total: u32,
}

/// One version's outcome in a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvalLaneSummary {
    pub version: u32,
    /// Cases the run holds.
    pub cases: u32,
    /// Cases whose every expectation held.
    pub passed: u32,
    /// Cases that ran with an expectation failing.
    pub failed: u32,
    /// Cases the model could not answer (see each result's error).
    pub errors: u32,
    /// Cases not run (yet, or ever: a run stopped early).
    pub pending: u32,
    /// `passed / cases`, from 0 to 1.
    pub pass_rate: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvalRun {
    pub id: Uuid,
    pub set_id: Uuid,
    pub set_name: String,
    pub agent_id: Uuid,
    pub agent_name: String,
    /// One version, or two when compared.
    pub lanes: Vec<EvalLane>,
    pub status: EvalRunStatus,
    /// Cases the set held when the run started.
    pub cases: u32,
    pub progress: EvalProgress,
    /// Per lane, in lane order.
    pub summary: Vec<EvalLaneSummary>,
    /// The tenant's draft policy the run applied (categories that get a reply).
    pub draft_categories: Vec<String>,
    pub error: Option<String>,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl EvalRun {
    /// The lane running `version`, if any.
    pub fn lane_of(&self, version: u32) -> Option<u8> {
        self.lanes
            .iter()
            .position(|l| l.version == version)
            .map(|i| i as u8)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    Category,
    Contains,
    NotContains,
    MaxChars,
}

/// One expectation, judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EvalCheck {
    pub kind: CheckKind,
    /// What was expected: the category, the phrase, the length.
    pub expected: String,
    pub passed: bool,
    /// What was found, said for a person.
    pub detail: String,
}

/// One case run against one lane.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvalResult {
    pub case_id: Uuid,
    pub lane: u8,
    pub version: u32,
    pub case: CaseSnapshot,
    /// The drafted reply; empty when the draft policy gives this category none.
    pub reply: String,
    /// Whether a reply was drafted (the tenant's draft policy decides, as in workflows).
    pub drafted: bool,
    /// The category qualification gave; `None` when unreadable or not run.
    pub category: Option<String>,
    pub reason: Option<String>,
    pub checks: Vec<EvalCheck>,
    /// Ran, and every expectation held.
    pub passed: bool,
    /// Why the case could not run (the model failed).
    pub error: Option<String>,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    /// Qualify and draft together, in milliseconds.
    pub latency_ms: u64,
    pub finished_at: DateTime<Utc>,
}

/// A run with every result, and the cases whose outcome differs between its
/// two lanes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvalRunDetail {
    pub run: EvalRun,
    /// By case position, then lane.
    pub results: Vec<EvalResult>,
    /// Cases passed in one lane and not in the other (empty with one lane).
    pub differing: Vec<Uuid>,
}

/// One side of a comparison: a run's first lane.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ComparedLane {
    pub run_id: Uuid,
    pub version: u32,
    pub summary: EvalLaneSummary,
}

/// One case in a comparison; `None` where a side did not run it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ComparedCase {
    pub case_id: Uuid,
    pub position: u32,
    pub message: String,
    pub left: Option<bool>,
    pub right: Option<bool>,
    pub differs: bool,
}

/// Two runs side by side (e.g. this week's version 5 against last week's
/// run of version 3), matched by case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvalComparison {
    pub left: ComparedLane,
    pub right: ComparedLane,
    pub cases: Vec<ComparedCase>,
}
