//! The overdue queue and a filtered page for one tenant, and the overdue
//! queue across tenants (every tenant, as a platform admin sees it, and
//! three, as a member of three), at 10k and at 1M leads over 1k tenants:
//! p50/p99 through the store, the ratio, and the query plans (the tenant-led
//! index for one tenant; the cross-tenant walk and merge), on SQLite or
//! PostgreSQL (there with `EXPLAIN (ANALYZE, BUFFERS)`, under RLS).
//!
//! Both sizes give a tenant as many leads, spread over the same three days
//! (the 10k run has proportionally fewer tenants), so a page holds as many
//! rows at 10k as at 1M and the ratio measures the table's size alone.

use std::time::Instant;

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::target::Target;
use crate::domain::{SlaState, TenantRef};
use crate::store::leads::LEAD_COLUMNS;
use crate::store::{self, LeadFilter, LeadSort, TenantView};

pub struct Options {
    pub leads: usize,
    pub tenants: usize,
    pub queries: usize,
}

/// Bulk-loads `leads` leads spread over `tenants` tenants, straight into the
/// tables (this measures queries, not ingest).
async fn load_sqlite(url: &str, tenants: usize, leads: usize) -> anyhow::Result<Vec<Uuid>> {
    let pool = store::sqlite::pool(url).await?;
    let now = Utc::now().timestamp_millis();
    let mut ids = Vec::with_capacity(tenants);
    let mut tx = pool.begin().await?;
    for t in 0..tenants {
        let id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO tenants (id, name, slug, tier, status, is_platform, settings, created_at) \
             VALUES (?, ?, ?, 'enterprise', 'active', 0, '{\"pipeline_stages\":[\"new\",\"contacted\",\"won\"],\"sla_hours\":24,\"spam_keywords\":[],\"manager_email\":null}', ?)",
        )
        .bind(id.to_string())
        .bind(format!("Tenant {t}"))
        .bind(format!("tenant-{t}"))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        ids.push(id);
    }
    tx.commit().await?;
    let per_tx = 20_000;
    let mut done = 0;
    while done < leads {
        let mut tx = pool.begin().await?;
        for i in done..(done + per_tx).min(leads) {
            let tenant = ids[i % tenants];
            // Spread evenly over the last 3 days, whatever the size: some
            // overdue, some at risk, most on track.
            let created = now - spread(i, leads);
            let due = created + 24 * 3_600_000;
            // By the lead's place among its tenant's, so every tenant has
            // the same mix.
            let j = i / tenants;
            let responded = j % 5 == 0;
            sqlx::query(
                "INSERT INTO leads (tenant_id, id, name, email, message, source, stage, spam, \
                 created_at, updated_at, sla_due_at, at_risk_at, first_response_at, responded) \
                 VALUES (?, ?, ?, ?, 'Quote please', 'form', ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(tenant.to_string())
            .bind(Uuid::now_v7().to_string())
            .bind(format!("Lead {i}"))
            .bind(format!("lead{i}@example.com"))
            .bind(if j % 3 == 0 { "contacted" } else { "new" })
            .bind((j % 50 == 0) as i64)
            .bind(created)
            .bind(created)
            .bind(due)
            .bind(due - 6 * 3_600_000)
            .bind(responded.then_some(created + 3_600_000))
            .bind(responded as i64)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        done = (done + per_tx).min(leads);
    }
    sqlx::query("ANALYZE").execute(&pool).await?;
    Ok(ids)
}

/// How long before now lead `i` of `leads` arrived: a permutation of
/// `leads` even steps over three days (7919 is a prime that divides
/// neither 10k nor 1M).
fn spread(i: usize, leads: usize) -> i64 {
    let (i, n) = (i as i64, leads.max(1) as i64);
    (i * 7919 % n) * (72 * 3_600_000) / n
}

/// The same spread as [`load_sqlite`], generated inside PostgreSQL (as the
/// owner, whom row-level security lets write every tenant's rows), then
/// vacuumed and analysed as autovacuum would leave a settled table.
async fn load_postgres(owner_url: &str, tenants: usize, leads: usize) -> anyhow::Result<Vec<Uuid>> {
    let pool = store::postgres::pool(owner_url, 1).await?;
    let ids: Vec<Uuid> = (0..tenants).map(|_| Uuid::now_v7()).collect();
    sqlx::query(
        "INSERT INTO tenants (id, name, slug, tier, status, is_platform, settings, created_at) \
         SELECT id, 'Tenant ' || n, 'tenant-' || n, 'enterprise', 'active', false, \
                '{\"pipeline_stages\":[\"new\",\"contacted\",\"won\"],\"sla_hours\":24,\"spam_keywords\":[],\"manager_email\":null,\"secrets\":{}}', now() \
           FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, n)",
    )
    .bind(&ids)
    .execute(&pool)
    .await
    .context("cannot create the bench tenants")?;
    let now = Utc::now().timestamp_millis();
    let per_statement = 200_000;
    let mut done = 0;
    while done < leads {
        let last = (done + per_statement).min(leads) - 1;
        sqlx::query(
            "INSERT INTO leads (tenant_id, id, name, email, message, source, stage, spam, \
             created_at, updated_at, sla_due_at, at_risk_at, first_response_at, responded) \
             SELECT ($1::uuid[])[(i % $4) + 1], gen_random_uuid(), 'Lead ' || i, \
                    'lead' || i || '@example.com', 'Quote please', 'form', \
                    CASE WHEN j % 3 = 0 THEN 'contacted' ELSE 'new' END, j % 50 = 0, \
                    c, c, c + interval '24 hours', c + interval '18 hours', \
                    CASE WHEN j % 5 = 0 THEN c + interval '1 hour' END, j % 5 = 0 \
               FROM generate_series($2::bigint, $3::bigint) AS i, \
                    LATERAL (SELECT i / $4 AS j, \
                                    to_timestamp(($5::bigint - (i * 7919 % $6) * (72 * 3600000) / $6) \
                                                 / 1000.0) AS c) AS x",
        )
        .bind(&ids)
        .bind(done as i64)
        .bind(last as i64)
        .bind(tenants as i64)
        .bind(now)
        .bind(leads.max(1) as i64)
        .execute(&pool)
        .await
        .context("cannot load the bench leads")?;
        done = last + 1;
    }
    sqlx::query("VACUUM ANALYZE leads").execute(&pool).await?;
    pool.close().await;
    Ok(ids)
}

fn ms(samples: &mut [f64]) -> (f64, f64) {
    samples.sort_by(f64::total_cmp);
    (
        super::percentile(samples, 0.5),
        super::percentile(samples, 0.99),
    )
}

struct Figures {
    overdue: (f64, f64),
    filtered: (f64, f64),
    /// The overdue queue across every tenant, and across three.
    across_all: (f64, f64),
    across_three: (f64, f64),
    plan: String,
}

/// The tenants as a caller who sees every lead of each sees them.
fn views(tenants: &[Uuid]) -> Vec<TenantView> {
    tenants
        .iter()
        .enumerate()
        .map(|(n, id)| TenantView {
            tenant: TenantRef {
                id: *id,
                slug: format!("tenant-{n}"),
                name: format!("Tenant {n}"),
            },
            only_assigned_to: None,
        })
        .collect()
}

/// Tenants for a run of `leads`: as many leads each as the large run's.
fn tenants_for(leads: usize, opts: &Options) -> usize {
    (opts.tenants * leads / opts.leads.max(1)).clamp(1, leads.max(1))
}

async fn measure(
    leads: usize,
    opts: &Options,
    database_url: Option<&str>,
) -> anyhow::Result<Figures> {
    let target = Target::create(database_url).await?;
    let store = store::open(target.serve_url()).await?;
    let n = tenants_for(leads, opts);
    let tenants = match &target {
        Target::Sqlite { url, .. } => load_sqlite(url, n, leads).await?,
        Target::Postgres { owner_url, .. } => load_postgres(owner_url, n, leads).await?,
    };
    let now = Utc::now();
    let overdue = LeadFilter {
        sla: Some(SlaState::Overdue),
        sort: LeadSort::Sla,
        limit: 50,
        ..LeadFilter::default()
    };
    let filtered = LeadFilter {
        stage: Some("contacted".into()),
        sort: LeadSort::Sla,
        limit: 50,
        ..LeadFilter::default()
    };
    let mut o = Vec::with_capacity(opts.queries);
    let mut f = Vec::with_capacity(opts.queries);
    let mut all = Vec::with_capacity(opts.queries);
    let mut three = Vec::with_capacity(opts.queries);
    let every = views(&tenants);
    for q in 0..opts.queries {
        let t = Instant::now();
        store.list_queue(&every, &overdue, now).await?;
        all.push(t.elapsed().as_secs_f64() * 1000.0);
        let start = (q * 3) % every.len();
        let some: Vec<TenantView> = every.iter().cycle().skip(start).take(3).cloned().collect();
        let t = Instant::now();
        store.list_queue(&some, &overdue, now).await?;
        three.push(t.elapsed().as_secs_f64() * 1000.0);
        let tenant = tenants[q % tenants.len()];
        let t = Instant::now();
        store.list_leads(tenant, &overdue, now).await?;
        o.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        store
            .list_leads(tenant, &filtered, now + Duration::zero())
            .await?;
        f.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    drop(store);
    let shown = tenants[1 % tenants.len()];
    let some = &tenants[..3.min(tenants.len())];
    let plan = match &target {
        Target::Sqlite { url, .. } => sqlite_plan(url, shown, &tenants, now).await?,
        Target::Postgres { app_url, .. } => {
            postgres_plans(app_url, shown, &tenants, some, now).await?
        }
    };
    target.remove().await;
    Ok(Figures {
        overdue: ms(&mut o),
        filtered: ms(&mut f),
        across_all: ms(&mut all),
        across_three: ms(&mut three),
        plan,
    })
}

async fn sqlite_plan(
    url: &str,
    tenant: Uuid,
    tenants: &[Uuid],
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    let pool = store::sqlite::pool(url).await?;
    let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(&format!(
        "EXPLAIN QUERY PLAN SELECT {LEAD_COLUMNS} FROM leads WHERE tenant_id = ? AND spam = 0 \
             AND responded = 0 AND sla_due_at <= ? ORDER BY responded, sla_due_at, id LIMIT 51"
    ))
    .bind(tenant.to_string())
    .bind(now.timestamp_millis())
    .fetch_all(&pool)
    .await?;
    // The walk across tenants, as sqlite/queue.rs sends it.
    let ids: Vec<String> = tenants.iter().map(Uuid::to_string).collect();
    let across: Vec<(i64, i64, i64, String)> = sqlx::query_as(
        "EXPLAIN QUERY PLAN SELECT * FROM (SELECT * FROM (SELECT id FROM leads INDEXED BY leads_due \
         WHERE tenant_id IN (SELECT value FROM json_each(?)) AND spam = 0 AND responded = 0 \
         AND sla_due_at <= ? ORDER BY responded, sla_due_at, id LIMIT 51)) LIMIT 51",
    )
    .bind(serde_json::to_string(&ids)?)
    .bind(now.timestamp_millis())
    .fetch_all(&pool)
    .await?;
    pool.close().await;
    let join = |rows: Vec<(i64, i64, i64, String)>| {
        rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("; ")
    };
    Ok(format!(
        "{}\nacross every tenant: {}",
        join(rows),
        join(across)
    ))
}

/// Both queries as the store sends them, as the application role under the
/// tenant (RLS applies), with their run time and buffer use.
async fn postgres_plans(
    app_url: &str,
    tenant: Uuid,
    every: &[Uuid],
    some: &[Uuid],
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    let pool = store::postgres::pool(app_url, 1).await?;
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(tenant.to_string())
        .execute(&mut *tx)
        .await?;
    // Literals: EXPLAIN takes no parameters. Both are values this bench made.
    let at = now.to_rfc3339();
    let queries = [
        (
            "overdue",
            format!(
                "SELECT * FROM leads WHERE tenant_id = '{tenant}' AND spam = false \
                 AND NOT responded AND sla_due_at <= '{at}' \
                 ORDER BY responded, sla_due_at, id LIMIT 51"
            ),
        ),
        (
            "stage",
            format!(
                "SELECT * FROM leads WHERE tenant_id = '{tenant}' AND spam = false \
                 AND stage = 'contacted' ORDER BY responded, sla_due_at, id LIMIT 51"
            ),
        ),
    ];
    let mut out = String::new();
    for (name, sql) in queries {
        let lines: Vec<String> = sqlx::query_scalar(&format!("EXPLAIN (ANALYZE, BUFFERS) {sql}"))
            .fetch_all(&mut *tx)
            .await
            .with_context(|| format!("cannot explain the {name} query"))?;
        out.push_str(&format!("\n{name}:\n  {}", lines.join("\n  ")));
    }
    tx.rollback().await?;
    // Across tenants, as postgres/queue.rs sends it: in a transaction that
    // names them in app.tenant_ids (the SELECT-only policy), no app.tenant_id.
    let list = |ids: &[Uuid]| {
        ids.iter()
            .map(Uuid::to_string)
            .collect::<Vec<_>>()
            .join(",")
    };
    let keys = "SELECT tenant_id, id, responded, sla_due_at FROM leads";
    let open = format!("spam = false AND responded = false AND sla_due_at <= '{at}'");
    let order = "ORDER BY responded, sla_due_at, id";
    // The walk reads the leads whole from leads_due; the merge reads each
    // tenant's keys index-only, then those leads.
    let across = [
        (
            "overdue across every tenant (walk)",
            every,
            format!(
                "SELECT * FROM leads WHERE (tenant_id IN (SELECT unnest('{{{}}}'::uuid[]))) IS TRUE \
                 AND {open} {order} LIMIT 51",
                list(every)
            ),
        ),
        (
            "overdue across three tenants (merge)",
            some,
            format!(
                "SELECT * FROM leads WHERE (tenant_id, id) IN (SELECT k.tenant_id, k.id FROM (\
                 SELECT g.* FROM unnest('{{{}}}'::uuid[]) v(t) CROSS JOIN LATERAL \
                 ({keys} WHERE tenant_id = v.t AND {open} {order} LIMIT 51) g) k \
                 ORDER BY k.responded, k.sla_due_at, k.id LIMIT 51) {order}",
                list(some)
            ),
        ),
    ];
    for (name, ids, sql) in across {
        let mut tx = pool.begin().await?;
        sqlx::query("SELECT set_config('app.tenant_ids', $1, true)")
            .bind(list(ids))
            .execute(&mut *tx)
            .await?;
        let lines: Vec<String> = sqlx::query_scalar(&format!("EXPLAIN (ANALYZE, BUFFERS) {sql}"))
            .fetch_all(&mut *tx)
            .await
            .with_context(|| format!("cannot explain the {name} query"))?;
        // The tenant list is long: show its size, not every id.
        let lines: Vec<String> = lines.into_iter().map(|l| shorten_arrays(&l)).collect();
        out.push_str(&format!("\n{name}:\n  {}", lines.join("\n  ")));
        tx.rollback().await?;
    }
    pool.close().await;
    Ok(out)
}

/// `'{id,id,…}'::uuid[]` literals in a plan line, as `'{N ids}'`.
fn shorten_arrays(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find("'{") {
        let Some(len) = rest[start..].find("}'") else {
            break;
        };
        let inner = &rest[start + 2..start + len];
        out.push_str(&rest[..start]);
        out.push_str(&format!("'{{{} ids}}'", inner.split(',').count()));
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out
}

pub async fn run(opts: Options) -> anyhow::Result<()> {
    run_on(opts, None).await
}

/// [`run`] on PostgreSQL when `database_url` names a role that may create
/// databases (a fresh one is made and dropped for each size); on a temp
/// SQLite file otherwise.
pub async fn run_on(opts: Options, database_url: Option<String>) -> anyhow::Result<()> {
    let database_url = database_url.as_deref();
    let small = measure(10_000, &opts, database_url).await?;
    let large = measure(opts.leads, &opts, database_url).await?;
    let store = if database_url.is_some_and(store::is_postgres) {
        "PostgreSQL (RLS)"
    } else {
        "SQLite"
    };
    println!(
        "queue benchmark: {store}, {} tenants ({} at 10k: as many leads each), {} queries each, page of 50",
        opts.tenants,
        tenants_for(10_000, &opts),
        opts.queries
    );
    println!(
        "{:<10} {:>14} {:>14} {:>14} {:>14}",
        "leads", "overdue p50", "overdue p99", "stage p50", "stage p99"
    );
    for (n, f) in [(10_000, &small), (opts.leads, &large)] {
        println!(
            "{:<10} {:>11.2} ms {:>11.2} ms {:>11.2} ms {:>11.2} ms",
            n, f.overdue.0, f.overdue.1, f.filtered.0, f.filtered.1
        );
    }
    println!("overdue queue across tenants (GET /api/v1/leads?sla=overdue, through the store):");
    println!(
        "{:<10} {:>14} {:>14} {:>14} {:>14}",
        "leads", "all p50", "all p99", "three p50", "three p99"
    );
    for (n, f) in [(10_000, &small), (opts.leads, &large)] {
        println!(
            "{:<10} {:>11.2} ms {:>11.2} ms {:>11.2} ms {:>11.2} ms",
            n, f.across_all.0, f.across_all.1, f.across_three.0, f.across_three.1
        );
    }
    println!("plan at {}: {}", opts.leads, large.plan);
    println!(
        "ratio p99 {}/{}: overdue {:.2}, stage {:.2}",
        opts.leads,
        10_000,
        large.overdue.1 / small.overdue.1.max(0.001),
        large.filtered.1 / small.filtered.1.max(0.001)
    );
    Ok(())
}
