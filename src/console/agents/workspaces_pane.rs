//! The Workspaces pane: the current tenant's channels, the agent each one
//! uses (or why it cannot answer) and whether its strategy is on.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row};

use super::AgentsView;
use crate::console::component::Shared;
use crate::console::keymap::Context;
use crate::console::panes::{counted, empty_state, selectable_table, tenant_list};
use crate::console::theme::Theme;
use crate::domain::{AgentLink, Workspace};

/// The agent column: the name, or a state that says what is wrong.
fn agent_cell(theme: &Theme, w: &Workspace) -> Span<'static> {
    let name = w.agent_name.clone().unwrap_or_else(|| "agent".into());
    match w.agent_link {
        AgentLink::Ok => Span::raw(name),
        AgentLink::None => Span::styled("— none", theme.dim),
        AgentLink::Deleted => Span::styled(format!("{name}: deleted"), theme.error),
        AgentLink::Unshared => Span::styled(format!("{name}: no longer shared"), theme.warning),
    }
}

pub(super) fn render(v: &AgentsView, shared: &Shared<'_>, area: Rect, buf: &mut Buffer) {
    let theme = shared.theme;
    let title = counted("Workspaces", &v.workspaces);
    let load = &v.workspaces;
    let Some((inner, items)) = tenant_list(shared, title, load, "workspaces", area, buf) else {
        return;
    };
    if items.is_empty() {
        let key = shared.keymap.key_label(Context::WorkspaceList, "new");
        empty_state(
            theme,
            format!("No workspaces yet. Press {key} to add one (a web form, a mailbox, a chat)."),
            inner,
            buf,
        );
        return;
    }
    let rows = items.iter().map(|w| {
        let strategy = if w.strategy_active {
            Span::styled("active", theme.success)
        } else {
            Span::styled("inactive", theme.dim)
        };
        Row::new(vec![
            Cell::from(w.name.clone()),
            Cell::from(w.channel.as_str()),
            Cell::from(agent_cell(theme, w)),
            Cell::from(strategy),
        ])
    });
    let header = Row::new(["Name", "Channel", "Agent", "Strategy"]).style(theme.table_header);
    let sel = v.ws_selected.min(items.len() - 1);
    selectable_table(
        theme,
        rows,
        [
            Constraint::Fill(3),
            Constraint::Length(9),
            Constraint::Fill(4),
            Constraint::Length(9),
        ],
        header,
        sel,
        inner,
        buf,
    );
}
