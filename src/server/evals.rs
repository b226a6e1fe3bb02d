//! Prompt evaluations over HTTP: eval sets and their cases (written,
//! imported from CSV or JSON, or made from a lead or a playground message),
//! and runs of a set against one or two versions of an agent, kept and
//! compared. Runs execute in `eval_runner`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use uuid::Uuid;

use super::access::{Access, Need};
use super::error::{ApiError, ApiResult};
use super::eval_runner::{self, EvalJob, Lane, LEASE};
use super::extract::{json_content_type, json_object, Json, Path, Session};
use super::leads::LeadScope;
use super::AppState;
use crate::domain::eval::{
    compare as compare_runs, differing, parse_csv, CaseOrigin, CaseSource, EvalCase, EvalCaseInput,
    EvalCasePatch, EvalComparison, EvalImport, EvalImportReport, EvalLane, EvalLead, EvalRun,
    EvalRunDetail, EvalSet, EvalSetDetail, EvalSetPatch, NewEvalCase, NewEvalRun, NewEvalSet,
    PlaygroundMessageRef,
};
use crate::domain::{Permission, PlaygroundRole, Problem};
use crate::store::{CaseRow, NewEvalRunRow};

const VIEW: Need = Need::Permission(Permission::EvalsView);
const MANAGE: Need = Need::Permission(Permission::EvalsManage);
const RUN: Need = Need::Permission(Permission::EvalsRun);

async fn set_of(state: &AppState, access: &Access, id: Uuid) -> ApiResult<EvalSet> {
    state
        .store
        .eval_set(access.tenant.id, id)
        .await?
        .ok_or(ApiError::NotFound)
}

async fn run_of(state: &AppState, access: &Access, set: Uuid, run: Uuid) -> ApiResult<EvalRun> {
    state
        .store
        .eval_run(access.tenant.id, set, run)
        .await?
        .ok_or(ApiError::NotFound)
}

fn written(cases: Vec<EvalCaseInput>) -> Vec<CaseRow> {
    cases
        .into_iter()
        .map(|case| CaseRow { case, source: None })
        .collect()
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/evals", tag = "evals",
    params(("tenant" = String, Path, description = "tenant id or slug")),
    responses((status = 200, body = Vec<EvalSet>, description = "the tenant's eval sets, by name"),
        (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_sets(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
) -> ApiResult<Json<Vec<EvalSet>>> {
    let access = session.tenant(&state, &tenant, VIEW).await?;
    Ok(Json(state.store.list_eval_sets(access.tenant.id).await?))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/evals", tag = "evals",
    params(("tenant" = String, Path, description = "tenant id or slug")),
    request_body = NewEvalSet,
    responses((status = 201, body = EvalSetDetail), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "the name is taken, or the tenant keeps 100 sets already"),
        (status = 413, body = Problem, description = "the request is over 256 KiB"),
        (status = 422, body = Problem, description = "a name, description or case that breaks the limits; each field named")),
    security(("bearer" = [])))]
pub async fn create_set(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
    Json(new): Json<NewEvalSet>,
) -> ApiResult<(StatusCode, Json<EvalSetDetail>)> {
    let access = session.tenant_for_change(&state, &tenant, MANAGE).await?;
    let (set, cases) = new.validated().map_err(ApiError::invalid)?;
    let (t, now) = (access.tenant.id, state.clock.now());
    let set = state
        .store
        .create_eval_set(&access.actor, t, set, written(cases), now)
        .await?;
    let cases = state.store.eval_cases(t, set.id).await?;
    Ok((StatusCode::CREATED, Json(EvalSetDetail { set, cases })))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/evals/{id}", tag = "evals",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    responses((status = 200, body = EvalSetDetail, description = "the set and its cases, in order"),
        (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get_set(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
) -> ApiResult<Json<EvalSetDetail>> {
    let access = session.tenant(&state, &tenant, VIEW).await?;
    let set = set_of(&state, &access, id).await?;
    let cases = state.store.eval_cases(access.tenant.id, id).await?;
    Ok(Json(EvalSetDetail { set, cases }))
}

#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}/evals/{id}", tag = "evals",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    request_body = EvalSetPatch,
    responses((status = 200, body = EvalSet), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "the name is taken"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn update_set(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
    Json(patch): Json<EvalSetPatch>,
) -> ApiResult<Json<EvalSet>> {
    let access = session.tenant_for_change(&state, &tenant, MANAGE).await?;
    let before = set_of(&state, &access, id).await?;
    let input = patch.applied(&before).map_err(ApiError::invalid)?;
    let (t, now) = (access.tenant.id, state.clock.now());
    let set = state
        .store
        .update_eval_set(&access.actor, t, id, input, now)
        .await?;
    Ok(Json(set))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/evals/{id}", tag = "evals",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    responses((status = 204, description = "the set, its cases and its runs are deleted"),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "a run of the set is in progress")),
    security(("bearer" = [])))]
pub async fn delete_set(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
) -> ApiResult<StatusCode> {
    let access = session.tenant_for_change(&state, &tenant, MANAGE).await?;
    state
        .store
        .delete_eval_set(&access.actor, access.tenant.id, id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The case a lead makes: its message and who sent it, through its channel.
async fn case_of_lead(
    state: &AppState,
    scope: &LeadScope,
    lead_id: Uuid,
) -> ApiResult<(EvalCaseInput, CaseSource)> {
    let lead = scope.lead(state, lead_id).await.map_err(|_| {
        ApiError::field("from_lead", "names no lead of this tenant that you can see")
    })?;
    let channel = match lead.workspace_id {
        Some(w) => state
            .store
            .workspace(scope.access.tenant.id, w)
            .await?
            .map(|w| w.channel),
        None => None,
    };
    let case = EvalCaseInput {
        message: lead.message,
        lead: EvalLead {
            name: Some(lead.name),
            company: lead.company,
            channel,
        },
        ..EvalCaseInput::default()
    };
    Ok((case, CaseSource::Lead { lead_id }))
}

/// The case a playground message makes: the lead's words, through the
/// session's channel.
async fn case_of_message(
    state: &AppState,
    access: &Access,
    at: PlaygroundMessageRef,
) -> ApiResult<(EvalCaseInput, CaseSource)> {
    if !access.can(Permission::PlaygroundUse) {
        return Err(ApiError::Forbidden(
            "your role lacks the playground:use permission, so it cannot read playground \
             messages; ask a tenant admin"
                .into(),
        ));
    }
    let t = access.tenant.id;
    let not_found = || ApiError::field("from_playground", "names no playground message here");
    let session = state
        .store
        .playground_session(t, at.session_id)
        .await?
        .ok_or_else(not_found)?;
    let message = state
        .store
        .playground_messages(t, at.session_id)
        .await?
        .into_iter()
        .find(|m| m.id == at.message_id)
        .ok_or_else(not_found)?;
    if message.role != PlaygroundRole::User {
        return Err(ApiError::field(
            "from_playground",
            "names an agent's reply; pick one of the lead's messages (yours) instead",
        ));
    }
    let case = EvalCaseInput {
        message: message.content,
        lead: EvalLead {
            channel: Some(session.channel),
            ..EvalLead::default()
        },
        ..EvalCaseInput::default()
    };
    let source = CaseSource::Playground {
        session_id: at.session_id,
        message_id: at.message_id,
    };
    Ok((case, source))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/evals/{id}/cases", tag = "evals",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    request_body = NewEvalCase,
    responses((status = 201, body = EvalCase), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "the set holds 200 cases already"),
        (status = 422, body = Problem, description = "not exactly one of message, from_lead and from_playground; a lead or message this caller cannot see; a field over its limit")),
    security(("bearer" = [])))]
pub async fn add_case(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
    Json(new): Json<NewEvalCase>,
) -> ApiResult<(StatusCode, Json<EvalCase>)> {
    // Whoever manages evals sees every lead; the scope says which.
    let scope = LeadScope::resolve(
        &state,
        &session,
        &tenant,
        Some(Permission::EvalsManage),
        true,
    )
    .await?;
    let access = &scope.access;
    set_of(&state, access, id).await?;
    let origin = new.origin().map_err(ApiError::invalid)?;
    let (case, source) = match origin {
        CaseOrigin::Written(case) => (case, None),
        CaseOrigin::Lead(lead) => {
            let (case, source) = case_of_lead(&state, &scope, lead).await?;
            (case, Some(source))
        }
        CaseOrigin::Playground(at) => {
            let (case, source) = case_of_message(&state, access, at).await?;
            (case, Some(source))
        }
    };
    let case = EvalCaseInput {
        expect: new.expect,
        ..case
    }
    .validated("")
    .map_err(ApiError::invalid)?;
    let row = CaseRow { case, source };
    let (t, now) = (access.tenant.id, state.clock.now());
    let mut added = state
        .store
        .add_eval_cases(&access.actor, t, id, vec![row], now)
        .await?;
    let case = added.pop().ok_or(ApiError::NotFound)?;
    Ok((StatusCode::CREATED, Json(case)))
}

#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}/evals/{id}/cases/{case}", tag = "evals",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path),
        ("case" = Uuid, Path)),
    request_body = EvalCasePatch,
    responses((status = 200, body = EvalCase), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn update_case(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id, case)): Path<(String, Uuid, Uuid)>,
    Json(patch): Json<EvalCasePatch>,
) -> ApiResult<Json<EvalCase>> {
    let access = session.tenant_for_change(&state, &tenant, MANAGE).await?;
    let t = access.tenant.id;
    let before = state
        .store
        .eval_cases(t, id)
        .await?
        .into_iter()
        .find(|c| c.id == case)
        .ok_or(ApiError::NotFound)?;
    let input = patch.applied(&before).map_err(ApiError::invalid)?;
    let now = state.clock.now();
    let updated = state
        .store
        .update_eval_case(&access.actor, t, id, case, input, now)
        .await?;
    Ok(Json(updated))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/evals/{id}/cases/{case}", tag = "evals",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path),
        ("case" = Uuid, Path)),
    responses((status = 204, description = "the case is deleted; runs keep what they ran"),
        (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn delete_case(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id, case)): Path<(String, Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    let access = session.tenant_for_change(&state, &tenant, MANAGE).await?;
    state
        .store
        .delete_eval_case(&access.actor, access.tenant.id, id, case)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/evals/{id}/import", tag = "evals",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    request_body(content(
        (String = "text/csv"),
        (EvalImport = "application/json")),
        description = "CSV: a header row naming any of message (required), name, company, \
            channel, category, must_contain, must_not_contain, max_chars; phrases in one cell \
            are separated by `|`. JSON: `{\"cases\": [...]}`. At most 200 cases; all are \
            imported or none."),
    responses((status = 200, body = EvalImportReport), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "the set cannot hold that many more cases (200 at most)"),
        (status = 413, body = Problem, description = "the request is over 256 KiB"),
        (status = 422, body = Problem, description = "every bad row, each named `row N.column` (CSV: N is the line, the header being 1; JSON: the case's place from 1); nothing is imported")),
    security(("bearer" = [])))]
pub async fn import(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<EvalImportReport>> {
    let access = session.tenant_for_change(&state, &tenant, MANAGE).await?;
    set_of(&state, &access, id).await?;
    let csv = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("text/csv"));
    let parsed = if csv {
        parse_csv(&body)
    } else if json_content_type(&headers) {
        json_object::<EvalImport>(body)?.validated()
    } else {
        return Err(ApiError::field(
            "body",
            "send the cases as text/csv or application/json",
        ));
    };
    let cases = parsed.map_err(ApiError::invalid)?;
    let (t, now) = (access.tenant.id, state.clock.now());
    let cases = state
        .store
        .add_eval_cases(&access.actor, t, id, written(cases), now)
        .await?;
    Ok(Json(EvalImportReport {
        imported: cases.len() as u32,
        cases,
    }))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/evals/{id}/runs", tag = "evals",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    responses((status = 200, body = Vec<EvalRun>, description = "the set's runs, newest first (the last 100)"),
        (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_runs(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
) -> ApiResult<Json<Vec<EvalRun>>> {
    let access = session.tenant(&state, &tenant, VIEW).await?;
    set_of(&state, &access, id).await?;
    Ok(Json(state.store.eval_runs(access.tenant.id, id).await?))
}

/// The lanes a run asks for, each resolved to its version and provider.
async fn lanes_of(
    state: &AppState,
    session: &Session,
    access: &Access,
    agent: &crate::domain::Agent,
    new: &NewEvalRun,
) -> ApiResult<Vec<Lane>> {
    let version = new.version.unwrap_or(agent.version);
    if new.against == Some(version) {
        return Err(ApiError::field(
            "against",
            format!("is version {version}, the one run already; name another to compare with"),
        ));
    }
    let mut lanes = Vec::new();
    for (field, n) in [("version", Some(version)), ("against", new.against)] {
        let Some(n) = n else { continue };
        let v = super::agents::find_version(state, access, agent.id, n)
            .await
            .map_err(|_| {
                ApiError::field(
                    field,
                    format!(
                        "{} has no version {n}; it is at version {}",
                        agent.name, agent.version
                    ),
                )
            })?;
        let secrets = &access.tenant.settings.secrets;
        let (provider, model) = state
            .providers
            .resolve_for(&v.config.model, secrets)
            .map_err(|e| ApiError::model(e, session.user.platform_admin))?;
        lanes.push(Lane {
            version: n,
            config: v.config,
            provider,
            model,
        });
    }
    Ok(lanes)
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/evals/{id}/runs", tag = "evals",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    request_body = NewEvalRun,
    responses((status = 202, body = EvalRun, description = "the run, started in the background: follow it with GET …/runs/{run} (progress) or the tenant's events (eval.progress, eval.finished)"),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "the set has no cases, or the tenant runs 3 evals already"),
        (status = 422, body = Problem, description = "an agent this tenant cannot use, or a version it does not have"),
        (status = 502, body = Problem), (status = 503, body = Problem, description = "a version's model cannot run here")),
    security(("bearer" = [])))]
pub async fn start_run(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
    Json(new): Json<NewEvalRun>,
) -> ApiResult<(StatusCode, Json<EvalRun>)> {
    let access = session.tenant_for_change(&state, &tenant, RUN).await?;
    let set = set_of(&state, &access, id).await?;
    let t = access.tenant.id;
    let agent = state.store.agent(t, new.agent_id).await?.ok_or_else(|| {
        ApiError::field(
            "agent_id",
            "names no agent this tenant can use; pick one from the agents list",
        )
    })?;
    let lanes = lanes_of(&state, &session, &access, &agent, &new).await?;
    let cases = state.store.eval_cases(t, id).await?;
    if cases.is_empty() {
        return Err(ApiError::Conflict {
            field: "cases".into(),
            detail: format!("{} has no cases yet; add some before running it", set.name),
        });
    }
    let now = state.clock.now();
    let draft_categories = access.tenant.settings.draft_categories.clone();
    let row = NewEvalRunRow {
        set_id: id,
        set_name: set.name,
        agent_id: agent.id,
        agent_name: agent.name.clone(),
        lanes: lanes
            .iter()
            .map(|l| EvalLane {
                version: l.version,
                model: l.config.model.clone(),
            })
            .collect(),
        cases: cases.len() as u32,
        draft_categories: draft_categories.clone(),
        lease_until: now + chrono::Duration::from_std(LEASE).unwrap_or_default(),
        now,
    };
    let run = state.store.create_eval_run(&access.actor, t, row).await?;
    let job = EvalJob {
        run_id: run.id,
        tenant: access.tenant,
        agent: (agent.tenant_id, agent.id),
        cases,
        lanes,
        draft_categories,
    };
    eval_runner::spawn(state.clone(), job);
    Ok((StatusCode::ACCEPTED, Json(run)))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/evals/{id}/runs/{run}", tag = "evals",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path),
        ("run" = Uuid, Path)),
    responses((status = 200, body = EvalRunDetail, description = "the run with its progress, every result so far, and the cases whose outcome differs between its versions"),
        (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get_run(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id, run)): Path<(String, Uuid, Uuid)>,
) -> ApiResult<Json<EvalRunDetail>> {
    let access = session.tenant(&state, &tenant, VIEW).await?;
    let run = run_of(&state, &access, id, run).await?;
    let results = state.store.eval_results(access.tenant.id, run.id).await?;
    Ok(Json(EvalRunDetail {
        differing: differing(&results),
        run,
        results,
    }))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/evals/{id}/runs/{run}/cancel", tag = "evals",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path),
        ("run" = Uuid, Path)),
    responses((status = 200, body = EvalRun, description = "the run, cancelled; the results so far are kept"),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "the run had ended already")),
    security(("bearer" = [])))]
pub async fn cancel_run(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id, run)): Path<(String, Uuid, Uuid)>,
) -> ApiResult<Json<EvalRun>> {
    let access = session.tenant_for_change(&state, &tenant, RUN).await?;
    let (t, now) = (access.tenant.id, state.clock.now());
    let cancelled = state
        .store
        .cancel_eval_run(&access.actor, t, id, run, now)
        .await?;
    state.evals.cancel(run);
    state.notify(t);
    Ok(Json(cancelled))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/evals/{id}/runs/{run}", tag = "evals",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path),
        ("run" = Uuid, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "the run is in progress; cancel it first")),
    security(("bearer" = [])))]
pub async fn delete_run(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id, run)): Path<(String, Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    let access = session.tenant_for_change(&state, &tenant, MANAGE).await?;
    state
        .store
        .delete_eval_run(&access.actor, access.tenant.id, id, run)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/evals/{id}/runs/{run}/compare/{other}", tag = "evals",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path),
        ("run" = Uuid, Path), ("other" = Uuid, Path, description = "another run of the same set")),
    responses((status = 200, body = EvalComparison, description = "the first version of each run side by side, matched by case"),
        (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn compare(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id, run, other)): Path<(String, Uuid, Uuid, Uuid)>,
) -> ApiResult<Json<EvalComparison>> {
    let access = session.tenant(&state, &tenant, VIEW).await?;
    let t = access.tenant.id;
    let left = run_of(&state, &access, id, run).await?;
    let right = run_of(&state, &access, id, other).await?;
    let left_results = state.store.eval_results(t, left.id).await?;
    let right_results = state.store.eval_results(t, right.id).await?;
    Ok(Json(compare_runs(
        (&left, &left_results),
        (&right, &right_results),
    )))
}
