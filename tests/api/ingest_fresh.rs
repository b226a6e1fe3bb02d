//! The server remembers what an ingest key stands for (its owner and
//! tenant) for a few seconds (issue 17). What it remembers must never let
//! through what the store would refuse, nor keep settings a change replaced:
//! each change below is followed at once by an ingest with a key the server
//! has just used.

use chrono::Duration;
use switchboard::domain::{LeadQuery, TenantPatch, TenantSettingsPatch, TenantStatus, Tier};
use switchboard::store::Actor;

use crate::common::{lead, spawn, TestApp};

/// The status of an ingest with `key`: 201, or the refusal's status.
async fn ingest_status(app: &TestApp, key: &str, name: &str) -> u16 {
    match app.anon().ingest_lead(key, &lead(name), None).await {
        Ok(_) => 201,
        Err(e) => e.status().unwrap_or(0),
    }
}

#[tokio::test]
async fn a_key_revoked_or_rotated_away_through_the_api_is_refused_on_the_next_ingest() {
    let app = spawn().await;
    app.tenant("Open Arms", Tier::Pro).await;
    let first = app.form_key("open-arms", None).await;
    let second = app.form_key("open-arms", None).await;
    assert_eq!(ingest_status(&app, &first.key, "Before Revoke").await, 201);
    assert_eq!(ingest_status(&app, &second.key, "Before Rotate").await, 201);

    app.admin
        .revoke_api_key("open-arms", first.api_key.id)
        .await
        .unwrap();
    assert_eq!(ingest_status(&app, &first.key, "After Revoke").await, 401);

    let rotated = app
        .admin
        .rotate_api_key("open-arms", second.api_key.id, 0)
        .await
        .unwrap();
    assert_eq!(ingest_status(&app, &second.key, "After Rotate").await, 401);
    assert_eq!(ingest_status(&app, &rotated.key, "New Key").await, 201);

    let names: Vec<String> = app
        .admin
        .list_leads("open-arms", &LeadQuery::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|l| l.name)
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(!names.iter().any(|n| n.starts_with("After")), "{names:?}");
}

#[tokio::test]
async fn suspending_refuses_the_next_ingest_and_reactivating_accepts_it_at_once() {
    let app = spawn().await;
    app.tenant("Open Arms", Tier::Pro).await;
    let k = app.form_key("open-arms", None).await;
    assert_eq!(ingest_status(&app, &k.key, "Before").await, 201);
    app.admin.suspend_tenant("open-arms").await.unwrap();
    assert_eq!(ingest_status(&app, &k.key, "Suspended").await, 423);
    app.admin.reactivate_tenant("open-arms").await.unwrap();
    assert_eq!(ingest_status(&app, &k.key, "Reactivated").await, 201);
}

#[tokio::test]
async fn a_settings_change_applies_to_the_next_ingest() {
    let app = spawn().await;
    app.tenant("Open Arms", Tier::Pro).await;
    let k = app.form_key("open-arms", None).await;
    let mut casino = lead("Before Change");
    casino.message = "Best casino bonus today".into();
    app.anon().ingest_lead(&k.key, &casino, None).await.unwrap();

    app.admin
        .update_tenant(
            "open-arms",
            &TenantPatch {
                settings: Some(TenantSettingsPatch {
                    spam_keywords: Some(vec!["casino".into()]),
                    sla_hours: Some(2),
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    casino.name = "After Change".into();
    app.anon().ingest_lead(&k.key, &casino, None).await.unwrap();

    let queue = app
        .admin
        .list_leads("open-arms", &LeadQuery::default())
        .await
        .unwrap()
        .items;
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
        .unwrap()
        .items;
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].name, "Before Change");
    assert_eq!(spam.len(), 1, "the new keyword applies at once");
    assert_eq!(spam[0].name, "After Change");
    assert_eq!(
        spam[0].sla_due_at - spam[0].created_at,
        Duration::hours(2),
        "the new SLA applies at once"
    );
}

#[tokio::test]
async fn a_tenant_whose_deletion_started_answers_410_on_the_next_ingest() {
    let app = spawn().await;
    app.tenant("Open Arms", Tier::Pro).await;
    let k = app.form_key("open-arms", None).await;
    assert_eq!(ingest_status(&app, &k.key, "Before").await, 201);
    app.admin.delete_tenant("open-arms").await.unwrap();
    assert_eq!(ingest_status(&app, &k.key, "After").await, 410);
}

/// Changes this server did not make (another server on the same database,
/// the CLI) are not heard: the store's write refuses what it must anyway.
#[tokio::test]
async fn changes_made_elsewhere_are_refused_by_the_write_even_when_remembered() {
    let app = spawn().await;
    let tenant = app.tenant("Open Arms", Tier::Pro).await;
    let revoked = app.form_key("open-arms", None).await;
    let k = app.form_key("open-arms", None).await;
    for (key, name) in [(&revoked.key, "Warm One"), (&k.key, "Warm Two")] {
        assert_eq!(ingest_status(&app, key, name).await, 201);
    }

    app.store
        .revoke_api_key(&Actor::system(), tenant.id, revoked.api_key.id)
        .await
        .unwrap();
    assert_eq!(ingest_status(&app, &revoked.key, "Revoked").await, 401);

    app.store
        .set_tenant_status(&Actor::system(), tenant.id, TenantStatus::Suspended)
        .await
        .unwrap();
    assert_eq!(ingest_status(&app, &k.key, "Suspended").await, 423);
    app.store
        .set_tenant_status(&Actor::system(), tenant.id, TenantStatus::Active)
        .await
        .unwrap();
    assert_eq!(ingest_status(&app, &k.key, "Active Again").await, 201);

    app.store
        .mark_tenant_deleting(&Actor::system(), &tenant, app.state.clock.now())
        .await
        .unwrap();
    assert_eq!(ingest_status(&app, &k.key, "Deleting").await, 410);
}
