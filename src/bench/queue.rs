//! The overdue queue and a filtered page for one tenant, at 10k and at 1M
//! leads over 1k tenants: p50/p99 through the store, the ratio, and the
//! query plan (it must use the tenant-led index).

use std::time::Instant;

use anyhow::Context;
use chrono::{Duration, Utc};
use uuid::Uuid;

use crate::domain::SlaState;
use crate::store::{self, LeadFilter, LeadSort};

pub struct Options {
    pub leads: usize,
    pub tenants: usize,
    pub queries: usize,
}

/// Bulk-loads `leads` leads spread over `tenants` tenants, straight into the
/// tables (this measures queries, not ingest).
async fn load(url: &str, tenants: usize, leads: usize) -> anyhow::Result<Vec<Uuid>> {
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
            // Spread over the last 3 days: some overdue, some at risk, most on track.
            let created = now - (i as i64 * 7919 % (72 * 3_600_000));
            let due = created + 24 * 3_600_000;
            let responded = i % 5 == 0;
            sqlx::query(
                "INSERT INTO leads (tenant_id, id, name, email, message, source, stage, spam, \
                 created_at, updated_at, sla_due_at, at_risk_at, first_response_at, responded) \
                 VALUES (?, ?, ?, ?, 'Quote please', 'form', ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(tenant.to_string())
            .bind(Uuid::now_v7().to_string())
            .bind(format!("Lead {i}"))
            .bind(format!("lead{i}@example.com"))
            .bind(if i % 3 == 0 { "contacted" } else { "new" })
            .bind((i % 50 == 0) as i64)
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
    plan: String,
}

async fn measure(leads: usize, opts: &Options) -> anyhow::Result<Figures> {
    let dir =
        std::env::temp_dir().join(format!("switchboard-queue-{}-{leads}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let url = format!("sqlite://{}", dir.join("queue.db").display());
    let store = store::open(&url).await?;
    let tenants = load(&url, opts.tenants.min(leads), leads).await?;
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
    for q in 0..opts.queries {
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
    let pool = store::sqlite::pool(&url).await?;
    let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(
        "EXPLAIN QUERY PLAN SELECT id FROM leads WHERE tenant_id = ? AND spam = 0 \
         AND responded = 0 AND sla_due_at <= ? ORDER BY responded, sla_due_at, id LIMIT 51",
    )
    .bind(tenants[0].to_string())
    .bind(now.timestamp_millis())
    .fetch_all(&pool)
    .await?;
    pool.close().await;
    drop(store);
    std::fs::remove_dir_all(&dir).ok();
    Ok(Figures {
        overdue: ms(&mut o),
        filtered: ms(&mut f),
        plan: rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("; "),
    })
}

pub async fn run(opts: Options) -> anyhow::Result<()> {
    let small = measure(10_000, &opts).await?;
    let large = measure(opts.leads, &opts).await?;
    println!(
        "queue benchmark: SQLite, {} tenants, {} queries each, page of 50",
        opts.tenants, opts.queries
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
