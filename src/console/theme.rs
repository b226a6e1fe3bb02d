//! Every style the console uses, in one place: a 16-colour default and a
//! modifiers-only variant for `NO_COLOR`.

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub header: Style,
    pub pane_active: Style,
    pub pane_inactive: Style,
    pub border: Style,
    pub title: Style,
    pub table_header: Style,
    pub selected: Style,
    pub dim: Style,
    pub footer_key: Style,
    pub footer_text: Style,
    pub error: Style,
    pub success: Style,
    pub info: Style,
    pub warning: Style,
    pub field_label: Style,
    pub field_focused: Style,
    pub field_cursor: Style,
    pub tab_active: Style,
    pub suspended: Style,
    /// The header's lead count near and at the tier's limit.
    pub header_warn: Style,
    pub header_alarm: Style,
    /// Lines a version diff adds and removes.
    pub diff_added: Style,
    pub diff_removed: Style,
}

impl Default for Theme {
    /// Named ANSI colours only: they follow the user's terminal palette and
    /// survive SSH and tmux.
    fn default() -> Self {
        let bold = Modifier::BOLD;
        Self {
            header: Style::new().fg(Color::Black).bg(Color::Cyan),
            pane_active: Style::new()
                .fg(Color::Black)
                .bg(Color::Yellow)
                .add_modifier(bold),
            pane_inactive: Style::new().fg(Color::Gray),
            border: Style::new().fg(Color::DarkGray),
            title: Style::new().fg(Color::Cyan).add_modifier(bold),
            table_header: Style::new().fg(Color::Yellow).add_modifier(bold),
            selected: Style::new().fg(Color::Black).bg(Color::Cyan),
            dim: Style::new().fg(Color::DarkGray),
            footer_key: Style::new().fg(Color::Cyan).add_modifier(bold),
            footer_text: Style::new().fg(Color::Gray),
            error: Style::new().fg(Color::Red).add_modifier(bold),
            success: Style::new().fg(Color::Green),
            info: Style::new().fg(Color::Cyan),
            warning: Style::new().fg(Color::Yellow).add_modifier(bold),
            field_label: Style::new().fg(Color::Gray),
            field_focused: Style::new().fg(Color::White).add_modifier(bold),
            field_cursor: Style::new().add_modifier(Modifier::REVERSED),
            tab_active: Style::new()
                .fg(Color::Yellow)
                .add_modifier(bold | Modifier::UNDERLINED),
            suspended: Style::new().fg(Color::Red),
            header_warn: Style::new()
                .fg(Color::Yellow)
                .bg(Color::Black)
                .add_modifier(bold),
            header_alarm: Style::new()
                .fg(Color::White)
                .bg(Color::Red)
                .add_modifier(bold),
            diff_added: Style::new().fg(Color::Green),
            diff_removed: Style::new().fg(Color::Red),
        }
    }
}

impl Theme {
    /// For `NO_COLOR`: emphasis through bold, reverse and underline only.
    pub fn no_color() -> Self {
        let plain = Style::new();
        let bold = Style::new().add_modifier(Modifier::BOLD);
        let reversed = Style::new().add_modifier(Modifier::REVERSED);
        Self {
            header: reversed,
            pane_active: reversed.add_modifier(Modifier::BOLD),
            pane_inactive: plain,
            border: plain,
            title: bold,
            table_header: bold.add_modifier(Modifier::UNDERLINED),
            selected: reversed,
            dim: plain,
            footer_key: bold,
            footer_text: plain,
            error: bold,
            success: plain,
            info: plain,
            warning: bold,
            field_label: plain,
            field_focused: bold,
            field_cursor: reversed,
            tab_active: bold.add_modifier(Modifier::UNDERLINED),
            suspended: Style::new().add_modifier(Modifier::UNDERLINED),
            header_warn: reversed.add_modifier(Modifier::BOLD),
            header_alarm: reversed.add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            // The +/- marks carry the meaning; emphasis only helps.
            diff_added: bold,
            diff_removed: Style::new().add_modifier(Modifier::CROSSED_OUT),
        }
    }
}
