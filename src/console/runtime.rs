//! The event loop: terminal events, API replies and a slow tick in one
//! `select!`; requests run as spawned tasks; frames are drawn only when the
//! state changed, inside synchronized updates.

use std::io::{self, BufWriter, Stdout, Write};

use base64::Engine;
use crossterm::event::{
    DisableBracketedPaste, EnableBracketedPaste, Event, EventStream, KeyEventKind,
};
use crossterm::terminal::{
    self, BeginSynchronizedUpdate, EndSynchronizedUpdate, EnterAlternateScreen,
    LeaveAlternateScreen,
};
use crossterm::{cursor, execute, queue};
use futures::StreamExt;
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use tokio::sync::mpsc;

use super::action::Action;
use super::app::App;
use super::effect::{Effect, RequestId};
use super::keymap::Keymap;
use super::request::{execute as execute_request, Response};
use super::theme::Theme;
use super::widgets::toast::Toast;
use super::ConsoleOptions;
use crate::api::Client;

type Term = Terminal<CrosstermBackend<BufWriter<Stdout>>>;

/// Leaves raw mode and the alternate screen. Safe to call twice: the panic
/// hook and the guard may both run.
fn restore_terminal() {
    let _ = terminal::disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableBracketedPaste,
        LeaveAlternateScreen,
        cursor::Show
    );
}

/// Restores the terminal when dropped, on every exit path including `?`.
struct TerminalGuard;

impl TerminalGuard {
    fn enter() -> anyhow::Result<Self> {
        terminal::enable_raw_mode()?;
        let guard = TerminalGuard;
        execute!(
            io::stdout(),
            EnterAlternateScreen,
            EnableBracketedPaste,
            cursor::Hide
        )?;
        Ok(guard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Restores the terminal before the panic message is printed, so the message
/// is readable and the shell usable.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        previous(info);
    }));
}

/// Runs the console until the user quits.
pub async fn run(client: Client, options: ConsoleOptions) -> anyhow::Result<()> {
    let (keymap, errors) = Keymap::with_overrides(&options.key_overrides);
    let no_color = options.no_color || std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let theme = if no_color {
        Theme::no_color()
    } else {
        Theme::default()
    };
    let mut app = App::new(keymap, theme, options.server_label);
    for e in errors {
        app.toast(Toast::error(format!("config: {e}")));
    }

    install_panic_hook();
    let _guard = TerminalGuard::enter()?;
    let mut terminal = Terminal::new(CrosstermBackend::new(BufWriter::new(io::stdout())))?;
    terminal.clear()?;
    event_loop(&mut terminal, &mut app, client).await
}

async fn event_loop(terminal: &mut Term, app: &mut App, client: Client) -> anyhow::Result<()> {
    let (tx, mut rx) = mpsc::unbounded_channel::<(RequestId, Response)>();
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

    let effects = app.start();
    apply(terminal, &client, &tx, effects)?;
    loop {
        if app.quit {
            return Ok(());
        }
        if app.dirty {
            draw(terminal, app)?;
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
            Some((id, resp)) = rx.recv() => app.on_response(id, resp),
            _ = tick.tick() => app.update(Action::Tick),
        };
        apply(terminal, &client, &tx, effects)?;
        // Drain replies that are already here so one frame shows them all.
        while let Ok((id, resp)) = rx.try_recv() {
            let effects = app.on_response(id, resp);
            apply(terminal, &client, &tx, effects)?;
        }
    }
}

fn apply(
    terminal: &mut Term,
    client: &Client,
    tx: &mpsc::UnboundedSender<(RequestId, Response)>,
    effects: Vec<Effect>,
) -> anyhow::Result<()> {
    for effect in effects {
        match effect {
            Effect::Api(id, req) => {
                let client = client.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    let resp = execute_request(&client, req).await;
                    // The loop may have ended; the reply has nowhere to go then.
                    let _ = tx.send((id, resp));
                });
            }
            Effect::CopyToClipboard(text) => {
                let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
                let out = terminal.backend_mut();
                write!(out, "\x1b]52;c;{encoded}\x07")?;
                out.flush()?;
            }
            Effect::Quit => {}
        }
    }
    Ok(())
}

fn draw(terminal: &mut Term, app: &mut App) -> anyhow::Result<()> {
    queue!(terminal.backend_mut(), BeginSynchronizedUpdate)?;
    terminal.draw(|frame| super::ui::draw(frame, app))?;
    queue!(terminal.backend_mut(), EndSynchronizedUpdate)?;
    terminal.backend_mut().flush()?;
    app.dirty = false;
    Ok(())
}
