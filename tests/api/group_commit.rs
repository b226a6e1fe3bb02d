//! PostgreSQL only: concurrent form ingests, of one tenant or of many,
//! share one statement and one commit (group commit, `sb_ingest_batch`),
//! and still each lead is stored exactly once, with one timeline entry, one
//! audit entry and one event, and the monthly limit is exact. The function
//! itself writes only into the tenant an item names, with that tenant's own
//! valid key, and decides again when another transaction commits one of its
//! idempotency keys under it.

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
    // Both tenants at once: their ingests share groups, each decided apart.
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

/// Ten tenants, twenty leads each, all at once: the groups hold leads of
/// several tenants, and each tenant's rows and count are exact.
#[tokio::test]
async fn concurrent_ingests_of_many_tenants_share_commits_and_stay_apart() {
    if postgres_admin_url().is_none() {
        eprintln!("skipped: set SWITCHBOARD_TEST_DATABASE_URL to run the PostgreSQL tests");
        return;
    }
    let app = spawn_with(ServerSettings {
        ingest_per_minute: 100_000,
        ingest_burst: 10_000,
        tenant_rate_limits: false,
        ..ServerSettings::default()
    })
    .await;
    let mut tenants = Vec::new();
    for t in 0..10 {
        // Half with a monthly limit (their counters are locked up front),
        // half without (counted at the end).
        let tier = if t % 2 == 0 {
            Tier::Pro
        } else {
            Tier::Enterprise
        };
        let tenant = app.tenant(&format!("Many {t}"), tier).await;
        let key = Arc::new(app.ingest_key(&tenant.slug).await);
        tenants.push((tenant.id, key));
    }
    let mut tasks = Vec::new();
    for i in 0..20 {
        for (t, (_, key)) in tenants.iter().enumerate() {
            let (client, key) = (app.anon(), Arc::clone(key));
            tasks.push(tokio::spawn(async move {
                client
                    .ingest_lead(
                        &key,
                        &lead(&format!("Many {t}-{i}")),
                        Some(&format!("m-{i}")),
                    )
                    .await
            }));
        }
    }
    let mut ids = std::collections::HashSet::new();
    for task in tasks {
        let receipt = task.await.unwrap().expect("every ingest is acknowledged");
        assert!(ids.insert(receipt.id), "one lead acknowledged twice");
    }
    assert_eq!(ids.len(), 200);
    for (tenant, _) in &tenants {
        let s = stored(&app, *tenant).await;
        assert_eq!(
            (
                s.leads,
                s.timeline,
                s.audit,
                s.created_events,
                s.idempotency_keys,
                s.usage,
                s.unmatched
            ),
            (20, 20, 20, 20, 20, 20, 0),
            "the same idempotency keys in ten tenants are ten tenants' keys"
        );
    }
    let url = app.owner_url.as_deref().expect("a PostgreSQL test app");
    let mut db = sqlx::PgConnection::connect(url).await.unwrap();
    let (transactions, widest): (i64, i64) = sqlx::query_as(
        "SELECT count(*), max(tenants) FROM \
           (SELECT count(DISTINCT tenant_id) AS tenants FROM leads GROUP BY xmin::text) t",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert!(
        transactions < 200,
        "200 concurrent ingests were committed one by one"
    );
    assert!(
        widest > 1,
        "no commit held the leads of more than one tenant ({transactions} transactions)"
    );
}

/// Another transaction holds one of the ingest's idempotency keys,
/// uncommitted, when the ingest claims it: if it commits, the ingest is a
/// replay of its lead; if it rolls back, the ingest creates the lead.
#[tokio::test]
async fn an_idempotency_key_committed_under_an_ingest_makes_it_a_replay() {
    if postgres_admin_url().is_none() {
        eprintln!("skipped: set SWITCHBOARD_TEST_DATABASE_URL to run the PostgreSQL tests");
        return;
    }
    let app = spawn_with(ServerSettings::default()).await;
    let t = app.tenant("Racy", Tier::Pro).await;
    let key = app.ingest_key(&t.slug).await;
    let first = app
        .anon()
        .ingest_lead(&key, &lead("Already here"), None)
        .await
        .unwrap();
    let body = lead("Raced");
    let body_hash = switchboard::domain::secret::hash(&serde_json::to_string(&body).unwrap());
    let url = app.owner_url.clone().expect("a PostgreSQL test app");

    for commit in [true, false] {
        let idem = format!("raced-{commit}");
        let mut other = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query("BEGIN").execute(&mut other).await.unwrap();
        sqlx::query(
            "INSERT INTO idempotency_keys (tenant_id, key, body_hash, lead_id, created_at) \
             VALUES ($1, $2, $3, $4, now())",
        )
        .bind(t.id)
        .bind(&idem)
        .bind(&body_hash)
        .bind(first.id)
        .execute(&mut other)
        .await
        .unwrap();
        let (client, key, body, idem2) = (app.anon(), key.clone(), body.clone(), idem.clone());
        let ingest =
            tokio::spawn(async move { client.ingest_lead(&key, &body, Some(&idem2)).await });
        // Wait until the ingest waits on the uncommitted key.
        let mut watcher = sqlx::PgConnection::connect(&url).await.unwrap();
        let mut waiting = false;
        for _ in 0..100 {
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_locks WHERE NOT granted")
                .fetch_one(&mut watcher)
                .await
                .unwrap();
            if n > 0 {
                waiting = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(waiting, "the ingest never waited on the other transaction");
        let end = if commit { "COMMIT" } else { "ROLLBACK" };
        sqlx::query(end).execute(&mut other).await.unwrap();
        let receipt = ingest.await.unwrap().expect("the ingest is acknowledged");
        let stored: (i64, Option<Uuid>) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM leads WHERE tenant_id = $1), \
                    (SELECT lead_id FROM idempotency_keys WHERE tenant_id = $1 AND key = $2)",
        )
        .bind(t.id)
        .bind(&idem)
        .fetch_one(&mut watcher)
        .await
        .unwrap();
        if commit {
            assert_eq!(receipt.id, first.id, "a replay of the committed key's lead");
            assert_eq!(stored, (1, Some(first.id)), "no lead was added");
        } else {
            assert_ne!(receipt.id, first.id);
            assert_eq!(stored, (2, Some(receipt.id)), "the ingest claimed the key");
        }
    }
    let s = stored(&app, t.id).await;
    assert_eq!(
        (s.leads, s.usage, s.created_events, s.unmatched),
        (2, 2, 2, 0)
    );
}

/// One item of `sb_ingest_batch`'s input, as the server writes it: a lead
/// of `tenant` that came with the key `key`.
fn batch_item(ord: i32, tenant: Uuid, key: Uuid) -> serde_json::Value {
    let id = Uuid::now_v7();
    serde_json::json!({
        "ord": ord, "tenant_id": tenant, "month": month_key(chrono::Utc::now()),
        "id": id, "key_id": key, "counts": true, "lead_limit": 100,
        "name": "Forged", "message": "A lead written by the test", "source": "form",
        "stage": "new", "spam": false,
        "utm": {}, "fields": {}, "created_at": chrono::Utc::now(),
        "updated_at": chrono::Utc::now(), "sla_due_at": chrono::Utc::now(),
        "at_risk_at": chrono::Utc::now(), "timeline_id": Uuid::now_v7(),
        "audit_id": Uuid::now_v7(), "workflow_id": Uuid::now_v7(),
        "timeline": {}, "audit": {}, "event": { "lead": { "id": id } }
    })
}

/// The function behind the ingest, called straight as the application's
/// database role: an item gets nothing written into a tenant that is not
/// the one its key belongs to, nor into a suspended tenant or one being
/// deleted, and a forged item cannot borrow another tenant's key.
#[tokio::test]
async fn the_batch_function_writes_only_with_the_named_tenants_own_valid_key() {
    if postgres_admin_url().is_none() {
        eprintln!("skipped: set SWITCHBOARD_TEST_DATABASE_URL to run the PostgreSQL tests");
        return;
    }
    let app = spawn_with(ServerSettings::default()).await;
    let a = app.tenant("Key owner", Tier::Pro).await;
    let b = app.tenant("Victim", Tier::Pro).await;
    let suspended = app.tenant("Paused", Tier::Pro).await;
    let doomed = app.tenant("Doomed", Tier::Pro).await;
    let mut owner = sqlx::PgConnection::connect(app.owner_url.as_deref().unwrap())
        .await
        .unwrap();
    let mut keys = HashMap::new();
    for t in [&a, &b, &suspended, &doomed] {
        app.ingest_key(&t.slug).await;
        let id: Uuid = sqlx::query_scalar("SELECT id FROM api_keys WHERE tenant_id = $1")
            .bind(t.id)
            .fetch_one(&mut owner)
            .await
            .unwrap();
        keys.insert(t.id, id);
    }
    sqlx::query("UPDATE tenants SET status = 'suspended' WHERE id = $1")
        .bind(suspended.id)
        .execute(&mut owner)
        .await
        .unwrap();
    sqlx::query("UPDATE tenants SET deleting_at = now() WHERE id = $1")
        .bind(doomed.id)
        .execute(&mut owner)
        .await
        .unwrap();
    let item = batch_item;
    let items = serde_json::json!([
        item(0, b.id, keys[&a.id]),
        item(1, suspended.id, keys[&suspended.id]),
        item(2, doomed.id, keys[&doomed.id]),
        item(3, Uuid::now_v7(), keys[&a.id]),
    ]);
    let mut app_role = sqlx::PgConnection::connect(&app.database_url)
        .await
        .unwrap();
    // The signature servers call since 0029, and 0028's, kept for servers
    // of the previous version during an upgrade.
    for call in [
        "SELECT ord, outcome FROM sb_ingest_batch(now(), $1, true) ORDER BY ord",
        "SELECT ord, outcome FROM sb_ingest_batch(now(), $1) ORDER BY ord",
    ] {
        let outcomes: Vec<(i32, String)> = sqlx::query_as(call)
            .bind(&items)
            .fetch_all(&mut app_role)
            .await
            .unwrap();
        assert_eq!(
            outcomes,
            vec![
                (0, "key".to_string()),
                (1, "suspended".to_string()),
                (2, "deleted".to_string()),
                (3, "deleted".to_string()),
            ],
            "{call}"
        );
    }
    for t in [&a, &b, &suspended, &doomed] {
        let s = stored(&app, t.id).await;
        assert_eq!(
            (s.leads, s.usage, s.created_events),
            (0, 0, 0),
            "{}",
            t.name
        );
    }
}

/// The ingest announces its events to other processes after its commit
/// (not inside it, where NOTIFY's lock would line up every ingest's
/// commit): a listener, as another server's, hears of every tenant's last
/// event, with the payload the in-commit trigger sends; and the function
/// the server calls sends nothing itself.
#[tokio::test]
async fn ingested_events_are_announced_to_other_processes_after_the_commit() {
    if postgres_admin_url().is_none() {
        eprintln!("skipped: set SWITCHBOARD_TEST_DATABASE_URL to run the PostgreSQL tests");
        return;
    }
    let app = spawn_with(ServerSettings::default()).await;
    let mut listener = sqlx::postgres::PgListener::connect(&app.database_url)
        .await
        .unwrap();
    listener.listen("switchboard_events").await.unwrap();
    let mut tenants = Vec::new();
    for name in ["Heard One", "Heard Two"] {
        let t = app.tenant(name, Tier::Pro).await;
        let key = app.ingest_key(&t.slug).await;
        tenants.push((t.id, key));
    }
    let client = switchboard::api::Client::new(&app.url).unwrap();
    for (_, key) in &tenants {
        for i in 0..3 {
            client
                .ingest_lead(key, &lead(&format!("Heard {i}")), None)
                .await
                .unwrap();
        }
    }
    let mut owner = sqlx::PgConnection::connect(app.owner_url.as_deref().unwrap())
        .await
        .unwrap();
    let mut last = HashMap::new();
    for (tenant, _) in &tenants {
        let id: i64 = sqlx::query_scalar(
            "SELECT max(id) FROM events WHERE tenant_id = $1 AND kind = 'lead.created'",
        )
        .bind(tenant)
        .fetch_one(&mut owner)
        .await
        .unwrap();
        last.insert(*tenant, id);
    }
    let mut waiting: Vec<String> = last.iter().map(|(t, id)| format!("{t}:{id}")).collect();
    let heard = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while !waiting.is_empty() {
            let n = listener.recv().await.unwrap();
            let payload = n.payload().to_string();
            // Every wake-up names a tenant and one of its events.
            let (tenant, id) = payload.split_once(':').expect("<tenant>:<event id>");
            let (tenant, id): (Uuid, i64) = (tenant.parse().unwrap(), id.parse().unwrap());
            if let Some(max) = last.get(&tenant) {
                assert!(id <= *max, "{payload} names an event past {max}");
            }
            waiting.retain(|w| *w != payload);
        }
    })
    .await;
    assert!(heard.is_ok(), "no wake-up for the last events within 10 s");

    // The function itself: asked to leave the announcing to the server, it
    // sends nothing at its commit; 0028's signature still announces there.
    let (tenant, _) = tenants[0];
    let key: Uuid = sqlx::query_scalar("SELECT id FROM api_keys WHERE tenant_id = $1")
        .bind(tenant)
        .fetch_one(&mut owner)
        .await
        .unwrap();
    let mut app_role = sqlx::PgConnection::connect(&app.database_url)
        .await
        .unwrap();
    let (outcome, quiet): (String, Option<i64>) =
        sqlx::query_as("SELECT outcome, event_id FROM sb_ingest_batch(now(), $1, true)")
            .bind(serde_json::json!([batch_item(0, tenant, key)]))
            .fetch_one(&mut app_role)
            .await
            .unwrap();
    assert_eq!(outcome, "created");
    let quiet = quiet.expect("the created lead's event id");
    let (outcome,): (String,) = sqlx::query_as("SELECT outcome FROM sb_ingest_batch(now(), $1)")
        .bind(serde_json::json!([batch_item(0, tenant, key)]))
        .fetch_one(&mut app_role)
        .await
        .unwrap();
    assert_eq!(outcome, "created");
    let loud: i64 = sqlx::query_scalar(
        "SELECT max(id) FROM events WHERE tenant_id = $1 AND kind = 'lead.created'",
    )
    .bind(tenant)
    .fetch_one(&mut owner)
    .await
    .unwrap();
    assert!(loud > quiet);
    // Notifications arrive in commit order: the quiet call's would come
    // before the loud one's.
    let (quiet, loud) = (format!("{tenant}:{quiet}"), format!("{tenant}:{loud}"));
    let heard = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            let payload = listener.recv().await.unwrap().payload().to_string();
            assert_ne!(payload, quiet, "the call that was to stay quiet announced");
            if payload == loud {
                return;
            }
        }
    })
    .await;
    assert!(
        heard.is_ok(),
        "0028's signature announced nothing within 10 s"
    );
}
