//! A binary older than the database refuses it, naming both schema
//! versions, instead of reading what it does not understand; and
//! `--version` names the schema this binary writes.

use std::path::Path;

use switchboard::store::schema;

use super::check::{binary, config, generations, pg_admin_url};
use super::process::{self, Home, PgDatabase};

const FUTURE: i64 = 99_990_101;

fn refusal(known: i64) -> String {
    format!("this database is at schema version {FUTURE}, newer than this binary's {known}")
}

/// The largest `NNNN_` prefix among a store's migration files.
fn newest_file(dir: &str) -> i64 {
    std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.split('_').next()?.parse().ok()
        })
        .max()
        .unwrap()
}

#[tokio::test]
async fn version_names_the_schema_of_each_store() {
    let home = Home::new(config());
    let (ok, out, err) = process::run(&binary(), &home, &["--version"], "").await;
    assert!(ok, "{err}");
    let sqlite = newest_file("src/store/sqlite/migrations");
    let postgres = newest_file("src/store/postgres/migrations");
    assert_eq!(
        out.trim(),
        format!(
            "switchboard {} (schema: sqlite {sqlite}, postgres {postgres})",
            env!("CARGO_PKG_VERSION")
        )
    );
}

#[tokio::test]
async fn an_sqlite_database_from_the_future_is_refused() {
    let gen = generations().pop().unwrap();
    let home = Home::new(config());
    let db = home.path().join("switchboard.db");
    std::fs::copy(gen.join("switchboard.db"), &db).unwrap();
    let url = format!("sqlite://{}", db.display());
    {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (?, 'from a newer switchboard', 1, x'00', 0)",
        )
        .bind(FUTURE)
        .execute(&mut c)
        .await
        .unwrap();
        c.close().await.unwrap();
    }
    let expected = refusal(schema::sqlite_version());
    match process::serve(&binary(), &home, &url).await {
        Ok(_) => panic!("serve started on a database from the future"),
        Err(exit) => {
            assert!(!exit.success);
            assert!(exit.stderr.contains(&expected), "{}", exit.stderr);
            assert!(
                exit.stderr.contains("run a newer switchboard"),
                "{}",
                exit.stderr
            );
        }
    }
    let (ok, _, err) =
        process::run(&binary(), &home, &["migrate", "--database-url", &url], "").await;
    assert!(!ok && err.contains(&expected), "{err}");
}

#[tokio::test]
async fn a_postgres_database_from_the_future_is_refused() {
    let Some(admin_url) = pg_admin_url() else {
        println!("SKIPPED: set SWITCHBOARD_TEST_DATABASE_URL to a PostgreSQL superuser URL");
        return;
    };
    let name = format!("sb_future_{}", uuid::Uuid::new_v4().simple());
    let db = PgDatabase::create(&admin_url, &name).await;
    let home = Home::new(config());
    let (ok, _, err) = process::run(
        &binary(),
        &home,
        &["migrate", "--database-url", &db.owner_url],
        "",
    )
    .await;
    assert!(ok, "{err}");
    db.sql(&format!(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES ({FUTURE}, 'from a newer switchboard', true, '\\x00', 0)"
    ))
    .await;
    let expected = refusal(schema::postgres_version());
    match process::serve(&binary(), &home, &db.app_url).await {
        Ok(_) => panic!("serve started on a database from the future"),
        Err(exit) => {
            assert!(!exit.success);
            assert!(exit.stderr.contains(&expected), "{}", exit.stderr);
        }
    }
    let (ok, _, err) = process::run(
        &binary(),
        &home,
        &["migrate", "--database-url", &db.owner_url],
        "",
    )
    .await;
    assert!(!ok && err.contains(&expected), "{err}");
}
