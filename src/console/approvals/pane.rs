//! The approvals view: the list of drafts waiting for a person on the left,
//! the selected one (qualification, draft, steps) on the right.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::{lead_name, sources, Approval, ApprovalsView};
use crate::console::component::Shared;
use crate::console::leads::short_duration;
use crate::console::panes::{counted, frame, load_state_in};
use crate::domain::{Workflow, WorkflowStep};

/// "hot — wants 40 chairs by Friday", or why there is none.
pub fn qualification_text(w: &Workflow) -> String {
    match &w.qualification {
        Some(q) => format!("{} — {}", q.category, q.reason),
        None if w.steps.iter().any(|s| s.kind.as_str() == "qualify") => "unreadable".into(),
        None => "—".into(),
    }
}

/// One step: "qualify local/smollm2 v3 212+9 tok 1.4s", and its outcome
/// when it was not ok.
pub(super) fn step_line(s: &WorkflowStep) -> String {
    let mut line = format!(
        "{:<8}{} v{} {}+{} tok {:.1}s",
        s.kind.as_str(),
        s.model,
        s.prompt_version,
        s.prompt_tokens,
        s.completion_tokens,
        s.duration_ms as f64 / 1000.0,
    );
    if s.outcome.as_str() != "ok" {
        line.push_str(&format!(" {}", s.outcome.as_str()));
    }
    line
}

pub(super) fn render(v: &ApprovalsView, app: &Shared<'_>, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let inner = frame(theme, counted("Approvals", v.list()), area, buf);
    let Some(list) = load_state_in(app, v.list(), "the approvals", inner, buf) else {
        return;
    };
    if list.is_empty() {
        Paragraph::new(vec![
            Line::from("Nothing awaits approval."),
            Line::from(Span::styled(
                "Drafts appear here live as agents write them.",
                theme.dim,
            )),
        ])
        .render(inner, buf);
        return;
    }
    let list_w = (inner.width / 3).clamp(12, 28);
    let [left, right] =
        Layout::horizontal([Constraint::Length(list_w), Constraint::Min(0)]).areas(inner);
    let rows = usize::from(left.height).max(1);
    let first = v.selected().saturating_sub(rows - 1);
    let lines: Vec<Line> = list
        .iter()
        .enumerate()
        .skip(first)
        .take(rows)
        .map(|(i, a)| {
            let cat = a
                .workflow
                .qualification
                .as_ref()
                .map_or("?", |q| q.category.as_str());
            let text = format!(
                "{} {}",
                if i == v.selected() { "›" } else { " " },
                lead_name(a)
            );
            let style = if i == v.selected() {
                theme.selected
            } else {
                ratatui::style::Style::default()
            };
            Line::from(vec![
                Span::styled(text, style),
                Span::styled(format!(" {cat}"), theme.dim),
            ])
        })
        .collect();
    Paragraph::new(lines).render(left, buf);
    if let Some(a) = v.selected_approval() {
        render_one(v, app, a, right, buf);
    }
}

fn render_one(v: &ApprovalsView, app: &Shared<'_>, a: &Approval, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let w = &a.workflow;
    let label = |s: &str| Span::styled(format!("{s:<10}"), theme.field_label);
    // The body's columns inside its one-column margins.
    let width = usize::from(area.width.saturating_sub(2));
    let mut lines = vec![];
    let who = a
        .lead
        .as_ref()
        .and_then(|l| l.email.clone().or(l.company.clone()))
        .unwrap_or_default();
    lines.push(Line::from(vec![
        label("Lead"),
        Span::raw(lead_name(a)),
        Span::styled(format!(" {who}"), theme.dim),
    ]));
    if let Some(l) = &a.lead {
        let msg = l.message.lines().next().unwrap_or("").to_string();
        lines.push(Line::from(vec![label("Message"), Span::raw(msg)]));
    }
    lines.push(Line::from(vec![
        label("Qualified"),
        Span::raw(qualification_text(w)),
    ]));
    if let Some(policy) = sources::policy_line(w) {
        lines.extend(sources::labelled("Policy", 10, &policy, width, theme));
    }
    lines.push(Line::from(vec![
        label("Waiting"),
        Span::raw(short_duration(app.now - w.updated_at)),
    ]));
    lines.push(Line::from(Span::styled("Draft", theme.table_header)));
    for l in w.draft.as_deref().unwrap_or("(no draft)").lines() {
        lines.push(Line::from(format!("  {l}")));
    }
    lines.extend(sources::source_lines(w, width, theme));
    lines.push(Line::from(Span::styled("Steps", theme.table_header)));
    for s in &w.steps {
        lines.push(Line::from(Span::styled(
            format!("  {}", step_line(s)),
            theme.dim,
        )));
    }
    let deciding = v.deciding == Some(w.id);
    let status: Option<Line> = match (&v.error, deciding) {
        (Some(e), _) => Some(Line::from(Span::styled(e.clone(), theme.error))),
        (None, true) => Some(Line::from(Span::styled("Sending…", theme.info))),
        _ => None,
    };
    let status_h = u16::from(status.is_some()) * 3;
    let [body, foot] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(status_h)]).areas(area);
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .render(body.inner(ratatui::layout::Margin::new(1, 0)), buf);
    if let Some(s) = status {
        Paragraph::new(s)
            .wrap(Wrap { trim: true })
            .render(foot.inner(ratatui::layout::Margin::new(1, 0)), buf);
    }
}
