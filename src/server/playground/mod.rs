//! The playground: sessions with an agent (or two, compared), replies
//! streamed token by token as server-sent events, transcripts persisted with
//! their stats, and "save as lead".
//!
//! A reply runs in a task of its own, so it is stored whatever happens to
//! the request: the client closing the stream or `POST …/cancel` stops the
//! generation and keeps the text so far as a cancelled reply. Sending and
//! regenerating live in `reply`.

mod reply;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

pub use reply::{__path_regenerate, __path_send, regenerate, send};

use super::access::{Access, Need};
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Path, Session};
use super::AppState;
use crate::domain::lead::spam_reason;
use crate::domain::{
    AgentConfig, Channel, Lead, LeadInput, LeadSource, NewPlaygroundSession, Permission,
    PlaygroundLane, PlaygroundRole, PlaygroundSession, PlaygroundTarget, PlaygroundTranscript,
    Problem, SaveAsLead,
};
use crate::llm::CancellationToken;
use crate::store::{Idempotency, IngestOutcome, LeadLimit, NewLeadRow, PlaygroundSessionRow};

const USE: Need = Need::Permission(Permission::PlaygroundUse);

/// Replies being generated, by session, so `POST …/cancel` can stop them.
#[derive(Default)]
pub struct PlaygroundRuns {
    running: Mutex<HashMap<Uuid, CancellationToken>>,
}

impl PlaygroundRuns {
    /// Claims the session for one reply; `None` while another is running.
    fn start(self: &Arc<Self>, session: Uuid) -> Option<RunGuard> {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if running.contains_key(&session) {
            return None;
        }
        let cancel = CancellationToken::new();
        running.insert(session, cancel.clone());
        Some(RunGuard {
            runs: self.clone(),
            session,
            cancel,
        })
    }

    /// Stops the session's reply; false when none was running here.
    fn cancel(&self, session: Uuid) -> bool {
        let running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        match running.get(&session) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }
}

/// Frees the session when the reply task ends, however it ends.
struct RunGuard {
    runs: Arc<PlaygroundRuns>,
    session: Uuid,
    cancel: CancellationToken,
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        // Stops whatever is still generating (e.g. a lane started before
        // another lane's provider refused the message).
        self.cancel.cancel();
        let mut running = self.runs.running.lock().unwrap_or_else(|p| p.into_inner());
        running.remove(&self.session);
    }
}

async fn session_of(state: &AppState, access: &Access, id: Uuid) -> ApiResult<PlaygroundSession> {
    state
        .store
        .playground_session(access.tenant.id, id)
        .await?
        .ok_or(ApiError::NotFound)
}

/// The agent and version a target names, if the tenant may use them, with
/// the agent's owner tenant.
async fn resolve_target(
    state: &AppState,
    access: &Access,
    field: &str,
    target: &PlaygroundTarget,
) -> ApiResult<(PlaygroundLane, u32, AgentConfig, Uuid)> {
    let agent = state
        .store
        .agent(access.tenant.id, target.agent_id)
        .await?
        .ok_or_else(|| {
            ApiError::field(
                field,
                "names no agent this tenant can use; pick one from the agents list",
            )
        })?;
    let (version, config) = match target.version {
        None => (agent.version, agent.config.clone()),
        Some(n) => {
            let versions = state
                .store
                .agent_versions(access.tenant.id, agent.id)
                .await?;
            let v = versions
                .into_iter()
                .find(|v| v.version == n)
                .ok_or_else(|| {
                    ApiError::field(
                        field,
                        format!(
                            "{} has no version {n}; it is at version {}",
                            agent.name, agent.version
                        ),
                    )
                })?;
            (n, v.config)
        }
    };
    let lane = PlaygroundLane {
        agent_id: agent.id,
        agent_name: agent.name,
        version: target.version,
    };
    Ok((lane, version, config, agent.tenant_id))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/playground/sessions", tag = "playground",
    params(("tenant" = String, Path, description = "tenant id or slug")),
    responses((status = 403, body = Problem), (status = 200, body = Vec<PlaygroundSession>), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
) -> ApiResult<Json<Vec<PlaygroundSession>>> {
    let access = session.tenant(&state, &tenant, USE).await?;
    Ok(Json(
        state
            .store
            .list_playground_sessions(access.tenant.id)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/playground/sessions", tag = "playground",
    params(("tenant" = String, Path, description = "tenant id or slug")),
    request_body = NewPlaygroundSession,
    responses((status = 201, body = PlaygroundSession), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
    Json(new): Json<NewPlaygroundSession>,
) -> ApiResult<(StatusCode, Json<PlaygroundSession>)> {
    let access = session.tenant_for_change(&state, &tenant, USE).await?;
    let workspace = match new.workspace_id {
        None => None,
        Some(id) => Some(
            state
                .store
                .workspace(access.tenant.id, id)
                .await?
                .ok_or_else(|| {
                    ApiError::field("workspace_id", "names no workspace of this tenant")
                })?,
        ),
    };
    let agent_id = match (new.agent_id, &workspace) {
        (Some(id), _) => id,
        (None, Some(w)) => w.agent_id.ok_or_else(|| {
            ApiError::field(
                "workspace_id",
                format!("{} has no agent linked; link one or pick an agent", w.name),
            )
        })?,
        (None, None) => {
            return Err(ApiError::field(
                "agent_id",
                "pick an agent (or a workspace)",
            ))
        }
    };
    let primary = PlaygroundTarget {
        agent_id,
        version: new.version,
    };
    let mut lanes = vec![
        resolve_target(&state, &access, "agent_id", &primary)
            .await?
            .0,
    ];
    if let Some(compare) = &new.compare {
        lanes.push(resolve_target(&state, &access, "compare", compare).await?.0);
    }
    let title = new
        .title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| t.chars().take(120).collect())
        .unwrap_or_else(|| {
            let names: Vec<&str> = lanes.iter().map(|l| l.agent_name.as_str()).collect();
            names.join(" vs ")
        });
    let row = PlaygroundSessionRow {
        title,
        channel: workspace
            .as_ref()
            .map(|w| w.channel)
            .unwrap_or(Channel::WebForm),
        workspace: workspace.map(|w| (w.id, w.name)),
        lanes,
    };
    let created = state
        .store
        .create_playground_session(&access.actor, access.tenant.id, row)
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/playground/sessions/{id}", tag = "playground",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    responses((status = 403, body = Problem), (status = 200, body = PlaygroundTranscript), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
) -> ApiResult<Json<PlaygroundTranscript>> {
    let access = session.tenant(&state, &tenant, USE).await?;
    let found = session_of(&state, &access, id).await?;
    let messages = state
        .store
        .playground_messages(access.tenant.id, id)
        .await?;
    Ok(Json(PlaygroundTranscript {
        session: found,
        messages,
    }))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/playground/sessions/{id}", tag = "playground",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    responses((status = 403, body = Problem), (status = 204), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
) -> ApiResult<StatusCode> {
    let access = session.tenant_for_change(&state, &tenant, USE).await?;
    state.playground.cancel(id);
    state
        .store
        .delete_playground_session(&access.actor, access.tenant.id, id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/playground/sessions/{id}/cancel", tag = "playground",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    responses((status = 403, body = Problem), (status = 202, description = "the running reply stops and is stored as cancelled"),
        (status = 204, description = "no reply was running"), (status = 404, body = Problem),
        (status = 423, body = Problem)),
    security(("bearer" = [])))]
pub async fn cancel(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
) -> ApiResult<StatusCode> {
    let access = session.tenant_for_change(&state, &tenant, USE).await?;
    session_of(&state, &access, id).await?;
    Ok(if state.playground.cancel(id) {
        StatusCode::ACCEPTED
    } else {
        StatusCode::NO_CONTENT
    })
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/playground/sessions/{id}/messages/{message}/lead",
    tag = "playground",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path),
        ("message" = Uuid, Path)),
    request_body = SaveAsLead,
    responses((status = 403, body = Problem), (status = 201, body = Lead), (status = 200, body = Lead, description = "already saved: that lead"),
        (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn save_as_lead(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id, message)): Path<(String, Uuid, Uuid)>,
    Json(body): Json<SaveAsLead>,
) -> ApiResult<(StatusCode, Json<Lead>)> {
    let access = session
        .tenant_for_change(&state, &tenant, Need::Permission(Permission::LeadsEdit))
        .await?;
    session_of(&state, &access, id).await?;
    let t = &access.tenant;
    let msg = state
        .store
        .playground_messages(t.id, id)
        .await?
        .into_iter()
        .find(|m| m.id == message)
        .ok_or(ApiError::NotFound)?;
    if msg.role != PlaygroundRole::User {
        return Err(ApiError::field(
            "message",
            "is an agent's reply; save one of the lead's messages (yours) instead",
        ));
    }
    let now = state.clock.now();
    if let Some(lead_id) = msg.lead_id {
        if let Some(lead) = state.store.lead(t.id, lead_id, now).await? {
            return Ok((StatusCode::OK, Json(lead)));
        }
    }
    let input = LeadInput {
        name: body
            .name
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| "Playground lead".into()),
        email: body.email,
        phone: body.phone,
        message: msg.content.clone(),
        ..LeadInput::default()
    }
    .normalized()
    .map_err(ApiError::invalid)?;
    let (sla_due_at, sla_at_risk_at) = t.settings.sla_clock(now);
    let row = NewLeadRow {
        spam_reason: spam_reason(&input, &t.settings.spam_keywords),
        stage: t.settings.first_stage(),
        sla_due_at,
        sla_at_risk_at,
        source: LeadSource::Playground,
        input,
        received_at: None,
        workspace_id: None,
        import_key: None,
    };
    let limit = LeadLimit {
        tier: t.tier,
        limit: t.tier.lead_limit(),
    };
    // Keyed by the message: saving twice (or a retry after a failed link)
    // finds the same lead instead of making another.
    let idempotency = Idempotency {
        key: format!("playground:{message}"),
        body_hash: format!("playground:{message}"),
    };
    let lead = match state
        .store
        .insert_lead(&access.actor, t.id, row, limit, Some(idempotency), now)
        .await?
    {
        IngestOutcome::Created(lead) | IngestOutcome::Replayed(lead) => *lead,
        IngestOutcome::Duplicate => {
            return Err(ApiError::Internal(anyhow::anyhow!(
                "a playground lead was taken for an import duplicate"
            )))
        }
    };
    state
        .store
        .link_playground_lead(t.id, message, lead.id)
        .await?;
    state.notify(t.id);
    Ok((StatusCode::CREATED, Json(lead)))
}
