//! Short messages stacked top-right: successes fade, errors stay until
//! dismissed.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};

use crate::console::theme::Theme;

/// Seconds (ticks) a success toast stays on screen.
pub const SUCCESS_TICKS: u8 = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToastKind {
    Success,
    Info,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub kind: ToastKind,
    pub text: String,
    /// Ticks left; `None` stays until dismissed.
    pub ttl: Option<u8>,
    /// Toasts of one group (e.g. new leads) merge into one that counts.
    pub group: Option<&'static str>,
    pub count: u32,
}

impl Toast {
    pub fn success(text: impl Into<String>) -> Self {
        Self {
            kind: ToastKind::Success,
            text: text.into(),
            ttl: Some(SUCCESS_TICKS),
            group: None,
            count: 1,
        }
    }

    pub fn info(text: impl Into<String>) -> Self {
        Self {
            kind: ToastKind::Info,
            text: text.into(),
            ttl: Some(SUCCESS_TICKS),
            group: None,
            count: 1,
        }
    }

    pub fn error(text: impl Into<String>) -> Self {
        Self {
            kind: ToastKind::Error,
            text: text.into(),
            ttl: None,
            group: None,
            count: 1,
        }
    }
}

/// Draws the newest toast on top, older ones below it, within `area`.
pub fn render(toasts: &[Toast], area: Rect, buf: &mut Buffer, theme: &Theme, dismiss_key: &str) {
    let width = area.width.min(40);
    if width < 6 {
        return;
    }
    let mut y = area.y;
    for toast in toasts.iter().rev() {
        let (style, title) = match toast.kind {
            ToastKind::Success => (theme.success, " ok "),
            ToastKind::Info => (theme.info, " info "),
            ToastKind::Error => (theme.error, " error "),
        };
        // Toasts quote server text (lead and tenant names, problems).
        let mut text = crate::console::sanitize::cleaned(&toast.text);
        if toast.kind == ToastKind::Error {
            text.push_str(&format!(" ({dismiss_key} to dismiss)"));
        }
        let lines = wrapped_lines(&text, usize::from(width - 2)).clamp(1, 4) as u16;
        let h = lines + 2;
        if y + h > area.y + area.height {
            break;
        }
        let r = Rect::new(area.x + area.width - width, y, width, h);
        Clear.render(r, buf);
        Paragraph::new(Span::styled(text, style))
            .wrap(Wrap { trim: true })
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(style)
                    .title(Span::styled(title, style)),
            )
            .render(r, buf);
        y += h;
    }
}

/// How many lines word wrapping makes of `text` at `width`, so the box fits
/// the message (the last words of an error say what to do).
pub(super) fn wrapped_lines(text: &str, width: usize) -> usize {
    let width = width.max(1);
    let mut lines = 1;
    let mut col = 0;
    for word in text.split_whitespace() {
        let w = word.chars().count();
        let need = if col == 0 { w } else { col + 1 + w };
        if need <= width {
            col = need;
        } else {
            lines += 1;
            // A word longer than the line is broken across lines.
            lines += w.saturating_sub(1) / width;
            col = if w % width == 0 { width } else { w % width };
        }
    }
    lines
}
