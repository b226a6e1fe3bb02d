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
    sql: &str,
) -> StoreResult<()> {
    sqlx::query(sql)
        .execute(&mut **tx)
        .await
        .map(|_| ())
        .map_err(|e| db_error(e, "manage a savepoint"))
}

/// Why a form ingest may no longer write, checked inside the write (the
/// request's earlier read may be stale): its key was revoked, deleted or
/// expired since (a rotation's overlap ended), or its tenant was suspended.
/// `Refused` with field `api_key` or `tenant`; `ingest_with_key` turns them
/// into its answers.
async fn key_refusal(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    tenant_id: Uuid,
    key: Option<Uuid>,
    now: DateTime<Utc>,
) -> StoreResult<Option<StoreError>> {
    let Some(key) = key else {
        return Ok(None);
    };
    let state: Option<(bool, String)> = sqlx::query_as(
        "SELECT k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > ?), t.status \
         FROM api_keys k JOIN tenants t ON t.id = k.tenant_id \
         WHERE k.tenant_id = ? AND k.id = ? AND k.scope = 'leads:ingest'",
    )
    .bind(now.timestamp_millis())
    .bind(tenant_id.to_string())
    .bind(key.to_string())
    .fetch_optional(&mut **tx)
    .await
    .map_err(|e| db_error(e, "re-check an API key"))?;
    Ok(match state {
        Some((true, status)) if status == "active" => None,
        Some((true, _)) => Some(StoreError::Refused {
            field: "tenant",
            detail: "suspended since the request read it".into(),
        }),
        _ => Some(StoreError::Refused {
            field: "api_key",
            detail: "revoked, deleted or expired since the request read it".into(),
        }),
    })
}

async fn run_batch(pool: &SqlitePool, jobs: Vec<InsertJob>) {
    let mut tx = match pool.begin_with("BEGIN IMMEDIATE").await {
        Ok(tx) => tx,
        Err(e) => {
            let msg = format!("cannot begin a write transaction: {e}");
            for job in jobs {
                let _ = job
                    .reply
                    .send(Err(StoreError::Other(anyhow::anyhow!(msg.clone()))));
            }
            return;
        }
    };
    let mut done = Vec::with_capacity(jobs.len());
    for job in jobs {
        if let Err(e) = savepoint(&mut tx, "SAVEPOINT lead").await {
            let _ = job.reply.send(Err(e));
            continue;
        }
        let result = match key_refusal(&mut tx, job.tenant_id, job.key, job.now).await {
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
        let closed = if result.is_ok() {
            savepoint(&mut tx, "RELEASE lead").await
        } else {
            match savepoint(&mut tx, "ROLLBACK TO lead").await {
                Ok(()) => savepoint(&mut tx, "RELEASE lead").await,
                Err(e) => Err(e),
            }
        };
        match closed {
            Ok(()) => done.push((job.reply, result)),
            Err(e) => {
                // The transaction is in an unknown state: fail this batch.
                let _ = job.reply.send(Err(e));
                for (reply, _) in done {
                    let _ = reply.send(Err(StoreError::Other(anyhow::anyhow!(
                        "a lead in the same batch broke the transaction; retry"
                    ))));
                }
                return;
            }
        }
    }
    match tx.commit().await {
        Ok(()) => {
            for (reply, result) in done {
                let _ = reply.send(result);
            }
        }
        Err(e) => {
            let msg = format!("cannot commit leads: {e}");
            for (reply, _) in done {
                let _ = reply.send(Err(StoreError::Other(anyhow::anyhow!(msg.clone()))));
            }
        }
    }
}
