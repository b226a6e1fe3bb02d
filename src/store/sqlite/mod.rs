//! The embedded SQLite store (WAL, busy timeout, `BEGIN IMMEDIATE` for writes,
//! so two processes on one file wait for each other instead of corrupting it).

mod account;
mod agents;
mod analytics;
mod batch;
mod evals;
mod keys;
mod knowledge;
mod lead_changes;
mod leads;
mod members;
mod platform;
mod playground;
mod purge;
mod queue;
mod sla;
mod tenants;
mod usage;
mod webhooks;
mod workflows;
mod workspaces;

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, TimeZone, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use uuid::Uuid;

use super::{Actor, AuditEntry, StoreError, StoreResult};
use crate::domain::{PageQuery, Role};

/// A pool with the store's durability settings: WAL, `synchronous = FULL`
/// (a commit survives power loss), a busy timeout, foreign keys on.
pub async fn pool(url: &str) -> anyhow::Result<SqlitePool> {
    let options = SqliteConnectOptions::from_str(url)
        .with_context(|| format!("invalid SQLite URL {url:?}"))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true);
    SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .with_context(|| format!("cannot open the SQLite database at {url}"))
}

#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Writers of this process queue here, in order, instead of spinning in
    /// SQLite's busy handler (which sleeps up to 100 ms between tries).
    writer: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Lead inserts go through the group-commit writer.
    inserts: tokio::sync::mpsc::Sender<batch::InsertJob>,
}

impl SqliteStore {
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        let pool = pool(url).await?;
        super::schema::migrate_sqlite(&pool).await?;
        let writer: std::sync::Arc<tokio::sync::Mutex<()>> = Default::default();
        let inserts = batch::spawn_writer(pool.clone(), writer.clone());
        Ok(Self {
            pool,
            writer,
            inserts,
        })
    }

    /// A write transaction that takes the database's write lock up front;
    /// hold the guard until the transaction ends.
    async fn write(
        &self,
    ) -> StoreResult<(
        tokio::sync::OwnedMutexGuard<()>,
        Transaction<'static, Sqlite>,
    )> {
        let guard = self.writer.clone().lock_owned().await;
        let tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| db_error(e, "begin a write transaction"))?;
        Ok((guard, tx))
    }
}

impl SqliteStore {
    /// The writer's turn for one statement outside a transaction. Every
    /// write waits for it, in order (tokio's mutex is fair): a statement run
    /// straight on the pool would instead wait in SQLite's busy handler,
    /// which is not, and behind a steady stream of write transactions (a
    /// webhook dispatcher retrying hundreds of deliveries) it gave up after
    /// the 10 s busy timeout and the request answered 500.
    pub(crate) async fn writer_turn(&self) -> tokio::sync::OwnedMutexGuard<()> {
        self.writer.clone().lock_owned().await
    }
}

pub(crate) fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

pub(crate) fn to_dt(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

pub(crate) fn parse_uuid(s: &str) -> StoreResult<Uuid> {
    Uuid::parse_str(s).map_err(|e| StoreError::Other(anyhow::anyhow!("bad id {s:?} in store: {e}")))
}

pub(crate) fn parse_role(s: &str) -> StoreResult<Role> {
    Role::parse(s).ok_or_else(|| StoreError::Other(anyhow::anyhow!("bad role {s:?} in store")))
}

/// Maps a database error: unique violations become `Conflict` naming the field.
pub(crate) fn db_error(e: sqlx::Error, doing: &str) -> StoreError {
    if let Some(db) = e.as_database_error() {
        if db.is_unique_violation() {
            let msg = db.message();
            let field = if msg.contains("slug") {
                "slug"
            } else if msg.contains("email") {
                "email"
            } else if msg.contains("memberships") {
                "user"
            } else {
                "id"
            };
            return StoreError::Conflict { field };
        }
    }
    StoreError::Other(anyhow::Error::new(e).context(format!("cannot {doing}")))
}

pub(crate) async fn write_audit(
    tx: &mut Transaction<'static, Sqlite>,
    tenant_id: Uuid,
    actor: &Actor,
    entry: &AuditEntry,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO audit_events (tenant_id, id, actor_id, actor_email, action, resource, \
         resource_id, changes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(tenant_id.to_string())
    .bind(Uuid::now_v7().to_string())
    .bind(actor.user_id.map(|u| u.to_string()))
    .bind(actor.email.as_deref())
    .bind(entry.action)
    .bind(entry.resource)
    .bind(&entry.resource_id)
    .bind(entry.changes.to_string())
    .bind(now_ms())
    .execute(&mut **tx)
    .await
    .map_err(|e| db_error(e, "write the audit log"))?;
    Ok(())
}

/// Cursor condition helpers: cursors are ids (UUIDv7 text).
pub(crate) fn cursor(page: &PageQuery) -> Option<String> {
    page.cursor.clone()
}
