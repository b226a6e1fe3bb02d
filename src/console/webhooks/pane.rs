//! Drawing the webhooks screen: the endpoints, one endpoint's deliveries
//! (the selected one's attempts underneath), one delivery's body and
//! attempts, and the editor.

use chrono::{DateTime, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Widget, Wrap};

use super::{Screen, WebhooksView};
use crate::console::component::Shared;
use crate::console::keymap::Context;
use crate::console::notifications::url_host;
use crate::console::panes::{
    counted, detail_rule, frame, load_state_in, table, with_detail, Column, ListScreen,
};
use crate::console::sanitize::{clean, cleaned};
use crate::console::theme::Theme;
use crate::domain::{DeliveryStatus, WebhookAttempt, WebhookDelivery};

pub(super) fn render(v: &WebhooksView, app: &Shared<'_>, area: Rect, buf: &mut Buffer) {
    let tenant = app.tenant_name(v.tenant);
    if let Some(editor) = &v.editor {
        let title = match editor.editing {
            None => format!(" New webhook · {tenant} "),
            Some(_) => format!(" Edit webhook · {tenant} "),
        };
        let inner = frame(app.theme, title, area, buf);
        editor.render(app.theme, inner, buf);
        return;
    }
    match v.screen {
        Screen::List => render_list(v, app, &tenant, area, buf),
        Screen::Deliveries => render_deliveries(v, app, area, buf),
        Screen::Delivery => render_delivery(v, app, area, buf),
    }
}

const HOOK_COLUMNS: [Column<'static>; 5] = [
    ("URL host", Constraint::Min(16)),
    ("Events", Constraint::Min(14)),
    ("State", Constraint::Length(8)),
    ("Fails", Constraint::Length(5)),
    ("Last delivery", Constraint::Length(18)),
];

const DELIVERY_COLUMNS: [Column<'static>; 6] = [
    ("Time", Constraint::Length(14)),
    ("Event", Constraint::Length(18)),
    ("Status", Constraint::Length(9)),
    ("Tries", Constraint::Length(5)),
    ("Next", Constraint::Length(8)),
    ("Response", Constraint::Min(8)),
];

fn status_style(theme: &Theme, status: DeliveryStatus) -> Style {
    match status {
        DeliveryStatus::Delivered => theme.success,
        DeliveryStatus::Pending => theme.warning,
        DeliveryStatus::Failed => theme.error,
    }
}

fn when(at: DateTime<Utc>) -> String {
    at.format("%m-%d %H:%M:%S").to_string()
}

/// "in 4m" / "3s ago" against the clock drawing uses.
fn relative(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (at - now).num_seconds();
    let (n, ago) = (secs.unsigned_abs(), secs < 0);
    let text = match n {
        0..=59 => format!("{n}s"),
        60..=3599 => format!("{}m", n / 60),
        _ => format!("{}h", n / 3600),
    };
    if ago {
        format!("{text} ago")
    } else {
        format!("in {text}")
    }
}

fn render_list(v: &WebhooksView, app: &Shared<'_>, tenant: &str, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let key = app.keymap.key_label(Context::Webhooks, "new");
    let screen = ListScreen {
        title: format!("{}· {tenant} ", counted("Webhooks", &v.hooks.items)),
        what: "the webhooks",
        empty: format!(
            "No webhook endpoints yet. Press {key} to add one: Switchboard POSTs the \
             events you pick there, signed."
        ),
        per_tenant: true,
        ..ListScreen::default()
    };
    let Some((inner, hooks)) = screen.draw(app, &v.hooks.items, area, buf) else {
        return;
    };
    let detail_h = 4u16.min(inner.height / 3);
    let [top, bottom] = with_detail(inner, detail_h);
    let rows = hooks.iter().map(|h| {
        let (state, style) = if h.enabled {
            ("enabled", theme.success)
        } else {
            ("disabled", theme.error)
        };
        let last = match (h.last_delivery_status, h.last_delivery_at) {
            (Some(s), Some(at)) => Line::from(vec![
                Span::styled(s.as_str(), status_style(theme, s)),
                Span::styled(format!(" {}", relative(at, app.now)), theme.dim),
            ]),
            _ => Line::from(Span::styled("none yet", theme.dim)),
        };
        Row::new(vec![
            Line::from(url_host(&h.url)),
            Line::from(h.events.join(", ")),
            Line::from(Span::styled(state, style)),
            Line::from(h.consecutive_failures.to_string()),
            last,
        ])
    });
    table(theme, &HOOK_COLUMNS, rows, v.hooks.selected, top, buf);
    let Some(h) = v.selected_hook() else {
        return;
    };
    let mut lines = vec![Line::from(vec![
        Span::styled("URL ", theme.dim),
        Span::raw(cleaned(&h.url)),
        Span::styled(format!("  secret {}", h.secret_hint), theme.dim),
    ])];
    if let Some(why) = &h.disabled_reason {
        let key = app.keymap.key_label(Context::Webhooks, "webhook_enable");
        lines.push(Line::from(Span::styled(
            format!(
                "Disabled: {}. Fix the receiver, then {key} re-enables it.",
                clean(why)
            ),
            theme.error,
        )));
    }
    Paragraph::new(lines)
        .block(detail_rule(theme))
        .wrap(Wrap { trim: false })
        .render(bottom, buf);
}

fn attempt_line(theme: &Theme, a: &WebhookAttempt) -> Line<'static> {
    let (outcome, style) = match (a.status_code, &a.error) {
        (Some(c), _) if (200..300).contains(&c) => (c.to_string(), theme.success),
        (Some(c), _) => (c.to_string(), theme.error),
        (None, Some(e)) => (cleaned(e), theme.error),
        (None, None) => ("no answer".into(), theme.error),
    };
    Line::from(vec![
        Span::raw(format!("  {}  ", when(a.at))),
        Span::styled(outcome, style),
        Span::styled(format!("  {} ms", a.latency_ms), theme.dim),
    ])
}

/// The first line of a response, for the table.
fn excerpt(d: &WebhookDelivery) -> String {
    d.attempts
        .last()
        .map(|a| {
            let text = if a.response_excerpt.is_empty() {
                a.error.clone().unwrap_or_default()
            } else {
                a.response_excerpt.clone()
            };
            cleaned(text.lines().next().unwrap_or(""))
        })
        .unwrap_or_default()
}

fn render_deliveries(v: &WebhooksView, app: &Shared<'_>, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let host = v.endpoint().map(|h| url_host(&h.url)).unwrap_or_default();
    let state = match v.endpoint() {
        Some(h) if !h.enabled => " · disabled",
        _ => "",
    };
    let key = app
        .keymap
        .key_label(Context::WebhookDeliveries, "webhook_test");
    let screen = ListScreen {
        title: format!(
            "{}· {host}{state} ",
            v.pager.counted("Deliveries", &v.deliveries.items)
        ),
        what: "the deliveries",
        empty: format!("No deliveries yet. Press {key} to send a test event."),
        footer: v.deliveries.loaded().and(v.pager.footer("end of log")),
        ..ListScreen::default()
    };
    let Some((inner, list)) = screen.draw(app, &v.deliveries.items, area, buf) else {
        return;
    };
    let detail_h = (inner.height / 3).clamp(3, 7);
    let [top, bottom] = with_detail(inner, detail_h);
    let rows = list.iter().map(|d| {
        let next = match (d.status, d.next_attempt_at) {
            (DeliveryStatus::Pending, Some(at)) => relative(at, app.now),
            _ => "—".into(),
        };
        Row::new(vec![
            Line::from(when(d.created_at)),
            Line::from(d.event_type.clone()),
            Line::from(Span::styled(
                d.status.as_str(),
                status_style(theme, d.status),
            )),
            Line::from(d.attempt_count.to_string()),
            Line::from(next),
            Line::from(excerpt(d)),
        ])
    });
    table(
        theme,
        &DELIVERY_COLUMNS,
        rows,
        v.deliveries.selected,
        top,
        buf,
    );
    let Some(d) = v.selected_delivery() else {
        return;
    };
    let mut lines = vec![Line::from(Span::styled(
        format!("Attempts of {}", d.event_id),
        theme.table_header,
    ))];
    if d.attempts.is_empty() {
        lines.push(Line::from(Span::styled("  none yet", theme.dim)));
    }
    lines.extend(d.attempts.iter().rev().map(|a| attempt_line(theme, a)));
    Paragraph::new(lines)
        .block(detail_rule(theme))
        .render(bottom, buf);
}

fn render_delivery(v: &WebhooksView, app: &Shared<'_>, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let title = match v.detail.loaded() {
        Some(d) => format!(
            " Delivery · {} · {} ",
            d.delivery.event_type, d.delivery.event_id
        ),
        None => " Delivery ".into(),
    };
    let inner = frame(theme, title, area, buf);
    let Some(d) = load_state_in(app, &v.detail, "the delivery", inner, buf) else {
        return;
    };
    let del = &d.delivery;
    let mut lines = vec![Line::from(vec![
        Span::styled("Status ", theme.dim),
        Span::styled(del.status.as_str(), status_style(theme, del.status)),
        Span::styled(
            format!(
                "  · {} attempt{}",
                del.attempt_count,
                if del.attempt_count == 1 { "" } else { "s" }
            ),
            theme.dim,
        ),
        Span::styled(
            match (del.status, del.next_attempt_at) {
                (DeliveryStatus::Pending, Some(at)) => {
                    format!("  · next {}", relative(at, app.now))
                }
                _ => String::new(),
            },
            theme.dim,
        ),
    ])];
    lines.push(Line::from(Span::styled("Attempts", theme.table_header)));
    if del.attempts.is_empty() {
        lines.push(Line::from(Span::styled("  none yet", theme.dim)));
    }
    for a in &del.attempts {
        lines.push(attempt_line(theme, a));
        if !a.response_excerpt.is_empty() {
            for l in a.response_excerpt.lines().take(3) {
                lines.push(Line::from(Span::styled(
                    format!("      {}", cleaned(l)),
                    theme.dim,
                )));
            }
        }
    }
    lines.push(Line::from(Span::styled("Request body", theme.table_header)));
    let body = serde_json::to_string_pretty(&d.payload).unwrap_or_default();
    lines.extend(
        body.lines()
            .map(|l| Line::from(format!("  {}", cleaned(l)))),
    );
    Paragraph::new(lines)
        .scroll((v.scroll, 0))
        .render(inner, buf);
}
