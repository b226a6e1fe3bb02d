//! The cross-tenant queue and event log: which tenants' rows a caller reads
//! and how much of each (the rules, written once here), how a backend reads
//! them (merge a few tenants' own indexes, or walk one index across many),
//! the SQL conditions both backends share, and the trait each implements.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::{
    parse_lead_cursor, AssigneeFilter, EventRecord, LeadFilter, LeadSort, StoreError, StoreResult,
};
use crate::domain::{Lead, Page, QueueLead, Role, SlaState, TenantRef};

/// A tenant the caller may see, and how much of it.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantView {
    pub tenant: TenantRef,
    /// `Some(user)`: only the leads assigned to that user (leads:view_assigned).
    pub only_assigned_to: Option<Uuid>,
}

/// A tenant and the caller's role in it (`None` for a platform admin who is
/// not a member).
#[derive(Debug, Clone, PartialEq)]
pub struct TenantAccess {
    pub tenant: TenantRef,
    pub role: Option<Role>,
}

/// The assignee condition a caller's leads meet in a tenant where they see
/// only `only`'s (when `Some`), given the one they asked for. The same rule
/// as the per-tenant list: asking for another's leads gets none (the nil
/// id, which no user has), anything else gets their own.
pub fn restrict_assignee(
    only: Option<Uuid>,
    asked: Option<AssigneeFilter>,
) -> Option<AssigneeFilter> {
    match (only, asked) {
        (Some(me), Some(AssigneeFilter::User(u))) if u != me => {
            Some(AssigneeFilter::User(Uuid::nil()))
        }
        (Some(me), _) => Some(AssigneeFilter::User(me)),
        (None, a) => a,
    }
}

/// Up to this many tenants, a group of the queue merges each tenant's own
/// page (one short walk of a tenant-led index each); over it, it walks one
/// index in the list's order across tenants and keeps the visible tenants'
/// rows. The merge reads at most tenants × (page + 1) index entries, the
/// walk about (page + 1) × all tenants / visible tenants when leads spread
/// evenly: they cost the same near √(tenants), ~32 at 1,000 tenants.
pub const MERGE_MAX_TENANTS: usize = 32;

/// How a backend reads a group of the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueShape {
    /// Each tenant's first page from its own index, merged by the order.
    Merge,
    /// One index in the list's order, keeping the group's tenants' rows.
    Walk,
}

/// Tenants whose leads meet the same assignee condition, and how to read them.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueGroup {
    pub tenants: Vec<Uuid>,
    pub assignee: Option<AssigneeFilter>,
    pub shape: QueueShape,
}

impl QueueGroup {
    /// Merged when the tenants are few, or when the leads are one user's:
    /// a user's leads are a thin slice of each tenant, found in order by
    /// the tenant-led assignee index, where a walk across tenants would
    /// pass everyone else's.
    fn shape_for(tenants: usize, assignee: &Option<AssigneeFilter>) -> QueueShape {
        if tenants <= MERGE_MAX_TENANTS || matches!(assignee, Some(AssigneeFilter::User(_))) {
            QueueShape::Merge
        } else {
            QueueShape::Walk
        }
    }
}

/// A position in a lead list's order, from a cursor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeadKey {
    pub responded: bool,
    pub due: DateTime<Utc>,
    pub id: Uuid,
}

/// What a backend runs for one page of the queue: each group's first
/// `limit + 1` leads after `after`, then the first `limit + 1` of them all.
#[derive(Debug, Clone)]
pub struct QueuePlan {
    pub groups: Vec<QueueGroup>,
    /// Where the previous page ended.
    pub after: Option<LeadKey>,
    /// Every tenant of the plan, to name each lead's.
    pub tenants: HashMap<Uuid, TenantRef>,
}

impl QueuePlan {
    /// Every tenant the plan reads (for PostgreSQL's `app.tenant_ids`).
    pub fn tenant_ids(&self) -> Vec<Uuid> {
        self.groups
            .iter()
            .flat_map(|g| g.tenants.iter().copied())
            .collect()
    }

    /// The page of `limit` leads out of the `limit + 1` read, each with its
    /// tenant, and the cursor of the next.
    pub fn page(&self, leads: Vec<Lead>, filter: &LeadFilter) -> StoreResult<Page<QueueLead>> {
        let items = leads
            .into_iter()
            .map(|lead| {
                let tenant = self.tenants.get(&lead.tenant_id).cloned().ok_or_else(|| {
                    StoreError::Other(anyhow::anyhow!(
                        "the queue read a lead of a tenant it did not ask for"
                    ))
                })?;
                Ok(QueueLead { lead, tenant })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let sort = filter.sort;
        Ok(Page::from_rows(items, filter.limit, |l| {
            lead_cursor(sort, &l.lead)
        }))
    }
}

/// A lead's cursor in a list sorted by `sort`: `responded.due_ms.id` for the
/// SLA order, the id otherwise (the per-tenant lists' encoding).
pub fn lead_cursor(sort: LeadSort, lead: &Lead) -> String {
    match sort {
        LeadSort::Sla => format!(
            "{}.{}.{}",
            lead.first_response_at.is_some() as i64,
            lead.sla_due_at.timestamp_millis(),
            lead.id
        ),
        LeadSort::Newest | LeadSort::Oldest => lead.id.to_string(),
    }
}

fn lead_key(sort: LeadSort, cursor: &str) -> StoreResult<LeadKey> {
    let (responded, due, id) = parse_lead_cursor(sort, cursor).ok_or(StoreError::BadCursor)?;
    Ok(LeadKey {
        responded: responded != 0,
        due: Utc
            .timestamp_millis_opt(due)
            .single()
            .ok_or(StoreError::BadCursor)?,
        id: Uuid::parse_str(&id).map_err(|_| StoreError::BadCursor)?,
    })
}

/// The plan for one page of `views`' leads through `filter` (whose
/// `assignee` is what the caller asked for); `None` when nothing can match.
pub fn plan_queue(views: &[TenantView], filter: &LeadFilter) -> StoreResult<Option<QueuePlan>> {
    let after = filter
        .cursor
        .as_deref()
        .map(|c| lead_key(filter.sort, c))
        .transpose()?;
    let mut groups: Vec<QueueGroup> = Vec::new();
    for view in views {
        let assignee = restrict_assignee(view.only_assigned_to, filter.assignee.clone());
        if assignee == Some(AssigneeFilter::User(Uuid::nil())) {
            continue;
        }
        match groups.iter_mut().find(|g| g.assignee == assignee) {
            Some(g) => g.tenants.push(view.tenant.id),
            None => groups.push(QueueGroup {
                tenants: vec![view.tenant.id],
                assignee,
                shape: QueueShape::Merge,
            }),
        }
    }
    if groups.is_empty() {
        return Ok(None);
    }
    for g in &mut groups {
        g.shape = QueueGroup::shape_for(g.tenants.len(), &g.assignee);
    }
    Ok(Some(QueuePlan {
        groups,
        after,
        tenants: views
            .iter()
            .map(|v| (v.tenant.id, v.tenant.clone()))
            .collect(),
    }))
}

/// The shape of the event log read over `tenants` tenants (the same
/// trade-off as the queue's).
pub fn events_shape(tenants: usize) -> QueueShape {
    if tenants <= MERGE_MAX_TENANTS {
        QueueShape::Merge
    } else {
        QueueShape::Walk
    }
}

/// How a backend binds the values of the conditions below: the SQL is the
/// same on both but for these.
pub(crate) trait LeadSql {
    type DB: sqlx::Database;
    /// Case-insensitive LIKE (SQLite's LIKE already ignores ASCII case).
    const ILIKE: &'static str;
    fn bool(q: &mut QueryBuilder<'_, Self::DB>, v: bool);
    fn time(q: &mut QueryBuilder<'_, Self::DB>, t: DateTime<Utc>);
    fn uuid(q: &mut QueryBuilder<'_, Self::DB>, u: Uuid);
    fn text(q: &mut QueryBuilder<'_, Self::DB>, s: String);
}

/// ` AND …` for the filter's conditions on a lead (spam, stage, source, SLA
/// state, text) and the position after the previous page; not the tenant
/// nor the assignee, which the plan's groups decide.
pub(crate) fn push_lead_conditions<S: LeadSql>(
    q: &mut QueryBuilder<'_, S::DB>,
    filter: &LeadFilter,
    after: Option<&LeadKey>,
    now: DateTime<Utc>,
) {
    q.push(" AND spam = ");
    S::bool(q, filter.spam);
    if let Some(stage) = &filter.stage {
        q.push(" AND stage = ");
        S::text(q, stage.clone());
    }
    if let Some(source) = filter.source {
        q.push(" AND source = ");
        S::text(q, source.as_str().to_string());
    }
    match filter.sla {
        Some(SlaState::Met) => {
            q.push(" AND responded = ");
            S::bool(q, true);
        }
        Some(SlaState::Overdue) => {
            q.push(" AND responded = ");
            S::bool(q, false);
            q.push(" AND sla_due_at <= ");
            S::time(q, now);
        }
        Some(SlaState::AtRisk) => {
            q.push(" AND responded = ");
            S::bool(q, false);
            q.push(" AND at_risk_at <= ");
            S::time(q, now);
            q.push(" AND sla_due_at > ");
            S::time(q, now);
        }
        Some(SlaState::OnTrack) => {
            q.push(" AND responded = ");
            S::bool(q, false);
            q.push(" AND at_risk_at > ");
            S::time(q, now);
        }
        None => {}
    }
    if let Some(text) = &filter.text {
        let pattern = format!(
            "%{}%",
            text.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        for (i, column) in ["name", "email", "company", "message"].iter().enumerate() {
            q.push(if i == 0 { " AND (" } else { " OR " });
            q.push(column).push(" ").push(S::ILIKE).push(" ");
            S::text(q, pattern.clone());
            q.push(" ESCAPE '\\'");
        }
        q.push(")");
    }
    if let Some(key) = after {
        match filter.sort {
            LeadSort::Sla => {
                q.push(" AND (responded, sla_due_at, id) > (");
                S::bool(q, key.responded);
                q.push(", ");
                S::time(q, key.due);
                q.push(", ");
                S::uuid(q, key.id);
                q.push(")");
            }
            LeadSort::Newest => {
                q.push(" AND id < ");
                S::uuid(q, key.id);
            }
            LeadSort::Oldest => {
                q.push(" AND id > ");
                S::uuid(q, key.id);
            }
        }
    }
}

/// ` AND …` for a group's assignee condition.
pub(crate) fn push_assignee<S: LeadSql>(
    q: &mut QueryBuilder<'_, S::DB>,
    assignee: &Option<AssigneeFilter>,
) {
    match assignee {
        Some(AssigneeFilter::Nobody) => {
            q.push(" AND assignee_id IS NULL");
        }
        Some(AssigneeFilter::User(u)) => {
            q.push(" AND assignee_id = ");
            S::uuid(q, *u);
        }
        None => {}
    }
}

/// The list's order, on columns named with `prefix` (e.g. `"k."`).
pub(crate) fn order_by(sort: LeadSort, prefix: &str) -> String {
    match sort {
        LeadSort::Sla => format!(" ORDER BY {prefix}responded, {prefix}sla_due_at, {prefix}id"),
        LeadSort::Newest => format!(" ORDER BY {prefix}id DESC"),
        LeadSort::Oldest => format!(" ORDER BY {prefix}id"),
    }
}

/// The cross-tenant reads: the queue, the tenants a caller may see, and the
/// event log across tenants.
#[async_trait]
pub trait QueueStore: Send + Sync {
    /// Every tenant `user` is a member of with their role; every tenant when
    /// `all` (a platform admin), with the role where they are a member.
    async fn tenant_access(&self, user: Uuid, all: bool) -> StoreResult<Vec<TenantAccess>>;
    /// One page of the leads of `views` through `filter`, each with its
    /// tenant, in the filter's order across tenants.
    async fn list_queue(
        &self,
        views: &[TenantView],
        filter: &LeadFilter,
        now: DateTime<Utc>,
    ) -> StoreResult<Page<QueueLead>>;
    /// Events of `tenants` after `after`, in id order, up to `limit`; never
    /// one whose id a later read could find a smaller one committed before
    /// (so resuming after the last one read skips nothing).
    async fn events_across(
        &self,
        tenants: &[Uuid],
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<EventRecord>>;
    /// The newest event id of `tenants` (0 without any): where a stream
    /// without a resume point starts.
    async fn last_event_across(&self, tenants: &[Uuid]) -> StoreResult<i64>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(n: u128, only: Option<Uuid>) -> TenantView {
        TenantView {
            tenant: TenantRef {
                id: Uuid::from_u128(n),
                slug: format!("t{n}"),
                name: format!("T{n}"),
            },
            only_assigned_to: only,
        }
    }

    #[test]
    fn a_member_who_sees_only_their_leads_gets_only_theirs_in_that_tenant() {
        let me = Uuid::from_u128(99);
        let views = [view(1, None), view(2, Some(me))];
        let filter = LeadFilter {
            limit: 50,
            ..LeadFilter::default()
        };
        let plan = plan_queue(&views, &filter).unwrap().unwrap();
        assert_eq!(
            plan.groups,
            vec![
                QueueGroup {
                    tenants: vec![Uuid::from_u128(1)],
                    assignee: None,
                    shape: QueueShape::Merge,
                },
                QueueGroup {
                    tenants: vec![Uuid::from_u128(2)],
                    assignee: Some(AssigneeFilter::User(me)),
                    shape: QueueShape::Merge,
                },
            ]
        );
        // Asking for someone else's leads: none in the tenant where only
        // their own are visible, that person's in the other.
        let other = Uuid::from_u128(7);
        let filter = LeadFilter {
            assignee: Some(AssigneeFilter::User(other)),
            ..filter
        };
        let plan = plan_queue(&views, &filter).unwrap().unwrap();
        assert_eq!(plan.tenant_ids(), vec![Uuid::from_u128(1)]);
        assert_eq!(plan.groups[0].assignee, Some(AssigneeFilter::User(other)));
        assert!(plan_queue(&views[1..], &filter).unwrap().is_none());
    }

    #[test]
    fn a_few_tenants_merge_and_many_walk() {
        let filter = LeadFilter::default();
        let few: Vec<_> = (0..MERGE_MAX_TENANTS as u128)
            .map(|n| view(n, None))
            .collect();
        let many: Vec<_> = (0..=MERGE_MAX_TENANTS as u128)
            .map(|n| view(n, None))
            .collect();
        let shape = |views: &[TenantView], filter: &LeadFilter| {
            plan_queue(views, filter).unwrap().unwrap().groups[0].shape
        };
        assert_eq!(shape(&few, &filter), QueueShape::Merge);
        assert_eq!(shape(&many, &filter), QueueShape::Walk);
        // One user's leads are merged from the assignee index however many
        // tenants there are.
        let mine = LeadFilter {
            assignee: Some(AssigneeFilter::User(Uuid::from_u128(5))),
            ..LeadFilter::default()
        };
        assert_eq!(shape(&many, &mine), QueueShape::Merge);
    }

    #[test]
    fn a_cursor_this_server_did_not_issue_is_refused() {
        let filter = LeadFilter {
            cursor: Some("1.x.y".into()),
            ..LeadFilter::default()
        };
        assert!(matches!(
            plan_queue(&[view(1, None)], &filter),
            Err(StoreError::BadCursor)
        ));
    }
}
