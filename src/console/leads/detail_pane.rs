//! Drawing one lead's detail: its fields, qualification, spam verdict, SLA,
//! workflow and timeline.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::pane::{assignee, sla_style};
use super::{LeadDetail, LeadsView, SlaClock};
use crate::console::component::Shared;
use crate::console::keymap::Context;
use crate::console::panes::{frame, load_state_in};
use crate::console::sanitize::{clean, cleaned};
use crate::console::state::Load;
use crate::console::text;
use crate::console::theme::Theme;
use crate::domain::{TimelineEntry, Workflow, WorkflowStatus};

/// The lead's newest workflow in a few words, with the key that starts one.
fn workflow_state(state: &Load<Option<Workflow>>, key: &str, theme: &Theme) -> Span<'static> {
    match state {
        Load::Idle | Load::Loading => Span::styled("loading…", theme.dim),
        Load::Failed(m) => Span::styled(format!("could not load: {m}"), theme.error),
        Load::Loaded(None) => Span::styled(format!("none ({key} runs one)"), theme.dim),
        Load::Loaded(Some(w)) => match w.status {
            WorkflowStatus::AwaitingApproval => {
                Span::styled("draft awaiting approval (:approvals)", theme.warning)
            }
            WorkflowStatus::Failed => Span::styled(
                format!(
                    "failed — {} ({key} retries)",
                    w.error.as_deref().unwrap_or("?")
                ),
                theme.error,
            ),
            WorkflowStatus::Rejected => Span::raw(format!(
                "rejected — {} ({key} runs it again)",
                w.decision_note.as_deref().unwrap_or("")
            )),
            WorkflowStatus::Cancelled => Span::raw(format!("cancelled ({key} runs it again)")),
            other => Span::raw(other.as_str().replace('_', " ")),
        },
    }
}

fn text_of(v: &serde_json::Value, key: &str) -> String {
    match v.get(key) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => "—".into(),
        Some(other) => other.to_string(),
    }
}

/// One line per entry, in words rather than the raw event data.
fn describe(v: &LeadsView, e: &TimelineEntry) -> String {
    let d = &e.data;
    match e.kind.as_str() {
        "created" => format!("created ({})", text_of(d, "source")),
        "stage_changed" => format!("stage {} → {}", text_of(d, "from"), text_of(d, "to")),
        "assigned" => {
            let to = d
                .get("to")
                .and_then(|v| v.as_str())
                .and_then(|s| uuid::Uuid::parse_str(s).ok());
            match to {
                Some(id) => format!("assigned to {}", v.member_label(id).unwrap_or("a member")),
                None => "unassigned".into(),
            }
        }
        "note" => format!("note: {}", text_of(d, "body")),
        "reply" => format!("reply: {}", text_of(d, "body")),
        "qualified" => match d.get("qualification").and_then(|q| q.get("category")) {
            Some(c) => format!("qualified: {}", c.as_str().unwrap_or("?")),
            None => "qualification cleared".into(),
        },
        "spam_marked" if d.get("spam") == Some(&serde_json::Value::Bool(false)) => {
            "marked not spam".into()
        }
        "spam_marked" => "marked spam".into(),
        "updated" => "edited".into(),
        "sla_at_risk" => "SLA at risk".into(),
        "sla_breached" => "SLA breached".into(),
        "sla_reclocked" => format!("SLA deadline recomputed: due {}", text_of(d, "to")),
        other => other.replace('_', " "),
    }
}

pub(super) fn render(
    v: &LeadsView,
    d: &LeadDetail,
    app: &Shared<'_>,
    area: Rect,
    buf: &mut Buffer,
) {
    let theme = app.theme;
    let l = &d.lead;
    let mut title = format!(
        " {} · {} ",
        clean(&l.name),
        clean(&app.session.stage_name(Some(l.tenant_id), &l.stage))
    );
    // Opened from the all-tenants queue: whose lead it is.
    if v.all_tenants() {
        title.push_str(&format!(
            "· {} ",
            clean(&v.tenant_name(l.tenant_id, app.session))
        ));
    }
    let inner = frame(theme, title, area, buf);
    let none = || "—".to_string();
    let row = |label: &str, value: Span<'static>| {
        Line::from(vec![
            Span::styled(format!("{label:<14}"), theme.field_label),
            value,
        ])
    };
    let clock = SlaClock::of(app.session.tenant(l.tenant_id), app.now);
    let (state, sla) = clock.sentence(l, app.now);
    let sla = format!("{sla} (due {})", l.sla_due_at.format("%Y-%m-%d %H:%M"));
    let contact = [l.email.as_deref(), l.phone.as_deref()]
        .into_iter()
        .flatten()
        .map(cleaned)
        .collect::<Vec<_>>()
        .join(" · ");
    let mut lines = vec![
        row(
            "Contact",
            Span::raw(if contact.is_empty() { none() } else { contact }),
        ),
        row(
            "Company",
            Span::raw(l.company.as_deref().map_or_else(none, cleaned)),
        ),
        row(
            "Source",
            Span::raw(format!(
                "{} · received {}",
                l.source.as_str(),
                l.created_at.format("%Y-%m-%d %H:%M")
            )),
        ),
        row("Assignee", Span::raw(cleaned(&assignee(v, l)))),
        row("SLA", Span::styled(sla, sla_style(theme, state))),
        row(
            "Qualification",
            Span::raw(
                l.qualification
                    .as_ref()
                    .map_or_else(none, |q| cleaned(&format!("{} — {}", q.category, q.reason))),
            ),
        ),
    ];
    if let Some(state) = v.workflow() {
        let key = app.keymap.key_label(Context::LeadDetail, "start_workflow");
        lines.push(row("Workflow", workflow_state(state, &key, theme)));
    }
    if l.spam {
        let why = l
            .spam_reason
            .clone()
            .unwrap_or_else(|| "marked by hand".into());
        lines.push(row(
            "Spam",
            Span::styled(format!("yes — {}", clean(&why)), theme.error),
        ));
    }
    // The whole message, wrapped under its label; a long one takes at most
    // a third of the pane (the timeline keeps the rest) and says how much
    // more there is.
    let label_w = 14;
    let room = usize::from(inner.width).saturating_sub(label_w).max(10);
    let wrapped = text::wrap(&cleaned(l.message.trim_end()), room);
    let cap = (usize::from(inner.height) / 3).max(3);
    let shown = if wrapped.len() > cap {
        cap - 1
    } else {
        wrapped.len()
    };
    for (i, text) in wrapped.iter().take(shown).enumerate() {
        let label = if i == 0 { "Message" } else { "" };
        lines.push(row(label, Span::raw(text.clone())));
    }
    if wrapped.is_empty() {
        lines.push(row("Message", Span::styled(none(), theme.dim)));
    } else if shown < wrapped.len() {
        let more = wrapped.len() - shown;
        lines.push(row(
            "",
            Span::styled(format!("… {more} more lines"), theme.dim),
        ));
    }
    let top_h = (lines.len() as u16).min(inner.height);
    let [top, rest] =
        Layout::vertical([Constraint::Length(top_h), Constraint::Min(0)]).areas(inner);
    Paragraph::new(lines).render(top, buf);
    if rest.height < 2 {
        return;
    }
    let [heading, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(rest);
    Paragraph::new(Span::styled("Timeline", theme.table_header)).render(heading, buf);
    let Some(entries) = load_state_in(app, &d.timeline, "the timeline", body, buf) else {
        return;
    };
    if entries.is_empty() {
        Paragraph::new(Span::styled("Nothing yet.", theme.dim)).render(body, buf);
        return;
    }
    let lines: Vec<Line> = entries
        .iter()
        .skip(d.scroll)
        .take(usize::from(body.height))
        .map(|e| {
            let who = clean(e.actor_email.as_deref().unwrap_or("system"));
            Line::from(vec![
                Span::styled(e.created_at.format("%m-%d %H:%M ").to_string(), theme.dim),
                Span::raw(cleaned(&describe(v, e))),
                Span::styled(format!(" · {who}"), theme.dim),
            ])
        })
        .collect();
    Paragraph::new(lines)
        .wrap(Wrap { trim: true })
        .render(body, buf);
}
