//! The sharing dialog of an agent: the mode as radio marks, and for
//! `selective` the tenants as a ticked list.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};

use crate::console::agents::ShareDialog;
use crate::console::theme::Theme;
use crate::domain::Sharing;

pub fn render(d: &ShareDialog, area: Rect, buf: &mut Buffer, theme: &Theme, hint: Line<'_>) {
    let list_h = if d.sharing == Sharing::Selective {
        d.tenants.len().clamp(1, 8) as u16
    } else {
        1
    };
    let popup = super::centered(area, 64, list_h + 8);
    Clear.render(popup, buf);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(format!(" Share {} ", d.name), theme.title));
    let inner = block.inner(popup);
    block.render(popup, buf);
    if inner.height == 0 {
        return;
    }
    let mut modes = vec![Span::styled("Sharing  ", theme.field_label)];
    for m in ShareDialog::MODES {
        let (mark, style) = if m == d.sharing {
            ("●", theme.field_focused)
        } else {
            ("○", theme.dim)
        };
        modes.push(Span::styled(format!("{mark} {}  ", m.as_str()), style));
    }
    let mut lines = vec![Line::from(modes), Line::default()];
    match d.sharing {
        Sharing::Private => lines.push(Line::from("Only this tenant sees the agent.")),
        Sharing::Global => lines.push(Line::from(
            "Every tenant sees it, read-only (platform agents only).",
        )),
        Sharing::Selective if d.tenants.is_empty() => lines.push(Line::from(Span::styled(
            "No other tenant to share with.",
            theme.dim,
        ))),
        Sharing::Selective => {
            // Keep the cursor's tenant on screen in a long list.
            let start = (d.selected + 1).saturating_sub(usize::from(list_h));
            for (i, (_, name, on)) in d
                .tenants
                .iter()
                .enumerate()
                .skip(start)
                .take(usize::from(list_h))
            {
                let mark = if *on { "[x]" } else { "[ ]" };
                let style = if i == d.selected {
                    theme.selected
                } else {
                    ratatui::style::Style::default()
                };
                lines.push(Line::from(Span::styled(format!("{mark} {name}"), style)));
            }
        }
    }
    lines.push(Line::default());
    if let Some(e) = &d.error {
        lines.push(Line::from(Span::styled(e.clone(), theme.error)));
    }
    if d.pending.is_some() {
        lines.push(Line::from(Span::styled("Saving…", theme.info)));
    } else {
        lines.push(hint);
    }
    Paragraph::new(lines)
        .wrap(Wrap { trim: true })
        .render(inner, buf);
}
