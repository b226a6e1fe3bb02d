//! A form of fields: single-line text, multi-line text (ratatui-textarea) and
//! choices. It keeps its draft and the server's per-field errors, so a failed
//! save loses nothing.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};
use ratatui_textarea::TextArea;

use crate::console::text;
use crate::console::theme::Theme;
use crate::domain::Problem;

#[derive(Debug, Clone)]
pub enum FieldKind {
    Line(TextArea<'static>),
    Multi(TextArea<'static>),
    Choice {
        options: Vec<String>,
        selected: usize,
    },
}

#[derive(Clone)]
pub struct Field {
    /// The field's name in the API, as problem+json reports it
    /// (`settings.sla_hours`).
    pub name: &'static str,
    pub label: &'static str,
    pub kind: FieldKind,
    pub initial: String,
    pub error: Option<String>,
    /// Rows a multi-line field shows.
    pub rows: u16,
}

// A password typed into a masked field must not reach a log or a panic
// message through the state's debug output.
impl std::fmt::Debug for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Field");
        d.field("name", &self.name).field("label", &self.label);
        match &self.kind {
            FieldKind::Line(ta) if ta.mask_char().is_some() => d.field("kind", &"<masked>"),
            kind => d.field("kind", kind),
        };
        d.field("error", &self.error).finish_non_exhaustive()
    }
}

impl Field {
    fn textarea(initial: &str, placeholder: &str) -> TextArea<'static> {
        let lines: Vec<String> = initial.split('\n').map(str::to_string).collect();
        let mut ta = TextArea::new(lines);
        ta.set_cursor_line_style(Style::default());
        ta.set_placeholder_text(placeholder);
        ta
    }

    pub fn line(name: &'static str, label: &'static str, initial: &str) -> Self {
        Self::line_with_placeholder(name, label, initial, "")
    }

    pub fn line_with_placeholder(
        name: &'static str,
        label: &'static str,
        initial: &str,
        placeholder: &str,
    ) -> Self {
        Self {
            name,
            label,
            kind: FieldKind::Line({
                // Editing a one-line value usually means appending to it.
                let mut ta = Self::textarea(initial, placeholder);
                ta.move_cursor(ratatui_textarea::CursorMove::End);
                ta
            }),
            initial: initial.to_string(),
            error: None,
            rows: 1,
        }
    }

    /// A single-line field whose text is drawn as dots (a password).
    pub fn secret(name: &'static str, label: &'static str) -> Self {
        let mut field = Self::line(name, label, "");
        if let FieldKind::Line(ta) = &mut field.kind {
            ta.set_mask_char('•');
        }
        field
    }

    pub fn multi(name: &'static str, label: &'static str, initial: &str) -> Self {
        Self {
            name,
            label,
            kind: FieldKind::Multi(Self::textarea(initial, "")),
            initial: initial.to_string(),
            error: None,
            rows: 3,
        }
    }

    /// A multi-line field taller than the usual three rows (a prompt).
    pub fn tall(name: &'static str, label: &'static str, initial: &str, rows: u16) -> Self {
        Self {
            rows,
            ..Self::multi(name, label, initial)
        }
    }

    pub fn choice(
        name: &'static str,
        label: &'static str,
        options: &[&str],
        initial: &str,
    ) -> Self {
        let selected = options.iter().position(|o| *o == initial).unwrap_or(0);
        Self {
            name,
            label,
            kind: FieldKind::Choice {
                options: options.iter().map(|o| o.to_string()).collect(),
                selected,
            },
            initial: options
                .get(selected)
                .map(|s| s.to_string())
                .unwrap_or_default(),
            error: None,
            rows: 1,
        }
    }

    pub fn value(&self) -> String {
        match &self.kind {
            FieldKind::Line(ta) | FieldKind::Multi(ta) => ta.lines().join("\n"),
            FieldKind::Choice { options, selected } => {
                options.get(*selected).cloned().unwrap_or_default()
            }
        }
    }

    fn body_height(&self) -> u16 {
        match self.kind {
            FieldKind::Multi(_) => self.rows,
            _ => 1,
        }
    }

    /// The field's error: one line under the input when it fits there
    /// (`false`), else wrapped under the whole row, label included (`true`;
    /// at most three lines, the form's summary says it in full too).
    fn error_lines(&self, label_w: u16, width: u16) -> (bool, Vec<String>) {
        let Some(err) = &self.error else {
            return (false, Vec::new());
        };
        let line = format!("↑ {err}");
        if text::width(&line) <= usize::from(width.saturating_sub(label_w)) {
            return (false, vec![line]);
        }
        let mut lines = text::wrap(&line, usize::from(width.max(8)));
        lines.truncate(3);
        (true, lines)
    }

    /// Rows the field takes in a form `width` columns wide.
    fn height(&self, label_w: u16, width: u16) -> u16 {
        self.body_height() + self.error_lines(label_w, width).1.len() as u16
    }
}

#[derive(Debug, Clone)]
pub struct Form {
    pub title: String,
    pub fields: Vec<Field>,
    pub focus: usize,
    /// The problem's summary, shown at the bottom after a failed save.
    pub summary: Option<String>,
    /// A save is in flight; further saves wait for its answer.
    pub submitting: bool,
}

impl Form {
    pub fn new(title: impl Into<String>, fields: Vec<Field>, theme: &Theme) -> Self {
        let mut form = Self {
            title: title.into(),
            fields,
            focus: 0,
            summary: None,
            submitting: false,
        };
        form.restyle(theme);
        form
    }

    pub fn value(&self, name: &str) -> String {
        self.field(name).map(Field::value).unwrap_or_default()
    }

    /// Which option of a choice field is chosen.
    pub fn choice_index(&self, name: &str) -> Option<usize> {
        match &self.field(name)?.kind {
            FieldKind::Choice { selected, .. } => Some(*selected),
            _ => None,
        }
    }

    pub fn changed(&self, name: &str) -> bool {
        self.field(name).is_some_and(|f| f.value() != f.initial)
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn focused(&self) -> Option<&Field> {
        self.fields.get(self.focus)
    }

    /// Moves the focus and restyles so only the focused field shows a cursor.
    pub fn move_focus(&mut self, forward: bool, theme: &Theme) {
        let n = self.fields.len();
        if n == 0 {
            return;
        }
        self.focus = if forward {
            (self.focus + 1) % n
        } else {
            (self.focus + n - 1) % n
        };
        self.restyle(theme);
    }

    fn restyle(&mut self, theme: &Theme) {
        for (i, f) in self.fields.iter_mut().enumerate() {
            if let FieldKind::Line(ta) | FieldKind::Multi(ta) = &mut f.kind {
                if i == self.focus {
                    ta.set_cursor_style(theme.field_cursor);
                    ta.set_style(theme.field_focused);
                } else {
                    ta.set_cursor_style(Style::default());
                    ta.set_style(Style::default());
                }
                ta.set_placeholder_style(theme.dim);
            }
        }
    }

    pub fn cycle_choice(&mut self, forward: bool) {
        if let Some(Field {
            kind: FieldKind::Choice { options, selected },
            ..
        }) = self.fields.get_mut(self.focus)
        {
            let n = options.len().max(1);
            *selected = if forward {
                (*selected + 1) % n
            } else {
                (*selected + n - 1) % n
            };
        }
    }

    /// Edits the focused field. Enter never enters a single-line field: a
    /// token pasted with a trailing newline must not split it.
    pub fn input(&mut self, key: KeyEvent) {
        let Some(field) = self.fields.get_mut(self.focus) else {
            return;
        };
        match &mut field.kind {
            FieldKind::Line(ta) => {
                let is_newline = key.code == KeyCode::Enter
                    || (key.modifiers.contains(KeyModifiers::CONTROL)
                        && matches!(key.code, KeyCode::Char('m') | KeyCode::Char('j')));
                if !is_newline {
                    ta.input(key);
                }
            }
            FieldKind::Multi(ta) => {
                ta.input(key);
            }
            FieldKind::Choice { .. } => match key.code {
                KeyCode::Char(' ') => self.cycle_choice(true),
                KeyCode::Left => self.cycle_choice(false),
                KeyCode::Right => self.cycle_choice(true),
                _ => {}
            },
        }
    }

    pub fn paste(&mut self, text: &str) {
        if let Some(field) = self.fields.get_mut(self.focus) {
            match &mut field.kind {
                FieldKind::Line(ta) => {
                    ta.insert_str(text.replace(['\r', '\n'], " ").trim_end());
                }
                FieldKind::Multi(ta) => {
                    ta.insert_str(text.replace("\r\n", "\n").replace('\r', "\n"));
                }
                FieldKind::Choice { .. } => {}
            }
        }
    }

    /// Shows the server's answer: each field's error under it, anything the
    /// form has no field for in the summary.
    pub fn apply_problem(&mut self, problem: &Problem) {
        let mut unmatched = Vec::new();
        for f in &mut self.fields {
            f.error = None;
        }
        for e in &problem.errors {
            let short = e.field.rsplit('.').next().unwrap_or(&e.field);
            match self.fields.iter_mut().find(|f| {
                f.name == e.field
                        || f.name.rsplit('.').next() == Some(short)
                        // `settings.business_hours.week.mon[0]` goes under
                        // the field for the whole week.
                        || e.field.strip_prefix(f.name).is_some_and(|rest| {
                            rest.starts_with('.') || rest.starts_with('[')
                        })
            }) {
                Some(f) if f.error.is_none() => f.error = Some(e.message.clone()),
                Some(_) => {}
                None => unmatched.push(format!("{}: {}", e.field, e.message)),
            }
        }
        let mut summary = problem.summary();
        for u in unmatched {
            summary.push_str("; ");
            summary.push_str(&u);
        }
        self.summary = Some(summary);
        // Put the cursor where the first problem is.
        if let Some(i) = self.fields.iter().position(|f| f.error.is_some()) {
            self.focus = i;
        }
    }

    /// Marks one field as wrong (a check made before anything is sent)
    /// and puts the cursor on the first wrong field.
    pub fn set_error(&mut self, name: &str, message: impl Into<String>, theme: &Theme) {
        if let Some(f) = self.fields.iter_mut().find(|f| f.name == name) {
            f.error = Some(message.into());
        }
        if let Some(i) = self.fields.iter().position(|f| f.error.is_some()) {
            self.focus = i;
            self.restyle(theme);
        }
    }

    pub fn set_failure(&mut self, message: String) {
        self.summary = Some(message);
    }

    pub fn clear_errors(&mut self) {
        for f in &mut self.fields {
            f.error = None;
        }
        self.summary = None;
    }

    /// Draws the form as a dialog centred in `area`.
    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme, hint: Line<'_>) {
        const WIDTH: u16 = 72;
        let footer_rows = u16::from(self.summary.is_some()) * 2 + 1;
        // The width inside the borders, and the labels' column.
        let inner_w = WIDTH.min(area.width).saturating_sub(2);
        let label_w = self
            .fields
            .iter()
            .map(|f| text::width(f.label) as u16 + 3)
            .max()
            .unwrap_or(0)
            .min(inner_w / 2);
        let height = |f: &Field| f.height(label_w, inner_w);
        let rows: u16 = self.fields.iter().map(height).sum::<u16>() + footer_rows + 1;
        let popup = super::centered(area, WIDTH, rows.saturating_add(2));
        Clear.render(popup, buf);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border)
            .title(Span::styled(format!(" {} ", self.title), theme.title));
        let inner = block.inner(popup);
        block.render(popup, buf);
        if inner.height == 0 || inner.width == 0 {
            return;
        }

        // The footer (summary + hint) takes what it needs first; fields
        // scroll so the focused one stays visible.
        let footer_h = footer_rows.min(inner.height);
        let fields_h = inner.height - footer_h;
        let focus = self.focus.min(self.fields.len().saturating_sub(1));
        let mut start = 0usize;
        while start < focus && self.fields[start..=focus].iter().map(height).sum::<u16>() > fields_h
        {
            start += 1;
        }

        let mut y = inner.y;
        let bottom = inner.y + fields_h;
        for (i, f) in self.fields.iter().enumerate().skip(start) {
            if y >= bottom {
                break;
            }
            let focused = i == self.focus;
            let label_style = if focused {
                theme.field_focused
            } else {
                theme.field_label
            };
            let marker = if focused { "› " } else { "  " };
            let body_h = f.body_height().min(bottom - y);
            let label_area = Rect::new(inner.x, y, label_w, 1);
            Paragraph::new(Line::from(vec![
                Span::styled(marker, label_style),
                Span::styled(f.label, label_style),
            ]))
            .render(label_area, buf);
            let input = Rect::new(
                inner.x + label_w,
                y,
                inner.width.saturating_sub(label_w),
                body_h,
            );
            match &f.kind {
                FieldKind::Line(ta) | FieldKind::Multi(ta) => ta.render(input, buf),
                FieldKind::Choice { options, selected } => {
                    let mut spans = Vec::new();
                    let all_w: usize = options.iter().map(|o| text::width(o) + 4).sum();
                    // Too many to show (a tenant's agents): show the chosen
                    // one and where it is in the list.
                    if all_w + 6 > usize::from(input.width) {
                        let o = options.get(*selected).map_or("", String::as_str);
                        let style = if focused {
                            theme.selected
                        } else {
                            theme.field_focused
                        };
                        spans.push(Span::styled(format!("‹ {o} ›"), style));
                        spans.push(Span::styled(
                            format!("  {}/{}", selected + 1, options.len()),
                            theme.dim,
                        ));
                    } else {
                        // Radio marks, so the choice reads without colour too.
                        for (j, o) in options.iter().enumerate() {
                            let (mark, style) = match (j == *selected, focused) {
                                (true, true) => ("●", theme.selected),
                                (true, false) => ("●", theme.field_focused),
                                _ => ("○", theme.dim),
                            };
                            spans.push(Span::styled(format!("{mark} {o}"), style));
                            spans.push(Span::raw("  "));
                        }
                    }
                    if focused {
                        spans.push(Span::styled("  ←/→", theme.dim));
                    }
                    Paragraph::new(Line::from(spans)).render(input, buf);
                }
            }
            y += body_h;
            let (whole_row, lines) = f.error_lines(label_w, inner.width);
            let x = if whole_row { inner.x } else { input.x };
            for line in lines {
                if y >= bottom {
                    break;
                }
                let r = Rect::new(x, y, inner.right().saturating_sub(x), 1);
                Paragraph::new(Span::styled(line, theme.error)).render(r, buf);
                y += 1;
            }
        }

        // One blank row between the fields and the footer when there is room.
        let mut fy = if inner.y + inner.height > bottom + footer_h {
            bottom + 1
        } else {
            bottom
        };
        if let Some(summary) = &self.summary {
            if fy + 2 <= inner.y + inner.height {
                let r = Rect::new(inner.x, fy, inner.width, 2);
                Paragraph::new(Span::styled(summary.as_str(), theme.error))
                    .wrap(Wrap { trim: true })
                    .render(r, buf);
                fy += 2;
            }
        }
        if fy < inner.y + inner.height {
            let r = Rect::new(inner.x, fy, inner.width, 1);
            let line = if self.submitting {
                Line::from(Span::styled("Saving…", theme.info))
            } else {
                hint
            };
            Paragraph::new(line).render(r, buf);
        }
    }
}
