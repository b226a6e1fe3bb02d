//! The database's schema version against this binary's, the migrations
//! still to run, and (SQLite) the backups kept beside it. Read-only.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use super::files::sqlite_file;
use super::{size, Check};
use crate::commands::serve::redact;
use crate::config::Config;
use crate::store::{backup, schema};

pub async fn checks(config: &Config) -> Vec<Check> {
    match sqlite_file(&config.database_url) {
        Some(file) => {
            let mut checks = vec![sqlite_schema(&file).await];
            checks.push(backups(&file));
            checks
        }
        None => vec![postgres_schema(&config.database_url).await],
    }
}

/// The applied versions of an SQLite file, opened read-only.
async fn sqlite_applied(file: &Path) -> anyhow::Result<Option<Vec<i64>>> {
    let url = format!("sqlite://{}", file.display());
    let mut conn = SqliteConnectOptions::from_str(&url)?
        .read_only(true)
        .busy_timeout(Duration::from_secs(2))
        .connect()
        .await?;
    let table: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_one(&mut conn)
    .await?;
    let applied = if table > 0 {
        Some(
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
                .fetch_all(&mut conn)
                .await?,
        )
    } else {
        None
    };
    conn.close().await.ok();
    Ok(applied)
}

async fn sqlite_schema(file: &Path) -> Check {
    let binary = schema::sqlite_version();
    if !file.exists() {
        return Check::ok(
            "schema",
            format!(
                "no database yet: the first start creates it at schema {binary} (this binary's)"
            ),
        );
    }
    match sqlite_applied(file).await {
        Ok(applied) => compare(applied.unwrap_or_default(), &schema::SQLITE, true),
        Err(e) => Check::fail("schema", format!("cannot read {}: {e:#}", file.display()))
            .hint("is it a Switchboard database? `switchboard restore FILE` puts a backup back"),
    }
}

async fn postgres_schema(url: &str) -> Check {
    let unreachable = |why: String| {
        Check::fail(
            "schema",
            format!("cannot connect to {}: {why}", redact(url)),
        )
        .hint("check database_url, that PostgreSQL runs there and accepts this role")
    };
    // One connection first: a pool would hide why it failed behind a timeout.
    let first = async {
        let options = sqlx::postgres::PgConnectOptions::from_str(url)?;
        sqlx::PgConnection::connect_with(&options).await
    };
    match tokio::time::timeout(Duration::from_secs(6), first).await {
        Ok(Ok(conn)) => {
            conn.close().await.ok();
        }
        Ok(Err(e)) => return unreachable(e.to_string()),
        Err(_) => return unreachable("no answer in 6 s".into()),
    }
    let pool = match sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect(url)
        .await
    {
        Ok(pool) => pool,
        Err(e) => return unreachable(e.to_string()),
    };
    let applied = schema::postgres_applied(&pool).await;
    pool.close().await;
    match applied {
        Ok(applied) => compare(applied.unwrap_or_default(), &schema::POSTGRES, false),
        Err(e) => Check::fail("schema", format!("{e:#}")),
    }
}

/// The database's schema against this binary's: newer or foreign is a
/// failure, pending migrations a warning.
fn compare(applied: Vec<i64>, migrator: &Migrator, sqlite: bool) -> Check {
    let binary = schema::newest(migrator);
    let db = applied.iter().max().copied().unwrap_or(0);
    if let Err(e) = schema::refuse_unknown(&applied, migrator) {
        return Check::fail("schema", format!("{e:#}"))
            .hint("run the switchboard that wrote this database, or restore a backup made before");
    }
    let pending: Vec<String> = migrator
        .iter()
        .filter(|m| !applied.contains(&m.version))
        .map(|m| {
            let risky = sqlite && backup::changes_existing_tables(&m.sql);
            format!(
                "{} {}{}",
                m.version,
                m.description,
                if risky {
                    " (changes existing tables: backed up first)"
                } else {
                    ""
                }
            )
        })
        .collect();
    if applied.is_empty() && !sqlite {
        return Check::warn(
            "schema",
            format!("no Switchboard schema in this database yet (this binary's: {binary})"),
        )
        .hint("run `switchboard migrate --database-url postgres://OWNER@HOST/DB` as the owner");
    }
    if pending.is_empty() {
        return Check::ok(
            "schema",
            format!("version {db}, this binary's {binary}: up to date"),
        );
    }
    let how = if sqlite {
        "the next start migrates it (or `switchboard migrate`)"
    } else {
        "run `switchboard migrate --database-url postgres://OWNER@HOST/DB` as the owner"
    };
    Check::warn(
        "schema",
        format!(
            "version {db}, this binary's {binary}: {} migration{} pending",
            pending.len(),
            if pending.len() == 1 { "" } else { "s" }
        ),
    )
    .items(pending)
    .hint(how)
}

/// The copies in `backups/` beside the database: automatic ones (made
/// before a risky migration, the last few kept) and manual ones.
fn backups(db: &Path) -> Check {
    let dir = backup::dir(db);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| e.path().extension().is_some_and(|x| x == "db"))
                .filter_map(|e| e.metadata().ok().map(|m| (e.path(), m)))
                .collect()
        })
        .unwrap_or_default();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    if files.is_empty() {
        return Check::ok(
            "backups",
            format!(
                "none in {} (one is made before a migration that changes existing \
                 tables; `switchboard backup` makes one by hand)",
                dir.display()
            ),
        );
    }
    let automatic = backup::automatic(db);
    let items = files
        .iter()
        .map(|(path, meta)| {
            let when = meta
                .modified()
                .map(|t| {
                    chrono::DateTime::<chrono::Utc>::from(t)
                        .format("%Y-%m-%d %H:%M UTC")
                        .to_string()
                })
                .unwrap_or_else(|_| "time unknown".into());
            let kind = if automatic.contains(path) {
                "automatic, before migrating"
            } else {
                "by hand"
            };
            format!("{}  {when}  {}  ({kind})", path.display(), size(meta.len()))
        })
        .collect();
    Check::ok(
        "backups",
        format!(
            "{} in {} (the last {} automatic ones are kept; `switchboard restore FILE` \
             puts one back)",
            files.len(),
            dir.display(),
            backup::AUTOMATIC_KEPT
        ),
    )
    .items(items)
}
