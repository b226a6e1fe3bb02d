//! Panes whose features have not been built yet: they say so plainly.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};

use crate::console::app::{App, Pane};

pub fn render(app: &App, pane: Pane, area: Rect, buf: &mut Buffer) {
    let theme = &app.theme;
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(format!(" {} ", pane.title()), theme.title));
    // Only the Playground is left; it needs the local model to talk to.
    let arrives = match pane {
        Pane::Playground => "The Playground pane arrives with the local model/playground work.",
        _ => "This pane has not been built yet.",
    };
    let text = vec![
        Line::default(),
        Line::from(arrives),
        Line::from(Span::styled(
            "Nothing to see here yet; press 3 for Agents or 4 for Workspaces.",
            theme.dim,
        )),
    ];
    Paragraph::new(text)
        .wrap(Wrap { trim: true })
        .centered()
        .block(block)
        .render(area, buf);
}
