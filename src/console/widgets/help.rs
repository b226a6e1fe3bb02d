//! The `?` overlay: every binding of the keymap, grouped by where it applies.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};

use crate::console::keymap::{HelpLine, Keymap};
use crate::console::theme::Theme;

/// The overlay's text, one entry per line; tests check it covers the keymap.
pub fn lines(keymap: &Keymap) -> Vec<Line<'static>> {
    keymap
        .help_lines()
        .into_iter()
        .map(|l| match l {
            HelpLine::Heading(h) => Line::from(Span::raw(h)),
            HelpLine::Key { keys, description } => Line::from(format!(" {keys:<13} {description}")),
        })
        .collect()
}

pub fn render(keymap: &Keymap, scroll: u16, area: Rect, buf: &mut Buffer, theme: &Theme) {
    let popup = super::centered(area, 76, area.height);
    Clear.render(popup, buf);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(" Keys (j/k scroll, esc close) ", theme.title));
    let inner = block.inner(popup);
    block.render(popup, buf);
    let styled: Vec<Line> = keymap
        .help_lines()
        .into_iter()
        .map(|l| match l {
            HelpLine::Heading(h) => Line::from(Span::styled(h, theme.table_header)),
            HelpLine::Key { keys, description } => Line::from(vec![
                Span::styled(format!(" {keys:<13} "), theme.footer_key),
                Span::raw(description),
            ]),
        })
        .collect();
    // Two columns when there is room, so most of the map fits at 80×24.
    if inner.width >= 70 {
        let half = inner.width / 2;
        let h = usize::from(inner.height);
        let skip = usize::from(scroll);
        let left: Vec<Line> = styled.iter().skip(skip).take(h).cloned().collect();
        let right: Vec<Line> = styled.iter().skip(skip + h).take(h).cloned().collect();
        Paragraph::new(left).render(Rect::new(inner.x, inner.y, half, inner.height), buf);
        Paragraph::new(right).render(
            Rect::new(inner.x + half, inner.y, inner.width - half, inner.height),
            buf,
        );
    } else {
        Paragraph::new(styled)
            .scroll((scroll, 0))
            .render(inner, buf);
    }
}
