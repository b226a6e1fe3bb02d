//! The audit view: the log's rows on top, the selected event's changes
//! (before → after for edits) underneath.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Widget, Wrap};

use super::{change_lines, AuditView};
use crate::console::component::Shared;
use crate::console::panes::{detail_rule, table, with_detail, ListScreen};
use crate::console::text;
use crate::domain::AuditEvent;

pub(super) fn render(v: &AuditView, app: &Shared<'_>, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let mut title = v.pager.counted("Audit log", &v.events.items);
    let filter = v.filter_label();
    if !filter.is_empty() {
        title.push_str(&format!("· {filter} "));
    }
    let screen = ListScreen {
        title,
        what: "the audit log",
        empty: "No audit events match.".into(),
        footer: v.events.loaded().and(v.pager.footer("end of log")),
        ..ListScreen::default()
    };
    let Some((inner, events)) = screen.draw(app, &v.events.items, area, buf) else {
        return;
    };
    let detail_h = (inner.height / 3).clamp(3, 8);
    let [top, bottom] = with_detail(inner, detail_h);
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
    let columns = [
        ("When", Constraint::Length(11)),
        ("Actor", Constraint::Min(14)),
        ("Action", Constraint::Length(action_w)),
        ("Resource", Constraint::Length(resource_w)),
    ];
    table(theme, &columns, rows, v.events.selected, top, buf);
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
    Paragraph::new(lines)
        .block(detail_rule(theme))
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
