//! Group commit for form ingests: the concurrent ingests of one tenant go
//! to `sb_ingest_leads` (migration 0011) together, one statement and one
//! commit for the group, so the tenant's counter row is read, locked and
//! written once per group and no client round trip happens while its lock
//! is held. Each lead still gets its own outcome (created, replayed, over
//! the limit…), and is acknowledged only after the commit that holds it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::{db_error, ms, PgStore};
use crate::domain::lead::month_key;
use crate::domain::Lead;
use crate::store::{
    counts_toward_limit, Actor, Idempotency, IngestOutcome, KeyOwner, KeyedIngest, LeadLimit,
    LeadStore, NewLeadRow, StoreError, StoreResult,
};

/// At most this many leads share one statement.
const MAX_GROUP: usize = 64;
/// A tenant's writer task ends after this long without an ingest.
const IDLE: Duration = Duration::from_secs(30);

/// One request waiting for its group.
struct Job {
    key: KeyOwner,
    actor: Actor,
    row: NewLeadRow,
    limit: LeadLimit,
    idempotency: Option<Idempotency>,
    now: DateTime<Utc>,
    reply: oneshot::Sender<StoreResult<Answer>>,
}

/// What the statement said of one lead; a replay is read after the commit.
enum Answer {
    Created(Box<Lead>),
    Replayed(Uuid),
    KeyRevoked,
    Suspended,
}

/// The per-tenant queues, each drained by its own writer task.
#[derive(Default)]
pub(super) struct Groups {
    queues: Mutex<HashMap<Uuid, mpsc::UnboundedSender<Job>>>,
}

impl Groups {
    fn queues(&self) -> MutexGuard<'_, HashMap<Uuid, mpsc::UnboundedSender<Job>>> {
        // Nothing panics while holding it; a poisoned map is still whole.
        self.queues.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `job` for its tenant's writer, starting one when there is none.
    fn submit(self: &Arc<Self>, pool: &PgPool, job: Job) {
        let tenant = job.key.tenant_id;
        let mut queues = self.queues();
        let job = match queues.get(&tenant) {
            Some(queue) => match queue.send(job) {
                Ok(()) => return,
                // The writer is gone (it panicked): start another.
                Err(mpsc::error::SendError(job)) => job,
            },
            None => job,
        };
        let (queue, jobs) = mpsc::unbounded_channel();
        // The receiver is alive: this send cannot fail.
        let _ = queue.send(job);
        queues.insert(tenant, queue);
        tokio::spawn(writer(Arc::clone(self), pool.clone(), tenant, jobs));
    }

    /// After an idle wait: the writer leaves unless a job arrived meanwhile.
    /// Jobs are sent under the same lock, so none can be left behind.
    fn leave_unless_queued(
        &self,
        tenant: Uuid,
        jobs: &mut mpsc::UnboundedReceiver<Job>,
    ) -> Option<Job> {
        let mut queues = self.queues();
        match jobs.try_recv() {
            Ok(job) => Some(job),
            Err(_) => {
                queues.remove(&tenant);
                None
            }
        }
    }
}

async fn writer(
    groups: Arc<Groups>,
    pool: PgPool,
    tenant: Uuid,
    mut jobs: mpsc::UnboundedReceiver<Job>,
) {
    let mut carried: Option<Job> = None;
    loop {
        let first = match carried.take() {
            Some(job) => job,
            None => match tokio::time::timeout(IDLE, jobs.recv()).await {
                Ok(Some(job)) => job,
                Ok(None) => return,
                Err(_) => match groups.leave_unless_queued(tenant, &mut jobs) {
                    Some(job) => job,
                    None => return,
                },
            },
        };
        // One month per group: its counter row is the one locked.
        let month = month_key(first.now);
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) if month_key(job.now) == month => group.push(job),
                Ok(job) => {
                    carried = Some(job);
                    break;
                }
                Err(_) => break,
            }
        }
        run_group(&pool, tenant, &month, group).await;
    }
}

async fn run_group(pool: &PgPool, tenant: Uuid, month: &str, group: Vec<Job>) {
    match call(pool, tenant, month, &group).await {
        Ok(answers) => {
            for (job, answer) in group.into_iter().zip(answers) {
                let _ = job.reply.send(answer);
            }
        }
        // One lead may have broken the statement (and rolled back the
        // group): each runs alone, so only that one fails.
        Err(_) if group.len() > 1 => {
            for job in group {
                let answer = match call(pool, tenant, month, std::slice::from_ref(&job)).await {
                    Ok(mut answers) => answers.pop().unwrap_or_else(|| {
                        Err(StoreError::Other(anyhow::anyhow!("no outcome for a lead")))
                    }),
                    Err(e) => Err(e),
                };
                let _ = job.reply.send(answer);
            }
        }
        Err(e) => {
            if let Some(job) = group.into_iter().next() {
                let _ = job.reply.send(Err(e));
            }
        }
    }
}

/// The lead a job inserts (as the API returns it) and its item for the call.
fn item(ord: usize, job: &Job) -> (Lead, serde_json::Value) {
    let row = &job.row;
    let now = ms(job.now);
    let lead = row.to_lead(Uuid::now_v7(), job.key.tenant_id, now);
    let spam = lead.spam;
    let idem = job.idempotency.as_ref();
    let item = json!({
        "ord": ord,
        "id": lead.id,
        "key_id": job.key.key_id,
        "idem_key": idem.map(|i| &i.key),
        "body_hash": idem.map(|i| &i.body_hash),
        "name": lead.name,
        "email": lead.email,
        "phone": lead.phone,
        "company": lead.company,
        "message": lead.message,
        "source": row.source.as_str(),
        "source_page": lead.source_page,
        "utm": lead.utm,
        "fields": lead.fields,
        "stage": lead.stage,
        "spam": spam,
        "spam_reason": lead.spam_reason,
        "created_at": lead.created_at,
        "updated_at": now,
        "sla_due_at": lead.sla_due_at,
        "at_risk_at": lead.sla_at_risk_at,
        "workspace_id": row.workspace_id,
        "workflow_id": Uuid::now_v7(),
        "timeline_id": Uuid::now_v7(),
        "audit_id": Uuid::now_v7(),
        "actor_email": job.actor.email,
        "counts": counts_toward_limit(row),
        "lead_limit": job.limit.limit,
        "timeline": { "source": row.source, "spam_reason": row.spam_reason },
        "audit": { "source": row.source, "spam": spam },
        "event": { "lead": lead },
    });
    (lead, item)
}

/// One statement for the group; an answer per job, in order.
async fn call(
    pool: &PgPool,
    tenant: Uuid,
    month: &str,
    group: &[Job],
) -> StoreResult<Vec<StoreResult<Answer>>> {
    let (mut leads, items): (Vec<Option<Lead>>, Vec<serde_json::Value>) = group
        .iter()
        .enumerate()
        .map(|(ord, job)| {
            let (lead, item) = item(ord, job);
            (Some(lead), item)
        })
        .unzip();
    let now = group.iter().map(|j| j.now).max().unwrap_or_else(Utc::now);
    let rows: Vec<(i32, String, Option<Uuid>)> =
        sqlx::query_as("SELECT ord, outcome, lead_id FROM sb_ingest_leads($1, $2, $3, $4)")
            .bind(tenant)
            .bind(month)
            .bind(ms(now))
            .bind(serde_json::Value::Array(items))
            .fetch_all(pool)
            .await
            .map_err(|e| db_error(e, "store leads"))?;
    let mut answers: Vec<StoreResult<Answer>> = group
        .iter()
        .map(|_| Err(StoreError::Other(anyhow::anyhow!("no outcome for a lead"))))
        .collect();
    for (ord, outcome, lead_id) in rows {
        let i = ord as usize;
        let (Some(job), Some(slot)) = (group.get(i), answers.get_mut(i)) else {
            continue;
        };
        *slot = match (outcome.as_str(), lead_id) {
            ("created", _) => leads[i]
                .take()
                .map(|l| Answer::Created(Box::new(l)))
                .ok_or_else(|| StoreError::Other(anyhow::anyhow!("a lead answered twice"))),
            ("replayed", Some(id)) => Ok(Answer::Replayed(id)),
            ("mismatch", _) => Err(StoreError::IdempotencyMismatch),
            ("limit", _) => Err(StoreError::LimitReached {
                what: "leads a month",
                tier: job.limit.tier,
                limit: job.limit.limit.unwrap_or(0),
            }),
            ("key", _) => Ok(Answer::KeyRevoked),
            ("suspended", _) => Ok(Answer::Suspended),
            (other, _) => Err(StoreError::Other(anyhow::anyhow!(
                "unknown ingest outcome {other:?}"
            ))),
        };
    }
    Ok(answers)
}

impl PgStore {
    /// A form's lead through its tenant's group (see the module comment).
    pub(super) async fn ingest_grouped(
        &self,
        key: &KeyOwner,
        actor: &Actor,
        row: NewLeadRow,
        limit: LeadLimit,
        idempotency: Option<Idempotency>,
        now: DateTime<Utc>,
    ) -> StoreResult<KeyedIngest> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            key: key.clone(),
            actor: actor.clone(),
            row,
            limit,
            idempotency,
            now,
            reply,
        };
        self.ingest.submit(&self.pool, job);
        let answer = answer.await.map_err(|_| {
            StoreError::Other(anyhow::anyhow!("the ingest writer dropped a request"))
        })??;
        Ok(match answer {
            Answer::Created(lead) => KeyedIngest::Done(IngestOutcome::Created(lead)),
            Answer::Replayed(id) => {
                let lead = self
                    .lead(key.tenant_id, id, now)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                KeyedIngest::Done(IngestOutcome::Replayed(Box::new(lead)))
            }
            Answer::KeyRevoked => KeyedIngest::KeyRevoked,
            Answer::Suspended => KeyedIngest::Suspended,
        })
    }
}
