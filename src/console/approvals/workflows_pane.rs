//! The approvals view switched to failed, running/queued or all workflows:
//! a table of them across the tenant's leads, and the selected one's
//! failure, attempts and steps underneath.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Margin, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Widget, Wrap};

use super::pane::step_line;
use super::{
    failing_step, failure_text, lead_name, sources, Approval, ApprovalsView, WorkflowList,
};
use crate::console::component::Shared;
use crate::console::keymap::Context;
use crate::console::leads::short_duration;
use crate::console::panes::{detail_rule, frame, load_state_in, selectable_table, with_detail};
use crate::domain::WorkflowStatus;

fn status_text(s: WorkflowStatus) -> &'static str {
    match s {
        WorkflowStatus::AwaitingApproval => "awaiting",
        other => other.as_str(),
    }
}

pub(super) fn render(v: &ApprovalsView, app: &Shared<'_>, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let title = match v.list.loaded() {
        Some(list) => format!(" Workflows · {} ({}) ", v.show.label(), list.len()),
        None => format!(" Workflows · {} ", v.show.label()),
    };
    let inner = frame(theme, title, area, buf);
    let Some(list) = load_state_in(app, v.list(), "the workflows", inner, buf) else {
        return;
    };
    if list.is_empty() {
        let key = app.keymap.key_label(Context::Approvals, "status");
        let text = match v.show {
            WorkflowList::Failed => "No failed workflows.",
            WorkflowList::InProgress => "Nothing is running or queued.",
            _ => "No workflows yet.",
        };
        Paragraph::new(vec![
            Line::from(text),
            Line::from(Span::styled(
                format!("{key} shows the next list; the list follows live events."),
                theme.dim,
            )),
        ])
        .render(inner, buf);
        return;
    }
    let detail_h = (inner.height / 3).clamp(3, 8);
    let [top, bottom] = with_detail(inner, detail_h);
    let failed_only = v.show == WorkflowList::Failed;
    let mut header = vec!["Lead"];
    if !failed_only {
        header.push("Status");
    }
    header.extend(["Step", "Error", "When"]);
    let rows = list.iter().map(|a| {
        let w = &a.workflow;
        let mut cells = vec![lead_name(a)];
        if !failed_only {
            cells.push(status_text(w.status).to_string());
        }
        let failed = failing_step(w).map_or("—", |s| s.kind.as_str());
        let error = match w.status {
            WorkflowStatus::Failed => failure_text(w),
            _ => w.error.clone().unwrap_or_default(),
        };
        cells.extend([
            failed.to_string(),
            error,
            format!("{} ago", short_duration(app.now - w.updated_at)),
        ]);
        Row::new(cells)
    });
    let mut widths = vec![Constraint::Length(16)];
    if !failed_only {
        widths.push(Constraint::Length(9));
    }
    widths.extend([
        Constraint::Length(8),
        Constraint::Min(10),
        Constraint::Length(9),
    ]);
    let header = Row::new(header).style(theme.table_header);
    selectable_table(theme, rows, widths, header, v.selected(), top, buf);
    if let Some(a) = v.selected_approval() {
        render_one(v, app, a, bottom, buf);
    }
}

/// The selected workflow: why it failed in full, when, how many runs, its
/// steps; and a retry's outcome when it was refused.
fn render_one(v: &ApprovalsView, app: &Shared<'_>, a: &Approval, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let w = &a.workflow;
    let mut lines = Vec::new();
    if let Some(e) = &v.error {
        lines.push(Line::from(Span::styled(e.clone(), theme.error)));
    } else if v.deciding == Some(w.id) {
        lines.push(Line::from(Span::styled("Sending…", theme.info)));
    }
    lines.push(Line::from(vec![
        Span::styled(format!("{} ", lead_name(a)), theme.table_header),
        Span::styled(
            format!(
                "{} at {} UTC · attempt {}",
                status_text(w.status),
                w.updated_at.format("%Y-%m-%d %H:%M"),
                w.attempts
            ),
            theme.dim,
        ),
    ]));
    if w.status == WorkflowStatus::Failed {
        lines.push(Line::from(Span::styled(failure_text(w), theme.error)));
    }
    // Qualified and recorded with no draft: say the policy did it.
    if w.status == WorkflowStatus::Qualified {
        let why = sources::policy_line(w)
            .or_else(|| w.decision_note.clone())
            .unwrap_or_else(|| "qualified and recorded, no draft".into());
        lines.push(Line::from(Span::styled(why, theme.info)));
    }
    for s in &w.steps {
        lines.push(Line::from(Span::styled(
            format!("  {}", step_line(s)),
            theme.dim,
        )));
    }
    Paragraph::new(lines)
        .block(detail_rule(theme))
        .wrap(Wrap { trim: false })
        .render(area.inner(Margin::new(1, 0)), buf);
}
