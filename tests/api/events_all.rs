//! Live events of every tenant on one connection (`GET /api/v1/events`,
//! issue 15): each tenant's events by the caller's rights there, each naming
//! its tenant, resumable without gaps or repeats, ended when rights change.

use std::time::Duration;

use switchboard::api::Client;
use switchboard::domain::{LeadPatch, Role, ServerEvent, Tenant, Tier, User};
use switchboard::store::Actor;
use uuid::Uuid;

use super::attacks_events::{drain, ends, lead_id, next};
use super::common::{lead, spawn, TestApp};

struct World {
    app: TestApp,
    alpha: Tenant,
    beta: Tenant,
    gamma: Tenant,
    user: User,
    client: Client,
}

/// The user is a viewer of Alpha (sees every lead), an agent of Beta (sees
/// only theirs) and not a member of Gamma.
async fn world() -> World {
    let app = spawn().await;
    let alpha = app.tenant("Alpha Dental", Tier::Pro).await;
    let beta = app.tenant("Beta Law", Tier::Pro).await;
    let gamma = app.tenant("Gamma Gyms", Tier::Pro).await;
    let (user, client) = app.member(&alpha, "sam@agency.test", Role::Viewer).await;
    app.store
        .add_member(
            &Actor::system(),
            beta.id,
            user.id,
            Role::Agent,
            None,
            beta.tier,
        )
        .await
        .expect("add to beta");
    World {
        app,
        alpha,
        beta,
        gamma,
        user,
        client,
    }
}

async fn add(app: &TestApp, tenant: &Tenant, name: &str) -> Uuid {
    app.admin
        .create_lead(&tenant.slug, &lead(name))
        .await
        .expect("create lead")
        .id
}

async fn assign(app: &TestApp, tenant: &Tenant, id: Uuid, to: Option<Uuid>) {
    app.admin
        .update_lead(
            &tenant.slug,
            id,
            &LeadPatch {
                assignee_id: Some(to),
                ..Default::default()
            },
        )
        .await
        .expect("assign");
}

fn tenant_of(e: &ServerEvent) -> Uuid {
    e.tenant().expect("every event names its tenant").id
}

#[tokio::test]
async fn each_tenants_events_arrive_by_the_callers_rights_there_naming_the_tenant() {
    let w = world().await;
    let mut stream = w.client.all_events(None).await.expect("open the stream");
    let a = add(&w.app, &w.alpha, "Alpha lead").await;
    let b = add(&w.app, &w.beta, "Beta lead").await;
    let c = add(&w.app, &w.gamma, "Gamma lead").await;
    assign(&w.app, &w.beta, b, Some(w.user.id)).await;
    assign(&w.app, &w.beta, b, None).await;
    let events = drain(&mut stream, Duration::from_secs(2)).await;
    let seen: Vec<(String, Option<Uuid>, Uuid)> = events
        .iter()
        .map(|e| (e.kind.clone(), lead_id(e), tenant_of(e)))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("lead.created".into(), Some(a), w.alpha.id),
            // Beta's lead only once it is theirs, withdrawn when it is not.
            ("lead.updated".into(), Some(b), w.beta.id),
            ("lead.hidden".into(), Some(b), w.beta.id),
        ],
        "nothing of Gamma ({c}), nothing of Beta's that is not theirs"
    );
    let named = events[0].tenant().unwrap();
    assert_eq!(
        (named.slug, named.name),
        (w.alpha.slug.clone(), w.alpha.name.clone())
    );
    assert!(events.windows(2).all(|p| p[0].id < p[1].id), "one order");

    // A platform admin gets every tenant's.
    let mut all = w.app.admin.all_events(None).await.unwrap();
    add(&w.app, &w.gamma, "Gamma two").await;
    add(&w.app, &w.beta, "Beta two").await;
    let e = next(&mut all).await;
    assert_eq!(
        (e.kind.as_str(), tenant_of(&e)),
        ("lead.created", w.gamma.id)
    );
    let e = next(&mut all).await;
    assert_eq!(
        (e.kind.as_str(), tenant_of(&e)),
        ("lead.created", w.beta.id)
    );
}

#[tokio::test]
async fn resuming_after_the_last_event_id_repeats_nothing_and_skips_nothing() {
    let w = world().await;
    let mut stream = w.app.admin.all_events(None).await.unwrap();
    let tenants = [&w.alpha, &w.beta, &w.gamma];
    let mut created = Vec::new();
    for i in 0..4 {
        created.push(add(&w.app, tenants[i % 3], &format!("Lead {i}")).await);
    }
    let first = next(&mut stream).await;
    let second = next(&mut stream).await;
    assert_eq!(
        [lead_id(&first), lead_id(&second)],
        [Some(created[0]), Some(created[1])]
    );
    drop(stream);
    for i in 4..7 {
        created.push(add(&w.app, tenants[i % 3], &format!("Lead {i}")).await);
    }
    let mut resumed = w.app.admin.all_events(Some(second.id)).await.unwrap();
    let rest = drain(&mut resumed, Duration::from_secs(2)).await;
    assert_eq!(
        rest.iter().map(lead_id).collect::<Vec<_>>(),
        created[2..].iter().map(|id| Some(*id)).collect::<Vec<_>>(),
        "the rest, each once, in order"
    );
    // Resuming applies the caller's rights as live events do.
    let mut theirs = w.client.all_events(Some(0)).await.unwrap();
    let replay = drain(&mut theirs, Duration::from_secs(2)).await;
    assert!(
        replay.iter().all(|e| tenant_of(e) == w.alpha.id),
        "{replay:?}"
    );
    assert_eq!(replay.len(), 3, "Alpha's three lead.created");
}

/// What a console does when its connection drops: a member with different
/// rights in each tenant reads some events, disconnects, misses events of
/// several tenants (some not theirs to see), and reconnects with the last
/// id read: exactly what they missed and may see, in order, none twice, and
/// the resumed stream goes on live.
#[tokio::test]
async fn a_member_reconnecting_with_the_last_id_gets_exactly_what_they_missed() {
    let w = world().await;
    let mut stream = w.client.all_events(None).await.unwrap();
    let a1 = add(&w.app, &w.alpha, "Alpha one").await;
    let b1 = add(&w.app, &w.beta, "Beta one").await;
    assign(&w.app, &w.beta, b1, Some(w.user.id)).await;
    let read = [next(&mut stream).await, next(&mut stream).await];
    assert_eq!(
        read.iter()
            .map(|e| (e.kind.as_str(), lead_id(e)))
            .collect::<Vec<_>>(),
        [("lead.created", Some(a1)), ("lead.updated", Some(b1))]
    );
    drop(stream);

    // While disconnected: Gamma's (not theirs), Beta's not assigned to them
    // (hidden), one assigned to them, and Alpha's (a viewer sees all).
    let a2 = add(&w.app, &w.alpha, "Alpha two").await;
    add(&w.app, &w.gamma, "Gamma one").await;
    let b2 = add(&w.app, &w.beta, "Beta two").await;
    add(&w.app, &w.beta, "Beta three").await;
    assign(&w.app, &w.beta, b2, Some(w.user.id)).await;
    let a3 = add(&w.app, &w.alpha, "Alpha three").await;

    let resume = read[1].id;
    let mut resumed = w.client.all_events(Some(resume)).await.unwrap();
    let missed = drain(&mut resumed, Duration::from_secs(2)).await;
    assert_eq!(
        missed
            .iter()
            .map(|e| (e.kind.as_str(), lead_id(e), tenant_of(e)))
            .collect::<Vec<_>>(),
        [
            ("lead.created", Some(a2), w.alpha.id),
            ("lead.updated", Some(b2), w.beta.id),
            ("lead.created", Some(a3), w.alpha.id),
        ],
        "exactly the missed events they may see, in order"
    );
    assert!(missed.iter().all(|e| e.id > resume), "nothing read before");
    // Live again after the catch-up.
    let a4 = add(&w.app, &w.alpha, "Alpha four").await;
    let e = next(&mut resumed).await;
    assert_eq!((lead_id(&e), tenant_of(&e)), (Some(a4), w.alpha.id));
    assert!(e.id > missed[2].id);
}

#[tokio::test]
async fn the_stream_ends_when_a_role_changes_or_the_session_ends_and_takes_a_stream_slot() {
    let w = world().await;
    let mut stream = w.client.all_events(None).await.unwrap();
    // A role change in one tenant ends the stream; the client reopens it.
    w.app
        .admin
        .change_role(&w.beta.slug, w.user.id, Role::Viewer)
        .await
        .unwrap();
    assert!(ends(&mut stream).await, "a changed role ends the stream");
    // Reopened: now a viewer of Beta, every Beta lead arrives.
    let mut stream = w.client.all_events(None).await.unwrap();
    let b = add(&w.app, &w.beta, "Beta any").await;
    assert_eq!(lead_id(&next(&mut stream).await), Some(b));
    // A tenant joined later comes into the stream without reopening it.
    w.app
        .store
        .add_member(
            &Actor::system(),
            w.gamma.id,
            w.user.id,
            Role::Viewer,
            None,
            Tier::Pro,
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let c = add(&w.app, &w.gamma, "Gamma now").await;
    let e = next(&mut stream).await;
    assert_eq!((lead_id(&e), tenant_of(&e)), (Some(c), w.gamma.id));
    // Signing out ends it.
    w.client.logout().await.unwrap();
    assert!(ends(&mut stream).await, "the session's end ends the stream");

    // The per-user cap counts these streams with the per-tenant ones.
    let (_, other) = w
        .app
        .member(&w.alpha, "lee@agency.test", Role::Viewer)
        .await;
    let mut open = Vec::new();
    let err = loop {
        let opened = if open.len() % 2 == 0 {
            other.all_events(None).await
        } else {
            other.events(&w.alpha.slug, None).await
        };
        match opened {
            Ok(s) => open.push(s),
            Err(e) => break e,
        }
        assert!(open.len() <= 64, "no cap on concurrent streams");
    };
    assert_eq!(err.status(), Some(429), "{err}");
    assert_eq!(open.len(), 8);
}
