//! The event loop: terminal events, API replies and a slow tick in one
//! `select!`; requests run as spawned tasks; frames are drawn only when the
//! state changed, inside synchronized updates.

use std::io::{self, Stdout};
use std::sync::Arc;

use crossterm::clipboard::CopyToClipboard;
use crossterm::event::{Event, EventStream, KeyEventKind};
use crossterm::{execute, terminal};
use futures::StreamExt;
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use tokio::sync::mpsc;

use super::action::Action;
use super::app::App;
use super::contexts::{Connection, ContextMemory, Switcher};
use super::effect::{Effect, ReplyRequest, RequestId};
use super::keymap::Keymap;
use super::model_fetch::ModelFetchMsg;
use super::notifications::history::{HistoryStore, HistoryWriter, SavedHistory};
use super::playground::ReplyMsg;
use super::request::{execute as execute_request, Response};
use super::terminal::{install_panic_hook, suspend, FrameWriter, TerminalGuard};
use super::theme::Theme;
use super::widgets::toast::Toast;
use super::{ConsoleOptions, Exit};
use crate::api::Client;
use crate::domain::ServerEvent;
use crate::domain::{NewPlaygroundMessage, RegenerateReply};
use std::collections::HashMap;
use uuid::Uuid;

/// The loop's inbox besides the terminal: API replies, timers, live events.
// Messages are moved once and consumed at once; size does not matter here.
#[allow(clippy::large_enum_variant)]
enum Inbox {
    Response(RequestId, Response),
    Action(Action),
    Event(Uuid, ServerEvent),
    /// A playground reply streaming in.
    Reply(RequestId, ReplyMsg),
    /// The saved notification history of a user, read off the loop.
    History(Uuid, SavedHistory),
    /// `:ctx NAME` signed in to another context, or could not.
    Connected(String, Result<Connection, String>),
    /// The embedded model's download reporting.
    ModelFetch(ModelFetchMsg),
}

type Tx = mpsc::UnboundedSender<Inbox>;

type Term = Terminal<CrosstermBackend<FrameWriter<Stdout>>>;

/// Runs the console until the user quits or the session ends.
pub async fn run(client: Client, options: ConsoleOptions) -> anyhow::Result<Exit> {
    let (keymap, errors) = Keymap::with_overrides(&options.key_overrides);
    let no_color = options.no_color || std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let theme = if no_color {
        Theme::no_color()
    } else {
        Theme::default()
    };
    let mut app = App::new(keymap, theme, options.server_label);
    app.server_url = client.base_url().to_string();
    app.local_session = options.local_session;
    app.local_model.path = options.local_model_path;
    app.context = options.context;
    app.recall(options.memory);
    if let Some(s) = &options.contexts {
        app.context_names = s.0.names();
    }
    for e in errors {
        app.toast(Toast::error(format!("config: {e}")));
    }

    let mut history = options.history.map(History::new);

    install_panic_hook();
    let guard = TerminalGuard::enter()?;
    let result = match Terminal::new(CrosstermBackend::new(FrameWriter::new(io::stdout()))) {
        Ok(mut terminal) => match terminal.clear() {
            Ok(()) => {
                let switcher = options.contexts;
                let installer = options.model_installer;
                event_loop(
                    &mut terminal,
                    &mut app,
                    client,
                    &mut history,
                    switcher,
                    installer,
                )
                .await
            }
            Err(e) => Err(e.into()),
        },
        Err(e) => Err(e.into()),
    };
    drop(guard);
    if let Some(h) = history {
        // Whatever changed since the last tick (the quit saved it too).
        for effect in app.notifications.save_history() {
            if let Effect::SaveNotifications { user, history } = effect {
                h.writer.save(user, history);
            }
        }
        h.writer.finish(std::time::Duration::from_secs(2)).await;
    }
    result.map(|()| app.signed_out.map_or(Exit::Quit, Exit::SignedOut))
}

/// The notification history's file and its writer.
struct History {
    store: HistoryStore,
    writer: HistoryWriter,
}

impl History {
    fn new(store: HistoryStore) -> Self {
        Self {
            writer: HistoryWriter::spawn(store.clone()),
            store,
        }
    }
}

/// What talks to the server for the current context; replaced whole by a
/// context switch.
struct Live {
    client: Client,
    tx: Tx,
    rx: mpsc::UnboundedReceiver<Inbox>,
    /// The current tenant's live events, or (the Leads pane on the
    /// all-tenants queue) every tenant's.
    stream: Option<(Following, tokio::task::JoinHandle<()>)>,
    /// Playground replies streaming in; aborting a task drops its stream,
    /// which the server takes as a cancel.
    replies: Replies,
    /// API calls in flight.
    calls: tokio::task::JoinSet<()>,
    /// Downloads the embedded model (the binary's `model fetch`), when this
    /// console may.
    installer: Option<Arc<dyn super::model_fetch::ModelInstaller>>,
}

impl Live {
    fn new(client: Client) -> Self {
        let (tx, rx) = mpsc::unbounded_channel::<Inbox>();
        Self {
            client,
            tx,
            rx,
            stream: None,
            replies: HashMap::new(),
            calls: tokio::task::JoinSet::new(),
            installer: None,
        }
    }

    /// Ends everything of this session: the event stream, reply streams and
    /// API calls (their connections close). Replies already sent go to a
    /// channel nobody reads any more.
    fn teardown(&mut self) {
        if let Some((_, task)) = self.stream.take() {
            task.abort();
        }
        for (_, task) in self.replies.drain() {
            task.abort();
        }
        self.calls.abort_all();
        let (tx, rx) = mpsc::unbounded_channel::<Inbox>();
        self.tx = tx;
        self.rx = rx;
    }
}

async fn event_loop(
    terminal: &mut Term,
    app: &mut App,
    client: Client,
    history: &mut Option<History>,
    switcher: Option<Switcher>,
    installer: Option<Arc<dyn super::model_fetch::ModelInstaller>>,
) -> anyhow::Result<()> {
    let mut live = Live::new(client);
    live.installer = installer;
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // What was last remembered for the context, so each change is written once.
    let mut remembered: Option<(String, ContextMemory)> = None;

    let mut effects = app.start();
    if let Ok((w, h)) = terminal::size() {
        effects.extend(app.update(Action::Resize(w, h)));
    }
    apply(terminal, &mut live, history.as_ref(), &switcher, effects)?;
    let mut first_frame = true;
    loop {
        if app.quit {
            live.teardown();
            return Ok(());
        }
        follow_tenant(
            &mut live,
            app.session.current_tenant,
            app.leads.all_tenants(),
        );
        remember(app, &switcher, &mut remembered);
        if app.dirty {
            draw(terminal, app)?;
            if first_frame {
                first_frame = false;
                // `bench startup` reads this line's timestamp.
                tracing::info!(
                    width = app.viewport.0,
                    height = app.viewport.1,
                    "first frame"
                );
            }
        }
        while live.calls.try_join_next().is_some() {}
        let msg = tokio::select! {
            ev = events.next() => {
                let effects = match ev {
                    Some(Ok(Event::Key(key))) if key.kind != KeyEventKind::Release => app.on_key(key),
                    Some(Ok(Event::Paste(text))) => app.update(Action::Paste(text)),
                    Some(Ok(Event::Resize(w, h))) => app.update(Action::Resize(w, h)),
                    Some(Ok(_)) => Vec::new(),
                    Some(Err(e)) => return Err(e.into()),
                    // The terminal went away: nothing left to show.
                    None => return Ok(()),
                };
                apply(terminal, &mut live, history.as_ref(), &switcher, effects)?;
                None
            }
            Some(msg) = live.rx.recv() => Some(msg),
            _ = tick.tick() => {
                app.set_now(chrono::Utc::now());
                let effects = app.update(Action::Tick);
                apply(terminal, &mut live, history.as_ref(), &switcher, effects)?;
                None
            }
        };
        // Then what is already here, so one frame shows it all.
        let mut next = msg.or_else(|| live.rx.try_recv().ok());
        while let Some(msg) = next {
            match msg {
                Inbox::Connected(name, result) => {
                    let effects = match result {
                        Ok(conn) => switch_context(app, &mut live, history, &switcher, conn).await,
                        Err(e) => {
                            app.toast(Toast::error(format!("Could not switch to {name}: {e}")));
                            Vec::new()
                        }
                    };
                    apply(terminal, &mut live, history.as_ref(), &switcher, effects)?;
                }
                other => {
                    let effects = receive(app, other);
                    apply(terminal, &mut live, history.as_ref(), &switcher, effects)?;
                }
            }
            next = live.rx.try_recv().ok();
        }
    }
}

/// `:ctx` connected: the old session's streams and calls end, its
/// notification history is saved, and the console starts over on the new
/// server with the same keys, theme and size.
async fn switch_context(
    app: &mut App,
    live: &mut Live,
    history: &mut Option<History>,
    switcher: &Option<Switcher>,
    conn: Connection,
) -> Vec<Effect> {
    live.teardown();
    if let Some(h) = history.take() {
        for effect in app.notifications.save_history() {
            if let Effect::SaveNotifications { user, history } = effect {
                h.writer.save(user, history);
            }
        }
        h.writer.finish(std::time::Duration::from_secs(2)).await;
    }
    let mut next = App::new(app.keymap.clone(), app.theme.clone(), conn.label.clone());
    next.server_url = conn.client.base_url().to_string();
    next.local_session = conn.local_session;
    // A download under way goes on; its reports went to the old loop.
    next.local_model.path = app.local_model.path.clone();
    next.viewport = app.viewport;
    next.now = app.now;
    next.context = Some(conn.context.clone());
    next.context_names = switcher.as_ref().map(|s| s.0.names()).unwrap_or_default();
    next.recall(conn.memory);
    *app = next;
    live.client = conn.client;
    *history = conn.history.map(History::new);
    app.toast(Toast::success(format!(
        "Switched to context {} ({})",
        conn.context, conn.label
    )));
    let mut effects = app.start();
    let (w, h) = app.viewport;
    effects.extend(app.update(Action::Resize(w, h)));
    effects
}

/// Writes down what the context shows (its tenant, the recent tenants, the
/// Leads list's scope and search) when it changed, off the loop.
fn remember(
    app: &App,
    switcher: &Option<Switcher>,
    remembered: &mut Option<(String, ContextMemory)>,
) {
    let (Some(s), Some(context)) = (switcher, &app.context) else {
        return;
    };
    let Some(memory) = app.memory() else {
        return;
    };
    let now = (context.clone(), memory);
    if remembered.as_ref() == Some(&now) {
        return;
    }
    *remembered = Some(now.clone());
    let s = s.clone();
    tokio::task::spawn_blocking(move || s.0.remember(&now.0, &now.1));
}

fn receive(app: &mut App, msg: Inbox) -> Vec<Effect> {
    match msg {
        Inbox::Response(id, resp) => app.on_response(id, resp),
        Inbox::Reply(id, msg) => app.on_reply(id, msg),
        Inbox::Action(a) => app.update(a),
        Inbox::Event(tenant, ev) => app.on_event(tenant, ev),
        Inbox::History(user, saved) => {
            app.on_history(user, saved);
            Vec::new()
        }
        // The loop handles it: it replaces the session.
        Inbox::Connected(..) => Vec::new(),
        Inbox::ModelFetch(msg) => app.on_model_fetch(msg),
    }
}

/// Which live events the console follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Following {
    Tenant(Uuid),
    /// Every tenant's, whichever is current: switching the current tenant
    /// keeps this stream (reopening it would start from "now" and drop
    /// what arrived in between).
    AllTenants,
}

/// Keeps one event stream open: the current tenant's, or every tenant's
/// while the Leads pane lists the all-tenants queue (it carries the current
/// tenant's events too, so one connection is enough).
fn follow_tenant(live: &mut Live, current: Option<Uuid>, all_tenants: bool) {
    let Some(tenant) = current else {
        if let Some((_, task)) = live.stream.take() {
            task.abort();
        }
        return;
    };
    let want = if all_tenants {
        Following::AllTenants
    } else {
        Following::Tenant(tenant)
    };
    if live.stream.as_ref().map(|(k, _)| *k) == Some(want) {
        return;
    }
    if let Some((_, task)) = live.stream.take() {
        task.abort();
    }
    let task = tokio::spawn(stream_events(
        live.client.clone(),
        tenant,
        all_tenants,
        live.tx.clone(),
    ));
    live.stream = Some((want, task));
}

/// Forwards live events into the loop until aborted: `tenant`'s, or with
/// `all` every tenant's, each routed as its own tenant's. When the stream
/// ends or fails it reconnects after a growing pause, resuming after the
/// last event seen so none is lost or repeated. (Event ids are one order
/// across tenants, so one id resumes every tenant's stream.)
async fn stream_events(client: Client, tenant: Uuid, all: bool, tx: Tx) {
    let mut last_id = None;
    let mut backoff = std::time::Duration::from_secs(1);
    let max = std::time::Duration::from_secs(30);
    loop {
        let opened = if all {
            client.all_events(last_id).await
        } else {
            client.events(&tenant.to_string(), last_id).await
        };
        // The server ends the stream when the session ends (signed out
        // everywhere, from another device too): the reconnect is refused.
        if let Err(e) = &opened {
            if App::session_ended(e) {
                let _ = tx.send(Inbox::Action(Action::SessionEnded));
                return;
            }
            tracing::debug!(error = %e, all, "live events: could not connect; retrying");
        }
        if let Ok(mut events) = opened {
            while let Some(Ok(ev)) = events.next().await {
                last_id = Some(ev.id);
                backoff = std::time::Duration::from_secs(1);
                let from = match ev.tenant() {
                    Some(t) if all => t.id,
                    _ => tenant,
                };
                if tx.send(Inbox::Event(from, ev)).is_err() {
                    return; // the loop ended
                }
            }
            tracing::debug!(?last_id, all, "live events: stream ended; resuming");
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(max);
    }
}

type Replies = HashMap<RequestId, tokio::task::JoinHandle<()>>;

/// Sends a playground message and forwards its reply, event by event, into
/// the loop: the same path the live events take, so keys keep working
/// while it streams.
async fn stream_reply(client: Client, id: RequestId, req: ReplyRequest, tx: Tx) {
    let send = |msg| tx.send(Inbox::Reply(id, msg)).is_ok();
    let o = req.overrides;
    let opened = match req.regenerate {
        Some(r) => {
            let body = RegenerateReply {
                lane: r.lane,
                version: r.version,
                temperature: o.temperature,
                max_tokens: o.max_tokens,
            };
            client
                .regenerate_playground_reply(&req.tenant, req.session, &body)
                .await
        }
        None => {
            let body = NewPlaygroundMessage {
                content: req.content,
                temperature: o.temperature,
                max_tokens: o.max_tokens,
            };
            client
                .send_playground_message_with(&req.tenant, req.session, &body)
                .await
        }
    };
    let mut stream = match opened {
        Ok(s) => s,
        Err(e) => {
            send(ReplyMsg::Refused(e));
            return;
        }
    };
    while let Some(ev) = stream.next().await {
        let ok = match ev {
            Ok(ev) => send(ReplyMsg::Event(ev)),
            Err(e) => {
                send(ReplyMsg::Broken(e));
                break;
            }
        };
        if !ok {
            return; // the loop ended
        }
    }
    send(ReplyMsg::Ended);
}

fn apply(
    terminal: &mut Term,
    live: &mut Live,
    history: Option<&History>,
    switcher: &Option<Switcher>,
    effects: Vec<Effect>,
) -> anyhow::Result<()> {
    let Live {
        client,
        tx,
        replies,
        calls,
        installer,
        ..
    } = live;
    replies.retain(|_, task| !task.is_finished());
    for effect in effects {
        match effect {
            Effect::StreamReply(id, req) => {
                let task = tokio::spawn(stream_reply(client.clone(), id, req, tx.clone()));
                replies.insert(id, task);
            }
            Effect::DropReply(id) => {
                if let Some(task) = replies.remove(&id) {
                    task.abort();
                }
            }
            Effect::Api(id, req) => {
                let client = client.clone();
                let tx = tx.clone();
                calls.spawn(async move {
                    let resp = execute_request(&client, req).await;
                    // The loop may have ended; the reply has nowhere to go then.
                    let _ = tx.send(Inbox::Response(id, resp));
                });
            }
            Effect::After(delay, action) => {
                let tx = tx.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    let _ = tx.send(Inbox::Action(action));
                });
            }
            Effect::CopyToClipboard(text) => {
                // OSC 52: the terminal sets its clipboard, over SSH too.
                execute!(
                    terminal.backend_mut(),
                    CopyToClipboard::to_clipboard_from(text.as_bytes())
                )?;
            }
            Effect::LoadNotifications { user } => {
                if let Some(h) = history {
                    let store = h.store.clone();
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        let read = tokio::task::spawn_blocking(move || store.load(user));
                        let saved = read.await.unwrap_or_else(|e| {
                            tracing::error!(error = %e, "cannot read the notification history");
                            SavedHistory::default()
                        });
                        let _ = tx.send(Inbox::History(user, saved));
                    });
                }
            }
            Effect::SaveNotifications {
                user,
                history: saved,
            } => {
                if let Some(h) = history {
                    h.writer.save(user, saved);
                }
            }
            Effect::Suspend => {
                suspend(terminal)?;
                // The terminal may have been resized meanwhile.
                if let Ok((w, h)) = terminal::size() {
                    let _ = tx.send(Inbox::Action(Action::Resize(w, h)));
                }
            }
            Effect::SwitchContext(name) => match switcher {
                Some(s) => {
                    let s = s.clone();
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        let result = s.0.connect(&name).await.map_err(|e| format!("{e:#}"));
                        let _ = tx.send(Inbox::Connected(name, result));
                    });
                }
                None => {
                    let why = "this console has no contexts".to_string();
                    let _ = tx.send(Inbox::Connected(name, Err(why)));
                }
            },
            Effect::FetchModel(dest) => {
                tokio::spawn(fetch_model(installer.clone(), dest, tx.clone()));
            }
            Effect::Quit => {}
        }
    }
    Ok(())
}

/// Installs the embedded model with its progress in a channel (nothing may
/// reach the terminal the console draws on), forwarding it to the loop.
async fn fetch_model(
    installer: Option<Arc<dyn super::model_fetch::ModelInstaller>>,
    dest: std::path::PathBuf,
    tx: Tx,
) {
    use crate::domain::model_fetch::FetchProgress;
    let Some(installer) = installer else {
        let why = "this console cannot install the model here; run `switchboard model fetch`";
        let _ = tx.send(Inbox::ModelFetch(ModelFetchMsg::Failed(why.into())));
        return;
    };
    let (progress, mut seen) = tokio::sync::watch::channel(FetchProgress::default());
    let work = tokio::spawn(installer.install(dest, progress));
    // Ends when the fetch drops its sender, i.e. when it is over.
    while seen.changed().await.is_ok() {
        let now = *seen.borrow_and_update();
        if tx
            .send(Inbox::ModelFetch(ModelFetchMsg::Progress(now)))
            .is_err()
        {
            break; // the loop ended; the fetch still completes
        }
    }
    let msg = match work.await {
        Ok(Ok(())) => ModelFetchMsg::Done,
        Ok(Err(why)) => {
            tracing::warn!(error = %why, "the console's model fetch failed");
            ModelFetchMsg::Failed(why)
        }
        Err(e) => ModelFetchMsg::Failed(format!("the download task stopped: {e}")),
    };
    let _ = tx.send(Inbox::ModelFetch(msg));
}

/// Draws and sends the changed cells as one synchronized update; a redraw
/// that changed nothing sends nothing.
fn draw(terminal: &mut Term, app: &mut App) -> anyhow::Result<()> {
    // `draw` ends with a flush: FrameWriter sends the frame then.
    terminal.draw(|frame| super::ui::draw(frame, app))?;
    app.dirty = false;
    Ok(())
}

#[cfg(test)]
#[path = "runtime_stream_tests.rs"]
mod stream_tests;
