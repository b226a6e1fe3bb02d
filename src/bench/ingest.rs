//! Ingest throughput through the real HTTP path (key, validation,
//! idempotency key, audit, event) next to raw single-row insert
//! transactions into the same store with the same durability.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::api::Client;
use crate::domain::{LeadInput, NewApiKey, NewTenant, Tier};
use crate::server::{self, password, AppState, ServerSettings};
use crate::store;

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
    let tenant = admin
        .create_tenant(&NewTenant {
            name: "Bench".into(),
            tier: Some(Tier::Enterprise),
            ..Default::default()
        })
        .await?;
    let key = admin
        .create_api_key(
            &tenant.slug,
            &NewApiKey {
                name: "bench".into(),
                scope: None,
                workspace_id: None,
            },
        )
        .await?
        .key;

    // HTTP ingest: `clients` concurrent posters share `requests`.
    let key = Arc::new(key);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..opts.clients {
        let client = Client::new(&base)?;
        let key = Arc::clone(&key);
        let n = opts.requests / opts.clients + usize::from(c < opts.requests % opts.clients);
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
    let http_secs = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let http_rate = opts.requests as f64 / http_secs;

    // Raw inserts: one row per transaction, same database, same settings.
    let raw_rate = target.raw_inserts(opts.clients, opts.requests).await?;

    let stored = admin.usage(&tenant.slug).await?.leads_this_month;
    let _ = stop.send(());
    server.await??;
    drop(store);
    let label = target.label();
    target.remove().await;
    if stored as usize != opts.requests {
        anyhow::bail!("{} leads acknowledged but {stored} counted", opts.requests);
    }

    println!(
        "ingest benchmark: {}, {} clients, {} leads",
        label, opts.clients, opts.requests
    );
    println!(
        "{:<34} {:>12} {:>10} {:>10}",
        "path", "per second", "p50 ms", "p99 ms"
    );
    println!(
        "{:<34} {:>12.0} {:>10.2} {:>10.2}",
        "HTTP ingest (key, idempotency)",
        http_rate,
        super::percentile(&latencies, 0.5),
        super::percentile(&latencies, 0.99)
    );
    println!(
        "{:<34} {:>12.0} {:>10} {:>10}",
        "raw insert, 1 row per tx", raw_rate, "-", "-"
    );
    println!("ratio http/raw: {:.2}", http_rate / raw_rate);
    Ok(())
}
