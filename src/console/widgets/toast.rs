//! Short messages stacked top-right: successes fade, errors stay until
//! dismissed.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};

use crate::console::text::wrap;
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
        // Sized to the wrapped message: its last words say what to do.
        let lines = wrap(&text, usize::from(width - 2));
        let h = lines.len().clamp(1, 4) as u16 + 2;
        if y + h > area.y + area.height {
            break;
        }
        let r = Rect::new(area.x + area.width - width, y, width, h);
        Clear.render(r, buf);
        let lines: Vec<Line> = lines
            .into_iter()
            .map(|l| Line::from(Span::styled(l, style)))
            .collect();
        Paragraph::new(lines)
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
