//! The embedded SQLite store (WAL, busy timeout, `BEGIN IMMEDIATE` for writes,
//! so two processes on one file wait for each other instead of corrupting it).

mod account;
mod agents;
mod analytics;
mod batch;
mod evals;
mod keys;
mod lead_changes;
mod leads;
mod members;
mod playground;
mod queue;
mod sla;
mod tenants;
mod usage;
mod webhooks;
mod workflows;

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqliteConnection, SqlitePool, Transaction};
use uuid::Uuid;

use super::conn::{Arg, Backend, Conn, Record, Stmt};
pub(crate) use super::db_error;
use super::sql::Dialect;
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

pub(crate) async fn write_audit(
    tx: &mut Transaction<'static, Sqlite>,
    tenant_id: Uuid,
    actor: &Actor,
    entry: &AuditEntry,
) -> StoreResult<()> {
    execute(tx, super::conn::audit_stmt(tenant_id, actor, entry)).await?;
    Ok(())
}

/// A statement's arguments as SQLite stores them (see [`Arg`]).
fn arguments<'q>(args: Vec<Arg>) -> StoreResult<sqlx::sqlite::SqliteArguments<'q>> {
    use sqlx::Arguments;
    fn list<T: serde::Serialize>(v: &T) -> String {
        serde_json::to_string(v).unwrap_or_default()
    }
    let mut out = sqlx::sqlite::SqliteArguments::default();
    for arg in args {
        let added = match arg {
            Arg::Id(id) => out.add(id.to_string()),
            Arg::OptId(id) => out.add(id.map(|i| i.to_string())),
            Arg::Text(t) => out.add(t),
            Arg::OptText(t) => out.add(t),
            Arg::Int(n) => out.add(n),
            Arg::I32(n) => out.add(i64::from(n)),
            Arg::I16(n) => out.add(i64::from(n)),
            Arg::Bool(b) => out.add(b as i64),
            Arg::Time(t) => out.add(t.timestamp_millis()),
            Arg::Json(v) => out.add(v.to_string()),
            Arg::OptJson(v) => out.add(v.map(|v| v.to_string())),
            Arg::Ids(v) => out.add(list(&v)),
            Arg::OptIds(v) => out.add(v.map(|v| list(&v))),
            Arg::Texts(v) => out.add(list(&v)),
            Arg::I32s(v) => out.add(list(&v)),
            Arg::Jsons(v) => out.add(list(&v)),
            Arg::OptJsons(v) => out.add(list(&v)),
        };
        added.map_err(|e| StoreError::Other(anyhow::anyhow!("cannot bind an argument: {e}")))?;
    }
    Ok(out)
}

pub(crate) async fn execute(conn: &mut SqliteConnection, stmt: Stmt) -> StoreResult<u64> {
    let sql = Dialect::Sqlite.write(&stmt.sql);
    sqlx::query_with(&sql, arguments(stmt.args)?)
        .execute(conn)
        .await
        .map(|done| done.rows_affected())
        .map_err(|e| db_error(e, stmt.doing))
}

async fn fetch_all<R: Record>(conn: &mut SqliteConnection, stmt: Stmt) -> StoreResult<Vec<R>> {
    let sql = Dialect::Sqlite.write(&stmt.sql);
    sqlx::query_as_with::<_, R, _>(&sql, arguments(stmt.args)?)
        .fetch_all(conn)
        .await
        .map_err(|e| db_error(e, stmt.doing))
}

async fn fetch_optional<R: Record>(
    conn: &mut SqliteConnection,
    stmt: Stmt,
) -> StoreResult<Option<R>> {
    let sql = Dialect::Sqlite.write(&stmt.sql);
    sqlx::query_as_with::<_, R, _>(&sql, arguments(stmt.args)?)
        .fetch_optional(conn)
        .await
        .map_err(|e| db_error(e, stmt.doing))
}

/// A connection to read on, or a write transaction holding the writer's
/// turn until it ends.
pub(crate) enum SqliteTx {
    Read(PoolConnection<Sqlite>),
    Write(
        Transaction<'static, Sqlite>,
        tokio::sync::OwnedMutexGuard<()>,
    ),
}

impl SqliteTx {
    fn conn(&mut self) -> &mut SqliteConnection {
        match self {
            SqliteTx::Read(conn) => conn,
            SqliteTx::Write(tx, _) => tx,
        }
    }
}

#[async_trait]
impl Conn for SqliteTx {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn execute(&mut self, stmt: Stmt) -> StoreResult<u64> {
        execute(self.conn(), stmt).await
    }

    async fn fetch_all<R: Record>(&mut self, stmt: Stmt) -> StoreResult<Vec<R>> {
        fetch_all(self.conn(), stmt).await
    }

    async fn fetch_optional<R: Record>(&mut self, stmt: Stmt) -> StoreResult<Option<R>> {
        fetch_optional(self.conn(), stmt).await
    }

    async fn lock(&mut self, _key: String) -> StoreResult<()> {
        Ok(())
    }

    async fn set_tenant(&mut self, _tenant_id: Uuid) -> StoreResult<()> {
        Ok(())
    }

    async fn commit(self, doing: &str) -> StoreResult<()> {
        match self {
            SqliteTx::Read(_) => Ok(()),
            SqliteTx::Write(tx, _writer) => tx.commit().await.map_err(|e| db_error(e, doing)),
        }
    }
}

#[async_trait]
impl Backend for SqliteStore {
    type Tx = SqliteTx;

    async fn reading(&self, _tenant_id: Uuid) -> StoreResult<SqliteTx> {
        self.reading_global().await
    }

    async fn writing(&self, _tenant_id: Uuid) -> StoreResult<SqliteTx> {
        self.writing_global().await
    }

    async fn reading_global(&self) -> StoreResult<SqliteTx> {
        let conn = self
            .pool
            .acquire()
            .await
            .map_err(|e| db_error(e, "read the database"))?;
        Ok(SqliteTx::Read(conn))
    }

    async fn writing_global(&self) -> StoreResult<SqliteTx> {
        let (writer, tx) = self.write().await?;
        Ok(SqliteTx::Write(tx, writer))
    }
}

/// Cursor condition helpers: cursors are ids (UUIDv7 text).
pub(crate) fn cursor(page: &PageQuery) -> Option<String> {
    page.cursor.clone()
}
