//! The event loop: terminal events, API replies and a slow tick in one
//! `select!`; requests run as spawned tasks; frames are drawn only when the
//! state changed, inside synchronized updates.

use std::io::{self, Stdout};

use crossterm::clipboard::CopyToClipboard;
use crossterm::event::{Event, EventStream, KeyEventKind};
use crossterm::{execute, terminal};
use futures::StreamExt;
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use tokio::sync::mpsc;

use super::action::Action;
use super::app::App;
use super::effect::{Effect, ReplyRequest, RequestId};
use super::keymap::Keymap;
use super::notifications::history::{HistoryStore, HistoryWriter, SavedHistory};
use super::playground::ReplyMsg;
use super::request::{execute as execute_request, Response};
use super::terminal::{install_panic_hook, suspend, FrameWriter, TerminalGuard};
use super::theme::Theme;
use super::widgets::toast::Toast;
use super::{ConsoleOptions, Exit};
use crate::api::Client;
use crate::domain::ServerEvent;
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
    for e in errors {
        app.toast(Toast::error(format!("config: {e}")));
    }

    let history = options.history.map(|store| History {
        writer: HistoryWriter::spawn(store.clone()),
        store,
    });

    install_panic_hook();
    let guard = TerminalGuard::enter()?;
    let result = match Terminal::new(CrosstermBackend::new(FrameWriter::new(io::stdout()))) {
        Ok(mut terminal) => match terminal.clear() {
            Ok(()) => event_loop(&mut terminal, &mut app, client, history.as_ref()).await,
            Err(e) => Err(e.into()),
        },
        Err(e) => Err(e.into()),
    };
    drop(guard);
    if let Some(h) = history {
        // Whatever changed since the last tick (the quit saved it too).
        for effect in app.save_history() {
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

async fn event_loop(
    terminal: &mut Term,
    app: &mut App,
    client: Client,
    history: Option<&History>,
) -> anyhow::Result<()> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Inbox>();
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut stream: Option<(Uuid, tokio::task::JoinHandle<()>)> = None;
    // Playground replies streaming in; aborting a task drops its stream,
    // which the server takes as a cancel.
    let mut replies: Replies = HashMap::new();

    let mut effects = app.start();
    if let Ok((w, h)) = terminal::size() {
        effects.extend(app.update(Action::Resize(w, h)));
    }
    apply(terminal, &client, &tx, &mut replies, history, effects)?;
    let mut first_frame = true;
    loop {
        if app.quit {
            if let Some((_, task)) = stream.take() {
                task.abort();
            }
            for (_, task) in replies.drain() {
                task.abort();
            }
            return Ok(());
        }
        follow_tenant(&mut stream, app.session.current_tenant, &client, &tx);
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
        let effects = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(key))) if key.kind != KeyEventKind::Release => app.on_key(key),
                Some(Ok(Event::Paste(text))) => app.update(Action::Paste(text)),
                Some(Ok(Event::Resize(w, h))) => app.update(Action::Resize(w, h)),
                Some(Ok(_)) => Vec::new(),
                Some(Err(e)) => return Err(e.into()),
                // The terminal went away: nothing left to show.
                None => return Ok(()),
            },
            Some(msg) = rx.recv() => receive(app, msg),
            _ = tick.tick() => {
                app.set_now(chrono::Utc::now());
                app.update(Action::Tick)
            }
        };
        apply(terminal, &client, &tx, &mut replies, history, effects)?;
        // Drain what is already here so one frame shows it all.
        while let Ok(msg) = rx.try_recv() {
            let effects = receive(app, msg);
            apply(terminal, &client, &tx, &mut replies, history, effects)?;
        }
    }
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
    }
}

/// Keeps one event stream open, for the current tenant.
fn follow_tenant(
    stream: &mut Option<(Uuid, tokio::task::JoinHandle<()>)>,
    current: Option<Uuid>,
    client: &Client,
    tx: &Tx,
) {
    if stream.as_ref().map(|(t, _)| *t) == current {
        return;
    }
    if let Some((_, task)) = stream.take() {
        task.abort();
    }
    if let Some(tenant) = current {
        let task = tokio::spawn(stream_events(client.clone(), tenant, tx.clone()));
        *stream = Some((tenant, task));
    }
}

/// Forwards a tenant's live events into the loop until aborted. When the
/// stream ends or fails it reconnects after a growing pause, resuming after
/// the last event seen so none is lost or repeated.
async fn stream_events(client: Client, tenant: Uuid, tx: Tx) {
    let mut last_id = None;
    let mut backoff = std::time::Duration::from_secs(1);
    let max = std::time::Duration::from_secs(30);
    loop {
        let opened = client.events(&tenant.to_string(), last_id).await;
        // The server ends the stream when the session ends (signed out
        // everywhere, from another device too): the reconnect is refused.
        if let Err(e) = &opened {
            if App::session_ended(e) {
                let _ = tx.send(Inbox::Action(Action::SessionEnded));
                return;
            }
        }
        if let Ok(mut events) = opened {
            while let Some(Ok(ev)) = events.next().await {
                last_id = Some(ev.id);
                backoff = std::time::Duration::from_secs(1);
                if tx.send(Inbox::Event(tenant, ev)).is_err() {
                    return; // the loop ended
                }
            }
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
    let mut stream = match client
        .send_playground_message(&req.tenant, req.session, &req.content)
        .await
    {
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
    client: &Client,
    tx: &Tx,
    replies: &mut Replies,
    history: Option<&History>,
    effects: Vec<Effect>,
) -> anyhow::Result<()> {
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
                tokio::spawn(async move {
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
            Effect::Quit => {}
        }
    }
    Ok(())
}

/// Draws and sends the changed cells as one synchronized update; a redraw
/// that changed nothing sends nothing.
fn draw(terminal: &mut Term, app: &mut App) -> anyhow::Result<()> {
    // `draw` ends with a flush: FrameWriter sends the frame then.
    terminal.draw(|frame| super::ui::draw(frame, app))?;
    app.dirty = false;
    Ok(())
}
