//! The yes/no question asked before anything destructive.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};

use crate::console::text::wrap;

use crate::console::theme::Theme;

pub fn render(question: &str, area: Rect, buf: &mut Buffer, theme: &Theme, hint: Line<'_>) {
    // Tall enough for the whole question and, below it, the keys.
    let lines = (wrap(question, 54).len() as u16).max(2);
    let popup = super::centered(area, 56, lines.saturating_add(4));
    Clear.render(popup, buf);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.warning)
        .title(Span::styled(" Confirm ", theme.warning));
    let inner = block.inner(popup);
    block.render(popup, buf);
    let text = vec![Line::from(question.to_string()), Line::default(), hint];
    Paragraph::new(text)
        .wrap(Wrap { trim: true })
        .render(inner, buf);
}
