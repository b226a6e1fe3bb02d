//! The `?` overlay: every binding of the keymap, grouped by where it applies.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};

use crate::console::keymap::{Context, HelpLine, Keymap};
use crate::console::theme::Theme;
use crate::domain::{Permission, Role};

/// The overlay's text, one entry per line; tests check it covers the keymap.
pub fn lines(keymap: &Keymap) -> Vec<Line<'static>> {
    keymap
        .help_lines()
        .into_iter()
        .map(|l| match l {
            HelpLine::Heading(h) => Line::from(Span::raw(h)),
            HelpLine::Text(t) => Line::from(t),
            HelpLine::Key { keys, description } => Line::from(format!(" {keys:<13} {description}")),
        })
        .collect()
}

/// What the signed-in user may do in the current tenant (the header names
/// it), for the top of the overlay: the role and the effective permissions
/// (role and grants).
pub fn permission_lines(
    role: Option<Role>,
    permissions: &[Permission],
    platform_admin: bool,
) -> Vec<HelpLine> {
    let heading = match role {
        Some(role) => format!("Your permissions ({role})"),
        None if platform_admin => "Your permissions (platform admin)".to_string(),
        None => return Vec::new(),
    };
    let mut out = vec![HelpLine::Text(heading)];
    if role.is_none() {
        out.push(HelpLine::Text(" every permission, every tenant".into()));
        return out;
    }
    if permissions.is_empty() {
        out.push(HelpLine::Text(" none".into()));
    }
    for p in permissions {
        let extra = match role {
            Some(r) if !r.can(*p) => " (granted)",
            _ => "",
        };
        out.push(HelpLine::Text(format!(" {}{extra}", p.as_str())));
    }
    if let Some(r) = role {
        for p in r.permissions().iter().filter(|p| !permissions.contains(p)) {
            out.push(HelpLine::Text(format!(" {} (withdrawn)", p.as_str())));
        }
    }
    out
}

pub fn render(
    keymap: &Keymap,
    intro: Vec<HelpLine>,
    scroll: u16,
    area: Rect,
    buf: &mut Buffer,
    theme: &Theme,
) {
    let popup = super::centered(area, 76, area.height);
    Clear.render(popup, buf);
    let key = |name| keymap.key_label(Context::Help, name);
    let title = format!(
        " Keys ({}/{} scroll, {} close) ",
        key("down"),
        key("up"),
        key("close")
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(title, theme.title));
    let inner = block.inner(popup);
    block.render(popup, buf);
    let styled: Vec<Line> = intro
        .into_iter()
        .chain(keymap.help_lines())
        .map(|l| match l {
            HelpLine::Text(t) if !t.starts_with(' ') => {
                Line::from(Span::styled(t, theme.table_header))
            }
            HelpLine::Text(t) => Line::from(Span::raw(t)),
            HelpLine::Heading(h) => Line::from(Span::styled(h, theme.table_header)),
            HelpLine::Key { keys, description } => Line::from(vec![
                Span::styled(format!(" {keys:<13} "), theme.footer_key),
                Span::raw(description),
            ]),
        })
        .collect();
    // Two columns when there is room, so most of the map fits at 80×24.
    if inner.width >= 70 {
        let half = inner.width / 2;
        let h = usize::from(inner.height);
        let skip = usize::from(scroll);
        let left: Vec<Line> = styled.iter().skip(skip).take(h).cloned().collect();
        let right: Vec<Line> = styled.iter().skip(skip + h).take(h).cloned().collect();
        Paragraph::new(left).render(Rect::new(inner.x, inner.y, half, inner.height), buf);
        Paragraph::new(right).render(
            Rect::new(inner.x + half, inner.y, inner.width - half, inner.height),
            buf,
        );
    } else {
        Paragraph::new(styled)
            .scroll((scroll, 0))
            .render(inner, buf);
    }
}
