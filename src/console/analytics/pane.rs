//! The analytics view: the period's totals, then leads by day as a
//! sparkline and bars by source, stage and qualification, or the funnel.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Sparkline, Widget, Wrap};

use super::{AnalyticsScope, AnalyticsView};
use crate::console::component::Shared;
use crate::console::leads::short_duration;
use crate::console::panes::{frame, load_state_in};
use crate::console::text::{self, fit};
use crate::domain::{Analytics, NamedCount};

fn percent(p: Option<f64>) -> String {
    p.map_or("—".into(), |p| format!("{p:.0}%"))
}

fn minutes(m: Option<f64>) -> String {
    m.map_or("—".into(), |m| {
        short_duration(chrono::Duration::seconds((m * 60.0) as i64))
    })
}

/// "form     ████████ 12": bars scaled to the largest count.
fn bars(app: &Shared<'_>, title: &str, items: &[NamedCount], width: u16) -> Vec<Line<'static>> {
    let theme = app.theme;
    let mut lines = vec![Line::from(Span::styled(
        title.to_string(),
        theme.table_header,
    ))];
    if items.is_empty() {
        lines.push(Line::from(Span::styled("nothing", theme.dim)));
    }
    let max = items.iter().map(|i| i.count).max().unwrap_or(0).max(1);
    let room = usize::from(width).saturating_sub(18).max(1);
    for i in items {
        let len = (i.count as usize * room).div_ceil(max as usize);
        lines.push(Line::from(vec![
            Span::raw(fit(text::take_width(&i.name, 11), 12)),
            Span::styled("█".repeat(len), theme.info),
            Span::raw(format!(" {}", i.count)),
        ]));
    }
    lines
}

pub(super) fn render(v: &AnalyticsView, app: &Shared<'_>, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let scope = match v.scope {
        AnalyticsScope::AllTenants => "all tenants".to_string(),
        AnalyticsScope::Tenant => v
            .tenant
            .and_then(|t| app.session.tenant(t))
            .map_or_else(|| "this tenant".to_string(), |t| t.name.clone()),
    };
    let title = format!(" Analytics · {scope} · last {} days ", v.days);
    let inner = frame(theme, title, area, buf);
    let Some(a) = load_state_in(app, &v.data, "the analytics", inner, buf) else {
        return;
    };
    render_loaded(v, app, a, inner, buf);
}

fn render_loaded(v: &AnalyticsView, app: &Shared<'_>, a: &Analytics, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let label = |s: &str| Span::styled(s.to_string(), theme.field_label);
    let totals = vec![
        Line::from(vec![
            label("Leads "),
            Span::raw(format!("{}", a.leads)),
            label("  Spam "),
            Span::raw(format!(
                "{} ({})",
                a.spam,
                percent(a.spam_rate.map(|r| r * 100.0))
            )),
            label("  SLA met "),
            Span::raw(format!(
                "{} ({} met, {} missed, {} open)",
                percent(a.sla.met_percent),
                a.sla.met,
                a.sla.missed,
                a.sla.open
            )),
        ]),
        Line::from(vec![
            label("First response "),
            Span::raw(format!(
                "median {}, p90 {} ({} answered)",
                minutes(a.first_response.median_minutes),
                minutes(a.first_response.p90_minutes),
                a.first_response.responded
            )),
        ]),
    ];
    let [top, body] = Layout::vertical([Constraint::Length(2), Constraint::Min(0)]).areas(area);
    Paragraph::new(totals)
        .wrap(Wrap { trim: true })
        .render(top, buf);
    match &a.conversion {
        Some(c) if v.shows_funnel() => super::funnel::render(app, c, body, buf),
        _ => render_breakdowns(v, app, a, body, buf),
    }
}

/// Leads by day as a sparkline, then bars by source, stage and
/// qualification.
fn render_breakdowns(
    v: &AnalyticsView,
    app: &Shared<'_>,
    a: &Analytics,
    area: Rect,
    buf: &mut Buffer,
) {
    let theme = app.theme;
    let [chart, rest] = Layout::vertical([Constraint::Length(6), Constraint::Min(0)]).areas(area);
    // Each day as wide as the screen allows, so a week reads as a week.
    let per_day = (usize::from(chart.width) / a.by_day.len().max(1)).max(1);
    let data: Vec<u64> = a
        .by_day
        .iter()
        .flat_map(|d| std::iter::repeat_n(u64::from(d.leads), per_day))
        .collect();
    let max = a.by_day.iter().map(|d| d.leads).max().unwrap_or(0);
    let span = match (a.by_day.first(), a.by_day.last()) {
        (Some(f), Some(l)) => format!("{} … {}", f.day.format("%m-%d"), l.day.format("%m-%d")),
        _ => String::new(),
    };
    let chart_block = Block::default()
        .borders(Borders::TOP)
        .border_style(theme.border)
        .title(Span::styled(
            format!(" Leads by day {span} (max {max}) "),
            theme.table_header,
        ));
    Sparkline::default()
        .block(chart_block)
        .data(&data)
        .style(theme.info)
        .render(chart, buf);
    let [src, stage, qual] = Layout::horizontal([
        Constraint::Ratio(1, 3),
        Constraint::Ratio(1, 3),
        Constraint::Ratio(1, 3),
    ])
    .areas(rest);
    let stages: Vec<NamedCount> = a
        .by_stage
        .iter()
        .map(|s| NamedCount {
            // Across tenants a stage id has no one name.
            name: match v.scope {
                AnalyticsScope::Tenant => app.session.stage_name(v.tenant, &s.name),
                AnalyticsScope::AllTenants => s.name.clone(),
            },
            count: s.count,
        })
        .collect();
    Paragraph::new(bars(app, "By source", &a.by_source, src.width)).render(src, buf);
    Paragraph::new(bars(app, "By stage", &stages, stage.width)).render(stage, buf);
    Paragraph::new(bars(app, "Qualification", &a.qualification, qual.width)).render(qual, buf);
}
