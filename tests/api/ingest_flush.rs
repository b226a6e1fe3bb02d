//! PostgreSQL only: the ingest writer's commits do not wait for their WAL
//! flush (so a tenant's locks are free a disk flush sooner); a lead is
//! acknowledged only once the flusher has made its commit durable. When
//! the database refuses the flusher's statement, the leads it could not
//! confirm are answered with an error (a retry with the same
//! Idempotency-Key finds the stored lead), and later commits wait for
//! their own flush.

use sqlx::Connection;
use switchboard::api::ApiError;
use switchboard::domain::Tier;
use switchboard::server::ServerSettings;

use crate::common::{lead, postgres_admin_url, spawn_with, TestApp};

/// The owner takes the flusher's statement from every role of the test's
/// database (function rights are per database).
async fn refuse_flush(app: &TestApp) {
    let url = app.owner_url.as_deref().expect("a PostgreSQL test app");
    let mut db = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::query(
        "REVOKE EXECUTE ON FUNCTION pg_catalog.pg_logical_emit_message(boolean, text, text) \
         FROM PUBLIC",
    )
    .execute(&mut db)
    .await
    .unwrap();
}

/// The tenant's leads by name, read as the owner.
async fn names(app: &TestApp, slug: &str) -> Vec<String> {
    let url = app.owner_url.as_deref().expect("a PostgreSQL test app");
    let mut db = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::query_scalar(
        "SELECT l.name FROM leads l JOIN tenants t ON t.id = l.tenant_id \
          WHERE t.slug = $1 ORDER BY l.name",
    )
    .bind(slug)
    .fetch_all(&mut db)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_lead_is_acknowledged_only_once_its_commit_is_flushed() {
    if postgres_admin_url().is_none() {
        eprintln!("skipped: set SWITCHBOARD_TEST_DATABASE_URL to run the PostgreSQL tests");
        return;
    }
    let app = spawn_with(ServerSettings::default()).await;
    let t = app.tenant("Flushed", Tier::Pro).await;
    let key = app.ingest_key(&t.slug).await;
    let form = app.anon();
    // The writer starts with the first lead, the flush allowed.
    let before = form.ingest_lead(&key, &lead("Before"), None).await.unwrap();

    refuse_flush(&app).await;
    // Committed, but the flush that would make it durable fails: no 201.
    let unconfirmed = form
        .ingest_lead(&key, &lead("Unconfirmed"), Some("unconfirmed"))
        .await
        .expect_err("a lead whose commit was not flushed was acknowledged");
    match &unconfirmed {
        ApiError::Problem(p) => assert_eq!(p.status, 500, "{p:?}"),
        other => panic!("expected the server's problem, got {other}"),
    }
    // The retry finds the lead the writer did store, instead of a second one.
    let retried = form
        .ingest_lead(&key, &lead("Unconfirmed"), Some("unconfirmed"))
        .await
        .unwrap();
    assert_ne!(retried.id, before.id);
    // Later leads commit and flush together, as before the flusher.
    let after = form.ingest_lead(&key, &lead("After"), None).await.unwrap();
    assert_ne!(after.id, retried.id);
    assert_eq!(
        names(&app, &t.slug).await,
        ["After", "Before", "Unconfirmed"],
        "each lead stored once"
    );
}

#[tokio::test]
async fn a_database_that_refuses_the_flush_from_the_start_still_takes_leads() {
    if postgres_admin_url().is_none() {
        eprintln!("skipped: set SWITCHBOARD_TEST_DATABASE_URL to run the PostgreSQL tests");
        return;
    }
    let app = spawn_with(ServerSettings::default()).await;
    let t = app.tenant("Unflushed", Tier::Pro).await;
    let key = app.ingest_key(&t.slug).await;
    refuse_flush(&app).await;
    let form = app.anon();
    for name in ["One", "Two"] {
        form.ingest_lead(&key, &lead(name), Some(name))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let again = form.ingest_lead(&key, &lead("One"), Some("One")).await;
    assert!(again.is_ok(), "the replay: {again:?}");
    assert_eq!(names(&app, &t.slug).await, ["One", "Two"]);
}
