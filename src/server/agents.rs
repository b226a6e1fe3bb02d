//! Agents: versioned prompts, restore, sharing. Shared agents are read-only
//! to the tenants they are shared with; only the owner changes them.

use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use super::access::{Access, Need};
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Path, Query, Session};
use super::AppState;
use crate::domain::agent::{
    validate_category, validate_name, validate_sent_lengths, validate_tags, DEFAULT_MAX_TOKENS,
    DEFAULT_TEMPERATURE,
};
use crate::domain::{
    Agent, AgentConfig, AgentCopy, AgentPatch, AgentQuery, AgentSort, AgentVersion, FieldError,
    NewAgent, Permission, Problem, Sharing, SharingChange,
};
use crate::store::{AgentChange, AgentRow};

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

/// The agents a tenant can use: its own, the platform's global library
/// (`sharing: global`, `read_only: true`) and those shared with it.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/agents", tag = "agents",
    params(("tenant" = String, Path, description = "tenant id or slug"), AgentQuery),
    responses((status = 200, body = Vec<Agent>), (status = 404, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
    Query(q): Query<AgentQuery>,
) -> ApiResult<Json<Vec<Agent>>> {
    let access = session.tenant(&state, &tenant, Need::Member).await?;
    let sort = match q.sort.as_deref() {
        None => AgentSort::Name,
        Some(s) => AgentSort::parse(s)
            .ok_or_else(|| ApiError::field("sort", "must be name, uses or last_used"))?,
    };
    let mut agents = state.store.list_agents(access.tenant.id).await?;
    sort.apply(&mut agents);
    Ok(Json(agents))
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
    let tags = validate_tags(&new.tags, &mut errors);
    let category = new
        .category
        .as_deref()
        .map(|c| validate_category(c, &mut errors));
    ApiError::check(errors)?;
    let row = AgentRow {
        name: new.name.trim().to_string(),
        description: new.description.unwrap_or_default().trim().to_string(),
        config,
        tags,
        category,
        copied_from: None,
    };
    let agent = state
        .store
        .create_agent(&access.actor, access.tenant.id, &row)
        .await?;
    Ok((StatusCode::CREATED, Json(agent)))
}

/// "Use as template": a private copy, in the caller's tenant, of any agent
/// it can see (its own, the global library's, one shared with it), at
/// version 1 with the original's current configuration, tags and category.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/agents/{id}/copy", tag = "agents",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    request_body = AgentCopy,
    responses((status = 201, body = Agent), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn copy(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
    Json(copy): Json<AgentCopy>,
) -> ApiResult<(StatusCode, Json<Agent>)> {
    let access = session.tenant_for_change(&state, &tenant, MANAGE).await?;
    let original = visible(&state, &access, id).await?;
    let mut errors = Vec::new();
    if let Some(name) = &copy.name {
        validate_name("name", name, &mut errors);
    }
    ApiError::check(errors)?;
    let row = AgentRow {
        name: copy
            .name
            .map(|n| n.trim().to_string())
            .unwrap_or_else(|| original.name.clone()),
        description: original.description,
        config: original.config,
        tags: original.tags,
        category: original.category,
        copied_from: Some((original.tenant_id, original.id)),
    };
    let agent = state
        .store
        .create_agent(&access.actor, access.tenant.id, &row)
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
    let tags = patch.tags.as_deref().map(|t| validate_tags(t, &mut errors));
    let category = patch
        .category
        .as_ref()
        .map(|c| c.as_deref().map(|c| validate_category(c, &mut errors)));
    ApiError::check(errors)?;
    let change = AgentChange {
        name: patch.name.map(|n| n.trim().to_string()),
        description: patch.description.map(|d| d.trim().to_string()),
        tags,
        category,
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

/// Counts one answer of an agent (a playground reply, a workflow step) for
/// the library's use counts. A count that cannot be stored is logged, not
/// fatal: the answer itself is what the user waits for.
pub(super) async fn count_use(state: &AppState, user: Uuid, owner: Uuid, agent: Uuid) {
    match state.store.record_agent_use(user, owner, agent).await {
        Ok(true) => {}
        Ok(false) => tracing::debug!(%agent, "an agent answered after it was deleted or unshared"),
        Err(e) => tracing::warn!(error = %e, %agent, "cannot count an agent's use"),
    }
}
