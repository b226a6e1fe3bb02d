//! The audit view: the log's rows on top, the selected event's changes
//! (before → after for edits) underneath.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Widget, Wrap};

use super::{change_lines, AuditView};
use crate::console::component::Shared;
use crate::console::panes::{load_state_in, selectable_table};
use crate::console::text;
use crate::domain::AuditEvent;

pub(super) fn render(v: &AuditView, app: &Shared<'_>, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let count = match v.events.loaded() {
        Some(e) if v.pager.more() => format!("({}+) ", e.len()),
        Some(e) => format!("({}) ", e.len()),
        None => String::new(),
    };
    let filter = v.filter_label();
    let title = if filter.is_empty() {
        format!(" Audit log {count}")
    } else {
        format!(" Audit log {count}· {filter} ")
    };
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(title, theme.title));
    if let Some(foot) = v.events.loaded().and(v.pager.footer("end of log")) {
        block = block.title_bottom(Span::styled(format!(" {foot} "), theme.dim));
    }
    let inner = block.inner(area);
    block.render(area, buf);
    let Some(events) = load_state_in(app, &v.events, "the audit log", inner, buf) else {
        return;
    };
    if events.is_empty() {
        Paragraph::new("No audit events match.").render(inner, buf);
        return;
    }
    let detail_h = (inner.height / 3).clamp(3, 8);
    let [top, bottom] =
        Layout::vertical([Constraint::Min(2), Constraint::Length(detail_h)]).areas(inner);
    let header = Row::new(["When", "Actor", "Action", "Resource"]).style(theme.table_header);
    let resource = |e: &AuditEvent| format!("{} {}", e.resource, short_id(&e.resource_id));
    // Action and resource take what they need (within bounds); the actor
    // gets the rest, so a wide terminal does not cut `playground.session.…`.
    let width = |f: &dyn Fn(&AuditEvent) -> usize, min: u16, max: u16| {
        let widest = events.iter().map(f).max().unwrap_or(0);
        (widest as u16).clamp(min, max)
    };
    let action_w = width(&|e| text::width(&e.action), 12, 32);
    let resource_w = width(&|e| text::width(&resource(e)), 12, 32);
    let rows = events.iter().map(|e| {
        Row::new(vec![
            e.created_at.format("%m-%d %H:%M").to_string(),
            e.actor_email.clone().unwrap_or_else(|| "system".into()),
            e.action.clone(),
            resource(e),
        ])
    });
    selectable_table(
        theme,
        rows,
        [
            Constraint::Length(11),
            Constraint::Min(14),
            Constraint::Length(action_w),
            Constraint::Length(resource_w),
        ],
        header,
        v.selected,
        top,
        buf,
    );
    let Some(e) = v.selected_event() else {
        return;
    };
    let mut lines = vec![Line::from(Span::styled(
        format!("Changes ({} {})", e.resource, e.resource_id),
        theme.table_header,
    ))];
    let changes = change_lines(&e.changes);
    if changes.is_empty() {
        lines.push(Line::from(Span::styled("none recorded", theme.dim)));
    }
    lines.extend(changes.into_iter().map(|c| Line::from(format!("  {c}"))));
    let block = Block::default()
        .borders(Borders::TOP)
        .border_style(theme.border);
    Paragraph::new(lines)
        .block(block)
        .wrap(Wrap { trim: false })
        .render(bottom, buf);
}

/// Enough of an id to tell rows apart: the random end of a UUID (v7 ids
/// made in the same millisecond share their first characters), or the
/// start of anything else (a slug, a key prefix).
fn short_id(id: &str) -> String {
    if uuid::Uuid::parse_str(id).is_ok() {
        id.get(id.len() - 8..).unwrap_or(id).to_string()
    } else {
        id.chars().take(12).collect()
    }
}
