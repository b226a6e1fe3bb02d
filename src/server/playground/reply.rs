//! A reply: a message sent (`POST …/messages`) or the last one answered
//! again (`POST …/regenerate`), its lanes resolved and started before
//! anything is stored, then streamed token by token and stored with stats.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{resolve_target, session_of, RunGuard, USE};
use crate::domain::knowledge::{KnowledgeMode, KnowledgeSnippet, SnippetRef};
use crate::domain::playground::{lead_context, replaced};
use crate::domain::research::{draft_instruction, WorkflowSources};
use crate::domain::{
    AgentConfig, NewPlaygroundMessage, PlaygroundEvent, PlaygroundMessage, PlaygroundRole,
    PlaygroundSession, PlaygroundTarget, Problem, RegenerateReply, ReplyOverrides, ReplyStats,
    ReplyStatus,
};
use crate::llm::{
    CancellationToken, ChatMessage, ChatRole, Chunk, ChunkReceiver, GenerateRequest,
    GenerationStats, LlmError, Provider,
};
use crate::server::access::Access;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::{Json, Path, Session};
use crate::server::AppState;
use crate::store::{PlaygroundMessageRow, PlaygroundReplyRow};

/// Roughly how much earlier conversation a reply sees, in characters: the
/// local model's context is 4096 tokens, and the reply needs room too.
const HISTORY_CHARS: usize = 9_000;

/// One agent/version a message goes to, resolved and ready to run.
struct Lane {
    index: u8,
    agent_id: Uuid,
    /// The agent's owner tenant (another for a shared agent).
    owner: Uuid,
    version: u32,
    config: AgentConfig,
    provider: Arc<dyn Provider>,
    model: String,
    /// The knowledge retrieved for the message, put in the prompt.
    snippets: Vec<KnowledgeSnippet>,
}

/// What a reply answers: which lanes, with which version of lane `version.0`
/// (a regenerate after a prompt edit), with which overrides.
struct Ask<'a> {
    lanes: Vec<u8>,
    version: Option<(u8, u32)>,
    overrides: ReplyOverrides,
    text: &'a str,
}

/// Resolves each lane asked for: everything that can refuse the message
/// does so here, before anything is stored.
async fn resolve_lanes(
    state: &AppState,
    access: &Access,
    platform_admin: bool,
    found: &PlaygroundSession,
    ask: &Ask<'_>,
) -> ApiResult<Vec<Lane>> {
    let mut lanes = Vec::new();
    for (index, lane) in found.lanes.iter().enumerate() {
        let index = index as u8;
        if !ask.lanes.contains(&index) {
            continue;
        }
        let target = PlaygroundTarget {
            agent_id: lane.agent_id,
            version: lane.version,
        };
        let gone = |_| ApiError::Conflict {
            field: "agent_id".into(),
            detail: format!(
                "{} (or its pinned version) is no longer available to this tenant; \
                 start a new session with another agent",
                lane.agent_name
            ),
        };
        let (_, mut version, mut config, owner) =
            resolve_target(state, access, "agent_id", &target)
                .await
                .map_err(gone)?;
        if let Some((_, v)) = ask.version.filter(|(l, _)| *l == index) {
            let target = PlaygroundTarget {
                agent_id: lane.agent_id,
                version: Some(v),
            };
            (_, version, config, _) = resolve_target(state, access, "version", &target).await?;
        }
        let secrets = &access.tenant.settings.secrets;
        let (provider, model) = state
            .providers
            .resolve_for(&config.model, secrets)
            .map_err(|e| ApiError::model(e, platform_admin))?;
        // The same retrieval the workflow's research step does.
        let key = (owner, lane.agent_id);
        let (_, snippets) =
            crate::server::knowledge::retrieve(state, access.tenant.id, key, ask.text).await?;
        lanes.push(Lane {
            index,
            agent_id: lane.agent_id,
            owner,
            version,
            config,
            provider,
            model,
            snippets,
        });
    }
    Ok(lanes)
}

/// The tenant's generations and the session's one running reply, or why not.
fn claim(
    state: &AppState,
    access: &Access,
    session: Uuid,
    lanes: usize,
) -> ApiResult<(crate::server::slots::Slot, RunGuard)> {
    let generations = state
        .generations
        .try_take(access.tenant.id, lanes)
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
        .start(session)
        .ok_or_else(|| ApiError::Conflict {
            field: "session".into(),
            detail: "a reply is still streaming in this session; stop it or wait for it to finish"
                .into(),
        })?;
    Ok((generations, run))
}

/// Starts every lane: a provider that fails before its first token
/// (unreachable, unknown model) refuses the message, and nothing is stored.
async fn start(
    lanes: Vec<Lane>,
    history: &[PlaygroundMessage],
    ask: &Ask<'_>,
    context: &str,
    run: &RunGuard,
    platform_admin: bool,
) -> ApiResult<Vec<Started>> {
    let mut started = Vec::new();
    for lane in lanes {
        let req = GenerateRequest {
            model: lane.model.clone(),
            messages: conversation(history, ask.text, &lane, context),
            temperature: ask.overrides.temperature.unwrap_or(lane.config.temperature),
            max_tokens: ask.overrides.max_tokens.unwrap_or(lane.config.max_tokens),
            starts: Vec::new(),
            stop: Vec::new(),
        };
        let at = Instant::now();
        let chunks = lane
            .provider
            .generate(req, run.cancel.clone())
            .await
            .map_err(|e| ApiError::model(e, platform_admin))?;
        started.push(Started {
            lane,
            chunks,
            at,
            overrides: ask.overrides,
        });
    }
    Ok(started)
}

/// Runs the turn in a task of its own and streams its events.
fn stream(
    turn: Turn,
    started: Vec<Started>,
    run: RunGuard,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let (tx, rx) = mpsc::channel::<PlaygroundEvent>(256);
    tokio::spawn(turn.run(started, run, tx));
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        let ev = rx.recv().await?;
        let event = Event::default()
            .event(ev.name())
            .data(ev.data().to_string());
        Some((Ok(event), rx))
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
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
    let admin = session.user.platform_admin;
    let ask = Ask {
        lanes: (0..found.lanes.len().max(1) as u8).collect(),
        version: None,
        overrides: new.overrides(),
        text: &text,
    };
    let lanes = resolve_lanes(&state, &access, admin, &found, &ask).await?;
    let (generations, run) = claim(&state, &access, id, lanes.len())?;
    let history = state
        .store
        .playground_messages(access.tenant.id, id)
        .await?;
    let context = lead_context(found.channel, found.workspace_name.as_deref());
    let started = start(lanes, &history, &ask, &context, &run, admin).await?;
    let user = state
        .store
        .add_playground_message(
            access.tenant.id,
            id,
            PlaygroundMessageRow::User(text.clone()),
        )
        .await?;
    let turn = Turn {
        state: state.clone(),
        tenant: access.tenant.id,
        session: id,
        user,
        _generations: generations,
    };
    Ok(stream(turn, started, run))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/playground/sessions/{id}/regenerate", tag = "playground",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    request_body = RegenerateReply,
    responses((status = 403, body = Problem), (status = 200, description = "text/event-stream: message (the one answered again), token…, reply (one per lane regenerated), done"),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem),
        (status = 502, body = Problem), (status = 503, body = Problem)),
    security(("bearer" = [])))]
pub async fn regenerate(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
    Json(body): Json<RegenerateReply>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let access = session.tenant_for_change(&state, &tenant, USE).await?;
    let found = session_of(&state, &access, id).await?;
    let chosen = body
        .validated(found.lanes.len())
        .map_err(ApiError::invalid)?;
    let admin = session.user.platform_admin;
    let mut history = state
        .store
        .playground_messages(access.tenant.id, id)
        .await?;
    let last = history
        .iter()
        .rposition(|m| m.role == PlaygroundRole::User)
        .ok_or_else(|| ApiError::Conflict {
            field: "session".into(),
            detail: "nothing to regenerate yet: send a message first".into(),
        })?;
    // The conversation before the message, which is answered again.
    let user = history.split_off(last).swap_remove(0);
    let ask = Ask {
        version: body.version.map(|v| (chosen[0], v)),
        lanes: chosen,
        overrides: body.overrides(),
        text: &user.content,
    };
    let lanes = resolve_lanes(&state, &access, admin, &found, &ask).await?;
    let (generations, run) = claim(&state, &access, id, lanes.len())?;
    let context = lead_context(found.channel, found.workspace_name.as_deref());
    let started = start(lanes, &history, &ask, &context, &run, admin).await?;
    let turn = Turn {
        state: state.clone(),
        tenant: access.tenant.id,
        session: id,
        user: user.clone(),
        _generations: generations,
    };
    Ok(stream(turn, started, run))
}

/// The conversation a lane's model sees: its system prompt with the lead
/// context, then the earlier turns (the lane's own newest replies), then the new
/// message; the oldest turns go first when it grows too long.
fn conversation(
    history: &[PlaygroundMessage],
    text: &str,
    lane: &Lane,
    context: &str,
) -> Vec<ChatMessage> {
    // A regenerated reply replaced the one before it: only the newest goes on.
    let replaced = replaced(history);
    let earlier = history
        .iter()
        .zip(replaced)
        .filter_map(|(m, gone)| match m.role {
            PlaygroundRole::User => Some(ChatMessage::new(ChatRole::User, m.content.clone())),
            PlaygroundRole::Assistant
                if !gone && m.lane == Some(lane.index) && !m.content.is_empty() =>
            {
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
    /// The session's overrides it was generated with, kept with the reply.
    overrides: ReplyOverrides,
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
            overrides,
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
                temperature: overrides.temperature,
                max_tokens: overrides.max_tokens,
            }
        });
        if let Some(s) = &stats {
            self.state
                .count_generation(self.tenant, s.prompt_tokens, s.completion_tokens);
        }
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
            Ok(stored) => {
                if status == ReplyStatus::Complete {
                    crate::server::agents::count_use(
                        &self.state,
                        self.tenant,
                        lane.owner,
                        lane.agent_id,
                    )
                    .await;
                }
                PlaygroundEvent::Reply(stored)
            }
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
