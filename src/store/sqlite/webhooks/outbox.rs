//! The outbox's mail send state on SQLite, and the purges of sent events
//! and outbound history.

use chrono::{DateTime, Utc};

use crate::store::outbound::MailJobRecord;
use crate::store::sqlite::{db_error, write_audit, SqliteStore};
use crate::store::{Actor, MailJob, MailQuota, OutboundPurge, StoreResult};

pub(super) async fn claim_mail(
    store: &SqliteStore,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<MailJob>> {
    let due: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM outbox WHERE sent_at IS NULL \
         AND recipient IS NOT NULL AND coalesce(next_attempt_at, created_at) <= ?)",
    )
    .bind(now.timestamp_millis())
    .fetch_one(&store.pool)
    .await
    .map_err(|e| db_error(e, "look for mail to send"))?;
    if !due {
        return Ok(Vec::new());
    }
    let (_writer, mut tx) = store.write().await?;
    let rows = sqlx::query_as::<_, MailJobRecord>(
        "SELECT tenant_id, id, recipient, subject, body, attempts FROM outbox \
         WHERE sent_at IS NULL AND recipient IS NOT NULL \
           AND coalesce(next_attempt_at, created_at) <= ? \
         ORDER BY created_at LIMIT ?",
    )
    .bind(now.timestamp_millis())
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await
    .map_err(|e| db_error(e, "find mail to send"))?;
    let mut jobs = Vec::with_capacity(rows.len());
    for r in rows {
        let job = MailJob::from(r);
        sqlx::query("UPDATE outbox SET next_attempt_at = ? WHERE tenant_id = ? AND id = ?")
            .bind(lease_until.timestamp_millis())
            .bind(job.tenant_id.to_string())
            .bind(job.id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "lease an outbox message"))?;
        jobs.push(job);
    }
    tx.commit()
        .await
        .map_err(|e| db_error(e, "commit outbox leases"))?;
    Ok(jobs)
}

pub(super) async fn record_mail(
    store: &SqliteStore,
    job: &MailJob,
    outcome: Result<DateTime<Utc>, (DateTime<Utc>, String)>,
) -> StoreResult<()> {
    let (_writer, mut tx) = store.write().await?;
    let q = match &outcome {
        Ok(at) => sqlx::query(
            "UPDATE outbox SET sent_at = ?, attempts = attempts + 1, last_error = NULL \
             WHERE tenant_id = ? AND id = ?",
        )
        .bind(at.timestamp_millis()),
        Err((retry_at, error)) => sqlx::query(
            "UPDATE outbox SET next_attempt_at = ?, attempts = attempts + 1, last_error = ? \
             WHERE tenant_id = ? AND id = ?",
        )
        .bind(retry_at.timestamp_millis())
        .bind(error.as_str()),
    };
    q.bind(job.tenant_id.to_string())
        .bind(job.id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "record a mail attempt"))?;
    tx.commit()
        .await
        .map_err(|e| db_error(e, "commit a mail attempt"))?;
    Ok(())
}

pub(super) async fn take_mail_quota(
    store: &SqliteStore,
    job: &MailJob,
    quota: MailQuota,
) -> StoreResult<bool> {
    let (_writer, mut tx) = store.write().await?;
    // A limit of 0 inserts nothing: every message waits.
    let taken: Option<i64> = sqlx::query_scalar(
        "INSERT INTO mail_quota (tenant_id, day, sent) SELECT ?, ?, 1 WHERE ? > 0 \
         ON CONFLICT (tenant_id, day) DO UPDATE SET sent = mail_quota.sent + 1 \
         WHERE mail_quota.sent < ? RETURNING sent",
    )
    .bind(job.tenant_id.to_string())
    .bind(quota.day)
    .bind(i64::from(quota.limit))
    .bind(i64::from(quota.limit))
    .fetch_optional(&mut *tx)
    .await
    .map_err(|e| db_error(e, "count an email against the daily quota"))?;
    if taken.is_none() {
        sqlx::query(
            "UPDATE outbox SET next_attempt_at = ?, last_error = ? \
             WHERE tenant_id = ? AND id = ?",
        )
        .bind(quota.defer_until.timestamp_millis())
        .bind(quota.reason())
        .bind(job.tenant_id.to_string())
        .bind(job.id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "defer an email over the daily quota"))?;
        write_audit(&mut tx, job.tenant_id, &Actor::system(), &quota.audit(job)).await?;
    }
    tx.commit()
        .await
        .map_err(|e| db_error(e, "commit the daily email quota"))?;
    Ok(taken.is_some())
}

pub(super) async fn purge_events(
    store: &SqliteStore,
    before: DateTime<Utc>,
    limit: u32,
) -> StoreResult<u64> {
    let (_writer, mut tx) = store.write().await?;
    let gone = sqlx::query(
        "DELETE FROM events WHERE id IN ( \
           SELECT e.id FROM events e WHERE e.created_at < ? \
              AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d \
                               WHERE d.tenant_id = e.tenant_id AND d.event_id = e.id) \
            ORDER BY e.id LIMIT ?)",
    )
    .bind(before.timestamp_millis())
    .bind(i64::from(limit))
    .execute(&mut *tx)
    .await
    .map_err(|e| db_error(e, "delete events past retention"))?
    .rows_affected();
    tx.commit()
        .await
        .map_err(|e| db_error(e, "commit an event purge"))?;
    Ok(gone)
}

pub(super) async fn purge_outbound(
    store: &SqliteStore,
    before: DateTime<Utc>,
    limit: u32,
) -> StoreResult<OutboundPurge> {
    let before = before.timestamp_millis();
    let (_writer, mut tx) = store.write().await?;
    // Attempts go with their delivery (ON DELETE CASCADE).
    let deliveries = sqlx::query(
        "DELETE FROM webhook_deliveries WHERE rowid IN ( \
           SELECT d.rowid FROM webhook_deliveries d \
            WHERE d.status IN ('delivered', 'failed') AND d.created_at < ? \
              AND CASE WHEN d.status = 'delivered' THEN d.delivered_at < ? \
                       ELSE NOT EXISTS (SELECT 1 FROM webhook_attempts a \
                                         WHERE a.tenant_id = d.tenant_id \
                                           AND a.delivery_id = d.id \
                                           AND a.attempted_at >= ?) \
                  END \
            LIMIT ?)",
    )
    .bind(before)
    .bind(before)
    .bind(before)
    .bind(i64::from(limit))
    .execute(&mut *tx)
    .await
    .map_err(|e| db_error(e, "delete webhook deliveries past retention"))?
    .rows_affected();
    let mails = sqlx::query(
        "DELETE FROM outbox WHERE rowid IN ( \
           SELECT rowid FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ? LIMIT ?)",
    )
    .bind(before)
    .bind(i64::from(limit))
    .execute(&mut *tx)
    .await
    .map_err(|e| db_error(e, "delete sent mail past retention"))?
    .rows_affected();
    tx.commit()
        .await
        .map_err(|e| db_error(e, "commit a retention purge"))?;
    Ok(OutboundPurge {
        deliveries,
        mails,
        events: 0,
    })
}
