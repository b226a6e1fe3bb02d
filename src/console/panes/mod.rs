//! One file per pane.

pub mod agent_detail;
pub mod agents;
pub mod analytics;
pub mod approvals;
pub mod audit;
pub mod invitations;
pub mod lead_detail;
pub mod leads;
pub mod notifications;
pub mod onboarding;
pub mod overview;
pub mod playground;
pub mod workflows;
pub mod workspaces;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::app::{App, Load};
use super::component::Shared;
use super::keymap::Context;

/// The explicit state of a list that is not loaded: loading, or failed with
/// the key that retries. Returns the data when it is there.
pub fn load_state<'a, T>(
    app: &App,
    load: &'a Load<T>,
    what: &str,
    area: Rect,
    buf: &mut Buffer,
) -> Option<&'a T> {
    load_state_in(&app.shared(), load, what, area, buf)
}

/// [`load_state`] for a component, which sees only what is [`Shared`].
pub fn load_state_in<'a, T>(
    app: &Shared<'_>,
    load: &'a Load<T>,
    what: &str,
    area: Rect,
    buf: &mut Buffer,
) -> Option<&'a T> {
    let theme = app.theme;
    let lines = match load {
        Load::Loaded(v) => return Some(v),
        Load::Idle | Load::Loading => vec![Line::from(Span::styled(
            format!("Loading {what}…"),
            theme.info,
        ))],
        Load::Failed(msg) => {
            let key = app.keymap.key_label(Context::LoadError, "retry");
            vec![
                Line::from(Span::styled(format!("Could not load {what}."), theme.error)),
                Line::from(msg.clone()),
                Line::default(),
                Line::from(vec![
                    Span::raw("Press "),
                    Span::styled(key, theme.footer_key),
                    Span::raw(" to retry."),
                ]),
            ]
        }
    };
    Paragraph::new(lines)
        .wrap(Wrap { trim: true })
        .render(area, buf);
    None
}
