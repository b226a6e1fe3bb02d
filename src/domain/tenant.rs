//! Tenants (client agencies), their tiers and settings.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::problem::FieldError;
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TenantSettings {
    /// Ordered pipeline stages; new leads enter the first.
    pub pipeline_stages: Vec<String>,
    /// Hours until a new lead's first response is due.
    pub sla_hours: u32,
    pub spam_keywords: Vec<String>,
    pub manager_email: Option<String>,
    /// Integration secrets by name. Always masked when read.
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
}

impl Default for TenantSettings {
    fn default() -> Self {
        Self {
            pipeline_stages: ["new", "contacted", "qualified", "won", "lost"]
                .map(String::from)
                .to_vec(),
            sla_hours: 24,
            spam_keywords: Vec::new(),
            manager_email: None,
            secrets: BTreeMap::new(),
        }
    }
}

impl TenantSettings {
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
    pub usage: TenantUsage,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NewTenant {
    pub name: String,
    /// Derived from the name when absent.
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default)]
    pub tier: Option<Tier>,
    #[serde(default)]
    pub settings: Option<TenantSettingsPatch>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TenantSettingsPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_stages: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_hours: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spam_keywords: Option<Vec<String>>,
    /// Empty string clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager_email: Option<String>,
    /// Secrets to set; an empty value removes the secret. Write-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TenantPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    /// Platform admins only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<Tier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<TenantSettingsPatch>,
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
            let cleaned: Vec<&str> = stages.iter().map(|s| s.trim()).collect();
            if cleaned.is_empty() {
                errors.push(FieldError::new(
                    "settings.pipeline_stages",
                    "needs at least one stage",
                ));
            } else if cleaned.iter().any(|s| s.is_empty() || s.len() > 40) {
                errors.push(FieldError::new(
                    "settings.pipeline_stages",
                    "each stage needs 1 to 40 characters",
                ));
            } else {
                let mut seen = std::collections::HashSet::new();
                if !cleaned.iter().all(|s| seen.insert(s.to_lowercase())) {
                    errors.push(FieldError::new(
                        "settings.pipeline_stages",
                        "stages must be unique",
                    ));
                }
                if cleaned.len() > 20 {
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
        if let Some(words) = &self.spam_keywords {
            if words.len() > 200 || words.iter().any(|w| w.len() > 80) {
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
            settings.pipeline_stages = stages.iter().map(|s| s.trim().to_string()).collect();
        }
        if let Some(h) = self.sla_hours {
            settings.sla_hours = h;
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
        if self.spam_keywords.is_some() {
            out.push("settings.spam_keywords".into());
        }
        if self.manager_email.is_some() {
            out.push("settings.manager_email".into());
        }
        if let Some(s) = &self.secrets {
            out.extend(s.keys().map(|k| format!("settings.secrets.{k}")));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugify_makes_valid_slugs() {
        assert_eq!(slugify("Open Arms"), "open-arms");
        assert_eq!(slugify("  Bob's  Plumbing & Co. "), "bob-s-plumbing-co");
        assert!(validate_slug(&slugify("Open Arms")).is_ok());
        assert!(validate_slug("Open").is_err());
        assert!(validate_slug("a--b").is_err());
        assert!(validate_slug("x").is_err());
    }

    #[test]
    fn masked_settings_never_show_the_secret() {
        let mut s = TenantSettings::default();
        s.secrets
            .insert("crm".into(), "supersecretvalue1234".into());
        let m = s.masked();
        assert_eq!(m.secrets["crm"], "••••1234");
        assert!(!m.secrets["crm"].contains("supersecret"));
    }
}
