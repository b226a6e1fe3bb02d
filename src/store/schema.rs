//! Schema versions: the migrations each store's binary carries, the newest
//! of them (what `--version` names), and the refusal to open a database a
//! newer binary has migrated, before anything reads what it does not know.

use anyhow::Context;
use sqlx::migrate::Migrator;
use sqlx::{PgPool, SqlitePool};

use super::backup;

pub static SQLITE: Migrator = sqlx::migrate!("src/store/sqlite/migrations");
pub static POSTGRES: Migrator = sqlx::migrate!("src/store/postgres/migrations");

/// The newest migration a migrator carries: the schema version it writes.
pub fn newest(migrator: &Migrator) -> i64 {
    migrator.iter().map(|m| m.version).max().unwrap_or(0)
}

pub fn sqlite_version() -> i64 {
    newest(&SQLITE)
}

pub fn postgres_version() -> i64 {
    newest(&POSTGRES)
}

/// Refuses a database with a migration applied that this binary does not
/// carry: newer than its newest (a downgrade), or one it never had.
pub fn refuse_unknown(applied: &[i64], migrator: &Migrator) -> anyhow::Result<()> {
    let known = newest(migrator);
    if let Some(&db) = applied.iter().max() {
        if db > known {
            anyhow::bail!(
                "this database is at schema version {db}, newer than this binary's {known}; \
                 run a newer switchboard (or restore a backup made before the upgrade)"
            );
        }
    }
    if let Some(v) = applied
        .iter()
        .find(|v| !migrator.iter().any(|m| m.version == **v))
    {
        anyhow::bail!(
            "this database has migration {v} applied, which this binary (schema version \
             {known}) does not carry: another build of switchboard migrated it"
        );
    }
    Ok(())
}

/// Checks, then migrates an SQLite database to this binary's schema.
pub async fn migrate_sqlite(pool: &SqlitePool) -> anyhow::Result<()> {
    let table: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_one(pool)
    .await
    .context("cannot read the SQLite database's schema")?;
    if table > 0 {
        let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations")
            .fetch_all(pool)
            .await
            .context("cannot read the SQLite database's applied migrations")?;
        refuse_unknown(&applied, &SQLITE)?;
        back_up_if_risky(pool, &applied).await?;
    }
    SQLITE
        .run(pool)
        .await
        .context("cannot migrate the SQLite database")
}

/// A copy of the database before pending migrations that change existing
/// tables run (`backup::before_migrating`); nothing for a new database.
async fn back_up_if_risky(pool: &SqlitePool, applied: &[i64]) -> anyhow::Result<()> {
    let Some(&from) = applied.iter().max() else {
        return Ok(());
    };
    let risky: Vec<String> = SQLITE
        .iter()
        .filter(|m| !applied.contains(&m.version) && backup::changes_existing_tables(&m.sql))
        .map(|m| format!("{} {}", m.version, m.description))
        .collect();
    let options = pool.connect_options();
    let file = options.get_filename();
    if risky.is_empty() || !file.is_file() {
        return Ok(());
    }
    let to = backup::before_migrating(pool, file, from).await?;
    tracing::warn!(
        backup = %to.display(),
        from,
        to = sqlite_version(),
        migrations = %risky.join(", "),
        "backed up the database before migrations that change existing tables \
         (the last {} such copies are kept)",
        backup::AUTOMATIC_KEPT
    );
    Ok(())
}

/// The versions applied to a PostgreSQL database; none before its first migration.
pub async fn postgres_applied(pool: &PgPool) -> anyhow::Result<Option<Vec<i64>>> {
    let table: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(pool)
        .await
        .context("cannot read the PostgreSQL database's schema")?;
    if !table {
        return Ok(None);
    }
    let applied = sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
        .fetch_all(pool)
        .await
        .context("cannot read the PostgreSQL database's applied migrations")?;
    Ok(Some(applied))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What makes a migration safe to interrupt (tests/upgrade/interrupt.rs):
    /// it and its bookkeeping row commit together. `-- no-transaction`
    /// would give that up.
    #[test]
    fn every_migration_runs_in_its_own_transaction() {
        for m in SQLITE.iter().chain(POSTGRES.iter()) {
            assert!(
                !m.no_tx,
                "migration {} {} opts out of its transaction",
                m.version, m.description
            );
        }
    }

    #[test]
    fn a_newer_database_is_refused_naming_both_versions() {
        let known = sqlite_version();
        let err = refuse_unknown(&[1, known + 2], &SQLITE)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!(
                "schema version {}, newer than this binary's {known}",
                known + 2
            )),
            "{err}"
        );
        assert!(refuse_unknown(&[1, 2], &SQLITE).is_ok());
        assert!(refuse_unknown(&[], &POSTGRES).is_ok());
    }
}
