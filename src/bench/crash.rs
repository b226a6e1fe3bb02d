//! Crash harness: leads posted with idempotency keys from concurrent clients
//! while `serve` is killed with SIGKILL; after a restart on the same database
//! every request that got no 2xx is retried. Every acknowledged lead must be
//! there exactly once, and no retry may have made a second copy.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use uuid::Uuid;

use super::fixture;
use super::process::{ensure_dir, ServeSpec};
use super::target::Target;
use crate::api::Client;
use crate::domain::{LeadInput, LeadQuery};
use crate::store;

pub struct Options {
    pub requests: usize,
    pub clients: usize,
    /// The server is killed once this share of the requests was acknowledged.
    pub kill_at: f64,
    /// A PostgreSQL URL of a role that may create databases; default SQLite.
    pub database_url: Option<String>,
    /// The `switchboard` binary to run as the server.
    pub bin: PathBuf,
    /// Where the servers' homes and logs go.
    pub work_dir: PathBuf,
}

/// What happened, in counts.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub database: &'static str,
    pub requests: usize,
    pub clients: usize,
    pub acknowledged_before_kill: usize,
    pub unacknowledged: usize,
    /// Present after the restart although their request got no 2xx.
    pub committed_unacknowledged: usize,
    pub retries_acknowledged: usize,
    pub stored: usize,
    pub duplicates: usize,
    pub missing: usize,
    /// An acknowledged id that is not the stored lead's id.
    pub id_mismatches: usize,
    pub usage_counted: u32,
    pub seconds: f64,
}

impl Report {
    /// The harness's assertions; `Err` lists every broken one.
    pub fn check(&self) -> anyhow::Result<()> {
        let mut broken = Vec::new();
        if self.duplicates > 0 {
            broken.push(format!("{} leads stored more than once", self.duplicates));
        }
        if self.missing > 0 {
            broken.push(format!("{} leads missing", self.missing));
        }
        if self.id_mismatches > 0 {
            broken.push(format!(
                "{} acknowledged ids differ from the stored lead",
                self.id_mismatches
            ));
        }
        if self.retries_acknowledged != self.unacknowledged {
            broken.push(format!(
                "{} of {} retries were not acknowledged",
                self.unacknowledged - self.retries_acknowledged,
                self.unacknowledged
            ));
        }
        if self.stored != self.requests || self.usage_counted as usize != self.requests {
            broken.push(format!(
                "{} requests, {} leads stored, {} counted in usage",
                self.requests, self.stored, self.usage_counted
            ));
        }
        if broken.is_empty() {
            Ok(())
        } else {
            anyhow::bail!("crash harness failed: {}", broken.join("; "))
        }
    }

    pub fn print(&self) {
        println!(
            "crash harness: {}, {} ingests from {} clients, serve killed with SIGKILL mid-run",
            self.database, self.requests, self.clients
        );
        let rows: [(&str, String); 10] = [
            ("requests", self.requests.to_string()),
            (
                "acknowledged before the kill",
                self.acknowledged_before_kill.to_string(),
            ),
            ("not acknowledged", self.unacknowledged.to_string()),
            (
                "  committed but not acknowledged",
                self.committed_unacknowledged.to_string(),
            ),
            (
                "retries acknowledged",
                self.retries_acknowledged.to_string(),
            ),
            ("leads stored", self.stored.to_string()),
            ("duplicates", self.duplicates.to_string()),
            ("missing", self.missing.to_string()),
            ("acknowledged id mismatches", self.id_mismatches.to_string()),
            ("usage counter", self.usage_counted.to_string()),
        ];
        for (what, n) in rows {
            println!("{what:<34} {n:>10}");
        }
        println!(
            "crash: {} of {} leads present exactly once after kill -9 and {} retries, {} duplicates ({:.1} s)",
            self.stored - self.duplicates,
            self.requests,
            self.unacknowledged,
            self.duplicates,
            self.seconds
        );
    }
}

fn lead(i: usize) -> LeadInput {
    LeadInput {
        name: format!("Crash {i:06}"),
        email: Some(format!("crash{i}@example.com")),
        message: "Please call me back about a quote".into(),
        ..Default::default()
    }
}

fn index_of(name: &str) -> Option<usize> {
    name.strip_prefix("Crash ")?.parse().ok()
}

/// Every lead of the tenant, spam or not, as (index, id).
async fn stored_leads(admin: &Client, tenant: &str) -> anyhow::Result<Vec<(Option<usize>, Uuid)>> {
    let mut out = Vec::new();
    for spam in [false, true] {
        let mut cursor = None;
        loop {
            let page = admin
                .list_leads(
                    tenant,
                    &LeadQuery {
                        limit: Some(crate::domain::page::MAX_LIMIT),
                        cursor,
                        spam: Some(spam),
                        sort: Some("oldest".into()),
                        ..Default::default()
                    },
                )
                .await?;
            out.extend(page.items.iter().map(|l| (index_of(&l.name), l.id)));
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
    }
    Ok(out)
}

/// Posts `indices` from `clients` concurrent clients; returns each one's
/// acknowledged id (None: no 2xx). `acked` counts acknowledgements live.
async fn post_all(
    base: &str,
    key: &str,
    indices: Vec<usize>,
    clients: usize,
    attempts: usize,
    acked: Arc<AtomicUsize>,
) -> anyhow::Result<HashMap<usize, Option<Uuid>>> {
    let indices = Arc::new(indices);
    let next = Arc::new(AtomicUsize::new(0));
    let results = Arc::new(Mutex::new(HashMap::new()));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let client = Client::new(base)?;
        let (key, indices, next, results, acked) = (
            key.to_string(),
            Arc::clone(&indices),
            Arc::clone(&next),
            Arc::clone(&results),
            Arc::clone(&acked),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let slot = next.fetch_add(1, Ordering::Relaxed);
                let Some(&i) = indices.get(slot) else { break };
                let mut id = None;
                for attempt in 0..attempts {
                    if attempt > 0 {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    if let Ok(r) = client
                        .ingest_lead(&key, &lead(i), Some(&format!("crash-{i}")))
                        .await
                    {
                        id = Some(r.id);
                        acked.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                }
                if let Ok(mut map) = results.lock() {
                    map.insert(i, id);
                }
            }
        }));
    }
    for t in tasks {
        t.await.context("a client task panicked")?;
    }
    let map = results
        .lock()
        .map_err(|_| anyhow::anyhow!("a client task panicked"))?
        .clone();
    Ok(map)
}

/// Runs the harness and returns the counts; check them with `Report::check`.
pub async fn harness(opts: &Options) -> anyhow::Result<Report> {
    let started = Instant::now();
    ensure_dir(&opts.work_dir)?;
    let target = Target::create(opts.database_url.as_deref()).await?;
    let result = run_on(&target, opts).await;
    target.remove().await;
    let mut report = result?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

async fn run_on(target: &Target, opts: &Options) -> anyhow::Result<Report> {
    let store = store::open(target.serve_url()).await?;
    fixture::create_admin(&store).await?;
    drop(store);
    let spec = ServeSpec {
        bin: opts.bin.clone(),
        database_url: target.serve_url().to_string(),
        home: opts.work_dir.join("home"),
        log: opts.work_dir.join("serve.log"),
    };
    let server = spec.start("127.0.0.1:0").await?;
    let admin = fixture::admin_client(&server.url).await?;
    let (tenant, key) = fixture::tenant_with_key(&admin, "Crash").await?;

    // First pass; a watcher kills the server once enough were acknowledged.
    let acked = Arc::new(AtomicUsize::new(0));
    let threshold = ((opts.requests as f64 * opts.kill_at) as usize).clamp(1, opts.requests);
    let watcher = {
        let acked = Arc::clone(&acked);
        tokio::spawn(async move {
            while acked.load(Ordering::Relaxed) < threshold {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            server.kill9().await
        })
    };
    let first = post_all(
        &spec_url(&admin),
        &key,
        (0..opts.requests).collect(),
        opts.clients,
        1,
        Arc::clone(&acked),
    )
    .await?;
    watcher.await.context("the kill task panicked")??;

    // Restart on the same database; what is there before any retry?
    let server = spec.start("127.0.0.1:0").await?;
    let admin = fixture::admin_client(&server.url).await?;
    let unacked: Vec<usize> = (0..opts.requests)
        .filter(|i| first.get(i).copied().flatten().is_none())
        .collect();
    let before = stored_leads(&admin, &tenant.slug).await?;
    let present: std::collections::HashSet<usize> = before.iter().filter_map(|(i, _)| *i).collect();
    let committed_unacknowledged = unacked.iter().filter(|i| present.contains(i)).count();

    let retried = post_all(
        &server.url,
        &key,
        unacked.clone(),
        opts.clients,
        5,
        Arc::new(AtomicUsize::new(0)),
    )
    .await?;

    let after = stored_leads(&admin, &tenant.slug).await?;
    let mut by_index: HashMap<usize, Vec<Uuid>> = HashMap::new();
    let mut strangers = 0;
    for (i, id) in &after {
        match i {
            Some(i) if *i < opts.requests => by_index.entry(*i).or_default().push(*id),
            _ => strangers += 1,
        }
    }
    let acknowledged = first
        .iter()
        .chain(retried.iter())
        .filter_map(|(i, id)| id.map(|id| (*i, id)));
    let id_mismatches = acknowledged
        .filter(|(i, id)| by_index.get(i).is_none_or(|ids| !ids.contains(id)))
        .count();
    let usage_counted = admin.usage(&tenant.slug).await?.leads_this_month;
    drop(server);
    Ok(Report {
        database: target.label(),
        requests: opts.requests,
        clients: opts.clients,
        acknowledged_before_kill: opts.requests - unacked.len(),
        unacknowledged: unacked.len(),
        committed_unacknowledged,
        retries_acknowledged: retried.values().filter(|id| id.is_some()).count(),
        stored: after.len(),
        duplicates: by_index.values().filter(|ids| ids.len() > 1).count() + strangers,
        missing: (0..opts.requests)
            .filter(|i| !by_index.contains_key(i))
            .count(),
        id_mismatches,
        usage_counted,
        seconds: 0.0,
    })
}

fn spec_url(admin: &Client) -> String {
    admin.base_url().to_string()
}

/// `switchboard bench crash`: prints the counts; fails when an assertion does.
pub async fn run(opts: Options) -> anyhow::Result<()> {
    let report = harness(&opts).await?;
    report.print();
    report.check()
}
