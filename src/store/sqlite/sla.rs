//! The event log, the SLA sweep (each alert claimed once by a persisted flag)
//! and the outbox.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::leads::{log_event, timeline_entry};
use super::{db_error, SqliteStore};
use crate::store::events::{
    ClockRecord, EventRow, OutboxRecord, ReclockState, SlaCandidate, EVENTS_AFTER_SQL,
    PENDING_OUTBOX_SQL,
};
use crate::store::row::Id;
use crate::store::sql::Dialect;
use crate::store::{
    moved_clocks, next_cursor, reclocked_entry, Actor, EventRecord, EventStore, OutboxMessage,
    Reclocked, SlaAlert, SlaStore, StoreResult, StoredClock, SweepReport, RECLOCK_BATCH,
};

const SQL: Dialect = Dialect::Sqlite;

/// Leads claimed per sweep transaction, so one sweep never holds the write
/// lock for long.
const SWEEP_BATCH: i64 = 200;

#[async_trait]
impl EventStore for SqliteStore {
    async fn events_after(
        &self,
        tenant_id: Uuid,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<EventRecord>> {
        let rows = sqlx::query_as::<_, EventRow>(&SQL.write(EVENTS_AFTER_SQL))
            .bind(tenant_id.to_string())
            .bind(after)
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_error(e, "read events"))?;
        Ok(rows.into_iter().map(|r| r.into_event(tenant_id)).collect())
    }

    async fn last_event_id(&self, tenant_id: Uuid) -> StoreResult<i64> {
        let id: Option<i64> = sqlx::query_scalar("SELECT max(id) FROM events WHERE tenant_id = ?")
            .bind(tenant_id.to_string())
            .fetch_one(&self.pool)
            .await
            .map_err(|e| db_error(e, "read the last event"))?;
        Ok(id.unwrap_or(0))
    }
}

impl SqliteStore {
    async fn sweep_batch(
        &self,
        alert: SlaAlert,
        now: DateTime<Utc>,
        report: &mut SweepReport,
    ) -> StoreResult<usize> {
        let now_ms = now.timestamp_millis();
        let (_writer, mut tx) = self.write().await?;
        let sql = match alert {
            SlaAlert::Breached => {
                "SELECT l.tenant_id, l.id, l.name, l.sla_due_at, t.name AS tenant_name, t.settings \
                 FROM leads l JOIN tenants t ON t.id = l.tenant_id \
                 WHERE l.responded = 0 AND l.spam = 0 AND l.sla_breached_alerted_at IS NULL \
                 AND l.sla_due_at <= ? LIMIT ?"
            }
            SlaAlert::AtRisk => {
                "SELECT l.tenant_id, l.id, l.name, l.sla_due_at, t.name AS tenant_name, t.settings \
                 FROM leads l JOIN tenants t ON t.id = l.tenant_id \
                 WHERE l.responded = 0 AND l.spam = 0 AND l.sla_at_risk_alerted_at IS NULL \
                 AND l.at_risk_at <= ? LIMIT ?"
            }
        };
        let rows = sqlx::query_as::<_, SlaCandidate>(sql)
            .bind(now_ms)
            .bind(SWEEP_BATCH)
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| db_error(e, "find SLA alerts due"))?;
        let count = rows.len();
        for r in rows {
            let (tenant_id, lead_id, due) = (r.tenant_id(), r.lead_id(), r.due());
            let claim = match alert {
                SlaAlert::Breached => {
                    "UPDATE leads SET sla_breached_alerted_at = ?1, \
                     sla_at_risk_alerted_at = coalesce(sla_at_risk_alerted_at, ?1) \
                     WHERE tenant_id = ?2 AND id = ?3 AND sla_breached_alerted_at IS NULL"
                }
                SlaAlert::AtRisk => {
                    "UPDATE leads SET sla_at_risk_alerted_at = ?1 \
                     WHERE tenant_id = ?2 AND id = ?3 AND sla_at_risk_alerted_at IS NULL"
                }
            };
            let claimed = sqlx::query(claim)
                .bind(now_ms)
                .bind(tenant_id.to_string())
                .bind(lead_id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(|e| db_error(e, "claim an SLA alert"))?;
            if claimed.rows_affected() == 0 {
                continue;
            }
            // An overdue lead whose at-risk alert never went out gets only the breach.
            if alert == SlaAlert::AtRisk && due <= now {
                continue;
            }
            let msg = alert.message(lead_id, &r.name, &r.tenant_name, due);
            timeline_entry(
                &mut tx,
                tenant_id,
                lead_id,
                msg.timeline_kind,
                &Actor::system(),
                msg.data.clone(),
                now,
            )
            .await?;
            log_event(&mut tx, tenant_id, msg.event_kind, msg.data, now).await?;
            sqlx::query(
                "INSERT INTO outbox (tenant_id, id, kind, recipient, subject, body, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(tenant_id.to_string())
            .bind(Uuid::now_v7().to_string())
            .bind(msg.event_kind)
            .bind(r.manager_email())
            .bind(&msg.subject)
            .bind(&msg.body)
            .bind(now_ms)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "queue an SLA email"))?;
            report.count(alert, tenant_id);
        }
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit SLA alerts"))?;
        Ok(count)
    }
}

#[async_trait]
impl SlaStore for SqliteStore {
    async fn reclock_leads(&self, tenant_id: Uuid, now: DateTime<Utc>) -> StoreResult<Reclocked> {
        let tenant = tenant_id.to_string();
        let (_writer, mut tx) = self.write().await?;
        let found = sqlx::query_as::<_, ReclockState>(
            "SELECT settings, reclock_after FROM tenants WHERE id = ? AND reclock_pending = 1",
        )
        .bind(&tenant)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_error(e, "read the tenant's reclock state"))?;
        let Some(found) = found else {
            return Ok(Reclocked {
                done: true,
                ..Reclocked::default()
            });
        };
        let rule = found.settings().sla_rule();
        // Text ids of v7 UUIDs sort as the UUIDs do; every id sorts after "".
        let after = found.after().map(|a| a.to_string());
        let rows = sqlx::query_as::<_, ClockRecord>(
            "SELECT id, created_at, sla_due_at, at_risk_at FROM leads \
             WHERE tenant_id = ? AND responded = 0 AND id > ? ORDER BY id LIMIT ?",
        )
        .bind(&tenant)
        .bind(after.unwrap_or_default())
        .bind(RECLOCK_BATCH as i64)
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| db_error(e, "read leads to reclock"))?;
        let read: Vec<StoredClock> = rows.into_iter().map(StoredClock::from).collect();
        let moved = moved_clocks(&rule, &read);
        for m in &moved {
            sqlx::query(
                "UPDATE leads SET sla_due_at = ?1, at_risk_at = ?2, \
                 sla_breached_alerted_at = CASE WHEN ?1 > ?3 THEN NULL ELSE sla_breached_alerted_at END, \
                 sla_at_risk_alerted_at = CASE WHEN ?2 > ?3 THEN NULL ELSE sla_at_risk_alerted_at END \
                 WHERE tenant_id = ?4 AND id = ?5",
            )
            .bind(m.new_due.timestamp_millis())
            .bind(m.new_risk.timestamp_millis())
            .bind(now.timestamp_millis())
            .bind(&tenant)
            .bind(m.id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "reclock a lead"))?;
            timeline_entry(
                &mut tx,
                tenant_id,
                m.id,
                "sla_reclocked",
                &Actor::system(),
                reclocked_entry(m.due, m.new_due),
                now,
            )
            .await?;
        }
        let cursor = next_cursor(&read);
        sqlx::query("UPDATE tenants SET reclock_pending = ?, reclock_after = ? WHERE id = ?")
            .bind(cursor.is_some())
            .bind(cursor.map(|c| c.to_string()))
            .bind(&tenant)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "move the reclock cursor"))?;
        tx.commit()
            .await
            .map_err(|e| db_error(e, "commit reclocked leads"))?;
        Ok(Reclocked {
            scanned: read.len(),
            changed: moved.len(),
            done: cursor.is_none(),
        })
    }

    async fn pending_reclocks(&self) -> StoreResult<Vec<Uuid>> {
        let ids: Vec<Id> = sqlx::query_scalar("SELECT id FROM tenants WHERE reclock_pending = 1")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_error(e, "list tenants to reclock"))?;
        Ok(ids.into_iter().map(Uuid::from).collect())
    }

    async fn sla_sweep(&self, now: DateTime<Utc>) -> StoreResult<SweepReport> {
        let mut report = SweepReport::default();
        // Idempotency keys are honoured for at least 24 h; keep them 48 h.
        {
            let _turn = self.writer_turn().await;
            sqlx::query("DELETE FROM idempotency_keys WHERE created_at < ?")
                .bind((now - chrono::Duration::hours(48)).timestamp_millis())
                .execute(&self.pool)
                .await
                .map_err(|e| db_error(e, "expire idempotency keys"))?;
        }
        // Breaches first: a lead already overdue gets its breach alert, and its
        // at-risk alert is then moot (claimed without a message).
        for alert in [SlaAlert::Breached, SlaAlert::AtRisk] {
            loop {
                let n = self.sweep_batch(alert, now, &mut report).await?;
                if n < SWEEP_BATCH as usize {
                    break;
                }
            }
        }
        report.tenants.sort();
        report.tenants.dedup();
        Ok(report)
    }

    async fn pending_outbox(&self, tenant_id: Uuid) -> StoreResult<Vec<OutboxMessage>> {
        let rows = sqlx::query_as::<_, OutboxRecord>(&SQL.write(PENDING_OUTBOX_SQL))
            .bind(tenant_id.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_error(e, "read the outbox"))?;
        Ok(rows.into_iter().map(OutboxMessage::from).collect())
    }
}
