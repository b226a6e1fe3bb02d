//! The Evals screen's API calls, their replies, and how to perform them.
//! An import reads its file in the request task, never in the UI loop.

use uuid::Uuid;

use crate::api::{ApiError, ApiResult, Client};
use crate::domain::eval::{
    EvalCase, EvalCasePatch, EvalComparison, EvalImport, EvalImportReport, EvalRun, EvalRunDetail,
    EvalSet, EvalSetDetail, EvalSetPatch, NewEvalCase, NewEvalRun, NewEvalSet,
};
use crate::domain::Agent;

/// Tenants are addressed by id (it survives a slug change).
#[derive(Debug, Clone, PartialEq)]
pub enum EvalRequest {
    Sets {
        tenant: String,
    },
    CreateSet {
        tenant: String,
        new: NewEvalSet,
    },
    UpdateSet {
        tenant: String,
        set: Uuid,
        patch: EvalSetPatch,
    },
    DeleteSet {
        tenant: String,
        set: Uuid,
    },
    /// A set with its cases.
    Set {
        tenant: String,
        set: Uuid,
    },
    AddCase {
        tenant: String,
        set: Uuid,
        new: NewEvalCase,
    },
    UpdateCase {
        tenant: String,
        set: Uuid,
        case: Uuid,
        patch: EvalCasePatch,
    },
    DeleteCase {
        tenant: String,
        set: Uuid,
        case: Uuid,
    },
    /// Reads `path` (CSV, or JSON `{"cases": […]}` / `[…]`) and imports it.
    Import {
        tenant: String,
        set: Uuid,
        path: String,
    },
    Runs {
        tenant: String,
        set: Uuid,
    },
    StartRun {
        tenant: String,
        set: Uuid,
        new: NewEvalRun,
    },
    Run {
        tenant: String,
        set: Uuid,
        run: Uuid,
    },
    CancelRun {
        tenant: String,
        set: Uuid,
        run: Uuid,
    },
    Compare {
        tenant: String,
        set: Uuid,
        run: Uuid,
        other: Uuid,
    },
    /// The agents a run may use, for the run form's picker.
    Agents {
        tenant: String,
    },
}

#[derive(Debug, Clone)]
pub enum EvalResponse {
    Sets(ApiResult<Vec<EvalSet>>),
    SetCreated(ApiResult<EvalSetDetail>),
    SetUpdated(ApiResult<EvalSet>),
    SetDeleted(ApiResult<()>),
    Set(ApiResult<EvalSetDetail>),
    CaseSaved(ApiResult<EvalCase>),
    CaseDeleted(ApiResult<()>),
    Imported(ApiResult<EvalImportReport>),
    Runs(ApiResult<Vec<EvalRun>>),
    RunStarted(ApiResult<EvalRun>),
    Run(ApiResult<EvalRunDetail>),
    RunCancelled(ApiResult<EvalRun>),
    Compared(ApiResult<EvalComparison>),
    Agents(ApiResult<Vec<Agent>>),
}

impl EvalResponse {
    pub fn error(&self) -> Option<&ApiError> {
        use EvalResponse as A;
        match self {
            A::Sets(r) => r.as_ref().err(),
            A::SetCreated(r) | A::Set(r) => r.as_ref().err(),
            A::SetUpdated(r) => r.as_ref().err(),
            A::SetDeleted(r) | A::CaseDeleted(r) => r.as_ref().err(),
            A::CaseSaved(r) => r.as_ref().err(),
            A::Imported(r) => r.as_ref().err(),
            A::Runs(r) => r.as_ref().err(),
            A::RunStarted(r) | A::RunCancelled(r) => r.as_ref().err(),
            A::Run(r) => r.as_ref().err(),
            A::Compared(r) => r.as_ref().err(),
            A::Agents(r) => r.as_ref().err(),
        }
    }
}

/// What an import file holds, by its extension (`.json` is JSON, anything
/// else is sent as CSV for the server to judge row by row).
#[derive(Debug, Clone, PartialEq)]
pub enum ImportBody {
    Csv(String),
    Json(EvalImport),
}

/// Reads an import file. A JSON file is `{"cases": […]}` or a bare list.
pub fn read_import(path: &str) -> Result<ImportBody, String> {
    let full = crate::console::knowledge::import::expand_home(path);
    let text = std::fs::read_to_string(&full)
        .map_err(|e| format!("could not read {}: {e}", full.display()))?;
    let is_json = full
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if !is_json {
        return Ok(ImportBody::Csv(text));
    }
    if let Ok(import) = serde_json::from_str::<EvalImport>(&text) {
        return Ok(ImportBody::Json(import));
    }
    serde_json::from_str(&text)
        .map(|cases| ImportBody::Json(EvalImport { cases }))
        .map_err(|e| format!("{} is not a list of cases: {e}", full.display()))
}

/// Performs one request. Runs in a spawned task, never in the UI loop.
pub async fn execute(client: &Client, req: EvalRequest) -> EvalResponse {
    use EvalRequest as R;
    use EvalResponse as A;
    match req {
        R::Sets { tenant } => A::Sets(client.eval_sets(&tenant).await),
        R::CreateSet { tenant, new } => A::SetCreated(client.create_eval_set(&tenant, &new).await),
        R::UpdateSet { tenant, set, patch } => {
            A::SetUpdated(client.update_eval_set(&tenant, set, &patch).await)
        }
        R::DeleteSet { tenant, set } => A::SetDeleted(client.delete_eval_set(&tenant, set).await),
        R::Set { tenant, set } => A::Set(client.eval_set(&tenant, set).await),
        R::AddCase { tenant, set, new } => {
            A::CaseSaved(client.add_eval_case(&tenant, set, &new).await)
        }
        R::UpdateCase {
            tenant,
            set,
            case,
            patch,
        } => A::CaseSaved(client.update_eval_case(&tenant, set, case, &patch).await),
        R::DeleteCase { tenant, set, case } => {
            A::CaseDeleted(client.delete_eval_case(&tenant, set, case).await)
        }
        R::Import { tenant, set, path } => {
            let body = tokio::task::spawn_blocking(move || read_import(&path)).await;
            let body = match body {
                Ok(Ok(b)) => b,
                Ok(Err(msg)) => return A::Imported(Err(ApiError::Local(msg))),
                Err(e) => {
                    return A::Imported(Err(ApiError::Local(format!(
                        "could not read the file: {e}"
                    ))))
                }
            };
            A::Imported(match body {
                ImportBody::Csv(csv) => client.import_eval_csv(&tenant, set, csv).await,
                ImportBody::Json(json) => client.import_eval_json(&tenant, set, &json).await,
            })
        }
        R::Runs { tenant, set } => A::Runs(client.eval_runs(&tenant, set).await),
        R::StartRun { tenant, set, new } => {
            A::RunStarted(client.start_eval_run(&tenant, set, &new).await)
        }
        R::Run { tenant, set, run } => A::Run(client.eval_run(&tenant, set, run).await),
        R::CancelRun { tenant, set, run } => {
            A::RunCancelled(client.cancel_eval_run(&tenant, set, run).await)
        }
        R::Compare {
            tenant,
            set,
            run,
            other,
        } => A::Compared(client.compare_eval_runs(&tenant, set, run, other).await),
        R::Agents { tenant } => A::Agents(client.list_agents(&tenant).await),
    }
}
