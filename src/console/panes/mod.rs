//! What every feature's pane draws alike: frames, load states, tables.

use std::borrow::Cow;

use ratatui::buffer::Buffer;
use ratatui::layout::Constraint;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, StatefulWidget, Table, TableState, Widget, Wrap};

use super::component::Shared;
use super::keymap::Context;
use super::state::Load;
use super::theme::Theme;

pub mod list;
pub use list::{
    detail_rule, footed_frame, list_rows, rows_or_empty, screen_contexts, step, table, with_detail,
    Column, ListScreen, ListState,
};

/// The explicit state of a list that is not loaded: loading, or failed with
/// the key that retries. Returns the data when it is there.
pub fn load_state_in<'a, T>(
    app: &Shared<'_>,
    load: &'a Load<T>,
    what: &str,
    area: Rect,
    buf: &mut Buffer,
) -> Option<&'a T> {
    let theme = app.theme;
    let lines = match load {
        Load::Loaded(v) => return Some(v),
        Load::Idle | Load::Loading => vec![Line::from(Span::styled(
            format!("Loading {what}…"),
            theme.info,
        ))],
        Load::Failed(msg) => {
            let key = app.keymap.key_label(Context::LoadError, "retry");
            vec![
                Line::from(Span::styled(format!("Could not load {what}."), theme.error)),
                Line::from(msg.clone()),
                Line::default(),
                Line::from(vec![
                    Span::raw("Press "),
                    Span::styled(key, theme.footer_key),
                    Span::raw(" to retry."),
                ]),
            ]
        }
    };
    Paragraph::new(lines)
        .wrap(Wrap { trim: true })
        .render(area, buf);
    None
}

/// A pane's frame: a border titled `title`. Returns the area inside it.
pub fn frame<'t>(
    theme: &Theme,
    title: impl Into<Cow<'t, str>>,
    area: Rect,
    buf: &mut Buffer,
) -> Rect {
    let title: Cow<'t, str> = title.into();
    footed_frame(theme, &title, None, area, buf)
}

/// " Agents (3) " once loaded, " Agents " before.
pub fn counted<T>(label: &str, load: &Load<Vec<T>>) -> String {
    match load.loaded() {
        Some(list) => format!(" {label} ({}) ", list.len()),
        None => format!(" {label} "),
    }
}

/// The start every list of the current tenant's data shares: the titled
/// frame, then what stands in for the list until there is one (no current
/// tenant, loading, failed). Returns the area inside and the list.
pub fn tenant_list<'a, T>(
    app: &Shared<'_>,
    title: String,
    load: &'a Load<Vec<T>>,
    what: &str,
    area: Rect,
    buf: &mut Buffer,
) -> Option<(Rect, &'a Vec<T>)> {
    let screen = ListScreen {
        title,
        what,
        per_tenant: true,
        ..ListScreen::default()
    };
    screen.draw_loaded(app, load, area, buf)
}

/// With no current tenant, says so and how to choose one (with the keys
/// the keymap has for it) and returns true: the pane has nothing to show.
pub fn no_tenant(app: &Shared<'_>, area: Rect, buf: &mut Buffer) -> bool {
    if app.session.current_tenant.is_some() {
        return false;
    }
    let tenants = app.keymap.key_label(Context::Global, "pane_1");
    let switch = app.keymap.key_label(Context::TenantList, "switch");
    Paragraph::new(format!(
        "No tenant selected. Press {tenants} and pick one with {switch}."
    ))
    .wrap(Wrap { trim: true })
    .render(area, buf);
    true
}

/// A list's empty state: what is missing and the key that adds one.
pub fn empty_state<'t>(theme: &Theme, text: impl Into<Cow<'t, str>>, area: Rect, buf: &mut Buffer) {
    Paragraph::new(Span::styled(text, theme.dim))
        .wrap(Wrap { trim: true })
        .render(area, buf);
}

/// A list's table: `header` over `rows` in columns of `widths`, the
/// `selected` row marked as every list marks it.
pub fn selectable_table<'a>(
    theme: &Theme,
    rows: impl IntoIterator<Item = Row<'a>>,
    widths: impl IntoIterator<Item = Constraint>,
    header: Row<'a>,
    selected: usize,
    area: Rect,
    buf: &mut Buffer,
) {
    let table = Table::new(rows, widths).header(header);
    selectable(theme, table, selected, area, buf);
}

/// Draws `table` with its `selected` row marked as every list marks it.
pub fn selectable(theme: &Theme, table: Table<'_>, selected: usize, area: Rect, buf: &mut Buffer) {
    let table = table
        .row_highlight_style(theme.selected)
        .highlight_symbol("› ");
    let mut state = TableState::default().with_selected(Some(selected));
    StatefulWidget::render(table, area, buf, &mut state);
}
