//! Copies of an SQLite database: taken automatically before a migration that
//! changes existing tables (the last three are kept), and by hand with
//! `switchboard backup` / `switchboard restore`.
//!
//! A copy is made with `VACUUM INTO`: a consistent snapshot of a live
//! database (readers and the server carry on), written to a new file.

use std::path::{Path, PathBuf};

use anyhow::Context;
use sqlx::SqlitePool;

/// Automatic copies kept per database.
pub const AUTOMATIC_KEPT: usize = 3;

/// Where the copies of `db` go: `backups/` beside it.
pub fn dir(db: &Path) -> PathBuf {
    db.parent()
        .unwrap_or_else(|| Path::new("."))
        .join("backups")
}

fn stem(db: &Path) -> String {
    db.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("switchboard")
        .to_string()
}

fn timestamp() -> String {
    chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ").to_string()
}

/// The file a manual backup of `db` goes to by default.
pub fn manual_path(db: &Path) -> PathBuf {
    dir(db).join(format!("{}-{}.db", stem(db), timestamp()))
}

fn automatic_prefix(db: &Path) -> String {
    format!("{}-before-migrating-", stem(db))
}

/// Writes a consistent copy of the database `db` (a pool or one
/// connection) is open on to `to`, which must not exist yet.
pub async fn copy_to<'c>(db: impl sqlx::SqliteExecutor<'c>, to: &Path) -> anyhow::Result<()> {
    if to.exists() {
        anyhow::bail!("{} already exists; name a new file", to.display());
    }
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let target = to
        .to_str()
        .with_context(|| format!("{} is not a UTF-8 path", to.display()))?;
    sqlx::query("VACUUM INTO ?")
        .bind(target)
        .execute(db)
        .await
        .with_context(|| format!("cannot back the database up to {}", to.display()))?;
    Ok(())
}

/// Before migrating `db` from schema `from`: a copy, and only the newest
/// `AUTOMATIC_KEPT` automatic copies left. Returns where the copy is.
pub async fn before_migrating(pool: &SqlitePool, db: &Path, from: i64) -> anyhow::Result<PathBuf> {
    let to = dir(db).join(format!(
        "{}{}-schema-{from}.db",
        automatic_prefix(db),
        timestamp()
    ));
    copy_to(pool, &to).await?;
    prune(db)?;
    Ok(to)
}

/// The automatic copies of `db`, oldest first.
pub fn automatic(db: &Path) -> Vec<PathBuf> {
    let prefix = automatic_prefix(db);
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir(db))
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".db"))
                })
                .collect()
        })
        .unwrap_or_default();
    // The timestamp in the name sorts by time.
    out.sort();
    out
}

fn prune(db: &Path) -> anyhow::Result<()> {
    let copies = automatic(db);
    let extra = copies.len().saturating_sub(AUTOMATIC_KEPT);
    for old in &copies[..extra] {
        std::fs::remove_file(old)
            .with_context(|| format!("cannot remove the old backup {}", old.display()))?;
    }
    Ok(())
}

/// Whether a migration alters, drops or rewrites what is already there,
/// rather than only adding tables and indexes. Cautious: a trigger body
/// that updates counts too.
pub fn changes_existing_tables(sql: &str) -> bool {
    let code: String = sql
        .lines()
        .map(|l| l.split("--").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
        .to_uppercase();
    let words: Vec<&str> = code.split_whitespace().collect();
    words.windows(2).any(|w| {
        matches!(
            (w[0], w[1]),
            ("ALTER", "TABLE") | ("DROP", _) | ("DELETE", "FROM") | ("INSERT", "INTO")
        )
    }) || words.contains(&"UPDATE")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_migrations_touching_existing_tables_are_risky() {
        assert!(!changes_existing_tables(
            "-- adds an index; does not UPDATE anything\nCREATE TABLE a (id TEXT);\nCREATE INDEX a_id ON a (id);"
        ));
        assert!(changes_existing_tables(
            "ALTER TABLE leads ADD COLUMN x TEXT;"
        ));
        assert!(changes_existing_tables("update leads set x = 1;"));
        assert!(changes_existing_tables("DROP INDEX old;"));
        assert!(changes_existing_tables("INSERT INTO t SELECT * FROM u;"));
    }
}
