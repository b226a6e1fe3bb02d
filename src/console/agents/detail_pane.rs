//! One agent's detail: its settings, the whole system prompt (wrapped and
//! scrollable), its versions, and a diff of two versions' prompts.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::diff::DiffKind;
use super::{owner_label, AgentDetail, DetailFocus, VersionDiff};
use crate::console::component::Shared;
use crate::console::keymap::Context;
use crate::console::panes::{frame, load_state_in};
use crate::console::text::wrap;
use crate::domain::{Agent, AgentVersion};

fn version_line(shared: &Shared<'_>, d: &AgentDetail, v: &AgentVersion) -> Line<'static> {
    let theme = shared.theme;
    let mark = if d.marked.contains(&v.version) {
        "● "
    } else {
        "  "
    };
    let mut text = format!(
        "{mark}v{} · {} · by {}",
        v.version,
        v.created_at.format("%Y-%m-%d %H:%M"),
        v.created_by.as_deref().unwrap_or("system"),
    );
    if let Some(from) = v.restored_from {
        text.push_str(&format!(" · restored from v{from}"));
    }
    if v.version == d.agent.version {
        text.push_str(" · current");
    }
    Line::from(Span::styled(
        text,
        Style::default().patch(theme.field_label),
    ))
}

/// The category and tags, e.g. `Sales · #qualify #inbound`.
fn filed_under(a: &Agent) -> String {
    let tags: Vec<String> = a.tags.iter().map(|t| format!("#{t}")).collect();
    match (a.category.as_deref(), tags.is_empty()) {
        (None, true) => "— (no category, no tags)".into(),
        (Some(c), true) => c.to_string(),
        (None, false) => tags.join(" "),
        (Some(c), false) => format!("{c} · {}", tags.join(" ")),
    }
}

/// How often the agent answered (playground replies and workflow steps,
/// every tenant's for a shared agent) and when last.
fn used(shared: &Shared<'_>, a: &Agent) -> String {
    match a.last_used_at {
        None => "never yet".into(),
        Some(at) => {
            let times = if a.use_count == 1 { "time" } else { "times" };
            format!(
                "{} {times} · last {} ({})",
                a.use_count,
                at.format("%Y-%m-%d %H:%M"),
                super::pane::ago(at, shared.now)
            )
        }
    }
}

pub(super) fn render(shared: &Shared<'_>, d: &AgentDetail, area: Rect, buf: &mut Buffer) {
    let theme = shared.theme;
    let a = &d.agent;
    let mut title = format!(" {} · v{} · {} ", a.name, a.version, a.sharing.as_str());
    if a.read_only {
        title.push_str(&format!("· shared by {} (read-only) ", a.owner_name));
    }
    let inner = frame(theme, title, area, buf);
    if let Some(diff) = &d.diff {
        return render_diff(shared, diff, inner, buf);
    }
    let row = |label: &str, value: String| {
        Line::from(vec![
            Span::styled(format!("{label:<13}"), theme.field_label),
            Span::raw(value),
        ])
    };
    let c = &a.config;
    let description = if a.description.is_empty() {
        "—".to_string()
    } else {
        a.description.clone()
    };
    let info = vec![
        row("Description", description),
        row("Model", c.model.clone()),
        row(
            "Sampling",
            format!(
                "temperature {} · max {} tokens",
                c.temperature, c.max_tokens
            ),
        ),
        row("Owner", owner_label(a)),
        row("Filed under", filed_under(a)),
        row("Used", used(shared, a)),
    ];
    let info_h = (info.len() as u16).min(inner.height);
    let rest_h = inner.height - info_h;
    let n = d.versions.loaded().map_or(1, Vec::len) as u16;
    let versions_h = (n + 1).clamp(3, (rest_h / 2).max(3)).min(rest_h);
    let [top, prompt_area, versions_area] = Layout::vertical([
        Constraint::Length(info_h),
        Constraint::Min(0),
        Constraint::Length(versions_h),
    ])
    .areas(inner);
    Paragraph::new(info).render(top, buf);

    let heading = |text: &str, focused: bool| {
        let style = if focused {
            theme.tab_active
        } else {
            theme.table_header
        };
        Line::from(Span::styled(text.to_string(), style))
    };
    if prompt_area.height > 0 {
        let focused = d.focus == DetailFocus::Prompt;
        let [h, body] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(prompt_area);
        let lines = wrap(&c.system_prompt, usize::from(body.width));
        let shown = usize::from(body.height);
        let scroll = d.scroll.min(lines.len().saturating_sub(shown));
        let more = if lines.len() > shown {
            format!(
                " ({}–{} of {})",
                scroll + 1,
                (scroll + shown).min(lines.len()),
                lines.len()
            )
        } else {
            String::new()
        };
        Paragraph::new(heading(&format!("System prompt{more}"), focused)).render(h, buf);
        let text: Vec<Line> = lines
            .into_iter()
            .skip(scroll)
            .take(shown)
            .map(Line::from)
            .collect();
        Paragraph::new(text).render(body, buf);
    }
    if versions_area.height > 0 {
        let focused = d.focus == DetailFocus::Versions;
        let [h, body] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(versions_area);
        let hint = if focused {
            ""
        } else {
            let key = shared.keymap.key_label(Context::AgentDetail, "next_tab");
            &format!(" ({key} to select)")
        };
        Paragraph::new(heading(&format!("Versions{hint}"), focused)).render(h, buf);
        let Some(versions) = load_state_in(shared, &d.versions, "the versions", body, buf) else {
            return;
        };
        let shown = usize::from(body.height).max(1);
        let start = (d.version_sel + 1).saturating_sub(shown);
        let lines: Vec<Line> = versions
            .iter()
            .enumerate()
            .skip(start)
            .take(shown)
            .map(|(i, v)| {
                let line = version_line(shared, d, v);
                if focused && i == d.version_sel {
                    line.style(theme.selected)
                } else {
                    line
                }
            })
            .collect();
        Paragraph::new(lines).render(body, buf);
    }
}

fn render_diff(shared: &Shared<'_>, diff: &VersionDiff, area: Rect, buf: &mut Buffer) {
    let theme = shared.theme;
    if area.height == 0 {
        return;
    }
    let [h, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
    let (added, removed) = diff.lines.iter().fold((0, 0), |(a, r), l| match l.kind {
        DiffKind::Added => (a + 1, r),
        DiffKind::Removed => (a, r + 1),
        DiffKind::Same => (a, r),
    });
    Paragraph::new(Line::from(Span::styled(
        format!(
            "Prompt v{} → v{}: {added} added, {removed} removed",
            diff.old, diff.new
        ),
        theme.table_header,
    )))
    .render(h, buf);
    if added + removed == 0 {
        Paragraph::new(Span::styled("The prompts are the same.", theme.dim)).render(body, buf);
        return;
    }
    // Long prompt lines wrap, each piece keeping its +/- mark.
    let width = usize::from(body.width.saturating_sub(2));
    let all: Vec<Line> = diff
        .lines
        .iter()
        .flat_map(|l| {
            let (mark, style) = match l.kind {
                DiffKind::Added => ("+ ", theme.diff_added),
                DiffKind::Removed => ("- ", theme.diff_removed),
                DiffKind::Same => ("  ", Style::default()),
            };
            wrap(&l.text, width)
                .into_iter()
                .map(move |piece| Line::from(Span::styled(format!("{mark}{piece}"), style)))
        })
        .collect();
    let shown = usize::from(body.height);
    let scroll = diff.scroll.min(all.len().saturating_sub(shown));
    let lines: Vec<Line> = all.into_iter().skip(scroll).take(shown).collect();
    Paragraph::new(lines).render(body, buf);
}
