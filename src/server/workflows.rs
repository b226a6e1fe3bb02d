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

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct WorkflowQuery {
    /// `queued`, `running`, `awaiting_approval`, `approved`, `rejected`, `failed`, `cancelled`.
    pub status: Option<String>,
    /// Only this lead's workflows.
    pub lead: Option<Uuid>,
    /// At most this many, newest first (default 50, at most 200).
    pub limit: Option<u32>,
}

/// The workflow, if the caller may see its lead (else 404).
async fn visible(state: &AppState, scope: &LeadScope, id: Uuid) -> ApiResult<(Workflow, Lead)> {
    let wf = state
        .store
        .workflow(scope.access.tenant.id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let lead = scope.lead(state, wf.lead_id).await?;
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
    responses((status = 201, body = Workflow), (status = 404, body = Problem), (status = 409, body = Problem),
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
    responses((status = 200, body = Vec<Workflow>), (status = 404, body = Problem), (status = 422, body = Problem)),
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
    // Members who see only their assigned leads see only those workflows.
    if scope.only_assigned_to.is_some() {
        let mut visible = Vec::with_capacity(found.len());
        for wf in found {
            if scope.lead(&state, wf.lead_id).await.is_ok() {
                visible.push(wf);
            }
        }
        found = visible;
    }
    Ok(Json(found))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/workflows/{id}", tag = "workflows",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    responses((status = 200, body = Workflow), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
) -> ApiResult<Json<Workflow>> {
    let scope = LeadScope::resolve(&state, &session, &tenant, None, false).await?;
    Ok(Json(visible(&state, &scope, id).await?.0))
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
    responses((status = 200, body = Workflow), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn approve(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
    Json(body): Json<ApproveWorkflow>,
) -> ApiResult<Json<Workflow>> {
    let scope = LeadScope::resolve(&state, &session, &tenant, EDIT, true).await?;
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
    let actor = scope.access.actor.clone();
    let now = state.clock.now();
    let from = &[WorkflowStatus::AwaitingApproval];
    let mut t = WorkflowTransition::new(actor.clone(), from, WorkflowStatus::Approved, now);
    t.reply = Some(reply.clone());
    t.decided_by = actor.email.clone();
    t.lead_reply = Some(reply.clone());
    t.timeline.push((
        "reply_approved",
        json!({ "workflow_id": id, "edited": edited }),
    ));
    t.events.push((
        "workflow.approved",
        json!({ "workflow_id": id, "lead_id": lead.id, "edited": edited }),
    ));
    t.audit = Some(AuditEntry {
        action: "workflow.approve",
        resource: "workflow",
        resource_id: id.to_string(),
        changes: json!({ "lead_id": lead.id, "edited": edited }),
    });
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
    responses((status = 200, body = Workflow), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn reject(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
    Json(body): Json<RejectWorkflow>,
) -> ApiResult<Json<Workflow>> {
    let scope = LeadScope::resolve(&state, &session, &tenant, EDIT, true).await?;
    let reason = body.validated().map_err(ApiError::invalid)?;
    let (_, lead) = visible(&state, &scope, id).await?;
    let actor = scope.access.actor.clone();
    let from = &[WorkflowStatus::AwaitingApproval];
    let now = state.clock.now();
    let mut t = WorkflowTransition::new(actor.clone(), from, WorkflowStatus::Rejected, now);
    t.decided_by = actor.email.clone();
    t.decision_note = Some(reason.clone());
    t.timeline.push((
        "reply_rejected",
        json!({ "workflow_id": id, "reason": reason }),
    ));
    t.events.push((
        "workflow.rejected",
        json!({ "workflow_id": id, "lead_id": lead.id }),
    ));
    t.audit = Some(AuditEntry {
        action: "workflow.reject",
        resource: "workflow",
        resource_id: id.to_string(),
        changes: json!({ "lead_id": lead.id, "reason": reason }),
    });
    apply(&state, &scope, id, t).await
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/workflows/{id}/cancel", tag = "workflows",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    responses((status = 200, body = Workflow), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn cancel(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
) -> ApiResult<Json<Workflow>> {
    let scope = LeadScope::resolve(&state, &session, &tenant, EDIT, true).await?;
    let (_, lead) = visible(&state, &scope, id).await?;
    let from = &[
        WorkflowStatus::Queued,
        WorkflowStatus::Running,
        WorkflowStatus::AwaitingApproval,
    ];
    let actor = scope.access.actor.clone();
    let now = state.clock.now();
    let mut t = WorkflowTransition::new(actor.clone(), from, WorkflowStatus::Cancelled, now);
    t.decided_by = actor.email.clone();
    t.timeline
        .push(("workflow_cancelled", json!({ "workflow_id": id })));
    t.audit = Some(AuditEntry {
        action: "workflow.cancel",
        resource: "workflow",
        resource_id: id.to_string(),
        changes: json!({ "lead_id": lead.id }),
    });
    let result = apply(&state, &scope, id, t).await;
    // Stops the model if this process is running it.
    state.workflows.cancel(id);
    result
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/workflows/{id}/retry", tag = "workflows",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    responses((status = 200, body = Workflow), (status = 404, body = Problem), (status = 409, body = Problem)),
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
    let actor = scope.access.actor.clone();
    let now = state.clock.now();
    let mut t = WorkflowTransition::new(actor, from, WorkflowStatus::Queued, now);
    t.error = Some(None);
    t.timeline
        .push(("workflow_retried", json!({ "workflow_id": id })));
    t.audit = Some(AuditEntry {
        action: "workflow.retry",
        resource: "workflow",
        resource_id: id.to_string(),
        changes: json!({ "lead_id": lead.id }),
    });
    apply(&state, &scope, id, t).await
}
