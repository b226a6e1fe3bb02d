//! The analytics and audit views: snapshots and the state
//! machine (requests built, replies applied, errors inline).

use super::views::command;
use super::*;
use chrono::TimeZone;
use switchboard::domain::{
    Analytics, AnalyticsQuery, AuditEvent, AuditFilter, Conversion, DayCount, NamedCount,
    ResponseTimes, SlaSummary, SourceConversion, StageConversion,
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
        assignee_id: None,
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
        conversion: None,
    }
}

/// One tenant's figures with a funnel: 98 leads (spam left out) through
/// New, Contacted, Qualified and Won, by source.
fn conversion_fixture() -> Conversion {
    let stage = |id: &str, name: &str, reached, share, median_minutes| StageConversion {
        stage: id.into(),
        name: name.into(),
        reached,
        share,
        median_minutes,
    };
    let source = |name: &str, leads, won| SourceConversion {
        source: name.into(),
        leads,
        won,
        won_share: Some(f64::from(won) / f64::from(leads)),
    };
    Conversion {
        leads: 98,
        stages: vec![
            stage("new", "New", 98, None, None),
            stage("contacted", "Contacted", 71, Some(71.0 / 98.0), Some(42.0)),
            stage(
                "qualified",
                "Qualified",
                30,
                Some(30.0 / 71.0),
                Some(1500.0),
            ),
            stage("won", "Won", 12, Some(0.4), Some(4320.0)),
        ],
        won_stage: "won".into(),
        won: 11,
        won_share: Some(11.0 / 98.0),
        by_source: vec![
            source("form", 64, 8),
            source("api", 22, 3),
            source("manual", 12, 0),
        ],
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
    assert_eq!(app.analytics.days(), 90);
    let fx = press(&mut app, &[key('p')]);
    let (id7, q) = analytics_request(&fx);
    assert_eq!(q.from, chrono::NaiveDate::from_ymd_opt(2026, 2, 24));
    // The 90-day answer arrives late: superseded, dropped.
    app.on_response(id90, Response::Analytics(Ok(analytics_fixture(90))));
    assert_eq!(
        app.analytics.data().loaded().map(|a| a.by_day.len()),
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
    assert!(!app.analytics.is_open());
}

#[test]
fn snapshot_analytics_funnel_of_one_tenant() {
    let mut app = analytics_open(false);
    // Without a funnel (all tenants' figures have none) f does nothing.
    let (contexts, _) = app.contexts();
    assert!(
        !contexts.contains(&Context::AnalyticsFunnel),
        "{contexts:?}"
    );
    let fx = press(&mut app, &[ctrl('r')]);
    let (id, _) = analytics_request(&fx);
    let mut figures = analytics_fixture(30);
    figures.conversion = Some(conversion_fixture());
    app.on_response(id, Response::Analytics(Ok(figures)));
    let screen = render(&app, 80, 24);
    assert!(screen.contains("f funnel/breakdowns"), "{screen}");
    assert!(
        screen.contains("Leads by day"),
        "the breakdowns first:\n{screen}"
    );
    press(&mut app, &[key('f')]);
    assert!(app.analytics.shows_funnel());
    let screen = render(&app, 80, 24);
    for text in [
        "Funnel",
        "11 won of 98 (11%)",
        "Contacted",
        "72%",
        "42m",
        "1d 1h",
        "form",
        "14%",
        "manual",
    ] {
        assert!(screen.contains(text), "{text} missing:\n{screen}");
    }
    assert!(!screen.contains("Leads by day"), "{screen}");
    insta::assert_snapshot!(screen);
    // f again: back to the breakdowns; the period key keeps the choice.
    press(&mut app, &[key('f')]);
    assert!(!app.analytics.shows_funnel());
    let fx = press(&mut app, &[key('f'), key('p')]);
    let (id, _) = analytics_request(&fx);
    let mut figures = analytics_fixture(90);
    figures.conversion = Some(conversion_fixture());
    app.on_response(id, Response::Analytics(Ok(figures)));
    assert!(app.analytics.shows_funnel());
}

fn forbidden(detail: &str) -> ApiError {
    ApiError::Problem(Problem {
        kind: "/problems/forbidden".into(),
        title: "Forbidden".into(),
        status: 403,
        detail: Some(detail.into()),
        errors: vec![],
        retry_after: None,
    })
}

fn platform_analytics_request(fx: &[Effect]) -> Option<(RequestId, AnalyticsQuery)> {
    requests(fx).into_iter().find_map(|(id, r)| match r {
        Request::PlatformAnalytics { query } => Some((id, query)),
        _ => None,
    })
}

/// `:analytics` answered, with the Leads pane underneath answered too.
fn analytics_open(admin: bool) -> App {
    let mut all = vec![platform()];
    all.extend(three_tenants());
    let mut app = loaded_with(admin, all);
    app.now = now();
    let fx = command(&mut app, "analytics");
    let (id, _) = analytics_request(&fx);
    app.on_response(id, Response::Analytics(Ok(analytics_fixture(30))));
    answer_leads_pane(&mut app, &fx);
    app
}

fn answer_leads_pane(app: &mut App, fx: &[Effect]) {
    for (id, r) in requests(fx) {
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
}

#[test]
fn snapshot_analytics_across_all_tenants_for_a_platform_admin() {
    let mut app = analytics_open(true);
    assert!(render(&app, 80, 24).contains("Analytics · Open Arms · last 30 days"));
    let fx = press(&mut app, &[key('s')]);
    let (id, query) = platform_analytics_request(&fx).expect("the all-tenants figures");
    assert_eq!(query, app.analytics.query(app.now), "the same period");
    assert!(render(&app, 80, 24).contains("Loading the analytics"));
    let mut all = analytics_fixture(30);
    all.tenant_id = None;
    all.leads = 2400;
    app.on_response(id, Response::Analytics(Ok(all)));
    let screen = render(&app, 80, 24);
    for text in [
        "Analytics · all tenants · last 30 days",
        "Leads 2400",
        "s this tenant/all tenants",
    ] {
        assert!(screen.contains(text), "{text} missing:\n{screen}");
    }
    insta::assert_snapshot!(screen);
    // The period key keeps the scope; s goes back to this tenant.
    let fx = press(&mut app, &[key('p')]);
    assert_eq!(
        platform_analytics_request(&fx).map(|(_, q)| q.from),
        Some(chrono::NaiveDate::from_ymd_opt(2025, 12, 3))
    );
    let fx = press(&mut app, &[key('s')]);
    assert!(platform_analytics_request(&fx).is_none());
    assert_eq!(
        analytics_request(&fx).1.from,
        chrono::NaiveDate::from_ymd_opt(2025, 12, 3)
    );
}

#[test]
fn a_refusal_of_the_all_tenants_figures_is_inline() {
    let mut app = analytics_open(true);
    let fx = press(&mut app, &[key('s')]);
    let (id, _) = platform_analytics_request(&fx).expect("the all-tenants figures");
    app.on_response(
        id,
        Response::Analytics(Err(forbidden(
            "only platform admins see figures across tenants",
        ))),
    );
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Could not load the analytics."), "{screen}");
    assert!(
        screen.contains("only platform admins see figures across"),
        "{screen}"
    );
    assert!(screen.contains("all tenants"), "{screen}");
    // r asks the same scope again.
    let fx = press(&mut app, &[key('r')]);
    assert!(platform_analytics_request(&fx).is_some());
}

#[test]
fn a_user_who_is_not_a_platform_admin_gets_no_scope_switch() {
    let mut app = analytics_open(false);
    let (contexts, _) = app.contexts();
    assert!(!contexts.contains(&Context::AnalyticsAdmin), "{contexts:?}");
    let screen = render(&app, 80, 24);
    assert!(!screen.contains("all tenants"), "{screen}");
    let fx = press(&mut app, &[key('s')]);
    assert!(requests(&fx).is_empty(), "{fx:?}");
    assert_eq!(
        app.analytics.scope(),
        switchboard::console::analytics::AnalyticsScope::Tenant
    );
    // The same key for an admin does switch: the test above is not vacuous.
    let mut admin = analytics_open(true);
    assert!(platform_analytics_request(&press(&mut admin, &[key('s')])).is_some());
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

/// The audit request among `fx`: its id, filter and cursor.
fn audit_page_request(fx: &[Effect]) -> Option<(RequestId, AuditFilter, Option<String>)> {
    requests(fx).into_iter().find_map(|(id, r)| match r {
        Request::Audit {
            filter,
            limit,
            cursor,
            ..
        } => {
            assert_eq!(limit, 100);
            Some((id, filter, cursor))
        }
        _ => None,
    })
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
    assert!(!app.audit.is_open());
}

/// `:audit` answered with `events`, more pages behind them at `more`.
fn audit_open(events: Vec<AuditEvent>, more: Option<&str>) -> App {
    let mut app = loaded();
    app.now = now();
    let fx = command(&mut app, "audit");
    let (id, _) = audit_request(&fx);
    app.on_response(
        id,
        Response::Audit(Ok(Page {
            items: events,
            next_cursor: more.map(String::from),
        })),
    );
    answer_leads_pane(&mut app, &fx);
    app
}

/// Opens the filter form and fills its From and To fields.
fn filter_times(app: &mut App, from: &str, to: &str) -> Vec<Effect> {
    press(app, &[key('/')]);
    press(app, &[code(KeyCode::Tab); 3]);
    typed(app, from);
    press(app, &[code(KeyCode::Tab)]);
    typed(app, to);
    press(app, &[ctrl('s')])
}

#[test]
fn snapshot_audit_with_a_time_filter_in_the_title() {
    let mut app = audit_open(audit_events(), None);
    let fx = filter_times(&mut app, "24h", "2026-03-02");
    assert!(app.modal.is_none());
    let (id, filter, cursor) = audit_page_request(&fx).expect("the log asked again");
    assert_eq!(cursor, None);
    assert_eq!(filter.from, Some(now() - chrono::Duration::hours(24)));
    // A day as the upper bound counts to its end.
    assert_eq!(
        filter.to,
        Some(Utc.with_ymd_and_hms(2026, 3, 3, 0, 0, 0).unwrap())
    );
    app.on_response(
        id,
        Response::Audit(Ok(Page {
            items: audit_events(),
            next_cursor: None,
        })),
    );
    let screen = render(&app, 80, 24);
    for text in ["Audit log (3) · from=24h ago · to=2026-03-02", "end of log"] {
        assert!(screen.contains(text), "{text} missing:\n{screen}");
    }
    insta::assert_snapshot!(screen);
    // "24h ago" is measured from now each time the log is read again.
    app.now = now() + chrono::Duration::hours(1);
    let fx = press(&mut app, &[ctrl('r')]);
    let (_, filter, _) = audit_page_request(&fx).expect("a reload");
    assert_eq!(filter.from, Some(now() - chrono::Duration::hours(23)));
    // The form opens again with the times as typed.
    press(&mut app, &[key('/')]);
    let Some(Modal::Form(open)) = &app.modal else {
        panic!("no filter form");
    };
    assert_eq!(
        (open.form.value("from"), open.form.value("to")),
        ("24h".into(), "2026-03-02".into())
    );
}

#[test]
fn snapshot_a_bad_time_is_an_inline_error_and_the_draft_stays() {
    let mut app = audit_open(audit_events(), None);
    press(&mut app, &[key('/')]);
    typed(&mut app, "ana");
    press(&mut app, &[code(KeyCode::Tab); 3]);
    typed(&mut app, "last tuesday");
    let fx = press(&mut app, &[ctrl('s')]);
    assert!(requests(&fx).is_empty(), "nothing is sent: {fx:?}");
    let Some(Modal::Form(open)) = &app.modal else {
        panic!("the form closed");
    };
    assert_eq!(open.form.value("from"), "last tuesday");
    assert_eq!(open.form.value("actor"), "ana");
    assert_eq!(
        open.form.field("from").and_then(|f| f.error.as_deref()),
        Some("not a time: see the formats below")
    );
    assert_eq!(open.form.focused().map(|f| f.name), Some("from"));
    // The log behind it still answers the old filter.
    assert_eq!(*app.audit.filter(), AuditFilter::default());
    let screen = render(&app, 80, 24);
    for text in ["not a time", "2026-11-01 14:00", "24h", "RFC 3339"] {
        assert!(screen.contains(text), "{text} missing:\n{screen}");
    }
    insta::assert_snapshot!(screen);
    // Readable, but ending before it starts: still nothing sent.
    press(&mut app, &[code(KeyCode::Esc)]);
    assert!(app.modal.is_none());
    let fx = filter_times(&mut app, "2026-03-02 10:00", "2026-03-01");
    assert!(requests(&fx).is_empty(), "{fx:?}");
    let Some(Modal::Form(open)) = &app.modal else {
        panic!("the form closed");
    };
    assert_eq!(
        open.form.field("to").and_then(|f| f.error.as_deref()),
        Some("must be later than From")
    );
}

#[test]
fn paging_appends_the_next_page_at_the_end_of_the_loaded_events() {
    let first: Vec<AuditEvent> = (1..=100)
        .map(|n| {
            audit_event(
                n,
                "ana@openarms.org",
                "lead.update",
                "lead",
                serde_json::json!(null),
            )
        })
        .collect();
    let mut app = audit_open(first, Some("cursor-100"));
    assert!(render(&app, 80, 24).contains("Audit log (100+)"));
    // Near the top nothing more is asked.
    assert!(press(&mut app, &[key('j')]).is_empty());
    let fx = press(&mut app, &[key('G')]);
    let (id, filter, cursor) = audit_page_request(&fx).expect("the next page");
    assert_eq!(cursor.as_deref(), Some("cursor-100"));
    assert_eq!(filter, *app.audit.filter(), "the same filter");
    assert!(render(&app, 80, 24).contains("loading more…"));
    // Only one page at a time.
    assert!(press(&mut app, &[key('k'), key('j')]).is_empty());
    let second: Vec<AuditEvent> = (101..=130)
        .map(|n| {
            audit_event(
                n,
                "admin@local",
                "tenant.update",
                "tenant",
                serde_json::json!(null),
            )
        })
        .collect();
    app.on_response(
        id,
        Response::Audit(Ok(Page {
            items: second,
            next_cursor: None,
        })),
    );
    let events = app.audit.events().loaded().expect("still loaded");
    assert_eq!(events.len(), 130);
    assert_eq!(events[100].id, Uuid::from_u128(801));
    assert_eq!(app.audit.selected(), 99, "the selection stays on its row");
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Audit log (130)"), "{screen}");
    press(&mut app, &[key('G')]);
    assert_eq!(app.audit.selected(), 129);
    let screen = render(&app, 80, 24);
    assert!(screen.contains("end of log"), "{screen}");
    // The last page: nothing more to ask.
    assert!(requests(&press(&mut app, &[key('k'), key('G')])).is_empty());
}

#[test]
fn a_new_filter_drops_a_next_page_still_on_its_way() {
    let first: Vec<AuditEvent> = (1..=100)
        .map(|n| {
            audit_event(
                n,
                "ana@openarms.org",
                "lead.update",
                "lead",
                serde_json::json!(null),
            )
        })
        .collect();
    let mut app = audit_open(first, Some("cursor-100"));
    let fx = press(&mut app, &[key('G')]);
    let (late, _, _) = audit_page_request(&fx).expect("the next page");
    let fx = press(&mut app, &[ctrl('r')]);
    let (id, _, cursor) = audit_page_request(&fx).expect("a reload");
    assert_eq!(cursor, None);
    app.on_response(
        late,
        Response::Audit(Ok(Page {
            items: audit_events(),
            next_cursor: None,
        })),
    );
    assert!(
        matches!(app.audit.events(), Load::Loading),
        "the old page was dropped"
    );
    app.on_response(
        id,
        Response::Audit(Ok(Page {
            items: audit_events(),
            next_cursor: None,
        })),
    );
    assert_eq!(app.audit.events().loaded().map(Vec::len), Some(3));
}
