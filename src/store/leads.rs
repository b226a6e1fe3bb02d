//! Leads: row and filter types and the rules shared by every store backend,
//! and the traits that store leads (supertraits of [`super::Store`]).

use super::row::{Id, JsonOrNull, Lenient, Time};
use super::{Actor, AuditEntry, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::lead::sla_state;
use crate::domain::text::{one_line, untrusted_block};
use crate::domain::{
    Lead, LeadInput, LeadSource, Page, Qualification, SlaState, Tier, TimelineEntry, Utm,
};

/// A lead's columns, in [`LeadRecord`]'s order.
pub(crate) const LEAD_COLUMNS: &str = "tenant_id, id, name, email, phone, company, message, \
     source, source_page, utm, fields, stage, assignee_id, spam, spam_reason, qual_category, \
     qual_reason, created_at, updated_at, sla_due_at, at_risk_at, first_response_at, responded, \
     workspace_id";

/// A lead as stored (read by [`LEAD_COLUMNS`]). UTM parameters or fields
/// that do not parse read as none, as both stores always read them.
#[derive(sqlx::FromRow)]
pub(crate) struct LeadRecord {
    tenant_id: Id,
    id: Id,
    name: String,
    email: Option<String>,
    phone: Option<String>,
    company: Option<String>,
    message: String,
    source: LeadSource,
    source_page: Option<String>,
    utm: Lenient<Utm>,
    fields: Lenient<serde_json::Value>,
    stage: String,
    assignee_id: Option<Id>,
    spam: bool,
    spam_reason: Option<String>,
    qual_category: Option<String>,
    qual_reason: Option<String>,
    created_at: Time,
    updated_at: Time,
    sla_due_at: Time,
    at_risk_at: Time,
    first_response_at: Option<Time>,
    workspace_id: Option<Id>,
}

impl LeadRecord {
    /// The lead, its SLA state as of `now`.
    pub(crate) fn into_lead(self, now: DateTime<Utc>) -> Lead {
        let sla_due_at = self.sla_due_at.into();
        let sla_at_risk_at = self.at_risk_at.into();
        let first_response_at = self.first_response_at.map(Into::into);
        Lead {
            id: self.id.into(),
            tenant_id: self.tenant_id.into(),
            name: self.name,
            email: self.email,
            phone: self.phone,
            company: self.company,
            message: self.message,
            source: self.source,
            source_page: self.source_page,
            utm: self.utm.0.unwrap_or_default(),
            fields: self.fields.0.unwrap_or_else(|| serde_json::json!({})),
            stage: self.stage,
            workspace_id: self.workspace_id.map(Into::into),
            assignee_id: self.assignee_id.map(Into::into),
            spam: self.spam,
            spam_reason: self.spam_reason,
            qualification: self.qual_category.map(|category| Qualification {
                category,
                reason: self.qual_reason.unwrap_or_default(),
            }),
            created_at: self.created_at.into(),
            updated_at: self.updated_at.into(),
            sla_due_at,
            sla_at_risk_at,
            first_response_at,
            sla: sla_state(sla_at_risk_at, sla_due_at, first_response_at, now),
        }
    }
}

/// A lead's timeline entry as stored; data that does not parse reads as
/// null.
#[derive(sqlx::FromRow)]
pub(crate) struct TimelineRecord {
    id: Id,
    lead_id: Id,
    kind: String,
    actor_id: Option<Id>,
    actor_email: Option<String>,
    data: JsonOrNull,
    created_at: Time,
}

impl From<TimelineRecord> for TimelineEntry {
    fn from(r: TimelineRecord) -> TimelineEntry {
        TimelineEntry {
            id: r.id.into(),
            lead_id: r.lead_id.into(),
            kind: r.kind,
            actor_id: r.actor_id.map(Into::into),
            actor_email: r.actor_email,
            data: r.data.0,
            created_at: r.created_at.into(),
        }
    }
}

/// Tenant `$1`'s lead `$2`.
pub(crate) fn lead_sql() -> String {
    format!("SELECT {LEAD_COLUMNS} FROM leads WHERE tenant_id = $1 AND id = $2")
}

/// Tenant `$1`'s lead `$2`'s timeline, oldest first.
pub(crate) const TIMELINE_SQL: &str = "SELECT id, lead_id, kind, actor_id, actor_email, data, \
     created_at FROM lead_events WHERE tenant_id = $1 AND lead_id = $2 ORDER BY id";

/// A lead to insert, already validated and classified.
#[derive(Debug, Clone)]
pub struct NewLeadRow {
    pub input: LeadInput,
    pub source: LeadSource,
    pub stage: String,
    pub spam_reason: Option<String>,
    pub sla_due_at: DateTime<Utc>,
    pub sla_at_risk_at: DateTime<Utc>,
    /// When the lead arrived, if before now (imports); otherwise now.
    pub received_at: Option<DateTime<Utc>>,
    /// The workspace the lead arrived through (the API key's).
    pub workspace_id: Option<Uuid>,
    /// For imports: a stable key so the same row is never imported twice.
    pub import_key: Option<String>,
}

/// Whether a new lead takes one of the month's allowance: spam and leads
/// saved from the playground (tests, not customers) do not.
pub fn counts_toward_limit(row: &NewLeadRow) -> bool {
    row.spam_reason.is_none() && row.source != LeadSource::Playground
}

impl NewLeadRow {
    /// The lead this row becomes when inserted as `id` at `now`, as a read
    /// returns it (times at the stores' millisecond precision), so a store
    /// need not read back what it just wrote.
    pub fn to_lead(&self, id: Uuid, tenant_id: Uuid, now: DateTime<Utc>) -> Lead {
        let ms = |t: DateTime<Utc>| {
            chrono::TimeZone::timestamp_millis_opt(&Utc, t.timestamp_millis())
                .single()
                .unwrap_or(t)
        };
        let input = &self.input;
        let now = ms(now);
        let (sla_due_at, sla_at_risk_at) = (ms(self.sla_due_at), ms(self.sla_at_risk_at));
        Lead {
            id,
            tenant_id,
            name: input.name.clone(),
            email: input.email.clone(),
            phone: input.phone.clone(),
            company: input.company.clone(),
            message: input.message.clone(),
            source: self.source,
            source_page: input.source_page.clone(),
            utm: input.utm.clone().unwrap_or_default(),
            fields: serde_json::to_value(input.fields.clone().unwrap_or_default())
                .unwrap_or_else(|_| serde_json::json!({})),
            stage: self.stage.clone(),
            workspace_id: self.workspace_id,
            assignee_id: None,
            spam: self.spam_reason.is_some(),
            spam_reason: self.spam_reason.clone(),
            qualification: None,
            created_at: ms(self.received_at.unwrap_or(now)),
            updated_at: now,
            sla_due_at,
            sla_at_risk_at,
            first_response_at: None,
            sla: crate::domain::lead::sla_state(sla_at_risk_at, sla_due_at, None, now),
        }
    }
}

/// The tenant's monthly lead limit, checked inside the insert transaction.
#[derive(Debug, Clone, Copy)]
pub struct LeadLimit {
    pub tier: Tier,
    pub limit: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct Idempotency {
    pub key: String,
    /// Hash of the request body: the same key with another body is refused.
    pub body_hash: String,
}

#[derive(Debug, Clone)]
pub enum IngestOutcome {
    Created(Box<crate::domain::Lead>),
    /// The idempotency key was seen before: this is the first result.
    Replayed(Box<crate::domain::Lead>),
    /// An import key matched an existing lead: nothing was added.
    Duplicate,
}

/// What an ingest through an API key came to.
#[derive(Debug, Clone)]
pub enum KeyedIngest {
    Done(IngestOutcome),
    /// The key was revoked or deleted after the request read it.
    KeyRevoked,
    /// The tenant was suspended after the request read it.
    Suspended,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AssigneeFilter {
    Nobody,
    User(Uuid),
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum LeadSort {
    /// Open leads first, the soonest due first (most overdue on top).
    #[default]
    Sla,
    Newest,
    Oldest,
}

/// A resolved lead listing: the server turns query strings and the caller's
/// permissions into this.
#[derive(Debug, Clone, Default)]
pub struct LeadFilter {
    pub stage: Option<String>,
    pub sla: Option<SlaState>,
    pub assignee: Option<AssigneeFilter>,
    pub spam: bool,
    pub source: Option<LeadSource>,
    pub text: Option<String>,
    pub sort: LeadSort,
    pub cursor: Option<String>,
    pub limit: u32,
}

/// A change to one lead, validated by the server.
#[derive(Debug, Clone, Default)]
pub struct LeadChange {
    pub name: Option<String>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub company: Option<Option<String>>,
    pub message: Option<String>,
    pub stage: Option<String>,
    pub assignee_id: Option<Option<Uuid>>,
    pub spam: Option<bool>,
    pub qualification: Option<Option<Qualification>>,
    /// The tenant's first stage: moving out of it is a first response.
    pub first_stage: String,
}

/// One entry of the per-tenant event log.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    pub id: i64,
    pub tenant_id: Uuid,
    pub kind: String,
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// What one SLA sweep emitted.
#[derive(Debug, Clone, Default)]
pub struct SweepReport {
    pub at_risk: u32,
    pub breached: u32,
    pub tenants: Vec<Uuid>,
}

/// The two SLA alerts a sweep emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaAlert {
    AtRisk,
    Breached,
}

/// What an SLA alert writes: the timeline kind, the event kind, the event
/// and timeline data, and the manager's email.
#[derive(Debug, Clone)]
pub struct SlaAlertMessage {
    pub timeline_kind: &'static str,
    pub event_kind: &'static str,
    pub data: serde_json::Value,
    pub subject: String,
    pub body: String,
}

impl SlaAlert {
    /// Composes the alert for a lead, the same for every backend. The lead's
    /// name is whatever a stranger typed into a form: the subject quotes it
    /// on one line and the body only as a labelled, quoted block, so it can
    /// never pass for Switchboard's own words ("reset your password at …").
    pub fn message(
        self,
        lead_id: Uuid,
        name: &str,
        tenant_name: &str,
        due: DateTime<Utc>,
    ) -> SlaAlertMessage {
        let (timeline_kind, event_kind, what) = match self {
            SlaAlert::Breached => ("sla_breached", "sla.breached", "SLA breached"),
            SlaAlert::AtRisk => ("sla_at_risk", "sla.at_risk", "SLA at risk"),
        };
        let subject = format!("{what}: \"{}\" ({tenant_name})", one_line(name, 60));
        let body = format!(
            "{what} in {tenant_name}: the first response to a lead is due at {} UTC. \
             Open the lead in Switchboard to answer it.\n\n{}",
            due.format("%Y-%m-%d %H:%M"),
            untrusted_block("The lead's name, as they wrote it", name),
        );
        SlaAlertMessage {
            timeline_kind,
            event_kind,
            data: serde_json::json!({ "lead_id": lead_id, "name": name, "sla_due_at": due }),
            subject,
            body,
        }
    }
}

impl SweepReport {
    /// Counts one emitted alert.
    pub fn count(&mut self, alert: SlaAlert, tenant_id: Uuid) {
        match alert {
            SlaAlert::Breached => self.breached += 1,
            SlaAlert::AtRisk => self.at_risk += 1,
        }
        self.tenants.push(tenant_id);
    }
}

/// Opaque keyset cursors, the same for every backend: `r.due.id` for the
/// SLA order (responded 0/1, due time in Unix ms, lead id), the id otherwise.
pub(crate) fn parse_lead_cursor(sort: LeadSort, cursor: &str) -> Option<(i64, i64, String)> {
    match sort {
        LeadSort::Sla => {
            let mut parts = cursor.splitn(3, '.');
            let responded = parts.next()?.parse().ok()?;
            let due = parts.next()?.parse().ok()?;
            let id = parts.next()?;
            Uuid::parse_str(id).ok()?;
            Some((responded, due, id.to_string()))
        }
        LeadSort::Newest | LeadSort::Oldest => {
            Uuid::parse_str(cursor).ok()?;
            Some((0, 0, cursor.to_string()))
        }
    }
}

/// What a [`LeadChange`] does to a lead, worked out once for every backend:
/// the lead afterwards, its timeline entries, the changed field names, and
/// the correction to the month's allowance (spam does not count).
#[derive(Debug, Clone)]
pub struct LeadPlan {
    pub after: crate::domain::Lead,
    pub entries: Vec<(&'static str, serde_json::Value)>,
    pub changed: Vec<String>,
    pub usage_delta: Option<i64>,
    /// What the audit entry records: the fields with before and after.
    pub audit: serde_json::Value,
}

pub fn plan_lead_change(
    before: &crate::domain::Lead,
    change: &LeadChange,
    now: DateTime<Utc>,
) -> LeadPlan {
    use serde_json::json;
    let mut after = before.clone();
    let mut changed: Vec<String> = Vec::new();
    let mut entries: Vec<(&'static str, serde_json::Value)> = Vec::new();
    let mut usage_delta = None;

    let mut edits = serde_json::Map::new();
    if let Some(v) = change.name.as_ref().filter(|v| **v != before.name) {
        after.name = v.clone();
        edits.insert("name".into(), json!(v));
    }
    for (field, new, old, slot) in [
        ("email", &change.email, &before.email, &mut after.email),
        ("phone", &change.phone, &before.phone, &mut after.phone),
        (
            "company",
            &change.company,
            &before.company,
            &mut after.company,
        ),
    ] {
        if let Some(v) = new.as_ref().filter(|v| *v != old) {
            *slot = v.clone();
            edits.insert(field.into(), json!(v));
        }
    }
    if let Some(v) = change.message.as_ref().filter(|v| **v != before.message) {
        after.message = v.clone();
        edits.insert("message".into(), json!(v));
    }
    if !edits.is_empty() {
        changed.extend(edits.keys().cloned());
        entries.push((
            "updated",
            json!({ "fields": edits.keys().collect::<Vec<_>>() }),
        ));
    }
    if let Some(stage) = change.stage.as_ref().filter(|s| **s != before.stage) {
        after.stage = stage.clone();
        changed.push("stage".into());
        // Leaving the first stage is the first response.
        let first_response =
            before.first_response_at.is_none() && before.stage == change.first_stage;
        if first_response {
            after.first_response_at = Some(now);
        }
        entries.push((
            "stage_changed",
            json!({ "from": before.stage, "to": stage, "first_response": first_response }),
        ));
    }
    if let Some(assignee) = change.assignee_id.filter(|a| *a != before.assignee_id) {
        after.assignee_id = assignee;
        changed.push("assignee_id".into());
        entries.push((
            "assigned",
            json!({ "from": before.assignee_id, "to": assignee }),
        ));
    }
    if let Some(spam) = change.spam.filter(|s| *s != before.spam) {
        after.spam = spam;
        after.spam_reason = spam.then(|| "marked as spam by a member".to_string());
        changed.push("spam".into());
        entries.push(("spam_marked", json!({ "spam": spam })));
        usage_delta = Some(if spam { -1 } else { 1 });
    }
    if let Some(q) = change
        .qualification
        .as_ref()
        .filter(|q| **q != before.qualification)
    {
        after.qualification = q.clone();
        changed.push("qualification".into());
        entries.push(("qualified", json!({ "qualification": q })));
    }
    if !changed.is_empty() {
        after.updated_at = now;
    }
    let audit = change_audit(before, &after, &changed);
    LeadPlan {
        after,
        entries,
        changed,
        usage_delta,
        audit,
    }
}

/// The audit record of a lead change: the changed fields with their values
/// before and after (leads hold no secrets).
fn change_audit(
    before: &crate::domain::Lead,
    after: &crate::domain::Lead,
    changed: &[String],
) -> serde_json::Value {
    let (old, new) = (
        serde_json::to_value(before).unwrap_or_default(),
        serde_json::to_value(after).unwrap_or_default(),
    );
    let pick = |v: &serde_json::Value| -> serde_json::Map<String, serde_json::Value> {
        changed
            .iter()
            .map(|f| {
                (
                    f.clone(),
                    v.get(f).cloned().unwrap_or(serde_json::Value::Null),
                )
            })
            .collect()
    };
    serde_json::json!({ "fields": changed, "before": pick(&old), "after": pick(&new) })
}

/// A reply at time `$1` to tenant `$2`'s lead `$3` (its first response, if
/// it is the first).
pub(crate) const LEAD_REPLIED_SQL: &str = "UPDATE leads \
     SET first_response_at = coalesce(first_response_at, $1), responded = true, \
     updated_at = $1 WHERE tenant_id = $2 AND id = $3";

/// A [`LeadPlan`]'s lead stored over tenant `$15`'s lead `$16`: name,
/// email, phone, company, message, stage, assignee, spam and its reason,
/// qualification, first response, responded, time.
pub(crate) const UPDATE_LEAD_SQL: &str = "UPDATE leads SET name = $1, email = $2, phone = $3, \
     company = $4, message = $5, stage = $6, assignee_id = $7, spam = $8, spam_reason = $9, \
     qual_category = $10, qual_reason = $11, first_response_at = $12, responded = $13, \
     updated_at = $14 WHERE tenant_id = $15 AND id = $16";

pub(crate) const DELETE_LEAD_SQL: &str = "DELETE FROM leads WHERE tenant_id = $1 AND id = $2";

/// A timeline entry: tenant, id, lead, kind, actor id and email, data, time.
pub(crate) const INSERT_TIMELINE_SQL: &str = "INSERT INTO lead_events (tenant_id, id, lead_id, \
     kind, actor_id, actor_email, data, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// What the audit log says of a lead change (see [`LeadPlan`]).
pub fn lead_update_audit(id: Uuid, changes: serde_json::Value) -> AuditEntry {
    AuditEntry {
        action: "lead.update",
        resource: "lead",
        resource_id: id.to_string(),
        changes,
    }
}

/// What the audit log says of a deleted lead.
pub fn lead_delete_audit(lead: &Lead) -> AuditEntry {
    AuditEntry {
        action: "lead.delete",
        resource: "lead",
        resource_id: lead.id.to_string(),
        changes: serde_json::json!({ "name": lead.name }),
    }
}

/// The data of a `lead.updated` event.
pub fn lead_updated<L: serde::Serialize>(lead: &L) -> serde_json::Value {
    serde_json::json!({ "lead": lead })
}

/// A note or a reply on a lead: its timeline kind and data and its audit
/// entry, the same on every backend.
pub struct Note {
    pub kind: &'static str,
    pub data: serde_json::Value,
    pub audit: AuditEntry,
}

impl Note {
    /// `first_response`: a reply that is the lead's first response.
    pub fn new(lead_id: Uuid, body: &str, is_reply: bool, first_response: bool) -> Note {
        Note {
            kind: if is_reply { "reply" } else { "note" },
            data: serde_json::json!({ "body": body, "first_response": first_response }),
            audit: AuditEntry {
                action: if is_reply { "lead.reply" } else { "lead.note" },
                resource: "lead",
                resource_id: lead_id.to_string(),
                changes: serde_json::json!({ "first_response": first_response }),
            },
        }
    }

    /// The timeline entry it was stored as.
    pub fn entry(
        self,
        id: Uuid,
        lead_id: Uuid,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> TimelineEntry {
        TimelineEntry {
            id,
            lead_id,
            kind: self.kind.to_string(),
            actor_id: actor.user_id,
            actor_email: actor.email.clone(),
            data: self.data,
            created_at: now,
        }
    }
}

/// Leads: ingest (under the monthly limit and the idempotency key) and
/// reads, with their SLA worked out at `now`.
#[async_trait]
pub trait LeadStore: Send + Sync {
    /// Inserts a lead with its timeline entry, audit entry and event, under
    /// the monthly limit and the idempotency key, in one transaction.
    async fn insert_lead(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        row: NewLeadRow,
        limit: LeadLimit,
        idempotency: Option<Idempotency>,
        now: DateTime<Utc>,
    ) -> StoreResult<IngestOutcome>;
    /// A form's lead posted with an API key: `insert_lead`, with the key's
    /// last use recorded. The PostgreSQL store also re-checks the key and
    /// the tenant's status in the same transaction and groups concurrent
    /// calls for one tenant into one statement (group commit).
    async fn ingest_with_key(
        &self,
        key: &super::KeyOwner,
        actor: &Actor,
        row: NewLeadRow,
        limit: LeadLimit,
        idempotency: Option<Idempotency>,
        now: DateTime<Utc>,
    ) -> StoreResult<KeyedIngest>;
    async fn list_leads(
        &self,
        tenant_id: Uuid,
        filter: &LeadFilter,
        now: DateTime<Utc>,
    ) -> StoreResult<Page<Lead>>;
    async fn lead(
        &self,
        tenant_id: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Lead>>;
    async fn leads_this_month(&self, tenant_id: Uuid, now: DateTime<Utc>) -> StoreResult<u32>;
}

/// Changes to one lead (edits, deletion, notes) and its timeline.
#[async_trait]
pub trait LeadChangeStore: Send + Sync {
    async fn update_lead(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        change: LeadChange,
        now: DateTime<Utc>,
    ) -> StoreResult<Lead>;
    async fn delete_lead(&self, actor: &Actor, tenant_id: Uuid, id: Uuid) -> StoreResult<()>;
    async fn add_note(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        lead_id: Uuid,
        body: &str,
        is_reply: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<TimelineEntry>;
    async fn timeline(&self, tenant_id: Uuid, lead_id: Uuid) -> StoreResult<Vec<TimelineEntry>>;
}
