//! The notification centre: toasts and live events, newest first, with the
//! selected one in full below the list.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};

use super::{Notification, Notifications};
use crate::console::component::Shared;
use crate::console::keymap::Context;
use crate::console::text::{self, wrap};
use crate::console::theme::Theme;
use crate::console::widgets::toast::ToastKind;

/// Lines of the selected notification's text shown in full.
const DETAIL_LINES: usize = 4;

pub(super) fn render(v: &Notifications, app: &Shared<'_>, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
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
            "Nothing yet: toasts and live events are kept here, across restarts.",
            theme.dim,
        ))
        .render(inner, buf);
        return;
    }
    let detail = v
        .selected_item()
        .filter(|_| inner.height >= 10)
        .map(|n| detail_lines(app, n, usize::from(inner.width)))
        .unwrap_or_default();
    let list_height = inner.height.saturating_sub(detail.len() as u16);
    let list = Rect {
        height: list_height,
        ..inner
    };
    let rows = usize::from(list.height).max(1);
    let first = v.selected.saturating_sub(rows - 1);
    let lines: Vec<Line> = v
        .items
        .iter()
        .enumerate()
        .skip(first)
        .take(rows)
        .map(|(i, n)| {
            let mark = if i == v.selected { "› " } else { "  " };
            let lead = if n.lead_id.is_some() { " ↵" } else { "" };
            let line = Line::from(vec![
                Span::raw(mark),
                Span::styled(n.at.format("%m-%d %H:%M  ").to_string(), theme.dim),
                Span::styled(n.text.clone(), kind_style(theme, n.kind)),
                Span::styled(lead, theme.dim),
            ]);
            if i == v.selected {
                line.style(theme.selected)
            } else {
                line
            }
        })
        .collect();
    Paragraph::new(lines).render(list, buf);
    let below = Rect {
        y: inner.y + list_height,
        height: inner.height - list_height,
        ..inner
    };
    Paragraph::new(detail).render(below, buf);
}

fn kind_style(theme: &Theme, kind: ToastKind) -> Style {
    match kind {
        ToastKind::Error => theme.error,
        ToastKind::Success => theme.success,
        ToastKind::Info => Style::default(),
    }
}

/// A rule, the selected notification's whole text (a row cuts it at the
/// edge), and where it came from and what enter does.
fn detail_lines<'a>(app: &Shared<'_>, n: &Notification, width: usize) -> Vec<Line<'a>> {
    let theme = app.theme;
    let mut out = vec![Line::from(Span::styled("─".repeat(width), theme.border))];
    let mut text = wrap(&n.text, width);
    if text.len() > DETAIL_LINES {
        text.truncate(DETAIL_LINES);
        if let Some(last) = text.last_mut() {
            let keep = width.saturating_sub(1);
            *last = format!("{}…", text::take_width(last, keep));
        }
    }
    let style = kind_style(theme, n.kind);
    out.extend(text.into_iter().map(|l| Line::from(Span::styled(l, style))));
    let mut about = vec![n.at.format("%Y-%m-%d %H:%M UTC").to_string()];
    if let Some(t) = n.tenant_id.and_then(|id| app.session.tenant(id)) {
        about.push(t.name.clone());
    }
    if n.lead_id.is_some() {
        let key = app.keymap.key_label(Context::Notifications, "open");
        about.push(format!("{key} opens the lead"));
    }
    out.push(Line::from(Span::styled(about.join(" · "), theme.dim)));
    out
}
