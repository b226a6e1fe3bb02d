//! The platform overview table: one row per client tenant, the sort column
//! marked in the header.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::widgets::{Cell, Paragraph, Row, Widget};

use super::{usage_share, OverviewColumn, OverviewView};
use crate::console::component::Shared;
use crate::console::panes::{frame, load_state_in, selectable_table};
use crate::domain::TenantOverview;

fn leads(t: &TenantOverview) -> String {
    match t.lead_limit {
        Some(l) => format!("{}/{l}", t.leads_this_month),
        None => format!("{}/∞", t.leads_this_month),
    }
}

pub(super) fn render(v: &OverviewView, app: &Shared<'_>, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let title = match v.list.loaded() {
        Some(l) => format!(" Platform overview ({} tenants) ", l.len()),
        None => " Platform overview ".into(),
    };
    let inner = frame(theme, title, area, buf);
    if load_state_in(app, &v.list, "the platform overview", inner, buf).is_none() {
        return;
    }
    let rows = v.rows();
    if rows.is_empty() {
        Paragraph::new("No client tenants yet.").render(inner, buf);
        return;
    }
    let arrow = if v.descending { "▼" } else { "▲" };
    let header = Row::new(OverviewColumn::ALL.map(|c| {
        if c == v.sort {
            format!("{}{arrow}", c.title())
        } else {
            c.title().to_string()
        }
    }))
    .style(theme.table_header);
    let body = rows.iter().map(|t| {
        let name = if t.suspended {
            Cell::from(Span::styled(
                format!("{} (suspended)", t.name),
                theme.suspended,
            ))
        } else {
            Cell::from(t.name.clone())
        };
        let share = usage_share(t);
        let usage_style = if share >= 1.0 {
            theme.error
        } else if share >= 0.8 {
            theme.warning
        } else {
            Style::default()
        };
        let sla = t
            .sla_met_percent
            .map_or("—".to_string(), |p| format!("{p:.0}%"));
        let overdue_style = if t.overdue_now > 0 {
            theme.error
        } else {
            theme.dim
        };
        let awaiting_style = if t.awaiting_approval > 0 {
            theme.warning
        } else {
            theme.dim
        };
        Row::new(vec![
            name,
            Cell::from(t.tier.as_str()),
            Cell::from(Span::styled(leads(t), usage_style)),
            Cell::from(sla),
            Cell::from(Span::styled(t.overdue_now.to_string(), overdue_style)),
            Cell::from(Span::styled(
                t.awaiting_approval.to_string(),
                awaiting_style,
            )),
        ])
    });
    selectable_table(
        theme,
        body,
        [
            Constraint::Min(14),
            Constraint::Length(11),
            Constraint::Length(12),
            Constraint::Length(8),
            Constraint::Length(8),
            Constraint::Length(9),
        ],
        header,
        v.selected,
        inner,
        buf,
    );
}
