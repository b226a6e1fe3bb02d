//! The show-once dialog for a new API key or invitation token: the server
//! never returns it again, so the dialog says so and offers a copy.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};

use crate::console::theme::Theme;

#[derive(Clone, PartialEq, Eq)]
pub struct SecretDialog {
    pub title: String,
    /// What the secret is for, e.g. "API key “website” for Open Arms".
    pub what: String,
    pub secret: String,
    pub copied: bool,
}

// Never print the secret in debug output.
impl std::fmt::Debug for SecretDialog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretDialog")
            .field("title", &self.title)
            .field("what", &self.what)
            .field("copied", &self.copied)
            .finish()
    }
}

impl SecretDialog {
    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme, hint: Line<'_>) {
        let popup = super::centered(area, 70, 11);
        Clear.render(popup, buf);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.warning)
            .title(Span::styled(format!(" {} ", self.title), theme.title));
        let inner = block.inner(popup);
        block.render(popup, buf);
        let copied = if self.copied {
            Line::from(Span::styled("Copied to the clipboard.", theme.success))
        } else {
            Line::default()
        };
        let text = vec![
            Line::from(self.what.clone()),
            Line::default(),
            Line::from(Span::styled(self.secret.clone(), theme.field_focused)),
            Line::default(),
            Line::from(Span::styled(
                "This is shown only once: copy it now, it cannot be shown again.",
                theme.warning,
            )),
            copied,
            hint,
        ];
        Paragraph::new(text)
            .wrap(Wrap { trim: false })
            .render(inner, buf);
    }
}
