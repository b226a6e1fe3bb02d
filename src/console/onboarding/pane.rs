//! "Initialize tenant": on the first run a platform admin initializes the
//! first tenant, later a tenant admin the empty tenant just opened, and
//! watches each step (tenant, model, agent, workspace, samples,
//! playground) go through or say why it stopped.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::{InitStep, Onboarding};
use crate::console::component::{Component, Shared};
use crate::console::keymap::Context;
use crate::console::panes::frame;
use crate::console::ui::shared_hint_line;
use crate::console::widgets::form::Form;

pub(super) fn render(v: &Onboarding, app: &Shared<'_>, form: &Form, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let inner = frame(theme, " Welcome ", area, buf);
    let steps = InitStep::ALL.len() as u16;
    let [intro, rest, checklist] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Min(0),
        Constraint::Length(steps),
    ])
    .areas(inner);
    let intro_lines = match v.progress.tenant.as_ref().filter(|_| v.progress.existing) {
        Some(t) => vec![
            Line::from(Span::styled(format!("Initialize {}.", t.name), theme.title)),
            Line::from("This sets up a first agent, a web-form workspace and sample leads,"),
            Line::from(format!(
                "then opens the playground to try the agent ({}: not now).",
                app.keymap.key_label(Context::Form, "cancel")
            )),
        ],
        None => vec![
            Line::from(Span::styled("Welcome to Switchboard.", theme.title)),
            Line::from(
                "A tenant is one client agency. Initializing sets up a first agent, a web-form",
            ),
            Line::from("workspace and sample leads, then opens the playground to try the agent."),
        ],
    };
    Paragraph::new(intro_lines)
        .wrap(Wrap { trim: true })
        .render(intro, buf);
    let (contexts, _) = v.contexts(app);
    form.render(rest, buf, theme, shared_hint_line(app, &contexts));

    let p = &v.progress;
    let lines: Vec<Line> = InitStep::ALL
        .into_iter()
        .map(|step| {
            let (mark, style) = if p.running == Some(step) {
                ("…", theme.info)
            } else if p.failed.as_ref().is_some_and(|(s, _)| *s == step) {
                ("✗", theme.error)
            } else if p.done(step) {
                ("✓", theme.success)
            } else {
                ("·", theme.dim)
            };
            let mut spans = vec![
                Span::styled(format!("  {mark} "), style),
                Span::styled(p.label(step), style),
            ];
            if let Some(what) = p.outcome(step) {
                spans.push(Span::styled(format!(": {what}"), theme.dim));
            }
            Line::from(spans)
        })
        .collect();
    Paragraph::new(lines).render(checklist, buf);
}
