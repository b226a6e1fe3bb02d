//! The tenant's knowledge base over HTTP (documents, search), which of it an
//! agent may use, and the one retrieval the research step and the
//! playground share.

use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use super::access::Need;
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Path, Query, Session};
use super::AppState;
use crate::domain::knowledge::{
    search_terms, AgentKnowledge, KnowledgeDocument, KnowledgeMode, KnowledgePatch, KnowledgeQuery,
    KnowledgeSnippet, KnowledgeSummary, NewKnowledgeDocument, MAX_DOCUMENTS, RESEARCH_SNIPPETS,
};
use crate::domain::{Permission, Problem};
use crate::store::StoreResult;

const VIEW: Need = Need::Permission(Permission::KnowledgeView);
const MANAGE: Need = Need::Permission(Permission::KnowledgeManage);

/// The snippets an agent (of tenant `owner`) may use for `text`, in tenant
/// `tenant_id` (always the tenant running the agent, whoever owns it), with
/// the agent's mode.
pub async fn retrieve(
    state: &AppState,
    tenant_id: Uuid,
    (owner, agent): (Uuid, Uuid),
    text: &str,
) -> StoreResult<(KnowledgeMode, Vec<KnowledgeSnippet>)> {
    let link = state.store.agent_knowledge(owner, agent).await?;
    let Some(scope) = link.scope() else {
        return Ok((link.mode, Vec::new()));
    };
    let terms = search_terms(text);
    let snippets = state
        .store
        .search_knowledge(tenant_id, &terms, scope, RESEARCH_SNIPPETS)
        .await?;
    Ok((link.mode, snippets))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/knowledge", tag = "knowledge",
    params(("tenant" = String, Path, description = "tenant id or slug")),
    responses((status = 200, body = Vec<KnowledgeSummary>), (status = 403, body = Problem),
        (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
) -> ApiResult<Json<Vec<KnowledgeSummary>>> {
    let access = session.tenant(&state, &tenant, VIEW).await?;
    Ok(Json(state.store.list_knowledge(access.tenant.id).await?))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/knowledge", tag = "knowledge",
    params(("tenant" = String, Path, description = "tenant id or slug")),
    request_body = NewKnowledgeDocument,
    responses((status = 201, body = KnowledgeDocument), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "the knowledge base is full (500 documents)"),
        (status = 413, body = Problem, description = "the request is over 256 KiB"),
        (status = 422, body = Problem, description = "a title or body that is empty or too long")),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
    Json(new): Json<NewKnowledgeDocument>,
) -> ApiResult<(StatusCode, Json<KnowledgeDocument>)> {
    let access = session.tenant_for_change(&state, &tenant, MANAGE).await?;
    let input = new.validated().map_err(ApiError::invalid)?;
    if state.store.knowledge_count(access.tenant.id).await? >= MAX_DOCUMENTS {
        return Err(ApiError::Conflict {
            field: "knowledge".into(),
            detail: format!(
                "the knowledge base holds at most {MAX_DOCUMENTS} documents; merge or delete \
                 some first"
            ),
        });
    }
    let doc = state
        .store
        .create_knowledge(&access.actor, access.tenant.id, input, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(doc)))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/knowledge/search", tag = "knowledge",
    params(("tenant" = String, Path, description = "tenant id or slug"), KnowledgeQuery),
    responses((status = 200, body = Vec<KnowledgeSnippet>, description = "the best matching chunks, best first"),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn search(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
    Query(query): Query<KnowledgeQuery>,
) -> ApiResult<Json<Vec<KnowledgeSnippet>>> {
    let access = session.tenant(&state, &tenant, VIEW).await?;
    let (terms, limit) = query.validated().map_err(ApiError::invalid)?;
    let found = state
        .store
        .search_knowledge(access.tenant.id, &terms, None, limit)
        .await?;
    Ok(Json(found))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/knowledge/{id}", tag = "knowledge",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    responses((status = 200, body = KnowledgeDocument), (status = 403, body = Problem),
        (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
) -> ApiResult<Json<KnowledgeDocument>> {
    let access = session.tenant(&state, &tenant, VIEW).await?;
    let doc = state
        .store
        .knowledge_document(access.tenant.id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(doc))
}

#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}/knowledge/{id}", tag = "knowledge",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    request_body = KnowledgePatch,
    responses((status = 200, body = KnowledgeDocument), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 413, body = Problem, description = "the request is over 256 KiB"),
        (status = 422, body = Problem, description = "a title or body that is empty or too long")),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
    Json(patch): Json<KnowledgePatch>,
) -> ApiResult<Json<KnowledgeDocument>> {
    let access = session.tenant_for_change(&state, &tenant, MANAGE).await?;
    let before = state
        .store
        .knowledge_document(access.tenant.id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let input = patch.applied(&before).map_err(ApiError::invalid)?;
    let doc = state
        .store
        .update_knowledge(
            &access.actor,
            access.tenant.id,
            id,
            input,
            state.clock.now(),
        )
        .await?;
    Ok(Json(doc))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/knowledge/{id}", tag = "knowledge",
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
        .delete_knowledge(&access.actor, access.tenant.id, id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/agents/{id}/knowledge", tag = "agents",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    responses((status = 200, body = AgentKnowledge, description = "which of the running tenant's knowledge the agent may use"),
        (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn agent_get(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
) -> ApiResult<Json<AgentKnowledge>> {
    let access = session.tenant(&state, &tenant, Need::Member).await?;
    let agent = state
        .store
        .agent(access.tenant.id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(
        state
            .store
            .agent_knowledge(agent.tenant_id, agent.id)
            .await?,
    ))
}

#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/agents/{id}/knowledge", tag = "agents",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    request_body = AgentKnowledge,
    responses((status = 200, body = AgentKnowledge), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 422, body = Problem, description = "a list without mode documents, or a document this tenant does not have")),
    security(("bearer" = [])))]
pub async fn agent_set(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
    Json(link): Json<AgentKnowledge>,
) -> ApiResult<Json<AgentKnowledge>> {
    let access = session
        .tenant_for_change(&state, &tenant, Need::Permission(Permission::AgentsManage))
        .await?;
    let agent = state
        .store
        .agent(access.tenant.id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if agent.read_only {
        return Err(ApiError::Forbidden(format!(
            "{} belongs to {} and is shared read-only; copy it to change it",
            agent.name, agent.owner_name
        )));
    }
    link.validate().map_err(ApiError::invalid)?;
    let mut documents = link.documents.clone();
    documents.sort();
    documents.dedup();
    for doc in &documents {
        if state
            .store
            .knowledge_document(access.tenant.id, *doc)
            .await?
            .is_none()
        {
            return Err(ApiError::field(
                "documents",
                format!("{doc} is not a document of this tenant's knowledge base"),
            ));
        }
    }
    let link = AgentKnowledge {
        mode: link.mode,
        documents,
    };
    let saved = state
        .store
        .set_agent_knowledge(&access.actor, access.tenant.id, id, &link)
        .await?;
    Ok(Json(saved))
}
