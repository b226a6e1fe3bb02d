//! The playground: sessions with an agent (or two, compared), replies
//! streamed token by token as server-sent events, transcripts persisted with
//! their stats, and "save as lead".
//!
//! A reply runs in a task of its own, so it is stored whatever happens to
//! the request: the client closing the stream or `POST …/cancel` stops the
//! generation and keeps the text so far as a cancelled reply.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::access::{Access, Need};
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Path, Session};
use super::AppState;
use crate::domain::knowledge::{KnowledgeMode, KnowledgeSnippet, SnippetRef};
use crate::domain::lead::spam_reason;
use crate::domain::playground::lead_context;
use crate::domain::research::{draft_instruction, WorkflowSources};
use crate::domain::{
    AgentConfig, Channel, Lead, LeadInput, LeadSource, NewPlaygroundMessage, NewPlaygroundSession,
    Permission, PlaygroundEvent, PlaygroundLane, PlaygroundMessage, PlaygroundRole,
    PlaygroundSession, PlaygroundTarget, PlaygroundTranscript, Problem, ReplyStats, ReplyStatus,
    SaveAsLead,
};
use crate::llm::{
    CancellationToken, ChatMessage, ChatRole, Chunk, ChunkReceiver, GenerateRequest,
    GenerationStats, LlmError, Provider,
};
use crate::store::{
    Idempotency, IngestOutcome, LeadLimit, NewLeadRow, PlaygroundMessageRow, PlaygroundReplyRow,
    PlaygroundSessionRow,
};

const USE: Need = Need::Permission(Permission::PlaygroundUse);

/// Roughly how much earlier conversation a reply sees, in characters: the
/// local model's context is 4096 tokens, and the reply needs room too.
const HISTORY_CHARS: usize = 9_000;

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

/// One agent/version a message goes to, resolved and ready to run.
struct Lane {
    index: u8,
    agent_id: Uuid,
    version: u32,
    config: AgentConfig,
    provider: Arc<dyn Provider>,
    model: String,
    /// The knowledge retrieved for the message, put in the prompt.
    snippets: Vec<KnowledgeSnippet>,
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

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/playground/sessions/{id}/messages", tag = "playground",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    request_body = NewPlaygroundMessage,
    responses((status = 403, body = Problem), (status = 200, description = "text/event-stream: message, token…, reply (one per lane), done"),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem),
        (status = 502, body = Problem), (status = 503, body = Problem)),
    security(("bearer" = [])))]
pub async fn send(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
    Json(new): Json<NewPlaygroundMessage>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let access = session.tenant_for_change(&state, &tenant, USE).await?;
    let found = session_of(&state, &access, id).await?;
    let text = new.validated().map_err(ApiError::invalid)?;
    // Everything that can refuse the message does so before anything is stored.
    let mut lanes = Vec::new();
    for (index, lane) in found.lanes.iter().enumerate() {
        let target = PlaygroundTarget {
            agent_id: lane.agent_id,
            version: lane.version,
        };
        let (_, version, config, owner) = resolve_target(&state, &access, "agent_id", &target)
            .await
            .map_err(|_| ApiError::Conflict {
                field: "agent_id".into(),
                detail: format!(
                    "{} (or its pinned version) is no longer available to this tenant; \
                     start a new session with another agent",
                    lane.agent_name
                ),
            })?;
        let secrets = &access.tenant.settings.secrets;
        let (provider, model) = state
            .providers
            .resolve_for(&config.model, secrets)
            .map_err(|e| ApiError::model(e, session.user.platform_admin))?;
        // The same retrieval the workflow's research step does.
        let key = (owner, lane.agent_id);
        let (_, snippets) =
            super::knowledge::retrieve(&state, access.tenant.id, key, &text).await?;
        lanes.push(Lane {
            index: index as u8,
            agent_id: lane.agent_id,
            version,
            config,
            provider,
            model,
            snippets,
        });
    }
    let generations = state
        .generations
        .try_take(access.tenant.id, lanes.len())
        .ok_or_else(|| ApiError::Busy {
            retry_after: 5,
            why: format!(
                "{} is already running {} model replies (playground and workflows share \
                 the model, at most {} at once per tenant); retry when one finishes",
                access.tenant.name,
                state.generations.held(access.tenant.id),
                state.settings.generations_per_tenant
            ),
        })?;
    let run = state
        .playground
        .start(id)
        .ok_or_else(|| ApiError::Conflict {
            field: "session".into(),
            detail: "a reply is still streaming in this session; stop it or wait for it to finish"
                .into(),
        })?;
    let history = state
        .store
        .playground_messages(access.tenant.id, id)
        .await?;
    let context = lead_context(found.channel, found.workspace_name.as_deref());
    // Start every lane: a provider that fails before its first token
    // (unreachable, unknown model) refuses the message, and nothing is stored.
    let mut started = Vec::new();
    for lane in lanes {
        let req = GenerateRequest {
            model: lane.model.clone(),
            messages: conversation(&history, &text, &lane, &context),
            temperature: lane.config.temperature,
            max_tokens: lane.config.max_tokens,
            starts: Vec::new(),
            stop: Vec::new(),
        };
        let at = Instant::now();
        let chunks = lane
            .provider
            .generate(req, run.cancel.clone())
            .await
            .map_err(|e| ApiError::model(e, session.user.platform_admin))?;
        started.push(Started { lane, chunks, at });
    }
    let user = state
        .store
        .add_playground_message(access.tenant.id, id, PlaygroundMessageRow::User(text))
        .await?;

    let (tx, rx) = mpsc::channel::<PlaygroundEvent>(256);
    let turn = Turn {
        state: state.clone(),
        tenant: access.tenant.id,
        session: id,
        user,
        _generations: generations,
    };
    tokio::spawn(turn.run(started, run, tx));
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        let ev = rx.recv().await?;
        let event = Event::default()
            .event(ev.name())
            .data(ev.data().to_string());
        Some((Ok(event), rx))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// The conversation a lane's model sees: its system prompt with the lead
/// context, then the earlier turns (the lane's own replies), then the new
/// message; the oldest turns go first when it grows too long.
fn conversation(
    history: &[PlaygroundMessage],
    text: &str,
    lane: &Lane,
    context: &str,
) -> Vec<ChatMessage> {
    let earlier = history.iter().filter_map(|m| match m.role {
        PlaygroundRole::User => Some(ChatMessage::new(ChatRole::User, m.content.clone())),
        PlaygroundRole::Assistant if m.lane == Some(lane.index) && !m.content.is_empty() => {
            Some(ChatMessage::new(ChatRole::Assistant, m.content.clone()))
        }
        PlaygroundRole::Assistant => None,
    });
    let mut turns: Vec<ChatMessage> = earlier
        .chain(std::iter::once(ChatMessage::new(ChatRole::User, text)))
        .collect();
    let mut total: usize = turns.iter().map(|m| m.content.len()).sum();
    while turns.len() > 1 && total > HISTORY_CHARS {
        total -= turns.remove(0).content.len();
    }
    // A conversation starts with the lead speaking.
    while turns.len() > 1 && turns[0].role != ChatRole::User {
        turns.remove(0);
    }
    let mut system = format!("{}\n\n{context}", lane.config.system_prompt);
    if !lane.snippets.is_empty() {
        let sources = WorkflowSources {
            knowledge: KnowledgeMode::All,
            snippets: lane.snippets.clone(),
            ..WorkflowSources::default()
        };
        system.push_str(&format!(
            "\n\n{}\n{}",
            sources.context(),
            draft_instruction()
        ));
    }
    let mut out = vec![ChatMessage::new(ChatRole::System, system)];
    out.extend(turns);
    out
}

/// One user message and the replies to it.
struct Turn {
    state: AppState,
    tenant: Uuid,
    session: Uuid,
    user: PlaygroundMessage,
    /// The tenant's generations this turn holds until its lanes finish.
    _generations: crate::server::slots::Slot,
}

/// A lane whose generation has started.
struct Started {
    lane: Lane,
    chunks: ChunkReceiver,
    /// When `generate` was called: time to first token counts from here.
    at: Instant,
}

impl Turn {
    async fn run(self, lanes: Vec<Started>, run: RunGuard, tx: mpsc::Sender<PlaygroundEvent>) {
        let _ = tx.send(PlaygroundEvent::Message(self.user.clone())).await;
        let cancel = run.cancel.clone();
        let this = Arc::new(self);
        let tasks: Vec<_> = lanes
            .into_iter()
            .map(|lane| tokio::spawn(this.clone().reply(lane, cancel.clone(), tx.clone())))
            .collect();
        let all = futures::future::join_all(tasks);
        tokio::pin!(all);
        // A client that goes away cancels the replies (they are still stored).
        tokio::select! {
            _ = &mut all => {}
            _ = tx.closed() => {
                cancel.cancel();
                all.await;
            }
        }
        let _ = tx.send(PlaygroundEvent::Done).await;
        drop(run);
    }

    async fn reply(
        self: Arc<Self>,
        started: Started,
        cancel: CancellationToken,
        tx: mpsc::Sender<PlaygroundEvent>,
    ) {
        let Started {
            lane,
            mut chunks,
            at: started,
        } = started;
        let mut content = String::new();
        let mut tokens = 0u32;
        let mut first_token: Option<Duration> = None;
        let mut provider_stats = None;
        let mut error = None;
        let status = loop {
            let chunk = tokio::select! {
                _ = cancel.cancelled() => break ReplyStatus::Cancelled,
                chunk = chunks.recv() => chunk,
            };
            match chunk {
                Some(Ok(Chunk::Token(text))) => {
                    first_token.get_or_insert_with(|| started.elapsed());
                    tokens += 1;
                    content.push_str(&text);
                    let event = PlaygroundEvent::Token {
                        lane: lane.index,
                        text,
                    };
                    if tx.send(event).await.is_err() {
                        cancel.cancel();
                        break ReplyStatus::Cancelled;
                    }
                }
                Some(Ok(Chunk::Done(stats))) => {
                    provider_stats = Some(stats);
                    break ReplyStatus::Complete;
                }
                Some(Err(LlmError::Cancelled)) => break ReplyStatus::Cancelled,
                Some(Err(e)) => {
                    // Kept with the message for the tenant: no internals.
                    tracing::warn!(error = %e, "a playground reply failed");
                    error = Some(e.public_message());
                    break ReplyStatus::Failed;
                }
                None if cancel.is_cancelled() => break ReplyStatus::Cancelled,
                None => {
                    error = Some("the model provider stopped without finishing".into());
                    break ReplyStatus::Failed;
                }
            }
        };
        let elapsed = started.elapsed();
        if status == ReplyStatus::Cancelled && provider_stats.is_none() {
            provider_stats = counts_after_cancel(&mut chunks).await;
        }
        drop(chunks);
        let stats = (status != ReplyStatus::Failed || tokens > 0).then(|| {
            let decode = elapsed.saturating_sub(first_token.unwrap_or_default());
            let local_rate = if tokens > 1 && decode.as_secs_f64() > 0.0 {
                f64::from(tokens - 1) / decode.as_secs_f64()
            } else {
                0.0
            };
            let p = provider_stats.unwrap_or_default();
            ReplyStats {
                agent_id: lane.agent_id,
                model: lane.config.model.clone(),
                prompt_version: lane.version,
                prompt_tokens: p.prompt_tokens,
                completion_tokens: if p.completion_tokens > 0 {
                    p.completion_tokens
                } else {
                    tokens
                },
                time_to_first_token_ms: first_token.unwrap_or(elapsed).as_millis() as u64,
                tokens_per_second: if p.tokens_per_second > 0.0 {
                    p.tokens_per_second
                } else {
                    local_rate
                },
                duration_ms: elapsed.as_millis() as u64,
                snippets: lane.snippets.iter().map(SnippetRef::from).collect(),
            }
        });
        let row = PlaygroundMessageRow::Reply(PlaygroundReplyRow {
            lane: lane.index,
            content,
            status,
            error,
            stats,
        });
        let event = match self
            .state
            .store
            .add_playground_message(self.tenant, self.session, row)
            .await
        {
            Ok(stored) => PlaygroundEvent::Reply(stored),
            Err(e) => {
                let err = ApiError::from(e);
                tracing::error!(error = %err, session = %self.session, "cannot store a playground reply");
                PlaygroundEvent::Error(err.problem())
            }
        };
        let _ = tx.send(event).await;
    }
}

/// How long a cancelled reply waits for its provider's counts: the local
/// model stops within a token (or a prompt batch) and then reports them.
const COUNTS_AFTER_CANCEL: Duration = Duration::from_secs(3);

/// The counts a provider reports for a generation that was stopped (the
/// local model does: its prompt tokens above all), or `None` when it ends
/// without them or takes too long.
async fn counts_after_cancel(chunks: &mut ChunkReceiver) -> Option<GenerationStats> {
    let drain = async {
        while let Some(item) = chunks.recv().await {
            match item {
                Ok(Chunk::Done(stats)) => return Some(stats),
                Ok(Chunk::Token(_)) => {}
                Err(_) => return None,
            }
        }
        None
    };
    tokio::time::timeout(COUNTS_AFTER_CANCEL, drain)
        .await
        .ok()
        .flatten()
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
