//! What the approval screen says of the research behind a draft: the
//! sources the draft could use (kind, title, a short excerpt) and the
//! tenant's draft policy, wrapped in terminal columns.

use ratatui::text::{Line, Span};

use crate::console::text::{fit, take_width, wrap};
use crate::console::theme::Theme;
use crate::domain::research::WorkflowSources;
use crate::domain::workflow::CATEGORIES;
use crate::domain::{KnowledgeMode, Workflow, WorkflowStatus};

/// Columns of the kind before each source's title.
const KIND: usize = 10;
/// Lines of a source's excerpt at most; a longer one is cut with `…`.
const EXCERPT_LINES: usize = 2;

/// One source as the screen lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub kind: &'static str,
    pub title: String,
    /// The start of its text, on one line (the screen wraps it).
    pub excerpt: String,
}

/// Collapses a text's whitespace and line breaks into single spaces.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The sources in the order the prompts show them: settings, knowledge
/// snippets (best first), earlier leads and the lead's own notes.
pub fn sources(s: &WorkflowSources) -> Vec<Source> {
    let mut out: Vec<Source> = s
        .settings
        .iter()
        .map(|f| Source {
            kind: "setting",
            title: f.name.clone(),
            excerpt: one_line(&f.value),
        })
        .collect();
    out.extend(s.snippets.iter().map(|k| Source {
        kind: "knowledge",
        title: format!("{} (part {})", one_line(&k.title), k.chunk),
        excerpt: one_line(&k.text),
    }));
    for l in &s.leads {
        let when = l.created_at.format("%Y-%m-%d");
        let notes = l
            .notes
            .iter()
            .map(|n| one_line(n))
            .collect::<Vec<_>>()
            .join(" · ");
        out.push(if l.this_lead {
            Source {
                kind: "notes",
                title: format!("on this lead ({when})"),
                excerpt: notes,
            }
        } else {
            let category = l
                .category
                .as_deref()
                .map(|c| format!(", {c}"))
                .unwrap_or_default();
            let mut excerpt = one_line(&l.message);
            if !notes.is_empty() {
                excerpt = format!("{excerpt} · notes: {notes}");
            }
            Source {
                kind: "lead",
                title: format!("{} ({when}, {}{category})", one_line(&l.name), l.stage),
                excerpt,
            }
        });
    }
    out
}

/// Why no knowledge is listed, when none is.
fn no_knowledge(s: &WorkflowSources) -> Option<&'static str> {
    if !s.snippets.is_empty() {
        return None;
    }
    Some(match s.knowledge {
        KnowledgeMode::None => "not used: the agent reads no knowledge",
        _ => "nothing found for this message",
    })
}

/// "Sources" and each source in `width` columns: its kind and title, then
/// its excerpt indented under it, at most two lines. Nothing before the
/// research step ran.
pub fn source_lines(w: &Workflow, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let Some(s) = &w.sources else {
        return Vec::new();
    };
    let mut out = vec![Line::from(Span::styled("Sources", theme.table_header))];
    let head = |kind: &str, title: &str, out: &mut Vec<Line<'static>>| {
        let room = width.saturating_sub(2 + KIND).max(1);
        for (i, part) in wrap(title, room).into_iter().enumerate() {
            let lead = if i == 0 {
                fit(kind, KIND)
            } else {
                " ".repeat(KIND)
            };
            out.push(Line::from(vec![
                Span::raw("  "),
                Span::styled(lead, theme.field_label),
                Span::raw(part),
            ]));
        }
    };
    if let Some(why) = no_knowledge(s) {
        head("knowledge", why, &mut out);
    }
    let room = width.saturating_sub(2 + KIND).max(1);
    for src in sources(s) {
        head(src.kind, &src.title, &mut out);
        let mut text = wrap(&src.excerpt, room);
        if text.len() > EXCERPT_LINES {
            text.truncate(EXCERPT_LINES);
            if let Some(last) = text.last_mut() {
                *last = format!("{}…", take_width(last, room.saturating_sub(1)));
            }
        }
        for part in text {
            out.push(Line::from(vec![
                Span::raw(" ".repeat(2 + KIND)),
                Span::styled(part, theme.dim),
            ]));
        }
    }
    out
}

/// "drafts replies for hot, warm; cold, spam, support are qualified and
/// recorded, no draft": which categories get a draft under `policy`.
pub fn policy_text(policy: &[String]) -> String {
    let others: Vec<&str> = CATEGORIES
        .iter()
        .copied()
        .filter(|c| !policy.iter().any(|p| p == c))
        .collect();
    match (policy.is_empty(), others.is_empty()) {
        (true, _) => "drafts no reply: every lead is qualified and recorded only".into(),
        (false, true) => format!("drafts replies for {}", policy.join(", ")),
        (false, false) => format!(
            "drafts replies for {}; {} qualified and recorded, no draft",
            policy.join(", "),
            others.join(", ")
        ),
    }
}

/// The workflow's line about the draft policy, when it was qualified: the
/// policy, or for one the policy gave no draft, that it did not and why.
pub fn policy_line(w: &Workflow) -> Option<String> {
    let policy = w.draft_policy.as_ref()?;
    if w.status == WorkflowStatus::Qualified {
        let category = w
            .qualification
            .as_ref()
            .map_or("?", |q| q.category.as_str());
        return Some(format!(
            "not drafted: {category} gets no draft under the tenant's policy ({})",
            policy_text(policy)
        ));
    }
    Some(policy_text(policy))
}

/// `label` then `text` wrapped in `width` columns, continued under the
/// text (not the label).
pub fn labelled(
    label: &str,
    label_cols: usize,
    text: &str,
    width: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let room = width.saturating_sub(label_cols).max(1);
    wrap(text, room)
        .into_iter()
        .enumerate()
        .map(|(i, part)| {
            let lead = if i == 0 {
                Span::styled(fit(label, label_cols), theme.field_label)
            } else {
                Span::raw(" ".repeat(label_cols))
            };
            Line::from(vec![lead, Span::raw(part)])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_says_which_categories_get_a_draft_and_which_do_not() {
        let p = |c: &[&str]| policy_text(&c.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            p(&["hot", "warm"]),
            "drafts replies for hot, warm; cold, spam, support qualified and recorded, no draft"
        );
        assert_eq!(
            p(&[]),
            "drafts no reply: every lead is qualified and recorded only"
        );
        assert_eq!(
            p(&["hot", "warm", "cold", "spam", "support"]),
            "drafts replies for hot, warm, cold, spam, support"
        );
    }
}
