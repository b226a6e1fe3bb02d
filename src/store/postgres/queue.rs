//! The cross-tenant queue and event log under row-level security: each read
//! runs in a transaction that names its tenants in `app.tenant_ids` (the
//! SELECT-only policy of migration 0016), so it reads those tenants' rows
//! and can change none. The plan (which tenants, which shape) is the
//! store's (`store::queue`); this is its SQL.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use super::{db_error, parse_role, PgStore, Tx};
use crate::domain::{Page, QueueLead, TenantRef};
use crate::store::leads::{LeadRecord, LEAD_COLUMNS};
use crate::store::{
    events_shape, order_by, plan_queue, push_assignee, push_lead_conditions, EventRecord,
    LeadFilter, LeadSql, QueueShape, QueueStore, StoreResult, TenantAccess, TenantView,
};

struct Pg;

impl LeadSql for Pg {
    type DB = Postgres;
    const ILIKE: &'static str = "ILIKE";
    fn bool(q: &mut QueryBuilder<'_, Postgres>, v: bool) {
        q.push_bind(v);
    }
    fn time(q: &mut QueryBuilder<'_, Postgres>, t: DateTime<Utc>) {
        q.push_bind(t);
    }
    fn uuid(q: &mut QueryBuilder<'_, Postgres>, u: Uuid) {
        q.push_bind(u);
    }
    fn text(q: &mut QueryBuilder<'_, Postgres>, s: String) {
        q.push_bind(s);
    }
}

/// Longest a read of the event log waits for the transactions that may
/// still commit an event id below the one it would read up to; past it,
/// the read returns nothing new and the stream tries again.
const SETTLE_WAIT: Duration = Duration::from_secs(1);

impl PgStore {
    /// A read-only view of `tenants`' rows (see migration 0016).
    async fn tenants_tx(&self, tenants: &[Uuid]) -> StoreResult<Tx> {
        let mut tx = self.global_tx().await?;
        let ids = tenants
            .iter()
            .map(Uuid::to_string)
            .collect::<Vec<_>>()
            .join(",");
        sqlx::query("SELECT set_config('app.tenant_ids', $1, true)")
            .bind(ids)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "set the transaction's tenants"))?;
        Ok(tx)
    }

    /// The highest event id any transaction has drawn, once every
    /// transaction that was running when it was read has ended: from then
    /// on, every event at or below it is committed or never will be.
    /// `None` when they are still running after [`SETTLE_WAIT`].
    async fn settled_event_horizon(&self) -> StoreResult<Option<i64>> {
        let err = |e| db_error(e, "read the event log's horizon");
        let (horizon, snapshot): (Option<i64>, String) = sqlx::query_as(
            "SELECT pg_sequence_last_value(pg_get_serial_sequence('public.events', 'id')::regclass), \
                    pg_current_snapshot()::text",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(err)?;
        let deadline = tokio::time::Instant::now() + SETTLE_WAIT;
        loop {
            let running: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM pg_snapshot_xip($1::pg_snapshot) x \
                  WHERE pg_xact_status(x) = 'in progress')",
            )
            .bind(&snapshot)
            .fetch_one(&self.pool)
            .await
            .map_err(err)?;
            if !running {
                return Ok(Some(horizon.unwrap_or(0)));
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

impl PgStore {
    /// One walk over many tenants (a platform admin's queue, or a member's
    /// of many tenants alike): the leads whole, straight from the order's
    /// index (leads_due or leads_recent), stopping at the page. Reading
    /// keys first and the rows after, as the merge does for its
    /// index-only scans, would cost the walk a second pass of the policy
    /// and a primary-key read per row.
    async fn walk_queue(
        &self,
        plan: &crate::store::QueuePlan,
        group: &crate::store::QueueGroup,
        filter: &LeadFilter,
        now: DateTime<Utc>,
    ) -> StoreResult<Page<QueueLead>> {
        let mut q = QueryBuilder::<Postgres>::new(format!(
            "SELECT {LEAD_COLUMNS} FROM leads WHERE (tenant_id IN (SELECT unnest("
        ));
        // `IS TRUE` keeps the IN a hashed filter (see list_queue).
        q.push_bind(group.tenants.clone())
            .push("::uuid[]))) IS TRUE");
        push_assignee::<Pg>(&mut q, &group.assignee);
        push_lead_conditions::<Pg>(&mut q, filter, plan.after.as_ref(), now);
        q.push(order_by(filter.sort, ""))
            .push(" LIMIT ")
            .push_bind(filter.limit as i64 + 1);
        self.read_queue(q, plan, filter, now).await
    }

    /// Runs a queue query in a read of the plan's tenants (under the
    /// policy of migration 0016), then makes the page.
    async fn read_queue(
        &self,
        mut q: QueryBuilder<'_, Postgres>,
        plan: &crate::store::QueuePlan,
        filter: &LeadFilter,
        now: DateTime<Utc>,
    ) -> StoreResult<Page<QueueLead>> {
        let mut tx = self.tenants_tx(&plan.tenant_ids()).await?;
        let rows = q
            .build_query_as::<LeadRecord>()
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| db_error(e, "list leads across tenants"))?;
        tx.commit().await.map_err(|e| db_error(e, "end a read"))?;
        let leads = rows.into_iter().map(|r| r.into_lead(now)).collect();
        plan.page(leads, filter)
    }
}

#[async_trait]
impl QueueStore for PgStore {
    async fn tenant_access(&self, user: Uuid, all: bool) -> StoreResult<Vec<TenantAccess>> {
        let sql = if all {
            "SELECT t.id, t.slug, t.name, m.role FROM tenants t \
             LEFT JOIN sb_member_tenants($1) m ON m.tenant_id = t.id ORDER BY t.id"
        } else {
            "SELECT t.id, t.slug, t.name, m.role FROM sb_member_tenants($1) m \
             JOIN tenants t ON t.id = m.tenant_id ORDER BY t.id"
        };
        let rows: Vec<(Uuid, String, String, Option<String>)> = sqlx::query_as(sql)
            .bind(user)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_error(e, "list the caller's tenants"))?;
        rows.into_iter()
            .map(|(id, slug, name, role)| {
                Ok(TenantAccess {
                    tenant: TenantRef { id, slug, name },
                    role: role.as_deref().map(parse_role).transpose()?,
                })
            })
            .collect()
    }

    async fn list_queue(
        &self,
        views: &[TenantView],
        filter: &LeadFilter,
        now: DateTime<Utc>,
    ) -> StoreResult<Page<QueueLead>> {
        let Some(plan) = plan_queue(views, filter)? else {
            return Ok(Page::from_rows(Vec::new(), filter.limit, |_| String::new()));
        };
        let n = filter.limit as i64 + 1;
        let sort = filter.sort;
        if let [group] = plan.groups.as_slice() {
            if group.shape == QueueShape::Walk {
                return self.walk_queue(&plan, group, filter, now).await;
            }
        }
        // Each group's first n keys (tenant, id and the order's columns, all
        // in the tenant-led indexes), the first n of them all, then those
        // leads whole.
        let mut q = QueryBuilder::<Postgres>::new(format!(
            "SELECT {LEAD_COLUMNS} FROM leads WHERE (tenant_id, id) IN (SELECT k.tenant_id, k.id FROM ("
        ));
        for (i, group) in plan.groups.iter().enumerate() {
            if i > 0 {
                q.push(" UNION ALL ");
            }
            match group.shape {
                QueueShape::Merge => {
                    q.push("SELECT g.* FROM unnest(")
                        .push_bind(group.tenants.clone())
                        .push(
                            "::uuid[]) v(t) CROSS JOIN LATERAL (SELECT tenant_id, id, responded, \
                               sla_due_at FROM leads WHERE tenant_id = v.t",
                        );
                }
                QueueShape::Walk => {
                    // The tenants as a hashed set tested on each row the
                    // walk reads, like the policy's, so the planner walks
                    // the order's index (leads_due or leads_recent) and
                    // stops at n. `IS TRUE` keeps the IN a filter: a bare
                    // `IN (SELECT unnest($1))` is pulled up into a semi-join
                    // and `= ANY($1)` into an index condition on the
                    // tenant-led index, and with the array bound both read
                    // and sorted every visible lead (p99 226 ms at 1M).
                    q.push(
                        "SELECT g.* FROM (SELECT tenant_id, id, responded, sla_due_at FROM leads \
                            WHERE (tenant_id IN (SELECT unnest(",
                    )
                    .push_bind(group.tenants.clone())
                    .push("::uuid[]))) IS TRUE");
                }
            }
            push_assignee::<Pg>(&mut q, &group.assignee);
            push_lead_conditions::<Pg>(&mut q, filter, plan.after.as_ref(), now);
            q.push(order_by(sort, ""))
                .push(" LIMIT ")
                .push_bind(n)
                .push(") g");
        }
        q.push(") k")
            .push(order_by(sort, "k."))
            .push(" LIMIT ")
            .push_bind(n)
            .push(")")
            .push(order_by(sort, ""));
        self.read_queue(q, &plan, filter, now).await
    }

    async fn events_across(
        &self,
        tenants: &[Uuid],
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<EventRecord>> {
        if tenants.is_empty() {
            return Ok(Vec::new());
        }
        let Some(horizon) = self.settled_event_horizon().await? else {
            return Ok(Vec::new());
        };
        if horizon <= after {
            return Ok(Vec::new());
        }
        let sql = match events_shape(tenants.len()) {
            QueueShape::Merge => {
                "SELECT e.tenant_id, e.id, e.kind, e.data, e.created_at FROM unnest($1::uuid[]) v(t) \
                 CROSS JOIN LATERAL (SELECT tenant_id, id, kind, data, created_at FROM events \
                   WHERE tenant_id = v.t AND id > $2 AND id <= $3 ORDER BY id LIMIT $4) e \
                 ORDER BY e.id LIMIT $4"
            }
            QueueShape::Walk => {
                "SELECT tenant_id, id, kind, data, created_at FROM events \
                 WHERE tenant_id IN (SELECT unnest($1::uuid[])) AND id > $2 AND id <= $3 \
                 ORDER BY id LIMIT $4"
            }
        };
        let mut tx = self.tenants_tx(tenants).await?;
        let rows: Vec<(Uuid, i64, String, serde_json::Value, DateTime<Utc>)> = sqlx::query_as(sql)
            .bind(tenants)
            .bind(after)
            .bind(horizon)
            .bind(limit as i64)
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| db_error(e, "read events across tenants"))?;
        tx.commit().await.map_err(|e| db_error(e, "end a read"))?;
        Ok(rows
            .into_iter()
            .map(|(tenant_id, id, kind, data, created_at)| EventRecord {
                id,
                tenant_id,
                kind,
                data,
                created_at,
            })
            .collect())
    }

    async fn last_event_across(&self, tenants: &[Uuid]) -> StoreResult<i64> {
        // Everything drawn so far: a stream starting here shows what
        // commits from now on (an event still in flight below it is one the
        // lists it loads next will show).
        if tenants.is_empty() {
            return Ok(0);
        }
        let id: Option<i64> = sqlx::query_scalar(
            "SELECT pg_sequence_last_value(pg_get_serial_sequence('public.events', 'id')::regclass)",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(|e| db_error(e, "read the newest event id"))?;
        Ok(id.unwrap_or(0))
    }
}
