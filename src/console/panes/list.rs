//! The shape the list screens share: a list read from the server with a
//! selected row that the same keys move, and its drawing (the titled frame,
//! what stands in for the rows until there are some, the table).

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders, Row, Widget};

use super::{empty_state, load_state_in, no_tenant, selectable_table};
use crate::api::{ApiError, ApiResult};
use crate::console::action::Action;
use crate::console::component::Shared;
use crate::console::keymap::Context;
use crate::console::paging::{append_new, Pager};
use crate::console::state::Load;
use crate::console::theme::Theme;
use crate::domain::Page;

/// A list read from the server and the row selected in it.
#[derive(Debug, Clone)]
pub struct ListState<T> {
    pub items: Load<Vec<T>>,
    pub selected: usize,
}

impl<T> Default for ListState<T> {
    fn default() -> Self {
        Self {
            items: Load::Idle,
            selected: 0,
        }
    }
}

impl<T> ListState<T> {
    pub fn loaded(&self) -> Option<&Vec<T>> {
        self.items.loaded()
    }

    pub fn loaded_mut(&mut self) -> Option<&mut Vec<T>> {
        self.items.loaded_mut()
    }

    pub fn is_failed(&self) -> bool {
        self.items.is_failed()
    }

    /// How many rows are loaded (none before the list is).
    pub fn row_count(&self) -> usize {
        self.loaded().map_or(0, Vec::len)
    }

    pub fn selected_item(&self) -> Option<&T> {
        self.loaded()?.get(self.selected)
    }

    /// Asked for (again): rows already shown stay until the answer.
    pub fn loading(&mut self) {
        if !matches!(self.items, Load::Loaded(_)) {
            self.items = Load::Loading;
        }
    }

    /// Asked for afresh: what was shown goes.
    pub fn reloading(&mut self) {
        self.items = Load::Loading;
    }

    /// Forgets the rows (they were another tenant's, or another parent's).
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// The answer: the rows, the selection kept on one of them; or why not.
    pub fn arrived(&mut self, answer: ApiResult<Vec<T>>) {
        match answer {
            Ok(list) => {
                self.selected = self.selected.min(list.len().saturating_sub(1));
                self.items = Load::Loaded(list);
            }
            Err(e) => self.items = Load::Failed(e.message()),
        }
    }

    /// A page of a list read a page at a time: the first replaces the rows,
    /// a `next` one joins them (see [`append_new`]; `key` tells rows apart).
    /// A next page that failed leaves the rows shown and is returned, for
    /// the caller to say so; the next move asks for it again.
    pub fn arrived_page<K: PartialEq>(
        &mut self,
        pager: &mut Pager,
        answer: ApiResult<Page<T>>,
        next: bool,
        key: impl Fn(&T) -> K,
    ) -> Option<ApiError> {
        match answer {
            Ok(page) => {
                pager.on_page(page.next_cursor);
                match self.items.loaded_mut() {
                    Some(list) if next => append_new(list, page.items, key),
                    _ if next => {}
                    _ => self.arrived(Ok(page.items)),
                }
            }
            Err(e) if next => {
                pager.failed();
                return Some(e);
            }
            Err(e) => self.arrived(Err(e)),
        }
        None
    }

    /// Drops the rows `keep` refuses (deleted ones), the selection kept on
    /// a row.
    pub fn retain(&mut self, keep: impl FnMut(&T) -> bool) {
        if let Some(list) = self.items.loaded_mut() {
            list.retain(keep);
            self.selected = self.selected.min(list.len().saturating_sub(1));
        }
    }

    /// Selects the first row `pick` accepts, if one does.
    pub fn select_where(&mut self, pick: impl FnMut(&T) -> bool) {
        if let Some(i) = self.loaded().and_then(|l| l.iter().position(pick)) {
            self.selected = i;
        }
    }

    /// Moves the selection for a move key (see [`step`]).
    pub fn step(&mut self, action: &Action, page: usize) -> bool {
        let rows = self.row_count();
        step(&mut self.selected, action, rows, page)
    }
}

/// Moves `selected` in a list of `rows` for up, down, a `page` up or down,
/// first and last; returns false (and moves nothing) for any other action.
pub fn step(selected: &mut usize, action: &Action, rows: usize, page: usize) -> bool {
    let last = rows.saturating_sub(1);
    *selected = match action {
        Action::Up => selected.saturating_sub(1),
        Action::Down => (*selected + 1).min(last),
        Action::PageUp => selected.saturating_sub(page),
        Action::PageDown => (*selected + page).min(last),
        Action::Top => 0,
        Action::Bottom => last,
        _ => return false,
    };
    true
}

/// Where a feature's keys go on one of its screens: the retry key first
/// while what the screen shows has `failed`, then the screen's own
/// `contexts`, then the global keys.
pub fn screen_contexts(
    failed: bool,
    contexts: impl IntoIterator<Item = Context>,
) -> (Vec<Context>, bool) {
    let mut out = Vec::new();
    if failed {
        out.push(Context::LoadError);
    }
    out.extend(contexts);
    out.push(Context::Global);
    (out, false)
}

/// What a list screen draws around its rows.
#[derive(Debug, Default)]
pub struct ListScreen<'a> {
    pub title: String,
    /// What the rows are, for "Loading …" and "Could not load …".
    pub what: &'a str,
    /// Said when there are no rows (with the keymap's key that adds one).
    pub empty: String,
    /// Said on the bottom border (a paged list's "loading more…").
    pub footer: Option<&'a str>,
    /// The rows are the current tenant's: without one, say how to pick it.
    pub per_tenant: bool,
}

impl ListScreen<'_> {
    /// Draws the frame, then what stands in for the rows until there are
    /// some (no tenant, loading, failed, empty). Returns the area inside
    /// the frame and the rows, when there are rows to draw there.
    pub fn draw<'l, T>(
        &self,
        app: &Shared<'_>,
        load: &'l Load<Vec<T>>,
        area: Rect,
        buf: &mut Buffer,
    ) -> Option<(Rect, &'l [T])> {
        let (inner, list) = self.draw_loaded(app, load, area, buf)?;
        rows_or_empty(app.theme, list, &self.empty, inner, buf).map(|rows| (inner, rows))
    }

    /// [`Self::draw`] for a list that says its emptiness itself: the
    /// rows once loaded, none or some.
    pub fn draw_loaded<'l, T>(
        &self,
        app: &Shared<'_>,
        load: &'l Load<Vec<T>>,
        area: Rect,
        buf: &mut Buffer,
    ) -> Option<(Rect, &'l Vec<T>)> {
        let inner = footed_frame(app.theme, &self.title, self.footer, area, buf);
        if self.per_tenant && no_tenant(app, inner, buf) {
            return None;
        }
        load_state_in(app, load, self.what, inner, buf).map(|list| (inner, list))
    }
}

/// The rows once loaded, or what stands in for them: loading, failed
/// (see [`load_state_in`]), or the `empty` text.
pub fn list_rows<'l, T>(
    app: &Shared<'_>,
    load: &'l Load<Vec<T>>,
    what: &str,
    empty: &str,
    area: Rect,
    buf: &mut Buffer,
) -> Option<&'l [T]> {
    let list = load_state_in(app, load, what, area, buf)?;
    rows_or_empty(app.theme, list, empty, area, buf)
}

/// The rows, or (when there are none) the `empty` text in their place.
pub fn rows_or_empty<'l, T>(
    theme: &Theme,
    rows: &'l [T],
    empty: &str,
    area: Rect,
    buf: &mut Buffer,
) -> Option<&'l [T]> {
    if rows.is_empty() {
        empty_state(theme, empty, area, buf);
        return None;
    }
    Some(rows)
}

/// [`super::frame`] with `footer`, when there is one, on the bottom border.
pub fn footed_frame(
    theme: &Theme,
    title: &str,
    footer: Option<&str>,
    area: Rect,
    buf: &mut Buffer,
) -> Rect {
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(title, theme.title));
    if let Some(foot) = footer {
        block = block.title_bottom(Span::styled(format!(" {foot} "), theme.dim));
    }
    let inner = block.inner(area);
    block.render(area, buf);
    inner
}

/// A list's area split in two: the table on top, and `height` rows under
/// it for what is said about the selected row.
pub fn with_detail(area: Rect, height: u16) -> [Rect; 2] {
    Layout::vertical([Constraint::Min(2), Constraint::Length(height)]).areas(area)
}

/// The rule over what is said about the selected row, under the table.
pub fn detail_rule(theme: &Theme) -> Block<'static> {
    Block::default()
        .borders(Borders::TOP)
        .border_style(theme.border)
}

/// A column of a list's table: its heading and its width.
pub type Column<'a> = (&'a str, Constraint);

/// A list's table under headings: [`selectable_table`] with the header
/// and widths from `columns`.
pub fn table<'a>(
    theme: &Theme,
    columns: &[Column<'a>],
    rows: impl IntoIterator<Item = Row<'a>>,
    selected: usize,
    area: Rect,
    buf: &mut Buffer,
) {
    let header = Row::new(columns.iter().map(|(name, _)| *name)).style(theme.table_header);
    let widths = columns.iter().map(|(_, width)| *width);
    selectable_table(theme, rows, widths, header, selected, area, buf);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_stay_within_the_rows() {
        let mut s = 0;
        assert!(step(&mut s, &Action::Up, 5, 3));
        assert_eq!(s, 0);
        step(&mut s, &Action::PageDown, 5, 3);
        assert_eq!(s, 3);
        step(&mut s, &Action::PageDown, 5, 3);
        assert_eq!(s, 4);
        step(&mut s, &Action::Top, 5, 3);
        assert_eq!(s, 0);
        step(&mut s, &Action::Bottom, 5, 3);
        assert_eq!(s, 4);
        assert!(!step(&mut s, &Action::Open, 5, 3));
        step(&mut s, &Action::Bottom, 0, 3);
        assert_eq!(s, 0, "an empty list selects its first row");
    }

    #[test]
    fn an_answer_keeps_the_selection_on_a_row() {
        let mut l = ListState {
            items: Load::Loaded(vec![1, 2, 3]),
            selected: 2,
        };
        l.arrived(Ok(vec![1]));
        assert_eq!(l.selected, 0);
        assert_eq!(l.selected_item(), Some(&1));
    }
}
