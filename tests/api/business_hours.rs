//! SLA clocks in business time: deadlines skip closed hours, the watcher
//! fires at the business instant, bad hours are refused without a change,
//! and changing the hours recomputes open leads' deadlines.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use switchboard::api::ApiError;
use switchboard::domain::business_hours::{BusinessHours, Closure, OpeningRange, Week};
use switchboard::domain::{NewNote, NewTenant, SlaState, TenantPatch, TenantSettingsPatch, Tier};
use switchboard::server::clock::ManualClock;
use switchboard::server::events::sweep_once;
use switchboard::server::ServerSettings;

use crate::common::{lead, spawn_with_clock, TestApp};

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// Weekdays 09:00-17:00 in Lisbon (UTC+0 in January), closed on 12 Jan 2026.
fn weekdays() -> BusinessHours {
    let day = || vec![OpeningRange("09:00-17:00".into())];
    BusinessHours {
        time_zone: "Europe/Lisbon".into(),
        week: Week {
            mon: day(),
            tue: day(),
            wed: day(),
            thu: day(),
            fri: day(),
            ..Week::default()
        },
        closures: vec![Closure {
            date: "2026-01-12".parse().unwrap(),
            name: "Staff training".into(),
        }],
    }
}

async fn tenant(app: &TestApp, hours: Option<BusinessHours>) {
    app.admin
        .create_tenant(&NewTenant {
            name: "Open Arms".into(),
            tier: Some(Tier::Pro),
            settings: Some(TenantSettingsPatch {
                sla_hours: Some(2),
                sla_at_risk_percent: Some(50),
                manager_email: Some("boss@openarms.test".into()),
                business_hours: hours.map(Some),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn a_lead_of_friday_evening_is_due_in_business_time_and_alerts_fire_then() {
    // Friday 9 Jan 2026, 18:00 in Lisbon: closed until Tuesday (Monday is a closure).
    let clock = Arc::new(ManualClock::new(at("2026-01-09T18:00:00Z")));
    let app = spawn_with_clock(ServerSettings::default(), clock.clone()).await;
    tenant(&app, Some(weekdays())).await;
    let key = app.ingest_key("open-arms").await;
    let id = app
        .anon()
        .ingest_lead(&key, &lead("Jane"), None)
        .await
        .unwrap()
        .id;
    let got = app.admin.lead("open-arms", id).await.unwrap();
    assert_eq!(
        got.sla_due_at,
        at("2026-01-13T11:00:00Z"),
        "2 business hours from Tuesday 09:00"
    );
    assert_eq!(
        got.sla_at_risk_at,
        at("2026-01-13T10:00:00Z"),
        "half the window left"
    );

    // The whole weekend and the closure pass: still on track, no alert.
    clock.advance(Duration::days(3) + Duration::hours(15)); // Tue 09:00
    assert_eq!(
        app.admin.lead("open-arms", id).await.unwrap().sla,
        SlaState::OnTrack
    );
    let r = sweep_once(&app.state).await.unwrap();
    assert_eq!((r.at_risk, r.breached), (0, 0));
    clock.advance(Duration::minutes(61)); // 10:01
    assert_eq!(sweep_once(&app.state).await.unwrap().at_risk, 1);
    clock.advance(Duration::minutes(60)); // 11:01
    assert_eq!(
        app.admin.lead("open-arms", id).await.unwrap().sla,
        SlaState::Overdue
    );
    let r = sweep_once(&app.state).await.unwrap();
    assert_eq!((r.at_risk, r.breached), (0, 1));
    assert_eq!(
        sweep_once(&app.state).await.unwrap().breached,
        0,
        "fired twice"
    );
}

#[tokio::test]
async fn bad_business_hours_are_refused_field_by_field_and_change_nothing() {
    let clock = Arc::new(ManualClock::new(at("2026-01-09T18:00:00Z")));
    let app = spawn_with_clock(ServerSettings::default(), clock).await;
    tenant(&app, None).await;
    let mut bad = weekdays();
    bad.time_zone = "Europe/Lisboa".into();
    bad.week.sat = vec![OpeningRange("9:00-13:00".into())];
    let err = app
        .admin
        .update_tenant(
            "open-arms",
            &TenantPatch {
                settings: Some(TenantSettingsPatch {
                    sla_hours: Some(8),
                    business_hours: Some(Some(bad)),
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    let ApiError::Problem(p) = err else {
        panic!("expected a problem, got {err:?}");
    };
    assert_eq!(p.status, 422);
    let fields: Vec<&str> = p.errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "settings.business_hours.time_zone",
            "settings.business_hours.week.sat[0]"
        ]
    );
    assert!(
        p.errors[0].message.contains("Europe/Lisbon"),
        "{}",
        p.errors[0].message
    );
    let t = app.admin.tenant("open-arms").await.unwrap();
    assert_eq!(
        t.settings.sla_hours, 2,
        "a refused patch changed the tenant"
    );
    assert_eq!(t.settings.business_hours, None);
}

#[tokio::test]
async fn changing_the_hours_recomputes_open_leads_deadlines_on_their_timelines() {
    let clock = Arc::new(ManualClock::new(at("2026-01-09T18:00:00Z")));
    let app = spawn_with_clock(ServerSettings::default(), clock.clone()).await;
    tenant(&app, None).await;
    let key = app.ingest_key("open-arms").await;
    let open = app
        .anon()
        .ingest_lead(&key, &lead("Jane"), None)
        .await
        .unwrap()
        .id;
    let answered = app
        .anon()
        .ingest_lead(&key, &lead("Joe"), None)
        .await
        .unwrap()
        .id;
    app.admin
        .add_note(
            "open-arms",
            answered,
            &NewNote {
                body: "Called".into(),
                is_reply: true,
            },
        )
        .await
        .unwrap();
    // Wall-clock: due 2 hours later, and already breached by Saturday.
    assert_eq!(
        app.admin.lead("open-arms", open).await.unwrap().sla_due_at,
        at("2026-01-09T20:00:00Z")
    );
    clock.advance(Duration::hours(15)); // Saturday 09:00
    assert_eq!(sweep_once(&app.state).await.unwrap().breached, 1);
    let answered_before = app.admin.lead("open-arms", answered).await.unwrap();

    app.admin
        .update_tenant(
            "open-arms",
            &TenantPatch {
                settings: Some(TenantSettingsPatch {
                    business_hours: Some(Some(weekdays())),
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // The walk runs behind the response: wait for it (a few batches at most).
    let mut lead = app.admin.lead("open-arms", open).await.unwrap();
    for _ in 0..100 {
        if lead.sla_due_at != at("2026-01-09T20:00:00Z") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        lead = app.admin.lead("open-arms", open).await.unwrap();
    }
    assert_eq!(lead.sla_due_at, at("2026-01-13T11:00:00Z"));
    assert_eq!(
        lead.sla,
        SlaState::OnTrack,
        "no longer overdue in business time"
    );
    let timeline = app.admin.timeline("open-arms", open).await.unwrap();
    let entry = timeline
        .iter()
        .find(|e| e.kind == "sla_reclocked")
        .expect("a timeline entry");
    assert_eq!(
        entry.data["to"],
        serde_json::json!(at("2026-01-13T11:00:00Z"))
    );
    assert_eq!(
        app.admin
            .lead("open-arms", answered)
            .await
            .unwrap()
            .sla_due_at,
        answered_before.sla_due_at,
        "an answered lead keeps its deadline"
    );
    // The breach alert already sent is sent again when the new deadline passes.
    clock.advance(Duration::days(4)); // Wednesday 09:00
    assert_eq!(sweep_once(&app.state).await.unwrap().breached, 1);

    // Removing the hours goes back to wall-clock deadlines.
    app.admin
        .update_tenant(
            "open-arms",
            &TenantPatch {
                settings: Some(TenantSettingsPatch {
                    business_hours: Some(None),
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut lead = app.admin.lead("open-arms", open).await.unwrap();
    for _ in 0..100 {
        if lead.sla_due_at == at("2026-01-09T20:00:00Z") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        lead = app.admin.lead("open-arms", open).await.unwrap();
    }
    assert_eq!(lead.sla_due_at, at("2026-01-09T20:00:00Z"));
    assert_eq!(
        app.admin
            .tenant("open-arms")
            .await
            .unwrap()
            .settings
            .business_hours,
        None
    );
}

#[tokio::test]
async fn a_restart_mid_recompute_resumes_where_the_last_batch_stopped() {
    use switchboard::domain::LeadQuery;
    use switchboard::server::AppState;
    use switchboard::store::{Reclocked, RECLOCK_BATCH};

    let clock = Arc::new(ManualClock::new(at("2026-01-09T18:00:00Z")));
    let app = spawn_with_clock(ServerSettings::default(), clock.clone()).await;
    let tenant = app
        .admin
        .create_tenant(&NewTenant {
            name: "Busy Co".into(),
            tier: Some(Tier::Enterprise),
            settings: Some(TenantSettingsPatch {
                sla_hours: Some(2),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    let total = RECLOCK_BATCH + 20;
    let mut csv = String::from("name,email\n");
    for i in 0..total {
        csv.push_str(&format!("Lead {i},lead{i}@busy.test\n"));
    }
    let report = app.admin.import_csv("busy-co", csv).await.unwrap();
    assert_eq!(report.imported as usize, total);

    // This process stands for one that was walking the tenant and died: the
    // settings change marks the tenant pending but starts nothing here.
    assert!(app.state.reclocks.claim(tenant.id));
    app.admin
        .update_tenant(
            "busy-co",
            &TenantPatch {
                settings: Some(TenantSettingsPatch {
                    business_hours: Some(Some(weekdays())),
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(app.store.pending_reclocks().await.unwrap(), vec![tenant.id]);
    // One batch commits, then the process is gone.
    let first = app
        .store
        .reclock_leads(tenant.id, app.state.clock.now())
        .await
        .unwrap();
    assert_eq!(
        first,
        Reclocked {
            scanned: RECLOCK_BATCH,
            changed: RECLOCK_BATCH,
            done: false
        }
    );
    assert_eq!(
        app.store.pending_reclocks().await.unwrap(),
        vec![tenant.id],
        "still pending, with its cursor"
    );

    // A new server on the same database resumes at its first sweep.
    let restarted =
        AppState::with_clock(app.store.clone(), ServerSettings::default(), clock.clone());
    sweep_once(&restarted).await.unwrap();
    for _ in 0..200 {
        if app.store.pending_reclocks().await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(app.store.pending_reclocks().await.unwrap().is_empty());

    // Every lead is on the business-hours deadline, and each moved once:
    // the resumed walk started after the first batch, not from the start.
    let mut leads = Vec::new();
    let mut cursor = None;
    loop {
        let page = app
            .admin
            .list_leads(
                "busy-co",
                &LeadQuery {
                    limit: Some(200),
                    cursor: cursor.clone(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        leads.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(leads.len(), total);
    assert!(
        leads
            .iter()
            .all(|l| l.sla_due_at == at("2026-01-13T11:00:00Z")),
        "every deadline moved to Tuesday 11:00 (Monday is a closure)"
    );
    for l in [&leads[0], &leads[total / 2], &leads[total - 1]] {
        let timeline = app.admin.timeline("busy-co", l.id).await.unwrap();
        let moves = timeline
            .iter()
            .filter(|e| e.kind == "sla_reclocked")
            .count();
        assert_eq!(moves, 1, "{} moved {moves} times", l.name);
    }
    // Nothing pending: another sweep starts no walk and changes nothing.
    let again = app
        .store
        .reclock_leads(tenant.id, app.state.clock.now())
        .await
        .unwrap();
    assert_eq!(
        again,
        Reclocked {
            done: true,
            ..Reclocked::default()
        }
    );
}
