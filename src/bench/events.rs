//! Live-event latency: from an ingest request's 2xx to its `lead.created`
//! event reaching an SSE subscriber, through real `serve` processes — one
//! server on SQLite, and on PostgreSQL also ingest on one server and the
//! subscriber on another (the event crosses through LISTEN/NOTIFY).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::sync::oneshot;
use uuid::Uuid;

use super::fixture;
use super::process::{current_binary, ensure_dir, ServeSpec};
use super::target::{tempfile_dir, Target};
use crate::api::Client;
use crate::domain::LeadInput;
use crate::store;

pub struct Options {
    pub samples: usize,
    /// Pause between ingests, so each one is measured alone.
    pub pause_ms: u64,
    pub database_url: Option<String>,
}

struct Row {
    label: String,
    /// Milliseconds from the 2xx to the event; negative when it came first.
    latencies: Vec<f64>,
}

type Arrivals = Arc<Mutex<HashMap<Uuid, Instant>>>;

/// Subscribes and records when each lead's `lead.created` arrives; the
/// oneshot fires once the stream is open.
async fn subscribe(
    client: Client,
    tenant: String,
    arrivals: Arrivals,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let mut events = client.events(&tenant, None).await?;
    let (ready, is_ready) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = ready.send(());
        while let Some(Ok(ev)) = events.next().await {
            let now = Instant::now();
            if ev.kind != "lead.created" {
                continue;
            }
            if let (Some(lead), Ok(mut map)) = (ev.lead(), arrivals.lock()) {
                map.insert(lead.id, now);
            }
        }
    });
    is_ready.await.context("the subscriber stopped")?;
    Ok(task)
}

async fn measure(
    label: String,
    ingest_url: &str,
    subscribe_url: &str,
    opts: &Options,
) -> anyhow::Result<Row> {
    let admin = fixture::admin_client(ingest_url).await?;
    let (tenant, key) =
        fixture::tenant_with_key(&admin, &format!("Events {}", Uuid::new_v4().simple())).await?;
    let subscriber = fixture::admin_client(subscribe_url).await?;
    let arrivals: Arrivals = Arc::default();
    let task = subscribe(subscriber, tenant.slug.clone(), Arc::clone(&arrivals)).await?;
    let poster = Client::new(ingest_url)?;
    // A few unmeasured posts warm connections and caches.
    let warmup = 10.min(opts.samples);
    let mut acks = Vec::with_capacity(opts.samples);
    for i in 0..opts.samples + warmup {
        let lead = LeadInput {
            name: format!("Live {i}"),
            email: Some(format!("live{i}@example.com")),
            message: "Is anyone there?".into(),
            ..Default::default()
        };
        let receipt = poster
            .ingest_lead(&key, &lead, Some(&format!("live-{i}")))
            .await
            .map_err(|e| anyhow::anyhow!("ingest failed: {e}"))?;
        let acked = Instant::now();
        if i >= warmup {
            acks.push((receipt.id, acked));
        }
        tokio::time::sleep(Duration::from_millis(opts.pause_ms)).await;
    }
    // Let the last events arrive.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let have = arrivals.lock().map(|m| m.len()).unwrap_or(0);
        if have >= acks.len() + warmup || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    task.abort();
    let arrivals = arrivals
        .lock()
        .map_err(|_| anyhow::anyhow!("the subscriber panicked"))?
        .clone();
    let mut latencies = Vec::with_capacity(acks.len());
    let mut lost = 0;
    for (id, acked) in acks {
        match arrivals.get(&id) {
            Some(at) if *at >= acked => latencies.push((*at - acked).as_secs_f64() * 1000.0),
            Some(at) => latencies.push(-((acked - *at).as_secs_f64() * 1000.0)),
            None => lost += 1,
        }
    }
    if lost > 0 {
        anyhow::bail!("{label}: {lost} acknowledged leads never arrived as events within 10 s");
    }
    latencies.sort_by(f64::total_cmp);
    Ok(Row { label, latencies })
}

pub async fn run(opts: Options) -> anyhow::Result<()> {
    let work = tempfile_dir()?;
    let result = run_in(&work, &opts).await;
    std::fs::remove_dir_all(&work).ok();
    result
}

async fn run_in(work: &std::path::Path, opts: &Options) -> anyhow::Result<()> {
    let target = Target::create(opts.database_url.as_deref()).await?;
    let result = async {
        let store = store::open(target.serve_url()).await?;
        fixture::create_admin(&store).await?;
        drop(store);
        let spec = |n: usize| -> anyhow::Result<ServeSpec> {
            let home: PathBuf = work.join(format!("serve-{n}"));
            ensure_dir(&home)?;
            Ok(ServeSpec {
                bin: current_binary()?,
                database_url: target.serve_url().to_string(),
                log: home.join("serve.log"),
                home,
            })
        };
        let one = spec(1)?.start("127.0.0.1:0").await?;
        let mut rows = vec![
            measure(
                format!("{}, one server", short(target.label())),
                &one.url,
                &one.url,
                opts,
            )
            .await?,
        ];
        if matches!(target, Target::Postgres { .. }) {
            let two = spec(2)?.start("127.0.0.1:0").await?;
            rows.push(
                measure(
                    "PostgreSQL, across two servers".into(),
                    &one.url,
                    &two.url,
                    opts,
                )
                .await?,
            );
        }
        anyhow::Ok(rows)
    }
    .await;
    target.remove().await;
    let rows = result?;
    println!(
        "events benchmark: ingest 2xx -> lead.created at an SSE subscriber, {} samples, {} ms apart, real serve processes",
        opts.samples, opts.pause_ms
    );
    println!(
        "{:<34} {:>9} {:>9} {:>9} {:>14}",
        "path", "p50 ms", "p99 ms", "max ms", "event first"
    );
    let mut worst: f64 = 0.0;
    for r in &rows {
        let p99 = super::percentile(&r.latencies, 0.99);
        worst = worst.max(p99);
        println!(
            "{:<34} {:>9.2} {:>9.2} {:>9.2} {:>14}",
            r.label,
            super::percentile(&r.latencies, 0.5),
            p99,
            r.latencies.last().copied().unwrap_or(0.0),
            r.latencies.iter().filter(|l| **l < 0.0).count()
        );
    }
    println!("events p99 (worst path): {worst:.2} ms (target <= 50 ms)");
    Ok(())
}

fn short(label: &str) -> &str {
    label.split(' ').next().unwrap_or(label)
}
