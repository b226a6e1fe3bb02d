//! The PostgreSQL store for team servers: several `serve` processes share
//! one database, and the database itself enforces tenant isolation with
//! row-level security (see `migrations/0001_schema.sql`).
//!
//! The server connects as an application role that owns nothing and cannot
//! bypass RLS. Every tenant-scoped transaction starts with
//! `set_config('app.tenant_id', …, true)` (transaction-local, so a pooled
//! connection never carries a tenant into the next transaction). The few
//! cross-tenant reads go through the owner's SECURITY DEFINER functions
//! (`migrations/0002_functions.sql`). Atomic rules (tier limits, idempotency
//! keys, the last-admin rule) rely on constraints, row locks and conditional
//! updates, never on in-process locks, so they hold across processes.

mod account;
mod agents;
mod analytics;
mod evals;
mod ingest;
mod keys;
mod lead_changes;
mod leads;
mod members;
pub mod migrate;
mod playground;
mod queue;
mod sla;
mod tenants;
mod usage;
mod webhooks;
mod workflows;

use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::conn::{Arg, Backend, Conn, Record, Stmt};
pub(crate) use super::db_error;
use super::sql::Dialect;
use super::{Actor, AuditEntry, StoreError, StoreResult};
use crate::domain::{PageQuery, Role};

pub use migrate::{migrate, APP_ROLE};

pub(crate) type Tx = Transaction<'static, Postgres>;

/// The channel `events` inserts notify on (see the `events_inserted` trigger).
pub(crate) const EVENTS_CHANNEL: &str = "switchboard_events";

#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    /// Form ingests waiting for their tenant's group commit.
    ingest: std::sync::Arc<ingest::Groups>,
}

/// How long a pooled connection may sit idle before it is checked.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// A pool for `url`; the caller decides which role that is.
pub async fn pool(url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    let options: PgConnectOptions = url
        .parse()
        .with_context(|| format!("invalid PostgreSQL URL {:?}", redact(url)))?;
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(30))
        // A connection used within the last second is taken as it is; one
        // idle for longer is pinged first (sqlx's default pings every time,
        // a round trip per query: a fifth of a busy server's ingest call).
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_AFTER_IDLE {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
        .connect_with(options)
        .await
        .with_context(|| format!("cannot connect to PostgreSQL at {}", redact(url)))
}

/// A URL without its password, for messages.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => match url[scheme + 3..at].split_once(':') {
            Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
            None => url.to_string(),
        },
        _ => url.to_string(),
    }
}

impl PgStore {
    /// Connects as the application role and refuses to run when that role
    /// could see past row-level security or the schema is not migrated.
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        let pool = pool(url, 16).await?;
        migrate::check_app_role(&pool).await?;
        migrate::check_migrated(&pool).await?;
        Ok(Self {
            pool,
            ingest: Default::default(),
        })
    }

    /// A transaction scoped to one tenant: RLS shows it only that tenant's
    /// rows and refuses writes of any other tenant's.
    pub(crate) async fn tenant_tx(&self, tenant_id: Uuid) -> StoreResult<Tx> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| db_error(e, "begin a transaction"))?;
        set_tenant(&mut tx, tenant_id).await?;
        Ok(tx)
    }

    /// A transaction on the tables that are not tenant-owned (users,
    /// sessions, tenants); tenant tables are invisible in it.
    pub(crate) async fn global_tx(&self) -> StoreResult<Tx> {
        self.pool
            .begin()
            .await
            .map_err(|e| db_error(e, "begin a transaction"))
    }
}

/// Points the transaction's RLS at `tenant_id` (transaction-local).
pub(crate) async fn set_tenant(tx: &mut Tx, tenant_id: Uuid) -> StoreResult<()> {
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(tenant_id.to_string())
        .execute(&mut **tx)
        .await
        .map_err(|e| db_error(e, "set the transaction's tenant"))?;
    Ok(())
}

/// Times are stored at millisecond precision, like the SQLite store, so
/// cursors carrying milliseconds address rows exactly.
pub(crate) fn ms(t: DateTime<Utc>) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(t.timestamp_millis())
        .single()
        .unwrap_or(t)
}

pub(crate) fn now() -> DateTime<Utc> {
    ms(Utc::now())
}

pub(crate) fn parse_role(s: &str) -> StoreResult<Role> {
    Role::parse(s).ok_or_else(|| StoreError::Other(anyhow::anyhow!("bad role {s:?} in store")))
}

/// A page cursor that must be an id: anything else is a cursor this server
/// never issued.
pub(crate) fn id_cursor(page: &PageQuery) -> StoreResult<Option<Uuid>> {
    page.cursor
        .as_deref()
        .map(|c| Uuid::parse_str(c).map_err(|_| StoreError::BadCursor))
        .transpose()
}

pub(crate) async fn write_audit(
    tx: &mut Tx,
    tenant_id: Uuid,
    actor: &Actor,
    entry: &AuditEntry,
) -> StoreResult<()> {
    super::conn::write_audit(tx, tenant_id, actor, entry).await
}

/// A statement's arguments as PostgreSQL stores them (see [`Arg`]).
fn arguments(args: Vec<Arg>) -> StoreResult<PgArguments> {
    use sqlx::Arguments;
    let mut out = PgArguments::default();
    for arg in args {
        let added = match arg {
            Arg::Id(id) => out.add(id),
            Arg::OptId(id) => out.add(id),
            Arg::Text(t) => out.add(t),
            Arg::OptText(t) => out.add(t),
            Arg::Int(n) => out.add(n),
            Arg::I32(n) => out.add(n),
            Arg::I16(n) => out.add(n),
            Arg::Bool(b) => out.add(b),
            Arg::Time(t) => out.add(ms(t)),
            Arg::Json(v) => out.add(v),
            Arg::OptJson(v) => out.add(v),
            Arg::Ids(v) => out.add(v),
            Arg::OptIds(v) => out.add(v),
            Arg::Texts(v) => out.add(v),
            Arg::I32s(v) => out.add(v),
            Arg::Jsons(v) => out.add(v),
            Arg::OptJsons(v) => out.add(v),
        };
        added.map_err(|e| StoreError::Other(anyhow::anyhow!("cannot bind an argument: {e}")))?;
    }
    Ok(out)
}

#[async_trait]
impl Conn for Tx {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn execute(&mut self, stmt: Stmt) -> StoreResult<u64> {
        sqlx::query_with(&stmt.sql, arguments(stmt.args)?)
            .execute(&mut **self)
            .await
            .map(|done| done.rows_affected())
            .map_err(|e| db_error(e, stmt.doing))
    }

    async fn fetch_all<R: Record>(&mut self, stmt: Stmt) -> StoreResult<Vec<R>> {
        sqlx::query_as_with::<_, R, _>(&stmt.sql, arguments(stmt.args)?)
            .fetch_all(&mut **self)
            .await
            .map_err(|e| db_error(e, stmt.doing))
    }

    async fn fetch_optional<R: Record>(&mut self, stmt: Stmt) -> StoreResult<Option<R>> {
        sqlx::query_as_with::<_, R, _>(&stmt.sql, arguments(stmt.args)?)
            .fetch_optional(&mut **self)
            .await
            .map_err(|e| db_error(e, stmt.doing))
    }

    async fn lock(&mut self, key: String) -> StoreResult<()> {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(key)
            .execute(&mut **self)
            .await
            .map_err(|e| db_error(e, "take a lock"))?;
        Ok(())
    }

    async fn set_tenant(&mut self, tenant_id: Uuid) -> StoreResult<()> {
        set_tenant(self, tenant_id).await
    }

    async fn commit(self, doing: &str) -> StoreResult<()> {
        Transaction::commit(self)
            .await
            .map_err(|e| db_error(e, doing))
    }
}

#[async_trait]
impl Backend for PgStore {
    type Tx = Tx;

    async fn reading(&self, tenant_id: Uuid) -> StoreResult<Tx> {
        self.tenant_tx(tenant_id).await
    }

    async fn writing(&self, tenant_id: Uuid) -> StoreResult<Tx> {
        self.tenant_tx(tenant_id).await
    }

    async fn reading_global(&self) -> StoreResult<Tx> {
        self.global_tx().await
    }

    async fn writing_global(&self) -> StoreResult<Tx> {
        self.global_tx().await
    }
}
