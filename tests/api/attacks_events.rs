//! Attacks on the live event stream (OWASP API1 broken object level
//! authorisation, API2 broken authentication, API3 broken object property
//! level authorisation, API4 unrestricted resource consumption).

use std::time::Duration;

use switchboard::api::{Client, EventStream};
use switchboard::domain::{LeadPatch, Role, ServerEvent, Tier};
use uuid::Uuid;

use super::common::{lead, spawn, TestApp};

/// Everything the stream sends until it has been quiet for `quiet`.
pub(super) async fn drain(stream: &mut EventStream, quiet: Duration) -> Vec<ServerEvent> {
    let mut out = Vec::new();
    while let Ok(Some(next)) = tokio::time::timeout(quiet, stream.next()).await {
        out.push(next.expect("a well-formed event"));
    }
    out
}

/// The next event, within ten seconds.
pub(super) async fn next(stream: &mut EventStream) -> ServerEvent {
    tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("an event within 10 s")
        .expect("the stream is open")
        .expect("a well-formed event")
}

/// Whether the server ends the stream within ten seconds.
pub(super) async fn ends(stream: &mut EventStream) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Err(_) => return false,
            Ok(None) | Ok(Some(Err(_))) => return true,
            Ok(Some(Ok(_))) => continue,
        }
    }
}

pub(super) fn lead_id(e: &ServerEvent) -> Option<Uuid> {
    e.lead()
        .map(|l| l.id)
        .or_else(|| e.data.get("lead_id")?.as_str()?.parse().ok())
}

async fn assign(app: &TestApp, id: Uuid, to: Option<Uuid>) {
    app.admin
        .update_lead(
            "open-arms",
            id,
            &LeadPatch {
                assignee_id: Some(to),
                ..Default::default()
            },
        )
        .await
        .unwrap();
}

async fn setup() -> (TestApp, Uuid, Client, Vec<Uuid>) {
    let app = spawn().await;
    let tenant = app.tenant("Open Arms", Tier::Pro).await;
    let (agent, client) = app.member(&tenant, "agent@arms.test", Role::Agent).await;
    let mut ids = Vec::new();
    for name in ["Alice Assigned", "Bob Hidden", "Carol Hidden"] {
        let created = app
            .admin
            .create_lead("open-arms", &lead(name))
            .await
            .unwrap();
        ids.push(created.id);
    }
    (app, agent.id, client, ids)
}

#[tokio::test]
async fn api1_an_agent_replays_only_the_events_of_leads_it_may_see() {
    let (app, agent, client, ids) = setup().await;
    assign(&app, ids[0], Some(agent)).await;
    // The same member's list shows one lead; the replay must agree.
    let listed = client
        .list_leads("open-arms", &Default::default())
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);

    let mut stream = client.events("open-arms", Some(0)).await.unwrap();
    let seen = drain(&mut stream, Duration::from_millis(1500)).await;
    assert!(!seen.is_empty(), "the assigned lead's events arrive");
    for e in &seen {
        let text = e.data.to_string();
        assert!(
            !text.contains("Hidden"),
            "{} leaked another lead: {text}",
            e.kind
        );
        if let Some(id) = lead_id(e) {
            assert_eq!(id, ids[0], "{}: {text}", e.kind);
        }
    }
    // The admin, who may see every lead, gets them all (so this test can fail).
    let mut all = app.admin.events("open-arms", Some(0)).await.unwrap();
    let everything = drain(&mut all, Duration::from_millis(1500)).await;
    assert!(everything
        .iter()
        .any(|e| e.data.to_string().contains("Bob Hidden")));
}

#[tokio::test]
async fn api1_a_lead_assigned_away_stops_appearing_on_the_stream() {
    let (app, agent, client, ids) = setup().await;
    let mut stream = client.events("open-arms", None).await.unwrap();
    assign(&app, ids[1], Some(agent)).await;
    let given = next(&mut stream).await;
    assert_eq!(given.kind, "lead.updated");
    assert_eq!(lead_id(&given), Some(ids[1]));

    assign(&app, ids[1], None).await;
    let hidden = next(&mut stream).await;
    assert_eq!(hidden.kind, "lead.hidden", "{hidden:?}");
    assert_eq!(lead_id(&hidden), Some(ids[1]));
    assert!(!hidden.data.to_string().contains("Bob"), "{hidden:?}");

    // Later changes to it are not sent; the next event is about a lead the
    // agent was given after.
    app.admin
        .update_lead(
            "open-arms",
            ids[1],
            &LeadPatch {
                stage: Some("contacted".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assign(&app, ids[2], Some(agent)).await;
    let after = next(&mut stream).await;
    assert_eq!(lead_id(&after), Some(ids[2]), "{after:?}");
}

#[tokio::test]
async fn api2_a_stream_ends_within_seconds_of_logout() {
    let (_app, _agent, client, _ids) = setup().await;
    let mut stream = client.events("open-arms", None).await.unwrap();
    client.logout().await.unwrap();
    assert!(ends(&mut stream).await, "the stream outlived its session");
}

#[tokio::test]
async fn api1_a_stream_ends_when_the_member_is_removed_or_their_role_changes() {
    let (app, agent, client, _ids) = setup().await;
    let mut stream = client.events("open-arms", None).await.unwrap();
    app.admin
        .change_role("open-arms", agent, Role::Viewer)
        .await
        .unwrap();
    assert!(ends(&mut stream).await, "the stream kept the old role");
    // It reopens with the new rights.
    let mut stream = client.events("open-arms", None).await.unwrap();
    app.admin.remove_member("open-arms", agent).await.unwrap();
    assert!(
        ends(&mut stream).await,
        "the stream outlived the membership"
    );
    let err = client.events("open-arms", None).await.err().unwrap();
    assert_eq!(err.status(), Some(404));
}

#[tokio::test]
async fn api3_a_deleted_lead_leaves_no_personal_data_in_the_event_log() {
    let app = spawn().await;
    app.tenant("Open Arms", Tier::Pro).await;
    let mut input = lead("Secret Person");
    input.email = Some("secret.person@example.test".into());
    let created = app.admin.create_lead("open-arms", &input).await.unwrap();
    app.admin
        .update_lead(
            "open-arms",
            created.id,
            &LeadPatch {
                stage: Some("contacted".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut before = app.admin.events("open-arms", Some(0)).await.unwrap();
    let replay = drain(&mut before, Duration::from_millis(1000)).await;
    assert!(replay
        .iter()
        .any(|e| e.data.to_string().contains("Secret Person")));

    app.admin
        .delete_lead("open-arms", created.id)
        .await
        .unwrap();
    let mut after = app.admin.events("open-arms", Some(0)).await.unwrap();
    let replay = drain(&mut after, Duration::from_millis(1000)).await;
    assert!(replay.iter().any(|e| e.kind == "lead.deleted"));
    for e in &replay {
        let text = e.data.to_string();
        assert!(
            !text.contains("Secret Person") && !text.contains("secret.person@"),
            "{} kept the deleted lead's data: {text}",
            e.kind
        );
    }
}

#[tokio::test]
async fn api4_concurrent_streams_per_user_are_capped() {
    let (_app, _agent, client, _ids) = setup().await;
    let mut open = Vec::new();
    let err = loop {
        match client.events("open-arms", None).await {
            Ok(s) => open.push(s),
            Err(e) => break e,
        }
        assert!(open.len() <= 64, "no cap on concurrent streams");
    };
    assert_eq!(err.status(), Some(429), "{err}");
    assert!(err.problem().unwrap().retry_after.is_some());
    // Closing one frees a slot.
    open.pop();
    tokio::time::sleep(Duration::from_millis(300)).await;
    client
        .events("open-arms", None)
        .await
        .expect("a freed slot");
}

/// The event log holds lead data: it is kept for its retention only, except
/// events a webhook delivery still needs.
#[tokio::test]
async fn api3_the_event_log_is_kept_for_its_retention_only() {
    use switchboard::server::clock::ManualClock;
    let clock = std::sync::Arc::new(ManualClock::new(chrono::Utc::now()));
    let settings = switchboard::server::ServerSettings {
        event_retention: chrono::Duration::days(30),
        ..Default::default()
    };
    let app = super::common::spawn_with_clock(settings, clock.clone()).await;
    app.tenant("Open Arms", Tier::Pro).await;
    let key = app.ingest_key("open-arms").await;
    app.anon()
        .ingest_lead(&key, &lead("Old Lead"), None)
        .await
        .unwrap();
    clock.advance(chrono::Duration::days(31));
    app.anon()
        .ingest_lead(&key, &lead("New Lead"), None)
        .await
        .unwrap();
    let purged = switchboard::server::retention::purge_expired(&app.state)
        .await
        .unwrap();
    assert!(purged.events >= 1, "{purged:?}");
    let mut replay = app.admin.events("open-arms", Some(0)).await.unwrap();
    let left = drain(&mut replay, Duration::from_millis(1000)).await;
    let text: Vec<String> = left.iter().map(|e| e.data.to_string()).collect();
    assert!(text.iter().all(|t| !t.contains("Old Lead")), "{text:?}");
    assert!(text.iter().any(|t| t.contains("New Lead")), "{text:?}");
}
