//! PostgreSQL only (run when `SWITCHBOARD_TEST_DATABASE_URL` is set): the
//! database enforces tenant isolation by itself, refuses to be served by a
//! role that could see past it, and several servers share one database
//! without breaking the atomic rules, live events or the SLA sweep.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use sqlx::{Connection, Row};
use switchboard::api::Client;
use switchboard::domain::lead::{at_risk_from, month_key, DEFAULT_AT_RISK_PERCENT};
use switchboard::domain::{LeadInput, LeadSource, NewAgent, Sharing, SharingChange, Tier};
use switchboard::server::{self, AppState, ServerSettings};
use switchboard::store::{self, Actor, DynStore, LeadLimit, NewLeadRow};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::common::{lead, postgres_admin_url, spawn_with, PgDatabase, TestApp};

/// Every tenant-owned table, as the migrations define them.
const TENANT_TABLES: [&str; 33] = [
    "memberships",
    "invitations",
    "api_keys",
    "audit_events",
    "leads",
    "lead_events",
    "events",
    "outbox",
    "mail_quota",
    "lead_usage",
    "idempotency_keys",
    "agents",
    "agent_versions",
    "agent_shares",
    "workspaces",
    "playground_sessions",
    "playground_messages",
    "workflows",
    "workflow_steps",
    "webhook_endpoints",
    "webhook_deliveries",
    "webhook_attempts",
    "knowledge_documents",
    "knowledge_chunks",
    "agent_knowledge",
    "eval_sets",
    "eval_cases",
    "eval_runs",
    "eval_results",
    "agent_library_seeds",
    "rate_windows",
    "rate_overrides",
    "tenant_usage",
];

fn skip() -> bool {
    if postgres_admin_url().is_none() {
        eprintln!("skipped: set SWITCHBOARD_TEST_DATABASE_URL to run the PostgreSQL tests");
        return true;
    }
    false
}

fn generous() -> ServerSettings {
    ServerSettings {
        ingest_per_minute: 100_000,
        ingest_burst: 10_000,
        ..ServerSettings::default()
    }
}

async fn owner(app: &TestApp) -> sqlx::PgConnection {
    let url = app.owner_url.as_deref().expect("a PostgreSQL test app");
    sqlx::PgConnection::connect(url).await.unwrap()
}

#[tokio::test]
async fn every_tenant_table_has_forced_rls_a_policy_and_tenant_led_keys() {
    if skip() {
        return;
    }
    let app = spawn_with(generous()).await;
    let mut db = owner(&app).await;
    let rows = sqlx::query(
        "SELECT c.relname::text AS name, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced, \
           (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid \
              AND p.polname = 'tenant_isolation') AS policies, \
           (SELECT a.attname::text FROM pg_index i JOIN pg_attribute a \
              ON a.attrelid = c.oid AND a.attnum = i.indkey[0] \
             WHERE i.indrelid = c.oid AND i.indisprimary) AS pk_first \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND c.relkind = 'r' AND EXISTS ( \
           SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid \
             AND a.attname = 'tenant_id' AND NOT a.attisdropped) \
         ORDER BY 1",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    let mut names = Vec::new();
    for r in &rows {
        let name: String = r.get("name");
        assert!(r.get::<bool, _>("rls"), "{name}: RLS not enabled");
        assert!(r.get::<bool, _>("forced"), "{name}: RLS not forced");
        assert!(r.get::<i64, _>("policies") >= 1, "{name}: no tenant policy");
        assert_eq!(
            r.get::<Option<String>, _>("pk_first").as_deref(),
            Some("tenant_id"),
            "{name}: primary key not led by tenant_id"
        );
        names.push(name);
    }
    let mut expected: Vec<String> = TENANT_TABLES.iter().map(|t| t.to_string()).collect();
    expected.sort();
    assert_eq!(names, expected);
    // Usage reports measure every tenant table: a new one cannot be left out.
    let mut measured: Vec<String> = switchboard::store::usage::USAGE_FAMILIES
        .iter()
        .map(|(t, _)| t.to_string())
        .collect();
    measured.sort();
    assert_eq!(measured, expected, "store::usage::USAGE_FAMILIES");

    // Foreign keys between tenant tables carry the tenant.
    let fks: Vec<(String, bool)> = sqlx::query_as(
        "SELECT con.conname::text, EXISTS (SELECT 1 FROM pg_attribute a \
            WHERE a.attrelid = con.conrelid AND a.attnum = ANY (con.conkey) \
              AND a.attname = 'tenant_id') \
         FROM pg_constraint con JOIN pg_class r ON r.oid = con.confrelid \
         WHERE con.contype = 'f' AND r.relname::text = ANY ($1)",
    )
    .bind(TENANT_TABLES.map(String::from).to_vec())
    .fetch_all(&mut db)
    .await
    .unwrap();
    assert!(!fks.is_empty());
    for (name, has_tenant) in fks {
        assert!(has_tenant, "{name} does not include tenant_id");
    }
}

#[tokio::test]
async fn a_forgotten_where_still_sees_and_touches_only_the_set_tenant() {
    if skip() {
        return;
    }
    let app = spawn_with(generous()).await;
    let a = app.tenant("Alpha", Tier::Pro).await;
    let b = app.tenant("Beta", Tier::Pro).await;
    for t in [&a, &b] {
        let key = app.ingest_key(&t.slug).await;
        for i in 0..3 {
            app.anon()
                .ingest_lead(&key, &lead(&format!("{} {i}", t.name)), None)
                .await
                .unwrap();
        }
    }
    // Raw SQL as the application role, the way a buggy query would run.
    let mut db = sqlx::PgConnection::connect(&app.database_url)
        .await
        .unwrap();

    // No tenant set: nothing at all.
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM leads")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(n, 0, "rows visible without a tenant");

    let mut tx = db.begin().await.unwrap();
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(a.id.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    let seen: Vec<Uuid> = sqlx::query_scalar("SELECT tenant_id FROM leads")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().all(|t| *t == a.id), "{seen:?}");
    for table in TENANT_TABLES {
        // The platform's global agents (the starter library) are shared
        // with every tenant on purpose, read-only; nothing else may show.
        let shared = match table {
            "agents" => " AND sharing <> 'global'",
            "agent_versions" => {
                " AND agent_id NOT IN (SELECT id FROM agents WHERE sharing = 'global')"
            }
            _ => "",
        };
        let foreign: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM {table} WHERE tenant_id <> $1{shared}"
        ))
        .bind(a.id)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        assert_eq!(foreign, 0, "{table} shows another tenant's rows");
    }
    let hit = sqlx::query("UPDATE leads SET name = 'hijacked' WHERE tenant_id = $1")
        .bind(b.id)
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(hit.rows_affected(), 0);
    let all = sqlx::query("UPDATE leads SET name = name")
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(all.rows_affected(), 3, "an UPDATE without WHERE stays in A");
    let gone = sqlx::query("DELETE FROM events")
        .execute(&mut *tx)
        .await
        .unwrap();
    assert!(gone.rows_affected() > 0);
    // Moving A's row into B is refused by WITH CHECK.
    let moved = sqlx::query("UPDATE api_keys SET tenant_id = $1")
        .bind(b.id)
        .execute(&mut *tx)
        .await;
    assert_rls_violation(moved);
    tx.rollback().await.unwrap();

    let mut tx = db.begin().await.unwrap();
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(a.id.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    let planted =
        sqlx::query("INSERT INTO lead_usage (tenant_id, month, count) VALUES ($1, '2000-01', 0)")
            .bind(b.id)
            .execute(&mut *tx)
            .await;
    assert_rls_violation(planted);
    tx.rollback().await.unwrap();

    // The setting is transaction-local: the pooled connection forgets it.
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM leads")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(n, 0);

    // And B still has its own leads, untouched.
    let mut owner = owner(&app).await;
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM leads WHERE tenant_id = $1")
        .bind(b.id)
        .fetch_all(&mut owner)
        .await
        .unwrap();
    assert_eq!(names.len(), 3);
    assert!(names.iter().all(|n| n.starts_with("Beta")));
}

fn assert_rls_violation<T: std::fmt::Debug>(result: Result<T, sqlx::Error>) {
    let err = result.expect_err("RLS let a write into another tenant through");
    let code = err
        .as_database_error()
        .and_then(|d| d.code().map(|c| c.to_string()));
    assert_eq!(code.as_deref(), Some("42501"), "{err}");
}

#[tokio::test]
async fn serve_refuses_roles_that_bypass_rls_and_unmigrated_databases() {
    let Some(admin) = postgres_admin_url() else {
        skip();
        return;
    };
    let db = PgDatabase::create(&admin).await;
    let err = store::open(&db.owner_url).await.err().unwrap();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("superuser") || msg.contains("owns the tables"),
        "{msg}"
    );
    assert!(store::open(&db.app_url).await.is_ok());

    // A database nobody migrated: the app role is told what to run.
    let bare = format!("sb_test_{}", Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {bare}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let app_url = db.app_url.replace(&db.name, &bare);
    let msg = format!("{:#}", store::open(&app_url).await.err().unwrap());
    // Best effort, like every test database.
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {bare} WITH (FORCE)"))
        .execute(&mut conn)
        .await;
    assert!(msg.contains("switchboard migrate"), "{msg}");
}

/// A second server process over the same database: its own store (pool and
/// LISTEN connection), state and port.
struct SecondServer {
    url: String,
    store: DynStore,
    _stop: oneshot::Sender<()>,
}

async fn second_server(app: &TestApp) -> SecondServer {
    let store = store::open(&app.database_url).await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let state = AppState::new(Arc::clone(&store), generous());
    tokio::spawn(server::serve_on(listener, state, async {
        let _ = stopped.await;
    }));
    SecondServer {
        url,
        store,
        _stop: stop,
    }
}

#[tokio::test]
async fn two_servers_share_limits_live_events_and_the_sla_sweep() {
    if skip() {
        return;
    }
    let one = spawn_with(generous()).await;
    let two = second_server(&one).await;

    // 1. The last lead of the month, raced by 200 ingests across both servers.
    let starter = one.tenant("Tight", Tier::Starter).await;
    let limit = Tier::Starter.lead_limit().unwrap();
    let mut db = owner(&one).await;
    sqlx::query("INSERT INTO lead_usage (tenant_id, month, count) VALUES ($1, $2, $3)")
        .bind(starter.id)
        .bind(month_key(Utc::now()))
        .bind(limit as i32 - 1)
        .execute(&mut db)
        .await
        .unwrap();
    // The race is for the month's limit, not the per-minute one.
    one.admin
        .set_tenant_limits(&starter.slug, &unlimited_ingest())
        .await
        .unwrap();
    let key = Arc::new(one.ingest_key(&starter.slug).await);
    let bases = [one.url.clone(), two.url.clone()];
    let mut tasks = Vec::new();
    for i in 0..200 {
        let client = Client::new(&bases[i % 2]).unwrap();
        let key = Arc::clone(&key);
        tasks.push(tokio::spawn(async move {
            client
                .ingest_lead(&key, &lead(&format!("Racer {i}")), None)
                .await
        }));
    }
    let mut accepted = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => accepted += 1,
            Err(e) => assert_eq!(e.status(), Some(402), "{e:?}"),
        }
    }
    assert_eq!(accepted, 1, "exactly one ingest fits under the limit");
    let usage = one.admin.usage(&starter.slug).await.unwrap();
    assert_eq!(usage.leads_this_month, limit);

    // 2. A lead ingested through server 2 reaches a subscriber on server 1.
    let open = one.tenant("Open Arms", Tier::Pro).await;
    let key = one.ingest_key(&open.slug).await;
    let mut stream = one.admin.events(&open.slug, None).await.unwrap();
    let via_two = Client::new(&two.url)
        .unwrap()
        .ingest_lead(&key, &lead("Cross Process"), None)
        .await
        .unwrap();
    let event = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("the event crosses processes within 10 s")
        .unwrap()
        .unwrap();
    assert_eq!(event.kind, "lead.created");
    assert_eq!(event.lead().unwrap().id, via_two.id);

    // 3. Both servers sweep at once: each alert is emitted exactly once.
    let now = Utc::now();
    let mut inserts = Vec::new();
    for i in 0..300 {
        let store = if i % 2 == 0 {
            Arc::clone(&one.store)
        } else {
            Arc::clone(&two.store)
        };
        let tenant = open.id;
        inserts.push(tokio::spawn(async move {
            let row = NewLeadRow {
                input: LeadInput {
                    name: format!("Due {i}"),
                    message: "Please call back".into(),
                    ..Default::default()
                },
                source: LeadSource::Api,
                stage: "new".into(),
                spam_reason: None,
                sla_due_at: now + chrono::Duration::hours(1),
                sla_at_risk_at: at_risk_from(
                    now,
                    now + chrono::Duration::hours(1),
                    DEFAULT_AT_RISK_PERCENT,
                ),
                received_at: None,
                workspace_id: None,
                import_key: None,
            };
            let limit = LeadLimit {
                tier: Tier::Pro,
                limit: None,
            };
            store
                .insert_lead(&Actor::system(), tenant, row, limit, None, now)
                .await
        }));
    }
    for t in inserts {
        t.await.unwrap().unwrap();
    }
    let due: i64 =
        sqlx::query_scalar("SELECT count(*) FROM leads WHERE NOT responded AND NOT spam")
            .fetch_one(&mut db)
            .await
            .unwrap();
    assert!(due > 300);
    let later = now + chrono::Duration::days(2);
    let (a, b) = tokio::join!(one.store.sla_sweep(later), two.store.sla_sweep(later));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(
        (a.breached + b.breached) as i64,
        due,
        "server 1 {a:?}, server 2 {b:?}"
    );
    assert_eq!(
        a.at_risk + b.at_risk,
        0,
        "overdue leads get only the breach"
    );
    let alerts: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE kind = 'sla.breached'")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(alerts, due);
    let mail: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(mail, due);
    let again = two.store.sla_sweep(later).await.unwrap();
    assert_eq!((again.at_risk, again.breached), (0, 0));
}

#[tokio::test]
async fn shared_agents_are_readable_through_rls_but_only_their_owner_writes_them() {
    if skip() {
        return;
    }
    let app = spawn_with(generous()).await;
    let a = app.tenant("Alpha", Tier::Pro).await;
    let b = app.tenant("Beta", Tier::Pro).await;
    let new_agent = |name: &str| NewAgent {
        name: name.into(),
        description: None,
        system_prompt: "Answer briefly.".into(),
        model: "local/smollm2-135m".into(),
        temperature: None,
        max_tokens: None,
        ..Default::default()
    };
    let private = app
        .admin
        .create_agent("beta", &new_agent("Private"))
        .await
        .unwrap();
    let selective = app
        .admin
        .create_agent("beta", &new_agent("Shared"))
        .await
        .unwrap();
    let to_gamma = app
        .admin
        .create_agent("beta", &new_agent("Not for A"))
        .await
        .unwrap();
    let global = app
        .admin
        .create_agent("platform", &new_agent("Global"))
        .await
        .unwrap();
    app.tenant("Gamma", Tier::Pro).await;
    for (slug, id, sharing, tenants) in [
        (
            "beta",
            selective.id,
            Sharing::Selective,
            vec!["alpha".to_string()],
        ),
        (
            "beta",
            to_gamma.id,
            Sharing::Selective,
            vec!["gamma".to_string()],
        ),
        ("platform", global.id, Sharing::Global, vec![]),
    ] {
        app.admin
            .share_agent(slug, id, &SharingChange { sharing, tenants })
            .await
            .unwrap();
    }
    // "global" only counts for the platform tenant, even if a row says so.
    let mut owner = owner(&app).await;
    sqlx::query("UPDATE agents SET sharing = 'global' WHERE tenant_id = $1 AND id = $2")
        .bind(b.id)
        .bind(private.id)
        .execute(&mut owner)
        .await
        .unwrap();

    let mut db = sqlx::PgConnection::connect(&app.database_url)
        .await
        .unwrap();
    let mut tx = db.begin().await.unwrap();
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(a.id.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    let mut seen: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM agents")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    seen.sort();
    // The shared one, the platform's global one, and its starter library.
    const PLATFORM_ID: Uuid = switchboard::store::agent_library::PLATFORM_TENANT;
    let library: Vec<Uuid> = app
        .admin
        .list_agents("platform")
        .await
        .unwrap()
        .into_iter()
        .filter(|x| x.sharing == Sharing::Global && x.id != global.id)
        .map(|x| x.id)
        .collect();
    assert_eq!(
        library.len(),
        switchboard::store::agent_library::STARTERS.len()
    );
    let mut expected = vec![selective.id, global.id];
    expected.extend(library);
    expected.sort();
    assert_eq!(
        seen, expected,
        "a forgotten WHERE sees only readable agents"
    );
    let versions: Vec<Uuid> = sqlx::query_scalar("SELECT DISTINCT agent_id FROM agent_versions")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert_eq!(versions.len(), expected.len());
    assert!(versions.iter().all(|v| expected.contains(v)));
    let shares: Vec<Uuid> = sqlx::query_scalar("SELECT shared_tenant_id FROM agent_shares")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert_eq!(shares, [a.id], "only the shares naming A");
    // Readable is not writable: every write misses the shared rows.
    for sql in [
        "UPDATE agents SET name = 'hijacked'",
        "UPDATE agents SET use_count = use_count + 1000",
        "UPDATE agent_versions SET system_prompt = 'hijacked'",
        "DELETE FROM agent_shares",
        "DELETE FROM agent_versions",
        "DELETE FROM agents",
    ] {
        let hit = sqlx::query(sql).execute(&mut *tx).await.unwrap();
        assert_eq!(hit.rows_affected(), 0, "{sql}");
    }
    // The one write a user of a shared agent may make, counting a use, goes
    // through sb_record_agent_use: only for agents A may use (not B's
    // private one, whatever its row says, nor the one shared with Gamma).
    for (owner, id, counts) in [
        (PLATFORM_ID, global.id, true),
        (b.id, selective.id, true),
        (b.id, private.id, false),
        (b.id, to_gamma.id, false),
    ] {
        let counted: bool = sqlx::query_scalar("SELECT public.sb_record_agent_use($1, $2, now())")
            .bind(owner)
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        assert_eq!(counted, counts, "{id}");
    }
    let planted = sqlx::query(
        "INSERT INTO agent_shares (tenant_id, agent_id, shared_tenant_id) VALUES ($1, $2, $3)",
    )
    .bind(b.id)
    .bind(private.id)
    .bind(a.id)
    .execute(&mut *tx)
    .await;
    assert_rls_violation(planted);
    tx.rollback().await.unwrap();
}

/// A per-minute ingest limit no test reaches.
pub(crate) fn unlimited_ingest() -> switchboard::domain::usage::RateOverrides {
    switchboard::domain::usage::RateOverrides {
        api_per_minute: None,
        ingest_per_minute: Some(100_000),
    }
}
