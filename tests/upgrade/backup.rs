//! SQLite copies: automatic before migrations that change existing tables
//! (three kept), and `switchboard backup` / `restore` by hand, refused while
//! a server has the file open.

use std::path::Path;

use switchboard::store::{backup, schema};

use super::check::{binary, compare, config, generations, manifest};
use super::process::{self, Home};

async fn schema_of(db: &Path) -> i64 {
    use sqlx::Connection;
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=ro", db.display()))
        .await
        .unwrap();
    let v: i64 = sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations")
        .fetch_one(&mut c)
        .await
        .unwrap();
    c.close().await.unwrap();
    v
}

#[tokio::test]
async fn only_the_newest_three_automatic_copies_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    std::fs::copy(generations().pop().unwrap().join("switchboard.db"), &db).unwrap();
    let pool = switchboard::store::sqlite::pool(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let mut made = Vec::new();
    for _ in 0..5 {
        made.push(backup::before_migrating(&pool, &db, 7).await.unwrap());
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    pool.close().await;
    assert_eq!(backup::automatic(&db), made[2..].to_vec());
    for copy in &made[2..] {
        assert_eq!(schema_of(copy).await, schema_of(&db).await);
    }
}

/// The fixture is at an old schema: migrating it copies it first when a
/// pending migration changes existing tables, and the copy is the old data.
#[tokio::test]
async fn migrating_an_old_database_copies_it_first_when_tables_change() {
    let gen = generations().pop().unwrap();
    let home = Home::new(config());
    let db = home.path().join("switchboard.db");
    std::fs::copy(gen.join("switchboard.db"), &db).unwrap();
    let before = schema_of(&db).await;
    let risky = schema::SQLITE
        .iter()
        .any(|m| m.version > before && backup::changes_existing_tables(&m.sql));
    let url = format!("sqlite://{}", db.display());
    let (ok, _, err) =
        process::run(&binary(), &home, &["migrate", "--database-url", &url], "").await;
    assert!(ok, "{err}");
    let copies = backup::automatic(&db);
    if !risky {
        assert!(
            copies.is_empty(),
            "a copy without a risky migration: {copies:?}"
        );
        println!("no pending migration changes existing tables; nothing to copy");
        return;
    }
    assert_eq!(copies.len(), 1, "{copies:?}");
    assert!(
        err.contains("backed up the database") && err.contains(&copies[0].display().to_string()),
        "{err}"
    );
    assert_eq!(schema_of(&copies[0]).await, before);
    assert_eq!(schema_of(&db).await, schema::sqlite_version());
}

#[tokio::test]
async fn a_backup_restores_while_no_server_uses_the_file() {
    let gen = generations().pop().unwrap();
    let manifest = manifest(&gen);
    let home = Home::new(config());
    let db = home.path().join("switchboard.db");
    std::fs::copy(gen.join("switchboard.db"), &db).unwrap();
    let url = format!("sqlite://{}", db.display());
    let copy = home.path().join("copy.db");
    let copy_arg = copy.display().to_string();

    // A live copy while the server runs; then data changes behind its back.
    let server = process::serve(&binary(), &home, &url).await.ok().unwrap();
    let (ok, out, err) = process::run(
        &binary(),
        &home,
        &["backup", "--database-url", &url, "--to", &copy_arg],
        "",
    )
    .await;
    assert!(ok && out.contains(&copy_arg), "{out}{err}");
    {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("UPDATE leads SET name = 'Changed After The Backup'")
            .execute(&mut c)
            .await
            .unwrap();
        c.close().await.unwrap();
    }
    let (ok, _, err) = process::run(
        &binary(),
        &home,
        &["restore", &copy_arg, "--database-url", &url],
        "",
    )
    .await;
    assert!(!ok && err.contains("is in use"), "{err}");
    server.stop().await;

    let (ok, out, err) = process::run(
        &binary(),
        &home,
        &["restore", &copy_arg, "--database-url", &url],
        "",
    )
    .await;
    assert!(ok, "{err}");
    assert!(out.contains("the database it replaces is kept at"), "{out}");
    let server = process::serve(&binary(), &home, &url).await.ok().unwrap();
    let failures = compare(&server.url, &manifest, &manifest.stores["sqlite"]).await;
    server.stop().await;
    assert!(failures.is_empty(), "{failures:#?}");
}

#[tokio::test]
async fn a_database_from_a_newer_binary_is_not_restored() {
    let gen = generations().pop().unwrap();
    let home = Home::new(config());
    let future = home.path().join("future.db");
    std::fs::copy(gen.join("switchboard.db"), &future).unwrap();
    {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", future.display()))
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (99990101, 'future', 1, x'00', 0)",
        )
        .execute(&mut c)
        .await
        .unwrap();
        c.close().await.unwrap();
    }
    let url = format!("sqlite://{}", home.path().join("switchboard.db").display());
    let arg = future.display().to_string();
    let (ok, _, err) = process::run(
        &binary(),
        &home,
        &["restore", &arg, "--database-url", &url],
        "",
    )
    .await;
    assert!(!ok && err.contains("newer than this binary's"), "{err}");
    assert!(!home.path().join("switchboard.db").exists());
}
