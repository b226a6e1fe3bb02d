//! Analytics against a hand-computed fixture, on the platform's clock.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use switchboard::domain::{AnalyticsQuery, LeadSource, NamedCount, Qualification, Role, Tier};
use switchboard::server::clock::ManualClock;
use switchboard::server::ServerSettings;
use switchboard::store::{Actor, IngestOutcome, LeadChange, LeadLimit, NewLeadRow};
use uuid::Uuid;

use crate::common::{spawn_with_clock, TestApp};

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// Inserts a lead received at `received` (24 h SLA), answered at `reply`.
async fn lead(
    app: &TestApp,
    tenant: Uuid,
    received: &str,
    source: LeadSource,
    spam: bool,
    reply: Option<&str>,
    now: DateTime<Utc>,
) -> Uuid {
    let received = at(received);
    let row = NewLeadRow {
        input: crate::common::lead(&format!("Lead {received}")),
        source,
        stage: "new".into(),
        spam_reason: spam.then(|| "links only".into()),
        sla_due_at: received + Duration::hours(24),
        sla_at_risk_at: received + Duration::hours(18),
        received_at: Some(received),
        workspace_id: None,
        import_key: None,
    };
    let limit = LeadLimit {
        tier: Tier::Enterprise,
        limit: None,
    };
    let store = &app.store;
    let IngestOutcome::Created(created) = store
        .insert_lead(&Actor::system(), tenant, row, limit, None, now)
        .await
        .unwrap()
    else {
        panic!("not created")
    };
    if let Some(reply) = reply {
        store
            .add_note(
                &Actor::system(),
                tenant,
                created.id,
                "Hello!",
                true,
                at(reply),
            )
            .await
            .unwrap();
    }
    created.id
}

fn named(pairs: &[(&str, u32)]) -> Vec<NamedCount> {
    pairs
        .iter()
        .map(|(name, count)| NamedCount {
            name: name.to_string(),
            count: *count,
        })
        .collect()
}

#[tokio::test]
async fn figures_match_a_hand_computed_fixture() {
    let now = at("2026-11-20T12:00:00Z");
    let clock = Arc::new(ManualClock::new(now));
    let app = spawn_with_clock(ServerSettings::default(), clock).await;
    let shop = app.tenant("Oak Shop", Tier::Pro).await;
    let other = app.tenant("Blue Door", Tier::Pro).await;
    use LeadSource::*;
    let a = lead(
        &app,
        shop.id,
        "2026-11-18T09:00:00Z",
        Form,
        false,
        Some("2026-11-18T09:30:00Z"),
        now,
    )
    .await;
    lead(
        &app,
        shop.id,
        "2026-11-18T10:00:00Z",
        Api,
        false,
        Some("2026-11-18T12:00:00Z"),
        now,
    )
    .await;
    // Answered a day and an hour late; never answered, past due; still open.
    lead(
        &app,
        shop.id,
        "2026-11-19T08:00:00Z",
        Form,
        false,
        Some("2026-11-20T09:00:00Z"),
        now,
    )
    .await;
    let d = lead(
        &app,
        shop.id,
        "2026-11-19T09:00:00Z",
        Form,
        false,
        None,
        now,
    )
    .await;
    lead(
        &app,
        shop.id,
        "2026-11-20T10:00:00Z",
        Manual,
        false,
        None,
        now,
    )
    .await;
    lead(&app, shop.id, "2026-11-20T11:00:00Z", Form, true, None, now).await;
    // Before the period (and overdue).
    lead(
        &app,
        shop.id,
        "2026-11-15T09:00:00Z",
        Form,
        false,
        None,
        now,
    )
    .await;
    lead(
        &app,
        other.id,
        "2026-11-19T09:00:00Z",
        Api,
        false,
        None,
        now,
    )
    .await;
    let change = LeadChange {
        qualification: Some(Some(Qualification {
            category: "hot".into(),
            reason: "ready to buy".into(),
        })),
        first_stage: "new".into(),
        ..Default::default()
    };
    app.store
        .update_lead(&Actor::system(), shop.id, a, change, now)
        .await
        .unwrap();

    let period = AnalyticsQuery {
        from: NaiveDate::from_ymd_opt(2026, 11, 18),
        to: NaiveDate::from_ymd_opt(2026, 11, 20),
    };
    let got = app.admin.analytics("oak-shop", &period).await.unwrap();
    assert_eq!((got.leads, got.spam), (6, 1));
    assert_eq!(got.spam_rate, Some(1.0 / 6.0));
    let days: Vec<(String, u32, u32)> = got
        .by_day
        .iter()
        .map(|d| (d.day.to_string(), d.leads, d.spam))
        .collect();
    assert_eq!(
        days,
        [
            ("2026-11-18".to_string(), 2, 0),
            ("2026-11-19".to_string(), 2, 0),
            ("2026-11-20".to_string(), 2, 1)
        ]
    );
    assert_eq!(
        got.by_source,
        named(&[("form", 4), ("api", 1), ("manual", 1)])
    );
    assert_eq!(got.by_stage, named(&[("New", 5)]));
    assert_eq!(got.qualification, named(&[("unqualified", 4), ("hot", 1)]));
    assert_eq!((got.sla.met, got.sla.missed, got.sla.open), (2, 2, 1));
    assert_eq!(got.sla.met_percent, Some(50.0));
    assert_eq!(got.first_response.responded, 3);
    assert_eq!(got.first_response.median_minutes, Some(120.0));
    assert_eq!(got.first_response.p90_minutes, Some(1500.0));

    // Across tenants (platform admins only).
    let all = app.admin.platform_analytics(&period).await.unwrap();
    assert_eq!(all.leads, 7);
    assert_eq!(all.tenant_id, None);

    let overview = app.admin.platform_overview().await.unwrap();
    let names: Vec<&str> = overview.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(
        names,
        ["Blue Door", "Oak Shop"],
        "client tenants only, by name"
    );
    let oak = &overview[1];
    assert_eq!(oak.leads_this_month, 6, "spam is not counted");
    assert_eq!(oak.lead_limit, Some(1000));
    assert_eq!(oak.overdue_now, 2);
    assert_eq!(oak.sla_met_percent, Some(40.0));
    assert_eq!(oak.awaiting_approval, 0);

    // Who may look: an agent (analytics:view_own) sees the same figures
    // over the leads assigned to them: one answered in time, one overdue.
    let (agent_user, agent) = app.member(&shop, "agent@oak.test", Role::Agent).await;
    let (_, viewer) = app.member(&shop, "viewer@oak.test", Role::Viewer).await;
    for id in [a, d] {
        let change = LeadChange {
            assignee_id: Some(Some(agent_user.id)),
            first_stage: "new".into(),
            ..Default::default()
        };
        app.store
            .update_lead(&Actor::system(), shop.id, id, change, now)
            .await
            .unwrap();
    }
    let own = agent.analytics("oak-shop", &period).await.unwrap();
    assert_eq!(own.assignee_id, Some(agent_user.id));
    assert_eq!((own.leads, own.spam), (2, 0));
    assert_eq!(
        own.by_source,
        vec![NamedCount {
            name: "form".into(),
            count: 2
        }]
    );
    assert_eq!((own.sla.met, own.sla.missed, own.sla.open), (1, 1, 0));
    assert_eq!(own.first_response.responded, 1);
    assert_eq!(own.first_response.median_minutes, Some(30.0));
    assert_eq!(
        viewer
            .analytics("oak-shop", &period)
            .await
            .unwrap()
            .assignee_id,
        None
    );
    // Without either analytics permission: 403.
    let withdraw = switchboard::domain::Grants {
        granted: vec![],
        withdrawn: vec![switchboard::domain::Permission::AnalyticsViewOwn],
    };
    app.admin
        .set_member_permissions("oak-shop", agent_user.id, &withdraw)
        .await
        .unwrap();
    assert_eq!(
        agent
            .analytics("oak-shop", &period)
            .await
            .unwrap_err()
            .status(),
        Some(403)
    );
    assert_eq!(
        viewer.analytics("oak-shop", &period).await.unwrap().leads,
        6
    );
    assert_eq!(
        viewer.platform_overview().await.unwrap_err().status(),
        Some(403)
    );
    assert_eq!(
        viewer
            .platform_analytics(&period)
            .await
            .unwrap_err()
            .status(),
        Some(403)
    );
    assert_eq!(
        viewer
            .analytics("blue-door", &period)
            .await
            .unwrap_err()
            .status(),
        Some(404)
    );
    let backwards = AnalyticsQuery {
        from: period.to,
        to: period.from,
    };
    let err = app
        .admin
        .analytics("oak-shop", &backwards)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422));
}

/// Moves a lead to `stage` at `when`, as a member moving it would.
async fn move_to(app: &TestApp, tenant: Uuid, lead: Uuid, stage: &str, when: &str) {
    let change = LeadChange {
        stage: Some(stage.into()),
        first_stage: "new".into(),
        ..Default::default()
    };
    app.store
        .update_lead(&Actor::system(), tenant, lead, change, at(when))
        .await
        .unwrap();
}

type Step = (String, u32, Option<f64>, Option<f64>);

fn steps(c: &switchboard::domain::Conversion) -> Vec<Step> {
    c.stages
        .iter()
        .map(|s| (s.name.clone(), s.reached, s.share, s.median_minutes))
        .collect()
}

fn step(name: &str, reached: u32, share: Option<f64>, median: Option<f64>) -> Step {
    (name.to_string(), reached, share, median)
}

#[tokio::test]
async fn conversion_matches_a_hand_computed_fixture() {
    let now = at("2026-11-20T12:00:00Z");
    let clock = Arc::new(ManualClock::new(now));
    let app = spawn_with_clock(ServerSettings::default(), clock).await;
    // The default pipeline: New, Contacted, Qualified, Won, Lost.
    let shop = app.tenant("Oak Shop", Tier::Pro).await;
    let other = app.tenant("Blue Door", Tier::Pro).await;
    use LeadSource::*;
    let t = shop.id;
    // 1: every stage in turn, won after a day in Qualified.
    let l1 = lead(&app, t, "2026-11-18T09:00:00Z", Form, false, None, now).await;
    move_to(&app, t, l1, "contacted", "2026-11-18T10:00:00Z").await;
    move_to(&app, t, l1, "qualified", "2026-11-18T13:00:00Z").await;
    move_to(&app, t, l1, "won", "2026-11-19T13:00:00Z").await;
    // 2: straight from New to Won after 4 h: passes Contacted and Qualified.
    let l2 = lead(&app, t, "2026-11-18T10:00:00Z", Api, false, None, now).await;
    move_to(&app, t, l2, "won", "2026-11-18T14:00:00Z").await;
    // 3: contacted after 30 min, then lost: Lost is an exit, not a step.
    let l3 = lead(&app, t, "2026-11-19T08:00:00Z", Form, false, None, now).await;
    move_to(&app, t, l3, "contacted", "2026-11-19T08:30:00Z").await;
    move_to(&app, t, l3, "lost", "2026-11-19T12:00:00Z").await;
    // 4: contacted after 2 h, qualified a day later, not won yet.
    let l4 = lead(&app, t, "2026-11-19T09:00:00Z", Form, false, None, now).await;
    move_to(&app, t, l4, "contacted", "2026-11-19T11:00:00Z").await;
    move_to(&app, t, l4, "qualified", "2026-11-20T11:00:00Z").await;
    // 5: never moved.
    lead(&app, t, "2026-11-20T10:00:00Z", Manual, false, None, now).await;
    // 6: moved to Won by mistake after 10 min, then back to Contacted:
    // it passed Won, but is not won.
    let l6 = lead(&app, t, "2026-11-18T12:00:00Z", Form, false, None, now).await;
    move_to(&app, t, l6, "won", "2026-11-18T12:10:00Z").await;
    move_to(&app, t, l6, "contacted", "2026-11-18T12:20:00Z").await;
    // Not counted: spam, a lead from before the period, another tenant's.
    let spam = lead(&app, t, "2026-11-20T11:00:00Z", Form, true, None, now).await;
    move_to(&app, t, spam, "won", "2026-11-20T11:30:00Z").await;
    let old = lead(&app, t, "2026-11-15T09:00:00Z", Form, false, None, now).await;
    move_to(&app, t, old, "won", "2026-11-18T09:30:00Z").await;
    let theirs = lead(
        &app,
        other.id,
        "2026-11-19T09:00:00Z",
        Api,
        false,
        None,
        now,
    )
    .await;
    move_to(&app, other.id, theirs, "won", "2026-11-19T09:30:00Z").await;

    let period = AnalyticsQuery {
        from: NaiveDate::from_ymd_opt(2026, 11, 18),
        to: NaiveDate::from_ymd_opt(2026, 11, 20),
    };
    let got = app.admin.analytics("oak-shop", &period).await.unwrap();
    let c = got.conversion.expect("one tenant's figures have a funnel");
    assert_eq!(c.leads, 6, "spam is left out");
    // Contacted: leads 1, 2, 3, 4, 6 after 60, 240, 30, 120, 10 min
    // (6 passed it on its way to Won): median 60. Qualified: 1, 2, 4, 6
    // after 180, 0, 1440, 0: the nearest-rank median is 0. Won: 1, 2, 6
    // after 1440, 0, 0.
    assert_eq!(
        steps(&c),
        [
            step("New", 6, None, None),
            step("Contacted", 5, Some(5.0 / 6.0), Some(60.0)),
            step("Qualified", 4, Some(0.8), Some(0.0)),
            step("Won", 3, Some(0.75), Some(0.0)),
        ]
    );
    assert_eq!(c.won_stage, "won");
    assert_eq!((c.won, c.won_share), (2, Some(2.0 / 6.0)), "1 and 2");
    let by: Vec<(&str, u32, u32, Option<f64>)> = c
        .by_source
        .iter()
        .map(|s| (s.source.as_str(), s.leads, s.won, s.won_share))
        .collect();
    assert_eq!(
        by,
        [
            ("form", 4, 1, Some(0.25)),
            ("api", 1, 1, Some(1.0)),
            ("manual", 1, 0, Some(0.0))
        ]
    );

    // Across tenants there is no one pipeline: no funnel.
    let all = app.admin.platform_analytics(&period).await.unwrap();
    assert_eq!(all.conversion, None);

    // analytics:view_own: the funnel of one's own leads (1 and 3).
    let (agent_user, agent) = app.member(&shop, "agent@oak.test", Role::Agent).await;
    for id in [l1, l3] {
        let change = LeadChange {
            assignee_id: Some(Some(agent_user.id)),
            first_stage: "new".into(),
            ..Default::default()
        };
        app.store
            .update_lead(&Actor::system(), t, id, change, now)
            .await
            .unwrap();
    }
    let own = agent.analytics("oak-shop", &period).await.unwrap();
    let c = own.conversion.expect("a funnel of one's own leads");
    assert_eq!(
        steps(&c),
        [
            step("New", 2, None, None),
            step("Contacted", 2, Some(1.0), Some(30.0)),
            step("Qualified", 1, Some(0.5), Some(180.0)),
            step("Won", 1, Some(1.0), Some(1440.0)),
        ]
    );
    assert_eq!((c.leads, c.won, c.won_share), (2, 1, Some(0.5)));
    // Another tenant's figures stay out of reach.
    assert_eq!(
        agent
            .analytics("blue-door", &period)
            .await
            .unwrap_err()
            .status(),
        Some(404)
    );
}
