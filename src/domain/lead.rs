//! Leads: contact details, pipeline stage, assignee, spam flag, qualification
//! and the SLA clock.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::problem::FieldError;
use super::validate::is_email;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LeadSource {
    Form,
    Api,
    Import,
    Manual,
    Playground,
}

impl LeadSource {
    pub const ALL: [LeadSource; 5] = [
        LeadSource::Form,
        LeadSource::Api,
        LeadSource::Import,
        LeadSource::Manual,
        LeadSource::Playground,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LeadSource::Form => "form",
            LeadSource::Api => "api",
            LeadSource::Import => "import",
            LeadSource::Manual => "manual",
            LeadSource::Playground => "playground",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// Where a lead stands against its first-response deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SlaState {
    OnTrack,
    AtRisk,
    Overdue,
    Met,
}

impl SlaState {
    pub fn as_str(self) -> &'static str {
        match self {
            SlaState::OnTrack => "on_track",
            SlaState::AtRisk => "at_risk",
            SlaState::Overdue => "overdue",
            SlaState::Met => "met",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            SlaState::OnTrack,
            SlaState::AtRisk,
            SlaState::Overdue,
            SlaState::Met,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// The share of the SLA window left, in percent, at which a lead becomes at
/// risk, unless the tenant sets its own.
pub const DEFAULT_AT_RISK_PERCENT: u8 = 25;

/// The SLA state of a lead at `now`.
pub fn sla_state(
    at_risk_at: DateTime<Utc>,
    due: DateTime<Utc>,
    first_response_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> SlaState {
    if first_response_at.is_some() {
        SlaState::Met
    } else if now >= due {
        SlaState::Overdue
    } else if now >= at_risk_at {
        SlaState::AtRisk
    } else {
        SlaState::OnTrack
    }
}

/// When a lead received at `created_at` and due at `due` becomes at risk:
/// when `percent` of its window is left.
pub fn at_risk_from(created_at: DateTime<Utc>, due: DateTime<Utc>, percent: u8) -> DateTime<Utc> {
    let window = (due - created_at).num_milliseconds();
    due - Duration::milliseconds(window * i64::from(percent.min(100)) / 100)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Qualification {
    /// e.g. hot, warm, cold, spam, support.
    #[schema(max_length = 40, pattern = r"\S")]
    pub category: String,
    #[schema(max_length = 500)]
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Utm {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 200)]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medium: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Lead {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub message: String,
    pub source: LeadSource,
    pub source_page: Option<String>,
    pub utm: Utm,
    /// Free-form form fields.
    pub fields: serde_json::Value,
    pub stage: String,
    /// The workspace (channel) the lead arrived through, if any.
    pub workspace_id: Option<Uuid>,
    pub assignee_id: Option<Uuid>,
    pub spam: bool,
    pub spam_reason: Option<String>,
    pub qualification: Option<Qualification>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub sla_due_at: DateTime<Utc>,
    /// When the lead turns at risk (the tenant's share of the window left).
    pub sla_at_risk_at: DateTime<Utc>,
    pub first_response_at: Option<DateTime<Utc>>,
    /// Computed by the server when the lead is read.
    pub sla: SlaState,
}

/// A lead as a website form (or an integrator) posts it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LeadInput {
    #[schema(max_length = 200, pattern = r"\S")]
    pub name: String,
    #[serde(default)]
    #[schema(format = IdnEmail)]
    pub email: Option<String>,
    #[serde(default)]
    #[schema(
        max_length = 40,
        pattern = r"^(\s*|(?=(?:[^0-9]*[0-9]){5})[0-9 +\-().x]+)$"
    )]
    pub phone: Option<String>,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub company: Option<String>,
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub message: String,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub source_page: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::validate::optional_object")]
    pub utm: Option<Utm>,
    #[serde(default)]
    pub fields: Option<serde_json::Map<String, serde_json::Value>>,
}

const MAX_MESSAGE: usize = 10_000;

fn opt_trim(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

fn check_len(field: &str, v: &Option<String>, max: usize, errors: &mut Vec<FieldError>) {
    if v.as_deref().is_some_and(|s| s.chars().count() > max) {
        errors.push(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
}

impl LeadInput {
    /// Trims and validates; every problem is reported, not just the first.
    pub fn normalized(&self) -> Result<LeadInput, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = self.name.trim().to_string();
        if name.is_empty() {
            errors.push(FieldError::new("name", "is required"));
        } else if name.chars().count() > 200 {
            errors.push(FieldError::new("name", "must be at most 200 characters"));
        }
        let email = opt_trim(&self.email).map(|e| e.to_lowercase());
        if let Some(e) = &email {
            if !is_email(e) {
                errors.push(FieldError::new("email", "is not an email address"));
            }
        }
        let phone = opt_trim(&self.phone);
        if let Some(p) = &phone {
            let digits = p.chars().filter(|c| c.is_ascii_digit()).count();
            if digits < 5
                || p.len() > 40
                || !p
                    .chars()
                    .all(|c| c.is_ascii_digit() || " +-().x".contains(c))
            {
                errors.push(FieldError::new(
                    "phone",
                    "must be a phone number (digits, spaces, + - ( ) .)",
                ));
            }
        }
        if email.is_none() && phone.is_none() {
            errors.push(FieldError::new(
                "email",
                "give an email or a phone so someone can answer",
            ));
        }
        let company = opt_trim(&self.company);
        check_len("company", &company, 200, &mut errors);
        let message = self.message.trim().to_string();
        if message.chars().count() > MAX_MESSAGE {
            errors.push(FieldError::new(
                "message",
                format!("must be at most {MAX_MESSAGE} characters"),
            ));
        }
        let source_page = opt_trim(&self.source_page);
        check_len("source_page", &source_page, 2000, &mut errors);
        let utm = self.utm.clone().map(|u| Utm {
            source: opt_trim(&u.source),
            medium: opt_trim(&u.medium),
            campaign: opt_trim(&u.campaign),
            term: opt_trim(&u.term),
            content: opt_trim(&u.content),
        });
        if let Some(u) = &utm {
            for (f, v) in [
                ("utm.source", &u.source),
                ("utm.medium", &u.medium),
                ("utm.campaign", &u.campaign),
                ("utm.term", &u.term),
                ("utm.content", &u.content),
            ] {
                check_len(f, v, 200, &mut errors);
            }
        }
        if let Some(fields) = &self.fields {
            if fields.len() > 50 {
                errors.push(FieldError::new("fields", "at most 50 fields"));
            }
            let size = serde_json::to_string(fields).map(|s| s.len()).unwrap_or(0);
            if size > 16 * 1024 {
                errors.push(FieldError::new("fields", "at most 16 KiB of fields"));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(LeadInput {
            name,
            email,
            phone,
            company,
            message,
            source_page,
            utm,
            fields: self.fields.clone(),
        })
    }
}

/// Decides whether a lead is spam, and why.
pub fn spam_reason(input: &LeadInput, keywords: &[String]) -> Option<String> {
    let haystack = format!(
        "{} {} {}",
        input.name,
        input.company.as_deref().unwrap_or(""),
        input.message
    )
    .to_lowercase();
    for k in keywords {
        let k = k.trim().to_lowercase();
        if !k.is_empty() && haystack.contains(&k) {
            return Some(format!("contains the spam keyword {k:?}"));
        }
    }
    let words: Vec<&str> = input.message.split_whitespace().collect();
    let links = words
        .iter()
        .filter(|w| w.starts_with("http://") || w.starts_with("https://") || w.starts_with("www."))
        .count();
    if !words.is_empty() && links == words.len() {
        return Some("the message is only links".into());
    }
    if links >= 3 {
        return Some(format!("the message has {links} links"));
    }
    None
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LeadPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 200, pattern = r"\S")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = IdnEmail)]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// One of the tenant's pipeline stages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// A member's user id; `null` unassigns.
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Uuid>)]
    pub assignee_id: Option<Option<Uuid>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spam: Option<bool>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Qualification>)]
    pub qualification: Option<Option<Qualification>>,
}

/// `Option<Option<T>>` that tells a missing field from an explicit `null`.
pub(crate) mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(
        v: &Option<Option<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct LeadQuery {
    /// Items per page (1–200, default 50).
    #[serde(default, deserialize_with = "crate::domain::page::limit_in_range")]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page (with the same `sort`).
    pub cursor: Option<String>,
    pub stage: Option<String>,
    /// on_track, at_risk, overdue or met.
    #[param(value_type = Option<SlaState>, inline)]
    pub sla: Option<String>,
    /// `me`, a user id, or `none`.
    #[param(
        pattern = r"^(|me|none|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
    )]
    pub assignee: Option<String>,
    /// Spam leads are hidden unless `spam=true`.
    pub spam: Option<bool>,
    #[param(value_type = Option<LeadSource>, inline)]
    pub source: Option<String>,
    /// Text over name, email, company and message.
    pub q: Option<String>,
    /// `sla` (default: due soonest first), `newest`, `oldest`.
    #[param(pattern = "^(sla|newest|oldest)$")]
    pub sort: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NewNote {
    #[schema(max_length = 5000, pattern = r"\S")]
    pub body: String,
    /// A reply to the lead: stops the SLA clock if it is the first.
    #[serde(default)]
    pub is_reply: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BulkLeads {
    #[schema(min_items = 1, max_items = 500)]
    pub ids: Vec<Uuid>,
    #[serde(default)]
    pub stage: Option<String>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Uuid>)]
    pub assignee_id: Option<Option<Uuid>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BulkResult {
    pub updated: Vec<Uuid>,
    /// Ids that do not exist here or are not visible to you.
    pub not_found: Vec<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TimelineEntry {
    pub id: Uuid,
    pub lead_id: Uuid,
    /// created, stage_changed, assigned, note, reply, qualified, spam_marked,
    /// updated, sla_at_risk, sla_breached.
    pub kind: String,
    pub actor_id: Option<Uuid>,
    pub actor_email: Option<String>,
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

pub use super::usage::Usage;

/// The first instant of the month after `now` (UTC).
pub fn next_month_start(now: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::Datelike;
    let (y, m) = if now.month() == 12 {
        (now.year() + 1, 1)
    } else {
        (now.year(), now.month() + 1)
    };
    chrono::NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .unwrap_or(now)
}

/// `YYYY-MM` of `now` (UTC): the key of the monthly usage counter.
pub fn month_key(now: DateTime<Utc>) -> String {
    now.format("%Y-%m").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::hours(h)
    }

    #[test]
    fn sla_states_follow_the_clock() {
        let (c, due) = (t(0), t(8));
        let risk = at_risk_from(c, due, 25);
        assert_eq!(risk, t(6));
        assert_eq!(at_risk_from(c, due, 50), t(4));
        assert_eq!(sla_state(risk, due, None, t(1)), SlaState::OnTrack);
        assert_eq!(sla_state(risk, due, None, t(6)), SlaState::AtRisk);
        assert_eq!(sla_state(risk, due, None, t(8)), SlaState::Overdue);
        assert_eq!(sla_state(risk, due, Some(t(9)), t(20)), SlaState::Met);
    }

    #[test]
    fn input_validation_reports_every_field() {
        let bad = LeadInput {
            name: " ".into(),
            email: Some("nope".into()),
            phone: Some("call me".into()),
            ..Default::default()
        };
        let errs = bad.normalized().unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"name") && fields.contains(&"email") && fields.contains(&"phone"));
        let ok = LeadInput {
            name: " Jane ".into(),
            email: Some(" Jane@X.io ".into()),
            ..Default::default()
        }
        .normalized()
        .unwrap();
        assert_eq!(ok.name, "Jane");
        assert_eq!(ok.email.as_deref(), Some("jane@x.io"));
    }

    #[test]
    fn spam_by_keyword_and_by_links() {
        let mut l = LeadInput {
            name: "A".into(),
            message: "Cheap CASINO bonus".into(),
            ..Default::default()
        };
        assert!(spam_reason(&l, &["casino".into()])
            .unwrap()
            .contains("casino"));
        l.message = "https://x.io https://y.io".into();
        assert!(spam_reason(&l, &[]).is_some());
        l.message = "Hi, I need a quote for a kitchen. See www.example.com".into();
        assert!(spam_reason(&l, &[]).is_none());
    }

    #[test]
    fn months_roll_over() {
        let dec = Utc.with_ymd_and_hms(2026, 12, 15, 10, 0, 0).unwrap();
        assert_eq!(
            next_month_start(dec),
            Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap()
        );
        assert_eq!(month_key(dec), "2026-12");
    }
}

/// What a website form gets back: enough to reference the lead, nothing
/// about how it was classified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IngestReceipt {
    pub id: Uuid,
    pub received_at: DateTime<Utc>,
}

/// One row an import could not take, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImportRowError {
    /// Line in the file (the header is line 1).
    pub row: u32,
    pub field: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImportReport {
    pub imported: u32,
    /// Rows already imported before (nothing added).
    pub duplicates: u32,
    /// Rows not imported: every one is listed, none dropped silently.
    pub errors: Vec<ImportRowError>,
}

/// A sample lead as stored in `assets/sample-leads.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct SampleLead {
    #[serde(flatten)]
    pub input: LeadInput,
    pub source: LeadSource,
    pub received_minutes_ago: i64,
}

/// Lead text comes from anyone with a form: no input makes these panic.
#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::domain::text::arbitrary::text;
    use proptest::prelude::*;

    const WORDS: &[&str] = &["@", ".", "http://", "www.", "+", "(", " ", "x@y.io"];

    proptest! {
        #[test]
        fn any_lead_is_validated_or_refused_without_panic(
            name in text(WORDS),
            email in text(WORDS),
            phone in text(&["1", "2", "+", "-", " ", "(", ")"]),
            company in text(WORDS),
            message in text(WORDS),
            keyword in text(WORDS),
        ) {
            let input = LeadInput {
                name,
                email: Some(email),
                phone: Some(phone),
                company: Some(company),
                message,
                source_page: Some(keyword.clone()),
                ..Default::default()
            };
            let _ = spam_reason(&input, &[keyword, "İ".into(), "\u{212a}".into()]);
            if let Ok(lead) = input.normalized() {
                prop_assert!(lead.name.chars().count() <= 200);
            }
        }
    }
}
