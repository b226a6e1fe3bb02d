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
