//! Drawing the Leads list: the current tenant's leads with a live SLA
//! countdown, drawing only the rows on screen.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row};

use super::{LeadsView, SlaClock};
use crate::console::component::Shared;
use crate::console::keymap::Context;
use crate::console::onboarding::may_initialize;
use crate::console::panes::{empty_state, frame, load_state_in, no_tenant, selectable_table};
use crate::console::sanitize::cleaned;
use crate::console::text;
use crate::console::theme::Theme;
use crate::domain::{Lead, SlaState};
use std::borrow::Cow;
use uuid::Uuid;

use crate::console::session::Session;
use chrono::{DateTime, Utc};

/// The SLA cell's style: the countdown turns yellow at risk, red overdue.
pub(super) fn sla_style(theme: &Theme, state: SlaState) -> Style {
    match state {
        SlaState::OnTrack => Style::default(),
        SlaState::AtRisk => theme.warning,
        SlaState::Overdue => theme.error,
        SlaState::Met => theme.dim,
    }
}

pub(super) fn assignee(v: &LeadsView, l: &Lead) -> String {
    match l.assignee_id {
        None => "—".into(),
        // Until the members are loaded, a short id beats a blank.
        Some(id) => v
            .member_label(id)
            .map_or_else(|| id.to_string().chars().take(8).collect(), str::to_string),
    }
}

fn title(v: &LeadsView) -> String {
    let mut t = match v.status.loaded() {
        Some(()) if v.pager.more() => format!(" Leads ({}+) ", v.items.len()),
        Some(()) => format!(" Leads ({}) ", v.items.len()),
        None => " Leads ".to_string(),
    };
    if v.all_tenants && v.only_tenants.is_empty() {
        t.push_str("· all tenants ");
    } else if v.all_tenants {
        t.push_str(&format!("· tenants {} ", v.only_tenants.join(", ")));
    }
    if let Some(scope) = v.filter.scope.label() {
        t.push_str(&format!("· {scope} "));
    }
    if !v.filter.q.is_empty() {
        t.push_str(&format!("· /{} ", v.filter.q));
    }
    let marked = v.marked_count();
    if marked > 0 {
        t.push_str(&format!("· {marked} marked "));
    }
    t
}

pub(super) fn render(v: &LeadsView, app: &Shared<'_>, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let inner = frame(theme, title(v), area, buf);
    if no_tenant(app, inner, buf) {
        return;
    }
    if load_state_in(app, &v.status, "leads", inner, buf).is_none() {
        return;
    }
    if v.items.is_empty() {
        let text = if v.filter.is_empty() {
            let key = app.keymap.key_label(Context::LeadList, "new");
            let mut text = if app.server_url.is_empty() {
                format!("No leads yet. Post one with an API key, or add one with {key}.")
            } else {
                let open = app.keymap.key_label(Context::TenantList, "open");
                format!(
                    "No leads yet. Website forms post to {}/api/v1/ingest/leads with an API key \
                     (Tenants → {open} → API keys); or add one with {key}.",
                    app.server_url
                )
            };
            let tenant = app.session.current();
            if tenant.is_some_and(|t| !t.is_platform && may_initialize(app.session, t)) {
                let init = app.keymap.key_label(Context::Global, "initialize");
                text.push_str(&format!(
                    " To try the product on sample leads, press {init}: a first agent, a web-form \
                     workspace and sample leads."
                ));
            }
            text
        } else {
            let key = app.keymap.key_label(Context::LeadList, "back");
            format!("No leads match this filter. Press {key} to clear it.")
        };
        empty_state(theme, text, inner, buf);
        return;
    }
    // Only the rows that fit are built: the table never sees the rest, so
    // a hundred thousand loaded leads draw as fast as a hundred.
    let body_rows = usize::from(inner.height.saturating_sub(1)).max(1);
    let sel = v.selected.min(v.items.len() - 1);
    let mut offset = v.offset.min(sel);
    if sel >= offset + body_rows {
        offset = sel + 1 - body_rows;
    }
    let end = (offset + body_rows).min(v.items.len());
    // The all-tenants queue names each lead's tenant in a column of its
    // own; on a narrow screen it takes the Company column's room.
    let company = !v.all_tenants || inner.width >= 100;
    let mut widths = vec![Constraint::Fill(3)];
    if v.all_tenants {
        widths.push(Constraint::Fill(2));
    }
    if company {
        widths.push(Constraint::Fill(2));
    }
    widths.extend([
        Constraint::Length(6),
        Constraint::Length(9),
        Constraint::Fill(if company { 3 } else { 2 }),
        Constraint::Length(15),
        Constraint::Length(11),
    ]);
    // The Name (and Tenant) columns' widths as the table lays them out
    // (after the selection mark, one column between cells), so a cut name
    // ends in `…`.
    let cols = Layout::horizontal(widths.clone())
        .spacing(1)
        .split(Rect::new(0, 0, inner.width.saturating_sub(2), 1));
    let name_cols = cols[0].width;
    let tenant_cols = cols[1].width;
    let clocks = Clocks::new(v, app);
    let rows = v.items[offset..end].iter().map(|l| {
        let (state, sla) = clocks.of(l.tenant_id).text(l, app.now);
        // A marked lead's name starts with a dot, in the width it had.
        let name = if v.is_marked(l.id) {
            format!("● {}", cleaned(&l.name))
        } else {
            cleaned(&l.name)
        };
        let mut cells = vec![Cell::from(text::ellipsize(&name, usize::from(name_cols)))];
        if v.all_tenants {
            let tenant = v.tenant_name(l.tenant_id, app.session);
            cells.push(Cell::from(text::ellipsize(
                &cleaned(&tenant),
                usize::from(tenant_cols),
            )));
        }
        if company {
            cells.push(Cell::from(cleaned(
                l.company.as_deref().unwrap_or_default(),
            )));
        }
        cells.extend([
            Cell::from(l.source.as_str()),
            Cell::from(app.session.stage_name(Some(l.tenant_id), &l.stage)),
            Cell::from(cleaned(&assignee(v, l))),
            Cell::from(Span::styled(sla, sla_style(theme, state))),
            Cell::from(l.created_at.format("%m-%d %H:%M").to_string()),
        ]);
        Row::new(cells)
    });
    let mut names = vec!["Name"];
    if v.all_tenants {
        names.push("Tenant");
    }
    if company {
        names.push("Company");
    }
    names.extend(["Source", "Stage", "Assignee", "SLA", "Received"]);
    let header = Row::new(names).style(theme.table_header);
    selectable_table(theme, rows, widths, header, sel - offset, inner, buf);
}

/// Each tenant's SLA clock, read once per frame: the list's own tenant's,
/// and in the all-tenants queue the tenant of each lead on screen.
struct Clocks<'a> {
    current: SlaClock,
    tenant: Option<Uuid>,
    session: &'a Session,
    now: DateTime<Utc>,
}

impl<'a> Clocks<'a> {
    fn new(v: &LeadsView, app: &Shared<'a>) -> Self {
        Self {
            current: SlaClock::of(v.tenant.and_then(|t| app.session.tenant(t)), app.now),
            tenant: v.tenant,
            session: app.session,
            now: app.now,
        }
    }

    fn of(&self, tenant: Uuid) -> Cow<'_, SlaClock> {
        if Some(tenant) == self.tenant {
            Cow::Borrowed(&self.current)
        } else {
            Cow::Owned(SlaClock::of(self.session.tenant(tenant), self.now))
        }
    }
}
