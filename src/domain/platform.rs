//! Platform settings: what platform admins decide for every tenant — the
//! defaults a new tenant starts with, and whether tenant admins may delete
//! their own tenant.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::business_hours::BusinessHours;
use super::problem::FieldError;
use super::tenant::{StageInput, TenantSettings, TenantSettingsPatch, Tier};

/// What a tenant created without saying otherwise starts with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TenantDefaults {
    pub tier: Tier,
    /// Hours until a new lead's first response is due (1–720).
    #[schema(minimum = 1, maximum = 720)]
    pub sla_hours: u32,
    /// The pipeline's stage names, in order (1–20, each 1–40 characters).
    #[schema(min_items = 1, max_items = 20)]
    pub pipeline_stages: Vec<String>,
    /// Opening hours for the SLA clock; `null`: wall-clock hours.
    #[serde(default)]
    pub business_hours: Option<BusinessHours>,
}

impl Default for TenantDefaults {
    fn default() -> Self {
        let built_in = TenantSettings::default();
        Self {
            tier: Tier::Starter,
            sla_hours: built_in.sla_hours,
            pipeline_stages: built_in
                .pipeline_stages
                .into_iter()
                .map(|s| s.name)
                .collect(),
            business_hours: None,
        }
    }
}

impl TenantDefaults {
    /// These defaults as a settings patch, so they pass the same rules a
    /// tenant's own settings do.
    pub fn as_patch(&self) -> TenantSettingsPatch {
        TenantSettingsPatch {
            pipeline_stages: Some(
                self.pipeline_stages
                    .iter()
                    .map(|s| StageInput::named(s))
                    .collect(),
            ),
            sla_hours: Some(self.sla_hours),
            business_hours: Some(self.business_hours.clone()),
            ..Default::default()
        }
    }

    /// A new tenant's settings: the built-in ones with these defaults over.
    pub fn settings(&self) -> TenantSettings {
        let mut settings = TenantSettings::default();
        self.as_patch().apply(&mut settings);
        settings
    }
}

/// The platform's settings (the whole document, read and replaced at once).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PlatformSettings {
    #[serde(deserialize_with = "crate::domain::validate::object")]
    pub tenant_defaults: TenantDefaults,
    /// Whether a tenant's admins may delete their tenant; platform admins
    /// always may.
    pub tenant_admins_may_delete: bool,
}

impl Default for PlatformSettings {
    fn default() -> Self {
        Self {
            tenant_defaults: TenantDefaults::default(),
            tenant_admins_may_delete: true,
        }
    }
}

impl PlatformSettings {
    /// Every rule at once, fields named as in the request
    /// (`tenant_defaults.sla_hours`, …).
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        self.tenant_defaults.as_patch().validate(&mut errors);
        for e in &mut errors {
            if let Some(rest) = e.field.strip_prefix("settings.") {
                e.field = format!("tenant_defaults.{rest}");
            }
        }
        errors
    }

    /// What changed from `before`, field by field, for the audit log.
    pub fn changes_from(&self, before: &PlatformSettings) -> serde_json::Value {
        let mut out = serde_json::Map::new();
        let (a, b) = (&before.tenant_defaults, &self.tenant_defaults);
        let mut diff = |name: &str, from: serde_json::Value, to: serde_json::Value| {
            if from != to {
                out.insert(name.into(), serde_json::json!({ "from": from, "to": to }));
            }
        };
        diff(
            "tenant_defaults.tier",
            a.tier.as_str().into(),
            b.tier.as_str().into(),
        );
        diff(
            "tenant_defaults.sla_hours",
            a.sla_hours.into(),
            b.sla_hours.into(),
        );
        diff(
            "tenant_defaults.pipeline_stages",
            serde_json::json!(a.pipeline_stages),
            serde_json::json!(b.pipeline_stages),
        );
        diff(
            "tenant_defaults.business_hours",
            serde_json::json!(a.business_hours),
            serde_json::json!(b.business_hours),
        );
        diff(
            "tenant_admins_may_delete",
            before.tenant_admins_may_delete.into(),
            self.tenant_admins_may_delete.into(),
        );
        serde_json::Value::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_defaults_are_what_a_tenant_got_before() {
        let settings = PlatformSettings::default();
        assert!(settings.validate().is_empty());
        assert!(settings.tenant_admins_may_delete);
        assert_eq!(
            settings.tenant_defaults.settings(),
            TenantSettings::default()
        );
    }

    #[test]
    fn bad_defaults_are_named_under_tenant_defaults_and_changes_are_listed() {
        let mut settings = PlatformSettings::default();
        settings.tenant_defaults.sla_hours = 0;
        settings.tenant_defaults.pipeline_stages = vec![];
        let fields: Vec<String> = settings.validate().into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "tenant_defaults.pipeline_stages",
                "tenant_defaults.sla_hours"
            ]
        );
        let mut after = PlatformSettings {
            tenant_admins_may_delete: false,
            ..Default::default()
        };
        after.tenant_defaults.tier = Tier::Pro;
        let changes = after.changes_from(&PlatformSettings::default());
        assert_eq!(
            changes["tenant_admins_may_delete"],
            serde_json::json!({ "from": true, "to": false })
        );
        assert_eq!(
            changes["tenant_defaults.tier"]["to"],
            serde_json::json!("pro")
        );
        assert_eq!(changes.as_object().map(|o| o.len()), Some(2));
    }
}
