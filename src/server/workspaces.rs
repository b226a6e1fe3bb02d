//! Workspaces: the channels where leads arrive, each linked to an agent the
//! tenant can use (its own or one shared with it).

use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use super::access::{Access, Need};
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Path, Session};
use super::AppState;
use crate::domain::{NewWorkspace, Permission, Problem, Workspace, WorkspacePatch};
use crate::store::WorkspaceRow;

const MANAGE: Need = Need::Permission(Permission::AgentsManage);

/// The (owner tenant, agent) pair for a link, if the tenant may use it.
async fn agent_link(
    state: &AppState,
    access: &Access,
    agent: Option<Uuid>,
) -> ApiResult<Option<(Uuid, Uuid)>> {
    let Some(id) = agent else {
        return Ok(None);
    };
    match state.store.agent(access.tenant.id, id).await? {
        Some(a) => Ok(Some((a.tenant_id, a.id))),
        None => Err(ApiError::field(
            "agent_id",
            "is not an agent this tenant owns or has been shared; pick one from the agents list",
        )),
    }
}

fn check_name(name: &str) -> ApiResult<()> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 80 {
        return Err(ApiError::field("name", "needs 1 to 80 characters"));
    }
    Ok(())
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/workspaces", tag = "workspaces",
    params(("tenant" = String, Path, description = "tenant id or slug")),
    responses((status = 200, body = Vec<Workspace>), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
) -> ApiResult<Json<Vec<Workspace>>> {
    let access = session.tenant(&state, &tenant, Need::Member).await?;
    Ok(Json(state.store.list_workspaces(access.tenant.id).await?))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/workspaces", tag = "workspaces",
    params(("tenant" = String, Path, description = "tenant id or slug")), request_body = NewWorkspace,
    responses((status = 201, body = Workspace), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
    Json(new): Json<NewWorkspace>,
) -> ApiResult<(StatusCode, Json<Workspace>)> {
    let access = session.tenant_for_change(&state, &tenant, MANAGE).await?;
    check_name(&new.name)?;
    let agent = agent_link(&state, &access, new.agent_id).await?;
    let row = WorkspaceRow {
        name: new.name.trim().to_string(),
        channel: new.channel,
        agent,
        strategy_active: new.strategy_active,
    };
    let ws = state
        .store
        .create_workspace(&access.actor, access.tenant.id, row)
        .await?;
    Ok((StatusCode::CREATED, Json(ws)))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/workspaces/{id}", tag = "workspaces",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    responses((status = 200, body = Workspace), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
) -> ApiResult<Json<Workspace>> {
    let access = session.tenant(&state, &tenant, Need::Member).await?;
    let ws = state
        .store
        .workspace(access.tenant.id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(ws))
}

#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}/workspaces/{id}", tag = "workspaces",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    request_body = WorkspacePatch,
    responses((status = 200, body = Workspace), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
    Json(patch): Json<WorkspacePatch>,
) -> ApiResult<Json<Workspace>> {
    let access = session.tenant_for_change(&state, &tenant, MANAGE).await?;
    let ws = state
        .store
        .workspace(access.tenant.id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if let Some(name) = &patch.name {
        check_name(name)?;
    }
    let agent = match patch.agent_id {
        Some(a) => agent_link(&state, &access, a).await?,
        // Unchanged: keep the stored link even if the agent went away, so
        // the workspace keeps saying why it cannot answer.
        None => match ws.agent_id {
            Some(a) => state
                .store
                .agent(access.tenant.id, a)
                .await?
                .map(|ag| (ag.tenant_id, ag.id))
                .or(Some((access.tenant.id, a))),
            None => None,
        },
    };
    let strategy_active = patch.strategy_active.unwrap_or(ws.strategy_active);
    if strategy_active && agent.is_none() {
        return Err(ApiError::field(
            "strategy_active",
            "link an agent before activating the strategy",
        ));
    }
    let row = WorkspaceRow {
        name: patch.name.map(|n| n.trim().to_string()).unwrap_or(ws.name),
        channel: patch.channel.unwrap_or(ws.channel),
        agent,
        strategy_active,
    };
    let ws = state
        .store
        .update_workspace(&access.actor, access.tenant.id, id, row)
        .await?;
    Ok(Json(ws))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/workspaces/{id}", tag = "workspaces",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
) -> ApiResult<StatusCode> {
    let access = session.tenant_for_change(&state, &tenant, MANAGE).await?;
    state
        .store
        .delete_workspace(&access.actor, access.tenant.id, id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
