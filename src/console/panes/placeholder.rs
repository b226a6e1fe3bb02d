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
    let what = match pane {
        Pane::Tenants => "Tenants",
        Pane::Leads => "Leads",
        Pane::Agents => "Agents",
        Pane::Workspaces => "Workspaces",
        Pane::Playground => "Playground",
    };
    let text = vec![
        Line::default(),
        Line::from(format!("The {what} pane arrives with the {what} issue.")),
        Line::from(Span::styled(
            "Nothing to see here yet; press 1 for Tenants.",
            theme.dim,
        )),
    ];
    Paragraph::new(text)
        .wrap(Wrap { trim: true })
        .centered()
        .block(block)
        .render(area, buf);
}
