//! The notification centre: the session's toasts and live events, newest
//! first.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};

use crate::console::app::App;
use crate::console::widgets::toast::ToastKind;

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let theme = &app.theme;
    let v = &app.notifications;
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(
            format!(" Notifications ({}) ", v.items.len()),
            theme.title,
        ));
    let inner = block.inner(area);
    block.render(area, buf);
    if v.items.is_empty() {
        Paragraph::new(Span::styled(
            "Nothing yet: toasts and live events are kept here.",
            theme.dim,
        ))
        .render(inner, buf);
        return;
    }
    let rows = usize::from(inner.height).max(1);
    let first = v.selected.saturating_sub(rows - 1);
    let lines: Vec<Line> = v
        .items
        .iter()
        .enumerate()
        .skip(first)
        .take(rows)
        .map(|(i, n)| {
            let style = match n.kind {
                ToastKind::Error => theme.error,
                ToastKind::Success => theme.success,
                ToastKind::Info => Style::default(),
            };
            let mark = if i == v.selected { "› " } else { "  " };
            let lead = if n.lead.is_some() || n.lead_id.is_some() {
                " ↵"
            } else {
                ""
            };
            let line = Line::from(vec![
                Span::raw(mark),
                Span::styled(n.at.format("%m-%d %H:%M  ").to_string(), theme.dim),
                Span::styled(n.text.clone(), style),
                Span::styled(lead, theme.dim),
            ]);
            if i == v.selected {
                line.style(theme.selected)
            } else {
                line
            }
        })
        .collect();
    Paragraph::new(lines).render(inner, buf);
}
