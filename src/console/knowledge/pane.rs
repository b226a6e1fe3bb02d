//! Drawing the Knowledge view: the documents, a search's snippets, one
//! document's body wrapped to the terminal's columns, and the search input.

use chrono::{DateTime, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Widget};

use super::{may_manage, KnowledgeView, Screen};
use crate::console::component::Shared;
use crate::console::keymap::Context;
use crate::console::panes::{counted, frame, load_state_in, table, Column, ListScreen};
use crate::console::sanitize::cleaned;
use crate::console::text::{ellipsize, wrap};

pub(super) fn render(v: &KnowledgeView, app: &Shared<'_>, area: Rect, buf: &mut Buffer) {
    let tenant = app.tenant_name(v.tenant);
    let read_only = v.tenant.is_some_and(|t| !may_manage(app.session, t));
    let tag = if read_only { " · read-only" } else { "" };
    // The search input takes the last row while it is open.
    let (main, input) = match &v.query {
        Some(_) => {
            let [m, i] = Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(area);
            (m, Some(i))
        }
        None => (area, None),
    };
    match v.screen {
        Screen::List => render_list(v, app, &format!("{tenant}{tag}"), read_only, main, buf),
        Screen::Results => render_results(v, app, main, buf),
        Screen::Document => render_document(v, app, main, buf),
    }
    if let (Some(q), Some(at)) = (&v.query, input) {
        Paragraph::new(Line::from(vec![
            Span::styled("Search: ", app.theme.field_label),
            Span::raw(cleaned(q)),
            Span::styled("▏", app.theme.field_cursor),
        ]))
        .render(at, buf);
    }
}

const COLUMNS: [Column<'static>; 3] = [
    ("Title", Constraint::Min(20)),
    ("Size", Constraint::Length(12)),
    ("Updated", Constraint::Length(16)),
];

fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
}

/// "850 chars", "12.4k chars".
fn size(chars: u32) -> String {
    if chars < 1000 {
        format!("{chars} chars")
    } else {
        format!("{:.1}k chars", f64::from(chars) / 1000.0)
    }
}

fn render_list(
    v: &KnowledgeView,
    app: &Shared<'_>,
    tenant: &str,
    read_only: bool,
    area: Rect,
    buf: &mut Buffer,
) {
    let theme = app.theme;
    let empty = if read_only {
        "No documents yet. Someone with the knowledge:manage permission can add them.".to_string()
    } else {
        let key = app.keymap.key_label(Context::KnowledgeManage, "new");
        format!(
            "No documents yet. Press {key} to write one, or :knowledge import DIR to add \
             a folder's .md/.txt files. Agents answer from what is here."
        )
    };
    let screen = ListScreen {
        title: format!("{}· {tenant} ", counted("Knowledge", &v.documents.items)),
        what: "the knowledge base",
        empty,
        per_tenant: true,
        ..ListScreen::default()
    };
    let Some((inner, docs)) = screen.draw(app, &v.documents.items, area, buf) else {
        return;
    };
    let rows = docs.iter().map(|d| {
        Row::new(vec![
            Line::from(cleaned(&d.title)),
            Line::from(size(d.chars)),
            Line::from(Span::styled(when(d.updated_at), theme.dim)),
        ])
    });
    table(theme, &COLUMNS, rows, v.documents.selected, inner, buf);
}

fn render_results(v: &KnowledgeView, app: &Shared<'_>, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let count = v
        .results
        .loaded()
        .map_or(String::new(), |l| format!(" · {} snippets", l.len()));
    let key = app.keymap.key_label(Context::KnowledgeResults, "filter");
    let screen = ListScreen {
        title: format!(
            " Search \"{}\"{count} ",
            ellipsize(&cleaned(&v.searched), 40)
        ),
        what: "the search",
        empty: format!("Nothing matches. Try other words ({key} searches again)."),
        ..ListScreen::default()
    };
    let Some((inner, found)) = screen.draw(app, &v.results.items, area, buf) else {
        return;
    };
    let width = inner.width.saturating_sub(4) as usize;
    let mut lines = Vec::new();
    let mut selected_at = 0usize;
    for (i, s) in found.iter().enumerate() {
        let on = i == v.results.selected;
        if on {
            selected_at = lines.len();
        }
        let style = if on { theme.selected } else { theme.title };
        let mark = if on { "› " } else { "  " };
        lines.push(Line::from(vec![
            Span::styled(format!("{mark}{}", cleaned(&s.title)), style),
            Span::styled(format!("  · part {}", s.chunk), theme.dim),
        ]));
        for l in wrap(&cleaned(&s.text), width).into_iter().take(3) {
            lines.push(Line::from(Span::styled(format!("    {l}"), theme.dim)));
        }
    }
    // Keep the selected snippet on screen.
    let rows = inner.height as usize;
    let top = (selected_at + 4).saturating_sub(rows);
    Paragraph::new(lines)
        .scroll((top as u16, 0))
        .render(inner, buf);
}

fn render_document(v: &KnowledgeView, app: &Shared<'_>, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let title = match v.document.loaded() {
        Some(d) => format!(
            " {} · {} · updated {} ",
            ellipsize(&cleaned(&d.title), 40),
            size(d.body.chars().count() as u32),
            when(d.updated_at)
        ),
        None => " Document ".into(),
    };
    let inner = frame(theme, title, area, buf);
    let Some(d) = load_state_in(app, &v.document, "the document", inner, buf) else {
        return;
    };
    let lines = wrap(&cleaned_body(&d.body), inner.width.max(1) as usize);
    // Never scroll past the last page.
    let last = lines.len().saturating_sub(inner.height as usize) as u16;
    let scroll = v.scroll.min(last);
    let shown: Vec<Line> = lines
        .into_iter()
        .skip(scroll as usize)
        .take(inner.height as usize)
        .map(Line::from)
        .collect();
    Paragraph::new(shown).render(inner, buf);
}

/// The body with control characters made harmless, its lines kept.
fn cleaned_body(body: &str) -> String {
    body.lines().map(cleaned).collect::<Vec<_>>().join("\n")
}
