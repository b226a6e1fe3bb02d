//! First run: a platform admin with no tenants creates the first one.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};

use crate::console::app::App;
use crate::console::ui::hint_line;
use crate::console::widgets::form::Form;

pub fn render(app: &App, form: &Form, area: Rect, buf: &mut Buffer) {
    let theme = &app.theme;
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(" Welcome ", theme.title));
    let inner = block.inner(area);
    block.render(area, buf);
    let [intro, rest] = Layout::vertical([Constraint::Length(4), Constraint::Min(0)]).areas(inner);
    Paragraph::new(vec![
        Line::from(Span::styled("Welcome to Switchboard.", theme.title)),
        Line::from("There are no tenants yet. A tenant is one client agency with its own"),
        Line::from("members, leads and agents. Create the first one:"),
    ])
    .wrap(Wrap { trim: true })
    .render(intro, buf);
    let (contexts, _) = app.contexts();
    form.render(rest, buf, theme, hint_line(app, &contexts));
}
