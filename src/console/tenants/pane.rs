//! Drawing the Tenants feature: the table of tenants, and one tenant's
//! detail with its Members, Invitations, API keys and Settings tabs.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Tabs, Widget, Wrap};

use super::{Checklist, Detail, DetailTab, Source, TenantsView};
use crate::console::component::Shared;
use crate::console::keymap::Context;
use crate::console::leads::short_duration;
use crate::console::panes::{
    detail_rule, frame, list_rows, load_state_in, rows_or_empty, selectable, table, Column,
};
use crate::console::sanitize::{clean, cleaned};
use crate::console::theme::Theme;
use crate::domain::{ApiKey, ApiKeyState, Member, Permission, Tenant, TenantStatus};
use chrono::{DateTime, Utc};

fn date(d: &chrono::DateTime<chrono::Utc>) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn users(t: &Tenant) -> String {
    let limit = t
        .usage
        .user_limit
        .map_or("∞".to_string(), |l| l.to_string());
    format!("{}/{}", t.usage.users, limit)
}

const TENANT_COLUMNS: [Column<'static>; 7] = [
    ("", Constraint::Length(1)),
    ("Name", Constraint::Fill(3)),
    ("Slug", Constraint::Fill(2)),
    ("Tier", Constraint::Length(10)),
    ("Status", Constraint::Length(9)),
    ("Users", Constraint::Length(6)),
    ("Created", Constraint::Length(10)),
];

const MEMBER_COLUMNS: [Column<'static>; 4] = [
    ("Name", Constraint::Fill(2)),
    ("Email", Constraint::Fill(3)),
    ("Role", Constraint::Length(8)),
    ("Joined", Constraint::Length(10)),
];

const INVITATION_COLUMNS: [Column<'static>; 4] = [
    ("Email", Constraint::Fill(3)),
    ("Role", Constraint::Length(8)),
    ("Status", Constraint::Length(9)),
    ("Expires", Constraint::Length(10)),
];

const KEY_COLUMNS: [Column<'static>; 5] = [
    ("Name", Constraint::Fill(2)),
    ("Key", Constraint::Length(15)),
    ("Workspace", Constraint::Fill(2)),
    ("State", Constraint::Length(17)),
    ("Last used", Constraint::Length(10)),
];

pub(super) fn render(view: &TenantsView, app: &Shared<'_>, area: Rect, buf: &mut Buffer) {
    if let Some(d) = &view.detail {
        return render_detail(app, d, area, buf);
    }
    let theme = app.theme;
    let tenants = &app.session.tenants;
    let count = tenants.loaded().map(|_| view.visible(app.session).len());
    let mut title = match count {
        Some(n) => format!(" Tenants ({n}) "),
        None => " Tenants ".to_string(),
    };
    if !view.filter.is_empty() {
        title.push_str(&format!("/{} ", view.filter));
    }
    let inner = frame(theme, title, area, buf);
    let Some(all) = load_state_in(app, tenants, "tenants", inner, buf) else {
        return;
    };
    let rows = view.visible(app.session);
    let empty = if !all.is_empty() {
        let back = app.keymap.key_label(Context::TenantList, "back");
        format!(
            "No tenant matches “{}”: {back} clears the filter.",
            view.filter
        )
    } else {
        let key = app.keymap.key_label(Context::TenantList, "new");
        format!("No tenants yet. Press {key} to create one.")
    };
    let Some(rows) = rows_or_empty(theme, &rows, &empty, inner, buf) else {
        return;
    };
    let body = rows.iter().map(|t| {
        let current = if app.session.current_tenant == Some(t.id) {
            "●"
        } else {
            " "
        };
        let status = match t.status {
            TenantStatus::Active => Cell::from("active"),
            TenantStatus::Suspended => Cell::from(Span::styled("suspended", theme.suspended)),
        };
        let name = if t.is_platform {
            format!("{} (platform)", clean(&t.name))
        } else {
            cleaned(&t.name)
        };
        Row::new(vec![
            Cell::from(current),
            Cell::from(name),
            Cell::from(t.slug.clone()),
            Cell::from(t.tier.as_str()),
            status,
            Cell::from(users(t)),
            Cell::from(date(&t.created_at)),
        ])
    });
    table(theme, &TENANT_COLUMNS, body, view.selected, inner, buf);
}

fn render_detail(app: &Shared<'_>, d: &Detail, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let Some(t) = app.session.tenant(d.tenant) else {
        frame(theme, " Tenant ", area, buf);
        return;
    };
    let title = format!(
        " {} ({}) · {} · {} ",
        clean(&t.name),
        t.slug,
        t.tier,
        t.status.as_str()
    );
    let inner = frame(theme, title, area, buf);
    let [tabs_area, body] =
        Layout::vertical([Constraint::Length(2), Constraint::Min(0)]).areas(inner);
    Tabs::new(DetailTab::ALL.iter().map(|t| t.title()))
        .select(d.tab.index())
        .highlight_style(theme.tab_active)
        .style(theme.dim)
        .render(tabs_area, buf);
    match d.tab {
        DetailTab::Members => {
            if let Some(c) = &d.checklist {
                return render_checklist(app, c, body, buf);
            }
            let Some(members) = list_rows(app, &d.members, "members", "No members yet.", body, buf)
            else {
                return;
            };
            // The selected member's effective permissions under the table.
            let [body, perms_area] =
                Layout::vertical([Constraint::Min(3), Constraint::Length(4)]).areas(body);
            if let Some(m) = members.get(d.selected) {
                member_permissions(app, m, perms_area, buf);
            }
            let rows = members.iter().map(|m| {
                Row::new(vec![
                    cleaned(&m.name),
                    cleaned(&m.email),
                    m.role.as_str().to_string(),
                    date(&m.joined_at),
                ])
            });
            table(theme, &MEMBER_COLUMNS, rows, d.selected, body, buf);
        }
        DetailTab::Invitations => {
            let invitations = &d.invitations;
            let Some(invs) = list_rows(
                app,
                invitations,
                "invitations",
                "No invitations.",
                body,
                buf,
            ) else {
                return;
            };
            let rows = invs.iter().map(|i| {
                let status = if i.accepted_at.is_some() {
                    "accepted"
                } else {
                    "pending"
                };
                Row::new(vec![
                    cleaned(&i.email),
                    i.role.as_str().to_string(),
                    status.to_string(),
                    date(&i.expires_at),
                ])
            });
            table(theme, &INVITATION_COLUMNS, rows, d.selected, body, buf);
        }
        DetailTab::ApiKeys => {
            let Some(keys) = list_rows(app, &d.keys, "API keys", "No API keys.", body, buf) else {
                return;
            };
            // The selected key's story under the table: rotation, expiry.
            let [body, about] =
                Layout::vertical([Constraint::Min(3), Constraint::Length(3)]).areas(body);
            if let Some(k) = keys.get(d.selected) {
                key_about(app, d, k, about, buf);
            }
            let rows = keys.iter().map(|k| {
                let workspace = d.workspace_name(k).map_or("—".to_string(), cleaned);
                Row::new(vec![
                    Cell::from(cleaned(&k.name)),
                    Cell::from(format!("{}…{}", k.prefix, k.last_four)),
                    Cell::from(workspace),
                    key_state_cell(app.theme, k.state(app.now), app.now),
                    Cell::from(k.last_used_at.as_ref().map_or("never".into(), date)),
                ])
            });
            table(theme, &KEY_COLUMNS, rows, d.selected, body, buf);
        }
        DetailTab::Settings => render_settings(app, t, body, buf),
        DetailTab::Usage => super::usage::render(d, t, app, body, buf),
    }
}

/// A key's state column: "active", "expires in 59m", "expired", "revoked".
fn key_state_cell<'a>(theme: &Theme, state: ApiKeyState, now: DateTime<Utc>) -> Cell<'a> {
    match state {
        ApiKeyState::Active => Cell::from("active"),
        ApiKeyState::Expiring { until } => Cell::from(Span::styled(
            format!("expires in {}", short_duration(until - now)),
            theme.warning,
        )),
        ApiKeyState::Expired { .. } => Cell::from(Span::styled("expired", theme.suspended)),
        ApiKeyState::Revoked { .. } => Cell::from(Span::styled("revoked", theme.suspended)),
    }
}

fn minute(d: &DateTime<Utc>) -> String {
    d.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The selected key: when it was made, what replaced it and until when it
/// works, and the keys that act on it.
fn key_about(app: &Shared<'_>, d: &Detail, k: &ApiKey, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let replacement = k
        .replaced_by
        .and_then(|id| d.keys.loaded()?.iter().find(|x| x.id == id))
        .map_or("a new key".to_string(), |x| {
            format!("{}…{}", x.prefix, x.last_four)
        });
    let head = Span::styled(
        format!("{} · created {}", cleaned(&k.name), date(&k.created_at)),
        theme.field_label,
    );
    let story = match k.state(app.now) {
        ApiKeyState::Active => {
            let rotate = app.keymap.key_label(Context::ApiKeys, "rotate");
            let revoke = app.keymap.key_label(Context::ApiKeys, "remove");
            Span::styled(
                format!("Active. {rotate} rotates it, {revoke} revokes it."),
                theme.dim,
            )
        }
        ApiKeyState::Expiring { until } => Span::styled(
            format!(
                "Rotating: replaced by {replacement}; works until {}.",
                minute(&until)
            ),
            theme.warning,
        ),
        ApiKeyState::Expired { at } => Span::styled(
            format!("Replaced by {replacement}; expired {}.", minute(&at)),
            theme.dim,
        ),
        ApiKeyState::Revoked { at } => {
            let by = if k.replaced_by.is_some() {
                format!(" (replaced by {replacement})")
            } else {
                String::new()
            };
            Span::styled(format!("Revoked {}{by}.", minute(&at)), theme.dim)
        }
    };
    Paragraph::new(vec![Line::from(head), Line::from(story)])
        .wrap(Wrap { trim: true })
        .block(detail_rule(theme))
        .render(area, buf);
}

/// One member's role, grants and withdrawals, and what they add up to.
fn member_permissions(app: &Shared<'_>, m: &Member, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let mut head = vec![Span::styled(
        format!("{} ({})", cleaned(&m.email), m.role),
        theme.field_label,
    )];
    for p in &m.grants.granted {
        head.push(Span::styled(format!(" +{p}"), theme.success));
    }
    for p in &m.grants.withdrawn {
        head.push(Span::styled(format!(" −{p}"), theme.warning));
    }
    let change = app.keymap.key_label(Context::Members, "permissions");
    head.push(Span::styled(format!("  ({change}: change)"), theme.dim));
    let effective: Vec<&str> = m.permissions().iter().map(|p| p.as_str()).collect();
    let body = if effective.is_empty() {
        "no permissions".to_string()
    } else {
        effective.join(", ")
    };
    Paragraph::new(vec![Line::from(head), Line::from(Span::raw(body))])
        .wrap(Wrap { trim: true })
        .block(detail_rule(theme))
        .render(area, buf);
}

/// Every permission with a box: checked when the member would hold it,
/// and where it comes from (the role, a grant, a withdrawal).
fn render_checklist(app: &Shared<'_>, c: &Checklist, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let [head, list] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
    let changed = if c.changed() { " · not saved" } else { "" };
    Paragraph::new(Line::from(vec![Span::styled(
        format!("Permissions of {} ({}){changed}", cleaned(&c.email), c.role),
        theme.field_label,
    )]))
    .render(head, buf);
    let rows = Permission::ALL.iter().map(|p| {
        let (mark, from, style) = match c.source(*p) {
            Source::Role => ("[x]", "role", theme.dim),
            Source::Granted => ("[x]", "granted", theme.success),
            Source::Withdrawn => ("[ ]", "withdrawn", theme.warning),
            Source::None => ("[ ]", "", theme.dim),
        };
        Row::new(vec![
            Cell::from(mark),
            Cell::from(p.as_str()),
            Cell::from(Span::styled(from, style)),
            Cell::from(Span::styled(p.describe(), theme.dim)),
        ])
    });
    let widths = [
        Constraint::Length(3),
        Constraint::Length(19),
        Constraint::Length(9),
        Constraint::Fill(1),
    ];
    selectable(theme, Table::new(rows, widths), c.selected, list, buf);
}

/// "24 business hours to first response (Europe/Lisbon: mon-fri
/// 09:00-17:00; closed on 2 dates)", or wall-clock hours.
fn sla_rule_text(s: &crate::domain::TenantSettings) -> String {
    let Some(h) = &s.business_hours else {
        return format!("{} hours to first response", s.sla_hours);
    };
    let mut text = format!(
        "{} business hours to first response ({}: {}",
        s.sla_hours,
        h.time_zone,
        super::hours::week_text(&h.week).replace('\n', "; ")
    );
    match h.closures.len() {
        0 => {}
        1 => text.push_str("; closed on 1 date"),
        n => text.push_str(&format!("; closed on {n} dates")),
    }
    text.push(')');
    text
}

fn render_settings(app: &Shared<'_>, t: &Tenant, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let s = &t.settings;
    let row = |label: &str, value: String| {
        Line::from(vec![
            Span::styled(format!("{label:<16}"), theme.field_label),
            Span::raw(value),
        ])
    };
    let none = || "—".to_string();
    let mut lines = vec![
        row("Description", s.description.clone().unwrap_or_else(none)),
        row("Domain", s.domain.clone().unwrap_or_else(none)),
        row("Users", super::profile::users_text(t)),
        row("SLA", sla_rule_text(s)),
        row(
            "Pipeline",
            s.pipeline_stages
                .iter()
                .map(|st| st.name.as_str())
                .collect::<Vec<_>>()
                .join(" → "),
        ),
        row(
            "Spam keywords",
            if s.spam_keywords.is_empty() {
                none()
            } else {
                s.spam_keywords.join(", ")
            },
        ),
        row(
            "Manager email",
            s.manager_email.clone().unwrap_or_else(none),
        ),
        row(
            "Leads",
            format!(
                "{}/{} this month",
                t.usage.leads_this_month,
                t.usage
                    .lead_limit
                    .map_or("∞".to_string(), |l| l.to_string())
            ),
        ),
    ];
    if s.config.is_empty() {
        lines.push(row("Config", none()));
    }
    for (i, line) in super::profile::config_text(&s.config).lines().enumerate() {
        lines.push(row(if i == 0 { "Config" } else { "" }, line.to_string()));
    }
    if s.secrets.is_empty() {
        lines.push(row("Secrets", "none set".into()));
    }
    // The server masks secrets before they leave it; show them as returned.
    for (i, (k, v)) in s.secrets.iter().enumerate() {
        let label = if i == 0 { "Secrets" } else { "" };
        lines.push(row(label, format!("{k}  set ({v})")));
    }
    lines.push(Line::default());
    let edit = app.keymap.key_label(Context::TenantDetail, "edit");
    let secret = app.keymap.key_label(Context::TenantSettings, "secret");
    lines.push(Line::from(Span::styled(
        format!(
            "Press {edit} to edit, {secret} to set or clear a secret (<provider>_api_key, \
             e.g. openai_api_key, is the key this tenant's agents use with that provider)."
        ),
        theme.dim,
    )));
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .render(area, buf);
}
