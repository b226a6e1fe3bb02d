//! PostgreSQL only: concurrent form ingests of one tenant share one
//! statement and one commit (group commit), and still each lead is stored
//! exactly once, with one timeline entry, one audit entry and one event,
//! and the monthly limit is exact.

use std::collections::HashMap;
use std::sync::Arc;

use sqlx::{Connection, Row};
use switchboard::domain::lead::month_key;
use switchboard::domain::Tier;
use switchboard::server::ServerSettings;
use uuid::Uuid;

use crate::common::{lead, postgres_admin_url, spawn_with, TestApp};

/// Per-tenant counts read as the owner (past RLS), straight from the tables.
struct Stored {
    leads: i64,
    /// Distinct transactions the leads were written in.
    transactions: i64,
    timeline: i64,
    audit: i64,
    created_events: i64,
    near_limit_events: i64,
    idempotency_keys: i64,
    usage: i64,
    /// Leads without exactly one audit entry and one `lead.created` event.
    unmatched: i64,
}

async fn stored(app: &TestApp, tenant: Uuid) -> Stored {
    let url = app.owner_url.as_deref().expect("a PostgreSQL test app");
    let mut db = sqlx::PgConnection::connect(url).await.unwrap();
    let row = sqlx::query(
        "SELECT \
           (SELECT count(*) FROM leads WHERE tenant_id = $1) AS leads, \
           (SELECT count(DISTINCT xmin::text) FROM leads WHERE tenant_id = $1) AS transactions, \
           (SELECT count(*) FROM lead_events WHERE tenant_id = $1 AND kind = 'created') AS timeline, \
           (SELECT count(*) FROM audit_events WHERE tenant_id = $1 AND action = 'lead.create') AS audit, \
           (SELECT count(*) FROM events WHERE tenant_id = $1 AND kind = 'lead.created') AS created_events, \
           (SELECT count(*) FROM events WHERE tenant_id = $1 AND kind = 'usage.near_limit') AS near_limit_events, \
           (SELECT count(*) FROM idempotency_keys WHERE tenant_id = $1) AS idempotency_keys, \
           (SELECT coalesce(max(count), 0)::bigint FROM lead_usage WHERE tenant_id = $1 AND month = $2) AS usage, \
           (SELECT count(*) FROM leads l WHERE l.tenant_id = $1 AND ( \
              (SELECT count(*) FROM audit_events a WHERE a.tenant_id = l.tenant_id \
                 AND a.resource_id = l.id::text) <> 1 \
              OR (SELECT count(*) FROM events e WHERE e.tenant_id = l.tenant_id \
                 AND e.kind = 'lead.created' AND e.data->'lead'->>'id' = l.id::text) <> 1)) AS unmatched",
    )
    .bind(tenant)
    .bind(month_key(chrono::Utc::now()))
    .fetch_one(&mut db)
    .await
    .unwrap();
    let get = |c: &str| row.try_get::<i64, _>(c).unwrap();
    Stored {
        leads: get("leads"),
        transactions: get("transactions"),
        timeline: get("timeline"),
        audit: get("audit"),
        created_events: get("created_events"),
        near_limit_events: get("near_limit_events"),
        idempotency_keys: get("idempotency_keys"),
        usage: get("usage"),
        unmatched: get("unmatched"),
    }
}

/// 100 idempotency keys, each posted twice at once: 100 leads, each
/// acknowledged twice with the same id.
async fn retries_race(app: &TestApp) -> (Uuid, HashMap<Uuid, usize>) {
    let t = app.tenant("Retries", Tier::Pro).await;
    let key = Arc::new(app.ingest_key(&t.slug).await);
    let mut tasks = Vec::new();
    for i in 0..200 {
        let (client, key) = (app.anon(), Arc::clone(&key));
        tasks.push(tokio::spawn(async move {
            let n = i / 2;
            let body = lead(&format!("Retry {n}"));
            client
                .ingest_lead(&key, &body, Some(&format!("form-{n}")))
                .await
        }));
    }
    let mut ids = HashMap::new();
    for task in tasks {
        let receipt = task.await.unwrap().expect("every retry is acknowledged");
        *ids.entry(receipt.id).or_insert(0) += 1;
    }
    (t.id, ids)
}

/// 150 distinct leads at once into a starter tenant (100 a month) that
/// already holds 20: exactly 80 accepted.
async fn limit_race(app: &TestApp) -> (Uuid, usize, usize) {
    let t = app.tenant("Limited", Tier::Starter).await;
    let key = Arc::new(app.ingest_key(&t.slug).await);
    for i in 0..20 {
        app.anon()
            .ingest_lead(&key, &lead(&format!("Early {i}")), None)
            .await
            .unwrap();
    }
    let mut tasks = Vec::new();
    for i in 0..150 {
        let (client, key) = (app.anon(), Arc::clone(&key));
        tasks.push(tokio::spawn(async move {
            client
                .ingest_lead(&key, &lead(&format!("Racer {i}")), Some(&format!("r-{i}")))
                .await
        }));
    }
    let (mut ok, mut limited) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => ok += 1,
            Err(e) => {
                assert_eq!(e.status(), Some(402), "{e}");
                limited += 1;
            }
        }
    }
    (t.id, ok, limited)
}

#[tokio::test]
async fn concurrent_ingests_share_commits_without_losing_or_doubling_a_lead() {
    if postgres_admin_url().is_none() {
        eprintln!("skipped: set SWITCHBOARD_TEST_DATABASE_URL to run the PostgreSQL tests");
        return;
    }
    let app = spawn_with(ServerSettings {
        ingest_per_minute: 100_000,
        ingest_burst: 10_000,
        // The race is for the month's limit, not the per-minute ones.
        tenant_rate_limits: false,
        ..ServerSettings::default()
    })
    .await;
    // Both tenants at once: their groups run side by side and never mix.
    let ((retried, ids), (limited_tenant, ok, refused)) =
        tokio::join!(retries_race(&app), limit_race(&app));

    assert_eq!(ids.len(), 100, "one lead per idempotency key");
    assert!(
        ids.values().all(|n| *n == 2),
        "each lead acknowledged twice"
    );
    let s = stored(&app, retried).await;
    assert_eq!(
        (
            s.leads,
            s.timeline,
            s.audit,
            s.created_events,
            s.idempotency_keys,
            s.usage
        ),
        (100, 100, 100, 100, 100, 100)
    );
    assert_eq!(
        s.unmatched, 0,
        "each lead has one audit entry and one event"
    );
    assert!(
        s.transactions < s.leads,
        "200 concurrent ingests were committed one by one ({} transactions)",
        s.transactions
    );

    assert_eq!((ok, refused), (80, 70), "the limit is exact");
    let s = stored(&app, limited_tenant).await;
    assert_eq!(
        (s.leads, s.timeline, s.audit, s.created_events, s.usage),
        (100, 100, 100, 100, 100)
    );
    assert_eq!(
        s.idempotency_keys, 80,
        "refused leads keep no idempotency key"
    );
    assert_eq!(s.unmatched, 0);
    assert_eq!(
        s.near_limit_events, 2,
        "one warning at 80 %, one at the limit"
    );
}
