//! Creating or editing an endpoint: its URL and an event picker (every
//! event, a whole family such as `lead.*`, or single kinds), drawn in the
//! screen's area rather than as a dialog, so every kind fits at 80×24.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};
use uuid::Uuid;

use crate::console::effect::RequestId;
use crate::console::sanitize::clean;
use crate::console::theme::Theme;
use crate::domain::webhook::EVENT_KINDS;
use crate::domain::{Problem, Webhook};

/// What the picker offers, in order: every event, each family with more
/// than one kind, then each kind.
pub fn choices() -> Vec<String> {
    let mut out = vec!["*".to_string()];
    let mut families: Vec<&str> = EVENT_KINDS
        .iter()
        .filter_map(|k| k.split_once('.').map(|(f, _)| f))
        .collect();
    families.dedup();
    for f in families {
        if EVENT_KINDS
            .iter()
            .filter(|k| k.starts_with(&format!("{f}.")))
            .count()
            > 1
        {
            out.push(format!("{f}.*"));
        }
    }
    out.extend(EVENT_KINDS.iter().map(|k| k.to_string()));
    out
}

#[derive(Debug, Clone, PartialEq)]
pub struct Editor {
    /// The endpoint edited; `None` creates one.
    pub editing: Option<Uuid>,
    pub url: String,
    /// Each of [`choices`], picked or not.
    pub picked: Vec<(String, bool)>,
    /// 0 is the URL, then the choices.
    pub focus: usize,
    /// What the server said was wrong, by field, and overall.
    pub url_error: Option<String>,
    pub events_error: Option<String>,
    pub failure: Option<String>,
    /// The save in flight.
    pub pending: Option<RequestId>,
}

impl Editor {
    pub fn create() -> Self {
        Self::with("", &["lead.created".to_string()], None)
    }

    pub fn edit(hook: &Webhook) -> Self {
        Self::with(&hook.url, &hook.events, Some(hook.id))
    }

    fn with(url: &str, events: &[String], editing: Option<Uuid>) -> Self {
        Self {
            editing,
            url: url.to_string(),
            picked: choices()
                .into_iter()
                .map(|c| {
                    let on = events.contains(&c);
                    (c, on)
                })
                .collect(),
            focus: 0,
            url_error: None,
            events_error: None,
            failure: None,
            pending: None,
        }
    }

    /// The kinds picked, as the API takes them.
    pub fn events(&self) -> Vec<String> {
        self.picked
            .iter()
            .filter(|(_, on)| *on)
            .map(|(c, _)| c.clone())
            .collect()
    }

    pub fn on_url(&self) -> bool {
        self.focus == 0
    }

    pub fn move_focus(&mut self, forward: bool) {
        let n = self.picked.len() + 1;
        self.focus = if forward {
            (self.focus + 1) % n
        } else {
            (self.focus + n - 1) % n
        };
    }

    /// Picks or drops the focused kind.
    pub fn toggle(&mut self) {
        if let Some((_, on)) = self
            .focus
            .checked_sub(1)
            .and_then(|i| self.picked.get_mut(i))
        {
            *on = !*on;
            self.events_error = None;
        }
    }

    /// A key typed: into the URL, or space toggling a kind.
    pub fn input(&mut self, key: KeyEvent) {
        if !self.on_url() {
            if key.code == KeyCode::Char(' ') {
                self.toggle();
            }
            return;
        }
        match key.code {
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.url.push(c);
                self.url_error = None;
            }
            KeyCode::Backspace => {
                self.url.pop();
            }
            _ => {}
        }
    }

    pub fn paste(&mut self, text: &str) {
        if self.on_url() {
            self.url.push_str(text.lines().next().unwrap_or("").trim());
            self.url_error = None;
        }
    }

    /// A refused save: each field's complaint beside it.
    pub fn apply_problem(&mut self, problem: &Problem) {
        self.pending = None;
        self.failure = Some(
            problem
                .detail
                .clone()
                .unwrap_or_else(|| problem.title.clone()),
        );
        for f in &problem.errors {
            match f.field.as_str() {
                "url" => self.url_error = Some(f.message.clone()),
                "events" => self.events_error = Some(f.message.clone()),
                _ => {}
            }
        }
    }

    /// Checks what can be checked before sending.
    pub fn check(&mut self) -> bool {
        self.url_error = self
            .url
            .trim()
            .is_empty()
            .then(|| "needed: where to POST the events (https://…)".to_string());
        self.events_error = self
            .events()
            .is_empty()
            .then(|| "pick at least one event (space)".to_string());
        self.url_error.is_none() && self.events_error.is_none()
    }

    pub fn render(&self, theme: &Theme, area: Rect, buf: &mut Buffer) {
        let mut lines = Vec::new();
        let focus = |on: bool| {
            if on {
                theme.field_focused
            } else {
                theme.field_label
            }
        };
        lines.push(Line::from(Span::styled("URL", focus(self.on_url()))));
        let cursor = if self.on_url() { "▏" } else { "" };
        lines.push(Line::from(vec![
            Span::raw("  "),
            Span::raw(clean(&self.url).into_owned()),
            Span::styled(cursor, theme.field_cursor),
        ]));
        if let Some(e) = &self.url_error {
            lines.push(Line::from(Span::styled(format!("  {e}"), theme.error)));
        }
        lines.push(Line::from(Span::styled(
            "Events (space picks; * is every event, lead.* every lead event)",
            focus(!self.on_url()),
        )));
        if let Some(e) = &self.events_error {
            lines.push(Line::from(Span::styled(format!("  {e}"), theme.error)));
        }
        let top = lines.len() as u16;
        let tail = self.failure.as_ref().map_or(0, |_| 2);
        Paragraph::new(lines).render(area, buf);
        // The kinds in columns, top to bottom, as many as the width allows.
        let rows_area = Rect {
            y: area.y + top,
            height: area.height.saturating_sub(top + tail),
            ..area
        };
        let cell = 34u16;
        let columns = (rows_area.width / cell).max(1) as usize;
        let per_column = self.picked.len().div_ceil(columns);
        for (i, (choice, on)) in self.picked.iter().enumerate() {
            let (col, row) = (i / per_column, i % per_column);
            if row as u16 >= rows_area.height {
                continue;
            }
            let x = rows_area.x + 2 + col as u16 * cell;
            let mark = if *on { "[x] " } else { "[ ] " };
            let style = if self.focus == i + 1 {
                theme.selected
            } else {
                ratatui::style::Style::default()
            };
            let text = format!("{mark}{choice}");
            let width = cell.min((rows_area.x + rows_area.width).saturating_sub(x));
            buf.set_stringn(x, rows_area.y + row as u16, &text, width as usize, style);
        }
        if let Some(f) = &self.failure {
            let at = Rect {
                y: area.y + area.height.saturating_sub(tail),
                height: tail,
                ..area
            };
            Paragraph::new(Span::styled(clean(f).into_owned(), theme.error))
                .wrap(Wrap { trim: true })
                .render(at, buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_picker_offers_everything_families_and_kinds() {
        let c = choices();
        assert_eq!(c[0], "*");
        assert!(c.contains(&"lead.*".to_string()));
        assert!(c.contains(&"workflow.*".to_string()));
        assert!(
            !c.contains(&"usage.*".to_string()),
            "one kind is not a family"
        );
        for k in EVENT_KINDS {
            assert!(c.contains(&k.to_string()));
        }
        let mut e = Editor::create();
        assert_eq!(e.events(), ["lead.created"]);
        e.focus = 1;
        e.toggle();
        assert_eq!(e.events(), ["*", "lead.created"]);
    }
}
