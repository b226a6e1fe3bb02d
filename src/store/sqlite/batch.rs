//! Group commit for lead inserts: requests that arrive while a commit is in
//! flight share the next transaction, so one fsync acknowledges many leads.
//! Each insert runs inside its own savepoint: one that fails (limit reached,
//! idempotency mismatch) rolls back alone, and every lead is acknowledged
//! only after the commit that holds it.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::SqlitePool;
use tokio::sync::{mpsc, oneshot, Mutex};
use uuid::Uuid;

use super::db_error;
use super::leads::insert_lead_in;
use crate::store::{
    Actor, Idempotency, IngestOutcome, LeadLimit, NewLeadRow, StoreError, StoreResult,
};

/// At most this many inserts share one transaction.
const MAX_BATCH: usize = 64;

pub(super) struct InsertJob {
    actor: Actor,
    tenant_id: Uuid,
    /// The API key a form ingest came with: re-checked in the write.
    key: Option<Uuid>,
    row: NewLeadRow,
    limit: LeadLimit,
    idempotency: Option<Idempotency>,
    now: DateTime<Utc>,
    reply: oneshot::Sender<StoreResult<IngestOutcome>>,
}

impl InsertJob {
    /// A job for the writer, and where its outcome will arrive.
    pub(super) fn new(
        actor: &Actor,
        tenant_id: Uuid,
        key: Option<Uuid>,
        row: NewLeadRow,
        limit: LeadLimit,
        idempotency: Option<Idempotency>,
        now: DateTime<Utc>,
    ) -> (Self, oneshot::Receiver<StoreResult<IngestOutcome>>) {
        let (reply, answer) = oneshot::channel();
        let job = InsertJob {
            actor: actor.clone(),
            tenant_id,
            key,
            row,
            limit,
            idempotency,
            now,
            reply,
        };
        (job, answer)
    }
}

/// Starts the batch writer; it ends when the store (every sender) is gone.
pub(super) fn spawn_writer(pool: SqlitePool, writer: Arc<Mutex<()>>) -> mpsc::Sender<InsertJob> {
    let (tx, mut rx) = mpsc::channel::<InsertJob>(1024);
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut jobs = vec![first];
            while jobs.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
            let _guard = writer.lock().await;
            run_batch(&pool, jobs).await;
        }
    });
    tx
}

async fn savepoint(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    sql: &'static str,
) -> StoreResult<()> {
    sqlx::query(sql)
        .execute(&mut **tx)
        .await
        .map(|_| ())
        .map_err(|e| db_error(e, "manage a savepoint"))
}

/// A form key and its tenant as the batch's transaction reads them: once
/// per key and batch, since nothing else writes while the batch holds the
/// write lock.
#[derive(sqlx::FromRow)]
struct KeyRow {
    revoked: bool,
    expires_at: Option<i64>,
    status: String,
    deleting: bool,
    last_used_at: Option<i64>,
}

/// A key a batch's jobs came with: what the store holds for it, and when a
/// job last wrote with it.
struct BatchKey {
    tenant_id: Uuid,
    key: Uuid,
    row: Option<KeyRow>,
    used: Option<DateTime<Utc>>,
}

#[derive(Default)]
struct BatchKeys(Vec<BatchKey>);

impl BatchKeys {
    async fn entry(
        &mut self,
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        tenant_id: Uuid,
        key: Uuid,
    ) -> StoreResult<&mut BatchKey> {
        let i = match self
            .0
            .iter()
            .position(|k| k.key == key && k.tenant_id == tenant_id)
        {
            Some(i) => i,
            None => {
                let row: Option<KeyRow> = sqlx::query_as(
                    "SELECT k.revoked_at IS NOT NULL AS revoked, k.expires_at, t.status, \
                     t.deleting_at IS NOT NULL AS deleting, k.last_used_at \
                     FROM api_keys k JOIN tenants t ON t.id = k.tenant_id \
                     WHERE k.tenant_id = ? AND k.id = ? AND k.scope = 'leads:ingest'",
                )
                .bind(tenant_id.to_string())
                .bind(key.to_string())
                .fetch_optional(&mut **tx)
                .await
                .map_err(|e| db_error(e, "re-check an API key"))?;
                self.0.push(BatchKey {
                    tenant_id,
                    key,
                    row,
                    used: None,
                });
                self.0.len() - 1
            }
        };
        self.0
            .get_mut(i)
            .ok_or_else(|| StoreError::Other(anyhow::anyhow!("a batch key went missing")))
    }

    /// Why a form ingest may no longer write, checked inside the write (the
    /// request's read may be stale, or remembered by the server): its
    /// tenant's deletion started (`TenantDeleted`), its key was revoked,
    /// deleted or expired at `now` (a rotation's overlap ended), or its
    /// tenant was suspended. `Refused` with field `api_key` or `tenant`;
    /// `ingest_with_key` turns them into its answers.
    async fn refusal(
        &mut self,
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        tenant_id: Uuid,
        key: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<StoreError>> {
        let Some(key) = key else {
            return Ok(None);
        };
        let key_gone = || StoreError::Refused {
            field: "api_key",
            detail: "revoked, deleted or expired since the request read it".into(),
        };
        Ok(match &self.entry(tx, tenant_id, key).await?.row {
            None => Some(key_gone()),
            Some(row) if row.deleting => Some(StoreError::TenantDeleted),
            Some(row)
                if row.revoked
                    || row
                        .expires_at
                        .is_some_and(|at| at <= now.timestamp_millis()) =>
            {
                Some(key_gone())
            }
            Some(row) if row.status != "active" => Some(StoreError::Refused {
                field: "tenant",
                detail: "suspended since the request read it".into(),
            }),
            Some(_) => None,
        })
    }

    /// A job wrote with `key` at `now`.
    fn used(&mut self, tenant_id: Uuid, key: Option<Uuid>, now: DateTime<Utc>) {
        let found = self
            .0
            .iter_mut()
            .find(|k| Some(k.key) == key && k.tenant_id == tenant_id);
        if let Some(entry) = found {
            entry.used = entry.used.max(Some(now));
        }
    }

    /// Records "last used" on the keys that wrote, at most once a minute
    /// each, in the batch's own transaction (no write of its own).
    async fn touch(&self, tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>) {
        for k in &self.0 {
            let (Some(row), Some(used)) = (&k.row, k.used) else {
                continue;
            };
            let used = used.timestamp_millis();
            if row.last_used_at.is_some_and(|t| t > used - 60_000) {
                continue;
            }
            let done = sqlx::query(
                "UPDATE api_keys SET last_used_at = ?1 WHERE tenant_id = ?2 AND id = ?3 \
                 AND (last_used_at IS NULL OR last_used_at < ?1)",
            )
            .bind(used)
            .bind(k.tenant_id.to_string())
            .bind(k.key.to_string())
            .execute(&mut **tx)
            .await;
            if let Err(e) = done {
                // "Last used" is a hint: the leads still commit.
                tracing::warn!(error = %e, "cannot record an API key's last use");
            }
        }
    }
}

/// Answers every job of a batch whose transaction broke with one error.
fn fail_all(replies: Vec<oneshot::Sender<StoreResult<IngestOutcome>>>, msg: &str) {
    for reply in replies {
        let _ = reply.send(Err(StoreError::Other(anyhow::anyhow!(msg.to_string()))));
    }
}

async fn run_batch(pool: &SqlitePool, jobs: Vec<InsertJob>) {
    let mut tx = match pool.begin_with("BEGIN IMMEDIATE").await {
        Ok(tx) => tx,
        Err(e) => {
            let msg = format!("cannot begin a write transaction: {e}");
            fail_all(jobs.into_iter().map(|j| j.reply).collect(), &msg);
            return;
        }
    };
    let mut keys = BatchKeys::default();
    let mut done = Vec::with_capacity(jobs.len());
    // The savepoint of a job that succeeded is released when the next one
    // opens its own, in the same call (COMMIT releases the last).
    let mut release_pending = false;
    for job in jobs {
        let open = if release_pending {
            "RELEASE lead; SAVEPOINT lead"
        } else {
            "SAVEPOINT lead"
        };
        if let Err(e) = savepoint(&mut tx, open).await {
            // The transaction is in an unknown state: fail this batch.
            let _ = job.reply.send(Err(e));
            fail_all(
                done.into_iter().map(|(r, _)| r).collect(),
                "a lead in the same batch broke the transaction; retry",
            );
            return;
        }
        let result = match keys.refusal(&mut tx, job.tenant_id, job.key, job.now).await {
            Ok(None) => {
                insert_lead_in(
                    &mut tx,
                    &job.actor,
                    job.tenant_id,
                    job.row,
                    job.limit,
                    job.idempotency,
                    job.now,
                )
                .await
            }
            Ok(Some(refusal)) => Err(refusal),
            Err(e) => Err(e),
        };
        release_pending = result.is_ok();
        if result.is_ok() {
            keys.used(job.tenant_id, job.key, job.now);
        } else if let Err(e) = savepoint(&mut tx, "ROLLBACK TO lead; RELEASE lead").await {
            let _ = job.reply.send(Err(e));
            fail_all(
                done.into_iter().map(|(r, _)| r).collect(),
                "a lead in the same batch broke the transaction; retry",
            );
            return;
        }
        done.push((job.reply, result));
    }
    keys.touch(&mut tx).await;
    match tx.commit().await {
        Ok(()) => {
            for (reply, result) in done {
                let _ = reply.send(result);
            }
        }
        Err(e) => {
            let msg = format!("cannot commit leads: {e}");
            fail_all(done.into_iter().map(|(r, _)| r).collect(), &msg);
        }
    }
}
