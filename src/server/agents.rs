//! Agents: versioned prompts, restore, sharing. Shared agents are read-only
//! to the tenants they are shared with; only the owner changes them.

use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use super::access::{Access, Need};
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Path, Session};
use super::AppState;
use crate::domain::agent::{
    validate_name, validate_sent_lengths, DEFAULT_MAX_TOKENS, DEFAULT_TEMPERATURE,
};
use crate::domain::{
    Agent, AgentConfig, AgentPatch, AgentVersion, FieldError, NewAgent, Permission, Problem,
    Sharing, SharingChange,
};
use crate::store::AgentChange;

const MANAGE: Need = Need::Permission(Permission::AgentsManage);

/// The agent, if `access`'s tenant may see it.
async fn visible(state: &AppState, access: &Access, id: Uuid) -> ApiResult<Agent> {
    state
        .store
        .agent(access.tenant.id, id)
        .await?
        .ok_or(ApiError::NotFound)
}

/// The agent, if `access`'s tenant owns it (a shared one is read-only here).
async fn owned(state: &AppState, access: &Access, id: Uuid) -> ApiResult<Agent> {
    let agent = visible(state, access, id).await?;
    if agent.read_only {
        return Err(ApiError::Forbidden(format!(
            "{} belongs to {} and is shared read-only; copy it to change it",
            agent.name, agent.owner_name
        )));
    }
    Ok(agent)
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/agents", tag = "agents",
    params(("tenant" = String, Path, description = "tenant id or slug")),
    responses((status = 200, body = Vec<Agent>), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
) -> ApiResult<Json<Vec<Agent>>> {
    let access = session.tenant(&state, &tenant, Need::Member).await?;
    Ok(Json(state.store.list_agents(access.tenant.id).await?))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/agents", tag = "agents",
    params(("tenant" = String, Path, description = "tenant id or slug")), request_body = NewAgent,
    responses((status = 201, body = Agent), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
    Json(new): Json<NewAgent>,
) -> ApiResult<(StatusCode, Json<Agent>)> {
    let access = session.tenant_for_change(&state, &tenant, MANAGE).await?;
    let config = AgentConfig {
        system_prompt: new.system_prompt.trim().to_string(),
        model: new.model.trim().to_string(),
        temperature: new.temperature.unwrap_or(DEFAULT_TEMPERATURE),
        max_tokens: new.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
    };
    let mut errors = Vec::new();
    validate_name("name", &new.name, &mut errors);
    validate_sent_lengths(Some(&new.system_prompt), Some(&new.model), &mut errors);
    config.validate(&mut errors);
    ApiError::check(errors)?;
    let description = new.description.unwrap_or_default();
    let agent = state
        .store
        .create_agent(
            &access.actor,
            access.tenant.id,
            new.name.trim(),
            description.trim(),
            &config,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(agent)))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/agents/{id}", tag = "agents",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    responses((status = 200, body = Agent), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
) -> ApiResult<Json<Agent>> {
    let access = session.tenant(&state, &tenant, Need::Member).await?;
    Ok(Json(visible(&state, &access, id).await?))
}

#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}/agents/{id}", tag = "agents",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    request_body = AgentPatch,
    responses((status = 200, body = Agent), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
    Json(patch): Json<AgentPatch>,
) -> ApiResult<Json<Agent>> {
    let access = session.tenant_for_change(&state, &tenant, MANAGE).await?;
    let agent = owned(&state, &access, id).await?;
    let mut errors = Vec::new();
    if let Some(name) = &patch.name {
        validate_name("name", name, &mut errors);
    }
    validate_sent_lengths(
        patch.system_prompt.as_deref(),
        patch.model.as_deref(),
        &mut errors,
    );
    let config = patch.touches_config().then(|| AgentConfig {
        system_prompt: patch
            .system_prompt
            .as_deref()
            .map(|p| p.trim().to_string())
            .unwrap_or_else(|| agent.config.system_prompt.clone()),
        model: patch
            .model
            .as_deref()
            .map(|m| m.trim().to_string())
            .unwrap_or_else(|| agent.config.model.clone()),
        temperature: patch.temperature.unwrap_or(agent.config.temperature),
        max_tokens: patch.max_tokens.unwrap_or(agent.config.max_tokens),
    });
    if let Some(c) = &config {
        c.validate(&mut errors);
    }
    ApiError::check(errors)?;
    let change = AgentChange {
        name: patch.name.map(|n| n.trim().to_string()),
        description: patch.description.map(|d| d.trim().to_string()),
        config,
        restored_from: None,
    };
    let agent = state
        .store
        .update_agent(&access.actor, access.tenant.id, id, change)
        .await?;
    Ok(Json(agent))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/agents/{id}", tag = "agents",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
) -> ApiResult<StatusCode> {
    let access = session.tenant_for_change(&state, &tenant, MANAGE).await?;
    owned(&state, &access, id).await?;
    state
        .store
        .delete_agent(&access.actor, access.tenant.id, id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/agents/{id}/versions", tag = "agents",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    responses((status = 200, body = Vec<AgentVersion>), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn versions(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
) -> ApiResult<Json<Vec<AgentVersion>>> {
    let access = session.tenant(&state, &tenant, Need::Member).await?;
    Ok(Json(
        state.store.agent_versions(access.tenant.id, id).await?,
    ))
}

pub(super) async fn find_version(
    state: &AppState,
    access: &Access,
    id: Uuid,
    n: u32,
) -> ApiResult<AgentVersion> {
    state
        .store
        .agent_versions(access.tenant.id, id)
        .await?
        .into_iter()
        .find(|v| v.version == n)
        .ok_or(ApiError::NotFound)
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/agents/{id}/versions/{n}", tag = "agents",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path), ("n" = u32, Path)),
    responses((status = 200, body = AgentVersion), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn version(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id, n)): Path<(String, Uuid, u32)>,
) -> ApiResult<Json<AgentVersion>> {
    let access = session.tenant(&state, &tenant, Need::Member).await?;
    Ok(Json(find_version(&state, &access, id, n).await?))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/agents/{id}/versions/{n}/restore", tag = "agents",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path), ("n" = u32, Path)),
    responses((status = 200, body = Agent), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn restore(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id, n)): Path<(String, Uuid, u32)>,
) -> ApiResult<Json<Agent>> {
    let access = session.tenant_for_change(&state, &tenant, MANAGE).await?;
    owned(&state, &access, id).await?;
    let old = find_version(&state, &access, id, n).await?;
    let change = AgentChange {
        config: Some(old.config),
        restored_from: Some(n),
        ..AgentChange::default()
    };
    let agent = state
        .store
        .update_agent(&access.actor, access.tenant.id, id, change)
        .await?;
    Ok(Json(agent))
}

#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/agents/{id}/sharing", tag = "agents",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    request_body = SharingChange,
    responses((status = 200, body = Agent), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn set_sharing(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
    Json(change): Json<SharingChange>,
) -> ApiResult<Json<Agent>> {
    let access = session.tenant_for_change(&state, &tenant, MANAGE).await?;
    owned(&state, &access, id).await?;
    if change.sharing == Sharing::Global && !access.tenant.is_platform {
        return Err(ApiError::field(
            "sharing",
            "only the platform tenant's agents can be global; share selectively instead",
        ));
    }
    let mut tenants = Vec::new();
    if change.sharing == Sharing::Selective {
        let mut errors = Vec::new();
        for r in &change.tenants {
            // Only tenants the caller can see exist for this purpose, so
            // sharing cannot be used to probe for other agencies' slugs.
            let target = match state.store.tenant(r).await? {
                Some(t) if access.platform_admin => Some(t),
                Some(t) => state.store.role_of(t.id, session.user.id).await?.map(|_| t),
                None => None,
            };
            match target {
                Some(t) if t.id != access.tenant.id => tenants.push(t.id),
                Some(_) => errors.push(FieldError::new(
                    "tenants",
                    "an agent is always visible to its own tenant; leave it out",
                )),
                None => errors.push(FieldError::new("tenants", format!("no tenant {r:?}"))),
            }
        }
        if change.tenants.is_empty() {
            errors.push(FieldError::new(
                "tenants",
                "name at least one tenant to share with",
            ));
        }
        ApiError::check(errors)?;
    }
    let agent = state
        .store
        .set_agent_sharing(
            &access.actor,
            access.tenant.id,
            id,
            change.sharing,
            &tenants,
        )
        .await?;
    Ok(Json(agent))
}
