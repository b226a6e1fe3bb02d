//! Leads for members: SLA clock and alerts, live events, permissions,
//! timeline, filters and pagination.

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use switchboard::domain::{
    BulkLeads, LeadPatch, LeadQuery, NewNote, NewTenant, Qualification, Role, SlaState,
    TenantSettingsPatch, Tier,
};
use switchboard::server::clock::ManualClock;
use switchboard::server::events::sweep_once;
use switchboard::server::{AppState, ServerSettings};

use crate::common::{lead, spawn, spawn_with_clock};

async fn tenant_with_sla(app: &crate::common::TestApp, hours: u32) {
    app.admin
        .create_tenant(&NewTenant {
            name: "Open Arms".into(),
            tier: Some(Tier::Pro),
            settings: Some(TenantSettingsPatch {
                sla_hours: Some(hours),
                manager_email: Some("boss@openarms.test".into()),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn sla_states_follow_the_clock_and_alerts_fire_once_across_a_restart() {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap(),
    ));
    let app = spawn_with_clock(ServerSettings::default(), clock.clone()).await;
    tenant_with_sla(&app, 4).await;
    let key = app.ingest_key("open-arms").await;
    let id = app
        .anon()
        .ingest_lead(&key, &lead("Jane"), None)
        .await
        .unwrap()
        .id;
    let state_of = || async { app.admin.lead("open-arms", id).await.unwrap().sla };
    assert_eq!(state_of().await, SlaState::OnTrack);

    clock.advance(Duration::minutes(3 * 60 + 5));
    assert_eq!(state_of().await, SlaState::AtRisk);
    let at_risk = app
        .admin
        .list_leads(
            "open-arms",
            &LeadQuery {
                sla: Some("at_risk".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(at_risk.items.len(), 1);
    let r = sweep_once(&app.state).await.unwrap();
    assert_eq!((r.at_risk, r.breached), (1, 0));
    assert_eq!(
        sweep_once(&app.state).await.unwrap().at_risk,
        0,
        "alert repeated"
    );

    // A restarted server over the same database repeats nothing.
    let reopened = switchboard::store::open(&app.database_url).await.unwrap();
    let restarted = AppState::with_clock(reopened, ServerSettings::default(), clock.clone());
    let r = sweep_once(&restarted).await.unwrap();
    assert_eq!((r.at_risk, r.breached), (0, 0));

    clock.advance(Duration::hours(1));
    assert_eq!(state_of().await, SlaState::Overdue);
    let overdue = app
        .admin
        .list_leads(
            "open-arms",
            &LeadQuery {
                sla: Some("overdue".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(overdue.items.len(), 1);
    let r = sweep_once(&restarted).await.unwrap();
    assert_eq!((r.at_risk, r.breached), (0, 1));
    assert_eq!(sweep_once(&app.state).await.unwrap().breached, 0);

    let timeline = app.admin.timeline("open-arms", id).await.unwrap();
    let kinds: Vec<&str> = timeline.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["created", "sla_at_risk", "sla_breached"]);
    let t = app.admin.tenant("open-arms").await.unwrap();
    let outbox = app.store.pending_outbox(t.id).await.unwrap();
    assert_eq!(outbox.len(), 2);
    assert!(outbox
        .iter()
        .all(|m| m.recipient.as_deref() == Some("boss@openarms.test")));
    assert!(outbox[1].subject.starts_with("SLA breached: \"Jane\""));

    // A reply meets the SLA, even late.
    app.admin
        .add_note(
            "open-arms",
            id,
            &NewNote {
                body: "Called back".into(),
                is_reply: true,
            },
        )
        .await
        .unwrap();
    let l = app.admin.lead("open-arms", id).await.unwrap();
    assert_eq!(l.sla, SlaState::Met);
    assert!(l.first_response_at.is_some());
}

#[tokio::test]
async fn the_at_risk_share_is_the_tenants_setting() {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap(),
    ));
    let app = spawn_with_clock(ServerSettings::default(), clock.clone()).await;
    app.admin
        .create_tenant(&NewTenant {
            name: "Open Arms".into(),
            settings: Some(TenantSettingsPatch {
                sla_hours: Some(10),
                sla_at_risk_percent: Some(50),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    let key = app.ingest_key("open-arms").await;
    let id = app
        .anon()
        .ingest_lead(&key, &lead("Jane"), None)
        .await
        .unwrap()
        .id;
    clock.advance(Duration::hours(4));
    assert_eq!(
        app.admin.lead("open-arms", id).await.unwrap().sla,
        SlaState::OnTrack
    );
    clock.advance(Duration::hours(1));
    let l = app.admin.lead("open-arms", id).await.unwrap();
    assert_eq!(l.sla, SlaState::AtRisk);
    assert_eq!(l.sla_at_risk_at, l.created_at + Duration::hours(5));
    let bad = app
        .admin
        .update_tenant(
            "open-arms",
            &switchboard::domain::TenantPatch {
                settings: Some(TenantSettingsPatch {
                    sla_at_risk_percent: Some(0),
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(bad
        .problem()
        .unwrap()
        .field("settings.sla_at_risk_percent")
        .is_some());
}

#[tokio::test]
async fn a_lead_overdue_before_any_sweep_gets_only_the_breach_alert() {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap(),
    ));
    let app = spawn_with_clock(ServerSettings::default(), clock.clone()).await;
    tenant_with_sla(&app, 2).await;
    let key = app.ingest_key("open-arms").await;
    app.anon()
        .ingest_lead(&key, &lead("Late"), None)
        .await
        .unwrap();
    clock.advance(Duration::hours(5));
    let r = sweep_once(&app.state).await.unwrap();
    assert_eq!((r.at_risk, r.breached), (0, 1));
    assert_eq!(sweep_once(&app.state).await.unwrap().at_risk, 0);
}

#[tokio::test]
async fn live_events_arrive_and_resume_with_last_event_id() {
    let app = spawn().await;
    tenant_with_sla(&app, 24).await;
    let key = app.ingest_key("open-arms").await;
    let mut stream = app.admin.events("open-arms", None).await.unwrap();
    let id = app
        .anon()
        .ingest_lead(&key, &lead("Live One"), None)
        .await
        .unwrap()
        .id;
    let first = tokio::time::timeout(std::time::Duration::from_secs(10), stream.next())
        .await
        .expect("event within 10 s")
        .unwrap()
        .unwrap();
    assert_eq!(first.kind, "lead.created");
    assert_eq!(first.lead().unwrap().id, id);
    drop(stream);

    // While disconnected: a new lead and a change.
    app.anon()
        .ingest_lead(&key, &lead("Missed Two"), None)
        .await
        .unwrap();
    app.admin
        .update_lead(
            "open-arms",
            id,
            &LeadPatch {
                stage: Some("contacted".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut resumed = app.admin.events("open-arms", Some(first.id)).await.unwrap();
    let mut got = Vec::new();
    for _ in 0..2 {
        let e = tokio::time::timeout(std::time::Duration::from_secs(10), resumed.next())
            .await
            .expect("resumed event")
            .unwrap()
            .unwrap();
        got.push((e.kind.clone(), e.lead().unwrap().name));
    }
    assert_eq!(
        got,
        [
            ("lead.created".to_string(), "Missed Two".to_string()),
            ("lead.updated".to_string(), "Live One".to_string())
        ]
    );

    // Another tenant's members cannot subscribe.
    let other = app.tenant("Other", Tier::Pro).await;
    let (_, outsider) = app.member(&other, "x@other.test", Role::Admin).await;
    let err = outsider.events("open-arms", None).await.err().unwrap();
    assert_eq!(err.status(), Some(404));
}

#[tokio::test]
async fn roles_decide_who_sees_changes_and_deletes_leads() {
    let app = spawn().await;
    let t = app.tenant("Open Arms", Tier::Pro).await;
    let key = app.ingest_key("open-arms").await;
    let (agent_user, agent) = app.member(&t, "agent@oa.test", Role::Agent).await;
    let (_, viewer) = app.member(&t, "viewer@oa.test", Role::Viewer).await;
    let (_, manager) = app.member(&t, "manager@oa.test", Role::Manager).await;
    let a = app
        .anon()
        .ingest_lead(&key, &lead("Assigned"), None)
        .await
        .unwrap()
        .id;
    let b = app
        .anon()
        .ingest_lead(&key, &lead("Unassigned"), None)
        .await
        .unwrap()
        .id;
    manager
        .update_lead(
            "open-arms",
            a,
            &LeadPatch {
                assignee_id: Some(Some(agent_user.id)),
                ..Default::default()
            },
        )
        .await
        .unwrap();

    // The agent sees only what is assigned to them; the rest is not found.
    let mine = agent
        .list_leads("open-arms", &LeadQuery::default())
        .await
        .unwrap();
    assert_eq!(mine.items.iter().map(|l| l.id).collect::<Vec<_>>(), [a]);
    assert_eq!(
        agent.lead("open-arms", b).await.unwrap_err().status(),
        Some(404)
    );
    agent
        .add_note(
            "open-arms",
            a,
            &NewNote {
                body: "On it".into(),
                is_reply: false,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        agent
            .delete_lead("open-arms", a)
            .await
            .unwrap_err()
            .status(),
        Some(403)
    );

    // The viewer sees everything and changes nothing.
    assert_eq!(
        viewer
            .list_leads("open-arms", &LeadQuery::default())
            .await
            .unwrap()
            .items
            .len(),
        2
    );
    let e = viewer
        .update_lead(
            "open-arms",
            b,
            &LeadPatch {
                stage: Some("won".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(403));

    // Bad stage or a non-member assignee is refused and changes nothing.
    let e = manager
        .update_lead(
            "open-arms",
            b,
            &LeadPatch {
                stage: Some("nowhere".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(e
        .problem()
        .unwrap()
        .field("stage")
        .unwrap()
        .contains("new, contacted"));
    let stranger = app.user("stranger@x.test", false).await.0;
    let e = manager
        .update_lead(
            "open-arms",
            b,
            &LeadPatch {
                assignee_id: Some(Some(stranger.id)),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(e.problem().unwrap().field("assignee_id").is_some());
    assert_eq!(manager.lead("open-arms", b).await.unwrap().stage, "new");

    // Deleting is the admin's (leads:delete), not the manager's.
    assert_eq!(
        manager
            .delete_lead("open-arms", b)
            .await
            .unwrap_err()
            .status(),
        Some(403)
    );
    let (_, admin) = app.member(&t, "admin@oa.test", Role::Admin).await;
    admin.delete_lead("open-arms", b).await.unwrap();
    assert_eq!(
        manager.lead("open-arms", b).await.unwrap_err().status(),
        Some(404)
    );
}

#[tokio::test]
async fn the_timeline_records_every_change_with_its_actor() {
    let app = spawn().await;
    app.tenant("Open Arms", Tier::Pro).await;
    let key = app.ingest_key("open-arms").await;
    let id = app
        .anon()
        .ingest_lead(&key, &lead("Jane"), None)
        .await
        .unwrap()
        .id;
    let patch = LeadPatch {
        stage: Some("contacted".into()),
        qualification: Some(Some(Qualification {
            category: "hot".into(),
            reason: "budget approved".into(),
        })),
        ..Default::default()
    };
    let l = app
        .admin
        .update_lead("open-arms", id, &patch)
        .await
        .unwrap();
    assert_eq!(l.stage, "contacted");
    // Leaving the first stage is the first response.
    assert_eq!(l.sla, SlaState::Met);
    app.admin
        .update_lead(
            "open-arms",
            id,
            &LeadPatch {
                spam: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    app.admin
        .add_note(
            "open-arms",
            id,
            &NewNote {
                body: "Left a voicemail".into(),
                is_reply: false,
            },
        )
        .await
        .unwrap();
    let timeline = app.admin.timeline("open-arms", id).await.unwrap();
    let kinds: Vec<&str> = timeline.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "created",
            "stage_changed",
            "qualified",
            "spam_marked",
            "note"
        ]
    );
    assert_eq!(timeline[1].data["from"], "new");
    assert_eq!(
        timeline[1].actor_email.as_deref(),
        Some("root@platform.test")
    );
    assert!(timeline[0]
        .actor_email
        .as_deref()
        .unwrap()
        .starts_with("api-key:"));
    // Marked spam after the fact: leaves the queue and the allowance.
    assert_eq!(
        app.admin.usage("open-arms").await.unwrap().leads_this_month,
        0
    );
    let e = app
        .admin
        .add_note(
            "open-arms",
            id,
            &NewNote {
                body: "  ".into(),
                is_reply: false,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(422));
}

#[tokio::test]
async fn filters_and_pages_never_duplicate_or_skip_while_leads_arrive() {
    let app = spawn().await;
    app.tenant("Open Arms", Tier::Enterprise).await;
    let key = app.ingest_key("open-arms").await;
    for i in 0..25 {
        let mut l = lead(&format!("Person {i:02}"));
        if i % 5 == 0 {
            l.company = Some("Acme Plumbing".into());
        }
        app.anon().ingest_lead(&key, &l, None).await.unwrap();
    }
    let acme = app
        .admin
        .list_leads(
            "open-arms",
            &LeadQuery {
                q: Some("acme".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(acme.items.len(), 5);

    let mut seen = Vec::new();
    let mut cursor = None;
    let mut round = 0;
    loop {
        let page = app
            .admin
            .list_leads(
                "open-arms",
                &LeadQuery {
                    limit: Some(7),
                    cursor: cursor.clone(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        seen.extend(page.items.iter().map(|l| l.id));
        // New leads keep arriving between pages.
        app.anon()
            .ingest_lead(&key, &lead(&format!("Late {round}")), None)
            .await
            .unwrap();
        round += 1;
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let unique: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "a lead appeared twice");
    assert!(seen.len() >= 25, "leads were skipped: {}", seen.len());
    let first_25 = app
        .admin
        .list_leads(
            "open-arms",
            &LeadQuery {
                limit: Some(25),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(first_25.items.iter().all(|l| unique.contains(&l.id)));

    // Bulk assign and stage move, with unknown ids reported.
    let ids: Vec<_> = first_25.items.iter().take(3).map(|l| l.id).collect();
    let ghost = uuid::Uuid::now_v7();
    let res = app
        .admin
        .bulk_leads(
            "open-arms",
            &BulkLeads {
                ids: [ids.clone(), vec![ghost]].concat(),
                stage: Some("qualified".into()),
                assignee_id: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(res.updated, ids);
    assert_eq!(res.not_found, [ghost]);
    let q = app
        .admin
        .list_leads(
            "open-arms",
            &LeadQuery {
                stage: Some("qualified".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(q.items.len(), 3);
    let bad = app
        .admin
        .list_leads(
            "open-arms",
            &LeadQuery {
                sla: Some("late".into()),
                cursor: Some("x".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(bad.problem().unwrap().field("sla").is_some());
}

#[tokio::test]
async fn sample_import_is_varied_idempotent_and_stays_in_its_tenant() {
    let app = spawn().await;
    app.tenant("Open Arms", Tier::Pro).await;
    app.tenant("Other", Tier::Pro).await;
    let first = app.admin.import_sample("open-arms").await.unwrap();
    assert!(first.imported >= 20, "{first:?}");
    assert!(first.errors.is_empty(), "{first:?}");
    let again = app.admin.import_sample("open-arms").await.unwrap();
    assert_eq!((again.imported, again.duplicates), (0, first.imported));
    assert!(app
        .admin
        .list_leads("other", &LeadQuery::default())
        .await
        .unwrap()
        .items
        .is_empty());

    let all = app
        .admin
        .list_leads(
            "open-arms",
            &LeadQuery {
                limit: Some(200),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let overdue = all
        .items
        .iter()
        .filter(|l| l.sla == SlaState::Overdue)
        .count();
    assert!(overdue >= 2, "some samples should already be overdue");
    // The overdue queue comes first, most overdue on top.
    assert_eq!(all.items[0].sla, SlaState::Overdue);
    assert!(all.items[0].sla_due_at <= all.items[1].sla_due_at);
    let sources: std::collections::HashSet<_> = all.items.iter().map(|l| l.source).collect();
    assert!(sources.len() >= 3);
    let spam = app
        .admin
        .list_leads(
            "open-arms",
            &LeadQuery {
                spam: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(!spam.items.is_empty());
}

#[tokio::test]
async fn csv_import_reports_every_bad_row_and_export_honours_filters() {
    let app = spawn().await;
    let t = app.tenant("Open Arms", Tier::Pro).await;
    let csv = "name,email,phone,company,message,budget\n\
               Ada Lovelace,ada@example.com,,Analytical Co,Need a quote,5000\n\
               ,nobody@example.com,,,Missing name,\n\
               Bad Email,not-an-email,,,Hi,\n\
               \"Grace Hopper\",grace@example.com,+1 555 0100,Navy,\"Hello, world\",\n";
    let report = app.admin.import_csv("open-arms", csv.into()).await.unwrap();
    assert_eq!(report.imported, 2, "{report:?}");
    let rows: Vec<(u32, &str)> = report
        .errors
        .iter()
        .map(|e| (e.row, e.field.as_str()))
        .collect();
    assert_eq!(rows, [(3, "name"), (4, "email")]);
    let again = app.admin.import_csv("open-arms", csv.into()).await.unwrap();
    assert_eq!((again.imported, again.duplicates), (0, 2));
    let ada = app
        .admin
        .list_leads(
            "open-arms",
            &LeadQuery {
                q: Some("ada".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(ada.items[0].fields["budget"], "5000");
    let no_header = app
        .admin
        .import_csv("open-arms", "just,some,data\n".into())
        .await
        .unwrap_err();
    assert_eq!(no_header.status(), Some(422));

    let all = app
        .admin
        .export_csv("open-arms", &LeadQuery::default())
        .await
        .unwrap();
    assert!(all.starts_with("id,name,email"));
    assert_eq!(all.lines().count(), 3);
    assert!(all.contains("\"Hello, world\""));
    let only_grace = app
        .admin
        .export_csv(
            "open-arms",
            &LeadQuery {
                q: Some("grace".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(only_grace.lines().count(), 2);
    assert!(only_grace.contains("grace@example.com"));
    // Export needs leads:export.
    let (_, agent) = app.member(&t, "agent@oa.test", Role::Agent).await;
    let e = agent
        .export_csv("open-arms", &LeadQuery::default())
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(403));
}

#[tokio::test]
async fn stages_rename_and_reorder_without_losing_leads_and_busy_stages_stay() {
    use switchboard::domain::{StageInput, TenantPatch};
    let app = spawn().await;
    app.tenant("Open Arms", Tier::Pro).await;
    let key = app.ingest_key("open-arms").await;
    let id = app
        .anon()
        .ingest_lead(&key, &lead("Jane"), None)
        .await
        .unwrap()
        .id;
    let stages = |list: Vec<StageInput>| TenantPatch {
        settings: Some(TenantSettingsPatch {
            pipeline_stages: Some(list),
            ..Default::default()
        }),
        ..Default::default()
    };
    // Rename "new" to "Inbox" and move it last; add "Nurture".
    let t = app
        .admin
        .update_tenant(
            "open-arms",
            &stages(vec![
                StageInput::keep("contacted", "Contacted"),
                StageInput::named("Nurture"),
                StageInput::keep("new", "Inbox"),
            ]),
        )
        .await
        .unwrap();
    let names: Vec<&str> = t
        .settings
        .pipeline_stages
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(names, ["Contacted", "Nurture", "Inbox"]);
    let l = app.admin.lead("open-arms", id).await.unwrap();
    assert_eq!(l.stage, "new");
    assert_eq!(t.settings.stage(&l.stage).unwrap().name, "Inbox");

    // Dropping the stage that holds Jane is refused, and nothing changes.
    let err = app
        .admin
        .update_tenant(
            "open-arms",
            &stages(vec![StageInput::keep("contacted", "Contacted")]),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(409));
    assert!(err.message().contains("Inbox"), "{}", err.message());
    assert_eq!(
        app.admin
            .tenant("open-arms")
            .await
            .unwrap()
            .settings
            .pipeline_stages
            .len(),
        3
    );
    // Once she has moved on, the old stage can go.
    app.admin
        .update_lead(
            "open-arms",
            id,
            &LeadPatch {
                stage: Some("contacted".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    app.admin
        .update_tenant(
            "open-arms",
            &stages(vec![StageInput::keep("contacted", "Contacted")]),
        )
        .await
        .unwrap();
}
