//! The Playground pane: the tenant's sessions, or the open session's
//! transcript (two columns in compare mode) with the reply streaming in,
//! per-reply stats, and the message input at the bottom.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Widget, Wrap};

use super::rerun::overrides_label;
use super::{session_agents, Chat, PlaygroundView};
use crate::console::component::Shared;
use crate::console::keymap::Context;
use crate::console::panes::{table, tenant_list, Column};
use crate::console::state::Load;
use crate::console::text::{self, wrap};
use crate::console::theme::Theme;
use crate::domain::playground::{replaced, ReplyOverrides};
use crate::domain::{PlaygroundMessage, PlaygroundRole, ReplyStats, ReplyStatus};

const SESSION_COLUMNS: [Column<'static>; 5] = [
    ("Title", Constraint::Fill(3)),
    ("Agent", Constraint::Fill(3)),
    ("Via", Constraint::Fill(2)),
    ("Msgs", Constraint::Length(4)),
    ("Updated", Constraint::Length(12)),
];

pub(super) fn render_sessions(v: &PlaygroundView, app: &Shared<'_>, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let title = match v.sessions.loaded() {
        Some(list) => format!(" Playground · sessions ({}) ", list.len()),
        None => " Playground ".to_string(),
    };
    let what = "playground sessions";
    let Some((inner, items)) = tenant_list(app, title, &v.sessions.items, what, area, buf) else {
        return;
    };
    if items.is_empty() {
        let new = app.keymap.key_label(Context::PlaygroundList, "new");
        let compare = app.keymap.key_label(Context::PlaygroundList, "compare");
        Paragraph::new(vec![
            Line::from("Try an agent on the messages real leads send, before it answers them."),
            Line::default(),
            Line::from(vec![
                Span::raw("No sessions yet. Press "),
                Span::styled(new, theme.footer_key),
                Span::raw(" to pick an agent (and version), or "),
                Span::styled(compare, theme.footer_key),
                Span::raw(" to compare two side by side."),
            ]),
        ])
        .wrap(Wrap { trim: true })
        .render(inner, buf);
        return;
    }
    let rows = items.iter().map(|s| {
        let place = s
            .workspace_name
            .clone()
            .unwrap_or_else(|| s.channel.as_str().to_string());
        Row::new(vec![
            Cell::from(s.title.clone()),
            Cell::from(session_agents(s)),
            Cell::from(place),
            Cell::from(s.message_count.to_string()),
            Cell::from(s.updated_at.format("%b %d %H:%M").to_string()),
        ])
    });
    let sel = v.sessions.selected.min(items.len() - 1);
    table(theme, &SESSION_COLUMNS, rows, sel, inner, buf);
}

/// The parts of the chat view: transcript column(s), the error, the
/// input's label and the input.
struct ChatAreas {
    columns: Vec<Rect>,
    error: Rect,
    label: Rect,
    input: Rect,
}

fn chat_areas(chat: &Chat, area: Rect) -> ChatAreas {
    let inner = Rect::new(
        area.x.saturating_add(1),
        area.y.saturating_add(1),
        area.width.saturating_sub(2),
        area.height.saturating_sub(2),
    );
    let input_rows = (chat.input.lines().len() as u16).clamp(1, 4);
    // The whole refusal, up to four rows: its last words say what to do.
    let error_rows = chat.error.as_ref().map_or(0, |e| {
        wrap(e, usize::from(inner.width)).len().clamp(1, 4) as u16
    });
    let [transcript, error, label, input] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(error_rows),
        Constraint::Length(1),
        Constraint::Length(input_rows),
    ])
    .areas(inner);
    let columns = if chat.session.is_compare() {
        let [a, _, b] = Layout::horizontal([
            Constraint::Fill(1),
            Constraint::Length(1),
            Constraint::Fill(1),
        ])
        .areas(transcript);
        vec![a, b]
    } else {
        vec![transcript]
    };
    ChatAreas {
        columns,
        error,
        label,
        input,
    }
}

/// How many rows the transcript has at this size (the longest column),
/// and how many are on screen: what scrolling is bounded by.
pub(super) fn transcript_rows(theme: &Theme, chat: &Chat, area: Rect) -> (usize, usize) {
    let areas = chat_areas(chat, area);
    let rows = areas
        .columns
        .iter()
        .enumerate()
        .map(|(i, col)| lane_lines(theme, chat, lane_of(chat, i), col.width).len())
        .max()
        .unwrap_or(0);
    let height = areas.columns.first().map_or(0, |c| usize::from(c.height));
    (rows, height)
}

/// Column `i` shows lane `i` in compare mode; one column shows all.
fn lane_of(chat: &Chat, i: usize) -> Option<u8> {
    chat.session.is_compare().then_some(i as u8)
}

pub(super) fn render_chat(
    chat: &Chat,
    overrides: &ReplyOverrides,
    app: &Shared<'_>,
    area: Rect,
    buf: &mut Buffer,
) {
    let theme = app.theme;
    let s = &chat.session;
    let via = s
        .workspace_name
        .clone()
        .unwrap_or_else(|| s.channel.as_str().to_string());
    let title = format!(" Playground · {} · via {via} ", session_agents(s));
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(title, theme.title))
        .render(area, buf);
    let areas = chat_areas(chat, area);
    if let Some(first) = areas.columns.first() {
        if let Some(sep) = areas.columns.get(1) {
            for y in first.y..first.y + first.height {
                if let Some(cell) = buf.cell_mut((sep.x.saturating_sub(1), y)) {
                    cell.set_symbol("│").set_style(theme.border);
                }
            }
        }
    }
    let (rows, height) = transcript_rows(theme, chat, area);
    let bottom = rows.saturating_sub(height);
    let top = chat.scroll.unwrap_or(bottom).min(bottom);
    for (i, col) in areas.columns.iter().enumerate() {
        let lines = lane_lines(theme, chat, lane_of(chat, i), col.width);
        // Pinned: each column shows its own end. Scrolled: all move together.
        let start = match chat.scroll {
            None => lines.len().saturating_sub(usize::from(col.height)),
            Some(_) => top,
        };
        if lines.is_empty() && i == 0 {
            let hint = match &chat.messages {
                Load::Failed(e) => Line::from(Span::styled(
                    format!("Could not load the transcript: {e}"),
                    theme.error,
                )),
                Load::Loaded(_) => Line::from(Span::styled(
                    "No messages yet. Write what a lead would send; the agent answers it.",
                    theme.dim,
                )),
                _ => Line::from(Span::styled("Loading the transcript…", theme.info)),
            };
            Paragraph::new(hint)
                .wrap(Wrap { trim: true })
                .render(*col, buf);
            continue;
        }
        let visible: Vec<Line> = lines
            .into_iter()
            .skip(start)
            .take(usize::from(col.height))
            .collect();
        Paragraph::new(visible).render(*col, buf);
    }
    if let Some(err) = &chat.error {
        let lines: Vec<Line> = wrap(err, usize::from(areas.error.width))
            .into_iter()
            .map(|l| Line::from(Span::styled(l, theme.error)))
            .collect();
        Paragraph::new(lines).render(areas.error, buf);
    }
    render_input_label(
        app,
        chat,
        overrides,
        top < bottom && chat.scroll.is_some(),
        areas.label,
        buf,
    );
    chat.input.render(areas.input, buf);
}

fn render_input_label(
    app: &Shared<'_>,
    chat: &Chat,
    overrides: &ReplyOverrides,
    scrolled: bool,
    area: Rect,
    buf: &mut Buffer,
) {
    let theme = app.theme;
    let mut spans = Vec::new();
    match &chat.reply {
        Some(r) if r.stopping => spans.push(Span::styled("─ stopping… ", theme.warning)),
        Some(_) => {
            let stop = app.keymap.key_label(Context::PlaygroundStreaming, "stop");
            spans.push(Span::styled(
                format!("─ generating… {stop} stops "),
                theme.info,
            ));
        }
        None if chat.input_focused => spans.push(Span::styled(
            format!("─ Message as a lead via {} ", chat.session.channel.as_str()),
            theme.field_focused,
        )),
        None => {
            let write = app.keymap.key_label(Context::PlaygroundChat, "write");
            spans.push(Span::styled(
                format!("─ press {write} to write "),
                theme.dim,
            ));
        }
    }
    if scrolled {
        let bottom = app.keymap.key_label(Context::PlaygroundChat, "bottom");
        spans.push(Span::styled(
            format!("─ scrolled up; {bottom} follows the bottom "),
            theme.warning,
        ));
    }
    if let Some(label) = overrides_label(overrides) {
        spans.push(Span::styled(format!("─ {label} "), theme.info));
    }
    let used: usize = spans.iter().map(|s| text::width(&s.content)).sum();
    spans.push(Span::styled(
        "─".repeat(usize::from(area.width).saturating_sub(used)),
        theme.border,
    ));
    Paragraph::new(Line::from(spans)).render(area, buf);
}

/// The transcript as lines `width` wide; `lane` keeps one lane's replies.
fn lane_lines(theme: &Theme, chat: &Chat, lane: Option<u8>, width: u16) -> Vec<Line<'static>> {
    let width = usize::from(width);
    let body = |out: &mut Vec<Line<'static>>, text: &str, cursor: bool| {
        let mut lines = wrap(text, width.saturating_sub(2));
        if cursor {
            match lines.last_mut() {
                Some(l) => l.push('▍'),
                None => lines.push("▍".into()),
            }
        }
        out.extend(lines.into_iter().map(|l| Line::from(format!("  {l}"))));
    };
    let mut out: Vec<Line<'static>> = Vec::new();
    let labels = reply_labels(chat.items());
    for (m, label) in chat.items().iter().zip(labels) {
        if m.role == PlaygroundRole::Assistant && lane.is_some() && m.lane != lane {
            continue;
        }
        match m.role {
            PlaygroundRole::User => {
                let mut head = vec![Span::styled("You (as the lead)", theme.field_focused)];
                if m.lead_id.is_some() {
                    head.push(Span::styled(" · saved as lead", theme.success));
                }
                out.push(Line::from(head));
                body(&mut out, &m.content, false);
            }
            PlaygroundRole::Assistant => {
                let name = chat.lane_name(m.lane.unwrap_or(0));
                out.push(match label {
                    // Both replies to the message, the version each answered with.
                    Some(what) => {
                        let version = m
                            .stats
                            .as_ref()
                            .map(|s| format!(" · v{}", s.prompt_version))
                            .unwrap_or_default();
                        let style = match what {
                            EARLIER => theme.dim,
                            _ => theme.title,
                        };
                        Line::from(Span::styled(format!("{name}{version} · {what}"), style))
                    }
                    None => Line::from(Span::styled(name, theme.title)),
                });
                body(&mut out, &m.content, false);
                out.extend(stats_lines(theme, m, width));
            }
        }
        out.push(Line::default());
    }
    if let Some(r) = &chat.reply {
        if !r.user_stored {
            out.push(Line::from(vec![
                Span::styled("You (as the lead)", theme.field_focused),
                Span::styled(" · sending…", theme.dim),
            ]));
            body(&mut out, &r.sent, false);
            out.push(Line::default());
        }
        for (i, text) in r.lanes.iter().enumerate() {
            let Some(text) = text else { continue };
            if lane.is_some_and(|l| usize::from(l) != i) {
                continue;
            }
            let mut name = chat.lane_name(i as u8);
            if r.regenerating {
                if let Some(v) = r.version {
                    name.push_str(&format!(" · v{v}"));
                }
                name.push_str(&format!(" · {NEW}"));
            }
            out.push(Line::from(Span::styled(name, theme.title)));
            body(&mut out, text, true);
            let what = if r.stopping {
                "stopping…"
            } else {
                "generating…"
            };
            out.push(Line::from(Span::styled(format!("  {what}"), theme.dim)));
        }
    }
    out
}

const EARLIER: &str = "earlier reply";
const NEW: &str = "new reply";

/// How each message's reply is labelled when it was regenerated: the one
/// replaced is the earlier reply, the one after it the new reply; `None`
/// for a message answered once.
fn reply_labels(items: &[PlaygroundMessage]) -> Vec<Option<&'static str>> {
    let gone = replaced(items);
    let mut out = vec![None; items.len()];
    // The lanes that answered the current message so far.
    let mut answered: Vec<u8> = Vec::new();
    for (i, m) in items.iter().enumerate() {
        match m.role {
            PlaygroundRole::User => answered.clear(),
            PlaygroundRole::Assistant => {
                let lane = m.lane.unwrap_or(0);
                if gone[i] {
                    out[i] = Some(EARLIER);
                } else if answered.contains(&lane) {
                    out[i] = Some(NEW);
                }
                answered.push(lane);
            }
        }
    }
    out
}

/// "local/smollm2-135m · v1 · 58+41 tokens · TTFT 210 ms · 48.2 tok/s",
/// with what went wrong for a cancelled or failed reply.
fn stats_lines(theme: &Theme, m: &PlaygroundMessage, width: usize) -> Vec<Line<'static>> {
    let stats = m.stats.as_ref().map(stats_text);
    let (text, style) = match m.status {
        Some(ReplyStatus::Cancelled) => (
            format!(
                "cancelled{}",
                stats.map(|s| format!(" · {s}")).unwrap_or_default()
            ),
            theme.warning,
        ),
        Some(ReplyStatus::Failed) => (
            format!(
                "failed: {}",
                m.error.clone().unwrap_or_else(|| "no reason given".into())
            ),
            theme.error,
        ),
        _ => match stats {
            Some(s) => (s, theme.dim),
            None => return Vec::new(),
        },
    };
    wrap(&text, width.saturating_sub(2))
        .into_iter()
        .map(|l| Line::from(Span::styled(format!("  {l}"), style)))
        .collect()
}

pub fn stats_text(s: &ReplyStats) -> String {
    let mut text = format!(
        "{} · v{} · {}+{} tokens · TTFT {} ms · {:.1} tok/s",
        s.model,
        s.prompt_version,
        s.prompt_tokens,
        s.completion_tokens,
        s.time_to_first_token_ms,
        s.tokens_per_second
    );
    // The session's overrides it was generated with, so two replies of one
    // version read apart.
    if let Some(t) = s.temperature {
        text.push_str(&format!(" · temp {t:.2}"));
    }
    if let Some(n) = s.max_tokens {
        text.push_str(&format!(" · max {n} tokens"));
    }
    text
}
