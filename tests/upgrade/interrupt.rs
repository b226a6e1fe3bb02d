//! Migrations are safe to interrupt: each runs in one transaction with its
//! bookkeeping row, so a process killed in the middle of one leaves the
//! database as it was before it, and the next start runs it again.
//!
//! Proven with a migration made slow on purpose, added after this binary's
//! own: a child process (this test binary, running `migrate_child`) applies
//! them to a fixture and is killed with SIGKILL inside the slow one.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use sqlx::migrate::Migrator;
use switchboard::store::schema;

use super::check::{binary, compare, config, generations, manifest, pg_admin_url, restored};
use super::process::{self, Home};

const SQLITE_SLOW: &str = "CREATE TABLE slow_filler (n INTEGER);\n\
    WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 8000000)\n\
    INSERT INTO slow_filler SELECT n FROM c;\n\
    ALTER TABLE leads ADD COLUMN slow_marker INTEGER;\n\
    UPDATE leads SET slow_marker = 1;\n";

const POSTGRES_SLOW: &str =
    "CREATE TABLE slow_filler AS SELECT g AS n FROM generate_series(1, 8000000) g;\n\
    ALTER TABLE leads ADD COLUMN slow_marker INTEGER;\n\
    UPDATE leads SET slow_marker = 1;\n";

/// This binary's migrations of `store` plus the slow one after them.
fn migrations_with_slow(store: &str, slow: &str, newest: i64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("src/store/{store}/migrations"));
    for entry in std::fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    std::fs::write(
        dir.path()
            .join(format!("{}_slow_on_purpose.sql", newest + 1)),
        slow,
    )
    .unwrap();
    dir
}

/// The child: applies the migrations in `SB_CHILD_MIGRATIONS` to `SB_CHILD_URL`.
#[tokio::test]
#[ignore = "the child process of the interruption tests"]
async fn migrate_child() {
    let dir = PathBuf::from(std::env::var("SB_CHILD_MIGRATIONS").unwrap());
    let url = std::env::var("SB_CHILD_URL").unwrap();
    let migrator = Migrator::new(dir.as_path()).await.unwrap();
    if url.starts_with("sqlite:") {
        let pool = switchboard::store::sqlite::pool(&url).await.unwrap();
        migrator.run(&pool).await.unwrap();
    } else {
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        migrator.run(&pool).await.unwrap();
    }
}

fn child(dir: &Path, url: &str) -> std::process::Child {
    std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "upgrade::interrupt::migrate_child",
            "--nocapture",
        ])
        .env("SB_CHILD_MIGRATIONS", dir)
        .env("SB_CHILD_URL", url)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(mut c: std::process::Child) {
    let status = c.wait().unwrap();
    let mut err = String::new();
    use std::io::Read;
    c.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(status.success(), "the migration did not complete: {err}");
}

async fn sqlite_state(url: &str) -> (i64, bool, bool) {
    use sqlx::Connection;
    let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
    let version: i64 = sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations")
        .fetch_one(&mut c)
        .await
        .unwrap();
    let filler: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'slow_filler'",
    )
    .fetch_one(&mut c)
    .await
    .unwrap();
    let marker: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pragma_table_info('leads') WHERE name = 'slow_marker'",
    )
    .fetch_one(&mut c)
    .await
    .unwrap();
    c.close().await.unwrap();
    (version, filler > 0, marker > 0)
}

#[tokio::test]
async fn an_sqlite_migration_killed_midway_resumes_and_loses_nothing() {
    let gen = generations().pop().unwrap();
    let manifest = manifest(&gen);
    let home = Home::new(config());
    let db = home.path().join("switchboard.db");
    std::fs::copy(gen.join("switchboard.db"), &db).unwrap();
    let url = format!("sqlite://{}", db.display());
    let newest = schema::sqlite_version();
    let dir = migrations_with_slow("sqlite", SQLITE_SLOW, newest);

    let mut c = child(dir.path(), &url);
    // This binary's migrations are committed one by one; then the slow one runs.
    let mut waited = Duration::ZERO;
    while sqlite_state(&url).await.0 < newest {
        assert!(
            waited < Duration::from_secs(60),
            "the child never reached the slow migration"
        );
        assert!(
            c.try_wait().unwrap().is_none(),
            "the child ended before the slow migration"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += Duration::from_millis(50);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        c.try_wait().unwrap().is_none(),
        "the slow migration was not slow enough"
    );
    c.kill().unwrap();
    c.wait().unwrap();

    assert_eq!(
        sqlite_state(&url).await,
        (newest, false, false),
        "the killed migration left a trace"
    );
    // Today's binary opens it and every row is there.
    let server = process::serve(&binary(), &home, &url).await.ok().unwrap();
    let failures = compare(&server.url, &manifest, &manifest.stores["sqlite"]).await;
    server.stop().await;
    assert!(failures.is_empty(), "{failures:#?}");

    // Started again, it completes.
    finish(child(dir.path(), &url));
    assert_eq!(sqlite_state(&url).await, (newest + 1, true, true));
}

async fn pg_state(c: &mut sqlx::PgConnection) -> (i64, bool, bool) {
    let version: i64 = sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations")
        .fetch_one(&mut *c)
        .await
        .unwrap();
    let filler: bool = sqlx::query_scalar("SELECT to_regclass('slow_filler') IS NOT NULL")
        .fetch_one(&mut *c)
        .await
        .unwrap();
    let marker: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM information_schema.columns \
         WHERE table_name = 'leads' AND column_name = 'slow_marker')",
    )
    .fetch_one(&mut *c)
    .await
    .unwrap();
    (version, filler, marker)
}

#[tokio::test]
async fn a_postgres_migration_killed_midway_resumes_and_loses_nothing() {
    let Some(admin_url) = pg_admin_url() else {
        println!("SKIPPED: set SWITCHBOARD_TEST_DATABASE_URL to a PostgreSQL superuser URL");
        return;
    };
    use sqlx::Connection;
    let gen = generations().pop().unwrap();
    let manifest = manifest(&gen);
    let db = restored(&admin_url, &gen).await;
    let newest = schema::postgres_version();
    let dir = migrations_with_slow("postgres", POSTGRES_SLOW, newest);
    let mut watch = sqlx::PgConnection::connect(&db.owner_url).await.unwrap();

    let mut c = child(dir.path(), &db.owner_url);
    let mut waited = Duration::ZERO;
    loop {
        let busy: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND state = 'active' AND query LIKE '%slow_filler%' AND pid <> pg_backend_pid()",
        )
        .fetch_one(&mut watch)
        .await
        .unwrap();
        if busy > 0 {
            break;
        }
        assert!(
            waited < Duration::from_secs(60),
            "the child never reached the slow migration"
        );
        assert!(
            c.try_wait().unwrap().is_none(),
            "the child ended before the slow migration"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += Duration::from_millis(50);
    }
    c.kill().unwrap();
    c.wait().unwrap();
    // The server notices a dead client only when it next writes to it; a
    // crashed host's connections are ended the same way.
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .execute(&mut watch)
    .await
    .unwrap();
    // Only what the kill interrupted is missing: today's migrations committed.
    assert_eq!(pg_state(&mut watch).await, (newest, false, false));

    let home = Home::new(config());
    let (ok, _, err) = process::run(
        &binary(),
        &home,
        &["migrate", "--database-url", &db.owner_url],
        "",
    )
    .await;
    assert!(ok, "{err}");
    let server = process::serve(&binary(), &home, &db.app_url)
        .await
        .ok()
        .unwrap();
    let failures = compare(&server.url, &manifest, &manifest.stores["postgres"]).await;
    server.stop().await;
    assert!(failures.is_empty(), "{failures:#?}");

    finish(child(dir.path(), &db.owner_url));
    assert_eq!(pg_state(&mut watch).await, (newest + 1, true, true));
    watch.close().await.ok();
}
