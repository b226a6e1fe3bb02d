//! Every fixture generation under `tests/fixtures/gen-*` opens in today's
//! binary and reads back whole: SQLite by `serve` on a copy of the file,
//! PostgreSQL by restoring the dump, `migrate`, then `serve`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::api::Api;
use super::manifest::{self as m, Manifest, Snapshot};
use super::process::{self, Home, PgDatabase};

pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_switchboard"))
}

/// Today's server: no model providers; finished outbound traffic kept for
/// a century (the fixtures only get older, and retention is not data loss).
pub fn config() -> &'static str {
    "outbound_retention_days = 36500\n[llm.local]\nenabled = false\n"
}

pub fn generations() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("gen-"))
        })
        .collect();
    out.sort();
    assert!(
        !out.is_empty(),
        "no fixture generations under {}",
        dir.display()
    );
    out
}

pub fn manifest(gen: &Path) -> Manifest {
    let text = std::fs::read_to_string(gen.join("manifest.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Reads every recorded resource back from `url`; all differences, named.
pub async fn compare(url: &str, manifest: &Manifest, snapshot: &Snapshot) -> Vec<String> {
    let anon = Api::new(url);
    let admin = match anon
        .login(&manifest.admin.email, &manifest.admin.password)
        .await
    {
        Ok(a) => a,
        Err(e) => return vec![format!("the fixture's platform admin cannot sign in: {e}")],
    };
    let mut failures = Vec::new();
    for r in &snapshot.resources {
        let api = match &r.as_user {
            None => admin.clone(),
            Some(email) => {
                let Some(user) = snapshot.users.iter().find(|u| &u.email == email) else {
                    failures.push(format!("{}: no credentials for {email}", r.path));
                    continue;
                };
                match anon.login(&user.email, &user.password).await {
                    Ok(api) => api,
                    Err(e) => {
                        failures.push(format!(
                            "{} ({}): {email} cannot sign in: {e}",
                            r.name, r.path
                        ));
                        continue;
                    }
                }
            }
        };
        failures.extend(m::verify(&api, r).await);
    }
    failures
}

fn report(
    gen: &Path,
    store: &str,
    snapshot: &Snapshot,
    failures: &[String],
    started: Instant,
    log: &Path,
) {
    let rows: usize = snapshot.resources.iter().map(|r| r.count).sum();
    println!(
        "{} ({store}): {} resources, {rows} rows compared in {:.1}s",
        gen.display(),
        snapshot.resources.len(),
        started.elapsed().as_secs_f64()
    );
    if !failures.is_empty() {
        let log = std::fs::read_to_string(log).unwrap_or_default();
        let tail: Vec<&str> = log
            .lines()
            .rev()
            .take(30)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        panic!(
            "{} ({store}) after upgrading: {} difference(s):\n{}\n\nthe server's log ends:\n{}",
            gen.display(),
            failures.len(),
            failures.join("\n"),
            tail.join("\n")
        );
    }
}

#[tokio::test]
async fn every_sqlite_fixture_opens_and_reads_back_whole() {
    for gen in generations() {
        let started = Instant::now();
        let manifest = manifest(&gen);
        let snapshot = &manifest.stores["sqlite"];
        let home = Home::new(config());
        let db = home.path().join("switchboard.db");
        std::fs::copy(gen.join("switchboard.db"), &db).unwrap();
        let url = format!("sqlite://{}", db.display());
        let server = match process::serve(&binary(), &home, &url).await {
            Ok(s) => s,
            Err(e) => panic!(
                "{}: today's serve refused the fixture: {}",
                gen.display(),
                e.stderr
            ),
        };
        let failures = compare(&server.url, &manifest, snapshot).await;
        let log = server.stderr.clone();
        server.stop().await;
        report(&gen, "sqlite", snapshot, &failures, started, &log);
    }
}

pub fn pg_admin_url() -> Option<String> {
    std::env::var("SWITCHBOARD_TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

/// A fresh database holding the generation's dump.
pub async fn restored(admin_url: &str, gen: &Path) -> PgDatabase {
    let name = format!("sb_upgrade_{}", uuid::Uuid::new_v4().simple());
    let db = PgDatabase::create(admin_url, &name).await;
    db.ensure_app_role().await;
    db.restore(&gen.join("postgres.sql")).await;
    db
}

#[tokio::test]
async fn every_postgres_fixture_migrates_and_reads_back_whole() {
    let Some(admin_url) = pg_admin_url() else {
        println!("SKIPPED: set SWITCHBOARD_TEST_DATABASE_URL to a PostgreSQL superuser URL");
        return;
    };
    for gen in generations() {
        let started = Instant::now();
        let manifest = manifest(&gen);
        let snapshot = &manifest.stores["postgres"];
        let db = restored(&admin_url, &gen).await;
        let home = Home::new(config());
        let (ok, _, err) = process::run(
            &binary(),
            &home,
            &["migrate", "--database-url", &db.owner_url],
            "",
        )
        .await;
        assert!(
            ok,
            "{}: today's migrate failed on the restored dump: {err}",
            gen.display()
        );
        let server = match process::serve(&binary(), &home, &db.app_url).await {
            Ok(s) => s,
            Err(e) => panic!(
                "{}: today's serve refused the restored dump: {}",
                gen.display(),
                e.stderr
            ),
        };
        let failures = compare(&server.url, &manifest, snapshot).await;
        let log = server.stderr.clone();
        server.stop().await;
        report(&gen, "postgres", snapshot, &failures, started, &log);
    }
}

/// The comparison can fail: a lead changed behind the API's back is named.
#[tokio::test]
async fn a_changed_row_is_named() {
    let gen = generations().pop().unwrap();
    let manifest = manifest(&gen);
    let snapshot = &manifest.stores["sqlite"];
    let home = Home::new(config());
    let db = home.path().join("switchboard.db");
    std::fs::copy(gen.join("switchboard.db"), &db).unwrap();
    let lead = snapshot
        .resources
        .iter()
        .find(|r| r.name == "leads" && r.count > 0)
        .unwrap()
        .rows[0]
        .id
        .clone();
    let audit_row = snapshot
        .resources
        .iter()
        .find(|r| r.name == "audit" && r.count > 0)
        .unwrap()
        .rows[0]
        .id
        .clone();
    {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        sqlx::query("UPDATE leads SET name = 'Someone Else' WHERE id = ?")
            .bind(&lead)
            .execute(&mut c)
            .await
            .unwrap();
        sqlx::query("DELETE FROM audit_events WHERE id = ?")
            .bind(&audit_row)
            .execute(&mut c)
            .await
            .unwrap();
        c.close().await.unwrap();
    }
    let server = process::serve(&binary(), &home, &format!("sqlite://{}", db.display()))
        .await
        .ok()
        .unwrap();
    let failures = compare(&server.url, &manifest, snapshot).await;
    server.stop().await;
    assert!(
        failures
            .iter()
            .any(|f| f.contains(&lead) && f.contains("changed") && f.contains("Someone Else")),
        "{failures:#?}"
    );
    assert!(
        failures
            .iter()
            .any(|f| f.contains(&audit_row) && f.contains("lost")),
        "{failures:#?}"
    );
}
