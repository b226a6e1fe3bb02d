//! The Agents pane: the current tenant's agents, its own and those shared
//! with it (marked, read-only), and the open agent's detail.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row};

use super::{counted, empty_state, selectable_table, tenant_list};
use crate::console::agents::owner_label;
use crate::console::app::App;
use crate::console::keymap::Context;

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    if let Some(d) = &app.agents.detail {
        return super::agent_detail::render(app, d, area, buf);
    }
    let theme = &app.theme;
    let v = &app.agents;
    let title = counted("Agents", &v.agents);
    let Some((inner, items)) = tenant_list(&app.shared(), title, &v.agents, "agents", area, buf)
    else {
        return;
    };
    if items.is_empty() {
        let key = app.keymap.key_label(Context::AgentList, "new");
        empty_state(
            theme,
            format!("No agents yet. Press {key} to write one."),
            inner,
            buf,
        );
        return;
    }
    let rows = items.iter().map(|a| {
        let owner = if a.read_only {
            Span::styled(owner_label(a), theme.dim)
        } else {
            Span::raw(owner_label(a))
        };
        Row::new(vec![
            Cell::from(a.name.clone()),
            Cell::from(a.config.model.clone()),
            Cell::from(format!("v{}", a.version)),
            Cell::from(a.sharing.as_str()),
            Cell::from(owner),
        ])
    });
    let header =
        Row::new(["Name", "Model", "Version", "Sharing", "Owner"]).style(theme.table_header);
    let sel = v.selected.min(items.len() - 1);
    selectable_table(
        theme,
        rows,
        [
            Constraint::Fill(3),
            Constraint::Fill(3),
            Constraint::Length(7),
            Constraint::Length(9),
            Constraint::Fill(3),
        ],
        header,
        sel,
        inner,
        buf,
    );
}
