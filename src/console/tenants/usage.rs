//! The Usage tab of a tenant's detail: its rate limits, what it did today
//! and over the last 30 days, and what it stores; platform admins change
//! its limits from here (`L`).

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Sparkline, Table, Widget};
use uuid::Uuid;

use super::Detail;
use crate::api::{ApiError, ApiResult, Client};
use crate::console::component::{Cx, Shared};
use crate::console::effect::{Effect, Request, RequestId};
use crate::console::keymap::Context;
use crate::console::panes::load_state_in;
use crate::console::state::{FormPurpose, InFlight, Load};
use crate::console::widgets::form::{Field, Form};
use crate::console::widgets::toast::Toast;
use crate::domain::usage::{
    RateKind, RateLimit, RateLimits, RateOverrides, Usage, UsageCounts, UsageQuery,
    MAX_RATE_PER_MINUTE,
};
use crate::domain::Tenant;

#[derive(Debug, Clone, PartialEq)]
pub enum UsageRequest {
    /// The last 30 days, storage measured.
    Load { tenant: String },
    SetLimits {
        tenant: String,
        limits: RateOverrides,
    },
}

#[derive(Debug, Clone)]
pub enum UsageResponse {
    Loaded(ApiResult<Usage>),
    LimitsSet(ApiResult<RateLimits>),
}

impl UsageResponse {
    pub fn error(&self) -> Option<&ApiError> {
        match self {
            UsageResponse::Loaded(r) => r.as_ref().err(),
            UsageResponse::LimitsSet(r) => r.as_ref().err(),
        }
    }
}

pub(crate) async fn execute(client: &Client, req: UsageRequest) -> UsageResponse {
    match req {
        UsageRequest::Load { tenant } => {
            let query = UsageQuery {
                storage: true,
                ..UsageQuery::default()
            };
            UsageResponse::Loaded(client.tenant_usage(&tenant, &query).await)
        }
        UsageRequest::SetLimits { tenant, limits } => {
            UsageResponse::LimitsSet(client.set_tenant_limits(&tenant, &limits).await)
        }
    }
}

/// Asks for the tenant's usage (the tab shows loading until it answers).
pub(super) fn load(d: &mut Detail, cx: &mut Cx<'_>) -> Vec<Effect> {
    d.usage = Load::Loading;
    let req = Request::TenantUsage(UsageRequest::Load {
        tenant: d.tenant.to_string(),
    });
    cx.send_about(
        req,
        None,
        "",
        "Could not load the tenant's usage",
        Some(d.tenant),
        None,
    )
}

/// Applies a usage reply to the open detail (when it is that tenant's).
pub(super) fn apply(
    detail: Option<&mut Detail>,
    id: RequestId,
    flight: &InFlight,
    response: UsageResponse,
    cx: &mut Cx<'_>,
) -> Vec<Effect> {
    match response {
        UsageResponse::Loaded(r) => {
            if let Some(d) = detail {
                d.usage = r.map_or_else(|e| Load::Failed(e.message()), Load::Loaded);
            }
            Vec::new()
        }
        UsageResponse::LimitsSet(Ok(limits)) => {
            cx.finish_form(id);
            cx.toast(Toast::success(format!(
                "{}: {} API calls and {} leads a minute",
                flight.ok, limits.api.per_minute, limits.ingest.per_minute
            )));
            match detail {
                Some(d) => {
                    if let Some(u) = d.usage.loaded_mut() {
                        u.limits = limits;
                    }
                    load(d, cx)
                }
                None => Vec::new(),
            }
        }
        // Failures of a save are the form's (the generic path shows them).
        UsageResponse::LimitsSet(Err(_)) => Vec::new(),
    }
}

/// Why `L` opens nothing, or the form.
pub(super) fn limits_purpose(tenant: Uuid, cx: &mut Cx<'_>) -> Option<FormPurpose> {
    let admin = cx
        .session
        .me
        .loaded()
        .is_some_and(|me| me.user.platform_admin);
    if !admin {
        cx.toast(Toast::info(
            "Only platform admins change a tenant's rate limits",
        ));
        return None;
    }
    Some(FormPurpose::TenantLimits(tenant))
}

const LIMIT_HINT: &str = "blank: the tier's default";

/// The limits form, prefilled with the tenant's own limits.
pub(crate) fn limits_fields(t: &Tenant, usage: Option<&Usage>) -> (String, Vec<Field>) {
    let own = |l: Option<&RateLimit>| {
        l.filter(|l| l.overridden)
            .map(|l| l.per_minute.to_string())
            .unwrap_or_default()
    };
    let limits = usage.map(|u| &u.limits);
    (
        format!("Rate limits of {} (requests a minute)", t.name),
        vec![
            Field::line_with_placeholder(
                "api_per_minute",
                "API calls",
                &own(limits.map(|l| &l.api)),
                &format!("{LIMIT_HINT} ({})", RateKind::Api.tier_default(t.tier)),
            ),
            Field::line_with_placeholder(
                "ingest_per_minute",
                "Leads posted",
                &own(limits.map(|l| &l.ingest)),
                &format!("{LIMIT_HINT} ({})", RateKind::Ingest.tier_default(t.tier)),
            ),
        ],
    )
}

/// The overrides a limits form holds, or the field that is wrong and why.
pub(crate) fn read_limits(form: &Form) -> Result<RateOverrides, (&'static str, String)> {
    let one = |name: &'static str| -> Result<Option<u32>, (&'static str, String)> {
        let typed = form.value(name).trim().replace(['_', ','], "");
        if typed.is_empty() {
            return Ok(None);
        }
        match typed.parse::<u32>() {
            Ok(n) if (1..=MAX_RATE_PER_MINUTE).contains(&n) => Ok(Some(n)),
            _ => Err((
                name,
                format!(
                    "type a whole number from 1 to {MAX_RATE_PER_MINUTE}, or leave it blank \
                     for the tier's default"
                ),
            )),
        }
    };
    Ok(RateOverrides {
        api_per_minute: one("api_per_minute")?,
        ingest_per_minute: one("ingest_per_minute")?,
    })
}

/// "1,234", "12.3k", "4.5M": counts that fit a column.
fn count(n: u64) -> String {
    match n {
        0..=9_999 => n.to_string(),
        10_000..=999_999 => format!("{:.1}k", n as f64 / 1_000.0),
        _ => format!("{:.1}M", n as f64 / 1_000_000.0),
    }
}

fn bytes(n: u64) -> String {
    match n {
        0..=1_023 => format!("{n} B"),
        1_024..=1_048_575 => format!("{:.1} KiB", n as f64 / 1_024.0),
        1_048_576..=1_073_741_823 => format!("{:.1} MiB", n as f64 / 1_048_576.0),
        _ => format!("{:.1} GiB", n as f64 / 1_073_741_824.0),
    }
}

fn counts_line(c: &UsageCounts) -> String {
    let n =
        |v: u64, one: &str, many: &str| format!("{} {}", count(v), if v == 1 { one } else { many });
    [
        n(c.api_calls, "API call", "API calls"),
        n(c.ingests, "lead posted", "leads posted"),
        n(c.generations, "generation", "generations"),
        n(c.tokens(), "token", "tokens"),
    ]
    .join(" · ")
}

fn limit_text(l: &RateLimit, t: &Tenant) -> String {
    let whose = if l.overridden {
        "set for this tenant".to_string()
    } else {
        format!("{} default", t.tier)
    };
    format!("{}/min ({whose})", count(u64::from(l.per_minute)))
}

pub(super) fn render(d: &Detail, t: &Tenant, app: &Shared<'_>, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let Some(u) = load_state_in(app, &d.usage, "the usage", area, buf) else {
        return;
    };
    let today = u.days.last().map(|d| d.counts).unwrap_or_default();
    let key = app.keymap.key_label(Context::TenantUsage, "limits");
    let label = |s: &'static str| Span::styled(format!("{s:<10}"), theme.dim);
    let summary = vec![
        Line::from(vec![
            label("API calls"),
            Span::raw(limit_text(&u.limits.api, t)),
        ]),
        Line::from(vec![
            label("Leads"),
            Span::raw(limit_text(&u.limits.ingest, t)),
            Span::styled(format!("   {key} change (platform admins)"), theme.dim),
        ]),
        Line::from(vec![label("Today"), Span::raw(counts_line(&today))]),
        Line::from(vec![label("30 days"), Span::raw(counts_line(&u.totals))]),
    ];
    let [top, spark_label, spark, table] = Layout::vertical([
        Constraint::Length(4),
        Constraint::Length(1),
        Constraint::Length(2),
        Constraint::Min(0),
    ])
    .areas(area);
    Paragraph::new(summary).render(top, buf);
    let calls: Vec<u64> = u.days.iter().map(|d| d.counts.api_calls).collect();
    let busiest = calls.iter().copied().max().unwrap_or(0);
    Paragraph::new(Line::from(Span::styled(
        format!(
            "API calls a day, {} to {} (busiest {})",
            u.from.format("%b %-d"),
            u.to.format("%b %-d"),
            count(busiest)
        ),
        theme.dim,
    )))
    .render(spark_label, buf);
    Sparkline::default()
        .data(&calls)
        .style(theme.info)
        .render(spark, buf);
    let Some(storage) = &u.storage else {
        return;
    };
    let rows = storage
        .iter()
        .map(|s| Row::new(vec![s.family.clone(), count(s.rows), bytes(s.bytes)]));
    Table::new(
        rows,
        [
            Constraint::Length(12),
            Constraint::Length(9),
            Constraint::Length(11),
        ],
    )
    .header(Row::new(["Stored", "Rows", "Size"]).style(theme.table_header))
    .render(table, buf);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_sizes_fit_a_column() {
        assert_eq!(count(999), "999");
        assert_eq!(count(12_345), "12.3k");
        assert_eq!(count(4_500_000), "4.5M");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(2_048), "2.0 KiB");
        assert_eq!(bytes(3 * 1_048_576), "3.0 MiB");
    }
}
