//! `:invitations`: the invitations sent to the signed-in user, each with its
//! tenant, role, who sent it and when it expires; what accepting means
//! under the table.

use chrono::{DateTime, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Widget, Wrap};

use super::InvitationsView;
use crate::console::component::Shared;
use crate::console::keymap::Context;
use crate::console::panes::{counted, frame, load_state_in, table, Column};
use crate::console::sanitize::{clean, cleaned};
use crate::domain::PendingInvitation;

const COLUMNS: [Column<'static>; 4] = [
    ("Tenant", Constraint::Fill(3)),
    ("Role", Constraint::Length(8)),
    ("Invited by", Constraint::Fill(3)),
    ("Expires", Constraint::Length(23)),
];

/// "in 6 days", "in 5 h", or "expired" against the console's clock; days
/// are rounded, so one sent a minute ago expires "in 7 days".
fn expires(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let when = at.format("%Y-%m-%d");
    match (at - now).num_hours() {
        h if h < 0 => "expired".into(),
        0 => format!("{when} (<1 h)"),
        h if h < 24 => format!("{when} (in {h} h)"),
        h if h < 36 => format!("{when} (in 1 day)"),
        h => format!("{when} (in {} days)", (h + 12) / 24),
    }
}

pub(super) fn render(v: &InvitationsView, app: &Shared<'_>, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let inner = frame(theme, counted("Your invitations", v.list()), area, buf);
    let Some(list) = load_state_in(app, v.list(), "your invitations", inner, buf) else {
        return;
    };
    if list.is_empty() {
        return render_empty(app, inner, buf);
    }
    // The rows, then what accepting the selected one does, right below.
    let table_h = (list.len() as u16 + 1).min(inner.height.saturating_sub(2));
    let [table_area, about] =
        Layout::vertical([Constraint::Length(table_h), Constraint::Min(0)]).areas(inner);
    let rows = list.iter().map(|i| {
        let by = i.invited_by_email.as_deref().map_or("—".into(), cleaned);
        let tenant = if v.answering() == Some(i.id) {
            format!("{} …", clean(&i.tenant_name))
        } else {
            cleaned(&i.tenant_name)
        };
        Row::new(vec![
            tenant,
            i.role.as_str().to_string(),
            by,
            expires(i.expires_at, app.now),
        ])
    });
    table(theme, &COLUMNS, rows, v.selected(), table_area, buf);
    if let Some(i) = v.selected_item() {
        render_about(v, app, i, about, buf);
    }
}

/// What accepting the selected invitation does, in words.
fn render_about(
    v: &InvitationsView,
    app: &Shared<'_>,
    i: &PendingInvitation,
    area: Rect,
    buf: &mut Buffer,
) {
    let theme = app.theme;
    let text = if v.answering() == Some(i.id) {
        Line::from(Span::styled("Answering…", theme.info))
    } else {
        let accept = app.keymap.key_label(Context::InvitationChoice, "accept");
        let decline = app.keymap.key_label(Context::InvitationChoice, "decline");
        Line::from(vec![
            Span::styled(accept, theme.footer_key),
            Span::raw(format!(
                " joins {} ({}) as {} {}; ",
                clean(&i.tenant_name),
                clean(&i.tenant_slug),
                article(i.role.as_str()),
                i.role,
            )),
            Span::styled(decline, theme.footer_key),
            Span::raw(" turns the invitation down."),
        ])
    };
    Paragraph::new(vec![Line::default(), text])
        .wrap(Wrap { trim: true })
        .render(area, buf);
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

fn render_empty(app: &Shared<'_>, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let back = app.keymap.key_label(Context::MyInvitations, "back");
    let lines = vec![
        Line::from("No invitations are waiting for you."),
        Line::default(),
        Line::from(Span::styled(
            "An invitation asks you to join a tenant with a role (admin, manager, agent or \
             viewer). When a tenant's admin invites the email you sign in with, it appears \
             here: accept it and the tenant joins your Tenants list, or decline it. \
             Invitations expire 7 days after they are sent; if yours did, ask for a new one.",
            theme.dim,
        )),
        Line::default(),
        Line::from(Span::styled(
            "Someone without an account accepts with the invitation's token instead: \
             switchboard invitation accept TOKEN --server URL",
            theme.dim,
        )),
        Line::default(),
        Line::from(vec![
            Span::raw("Press "),
            Span::styled(back, theme.footer_key),
            Span::raw(" to go back."),
        ]),
    ];
    Paragraph::new(lines)
        .wrap(Wrap { trim: true })
        .render(area, buf);
}
