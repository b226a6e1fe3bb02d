//! The cross-tenant queue and event log on SQLite. The plan (which tenants,
//! which shape) is the store's (`store::queue`); this is its SQL. Event ids
//! are the log's rowid, handed out under the database's single write lock:
//! their order is the commit order across tenants.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Sqlite};
use uuid::Uuid;

use super::{db_error, parse_role, parse_uuid, to_dt, SqliteStore};
use crate::domain::{Page, QueueLead, TenantRef};
use crate::store::leads::{LeadRecord, LEAD_COLUMNS};
use crate::store::{
    events_shape, order_by, plan_queue, push_assignee, push_lead_conditions, EventRecord,
    LeadFilter, LeadSort, LeadSql, QueueShape, QueueStore, StoreResult, TenantAccess, TenantView,
};

struct Lite;

impl LeadSql for Lite {
    type DB = Sqlite;
    const ILIKE: &'static str = "LIKE";
    fn bool(q: &mut QueryBuilder<'_, Sqlite>, v: bool) {
        q.push_bind(v as i64);
    }
    fn time(q: &mut QueryBuilder<'_, Sqlite>, t: DateTime<Utc>) {
        q.push_bind(t.timestamp_millis());
    }
    fn uuid(q: &mut QueryBuilder<'_, Sqlite>, u: Uuid) {
        q.push_bind(u.to_string());
    }
    fn text(q: &mut QueryBuilder<'_, Sqlite>, s: String) {
        q.push_bind(s);
    }
}

/// A set of tenant ids as one JSON array, read with `json_each`.
fn id_set(ids: &[Uuid]) -> String {
    serde_json::to_string(&ids.iter().map(Uuid::to_string).collect::<Vec<_>>())
        .unwrap_or_else(|_| "[]".into())
}

#[async_trait]
impl QueueStore for SqliteStore {
    async fn tenant_access(&self, user: Uuid, all: bool) -> StoreResult<Vec<TenantAccess>> {
        let sql = if all {
            "SELECT t.id, t.slug, t.name, m.role FROM tenants t \
             LEFT JOIN memberships m ON m.tenant_id = t.id AND m.user_id = ? ORDER BY t.id"
        } else {
            "SELECT t.id, t.slug, t.name, m.role FROM memberships m \
             JOIN tenants t ON t.id = m.tenant_id WHERE m.user_id = ? ORDER BY t.id"
        };
        let rows: Vec<(String, String, String, Option<String>)> = sqlx::query_as(sql)
            .bind(user.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_error(e, "list the caller's tenants"))?;
        rows.into_iter()
            .map(|(id, slug, name, role)| {
                Ok(TenantAccess {
                    tenant: TenantRef {
                        id: parse_uuid(&id)?,
                        slug,
                        name,
                    },
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
        // The index a walk follows: the one in the list's order, named
        // because SQLite would otherwise take the tenant set as the way in
        // and sort every visible lead.
        let walk_index = match sort {
            LeadSort::Sla => "leads_due",
            LeadSort::Newest | LeadSort::Oldest => "leads_recent",
        };
        let mut q = QueryBuilder::<Sqlite>::new("SELECT * FROM (");
        let mut first = true;
        let mut branch = |q: &mut QueryBuilder<'_, Sqlite>| {
            if !std::mem::take(&mut first) {
                q.push(" UNION ALL ");
            }
            q.push(format!("SELECT * FROM (SELECT {LEAD_COLUMNS} FROM leads"));
        };
        for group in &plan.groups {
            let end = |q: &mut QueryBuilder<'_, Sqlite>| {
                push_assignee::<Lite>(q, &group.assignee);
                push_lead_conditions::<Lite>(q, filter, plan.after.as_ref(), now);
                q.push(order_by(sort, ""))
                    .push(" LIMIT ")
                    .push_bind(n)
                    .push(")");
            };
            match group.shape {
                QueueShape::Merge => {
                    for tenant in &group.tenants {
                        branch(&mut q);
                        q.push(" WHERE tenant_id = ").push_bind(tenant.to_string());
                        end(&mut q);
                    }
                }
                QueueShape::Walk => {
                    branch(&mut q);
                    q.push(format!(
                        " INDEXED BY {walk_index} WHERE tenant_id IN (SELECT value FROM json_each("
                    ))
                    .push_bind(id_set(&group.tenants))
                    .push("))");
                    end(&mut q);
                }
            }
        }
        q.push(")")
            .push(order_by(sort, ""))
            .push(" LIMIT ")
            .push_bind(n);
        let rows = q
            .build_query_as::<LeadRecord>()
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_error(e, "list leads across tenants"))?;
        let leads = rows.into_iter().map(|r| r.into_lead(now)).collect();
        plan.page(leads, filter)
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
        let rows: Vec<(i64, String, String, String, i64)> = match events_shape(tenants.len()) {
            // Each tenant's next events from events_tenant, merged.
            QueueShape::Merge => {
                let mut q = QueryBuilder::<Sqlite>::new("SELECT * FROM (");
                for (i, tenant) in tenants.iter().enumerate() {
                    if i > 0 {
                        q.push(" UNION ALL ");
                    }
                    q.push(
                        "SELECT * FROM (SELECT id, tenant_id, kind, data, created_at FROM events \
                         WHERE tenant_id = ",
                    )
                    .push_bind(tenant.to_string())
                    .push(" AND id > ")
                    .push_bind(after)
                    .push(" ORDER BY id LIMIT ")
                    .push_bind(limit as i64)
                    .push(")");
                }
                q.push(") ORDER BY id LIMIT ").push_bind(limit as i64);
                q.build_query_as().fetch_all(&self.pool).await
            }
            QueueShape::Walk => {
                sqlx::query_as(
                    "SELECT id, tenant_id, kind, data, created_at FROM events \
                     WHERE id > ? AND tenant_id IN (SELECT value FROM json_each(?)) \
                     ORDER BY id LIMIT ?",
                )
                .bind(after)
                .bind(id_set(tenants))
                .bind(limit as i64)
                .fetch_all(&self.pool)
                .await
            }
        }
        .map_err(|e| db_error(e, "read events across tenants"))?;
        rows.into_iter()
            .map(|(id, tenant_id, kind, data, created_at)| {
                Ok(EventRecord {
                    id,
                    tenant_id: parse_uuid(&tenant_id)?,
                    kind,
                    data: serde_json::from_str(&data).unwrap_or(serde_json::Value::Null),
                    created_at: to_dt(created_at),
                })
            })
            .collect()
    }

    async fn last_event_across(&self, tenants: &[Uuid]) -> StoreResult<i64> {
        if tenants.is_empty() {
            return Ok(0);
        }
        let id: Option<i64> = sqlx::query_scalar("SELECT max(id) FROM events")
            .fetch_one(&self.pool)
            .await
            .map_err(|e| db_error(e, "read the newest event id"))?;
        Ok(id.unwrap_or(0))
    }
}
