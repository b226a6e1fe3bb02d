//! Group commit for form ingests: the ingests waiting in this process, of
//! any number of tenants, go to `sb_ingest_batch` (migrations 0028, 0029)
//! together, one set-based statement and one commit for the group. A
//! tenant's counter row is read, locked and written once per group (and
//! not locked at all before the end when its tier has no limit), and no
//! client round trip happens while a lock is held. Each lead still gets
//! its own outcome (created, replayed, over the limit…), and is
//! acknowledged only once the commit that holds it is on disk.
//!
//! The three stages run side by side, each on its own connection:
//! - the writer makes one call at a time, on a connection of its own whose
//!   commits do not wait for their WAL flush (`synchronous_commit = off`),
//!   so a tenant's locks are released as soon as the commit record is
//!   written, not a disk flush later, and the next group starts at once;
//! - the flusher then makes the writer's commits durable before anyone
//!   hears of them: one small transaction that writes WAL and commits as
//!   the database is configured (`synchronous_commit` on, or a synchronous
//!   standby) flushes all WAL before its own commit record, so every group
//!   the writer committed before it. One flush covers every group waiting;
//!   only then are the leads acknowledged. A failed flush answers the
//!   group's requests with an error (a retry with the same Idempotency-Key
//!   replays the lead if it was stored);
//! - the waker then announces the groups' events to other processes'
//!   live streams (NOTIFY), in short transactions of its own: a
//!   transaction that notifies holds a database-wide lock through its
//!   commit, which made every ingest call commit one after another
//!   (migration 0029). Under load it announces at most once every
//!   `WAKE_EVERY`, one notification per tenant for all the groups since
//!   the last: each announcement wakes every listening process.
//!
//! A database that refuses the flusher's statement (its function revoked)
//! leaves the writer's commits waiting for their own flush, as before.
//!
//! Between a group's commit and its flush (a WAL flush, well under a
//! millisecond on a local disk), a reader could see its leads before they
//! are durable; a crash of the database in that window loses those leads,
//! which no client was told were stored. Anything that acts on a lead
//! (workflows, webhook deliveries) first commits a claim of its own, which
//! flushes the WAL past the lead's commit.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::{db_error, ms, PgStore, APP_ROLE, EVENTS_CHANNEL};
use crate::domain::lead::month_key;
use crate::domain::{Lead, LeadSource, Utm};
use crate::store::{
    counts_toward_limit, Actor, Idempotency, IngestOutcome, KeyOwner, KeyedIngest, LeadLimit,
    LeadStore, NewLeadRow, StoreError, StoreResult,
};

/// At most this many leads share one call.
const MAX_GROUP: usize = 64;

/// One request waiting for its group: its lead, made and written out as
/// the call's item by the request's own task, so the writer only joins
/// them.
struct Job {
    tenant_id: Uuid,
    limit: LeadLimit,
    now: DateTime<Utc>,
    lead: Lead,
    /// The item as a JSON object without its `ord` (see `items_json`).
    item: String,
    reply: oneshot::Sender<Reply>,
}

/// What the call said of one lead; a replay is read after the commit.
enum Outcome {
    Created,
    Replayed(Uuid),
    KeyRevoked,
    Suspended,
}

/// What a request hears back: the call's outcome, and the lead it made
/// (stored when the outcome is `Created`).
type Reply = StoreResult<(Outcome, Lead)>;

/// A group the writer committed, on its way to the flusher.
struct Written {
    /// Committed without waiting for the WAL flush: not durable yet.
    deferred: bool,
    jobs: Vec<Job>,
    outcomes: Vec<StoreResult<Outcome>>,
    /// (tenant, event id) of the call's `lead.created` events; the waker
    /// announces each tenant's last.
    wakes: Vec<(Uuid, i64)>,
}

/// The writer's queue, started with the first ingest. The writer (and the
/// flusher and waker after it) ends when the store, and so its queue, is
/// dropped.
///
/// One writer for every tenant, one call at a time. Two writers (each with
/// half of the tenants) and two or three calls in flight were measured
/// too: they made smaller groups, each paying a call's fixed cost, and
/// ingest slower (8 clients over 10 tenants: 2,356 leads/s with one
/// writer, 1,894 with two, before the flush left the writer's path; and
/// again after the waker left it, 8 clients, one tenant: 3,055 against
/// 2,406).
#[derive(Default)]
pub(super) struct Groups {
    queue: Mutex<Option<mpsc::UnboundedSender<Job>>>,
}

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
        let fresh = start(pool);
        // The new writer's receiver is alive: this send cannot fail.
        let _ = fresh.send(job);
        *queue = Some(fresh);
    }
}

/// Starts the waker, the flusher and the writer; the writer's queue.
///
/// The writer and the flusher run on a thread of their own, each with its
/// own connection, so that the one serial stage does not wait behind
/// request tasks for its turn after each answer from the database. With
/// the writer on its own thread, three interleaved runs at 8 clients gave
/// 3,759 / 3,456 leads/s (one / ten tenants) against 3,431 / 3,267 on the
/// server's runtime; where the flusher runs made no difference beyond the
/// run-to-run spread (about ±15 % on the 2-core test machine).
fn start(pool: &PgPool) -> mpsc::UnboundedSender<Job> {
    // Set once the database refuses the flush: the writer's commits then
    // wait for their own.
    let synchronous = Arc::new(AtomicBool::new(false));
    let (wake, wakes) = mpsc::unbounded_channel();
    tokio::spawn(waker(pool.clone(), wakes));
    let (flush, flushes) = mpsc::unbounded_channel();
    let (sender, jobs) = mpsc::unbounded_channel();
    let stages = {
        let pool = pool.clone();
        async move {
            tokio::join!(
                writer(pool.clone(), jobs, flush, synchronous.clone()),
                flusher(pool, flushes, wake, synchronous)
            );
        }
    };
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => {
            let thread = std::thread::Builder::new()
                .name("switchboard-ingest".into())
                .spawn(move || runtime.block_on(stages));
            // Without it the queue is closed: the request gets an error
            // and the next one tries again.
            if let Err(e) = thread {
                tracing::error!(error = %e, "cannot start the ingest writer's thread");
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "the ingest writer runs on the server's runtime");
            tokio::spawn(stages);
        }
    }
    sender
}

/// A connection of the ingest's own, outside the pool (whose connections
/// belong to the server's runtime).
async fn connect(pool: &PgPool) -> Result<PgConnection, sqlx::Error> {
    <PgConnection as sqlx::Connection>::connect_with(&pool.connect_options()).await
}

/// The flusher's statement: a transactional message writes WAL and gives
/// the transaction an id, so its commit, as the database is configured,
/// flushes the WAL up to its own record, past every commit before it.
const FLUSH: &str = "SELECT pg_logical_emit_message(true, 'switchboard', 'flush')";

/// The database refuses the flusher's statement (the function is revoked
/// or missing), rather than failing to run it this time.
fn flush_refused(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|db| db.code())
        .is_some_and(|code| code == "42501" || code == "42883")
}

/// The waker's announcements are at least this far apart: an idle
/// server's first one goes out at once, a busy server's wait at most this
/// long. Each one is a transaction here and a wake-up of every listening
/// process; one per ingest call cost a fifth of the ingest rate at 8
/// clients (PostgreSQL, 2 cores), one per 5 ms a few percent.
const WAKE_EVERY: std::time::Duration = std::time::Duration::from_millis(5);

/// Announces committed events to the other processes' live streams, all
/// that is waiting in one statement (`<tenant id>:<last event id>`, one
/// per tenant), until the flusher is gone. The transaction does not wait
/// for its WAL flush (a lost wake-up only delays a stream to its next
/// re-check); a failure is logged and the streams catch up the same way.
async fn waker(pool: PgPool, mut wakes: mpsc::UnboundedReceiver<Vec<(Uuid, i64)>>) {
    let mut last_sent: Option<tokio::time::Instant> = None;
    while let Some(first) = wakes.recv().await {
        if let Some(at) = last_sent {
            tokio::time::sleep_until(at + WAKE_EVERY).await;
        }
        let mut waiting = first;
        while let Ok(more) = wakes.try_recv() {
            waiting.extend(more);
        }
        let payloads = announcements(waiting);
        last_sent = Some(tokio::time::Instant::now());
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

/// The payloads that announce `events` (tenant, event id): one per tenant,
/// naming its last event, in tenant order.
fn announcements(events: Vec<(Uuid, i64)>) -> Vec<String> {
    let mut last = std::collections::BTreeMap::new();
    for (tenant, event) in events {
        let id = last.entry(tenant).or_insert(event);
        *id = (*id).max(event);
    }
    last.iter().map(|(t, e)| format!("{t}:{e}")).collect()
}

/// Makes what the writer committed durable, then answers the requests and
/// hands the events to the waker; every group waiting shares one flush.
async fn flusher(
    pool: PgPool,
    mut written: mpsc::UnboundedReceiver<Written>,
    wake: mpsc::UnboundedSender<Vec<(Uuid, i64)>>,
    synchronous: Arc<AtomicBool>,
) {
    let mut conn: Option<PgConnection> = None;
    while let Some(first) = written.recv().await {
        let mut groups = vec![first];
        while let Ok(more) = written.try_recv() {
            groups.push(more);
        }
        let flushed = if groups.iter().any(|g| g.deferred) {
            flush_once(&pool, &mut conn).await
        } else {
            Ok(())
        };
        if let Err(e) = &flushed {
            tracing::warn!(error = %e, "could not confirm that ingested leads are on disk");
            if flush_refused(e) {
                synchronous.store(true, Ordering::Relaxed);
            }
        }
        for group in groups {
            let flushed = if group.deferred {
                flushed.as_ref()
            } else {
                Ok(&())
            };
            if flushed.is_ok() && !group.wakes.is_empty() {
                // The waker lives as long as the flusher that holds its sender.
                let _ = wake.send(group.wakes);
            }
            for (job, outcome) in group.jobs.into_iter().zip(group.outcomes) {
                let answer = match (&flushed, outcome) {
                    (Err(e), Ok(_)) => Err(StoreError::Other(anyhow::anyhow!(
                        "cannot confirm that the lead was stored ({e}); send it again with \
                         the same Idempotency-Key to find out"
                    ))),
                    (_, outcome) => outcome.map(|o| (o, job.lead)),
                };
                let _ = job.reply.send(answer);
            }
        }
    }
}

/// One flush on the flusher's connection (made again after a failure that
/// was not the statement's).
async fn flush_once(pool: &PgPool, conn: &mut Option<PgConnection>) -> Result<(), sqlx::Error> {
    let c = match conn {
        Some(c) => c,
        None => conn.insert(connect(pool).await?),
    };
    let flushed = sqlx::query(FLUSH).execute(&mut *c).await.map(|_| ());
    if let Err(e) = &flushed {
        if e.as_database_error().is_none() {
            *conn = None;
        }
    }
    flushed
}

/// Takes what is waiting (at least one job, at most `MAX_GROUP`) and
/// writes it, one call at a time, until the queue closes. While a call
/// runs the queue fills, so the next group is larger.
async fn writer(
    pool: PgPool,
    mut jobs: mpsc::UnboundedReceiver<Job>,
    flush: mpsc::UnboundedSender<Written>,
    synchronous: Arc<AtomicBool>,
) {
    let mut conn = None;
    while let Some(first) = jobs.recv().await {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        if synchronous.load(Ordering::Relaxed) && conn.as_ref().is_some_and(|c: &Writer| c.deferred)
        {
            conn = None;
        }
        let written = run_group(&pool, &mut conn, group, &synchronous).await;
        // The flusher lives as long as the writer that holds its sender.
        let _ = flush.send(written);
    }
}

/// The writer's own connection: no other statement ever commits on it.
struct Writer {
    conn: PgConnection,
    /// Its commits do not wait for their WAL flush (the flusher does).
    deferred: bool,
}

/// A connection for the writer: its commits leave the WAL flush to the
/// flusher once the flusher's statement is known to run here.
async fn writer_connection(pool: &PgPool, synchronous: &AtomicBool) -> Result<Writer, sqlx::Error> {
    let mut conn = connect(pool).await?;
    let deferred = !synchronous.load(Ordering::Relaxed)
        && match sqlx::query(FLUSH).execute(&mut conn).await {
            Ok(_) => true,
            Err(e) if flush_refused(&e) => {
                tracing::warn!(
                    error = %e,
                    "form leads commit one flush at a time: the database refuses \
                     pg_logical_emit_message to this role; as the owner, `GRANT EXECUTE ON \
                     FUNCTION pg_logical_emit_message(boolean, text, text) TO {APP_ROLE}` \
                     lets them commit while the last group's flush runs"
                );
                synchronous.store(true, Ordering::Relaxed);
                false
            }
            Err(e) => return Err(e),
        };
    if deferred {
        sqlx::query("SET synchronous_commit = off")
            .execute(&mut conn)
            .await?;
    }
    Ok(Writer { conn, deferred })
}

async fn run_group(
    pool: &PgPool,
    conn: &mut Option<Writer>,
    jobs: Vec<Job>,
    synchronous: &AtomicBool,
) -> Written {
    let mut wakes = Vec::new();
    let mut deferred = false;
    let outcomes = match call(pool, conn, synchronous, &jobs, &mut wakes, &mut deferred).await {
        Ok(outcomes) => outcomes,
        // One lead may have broken the statement (and rolled back the
        // group): each runs alone, so only that one fails.
        Err(_) if jobs.len() > 1 => {
            let mut outcomes = Vec::with_capacity(jobs.len());
            for job in &jobs {
                let one = std::slice::from_ref(job);
                let alone = call(pool, conn, synchronous, one, &mut wakes, &mut deferred).await;
                outcomes.push(match alone {
                    Ok(mut one) => one.pop().unwrap_or_else(|| {
                        Err(StoreError::Other(anyhow::anyhow!("no outcome for a lead")))
                    }),
                    Err(e) => Err(e),
                });
            }
            outcomes
        }
        Err(e) => vec![Err(e)],
    };
    Written {
        deferred,
        jobs,
        outcomes,
        wakes,
    }
}

/// One lead of a call, as `sb_ingest_batch` reads it (written straight to
/// JSON, with no intermediate value; `ord` is added by `items_json`).
#[derive(Serialize)]
struct Item<'a> {
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

/// What the request's task prepares for the writer: the lead it would
/// create and the call's item for it.
struct Prepared<'a> {
    key: &'a KeyOwner,
    actor: &'a Actor,
    row: &'a NewLeadRow,
    limit: LeadLimit,
    idempotency: Option<&'a Idempotency>,
    now: DateTime<Utc>,
}

impl Prepared<'_> {
    /// The lead a job inserts, as the API returns it, and its item.
    fn job(self, reply: oneshot::Sender<Reply>) -> StoreResult<Job> {
        let lead = self
            .row
            .to_lead(Uuid::now_v7(), self.key.tenant_id, ms(self.now));
        let item = serde_json::to_string(&self.item(&lead))
            .map_err(|e| StoreError::Other(anyhow::Error::new(e).context("cannot write a lead")))?;
        Ok(Job {
            tenant_id: self.key.tenant_id,
            limit: self.limit,
            now: self.now,
            lead,
            item,
            reply,
        })
    }

    fn item<'a>(&'a self, lead: &'a Lead) -> Item<'a> {
        let row = self.row;
        Item {
            tenant_id: self.key.tenant_id,
            month: month_key(self.now),
            id: lead.id,
            key_id: self.key.key_id,
            idem_key: self.idempotency.map(|i| i.key.as_str()),
            body_hash: self.idempotency.map(|i| i.body_hash.as_str()),
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
            actor_email: self.actor.email.as_deref(),
            counts: counts_toward_limit(row),
            lead_limit: self.limit.limit,
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
}

/// The group's items as one JSON array: each job's object with its place
/// in the group (`ord`) put first.
fn items_json(group: &[Job]) -> String {
    let mut json =
        String::with_capacity(group.iter().map(|j| j.item.len() + 12).sum::<usize>() + 2);
    json.push('[');
    for (ord, job) in group.iter().enumerate() {
        if ord > 0 {
            json.push(',');
        }
        // `item` is an object with fields: "{…}" becomes "{"ord":n,…}".
        let _ = write!(json, "{{\"ord\":{ord},");
        json.push_str(job.item.get(1..).unwrap_or_default());
    }
    json.push(']');
    json
}

/// A row the call answers: ord, outcome, lead id and the lead's event id.
type Row = (i32, String, Option<Uuid>, Option<i64>);

/// One call for the group on the writer's connection (made again after a
/// failure that was not the statement's); an outcome per job, in order,
/// and the events to announce once the call is durable.
async fn call(
    pool: &PgPool,
    conn: &mut Option<Writer>,
    synchronous: &AtomicBool,
    group: &[Job],
    wakes: &mut Vec<(Uuid, i64)>,
    deferred: &mut bool,
) -> StoreResult<Vec<StoreResult<Outcome>>> {
    let items = items_json(group);
    let now = group.iter().map(|j| j.now).max().unwrap_or_else(Utc::now);
    let writer = match conn {
        Some(c) => c,
        None => conn.insert(
            writer_connection(pool, synchronous)
                .await
                .map_err(|e| db_error(e, "connect the ingest writer"))?,
        ),
    };
    *deferred |= writer.deferred;
    let rows: Result<Vec<Row>, _> = sqlx::query_as(
        "SELECT ord, outcome, lead_id, event_id FROM sb_ingest_batch($1, $2::jsonb, true)",
    )
    .bind(ms(now))
    .bind(items)
    .fetch_all(&mut writer.conn)
    .await;
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) => {
            // The statement's own error leaves the connection usable; any
            // other may have broken it.
            if e.as_database_error().is_none() {
                *conn = None;
            }
            return Err(db_error(e, "store leads"));
        }
    };
    // The waker keeps each tenant's last event: a stream that wakes reads
    // everything after its own last event.
    wakes.extend(
        rows.iter().filter_map(|(ord, _, _, event)| {
            Some((group.get(*ord as usize)?.tenant_id, (*event)?))
        }),
    );
    let mut outcomes: Vec<Option<StoreResult<Outcome>>> = group.iter().map(|_| None).collect();
    for (ord, outcome, lead_id, _) in rows {
        let i = ord as usize;
        let (Some(job), Some(slot)) = (group.get(i), outcomes.get_mut(i)) else {
            continue;
        };
        *slot = Some(match (outcome.as_str(), lead_id) {
            ("created", _) => Ok(Outcome::Created),
            ("replayed", Some(id)) => Ok(Outcome::Replayed(id)),
            ("mismatch", _) => Err(StoreError::IdempotencyMismatch),
            ("limit", _) => Err(StoreError::LimitReached {
                what: "leads a month",
                tier: job.limit.tier,
                limit: job.limit.limit.unwrap_or(0),
            }),
            ("key", _) => Ok(Outcome::KeyRevoked),
            ("suspended", _) => Ok(Outcome::Suspended),
            ("deleted", _) => Err(StoreError::TenantDeleted),
            (other, _) => Err(StoreError::Other(anyhow::anyhow!(
                "unknown ingest outcome {other:?}"
            ))),
        });
    }
    Ok(outcomes
        .into_iter()
        .map(|o| o.unwrap_or_else(|| Err(anyhow::anyhow!("no outcome for a lead").into())))
        .collect())
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
        let job = Prepared {
            key,
            actor,
            row: &row,
            limit,
            idempotency: idempotency.as_ref(),
            now,
        }
        .job(reply)?;
        drop(row);
        self.ingest.submit(&self.pool, job);
        let (outcome, lead) = answer.await.map_err(|_| {
            StoreError::Other(anyhow::anyhow!("the ingest writer dropped a request"))
        })??;
        Ok(match outcome {
            Outcome::Created => KeyedIngest::Done(IngestOutcome::Created(Box::new(lead))),
            Outcome::Replayed(id) => {
                let lead = self
                    .lead(key.tenant_id, id, now)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                KeyedIngest::Done(IngestOutcome::Replayed(Box::new(lead)))
            }
            Outcome::KeyRevoked => KeyedIngest::KeyRevoked,
            Outcome::Suspended => KeyedIngest::Suspended,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_announcement_names_each_tenants_last_event_once() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        // Three calls' events, as the flusher hands them over.
        let events = vec![(b, 7), (a, 3), (a, 9), (b, 12), (a, 5)];
        assert_eq!(announcements(events), [format!("{a}:9"), format!("{b}:12")]);
        assert!(announcements(Vec::new()).is_empty());
    }
}
