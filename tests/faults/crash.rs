//! kill -9 of `serve` in the middle of concurrent keyed ingests, restart,
//! retry: every acknowledged lead exactly once, no duplicates from retries.

use switchboard::bench::crash::{harness, Options};

use super::{logs, BIN};

fn options(test: &str, database_url: Option<String>) -> Options {
    Options {
        requests: 1500,
        clients: 8,
        kill_at: 0.5,
        database_url,
        bin: BIN.into(),
        work_dir: logs(test),
    }
}

async fn assert_survives(opts: Options) {
    let report = harness(&opts).await.unwrap();
    report.print();
    report.check().unwrap();
    // The kill must have hit the run: some requests got no answer.
    assert!(report.unacknowledged > 0, "{report:?}");
    assert!(report.acknowledged_before_kill > 0, "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_ingest_loses_and_duplicates_nothing_on_sqlite() {
    assert_survives(options("crash-sqlite", None)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_ingest_loses_and_duplicates_nothing_on_postgres() {
    let Some(url) = std::env::var("SWITCHBOARD_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    else {
        eprintln!("skipped: set SWITCHBOARD_TEST_DATABASE_URL to run the PostgreSQL tests");
        return;
    };
    assert_survives(options("crash-postgres", Some(url))).await;
}
