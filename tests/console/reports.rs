//! The analytics, audit and notification views: snapshots and the state
//! machine (requests built, replies applied, errors inline).

use super::views::command;
use super::*;
use switchboard::domain::ServerEvent;
use switchboard::domain::{
    Analytics, AnalyticsQuery, AuditEvent, AuditFilter, DayCount, NamedCount, ResponseTimes,
    SlaSummary,
};

// ---------------------------------------------------------------- analytics

fn analytics_fixture(days: u32) -> Analytics {
    let to = now().date_naive();
    let by_day = (0..days)
        .map(|i| {
            let leads = [2, 5, 3, 8, 0, 1, 6][i as usize % 7];
            DayCount {
                day: to - chrono::Duration::days(i64::from(days - 1 - i)),
                leads,
                spam: u32::from(leads > 5),
            }
        })
        .collect();
    let named = |pairs: &[(&str, u32)]| {
        pairs
            .iter()
            .map(|(n, c)| NamedCount {
                name: n.to_string(),
                count: *c,
            })
            .collect()
    };
    Analytics {
        tenant_id: Some(Uuid::from_u128(1)),
        from: now() - chrono::Duration::days(i64::from(days)),
        to: now(),
        leads: 107,
        spam: 9,
        spam_rate: Some(9.0 / 107.0),
        by_day,
        by_source: named(&[("form", 70), ("api", 25), ("manual", 12)]),
        by_stage: named(&[("new", 40), ("contacted", 35), ("won", 12)]),
        qualification: named(&[("hot", 20), ("warm", 31), ("unqualified", 47)]),
        sla: SlaSummary {
            met: 80,
            missed: 8,
            open: 10,
            met_percent: Some(80.0 / 88.0 * 100.0),
        },
        first_response: ResponseTimes {
            responded: 88,
            median_minutes: Some(42.0),
            p90_minutes: Some(190.0),
        },
    }
}

fn analytics_request(fx: &[Effect]) -> (RequestId, AnalyticsQuery) {
    requests(fx)
        .into_iter()
        .find_map(|(id, r)| match r {
            Request::Analytics { query, .. } => Some((id, query)),
            _ => None,
        })
        .expect("an analytics request")
}

#[test]
fn snapshot_analytics_last_30_days() {
    let mut app = loaded();
    app.now = now();
    let fx = command(&mut app, "analytics");
    let (id, query) = analytics_request(&fx);
    let day = |m, d| chrono::NaiveDate::from_ymd_opt(2026, m, d);
    assert_eq!((query.from, query.to), (day(2, 1), day(3, 2)));
    assert!(render(&app, 80, 24).contains("Loading the analytics"));
    app.on_response(id, Response::Analytics(Ok(analytics_fixture(30))));
    // The Leads pane's list opened underneath; its spinner is not the point.
    app.on_response(
        id_of(&fx, |r| matches!(r, Request::ListLeads { .. })),
        Response::Leads(Ok(Page {
            items: vec![],
            next_cursor: None,
        })),
    );
    if let Some((mid, _)) = requests(&fx)
        .into_iter()
        .find(|(_, r)| matches!(r, Request::ListLeadMembers { .. }))
    {
        app.on_response(mid, Response::LeadMembers(Ok(vec![])));
    }
    let screen = render(&app, 80, 24);
    for text in [
        "last 30 days",
        "SLA met 91%",
        "median 42m, p90 3h 10m",
        "Spam 9 (8%)",
        "Contacted",
        "unqualified",
    ] {
        assert!(screen.contains(text), "{text} missing:\n{screen}");
    }
    insta::assert_snapshot!(screen);
}

#[test]
fn the_period_key_cycles_7_30_90_and_a_failure_is_inline() {
    let mut app = loaded();
    app.now = now();
    let fx = command(&mut app, "analytics");
    let (id, _) = analytics_request(&fx);
    app.on_response(id, Response::Analytics(Ok(analytics_fixture(30))));
    let fx = press(&mut app, &[key('p')]);
    let (id90, q) = analytics_request(&fx);
    assert_eq!(q.from, chrono::NaiveDate::from_ymd_opt(2025, 12, 3));
    assert_eq!(app.analytics.days, 90);
    let fx = press(&mut app, &[key('p')]);
    let (id7, q) = analytics_request(&fx);
    assert_eq!(q.from, chrono::NaiveDate::from_ymd_opt(2026, 2, 24));
    // The 90-day answer arrives late: superseded, dropped.
    app.on_response(id90, Response::Analytics(Ok(analytics_fixture(90))));
    assert_eq!(
        app.analytics.data.loaded().map(|a| a.by_day.len()),
        Some(30)
    );
    app.on_response(id7, Response::Analytics(Err(unreachable())));
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Could not load the analytics."), "{screen}");
    let fx = press(&mut app, &[key('r')]);
    assert_eq!(
        analytics_request(&fx).1.from,
        chrono::NaiveDate::from_ymd_opt(2026, 2, 24)
    );
    press(&mut app, &[code(KeyCode::Esc)]);
    assert!(!app.analytics.open);
}

// ---------------------------------------------------------------- audit

fn audit_event(
    n: u128,
    actor: &str,
    action: &str,
    resource: &str,
    changes: serde_json::Value,
) -> AuditEvent {
    AuditEvent {
        id: Uuid::from_u128(700 + n),
        tenant_id: Uuid::from_u128(1),
        actor_id: None,
        actor_email: Some(actor.into()),
        action: action.into(),
        resource: resource.into(),
        resource_id: Uuid::from_u128(11).to_string(),
        changes,
        created_at: now() - chrono::Duration::minutes(10 * n as i64),
    }
}

fn audit_events() -> Vec<AuditEvent> {
    vec![
        audit_event(
            1,
            "ana@openarms.org",
            "lead.update",
            "lead",
            serde_json::json!({
                "fields": ["stage", "assignee_id"],
                "before": {"stage": "new", "assignee_id": null},
                "after": {"stage": "contacted", "assignee_id": "ana"},
            }),
        ),
        audit_event(
            2,
            "admin@local",
            "tenant.update",
            "tenant",
            serde_json::json!({"fields": ["settings.sla_hours"]}),
        ),
        audit_event(
            3,
            "admin@local",
            "api_key.revoke",
            "api_key",
            serde_json::json!(null),
        ),
    ]
}

fn audit_request(fx: &[Effect]) -> (RequestId, AuditFilter) {
    requests(fx)
        .into_iter()
        .find_map(|(id, r)| match r {
            Request::Audit { filter, limit, .. } => {
                assert_eq!(limit, 100);
                Some((id, filter))
            }
            _ => None,
        })
        .expect("an audit request")
}

#[test]
fn snapshot_audit_shows_before_and_after() {
    let mut app = loaded();
    app.now = now();
    let fx = command(&mut app, "audit");
    let (id, filter) = audit_request(&fx);
    assert_eq!(filter, AuditFilter::default());
    app.on_response(
        id,
        Response::Audit(Ok(Page {
            items: audit_events(),
            next_cursor: Some("more".into()),
        })),
    );
    for (id, r) in requests(&fx) {
        match r {
            Request::ListLeads { .. } => {
                app.on_response(
                    id,
                    Response::Leads(Ok(Page {
                        items: vec![],
                        next_cursor: None,
                    })),
                );
            }
            Request::ListLeadMembers { .. } => {
                app.on_response(id, Response::LeadMembers(Ok(vec![])));
            }
            _ => {}
        }
    }
    let screen = render(&app, 80, 24);
    for text in [
        "Audit log (3+)",
        "stage: new → contacted",
        "assignee_id: — → ana",
        "lead.update",
    ] {
        assert!(screen.contains(text), "{text} missing:\n{screen}");
    }
    insta::assert_snapshot!(screen);
    press(&mut app, &[key('j')]);
    assert!(render(&app, 80, 24).contains("fields: [\"settings.sla_hours\"]"));
    press(&mut app, &[key('j')]);
    assert!(render(&app, 80, 24).contains("none recorded"));
}

#[test]
fn the_audit_filter_form_narrows_the_log_and_failures_are_inline() {
    let mut app = loaded();
    app.now = now();
    let fx = command(&mut app, "audit");
    let (id, _) = audit_request(&fx);
    app.on_response(
        id,
        Response::Audit(Ok(Page {
            items: audit_events(),
            next_cursor: None,
        })),
    );
    press(&mut app, &[key('/')]);
    assert!(
        matches!(&app.modal, Some(Modal::Form(f)) if f.purpose == FormPurpose::AuditFilter(Uuid::from_u128(1)))
    );
    typed(&mut app, "ana");
    press(&mut app, &[code(KeyCode::Tab)]);
    typed(&mut app, "lead.");
    let fx = press(&mut app, &[ctrl('s')]);
    assert!(app.modal.is_none());
    let (id, filter) = audit_request(&fx);
    assert_eq!(
        filter,
        AuditFilter {
            actor: Some("ana".into()),
            action: Some("lead.".into()),
            ..AuditFilter::default()
        }
    );
    app.on_response(id, Response::Audit(Err(unreachable())));
    let screen = render(&app, 80, 24);
    assert!(screen.contains("actor=ana · action=lead."), "{screen}");
    assert!(screen.contains("Could not load the audit log."), "{screen}");
    // Retry keeps the filter.
    let fx = press(&mut app, &[key('r')]);
    assert_eq!(audit_request(&fx).1.actor.as_deref(), Some("ana"));
    press(&mut app, &[code(KeyCode::Esc)]);
    assert!(!app.audit.open);
}

// ---------------------------------------------------------------- notifications

#[test]
fn snapshot_notifications_keep_toasts_and_events_and_count_unread() {
    let mut app = loaded();
    app.now = now();
    let tenant = Uuid::from_u128(1);
    press(&mut app, &[key('j'), key('s')]); // "Switched to Beta Co"
    press(&mut app, &[key('k'), key('s')]); // back to Open Arms
    let mut jane = super::mixed_leads().remove(0);
    jane.tenant_id = tenant;
    app.on_event(
        tenant,
        ServerEvent {
            id: 1,
            kind: "lead.created".into(),
            data: serde_json::json!({ "lead": jane }),
        },
    );
    app.on_event(
        tenant,
        ServerEvent {
            id: 2,
            kind: "sla.breached".into(),
            data: serde_json::json!({ "name": "Bob Stone" }),
        },
    );
    // Each event once, with the toasts that no event raised.
    assert_eq!(app.notifications.items.len(), 4);
    assert_eq!(app.notifications.unread, 4);
    assert!(render(&app, 100, 24).contains("✉ 4"));
    let fx = command(&mut app, "notifications");
    assert!(fx.is_empty());
    assert_eq!(app.notifications.unread, 0);
    app.toasts.clear();
    let screen = render(&app, 80, 24);
    for text in [
        "SLA breached: Bob Stone",
        "New lead: Jane Doe",
        "Switched to Beta Co",
    ] {
        assert!(screen.contains(text), "{text} missing:\n{screen}");
    }
    insta::assert_snapshot!(screen);
}

#[test]
fn enter_on_a_notification_opens_its_lead() {
    let mut app = loaded();
    app.now = now();
    let fx = press(&mut app, &[key('2')]);
    let id = id_of(&fx, |r| matches!(r, Request::ListLeads { .. }));
    app.on_response(
        id,
        Response::Leads(Ok(Page {
            items: vec![],
            next_cursor: None,
        })),
    );
    press(&mut app, &[key('1')]);
    let jane = super::mixed_leads().remove(0);
    app.on_event(
        Uuid::from_u128(1),
        ServerEvent {
            id: 1,
            kind: "lead.created".into(),
            data: serde_json::json!({ "lead": jane }),
        },
    );
    press(&mut app, &[ctrl('n')]);
    assert!(app.notifications.open);
    let fx = press(&mut app, &[code(KeyCode::Enter)]);
    assert_eq!(app.pane, Pane::Leads);
    assert!(!app.notifications.open);
    assert_eq!(
        app.leads.detail.as_ref().map(|d| d.lead.name.as_str()),
        Some("Jane Doe")
    );
    assert!(requests(&fx)
        .iter()
        .any(|(_, r)| matches!(r, Request::LoadLead { id, .. } if *id == Uuid::from_u128(11))));
}
