//! PostgreSQL only: two real `switchboard serve` processes on one database.
//! A lead posted through one reaches a live subscriber of the other, and the
//! last lead of the month raced through both is accepted exactly once.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use sqlx::Connection;
use switchboard::api::Client;
use switchboard::domain::lead::month_key;
use switchboard::domain::Tier;

use crate::common::{lead, postgres_admin_url, spawn};

/// A `switchboard serve` child process, killed on drop.
pub(crate) struct Serve {
    child: Child,
    pub url: String,
}

impl Serve {
    fn start(database_url: &str, home: &std::path::Path) -> Serve {
        Self::start_with(database_url, home, &[], Stdio::null())
    }

    /// With extra environment variables, and its log (stderr) to `stderr`.
    pub(crate) fn start_with(
        database_url: &str,
        home: &std::path::Path,
        env: &[(&str, &str)],
        stderr: impl Into<Stdio>,
    ) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .args([
                "serve",
                "--bind",
                "127.0.0.1:0",
                "--database-url",
                database_url,
            ])
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_DATA_HOME", home.join("data"))
            .env("SWITCHBOARD_INGEST_RATE_PER_MINUTE", "100000")
            .env("SWITCHBOARD_INGEST_BURST", "10000")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("spawn serve");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut first)
            .expect("read the address");
        let url = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_string();
        Serve { child, url }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn two_serve_processes_share_live_events_and_the_monthly_limit() {
    if postgres_admin_url().is_none() {
        eprintln!("skipped: set SWITCHBOARD_TEST_DATABASE_URL to run the PostgreSQL tests");
        return;
    }
    // The test's own server sets things up; the two processes do the work.
    let app = spawn().await;
    let home = tempfile::tempdir().unwrap();
    let one = Serve::start(&app.database_url, home.path());
    let two = Serve::start(&app.database_url, home.path());
    let token = app.admin.token().unwrap().to_string();

    // A subscriber on process one sees a lead posted through process two.
    app.tenant("Live", Tier::Enterprise).await;
    let key = app.ingest_key("live").await;
    let mut events = Client::new(&one.url)
        .unwrap()
        .with_token(token)
        .events("live", None)
        .await
        .unwrap();
    let id = Client::new(&two.url)
        .unwrap()
        .ingest_lead(&key, &lead("Across Processes"), None)
        .await
        .unwrap()
        .id;
    let event = tokio::time::timeout(Duration::from_secs(15), events.next())
        .await
        .expect("the event crossed processes within 15 s")
        .unwrap()
        .unwrap();
    assert_eq!(event.kind, "lead.created");
    assert_eq!(event.lead().unwrap().id, id);

    // The month's last lead, raced through both processes: exactly one fits.
    let tight = app.tenant("Tight", Tier::Starter).await;
    let limit = Tier::Starter.lead_limit().unwrap();
    let owner = app.owner_url.as_deref().unwrap();
    let mut db = sqlx::PgConnection::connect(owner).await.unwrap();
    sqlx::query("INSERT INTO lead_usage (tenant_id, month, count) VALUES ($1, $2, $3)")
        .bind(tight.id)
        .bind(month_key(Utc::now()))
        .bind(limit as i32 - 1)
        .execute(&mut db)
        .await
        .unwrap();
    // The race is for the month's limit, not the per-minute one.
    app.admin
        .set_tenant_limits("tight", &crate::postgres::unlimited_ingest())
        .await
        .unwrap();
    let key = Arc::new(app.ingest_key("tight").await);
    let bases = [one.url.clone(), two.url.clone()];
    let mut tasks = Vec::new();
    for i in 0..100 {
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
    assert_eq!(accepted, 1);
    assert_eq!(
        app.admin.usage("tight").await.unwrap().leads_this_month,
        limit
    );
}

/// Waits until the current minute has at least 20 s left, so a burst of
/// requests falls in one rate window.
async fn early_in_a_minute() {
    use chrono::Timelike;
    while Utc::now().second() >= 40 {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_tenant_limit_holds_across_two_serve_processes() {
    if postgres_admin_url().is_none() {
        eprintln!("skipped: set SWITCHBOARD_TEST_DATABASE_URL to run the PostgreSQL tests");
        return;
    }
    let app = spawn().await;
    let home = tempfile::tempdir().unwrap();
    let one = Serve::start(&app.database_url, home.path());
    let two = Serve::start(&app.database_url, home.path());
    let t = app.tenant("Shared", Tier::Pro).await;
    let (api, ingest) = (40u32, 10u32);
    app.admin
        .set_tenant_limits(
            "shared",
            &switchboard::domain::usage::RateOverrides {
                api_per_minute: Some(api),
                ingest_per_minute: Some(ingest),
            },
        )
        .await
        .unwrap();
    let key = Arc::new(app.ingest_key("shared").await);
    let (_, member) = app
        .member(&t, "m@shared.test", switchboard::domain::Role::Viewer)
        .await;
    let token = member.token().unwrap().to_string();

    early_in_a_minute().await;
    let mut calls = Vec::new();
    for i in 0..100 {
        let client = Client::new([&one.url, &two.url][i % 2])
            .unwrap()
            .with_token(token.clone());
        calls.push(tokio::spawn(async move { client.tenant("shared").await }));
    }
    let mut posts = Vec::new();
    for i in 0..30 {
        let client = Client::new([&one.url, &two.url][i % 2]).unwrap();
        let key = Arc::clone(&key);
        posts.push(tokio::spawn(async move {
            client
                .ingest_lead(&key, &lead(&format!("Shared {i}")), None)
                .await
        }));
    }
    let mut admitted = 0u32;
    for c in calls {
        match c.await.unwrap() {
            Ok(_) => admitted += 1,
            Err(e) => assert_eq!(e.status(), Some(429), "{e:?}"),
        }
    }
    let mut accepted = 0u32;
    for p in posts {
        match p.await.unwrap() {
            Ok(_) => accepted += 1,
            Err(e) => assert_eq!(e.status(), Some(429), "{e:?}"),
        }
    }
    // Never more than the limit; at most one unspent lease per process
    // short of it.
    let lease = |limit: u32| (limit / 20).clamp(1, 100);
    assert!(admitted <= api, "{admitted} calls admitted over {api}");
    assert!(admitted >= api - 2 * lease(api), "{admitted} of {api}");
    assert!(
        accepted <= ingest,
        "{accepted} leads accepted over {ingest}"
    );
    assert!(
        accepted >= ingest - 2 * lease(ingest),
        "{accepted} of {ingest}"
    );
    eprintln!("two processes: {admitted}/{api} calls, {accepted}/{ingest} leads admitted");
}
