//! Lists loaded a page at a time (leads, the audit log): the next page's
//! cursor, whether it is being fetched, and when to ask for it.

use super::state::Load;

/// Fetch the next page when the selection is this close to the loaded end.
pub const PREFETCH_ROWS: usize = 20;

/// Where a cursor-paged list stands after its first page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pager {
    /// The `next_cursor` of the last page read; `None` on the last page.
    pub next_cursor: Option<String>,
    /// A next-page request is in flight: only one at a time.
    pub loading_more: bool,
}

impl Pager {
    /// More rows exist than are loaded.
    pub fn more(&self) -> bool {
        self.next_cursor.is_some()
    }

    /// The cursor to ask for now, when the selection is within
    /// [`PREFETCH_ROWS`] of the `loaded` rows' end and no page is in flight;
    /// marks that page as asked for.
    pub fn due(&mut self, selected: usize, loaded: usize) -> Option<String> {
        if self.loading_more || selected + PREFETCH_ROWS < loaded {
            return None;
        }
        let cursor = self.next_cursor.clone()?;
        self.loading_more = true;
        Some(cursor)
    }

    /// A new first page was asked for: an older next page must not append.
    pub fn restart(&mut self) {
        self.loading_more = false;
    }

    /// Forgets the pages read, for a list that starts over empty.
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// A page arrived (first or next): its cursor is the one to follow.
    pub fn on_page(&mut self, next_cursor: Option<String>) {
        self.next_cursor = next_cursor;
        self.loading_more = false;
    }

    /// The next page failed; the same cursor is asked again on the next move.
    pub fn failed(&mut self) {
        self.loading_more = false;
    }

    /// " Audit log (40+) " while more rows wait to be read, " Audit log
    /// (40) " once all are, " Audit log " before the first page.
    pub fn counted<T>(&self, label: &str, load: &Load<Vec<T>>) -> String {
        match load.loaded() {
            Some(rows) if self.more() => format!(" {label} ({}+) ", rows.len()),
            Some(rows) => format!(" {label} ({}) ", rows.len()),
            None => format!(" {label} "),
        }
    }

    /// What the list's footer says: "loading more…", or `end` when every
    /// row is loaded; nothing while more wait to be scrolled to.
    pub fn footer(&self, end: &'static str) -> Option<&'static str> {
        if self.loading_more {
            Some("loading more…")
        } else if self.more() {
            None
        } else {
            Some(end)
        }
    }
}

/// Appends a next page's rows, skipping any already listed (pushed live
/// meanwhile, or moved across the page boundary).
pub fn append_new<T, K: PartialEq>(items: &mut Vec<T>, page: Vec<T>, key: impl Fn(&T) -> K) {
    for row in page {
        let k = key(&row);
        if !items.iter().any(|x| key(x) == k) {
            items.push(row);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asks_once_near_the_end_and_only_with_a_cursor() {
        let mut p = Pager::default();
        assert_eq!(p.due(99, 100), None, "no cursor: the last page");
        p.on_page(Some("c1".into()));
        assert_eq!(p.due(10, 100), None, "far from the end");
        assert_eq!(p.due(80, 100).as_deref(), Some("c1"));
        assert_eq!(p.due(99, 100), None, "already in flight");
        assert_eq!(p.footer("end of log"), Some("loading more…"));
        p.failed();
        assert_eq!(p.footer("end of log"), None);
        assert_eq!(p.due(99, 100).as_deref(), Some("c1"));
        p.on_page(None);
        assert_eq!(p.footer("end of log"), Some("end of log"));
    }

    #[test]
    fn append_skips_rows_already_listed() {
        let mut items = vec![1, 2, 3];
        append_new(&mut items, vec![3, 4], |x| *x);
        assert_eq!(items, vec![1, 2, 3, 4]);
    }
}
