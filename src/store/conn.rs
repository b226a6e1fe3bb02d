//! Flows written once for both backends: a statement is its SQL (written
//! once, `$n` placeholders, see [`Dialect`]) and its arguments as values
//! ([`Arg`]), which each backend binds the way it stores them; a flow runs
//! statements on a [`Conn`] that a [`Backend`] opens.
//!
//! A rule and its flow then live in `store/<resource>`, and a backend holds
//! only what really differs: how it opens a transaction, how it binds a
//! value, and the statements its engine writes differently.

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use uuid::Uuid;

use super::sql::Dialect;
use super::{Actor, AuditEntry, StoreResult};

/// One value of a statement, named by what it is, not how it is stored:
///
/// | value | PostgreSQL | SQLite |
/// |---|---|---|
/// | `Id` | `uuid` | text |
/// | `Time` | `timestamptz` (to the millisecond) | epoch milliseconds |
/// | `Json` | `jsonb` | text |
/// | `Int`, `I32`, `I16` | `bigint`, `integer`, `smallint` | integer |
/// | `Bool` | `boolean` | 0 / 1 |
/// | a list (`Ids`, `Texts`, `I32s`, `Jsons`) | an array | a JSON array as text |
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Id(Uuid),
    OptId(Option<Uuid>),
    Text(String),
    OptText(Option<String>),
    Int(i64),
    I32(i32),
    I16(i16),
    Bool(bool),
    Time(DateTime<Utc>),
    Json(serde_json::Value),
    OptJson(Option<serde_json::Value>),
    Ids(Vec<Uuid>),
    OptIds(Option<Vec<Uuid>>),
    Texts(Vec<String>),
    I32s(Vec<i32>),
    Jsons(Vec<serde_json::Value>),
    OptJsons(Vec<Option<serde_json::Value>>),
}

/// A statement to run: its SQL as PostgreSQL writes it (the backend
/// writes it for its dialect), its arguments in order, and what it does
/// (for the error when it fails).
#[derive(Debug, Clone)]
pub(crate) struct Stmt {
    pub sql: String,
    pub args: Vec<Arg>,
    pub doing: &'static str,
}

impl Stmt {
    pub fn new(sql: impl Into<String>, doing: &'static str) -> Self {
        Stmt {
            sql: sql.into(),
            args: Vec::new(),
            doing,
        }
    }

    pub fn arg(mut self, arg: Arg) -> Self {
        self.args.push(arg);
        self
    }

    pub fn id(self, id: Uuid) -> Self {
        self.arg(Arg::Id(id))
    }

    pub fn text(self, text: impl Into<String>) -> Self {
        self.arg(Arg::Text(text.into()))
    }

    pub fn opt_text(self, text: Option<impl Into<String>>) -> Self {
        self.arg(Arg::OptText(text.map(Into::into)))
    }

    pub fn time(self, t: DateTime<Utc>) -> Self {
        self.arg(Arg::Time(t))
    }

    pub fn json(self, v: serde_json::Value) -> Self {
        self.arg(Arg::Json(v))
    }
}

/// A row type both backends read with `FromRow` (see [`super::row`]).
pub(crate) trait Record:
    for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
    + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
    + Send
    + Unpin
    + 'static
{
}

impl<T> Record for T where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin
        + 'static
{
}

/// A connection or transaction of one backend, scoped to one tenant.
#[async_trait]
pub(crate) trait Conn: Send {
    fn dialect(&self) -> Dialect;
    /// Runs `stmt`; the rows it changed.
    async fn execute(&mut self, stmt: Stmt) -> StoreResult<u64>;
    async fn fetch_all<R: Record>(&mut self, stmt: Stmt) -> StoreResult<Vec<R>>;
    async fn fetch_optional<R: Record>(&mut self, stmt: Stmt) -> StoreResult<Option<R>>;
    async fn fetch_one<R: Record>(&mut self, stmt: Stmt) -> StoreResult<R> {
        let stmt_doing = stmt.doing;
        self.fetch_optional(stmt)
            .await?
            .ok_or_else(|| super::StoreError::Other(anyhow::anyhow!("cannot {stmt_doing}: no row")))
    }
    /// Holds `key` until the transaction ends, so transactions that count
    /// before they add take turns across processes (PostgreSQL's
    /// transaction-scoped advisory lock; SQLite's write transaction holds
    /// the whole database already).
    async fn lock(&mut self, key: String) -> StoreResult<()>;
    /// Points the transaction at `tenant_id`'s rows from here on
    /// (PostgreSQL's RLS; SQLite has nothing to point).
    async fn set_tenant(&mut self, tenant_id: Uuid) -> StoreResult<()>;
    async fn commit(self, doing: &str) -> StoreResult<()>
    where
        Self: Sized;
}

/// A store that opens tenant-scoped transactions.
#[async_trait]
pub(crate) trait Backend: Send + Sync + 'static {
    type Tx: Conn;
    /// Where to read one tenant's rows.
    async fn reading(&self, tenant_id: Uuid) -> StoreResult<Self::Tx>;
    /// A transaction to change one tenant's rows (SQLite: with the
    /// database's write lock taken up front).
    async fn writing(&self, tenant_id: Uuid) -> StoreResult<Self::Tx>;
    /// Where to read the tables no tenant owns (users, tenants, platform
    /// settings); tenant tables are invisible there on PostgreSQL.
    async fn reading_global(&self) -> StoreResult<Self::Tx>;
    /// A transaction to change the tables no tenant owns.
    async fn writing_global(&self) -> StoreResult<Self::Tx>;
}

/// The audit entry written with a change, in the change's transaction.
pub(crate) fn audit_stmt(tenant_id: Uuid, actor: &Actor, entry: &AuditEntry) -> Stmt {
    Stmt::new(
        "INSERT INTO audit_events (tenant_id, id, actor_id, actor_email, action, resource, \
         resource_id, changes, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        "write the audit log",
    )
    .id(tenant_id)
    .id(Uuid::now_v7())
    .arg(Arg::OptId(actor.user_id))
    .opt_text(actor.email.clone())
    .text(entry.action)
    .text(entry.resource)
    .text(entry.resource_id.clone())
    .json(entry.changes.clone())
    .time(Utc::now())
}

pub(crate) async fn write_audit<C: Conn>(
    conn: &mut C,
    tenant_id: Uuid,
    actor: &Actor,
    entry: &AuditEntry,
) -> StoreResult<()> {
    conn.execute(audit_stmt(tenant_id, actor, entry)).await?;
    Ok(())
}

/// Appends to the tenant's event log (read by live streams, resumable);
/// the event's sequence number. PostgreSQL's goes through the owner's
/// `sb_append_event`, which numbers a tenant's events without gaps.
pub(crate) async fn log_event<C: Conn>(
    c: &mut C,
    tenant_id: Uuid,
    kind: &str,
    data: serde_json::Value,
    now: DateTime<Utc>,
) -> StoreResult<i64> {
    let sql = match c.dialect() {
        Dialect::Postgres => "SELECT sb_append_event($1, $2, $3, $4)",
        Dialect::Sqlite => {
            "INSERT INTO events (tenant_id, kind, data, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING id"
        }
    };
    let stmt = Stmt::new(sql, "write an event")
        .id(tenant_id)
        .text(kind)
        .json(data)
        .time(now);
    let (seq,) = c.fetch_one::<(i64,)>(stmt).await?;
    Ok(seq)
}

/// A time to the millisecond, as both stores keep them (so cursors
/// carrying milliseconds address rows exactly).
pub(crate) fn to_ms(t: DateTime<Utc>) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(t.timestamp_millis())
        .single()
        .unwrap_or(t)
}
