//! Ingest throughput through the real HTTP path (key, validation,
//! idempotency key, audit, event) next to raw single-row insert
//! transactions into the same store with the same durability.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::api::Client;
use crate::domain::LeadInput;
use crate::server::{self, password, AppState, ServerSettings};
use crate::store;

use super::fixture;
/// Other benches take their scratch dirs from here.
pub(super) use super::target::tempfile_dir;
use super::target::Target;

pub struct Options {
    pub clients: usize,
    pub requests: usize,
    /// A PostgreSQL URL of a role that may create databases: the bench runs
    /// in a fresh database there (dropped after). Default: a SQLite file.
    pub database_url: Option<String>,
}

pub async fn run(opts: Options) -> anyhow::Result<()> {
    let target = Target::create(opts.database_url.as_deref()).await?;
    let store = store::open(target.serve_url()).await?;
    let settings = ServerSettings {
        ingest_per_minute: u32::MAX / 2,
        ingest_burst: u32::MAX / 2,
        // Measures the store, not the per-tenant limits.
        tenant_rate_limits: false,
        ..ServerSettings::default()
    };
    let state = AppState::new(store.clone(), settings);
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(server::serve_on(listener, state, async {
        let _ = stopped.await;
    }));

    let hash = password::hash("bench-password".into()).await?;
    store
        .create_user("bench@local", "bench", Some(&hash), true)
        .await?;
    let login = Client::new(&base)?
        .login("bench@local", "bench-password")
        .await?;
    let admin = Client::new(&base)?.with_token(login.token);
    // Warm-up, untimed: leads already in the tables, then the statistics a
    // running database has (see `Target::analyze`).
    let (_, warm_key) = fixture::tenant_with_key(&admin, "Bench warm-up").await?;
    http_ingest(&base, &[warm_key], opts.clients, WARM_UP).await?;
    target.analyze().await?;
    // The same HTTP load into one tenant, then spread over ten (client c
    // posts to tenant c % n): one tenant's ingests share its counter row.
    let mut runs = Vec::new();
    for tenants in [1, 10] {
        let mut keys = Vec::with_capacity(tenants);
        let mut slugs = Vec::with_capacity(tenants);
        for t in 0..tenants {
            let (tenant, key) =
                fixture::tenant_with_key(&admin, &format!("Bench {tenants}-{t}")).await?;
            keys.push(key);
            slugs.push(tenant.slug);
        }
        let cpu = cpu_time()?;
        let (rate, latencies) = http_ingest(&base, &keys, opts.clients, opts.requests).await?;
        let cpu = per_thousand(cpu_time()?.saturating_sub(cpu), opts.requests);
        let mut stored = 0;
        for slug in &slugs {
            stored += admin.usage(slug).await?.leads_this_month as usize;
        }
        if stored != opts.requests {
            anyhow::bail!("{} leads acknowledged but {stored} counted", opts.requests);
        }
        runs.push((tenants, rate, latencies, cpu));
    }

    // Raw inserts: one row per transaction, same database, same settings.
    let raw_cpu = cpu_time()?;
    let raw_rate = target.raw_inserts(opts.clients, opts.requests).await?;
    let raw_cpu = per_thousand(cpu_time()?.saturating_sub(raw_cpu), opts.requests);

    let _ = stop.send(());
    server.await??;
    drop(store);
    let label = target.label();
    target.remove().await;

    println!(
        "ingest benchmark: {}, {} clients, {} leads a run",
        label, opts.clients, opts.requests
    );
    // CPU is the whole process's (server and bench clients alike): on a
    // busy machine it says more than the rates do.
    println!(
        "{:<44} {:>12} {:>10} {:>10} {:>8} {:>14}",
        "path", "per second", "p50 ms", "p99 ms", "vs raw", "CPU ms/1000"
    );
    for (tenants, rate, latencies, cpu) in &runs {
        println!(
            "{:<44} {:>12.0} {:>10.2} {:>10.2} {:>8.2} {:>14.0}",
            format!(
                "HTTP ingest (key, idempotency), {tenants} {}",
                if *tenants == 1 { "tenant" } else { "tenants" }
            ),
            rate,
            super::percentile(latencies, 0.5),
            super::percentile(latencies, 0.99),
            rate / raw_rate,
            cpu
        );
    }
    println!(
        "{:<44} {:>12.0} {:>10} {:>10} {:>8} {:>14.0}",
        "raw insert, 1 row per tx", raw_rate, "-", "-", "1.00", raw_cpu
    );
    Ok(())
}

/// Leads posted before the timed runs.
const WARM_UP: usize = 400;

/// This process's CPU time so far (user and system).
fn cpu_time() -> anyhow::Result<std::time::Duration> {
    super::tmux::cpu_time(std::process::id())
}

/// Milliseconds of CPU per 1000 leads.
fn per_thousand(cpu: std::time::Duration, leads: usize) -> f64 {
    cpu.as_secs_f64() * 1000.0 * 1000.0 / leads.max(1) as f64
}

/// `clients` concurrent posters share `requests`; client c posts with
/// `keys[c % keys.len()]`. The rate, and the latencies sorted.
async fn http_ingest(
    base: &str,
    keys: &[String],
    clients: usize,
    requests: usize,
) -> anyhow::Result<(f64, Vec<f64>)> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let client = Client::new(base)?;
        let key = Arc::new(keys[c % keys.len()].clone());
        let n = requests / clients + usize::from(c < requests % clients);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(n);
            for i in 0..n {
                let lead = LeadInput {
                    name: format!("Bench {c}-{i}"),
                    email: Some(format!("b{c}x{i}@example.com")),
                    message: "Benchmark lead asking for a quote".into(),
                    ..Default::default()
                };
                let t = Instant::now();
                client
                    .ingest_lead(&key, &lead, Some(&format!("bench-{c}-{i}")))
                    .await
                    .map_err(|e| anyhow::anyhow!("ingest failed: {e}"))?;
                latencies.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.context("a client task panicked")??);
    }
    let rate = requests as f64 / started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    Ok((rate, latencies))
}
