//! Lead workflows over HTTP: start one for a lead, list and read them,
//! approve (optionally edited), reject, cancel, retry. The runs themselves
//! happen in `workflow_runner`.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;
use uuid::Uuid;

use super::error::{ApiError, ApiResult};
use super::extract::{Json, Path, Query, Session};
use super::leads::LeadScope;
use super::AppState;
use crate::domain::{
    ApproveWorkflow, Lead, Permission, Problem, RejectWorkflow, StartWorkflow, Workflow,
    WorkflowStatus,
};
use crate::store::{AuditEntry, NewWorkflowRow, OutboxRow, StoreError, WorkflowTransition};

const EDIT: Option<Permission> = Some(Permission::LeadsEdit);
const APPROVE: Option<Permission> = Some(Permission::LeadsApprove);
const CANCEL: Option<Permission> = Some(Permission::WorkflowsCancel);

/// Whether the caller sees `lead`'s workflows: every one with
/// `workflows:view_all`, else those of the leads assigned to them.
fn sees_workflows_of(scope: &LeadScope, lead: &Lead) -> bool {
    scope.access.can(Permission::WorkflowsViewAll)
        || (lead.assignee_id.is_some() && lead.assignee_id == scope.access.actor.user_id)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkflowQuery {
    /// `queued`, `running`, `awaiting_approval`, `approved`, `rejected`, `failed`, `cancelled`.
    #[param(value_type = Option<WorkflowStatus>, inline)]
    pub status: Option<String>,
    /// Only this lead's workflows.
    pub lead: Option<Uuid>,
    /// At most this many, newest first (1–200, default 50).
    #[serde(default, deserialize_with = "crate::domain::page::limit_in_range")]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// The workflow, if the caller may see it and its lead (else 404).
async fn visible(state: &AppState, scope: &LeadScope, id: Uuid) -> ApiResult<(Workflow, Lead)> {
    let wf = state
        .store
        .workflow(scope.access.tenant.id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let lead = scope.lead(state, wf.lead_id).await?;
    if !sees_workflows_of(scope, &lead) {
        return Err(ApiError::NotFound);
    }
    Ok((wf, lead))
}

fn conflict_on_active(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict { .. } => ApiError::Conflict {
            field: "lead_id".into(),
            detail: "this lead already has a workflow in progress; finish or cancel it first"
                .into(),
        },
        other => other.into(),
    }
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/leads/{id}/workflow", tag = "workflows",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    request_body = StartWorkflow,
    responses((status = 403, body = Problem), (status = 201, body = Workflow), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn start(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
    Json(body): Json<StartWorkflow>,
) -> ApiResult<(StatusCode, Json<Workflow>)> {
    let scope = LeadScope::resolve(&state, &session, &tenant, EDIT, true).await?;
    let lead = scope.lead(&state, id).await?;
    let t = scope.access.tenant.id;
    let workspace = match lead.workspace_id {
        Some(w) => state.store.workspace(t, w).await?,
        None => None,
    };
    let agent_id = match (body.agent_id, &workspace) {
        (Some(a), _) => a,
        (None, Some(w)) => w.agent_id.ok_or_else(|| {
            ApiError::field(
                "agent_id",
                format!("{} has no agent linked; link one or name an agent", w.name),
            )
        })?,
        (None, None) => {
            return Err(ApiError::field(
                "agent_id",
                "this lead came through no workspace; name the agent to run",
            ))
        }
    };
    state
        .store
        .agent(t, agent_id)
        .await?
        .ok_or_else(|| ApiError::field("agent_id", "names no agent this tenant can use"))?;
    let row = NewWorkflowRow {
        lead_id: lead.id,
        workspace_id: lead.workspace_id,
        agent_id,
    };
    let wf = state
        .store
        .create_workflow(&scope.access.actor, t, row, state.clock.now())
        .await
        .map_err(conflict_on_active)?;
    state.notify(t);
    Ok((StatusCode::CREATED, Json(wf)))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/workflows", tag = "workflows",
    params(("tenant" = String, Path, description = "tenant id or slug"), WorkflowQuery),
    responses((status = 403, body = Problem), (status = 200, body = Vec<Workflow>), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
    Query(q): Query<WorkflowQuery>,
) -> ApiResult<Json<Vec<Workflow>>> {
    let scope = LeadScope::resolve(&state, &session, &tenant, None, false).await?;
    let status = q
        .status
        .as_deref()
        .map(|s| {
            WorkflowStatus::parse(s).ok_or_else(|| {
                ApiError::field(
                    "status",
                    "must be queued, running, awaiting_approval, approved, rejected, failed or cancelled",
                )
            })
        })
        .transpose()?;
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let mut found = state
        .store
        .list_workflows(scope.access.tenant.id, status, q.lead, limit)
        .await?;
    // Without workflows:view_all (or all leads in sight), only the
    // workflows of leads the caller sees and is assigned.
    if scope.only_assigned_to.is_some() || !scope.access.can(Permission::WorkflowsViewAll) {
        let mut visible = Vec::with_capacity(found.len());
        for wf in found {
            if let Ok(lead) = scope.lead(&state, wf.lead_id).await {
                if sees_workflows_of(&scope, &lead) {
                    visible.push(wf);
                }
            }
        }
        found = visible;
    }
    Ok(Json(found))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/workflows/{id}", tag = "workflows",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    responses((status = 403, body = Problem), (status = 200, body = Workflow), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
) -> ApiResult<Json<Workflow>> {
    let scope = LeadScope::resolve(&state, &session, &tenant, None, false).await?;
    Ok(Json(visible(&state, &scope, id).await?.0))
}

/// A member's transition of workflow `id` with its timeline entry and its
/// audit entry; `details` go into both.
#[allow(clippy::too_many_arguments)]
fn by_member(
    scope: &LeadScope,
    now: chrono::DateTime<chrono::Utc>,
    (id, lead_id): (Uuid, Uuid),
    from: &'static [WorkflowStatus],
    to: WorkflowStatus,
    action: &'static str,
    timeline_kind: &'static str,
    details: serde_json::Value,
) -> WorkflowTransition {
    let merged = |mut base: serde_json::Value| {
        if let (Some(b), Some(d)) = (base.as_object_mut(), details.as_object()) {
            b.extend(d.clone());
        }
        base
    };
    let mut t = WorkflowTransition::new(scope.access.actor.clone(), from, to, now);
    t.timeline
        .push((timeline_kind, merged(json!({ "workflow_id": id }))));
    t.audit = Some(AuditEntry {
        action,
        resource: "workflow",
        resource_id: id.to_string(),
        changes: merged(json!({ "lead_id": lead_id })),
    });
    t
}

async fn apply(
    state: &AppState,
    scope: &LeadScope,
    id: Uuid,
    t: WorkflowTransition,
) -> ApiResult<Json<Workflow>> {
    let wf = state
        .store
        .transition_workflow(scope.access.tenant.id, id, t)
        .await
        .map_err(conflict_on_active)?;
    state.notify(scope.access.tenant.id);
    Ok(Json(wf))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/workflows/{id}/approve", tag = "workflows",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    request_body = ApproveWorkflow,
    responses((status = 403, body = Problem), (status = 200, body = Workflow), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn approve(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
    Json(body): Json<ApproveWorkflow>,
) -> ApiResult<Json<Workflow>> {
    let scope = LeadScope::resolve(&state, &session, &tenant, APPROVE, true).await?;
    let (wf, lead) = visible(&state, &scope, id).await?;
    let edited = body
        .reply
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(String::from);
    let reply = edited
        .clone()
        .or(wf.draft.clone())
        .ok_or_else(|| ApiError::field("reply", "there is no draft yet; write the reply"))?;
    if reply.chars().count() > 10_000 {
        return Err(ApiError::field("reply", "must be at most 10000 characters"));
    }
    let edited = edited.is_some_and(|e| Some(&e) != wf.draft.as_ref());
    let from = &[WorkflowStatus::AwaitingApproval];
    let mut t = by_member(
        &scope,
        state.clock.now(),
        (id, lead.id),
        from,
        WorkflowStatus::Approved,
        "workflow.approve",
        "reply_approved",
        json!({ "edited": edited }),
    );
    t.reply = Some(reply.clone());
    t.decided_by = scope.access.actor.email.clone();
    t.lead_reply = Some(reply.clone());
    t.events.push((
        "workflow.approved",
        json!({ "workflow_id": id, "lead_id": lead.id, "edited": edited }),
    ));
    if let Some(email) = &lead.email {
        t.outbox = Some(OutboxRow {
            kind: "lead_reply",
            recipient: Some(email.clone()),
            subject: format!("Re: your message to {}", scope.access.tenant.name),
            body: reply,
        });
    }
    apply(&state, &scope, id, t).await
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/workflows/{id}/reject", tag = "workflows",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    request_body = RejectWorkflow,
    responses((status = 403, body = Problem), (status = 200, body = Workflow), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn reject(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
    Json(body): Json<RejectWorkflow>,
) -> ApiResult<Json<Workflow>> {
    let scope = LeadScope::resolve(&state, &session, &tenant, APPROVE, true).await?;
    let reason = body.validated().map_err(ApiError::invalid)?;
    let (_, lead) = visible(&state, &scope, id).await?;
    let from = &[WorkflowStatus::AwaitingApproval];
    let mut t = by_member(
        &scope,
        state.clock.now(),
        (id, lead.id),
        from,
        WorkflowStatus::Rejected,
        "workflow.reject",
        "reply_rejected",
        json!({ "reason": reason }),
    );
    t.decided_by = scope.access.actor.email.clone();
    t.decision_note = Some(reason);
    t.events.push((
        "workflow.rejected",
        json!({ "workflow_id": id, "lead_id": lead.id }),
    ));
    apply(&state, &scope, id, t).await
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/workflows/{id}/cancel", tag = "workflows",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    responses((status = 403, body = Problem), (status = 200, body = Workflow), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn cancel(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
) -> ApiResult<Json<Workflow>> {
    let scope = LeadScope::resolve(&state, &session, &tenant, CANCEL, true).await?;
    let (_, lead) = visible(&state, &scope, id).await?;
    let from = &[
        WorkflowStatus::Queued,
        WorkflowStatus::Running,
        WorkflowStatus::AwaitingApproval,
    ];
    let mut t = by_member(
        &scope,
        state.clock.now(),
        (id, lead.id),
        from,
        WorkflowStatus::Cancelled,
        "workflow.cancel",
        "workflow_cancelled",
        json!({}),
    );
    t.decided_by = scope.access.actor.email.clone();
    let result = apply(&state, &scope, id, t).await;
    // Stops the model if this process is running it.
    state.workflows.cancel(id);
    result
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/workflows/{id}/retry", tag = "workflows",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    responses((status = 403, body = Problem), (status = 200, body = Workflow), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn retry(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
) -> ApiResult<Json<Workflow>> {
    let scope = LeadScope::resolve(&state, &session, &tenant, EDIT, true).await?;
    let (_, lead) = visible(&state, &scope, id).await?;
    let from = &[
        WorkflowStatus::Failed,
        WorkflowStatus::Cancelled,
        WorkflowStatus::Rejected,
    ];
    let mut t = by_member(
        &scope,
        state.clock.now(),
        (id, lead.id),
        from,
        WorkflowStatus::Queued,
        "workflow.retry",
        "workflow_retried",
        json!({}),
    );
    t.error = Some(None);
    apply(&state, &scope, id, t).await
}
