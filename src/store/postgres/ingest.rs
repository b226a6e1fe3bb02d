//! Group commit for form ingests: the ingests waiting in this process, of
//! any number of tenants, go to `sb_ingest_batch` (migrations 0028, 0029)
//! together, one set-based statement and one commit for the group. A
//! tenant's counter row is read, locked and written once per group (and
//! not locked at all before the end when its tier has no limit), and no
//! client round trip happens while a lock is held. Each lead still gets
//! its own outcome (created, replayed, over the limit…), and is
//! acknowledged only after the commit that holds it.
//!
//! The call's events are announced to other processes (NOTIFY) after its
//! commit, by one waker task, in short transactions of their own: a
//! transaction that notifies holds a database-wide lock through its commit,
//! which made every ingest call commit one after another (migration 0029).

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::{db_error, ms, PgStore, EVENTS_CHANNEL};
use crate::domain::lead::month_key;
use crate::domain::{Lead, LeadSource, Utm};
use crate::store::{
    counts_toward_limit, Actor, Idempotency, IngestOutcome, KeyOwner, KeyedIngest, LeadLimit,
    LeadStore, NewLeadRow, StoreError, StoreResult,
};

/// At most this many leads share one call.
const MAX_GROUP: usize = 64;

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

/// The writer's queue, started with the first ingest. The writer ends when
/// the store (and so its queue) is dropped.
///
/// One writer for every tenant, one call at a time. Two writers (each with
/// half of the tenants) and two or three calls in flight were measured
/// too: they made smaller groups, each paying a call's fixed cost (about
/// 1.2 ms, plus 0.15 ms a lead), and ingest slower (8 clients over 10
/// tenants: 2,356 leads/s with one writer, 1,894 with two).
#[derive(Default)]
pub(super) struct Groups {
    queue: Mutex<Option<mpsc::UnboundedSender<Job>>>,
}

/// Payloads `<tenant id>:<event id>` for the waker.
type Wake = mpsc::UnboundedSender<Vec<String>>;

impl Groups {
    /// Queues `job` for the writer, starting it when there is none (or
    /// again if it panicked).
    fn submit(&self, pool: &PgPool, job: Job) {
        // Nothing panics while holding it; a poisoned slot is still whole.
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let job = match queue.as_ref() {
            Some(writer) => match writer.send(job) {
                Ok(()) => return,
                Err(mpsc::error::SendError(job)) => job,
            },
            None => job,
        };
        let fresh = start_writer(pool, start_waker(pool));
        // The new writer's receiver is alive: this send cannot fail.
        let _ = fresh.send(job);
        *queue = Some(fresh);
    }
}

fn start_writer(pool: &PgPool, wake: Wake) -> mpsc::UnboundedSender<Job> {
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(writer(pool.clone(), receiver, wake));
    sender
}

fn start_waker(pool: &PgPool) -> Wake {
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(waker(pool.clone(), receiver));
    sender
}

/// Announces committed events to the other processes' live streams, all
/// that is waiting in one statement, until every writer is gone. The
/// transaction does not wait for its WAL flush (a lost wake-up only
/// delays a stream to its next re-check); a failure is logged and the
/// streams catch up the same way.
async fn waker(pool: PgPool, mut wakes: mpsc::UnboundedReceiver<Vec<String>>) {
    while let Some(mut payloads) = wakes.recv().await {
        while let Ok(more) = wakes.try_recv() {
            payloads.extend(more);
        }
        let sent = sqlx::query(
            "SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, p) \
               FROM unnest($2::text[]) AS p",
        )
        .bind(EVENTS_CHANNEL)
        .bind(&payloads)
        .execute(&pool)
        .await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, "could not announce ingested events to other processes");
        }
    }
}

/// Takes what is waiting (at least one job, at most `MAX_GROUP`) and
/// writes it, one call at a time, until the queue closes. While a call
/// runs the queue fills, so the next group is larger. (Overlapping calls
/// were measured too: they made smaller groups, each paying a call's fixed
/// cost, and ingest slower.)
async fn writer(pool: PgPool, mut jobs: mpsc::UnboundedReceiver<Job>, wake: Wake) {
    while let Some(first) = jobs.recv().await {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        run_group(pool.clone(), group, wake.clone()).await;
    }
}

async fn run_group(pool: PgPool, group: Vec<Job>, wake: Wake) {
    match call(&pool, &group, &wake).await {
        Ok(answers) => {
            for (job, answer) in group.into_iter().zip(answers) {
                let _ = job.reply.send(answer);
            }
        }
        // One lead may have broken the statement (and rolled back the
        // group): each runs alone, so only that one fails.
        Err(_) if group.len() > 1 => {
            for job in group {
                let answer = match call(&pool, std::slice::from_ref(&job), &wake).await {
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

/// One lead of a call, as `sb_ingest_batch` reads it (written straight to
/// JSON, with no intermediate value).
#[derive(Serialize)]
struct Item<'a> {
    ord: usize,
    tenant_id: Uuid,
    month: String,
    id: Uuid,
    key_id: Uuid,
    idem_key: Option<&'a str>,
    body_hash: Option<&'a str>,
    name: &'a str,
    email: Option<&'a str>,
    phone: Option<&'a str>,
    company: Option<&'a str>,
    message: &'a str,
    source: LeadSource,
    source_page: Option<&'a str>,
    utm: &'a Utm,
    fields: &'a serde_json::Value,
    stage: &'a str,
    spam: bool,
    spam_reason: Option<&'a str>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    sla_due_at: DateTime<Utc>,
    at_risk_at: DateTime<Utc>,
    workspace_id: Option<Uuid>,
    workflow_id: Uuid,
    timeline_id: Uuid,
    audit_id: Uuid,
    actor_email: Option<&'a str>,
    counts: bool,
    lead_limit: Option<u32>,
    /// The timeline entry's data.
    timeline: Timeline<'a>,
    /// The audit entry's changes.
    audit: Audit,
    /// The `lead.created` event's data.
    event: Event<'a>,
}

#[derive(Serialize)]
struct Timeline<'a> {
    source: LeadSource,
    spam_reason: Option<&'a str>,
}

#[derive(Serialize)]
struct Audit {
    source: LeadSource,
    spam: bool,
}

#[derive(Serialize)]
struct Event<'a> {
    lead: &'a Lead,
}

/// The lead a job inserts, as the API returns it.
fn new_lead(job: &Job) -> Lead {
    job.row
        .to_lead(Uuid::now_v7(), job.key.tenant_id, ms(job.now))
}

/// The item for `job`, whose lead is `lead`.
fn item<'a>(ord: usize, job: &'a Job, lead: &'a Lead) -> Item<'a> {
    let row = &job.row;
    let idem = job.idempotency.as_ref();
    Item {
        ord,
        tenant_id: job.key.tenant_id,
        month: month_key(job.now),
        id: lead.id,
        key_id: job.key.key_id,
        idem_key: idem.map(|i| i.key.as_str()),
        body_hash: idem.map(|i| i.body_hash.as_str()),
        name: &lead.name,
        email: lead.email.as_deref(),
        phone: lead.phone.as_deref(),
        company: lead.company.as_deref(),
        message: &lead.message,
        source: row.source,
        source_page: lead.source_page.as_deref(),
        utm: &lead.utm,
        fields: &lead.fields,
        stage: &lead.stage,
        spam: lead.spam,
        spam_reason: lead.spam_reason.as_deref(),
        created_at: lead.created_at,
        updated_at: lead.updated_at,
        sla_due_at: lead.sla_due_at,
        at_risk_at: lead.sla_at_risk_at,
        workspace_id: row.workspace_id,
        workflow_id: Uuid::now_v7(),
        timeline_id: Uuid::now_v7(),
        audit_id: Uuid::now_v7(),
        actor_email: job.actor.email.as_deref(),
        counts: counts_toward_limit(row),
        lead_limit: job.limit.limit,
        timeline: Timeline {
            source: row.source,
            spam_reason: row.spam_reason.as_deref(),
        },
        audit: Audit {
            source: row.source,
            spam: lead.spam,
        },
        event: Event { lead },
    }
}

/// One call for the group; an answer per job, in order. The events it
/// wrote go to the waker once it has committed.
async fn call(pool: &PgPool, group: &[Job], wake: &Wake) -> StoreResult<Vec<StoreResult<Answer>>> {
    let made: Vec<Lead> = group.iter().map(new_lead).collect();
    let items: Vec<Item> = group
        .iter()
        .zip(&made)
        .enumerate()
        .map(|(ord, (job, lead))| item(ord, job, lead))
        .collect();
    let now = group.iter().map(|j| j.now).max().unwrap_or_else(Utc::now);
    let rows: Vec<(i32, String, Option<Uuid>, Option<i64>)> =
        sqlx::query_as("SELECT ord, outcome, lead_id, event_id FROM sb_ingest_batch($1, $2, true)")
            .bind(ms(now))
            .bind(sqlx::types::Json(&items))
            .fetch_all(pool)
            .await
            .map_err(|e| db_error(e, "store leads"))?;
    drop(items);
    // The last event of each tenant stands for the call's events of it:
    // a stream that wakes reads everything after its own last event.
    let mut last: std::collections::BTreeMap<Uuid, i64> = Default::default();
    for (ord, _, _, event) in &rows {
        if let (Some(job), Some(event)) = (group.get(*ord as usize), event) {
            let id = last.entry(job.key.tenant_id).or_insert(*event);
            *id = (*id).max(*event);
        }
    }
    if !last.is_empty() {
        // The waker lives as long as the writers that hold its sender.
        let _ = wake.send(last.iter().map(|(t, e)| format!("{t}:{e}")).collect());
    }
    let mut leads: Vec<Option<Lead>> = made.into_iter().map(Some).collect();
    let mut answers: Vec<StoreResult<Answer>> = group
        .iter()
        .map(|_| Err(StoreError::Other(anyhow::anyhow!("no outcome for a lead"))))
        .collect();
    for (ord, outcome, lead_id, _) in rows {
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
