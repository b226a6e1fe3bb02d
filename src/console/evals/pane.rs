//! Drawing the Evals screen's lists: the sets with their last run, a set's
//! cases with their expectations, and a set's runs, newest first.

use chrono::{DateTime, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Widget, Wrap};

use super::{run_pane, EvalsView, Screen};
use crate::console::component::Shared;
use crate::console::keymap::Context;
use crate::console::panes::{
    counted, detail_rule, frame, list_rows, load_state_in, rows_or_empty, table, with_detail,
    Column, ListScreen,
};
use crate::console::sanitize::cleaned;
use crate::console::theme::Theme;
use crate::domain::eval::{EvalExpectations, EvalRun, EvalRunStatus};

pub(super) fn render(v: &EvalsView, app: &Shared<'_>, area: Rect, buf: &mut Buffer) {
    match v.screen {
        Screen::Sets => render_sets(v, app, area, buf),
        Screen::Cases => render_cases(v, app, area, buf),
        Screen::Runs => render_runs(v, app, area, buf),
        Screen::Run => run_pane::render_run(v, app, area, buf),
        Screen::Result => run_pane::render_result(v, app, area, buf),
        Screen::Compare => run_pane::render_compare(v, app, area, buf),
    }
}

pub(super) fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
}

pub(super) fn percent(rate: f64) -> String {
    format!("{:.0}%", rate * 100.0)
}

pub(super) fn status_style(theme: &Theme, status: EvalRunStatus) -> Style {
    match status {
        EvalRunStatus::Completed => theme.success,
        EvalRunStatus::Running => theme.warning,
        EvalRunStatus::Failed | EvalRunStatus::Cancelled => theme.error,
    }
}

/// "v3 83% · v5 92%", or the progress of a run still running.
pub(super) fn rates(run: &EvalRun) -> String {
    if run.status == EvalRunStatus::Running {
        return format!("{}/{} cases", run.progress.done, run.progress.total);
    }
    run.summary
        .iter()
        .map(|s| format!("v{} {}", s.version, percent(s.pass_rate)))
        .collect::<Vec<_>>()
        .join(" · ")
}

pub(super) fn versions(run: &EvalRun) -> String {
    run.lanes
        .iter()
        .map(|l| format!("v{}", l.version))
        .collect::<Vec<_>>()
        .join(" | ")
}

const SET_COLUMNS: [Column<'static>; 4] = [
    ("Name", Constraint::Min(16)),
    ("Cases", Constraint::Length(5)),
    ("Last run", Constraint::Min(20)),
    ("When", Constraint::Length(16)),
];

const CASE_COLUMNS: [Column<'static>; 3] = [
    ("#", Constraint::Length(3)),
    ("Message", Constraint::Min(20)),
    ("Expects", Constraint::Length(24)),
];

const RUN_COLUMNS: [Column<'static>; 6] = [
    ("", Constraint::Length(1)),
    ("When", Constraint::Length(16)),
    ("Agent", Constraint::Min(10)),
    ("Versions", Constraint::Length(8)),
    ("Status", Constraint::Length(9)),
    ("Pass rate", Constraint::Min(14)),
];

fn render_sets(v: &EvalsView, app: &Shared<'_>, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let new = app.keymap.key_label(Context::EvalSets, "new");
    let add = app.keymap.key_label(Context::LeadDetail, "add_to_eval");
    let screen = ListScreen {
        title: format!(
            "{}· {} ",
            counted("Eval sets", &v.sets.items),
            app.tenant_name(v.tenant)
        ),
        what: "the eval sets",
        empty: format!(
            "No eval sets yet. Press {new} to create one, then add cases to it (or {add} on \
             a lead or a playground message)."
        ),
        per_tenant: true,
        ..ListScreen::default()
    };
    let Some((inner, sets)) = screen.draw(app, &v.sets.items, area, buf) else {
        return;
    };
    let rows = sets.iter().map(|s| {
        let (last, at) = match v.last_runs.get(&s.id) {
            Some(Some(run)) => (
                Line::from(vec![
                    Span::styled(
                        format!("{} ", run.status.as_str()),
                        status_style(theme, run.status),
                    ),
                    Span::raw(rates(run)),
                ]),
                when(run.created_at),
            ),
            Some(None) => (
                Line::from(Span::styled("never run", theme.dim)),
                String::new(),
            ),
            None => (Line::from(Span::styled("…", theme.dim)), String::new()),
        };
        Row::new(vec![
            Line::from(cleaned(&s.name)),
            Line::from(s.cases.to_string()),
            last,
            Line::from(at),
        ])
    });
    table(theme, &SET_COLUMNS, rows, v.sets.selected, inner, buf);
}

/// "hot · +2 · −1 · ≤600": what a case expects, in short.
pub(super) fn expects(e: &EvalExpectations) -> String {
    let mut out = Vec::new();
    if let Some(c) = e.category {
        out.push(c.as_str().to_string());
    }
    if !e.must_contain.is_empty() {
        out.push(format!("+{}", e.must_contain.len()));
    }
    if !e.must_not_contain.is_empty() {
        out.push(format!("−{}", e.must_not_contain.len()));
    }
    if let Some(n) = e.max_chars {
        out.push(format!("≤{n}"));
    }
    if out.is_empty() {
        return "nothing".into();
    }
    out.join(" · ")
}

/// The first line of a message, for a table.
pub(super) fn excerpt(text: &str) -> String {
    cleaned(text.lines().next().unwrap_or(""))
}

/// The tab line of an open set: Cases | Runs.
fn tabs(v: &EvalsView, app: &Shared<'_>) -> Line<'static> {
    let theme = app.theme;
    let style = |on: bool| if on { theme.tab_active } else { theme.dim };
    let key = app.keymap.key_label(Context::EvalCases, "eval_tab");
    Line::from(vec![
        Span::styled(" Cases ", style(v.screen == Screen::Cases)),
        Span::raw("│"),
        Span::styled(" Runs ", style(v.screen == Screen::Runs)),
        Span::styled(format!("  ({key} switches)"), theme.dim),
    ])
}

fn set_frame(v: &EvalsView, app: &Shared<'_>, area: Rect, buf: &mut Buffer) -> Rect {
    let title = format!(" Eval set · {} ", cleaned(&v.set_name()));
    let inner = frame(app.theme, title, area, buf);
    let [tab, rest] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(inner);
    Paragraph::new(tabs(v, app)).render(tab, buf);
    rest
}

fn render_cases(v: &EvalsView, app: &Shared<'_>, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let inner = set_frame(v, app, area, buf);
    let Some(detail) = load_state_in(app, &v.set, "the set", inner, buf) else {
        return;
    };
    let new = app.keymap.key_label(Context::EvalCases, "new");
    let import = app.keymap.key_label(Context::EvalCases, "eval_import");
    let empty =
        format!("No cases yet. Press {new} to write one, or {import} to import a CSV/JSON file.");
    let Some(cases) = rows_or_empty(theme, &detail.cases, &empty, inner, buf) else {
        return;
    };
    let detail_h = (inner.height / 3).clamp(3, 6);
    let [top, bottom] = with_detail(inner, detail_h);
    let rows = cases.iter().map(|c| {
        Row::new(vec![
            Line::from(c.position.to_string()),
            Line::from(excerpt(&c.message)),
            Line::from(expects(&c.expect)),
        ])
    });
    table(theme, &CASE_COLUMNS, rows, v.case_selected, top, buf);
    let Some(c) = cases.get(v.case_selected) else {
        return;
    };
    let mut lines = vec![Line::from(vec![
        Span::styled("From ", theme.dim),
        Span::raw(cleaned(c.lead.display_name())),
    ])];
    let phrases = |label: &str, list: &[crate::domain::eval::Phrase]| {
        (!list.is_empty()).then(|| {
            Line::from(vec![
                Span::styled(format!("{label} "), theme.dim),
                Span::raw(
                    list.iter()
                        .map(|p| format!("\"{}\"", cleaned(&p.0)))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            ])
        })
    };
    lines.extend(phrases("Must contain", &c.expect.must_contain));
    lines.extend(phrases("Must not contain", &c.expect.must_not_contain));
    lines.push(Line::from(cleaned(&c.message)));
    Paragraph::new(lines)
        .block(detail_rule(theme))
        .wrap(Wrap { trim: false })
        .render(bottom, buf);
}

fn render_runs(v: &EvalsView, app: &Shared<'_>, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let inner = set_frame(v, app, area, buf);
    let key = app.keymap.key_label(Context::EvalRuns, "eval_run");
    let empty = format!("No runs yet. Press {key} to run the set against an agent's versions.");
    let Some(runs) = list_rows(app, &v.runs.items, "the runs", &empty, inner, buf) else {
        return;
    };
    let rows = runs.iter().map(|r| {
        let mark = if v.marked == Some(r.id) { "●" } else { "" };
        Row::new(vec![
            Line::from(Span::styled(mark, theme.warning)),
            Line::from(when(r.created_at)),
            Line::from(cleaned(&r.agent_name)),
            Line::from(versions(r)),
            Line::from(Span::styled(
                r.status.as_str(),
                status_style(theme, r.status),
            )),
            Line::from(rates(r)),
        ])
    });
    table(theme, &RUN_COLUMNS, rows, v.runs.selected, inner, buf);
}
