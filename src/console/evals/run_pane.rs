//! Drawing one run (its versions side by side, one row per case, the rows
//! whose outcome differs between them highlighted, progress while it
//! runs), one case's replies in full, and two runs compared.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Widget, Wrap};
use uuid::Uuid;

use super::pane::{excerpt, expects, percent, status_style, versions};
use super::EvalsView;
use crate::console::component::Shared;
use crate::console::panes::{empty_state, frame, load_state_in, selectable_table, table};
use crate::console::sanitize::cleaned;
use crate::console::theme::Theme;
use crate::domain::eval::{CheckKind, EvalLaneSummary, EvalResult, EvalRunDetail, EvalRunStatus};

fn check_label(kind: CheckKind) -> &'static str {
    match kind {
        CheckKind::Category => "c",
        CheckKind::Contains => "+",
        CheckKind::NotContains => "−",
        CheckKind::MaxChars => "≤",
    }
}

/// "pass" / "FAIL" / "error", styled.
fn outcome(theme: &Theme, r: Option<&EvalResult>) -> Span<'static> {
    match r {
        None => Span::styled("…", theme.dim),
        Some(r) if r.error.is_some() => Span::styled("ERR", theme.error),
        Some(r) if r.passed => Span::styled("pass", theme.success),
        Some(_) => Span::styled("FAIL", theme.error),
    }
}

/// "cat✓ +✗ ≤✓": each expectation's outcome.
fn checks(theme: &Theme, r: Option<&EvalResult>) -> Line<'static> {
    let Some(r) = r else {
        return Line::default();
    };
    let mut spans = Vec::new();
    for c in &r.checks {
        let (mark, style) = if c.passed {
            ("✓", theme.success)
        } else {
            ("✗", theme.error)
        };
        spans.push(Span::styled(
            format!("{}{mark}", check_label(c.kind)),
            style,
        ));
    }
    if spans.is_empty() {
        spans.push(Span::styled("—", theme.dim));
    }
    Line::from(spans)
}

/// "0.9s", "12.3s": a reply's latency in a narrow column.
fn seconds(ms: u64) -> String {
    format!("{:.1}s", ms as f64 / 1000.0)
}

fn lane_summary(s: &EvalLaneSummary) -> String {
    format!(
        "v{} {} ({}/{} passed{})",
        s.version,
        percent(s.pass_rate),
        s.passed,
        s.cases,
        if s.errors > 0 {
            format!(", {} errors", s.errors)
        } else {
            String::new()
        }
    )
}

/// "v3 33% (1/3)", where the line is shared with more.
fn short_summary(s: &EvalLaneSummary) -> String {
    format!(
        "v{} {} ({}/{})",
        s.version,
        percent(s.pass_rate),
        s.passed,
        s.cases
    )
}

fn result_of(d: &EvalRunDetail, case: Uuid, lane: u8) -> Option<&EvalResult> {
    d.results
        .iter()
        .find(|r| r.case_id == case && r.lane == lane)
}

/// The summary line: each version's pass rate, the cases that differ,
/// and the progress while it runs.
fn summary_line(theme: &Theme, d: &EvalRunDetail) -> Line<'static> {
    let run = &d.run;
    let mut spans = vec![Span::styled(
        format!("{} ", run.status.as_str()),
        status_style(theme, run.status),
    )];
    if run.status == EvalRunStatus::Running {
        spans.push(Span::styled(
            format!("{}/{} cases ", run.progress.done, run.progress.total),
            theme.warning.add_modifier(Modifier::BOLD),
        ));
    }
    let each: Vec<String> = run.summary.iter().map(lane_summary).collect();
    spans.push(Span::raw(each.join(" · ")));
    if run.lanes.len() > 1 {
        let n = d.differing.len();
        spans.push(Span::styled(
            format!(
                " · {n} case{} differ{}",
                if n == 1 { "" } else { "s" },
                if n == 1 { "s" } else { "" }
            ),
            if n > 0 { theme.warning } else { theme.dim },
        ));
    }
    if let Some(e) = &run.error {
        spans.push(Span::styled(format!(" · {}", cleaned(e)), theme.error));
    }
    Line::from(spans)
}

pub(super) fn render_run(v: &EvalsView, app: &Shared<'_>, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let title = match v.run.loaded() {
        Some(d) => format!(
            " Run · {} · {} · {} ",
            cleaned(&d.run.set_name),
            cleaned(&d.run.agent_name),
            versions(&d.run)
        ),
        None => " Run ".into(),
    };
    let inner = frame(theme, title, area, buf);
    let Some(d) = load_state_in(app, &v.run, "the run", inner, buf) else {
        return;
    };
    let [head, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(inner);
    Paragraph::new(summary_line(theme, d)).render(head, buf);
    let cases = v.run_rows();
    if cases.is_empty() {
        empty_state(theme, "No case has finished yet.", body, buf);
        return;
    }
    let lanes: Vec<(u8, u32)> = d
        .run
        .lanes
        .iter()
        .enumerate()
        .map(|(i, l)| (i as u8, l.version))
        .collect();
    let mut head_cells = vec!["".to_string(), "Case".to_string()];
    for (_, version) in &lanes {
        head_cells.extend([
            format!("v{version}"),
            "Checks".into(),
            "Category".into(),
            "Tok".into(),
            "Time".into(),
        ]);
    }
    let header = Row::new(head_cells).style(theme.table_header);
    let rows = cases.iter().map(|case| {
        let differs = d.differing.contains(case);
        let first = lanes
            .iter()
            .find_map(|(lane, _)| result_of(d, *case, *lane));
        let text = first
            .map(|r| format!("{} {}", r.case.position, excerpt(&r.case.message)))
            .unwrap_or_default();
        let mut cells = vec![
            Line::from(Span::styled(if differs { "≠" } else { "" }, theme.warning)),
            Line::from(text),
        ];
        for (lane, _) in &lanes {
            let r = result_of(d, *case, *lane);
            cells.push(Line::from(outcome(theme, r)));
            cells.push(checks(theme, r));
            cells.push(Line::from(
                r.and_then(|r| r.category.clone()).unwrap_or_default(),
            ));
            cells.push(Line::from(
                r.map(|r| (r.prompt_tokens + r.completion_tokens).to_string())
                    .unwrap_or_default(),
            ));
            cells.push(Line::from(
                r.map(|r| seconds(r.latency_ms)).unwrap_or_default(),
            ));
        }
        let row = Row::new(cells);
        if differs {
            row.style(theme.warning.add_modifier(Modifier::BOLD))
        } else {
            row
        }
    });
    let mut widths = vec![Constraint::Length(1), Constraint::Min(8)];
    for _ in &lanes {
        widths.extend([
            Constraint::Length(4),
            Constraint::Min(6),
            Constraint::Length(8),
            Constraint::Length(5),
            Constraint::Length(5),
        ]);
    }
    selectable_table(theme, rows, widths, header, v.row_selected, body, buf);
}

fn reply_lines(theme: &Theme, r: &EvalResult, out: &mut Vec<Line<'static>>) {
    out.push(Line::from(vec![
        Span::styled(format!("v{} ", r.version), theme.table_header),
        outcome(theme, Some(r)),
        Span::styled(
            format!(
                "  category {}  ·  {} tokens  ·  {} ms",
                r.category.as_deref().unwrap_or("—"),
                r.prompt_tokens + r.completion_tokens,
                r.latency_ms
            ),
            theme.dim,
        ),
    ]));
    for c in &r.checks {
        let (mark, style) = if c.passed {
            ("✓", theme.success)
        } else {
            ("✗", theme.error)
        };
        out.push(Line::from(vec![
            Span::styled(format!("  {mark} {} ", check_label(c.kind)), style),
            Span::raw(cleaned(&c.expected)),
            Span::styled(format!("  {}", cleaned(&c.detail)), theme.dim),
        ]));
    }
    if let Some(e) = &r.error {
        out.push(Line::from(Span::styled(
            format!("  {}", cleaned(e)),
            theme.error,
        )));
    }
    for l in r.reply.lines() {
        out.push(Line::from(format!("  {}", cleaned(l))));
    }
    out.push(Line::default());
}

pub(super) fn render_result(v: &EvalsView, app: &Shared<'_>, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let inner = frame(theme, " Case ", area, buf);
    let Some(d) = load_state_in(app, &v.run, "the run", inner, buf) else {
        return;
    };
    let Some(case) = v.run_rows().get(v.row_selected).copied() else {
        return;
    };
    let results: Vec<&EvalResult> = (0..d.run.lanes.len() as u8)
        .filter_map(|lane| result_of(d, case, lane))
        .collect();
    let Some(first) = results.first() else {
        return;
    };
    let mut lines = vec![Line::from(vec![
        Span::styled(format!("#{} ", first.case.position), theme.table_header),
        Span::raw(cleaned(first.case.lead.display_name())),
        Span::styled(
            format!("  expects {}", expects(&first.case.expect)),
            theme.dim,
        ),
    ])];
    for l in first.case.message.lines() {
        lines.push(Line::from(Span::styled(
            format!("  {}", cleaned(l)),
            theme.dim,
        )));
    }
    lines.push(Line::default());
    for r in &results {
        reply_lines(theme, r, &mut lines);
    }
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .scroll((v.scroll, 0))
        .render(inner, buf);
}

pub(super) fn render_compare(v: &EvalsView, app: &Shared<'_>, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let inner = frame(theme, " Runs compared ", area, buf);
    let Some(c) = load_state_in(app, &v.compare, "the comparison", inner, buf) else {
        return;
    };
    let [head, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(inner);
    let runs = v.runs.loaded();
    let when_of = |id: Uuid| {
        runs.and_then(|l| l.iter().find(|r| r.id == id))
            .map(|r| format!(" of {}", r.created_at.format("%m-%d %H:%M")))
            .unwrap_or_default()
    };
    let n = c.cases.iter().filter(|x| x.differs).count();
    Paragraph::new(Line::from(vec![
        Span::raw(format!(
            "{}{} · {}{}",
            short_summary(&c.left.summary),
            when_of(c.left.run_id),
            short_summary(&c.right.summary),
            when_of(c.right.run_id)
        )),
        Span::styled(
            format!(" · {n} differ"),
            if n > 0 { theme.warning } else { theme.dim },
        ),
    ]))
    .render(head, buf);
    let mark = |p: Option<bool>| match p {
        Some(true) => Span::styled("pass", theme.success),
        Some(false) => Span::styled("FAIL", theme.error),
        None => Span::styled("—", theme.dim),
    };
    let rows = c.cases.iter().map(|x| {
        let row = Row::new(vec![
            Line::from(Span::styled(
                if x.differs { "≠" } else { "" },
                theme.warning,
            )),
            Line::from(format!("{} {}", x.position, excerpt(&x.message))),
            Line::from(mark(x.left)),
            Line::from(mark(x.right)),
        ]);
        if x.differs {
            row.style(theme.warning.add_modifier(Modifier::BOLD))
        } else {
            row.style(Style::default())
        }
    });
    let (left, right) = (
        format!("v{}", c.left.version),
        format!("v{}", c.right.version),
    );
    let columns = [
        ("", Constraint::Length(1)),
        ("Case", Constraint::Min(20)),
        (left.as_str(), Constraint::Length(6)),
        (right.as_str(), Constraint::Length(6)),
    ];
    table(theme, &columns, rows, v.compare_selected, body, buf);
}
