//! The platform overview table: one row per client tenant, the sort column
//! marked in the header.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row};

use super::{usage_share, OverviewColumn, OverviewView};
use crate::console::component::Shared;
use crate::console::panes::{frame, load_state_in, rows_or_empty, selectable_table};
use crate::console::theme::Theme;
use crate::domain::TenantOverview;

/// Today's counts in a narrow column: "987", "12k", "3.4M".
fn short_count(n: u64) -> String {
    match n {
        0..=9_999 => n.to_string(),
        10_000..=999_999 => format!("{}k", n / 1_000),
        _ => format!("{:.1}M", n as f64 / 1_000_000.0),
    }
}

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
    if rows_or_empty(theme, &rows, "No client tenants yet.", inner, buf).is_none() {
        return;
    }
    // Under 90 columns the tier makes room for the name (unless it is
    // what the table is sorted by).
    let columns: Vec<OverviewColumn> = OverviewColumn::ALL
        .into_iter()
        .filter(|c| *c != OverviewColumn::Tier || inner.width >= 90 || v.sort == *c)
        .collect();
    let arrow = if v.descending { "▼" } else { "▲" };
    let header = Row::new(columns.iter().map(|&c| {
        if c == v.sort {
            format!("{}{arrow}", c.title())
        } else {
            c.title().to_string()
        }
    }))
    .style(theme.table_header);
    let body = rows
        .iter()
        .map(|t| Row::new(columns.iter().map(|&c| cell(c, t, theme))));
    let widths = columns.iter().map(|c| match c {
        OverviewColumn::Name => Constraint::Min(14),
        OverviewColumn::Tier => Constraint::Length(10),
        OverviewColumn::Usage => Constraint::Length(10),
        OverviewColumn::SlaMet | OverviewColumn::Overdue => Constraint::Length(8),
        OverviewColumn::Awaiting => Constraint::Length(9),
        OverviewColumn::Calls => Constraint::Length(6),
        OverviewColumn::Tokens => Constraint::Length(7),
    });
    selectable_table(theme, body, widths, header, v.selected, inner, buf);
}

/// One tenant's cell in `column`, coloured by what it warns of.
fn cell<'a>(column: OverviewColumn, t: &TenantOverview, theme: &Theme) -> Cell<'a> {
    let counted = |n: u32, style: Style| {
        Cell::from(Span::styled(
            n.to_string(),
            if n > 0 { style } else { theme.dim },
        ))
    };
    match column {
        OverviewColumn::Name if t.suspended => Cell::from(Span::styled(
            format!("{} (suspended)", t.name),
            theme.suspended,
        )),
        OverviewColumn::Name => Cell::from(t.name.clone()),
        OverviewColumn::Tier => Cell::from(t.tier.as_str()),
        OverviewColumn::Usage => {
            let share = usage_share(t);
            let style = if share >= 1.0 {
                theme.error
            } else if share >= 0.8 {
                theme.warning
            } else {
                Style::default()
            };
            Cell::from(Span::styled(leads(t), style))
        }
        OverviewColumn::SlaMet => Cell::from(
            t.sla_met_percent
                .map_or("—".to_string(), |p| format!("{p:.0}%")),
        ),
        OverviewColumn::Overdue => counted(t.overdue_now, theme.error),
        OverviewColumn::Awaiting => counted(t.awaiting_approval, theme.warning),
        OverviewColumn::Calls => Cell::from(short_count(t.usage_today.api_calls)),
        OverviewColumn::Tokens => Cell::from(short_count(t.usage_today.tokens())),
    }
}
