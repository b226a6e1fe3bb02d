//! Tenants (client agencies), their tiers and settings.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::business_hours::BusinessHours;
use super::problem::FieldError;
use super::tenant_profile::{self as profile, ConfigValue};
use super::validate;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Starter,
    Pro,
    Enterprise,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Starter, Tier::Pro, Tier::Enterprise];

    /// Leads per calendar month; `None` is unlimited.
    pub fn lead_limit(self) -> Option<u32> {
        match self {
            Tier::Starter => Some(100),
            Tier::Pro => Some(1000),
            Tier::Enterprise => None,
        }
    }

    /// Members per tenant; `None` is unlimited.
    pub fn user_limit(self) -> Option<u32> {
        match self {
            Tier::Starter => Some(3),
            Tier::Pro => Some(10),
            Tier::Enterprise => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Starter => "starter",
            Tier::Pro => "pro",
            Tier::Enterprise => "enterprise",
        }
    }

    pub fn parse(s: &str) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl std::fmt::Display for Tier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TenantStatus {
    Active,
    Suspended,
}

impl TenantStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TenantStatus::Active => "active",
            TenantStatus::Suspended => "suspended",
        }
    }

    pub fn parse(s: &str) -> Option<TenantStatus> {
        match s {
            "active" => Some(TenantStatus::Active),
            "suspended" => Some(TenantStatus::Suspended),
            _ => None,
        }
    }
}

/// A pipeline stage. Leads point at its `id`, so a stage can be renamed or
/// moved without touching a lead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Stage {
    pub id: String,
    pub name: String,
}

impl Stage {
    pub fn new(id: &str, name: &str) -> Self {
        Self {
            id: id.to_string(),
            name: name.to_string(),
        }
    }
}

/// Older settings stored stages as bare names; both forms are read.
impl<'de> Deserialize<'de> for Stage {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Name(String),
            Full { id: String, name: String },
        }
        Ok(match Repr::deserialize(d)? {
            Repr::Name(name) => Stage {
                id: stage_id(&name),
                name,
            },
            Repr::Full { id, name } => Stage { id, name },
        })
    }
}

/// A stage as an edit sends it: with the id of an existing stage to keep
/// (rename, reorder), without one to add a stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StageInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[schema(max_length = 40, pattern = r"\S")]
    pub name: String,
}

impl StageInput {
    /// A new stage.
    pub fn named(name: &str) -> Self {
        Self {
            id: None,
            name: name.to_string(),
        }
    }

    /// An existing stage, kept (and renamed to `name`).
    pub fn keep(id: &str, name: &str) -> Self {
        Self {
            id: Some(id.to_string()),
            name: name.to_string(),
        }
    }
}

/// A stage id from a name: lower-case letters, digits and `_`.
pub fn stage_id(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_end_matches('_').to_string();
    if out.is_empty() {
        "stage".to_string()
    } else {
        out
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TenantSettings {
    /// Ordered pipeline stages; new leads enter the first.
    pub pipeline_stages: Vec<Stage>,
    /// Hours until a new lead's first response is due.
    pub sla_hours: u32,
    /// A lead turns at risk when this share (%) of its SLA window is left.
    #[serde(default = "default_at_risk_percent")]
    pub sla_at_risk_percent: u8,
    pub spam_keywords: Vec<String>,
    pub manager_email: Option<String>,
    /// Integration secrets by name. Always masked when read.
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
    /// The draft policy: qualified leads of these categories get a drafted
    /// reply; the others are qualified and recorded, with no draft.
    #[serde(default = "super::research::default_draft_categories")]
    pub draft_categories: Vec<String>,
    /// Opening hours: when set, `sla_hours` counts business hours (the SLA
    /// clock stops while the business is closed); otherwise wall-clock hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_hours: Option<BusinessHours>,
    /// What the tenant is, in a line or two (up to 500 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The tenant's web domain, a host name such as `example.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Configuration key/values (metadata): strings, numbers or booleans.
    #[serde(default)]
    pub config: BTreeMap<String, ConfigValue>,
}

impl Default for TenantSettings {
    fn default() -> Self {
        Self {
            pipeline_stages: vec![
                Stage::new("new", "New"),
                Stage::new("contacted", "Contacted"),
                Stage::new("qualified", "Qualified"),
                Stage::new("won", "Won"),
                Stage::new("lost", "Lost"),
            ],
            sla_hours: 24,
            sla_at_risk_percent: super::lead::DEFAULT_AT_RISK_PERCENT,
            spam_keywords: Vec::new(),
            manager_email: None,
            secrets: BTreeMap::new(),
            draft_categories: super::research::default_draft_categories(),
            business_hours: None,
            description: None,
            domain: None,
            config: BTreeMap::new(),
        }
    }
}

fn default_at_risk_percent() -> u8 {
    super::lead::DEFAULT_AT_RISK_PERCENT
}

impl TenantSettings {
    /// The SLA deadline and the at-risk moment of a lead received at `at`.
    ///
    /// With business hours, both are counted in open time: a lead that
    /// arrives on Friday evening for a business open on weekdays is due on
    /// Monday. (A schedule with no open time within two years falls back to
    /// wall-clock hours rather than never being due.) For many leads, take
    /// [`sla_rule`](Self::sla_rule) once: it reads the schedule once.
    pub fn sla_clock(&self, at: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        self.sla_rule().clock(at)
    }

    /// Whether `other` computes SLA deadlines differently (hours, at-risk
    /// share, business hours): the open leads' deadlines must then move.
    pub fn clock_differs(&self, other: &TenantSettings) -> bool {
        self.sla_hours != other.sla_hours
            || self.sla_at_risk_percent != other.sla_at_risk_percent
            || self.business_hours != other.business_hours
    }

    /// The SLA rule with its schedule read, to clock many leads.
    pub fn sla_rule(&self) -> SlaRule {
        SlaRule {
            window: chrono::Duration::hours(i64::from(self.sla_hours)),
            at_risk_percent: self.sla_at_risk_percent,
            schedule: self.schedule(),
        }
    }

    /// The opening hours to count SLA time in, when set and valid.
    pub fn schedule(&self) -> Option<super::business_hours::Schedule> {
        self.business_hours
            .as_ref()
            .and_then(BusinessHours::schedule)
    }

    /// The stage new leads enter.
    pub fn first_stage(&self) -> String {
        self.pipeline_stages
            .first()
            .map(|s| s.id.clone())
            .unwrap_or_else(|| "new".into())
    }

    pub fn stage(&self, id: &str) -> Option<&Stage> {
        self.pipeline_stages.iter().find(|s| s.id == id)
    }

    /// The same settings with every secret replaced by a mask that keeps the
    /// last four characters, so an operator can tell which one is stored.
    pub fn masked(&self) -> Self {
        let mut out = self.clone();
        for v in out.secrets.values_mut() {
            *v = super::secret::mask(v);
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TenantUsage {
    pub users: u32,
    pub user_limit: Option<u32>,
    pub leads_this_month: u32,
    pub lead_limit: Option<u32>,
}

/// A tenant whose deletion was accepted: gone to every lookup now, its data
/// purged in the background.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TenantDeletion {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub requested_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Tenant {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub tier: Tier,
    pub status: TenantStatus,
    /// The platform tenant owns globally shared resources.
    pub is_platform: bool,
    pub created_at: DateTime<Utc>,
    pub settings: TenantSettings,
    /// `usage.user_limit` is this when set (a platform admin's override),
    /// else the tier's.
    #[serde(default)]
    pub user_limit_override: Option<u32>,
    pub usage: TenantUsage,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NewTenant {
    #[schema(max_length = 120, pattern = r"\S")]
    pub name: String,
    /// Derived from the name when absent.
    #[serde(default)]
    #[schema(
        min_length = 2,
        max_length = 48,
        pattern = r"^(?![0-9a-f]{32}$)(?![0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$)[a-z0-9]+(-[a-z0-9]+)*$"
    )]
    pub slug: Option<String>,
    #[serde(default)]
    pub tier: Option<Tier>,
    #[serde(default, deserialize_with = "crate::domain::validate::optional_object")]
    pub settings: Option<TenantSettingsPatch>,
    /// Overrides the tier's member limit, above or below it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 100000)]
    pub user_limit: Option<u32>,
}

#[derive(Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TenantSettingsPatch {
    /// The whole ordered list: stages kept by id, new ones without an id,
    /// missing ones removed (refused while leads are in them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_items = 1, max_items = 20)]
    pub pipeline_stages: Option<Vec<StageInput>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 720)]
    pub sla_hours: Option<u32>,
    /// 1–90: the share of the SLA window left when a lead turns at risk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 90)]
    pub sla_at_risk_percent: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 200)]
    pub spam_keywords: Option<Vec<String>>,
    /// Empty string clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = IdnEmail)]
    pub manager_email: Option<String>,
    /// Secrets to set; an empty value removes the secret. Write-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets: Option<BTreeMap<String, String>>,
    /// The whole list of categories that get a drafted reply (of hot, warm,
    /// cold, spam, support); empty: qualify only, never draft.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 5)]
    pub draft_categories: Option<Vec<String>>,
    /// Opening hours to count the SLA in (the whole value); `null` removes
    /// them, so `sla_hours` counts wall-clock hours again. Open leads'
    /// deadlines are recomputed when they change.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "validate::nullable_object"
    )]
    #[schema(value_type = Option<BusinessHours>)]
    pub business_hours: Option<Option<BusinessHours>>,
    /// Up to 500 characters; empty clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// A host name such as `example.com`; empty clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 253)]
    pub domain: Option<String>,
    /// The whole set of configuration key/values (keys missing are removed):
    /// keys `^[a-z][a-z0-9_.-]{0,63}$`, values strings (up to 500
    /// characters), numbers or booleans, at most 50 keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<BTreeMap<String, ConfigValue>>,
}

// By hand: secret values never reach a debug line or a log, only names.
impl std::fmt::Debug for TenantSettingsPatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secrets = self.secrets.as_ref().map(|s| {
            s.keys()
                .map(|k| format!("{k}=<redacted>"))
                .collect::<Vec<_>>()
        });
        f.debug_struct("TenantSettingsPatch")
            .field("pipeline_stages", &self.pipeline_stages)
            .field("sla_hours", &self.sla_hours)
            .field("sla_at_risk_percent", &self.sla_at_risk_percent)
            .field("spam_keywords", &self.spam_keywords)
            .field("manager_email", &self.manager_email)
            .field("secrets", &secrets)
            .field("draft_categories", &self.draft_categories)
            .field("business_hours", &self.business_hours)
            .field("description", &self.description)
            .field("domain", &self.domain)
            .field("config", &self.config)
            .finish()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TenantPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 120, pattern = r"\S")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 2,
        max_length = 48,
        pattern = r"^(?![0-9a-f]{32}$)(?![0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$)[a-z0-9]+(-[a-z0-9]+)*$"
    )]
    pub slug: Option<String>,
    /// Needs `settings:billing` (the rest of the patch `settings:manage`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<Tier>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::domain::validate::optional_object"
    )]
    pub settings: Option<TenantSettingsPatch>,
    /// Platform admins only: overrides the tier's member limit (above or
    /// below it); `null` goes back to the tier's.
    #[serde(
        default,
        with = "super::lead::double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 100000)]
    pub user_limit: Option<Option<u32>>,
}

/// Lower-case ASCII letters, digits and single dashes, 2–48 characters.
pub fn slugify(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= 48 {
            break;
        }
    }
    out.trim_end_matches('-').to_string()
}

pub fn validate_slug(slug: &str) -> Result<(), String> {
    if slug.len() < 2 || slug.len() > 48 {
        return Err("must be 2 to 48 characters".into());
    }
    if !slug
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err("use lower-case letters, digits and dashes only".into());
    }
    if slug.starts_with('-') || slug.ends_with('-') || slug.contains("--") {
        return Err("dashes go between words, one at a time".into());
    }
    if uuid::Uuid::parse_str(slug).is_ok() {
        return Err("must not look like an id".into());
    }
    Ok(())
}

pub fn validate_name(field: &str, name: &str, errors: &mut Vec<FieldError>) {
    let n = name.trim();
    if n.is_empty() {
        errors.push(FieldError::new(field, "is required"));
    } else if n.chars().count() > 120 {
        errors.push(FieldError::new(field, "must be at most 120 characters"));
    }
}

impl TenantSettingsPatch {
    pub fn validate(&self, errors: &mut Vec<FieldError>) {
        if let Some(stages) = &self.pipeline_stages {
            let names: Vec<&str> = stages.iter().map(|s| s.name.trim()).collect();
            if names.is_empty() {
                errors.push(FieldError::new(
                    "settings.pipeline_stages",
                    "needs at least one stage",
                ));
            } else if names.iter().any(|s| s.is_empty() || s.chars().count() > 40) {
                errors.push(FieldError::new(
                    "settings.pipeline_stages",
                    "each stage needs 1 to 40 characters",
                ));
            } else {
                let mut seen = std::collections::HashSet::new();
                if !names.iter().all(|s| seen.insert(s.to_lowercase())) {
                    errors.push(FieldError::new(
                        "settings.pipeline_stages",
                        "stage names must be unique",
                    ));
                }
                let mut ids = std::collections::HashSet::new();
                if !stages
                    .iter()
                    .filter_map(|s| s.id.as_deref())
                    .all(|id| ids.insert(id))
                {
                    errors.push(FieldError::new(
                        "settings.pipeline_stages",
                        "a stage id appears twice",
                    ));
                }
                if names.len() > 20 {
                    errors.push(FieldError::new(
                        "settings.pipeline_stages",
                        "at most 20 stages",
                    ));
                }
            }
        }
        if let Some(h) = self.sla_hours {
            if h == 0 || h > 24 * 30 {
                errors.push(FieldError::new(
                    "settings.sla_hours",
                    "must be between 1 and 720 hours",
                ));
            }
        }
        if let Some(p) = self.sla_at_risk_percent {
            if p == 0 || p > 90 {
                errors.push(FieldError::new(
                    "settings.sla_at_risk_percent",
                    "must be between 1 and 90 (%)",
                ));
            }
        }
        if let Some(words) = &self.spam_keywords {
            if words.len() > 200 || words.iter().any(|w| w.chars().count() > 80) {
                errors.push(FieldError::new(
                    "settings.spam_keywords",
                    "at most 200 keywords of up to 80 characters",
                ));
            }
        }
        if let Some(email) = &self.manager_email {
            if !email.trim().is_empty() && !validate::is_email(email.trim()) {
                errors.push(FieldError::new(
                    "settings.manager_email",
                    "is not an email address",
                ));
            }
        }
        if let Some(categories) = &self.draft_categories {
            super::research::validate_draft_categories(categories, errors);
        }
        if let Some(Some(hours)) = &self.business_hours {
            hours.validate("settings.business_hours", errors);
        }
        if let Some(d) = &self.description {
            profile::validate_description("settings.description", d, errors);
        }
        if let Some(d) = self.domain.as_deref().map(profile::normalize_domain) {
            if !d.is_empty() {
                profile::validate_domain("settings.domain", &d, errors);
            }
        }
        if let Some(config) = &self.config {
            profile::validate_config("settings.config", config, errors);
        }
        if let Some(secrets) = &self.secrets {
            for name in secrets.keys() {
                if name.is_empty()
                    || name.len() > 64
                    || !name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    errors.push(FieldError::new(
                        "settings.secrets",
                        format!("secret name {name:?} must be 1 to 64 letters, digits, _ or -"),
                    ));
                }
            }
        }
    }

    /// Applies this patch on top of `settings` (already validated).
    pub fn apply(&self, settings: &mut TenantSettings) {
        if let Some(stages) = &self.pipeline_stages {
            let mut next: Vec<Stage> = Vec::new();
            // Kept stages first claim their ids, so new ones never take them.
            let kept: Vec<&str> = stages
                .iter()
                .filter_map(|s| s.id.as_deref())
                .filter(|id| settings.stage(id).is_some())
                .collect();
            for input in stages {
                let name = input.name.trim().to_string();
                let id = match input.id.as_deref() {
                    Some(id) if settings.stage(id).is_some() => id.to_string(),
                    _ => {
                        let base = stage_id(&name);
                        let mut id = base.clone();
                        let mut n = 2;
                        while kept.contains(&id.as_str()) || next.iter().any(|s| s.id == id) {
                            id = format!("{base}_{n}");
                            n += 1;
                        }
                        id
                    }
                };
                next.push(Stage { id, name });
            }
            settings.pipeline_stages = next;
        }
        if let Some(h) = self.sla_hours {
            settings.sla_hours = h;
        }
        if let Some(p) = self.sla_at_risk_percent {
            settings.sla_at_risk_percent = p;
        }
        if let Some(words) = &self.spam_keywords {
            settings.spam_keywords = words
                .iter()
                .map(|w| w.trim().to_string())
                .filter(|w| !w.is_empty())
                .collect();
        }
        if let Some(email) = &self.manager_email {
            let e = email.trim();
            settings.manager_email = (!e.is_empty()).then(|| e.to_string());
        }
        if let Some(categories) = &self.draft_categories {
            settings.draft_categories = categories.iter().map(|c| c.trim().to_string()).collect();
        }
        if let Some(hours) = &self.business_hours {
            settings.business_hours = hours.clone();
        }
        if let Some(d) = &self.description {
            settings.description = Some(d.trim().to_string()).filter(|d| !d.is_empty());
        }
        if let Some(d) = &self.domain {
            settings.domain = Some(profile::normalize_domain(d)).filter(|d| !d.is_empty());
        }
        if let Some(config) = &self.config {
            settings.config = config.clone();
        }
        if let Some(secrets) = &self.secrets {
            for (k, v) in secrets {
                if v.is_empty() {
                    settings.secrets.remove(k);
                } else {
                    settings.secrets.insert(k.clone(), v.clone());
                }
            }
        }
    }

    /// Names of the fields this patch changes, for the audit log. Secrets
    /// are named, never shown.
    pub fn changed_fields(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.pipeline_stages.is_some() {
            out.push("settings.pipeline_stages".into());
        }
        if self.sla_hours.is_some() {
            out.push("settings.sla_hours".into());
        }
        if self.sla_at_risk_percent.is_some() {
            out.push("settings.sla_at_risk_percent".into());
        }
        if self.spam_keywords.is_some() {
            out.push("settings.spam_keywords".into());
        }
        if self.manager_email.is_some() {
            out.push("settings.manager_email".into());
        }
        if self.draft_categories.is_some() {
            out.push("settings.draft_categories".into());
        }
        if self.business_hours.is_some() {
            out.push("settings.business_hours".into());
        }
        for (name, set) in [
            ("description", self.description.is_some()),
            ("domain", self.domain.is_some()),
            ("config", self.config.is_some()),
        ] {
            if set {
                out.push(format!("settings.{name}"));
            }
        }
        if let Some(s) = &self.secrets {
            out.extend(s.keys().map(|k| format!("settings.secrets.{k}")));
        }
        out
    }
}

#[cfg(test)]
#[path = "tenant_tests.rs"]
mod tests;

/// A tenant's SLA rule ready to compute with: the window, the at-risk share
/// and the opening hours, parsed once.
#[derive(Debug, Clone)]
pub struct SlaRule {
    window: chrono::Duration,
    at_risk_percent: u8,
    schedule: Option<super::business_hours::Schedule>,
}

impl SlaRule {
    /// The deadline and the at-risk moment of a lead received at `at`.
    pub fn clock(&self, at: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        let percent = i64::from(self.at_risk_percent.min(100));
        if let Some(schedule) = &self.schedule {
            let before_risk = chrono::Duration::milliseconds(
                self.window.num_milliseconds() * (100 - percent) / 100,
            );
            if let (Some(due), Some(risk)) =
                (schedule.add(at, self.window), schedule.add(at, before_risk))
            {
                return (due, risk);
            }
        }
        let due = at + self.window;
        (
            due,
            super::lead::at_risk_from(at, due, self.at_risk_percent),
        )
    }
}
