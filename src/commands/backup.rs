//! `switchboard backup` and `switchboard restore`: copies of an SQLite
//! database by hand (PostgreSQL has `pg_dump`).

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteLockingMode};
use sqlx::{ConnectOptions, Connection};

use crate::config::Config;
use crate::store::{self, backup, schema};

fn sqlite_file(config: &Config) -> anyhow::Result<PathBuf> {
    let url = &config.database_url;
    if store::is_postgres(url) {
        anyhow::bail!("backup and restore are for SQLite; back PostgreSQL up with pg_dump");
    }
    let options = SqliteConnectOptions::from_str(url)
        .with_context(|| format!("invalid SQLite URL {url:?}"))?;
    Ok(options.get_filename().to_path_buf())
}

/// Copies the database (live: a server may keep running) to `to`, or to
/// `backups/` beside it.
pub async fn backup(config: &Config, to: Option<PathBuf>) -> anyhow::Result<()> {
    let db = sqlite_file(config)?;
    if !db.is_file() {
        anyhow::bail!("there is no database at {}", db.display());
    }
    let to = to.unwrap_or_else(|| backup::manual_path(&db));
    let pool = store::sqlite::pool(&config.database_url).await?;
    let copied = backup::copy_to(&pool, &to).await;
    pool.close().await;
    copied?;
    println!("backed up {} to {}", db.display(), to.display());
    Ok(())
}

/// Replaces the database with `from` (after a copy of the current one),
/// refusing while a server has it open or when `from` is not a Switchboard
/// database this binary can run.
pub async fn restore(config: &Config, from: &Path) -> anyhow::Result<()> {
    let db = sqlite_file(config)?;
    let from_url = format!("sqlite://{}", from.display());
    let mut source = SqliteConnectOptions::from_str(&from_url)?
        .read_only(true)
        .connect()
        .await
        .with_context(|| format!("cannot open {}", from.display()))?;
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations")
        .fetch_all(&mut source)
        .await
        .with_context(|| format!("{} is not a Switchboard database", from.display()))?;
    source.close().await.ok();
    schema::refuse_unknown(&applied, &schema::SQLITE)
        .with_context(|| format!("cannot restore {}", from.display()))?;

    if db.is_file() {
        // One connection holds the exclusive lock from the check through
        // the copy, so no server opens the file in between; it is closed
        // right before the swap (a pool of our own, closed, could still be
        // releasing the file and read as another process using it).
        let mut lock = lock_unused(&db).await?;
        let kept = backup::manual_path(&db);
        let copied = backup::copy_to(&mut lock, &kept).await;
        lock.close().await.ok();
        copied?;
        println!("the database it replaces is kept at {}", kept.display());
    }
    let tmp = db.with_extension("restoring");
    std::fs::copy(from, &tmp).with_context(|| format!("cannot copy {}", from.display()))?;
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", db.display()));
        if side.exists() {
            std::fs::remove_file(&side)
                .with_context(|| format!("cannot remove {}", side.display()))?;
        }
    }
    std::fs::rename(&tmp, &db).with_context(|| format!("cannot replace {}", db.display()))?;
    println!(
        "restored {} from {} (schema {}); it migrates to {} on the next start",
        db.display(),
        from.display(),
        applied.iter().max().copied().unwrap_or(0),
        schema::sqlite_version()
    );
    Ok(())
}

/// A connection holding the database's exclusive lock (exclusive locking
/// mode keeps it until the connection closes); refused while another
/// process (a server, the console) has the file open, which keeps that lock
/// out of reach. A lock held only for a moment is waited for, up to two
/// seconds.
async fn lock_unused(db: &Path) -> anyhow::Result<SqliteConnection> {
    let url = format!("sqlite://{}", db.display());
    for _ in 0..20 {
        let mut conn = SqliteConnectOptions::from_str(&url)?
            .locking_mode(SqliteLockingMode::Exclusive)
            .busy_timeout(Duration::ZERO)
            .connect()
            .await
            .with_context(|| format!("cannot open {}", db.display()))?;
        let locked = sqlx::query("BEGIN EXCLUSIVE").execute(&mut conn).await;
        let _ = sqlx::query("ROLLBACK").execute(&mut conn).await;
        if locked.is_ok() {
            return Ok(conn);
        }
        conn.close().await.ok();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!(
        "{} is in use (a `switchboard serve` or console has it open); stop it and try again",
        db.display()
    )
}
