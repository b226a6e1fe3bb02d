//! Group commit for form ingests: the ingests waiting in this process, of
//! any number of tenants, go to `sb_ingest_batch` (migration 0028)
//! together, one set-based statement and one commit for the group. A
//! tenant's counter row is read, locked and written once per group (and
//! not locked at all before the end when its tier has no limit), and no
//! client round trip happens while a lock is held. Each lead still gets
//! its own outcome (created, replayed, over the limit…), and is
//! acknowledged only after the commit that holds it.

use std::sync::{Arc, Mutex, MutexGuard};

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

/// At most this many leads share one call.
const MAX_GROUP: usize = 64;
/// Calls in flight at once: while one commits, the next group is decided.
const WRITERS: usize = 2;

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

/// What the call said of one lead; a replay is read after the commit.
enum Answer {
    Created(Box<Lead>),
    Replayed(Uuid),
    KeyRevoked,
    Suspended,
}

type Jobs = Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Job>>>;

/// The queue of waiting ingests and its writers, started with the first
/// ingest. The writers end when the store (and so the queue) is dropped.
#[derive(Default)]
pub(super) struct Groups {
    queue: Mutex<Option<mpsc::UnboundedSender<Job>>>,
}

impl Groups {
    fn queue(&self) -> MutexGuard<'_, Option<mpsc::UnboundedSender<Job>>> {
        // Nothing panics while holding it; a poisoned slot is still whole.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `job`, starting the writers when there are none.
    fn submit(&self, pool: &PgPool, job: Job) {
        let mut queue = self.queue();
        let job = match queue.as_ref() {
            Some(sender) => match sender.send(job) {
                Ok(()) => return,
                // Every writer is gone (they panicked): start others.
                Err(mpsc::error::SendError(job)) => job,
            },
            None => job,
        };
        let (sender, receiver) = mpsc::unbounded_channel();
        // The receiver is alive: this send cannot fail.
        let _ = sender.send(job);
        *queue = Some(sender);
        let jobs: Jobs = Arc::new(tokio::sync::Mutex::new(receiver));
        for _ in 0..WRITERS {
            tokio::spawn(writer(pool.clone(), Arc::clone(&jobs)));
        }
    }
}

/// Takes what is waiting (at least one job, at most `MAX_GROUP`) and
/// writes it, until the queue closes.
async fn writer(pool: PgPool, jobs: Jobs) {
    loop {
        let group = {
            let mut jobs = jobs.lock().await;
            let Some(first) = jobs.recv().await else {
                return;
            };
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match jobs.try_recv() {
                    Ok(job) => group.push(job),
                    Err(_) => break,
                }
            }
            group
        };
        run_group(&pool, group).await;
    }
}

async fn run_group(pool: &PgPool, group: Vec<Job>) {
    match call(pool, &group).await {
        Ok(answers) => {
            for (job, answer) in group.into_iter().zip(answers) {
                let _ = job.reply.send(answer);
            }
        }
        // One lead may have broken the statement (and rolled back the
        // group): each runs alone, so only that one fails.
        Err(_) if group.len() > 1 => {
            for job in group {
                let answer = match call(pool, std::slice::from_ref(&job)).await {
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
        "tenant_id": job.key.tenant_id,
        "month": month_key(job.now),
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

/// One call for the group; an answer per job, in order.
async fn call(pool: &PgPool, group: &[Job]) -> StoreResult<Vec<StoreResult<Answer>>> {
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
        sqlx::query_as("SELECT ord, outcome, lead_id FROM sb_ingest_batch($1, $2)")
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
            ("deleted", _) => Err(StoreError::TenantDeleted),
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
