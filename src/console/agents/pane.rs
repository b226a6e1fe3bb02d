//! The Agents pane: the current tenant's agents, its own and those shared
//! with it (marked, read-only; the global library's with a `◆ global`
//! mark), how often and when each last answered, and the open agent's
//! detail.

use chrono::{DateTime, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row};

use super::{is_library, owner_label, AgentsView};
use crate::console::component::Shared;
use crate::console::keymap::Context;
use crate::console::panes::{counted, empty_state, selectable_table, tenant_list};
use crate::console::theme::Theme;
use crate::domain::{Agent, AgentSort};

/// The columns, in order; narrow terminals drop the later-ranked ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Name,
    Category,
    Tags,
    Model,
    Version,
    Sharing,
    Uses,
    LastUsed,
    Owner,
}

impl Col {
    const ORDER: [Col; 9] = [
        Col::Name,
        Col::Category,
        Col::Tags,
        Col::Model,
        Col::Version,
        Col::Sharing,
        Col::Uses,
        Col::LastUsed,
        Col::Owner,
    ];

    /// The width each column needs (a `Fill` column's least), and the
    /// least table width at which it is shown.
    fn fit(self) -> (Constraint, u16) {
        match self {
            Col::Name => (Constraint::Fill(3), 0),
            Col::Sharing => (Constraint::Length(9), 0),
            Col::Uses => (Constraint::Length(5), 0),
            Col::LastUsed => (Constraint::Length(9), 60),
            Col::Category => (Constraint::Length(10), 70),
            Col::Tags => (Constraint::Fill(2), 76),
            Col::Version => (Constraint::Length(4), 90),
            Col::Model => (Constraint::Fill(2), 110),
            Col::Owner => (Constraint::Fill(2), 120),
        }
    }

    fn header(self, sort: AgentSort) -> &'static str {
        match (self, sort) {
            (Col::Name, AgentSort::Name) => "Name ↑",
            (Col::Name, _) => "Name",
            (Col::Category, _) => "Category",
            (Col::Tags, _) => "Tags",
            (Col::Model, _) => "Model",
            (Col::Version, _) => "Ver",
            (Col::Sharing, _) => "Sharing",
            (Col::Uses, AgentSort::Uses) => "Uses↓",
            (Col::Uses, _) => "Uses",
            (Col::LastUsed, AgentSort::LastUsed) => "Last use↓",
            (Col::LastUsed, _) => "Last use",
            (Col::Owner, _) => "Owner",
        }
    }

    fn cell<'a>(self, a: &'a Agent, theme: &Theme, now: DateTime<Utc>) -> Cell<'a> {
        match self {
            Col::Name if is_library(a) => Cell::from(Line::from(vec![
                Span::styled("◆ ", theme.info),
                Span::raw(a.name.as_str()),
            ])),
            Col::Name => Cell::from(a.name.as_str()),
            Col::Category => Cell::from(a.category.as_deref().unwrap_or("—")),
            Col::Tags => Cell::from(Span::styled(a.tags.join(" "), theme.dim)),
            Col::Model => Cell::from(a.config.model.as_str()),
            Col::Version => Cell::from(format!("v{}", a.version)),
            Col::Sharing if is_library(a) => Cell::from(Span::styled("global", theme.info)),
            Col::Sharing => Cell::from(a.sharing.as_str()),
            Col::Uses => Cell::from(Line::from(compact(a.use_count)).right_aligned()),
            Col::LastUsed => Cell::from(a.last_used_at.map_or("never".into(), |at| ago(at, now))),
            Col::Owner if a.read_only => Cell::from(Span::styled(owner_label(a), theme.dim)),
            Col::Owner => Cell::from(owner_label(a)),
        }
    }
}

/// A use count in at most five characters: 999, 12.3k, 45k, 1.2M.
fn compact(n: u64) -> String {
    match n {
        0..=9_999 => n.to_string(),
        10_000..=99_999 => format!("{:.1}k", n as f64 / 1000.0),
        100_000..=999_999 => format!("{}k", n / 1000),
        _ => format!("{:.1}M", n as f64 / 1_000_000.0),
    }
}

/// "4m ago", "3h ago", "12d ago": a last use, against the drawing clock.
pub(super) fn ago(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - at).num_seconds().max(0);
    match secs {
        0..=59 => "just now".into(),
        60..=3_599 => format!("{}m ago", secs / 60),
        3_600..=86_399 => format!("{}h ago", secs / 3_600),
        _ => format!("{}d ago", secs / 86_400),
    }
}

/// The list (the App draws the model download offer below it first).
pub(super) fn render(v: &AgentsView, shared: &Shared<'_>, area: Rect, buf: &mut Buffer) {
    let theme = shared.theme;
    let mut title = counted("Agents", &v.agents);
    if v.sort != AgentSort::Name {
        title = format!("{}· by {} ", title, v.sort.label());
    }
    let Some((inner, items)) = tenant_list(shared, title, &v.agents, "agents", area, buf) else {
        return;
    };
    if items.is_empty() {
        let key = shared.keymap.key_label(Context::AgentList, "new");
        empty_state(
            theme,
            format!("No agents yet. Press {key} to write one."),
            inner,
            buf,
        );
        return;
    }
    let cols: Vec<Col> = Col::ORDER
        .into_iter()
        .filter(|c| inner.width >= c.fit().1)
        .collect();
    let rows = items
        .iter()
        .map(|a| Row::new(cols.iter().map(|c| c.cell(a, theme, shared.now))));
    let header = Row::new(cols.iter().map(|c| c.header(v.sort))).style(theme.table_header);
    let sel = v.selected.min(items.len() - 1);
    selectable_table(
        theme,
        rows,
        cols.iter().map(|c| c.fit().0),
        header,
        sel,
        inner,
        buf,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_times_fit_their_columns() {
        for (n, s) in [
            (0, "0"),
            (9_999, "9999"),
            (12_345, "12.3k"),
            (456_789, "456k"),
            (1_234_567, "1.2M"),
        ] {
            assert_eq!(compact(n), s);
            assert!(s.chars().count() <= 5);
        }
        let now = Utc::now();
        assert_eq!(ago(now - chrono::Duration::minutes(4), now), "4m ago");
        assert_eq!(ago(now - chrono::Duration::days(12), now), "12d ago");
    }
}
