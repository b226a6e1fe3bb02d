//! The event log, the SLA sweep (each alert claimed once across processes
//! with `FOR UPDATE SKIP LOCKED`), the outbox, and the LISTEN side of
//! cross-process live events.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::{BoxStream, StreamExt};
use sqlx::postgres::PgListener;
use std::time::Duration;
use uuid::Uuid;

use super::leads::{log_event, timeline_entry};
use super::{db_error, ms, set_tenant, PgStore, EVENTS_CHANNEL};
use crate::store::events::{
    ClockRecord, EventRow, OutboxRecord, ReclockState, SlaCandidate, EVENTS_AFTER_SQL,
    PENDING_OUTBOX_SQL,
};
use crate::store::{
    moved_clocks, next_cursor, reclocked_entry, Actor, EventRecord, EventStore, OutboxMessage,
    Reclocked, SlaAlert, SlaStore, StoreResult, StoredClock, SweepReport, RECLOCK_BATCH,
};

/// Leads claimed per sweep transaction, so one sweep never holds its row
/// locks (and the tenants' event-log locks) for long.
const SWEEP_BATCH: i32 = 200;

#[async_trait]
impl EventStore for PgStore {
    async fn events_after(
        &self,
        tenant_id: Uuid,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<EventRecord>> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let rows = sqlx::query_as::<_, EventRow>(EVENTS_AFTER_SQL)
            .bind(tenant_id)
            .bind(after)
            .bind(limit as i64)
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| db_error(e, "read events"))?;
        tx.commit().await.map_err(|e| db_error(e, "end a read"))?;
        Ok(rows.into_iter().map(|r| r.into_event(tenant_id)).collect())
    }

    async fn last_event_id(&self, tenant_id: Uuid) -> StoreResult<i64> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        let id: Option<i64> = sqlx::query_scalar("SELECT max(id) FROM events WHERE tenant_id = $1")
            .bind(tenant_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| db_error(e, "read the last event"))?;
        tx.commit().await.map_err(|e| db_error(e, "end a read"))?;
        Ok(id.unwrap_or(0))
    }

    /// Tenants whose event log grew, from any process: the `events_inserted`
    /// trigger's NOTIFY, payload `<tenant id>:<event id>`. The listener
    /// reconnects by itself after a lost connection; notifications sent
    /// meanwhile are lost, and streams catch up at their next wake-up.
    async fn event_wakeups(&self) -> StoreResult<Option<BoxStream<'static, Uuid>>> {
        let mut listener = PgListener::connect_with(&self.pool)
            .await
            .map_err(|e| db_error(e, "open the event listener"))?;
        listener
            .listen(EVENTS_CHANNEL)
            .await
            .map_err(|e| db_error(e, "listen for events"))?;
        let stream = futures::stream::unfold(listener, |mut listener| async move {
            loop {
                match listener.recv().await {
                    Ok(n) => {
                        let tenant = n
                            .payload()
                            .split_once(':')
                            .and_then(|(t, _)| Uuid::parse_str(t).ok());
                        match tenant {
                            Some(t) => return Some((t, listener)),
                            None => tracing::warn!(payload = n.payload(), "odd event notification"),
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "event listener lost its connection; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        });
        Ok(Some(stream.boxed()))
    }
}

impl PgStore {
    /// Claims one batch across tenants and writes its alerts in the same
    /// transaction, switching `app.tenant_id` as the (tenant-ordered) rows
    /// change tenant. Tenant order also orders the event-log locks, so
    /// concurrent sweepers cannot deadlock on them.
    async fn sweep_batch(
        &self,
        alert: SlaAlert,
        now: DateTime<Utc>,
        report: &mut SweepReport,
    ) -> StoreResult<usize> {
        let now = ms(now);
        let mut tx = self.global_tx().await?;
        let sql = match alert {
            SlaAlert::Breached => {
                "SELECT tenant_id, id, name, sla_due_at, tenant_name, settings \
                 FROM sb_claim_sla_breaches($1, $2)"
            }
            SlaAlert::AtRisk => {
                "SELECT tenant_id, id, name, sla_due_at, tenant_name, settings \
                 FROM sb_claim_sla_risks($1, $2)"
            }
        };
        let rows = sqlx::query_as::<_, SlaCandidate>(sql)
            .bind(now)
            .bind(SWEEP_BATCH)
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| db_error(e, "claim SLA alerts"))?;
        let count = rows.len();
        let mut scoped: Option<Uuid> = None;
        for r in rows {
            let (tenant_id, lead_id, due) = (r.tenant_id(), r.lead_id(), r.due());
            // An overdue lead whose at-risk alert never went out gets only the breach.
            if alert == SlaAlert::AtRisk && due <= now {
                continue;
            }
            if scoped != Some(tenant_id) {
                set_tenant(&mut tx, tenant_id).await?;
                scoped = Some(tenant_id);
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
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(tenant_id)
            .bind(Uuid::now_v7())
            .bind(msg.event_kind)
            .bind(r.manager_email())
            .bind(&msg.subject)
            .bind(&msg.body)
            .bind(now)
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
impl SlaStore for PgStore {
    async fn reclock_leads(&self, tenant_id: Uuid, now: DateTime<Utc>) -> StoreResult<Reclocked> {
        let mut tx = self.tenant_tx(tenant_id).await?;
        // FOR UPDATE: a settings change waits for this batch, and one made
        // before it is what this batch reads (with the cursor it reset).
        let found = sqlx::query_as::<_, ReclockState>(
            "SELECT settings, reclock_after FROM tenants \
             WHERE id = $1 AND reclock_pending FOR UPDATE",
        )
        .bind(tenant_id)
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
        let after = found.after();
        // FOR UPDATE: a lead answered meanwhile keeps its answer's state.
        let rows = sqlx::query_as::<_, ClockRecord>(
            "SELECT id, created_at, sla_due_at, at_risk_at FROM leads \
             WHERE tenant_id = $1 AND NOT responded AND id > $2 ORDER BY id LIMIT $3 FOR UPDATE",
        )
        .bind(tenant_id)
        .bind(after.unwrap_or(Uuid::nil()))
        .bind(RECLOCK_BATCH as i64)
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| db_error(e, "read leads to reclock"))?;
        let read: Vec<StoredClock> = rows.into_iter().map(StoredClock::from).collect();
        let moved = moved_clocks(&rule, &read);
        for m in &moved {
            sqlx::query(
                "UPDATE leads SET sla_due_at = $1, at_risk_at = $2, \
                 sla_breached_alerted_at = CASE WHEN $1 > $3 THEN NULL ELSE sla_breached_alerted_at END, \
                 sla_at_risk_alerted_at = CASE WHEN $2 > $3 THEN NULL ELSE sla_at_risk_alerted_at END \
                 WHERE tenant_id = $4 AND id = $5",
            )
            .bind(ms(m.new_due))
            .bind(ms(m.new_risk))
            .bind(ms(now))
            .bind(tenant_id)
            .bind(m.id)
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
        sqlx::query("UPDATE tenants SET reclock_pending = $1, reclock_after = $2 WHERE id = $3")
            .bind(cursor.is_some())
            .bind(cursor)
            .bind(tenant_id)
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
        sqlx::query_scalar("SELECT id FROM tenants WHERE reclock_pending")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_error(e, "list tenants to reclock"))
    }

    async fn sla_sweep(&self, now: DateTime<Utc>) -> StoreResult<SweepReport> {
        let mut report = SweepReport::default();
        // Idempotency keys are honoured for at least 24 h; keep them 48 h.
        sqlx::query("SELECT sb_expire_idempotency_keys($1)")
            .bind(ms(now - chrono::Duration::hours(48)))
            .execute(&self.pool)
            .await
            .map_err(|e| db_error(e, "expire idempotency keys"))?;
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
        let mut tx = self.tenant_tx(tenant_id).await?;
        let rows = sqlx::query_as::<_, OutboxRecord>(PENDING_OUTBOX_SQL)
            .bind(tenant_id)
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| db_error(e, "read the outbox"))?;
        tx.commit().await.map_err(|e| db_error(e, "end a read"))?;
        Ok(rows.into_iter().map(OutboxMessage::from).collect())
    }
}
