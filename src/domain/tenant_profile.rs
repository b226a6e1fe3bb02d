//! A tenant's profile: description, web domain, configuration key/values and
//! the user-limit override, with the rules for each.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::problem::FieldError;
use super::tenant::Tier;

/// At most this many configuration keys per tenant.
pub const MAX_CONFIG_KEYS: usize = 50;
/// A configuration key: a lower-case letter, then up to 63 of `a-z0-9_.-`.
pub const CONFIG_KEY_PATTERN: &str = "^[a-z][a-z0-9_.-]{0,63}$";
/// A text value's length, in characters.
pub const MAX_CONFIG_TEXT_CHARS: usize = 500;
pub const MAX_DESCRIPTION_CHARS: usize = 500;
/// The highest user limit a platform admin may set.
pub const MAX_USER_LIMIT: u32 = 100_000;

/// A configuration value: a string, a number or a boolean (checked by
/// [`validate_config`]; arrays, objects and `null` are refused there, with
/// the key named).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConfigValue(pub serde_json::Value);

// By hand: the value is one of three JSON types.
impl utoipa::PartialSchema for ConfigValue {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Type};
        AnyOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .max_length(Some(MAX_CONFIG_TEXT_CHARS)),
            )
            .item(ObjectBuilder::new().schema_type(Type::Number))
            .item(ObjectBuilder::new().schema_type(Type::Boolean))
            .into()
    }
}

impl ToSchema for ConfigValue {}

impl ConfigValue {
    pub fn text(s: &str) -> Self {
        Self(serde_json::Value::String(s.to_string()))
    }

    /// The value as a `key = value` line shows it: strings bare, numbers and
    /// booleans as JSON.
    pub fn display(&self) -> String {
        match &self.0 {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }

    /// A value typed as text: `true`/`false` are booleans, a number is a
    /// number, a `"quoted"` string is that string, anything else is text.
    pub fn parse(s: &str) -> Self {
        let s = s.trim();
        match s {
            "true" => return Self(serde_json::Value::Bool(true)),
            "false" => return Self(serde_json::Value::Bool(false)),
            _ => {}
        }
        if let Ok(v @ serde_json::Value::Number(_)) = serde_json::from_str(s) {
            return Self(v);
        }
        if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
            if let Ok(v @ serde_json::Value::String(_)) = serde_json::from_str(s) {
                return Self(v);
            }
            return Self::text(&s[1..s.len() - 1]);
        }
        Self::text(s)
    }
}

/// Whether `key` is a configuration key (see [`CONFIG_KEY_PATTERN`]).
pub fn is_config_key(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && key.len() <= 64
        && chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-'))
}

/// The configuration rules: key names, value types, count and size.
pub fn validate_config(
    field: &str,
    config: &BTreeMap<String, ConfigValue>,
    errors: &mut Vec<FieldError>,
) {
    if config.len() > MAX_CONFIG_KEYS {
        errors.push(FieldError::new(
            field,
            format!(
                "has {} keys; at most {MAX_CONFIG_KEYS} are allowed",
                config.len()
            ),
        ));
    }
    for (key, value) in config {
        if !is_config_key(key) {
            errors.push(FieldError::new(
                field,
                format!(
                    "key {key:?} must start with a lower-case letter and have up to 64 of a-z, 0-9, _ . -"
                ),
            ));
            continue;
        }
        match &value.0 {
            serde_json::Value::String(s) if s.chars().count() > MAX_CONFIG_TEXT_CHARS => errors
                .push(FieldError::new(
                    format!("{field}.{key}"),
                    format!("must be at most {MAX_CONFIG_TEXT_CHARS} characters"),
                )),
            serde_json::Value::String(_)
            | serde_json::Value::Number(_)
            | serde_json::Value::Bool(_) => {}
            _ => errors.push(FieldError::new(
                format!("{field}.{key}"),
                "must be a string, a number or true/false",
            )),
        }
    }
}

/// A host name as a tenant's domain: lower-cased, without a trailing dot.
pub fn normalize_domain(s: &str) -> String {
    s.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// Checks a (normalized) host name: two or more dot-separated labels of
/// letters, digits and inner dashes, up to 253 characters.
pub fn validate_domain(field: &str, domain: &str, errors: &mut Vec<FieldError>) {
    if domain.contains("://") || domain.contains('/') || domain.contains(':') {
        errors.push(FieldError::new(
            field,
            "give a host name like example.com, without a scheme, port or path",
        ));
        return;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    let tld_ok = labels
        .last()
        .is_some_and(|t| t.chars().any(|c| c.is_ascii_alphabetic()));
    if domain.len() > 253 || labels.len() < 2 || !labels.iter().all(label_ok) || !tld_ok {
        errors.push(FieldError::new(
            field,
            "is not a host name; give one like example.com (letters, digits and dashes between dots)",
        ));
    }
}

pub fn validate_description(field: &str, description: &str, errors: &mut Vec<FieldError>) {
    if description.trim().chars().count() > MAX_DESCRIPTION_CHARS {
        errors.push(FieldError::new(
            field,
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
}

pub fn validate_user_limit(field: &str, limit: u32, errors: &mut Vec<FieldError>) {
    if limit == 0 || limit > MAX_USER_LIMIT {
        errors.push(FieldError::new(
            field,
            format!("must be between 1 and {MAX_USER_LIMIT} users; send null for the tier's limit"),
        ));
    }
}

/// The member limit in force: a platform admin's override, else the tier's.
pub fn effective_user_limit(tier: Tier, user_limit_override: Option<u32>) -> Option<u32> {
    user_limit_override.or(tier.user_limit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors_of(f: impl FnOnce(&mut Vec<FieldError>)) -> Vec<FieldError> {
        let mut errors = Vec::new();
        f(&mut errors);
        errors
    }

    #[test]
    fn config_keys_values_and_sizes_are_checked() {
        let mut ok = BTreeMap::new();
        ok.insert("crm.region".to_string(), ConfigValue::text("eu"));
        ok.insert("max_seats".to_string(), ConfigValue(serde_json::json!(4)));
        ok.insert("beta".to_string(), ConfigValue(serde_json::json!(true)));
        assert!(errors_of(|e| validate_config("config", &ok, e)).is_empty());

        let mut bad = BTreeMap::new();
        bad.insert("Upper".to_string(), ConfigValue::text("x"));
        bad.insert("list".to_string(), ConfigValue(serde_json::json!([1])));
        bad.insert("nothing".to_string(), ConfigValue(serde_json::Value::Null));
        bad.insert("long".to_string(), ConfigValue::text(&"x".repeat(501)));
        let errors = errors_of(|e| validate_config("config", &bad, e));
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["config", "config.list", "config.long", "config.nothing"]
        );

        let many: BTreeMap<_, _> = (0..51)
            .map(|i| (format!("k{i}"), ConfigValue::text("v")))
            .collect();
        assert_eq!(errors_of(|e| validate_config("config", &many, e)).len(), 1);
    }

    #[test]
    fn values_typed_as_text_keep_their_type() {
        assert_eq!(ConfigValue::parse("true").0, serde_json::json!(true));
        assert_eq!(ConfigValue::parse(" 42 ").0, serde_json::json!(42));
        assert_eq!(ConfigValue::parse("1.5").0, serde_json::json!(1.5));
        assert_eq!(ConfigValue::parse("\"42\"").0, serde_json::json!("42"));
        assert_eq!(
            ConfigValue::parse("hello world").0,
            serde_json::json!("hello world")
        );
        assert_eq!(ConfigValue::parse("42").display(), "42");
        assert_eq!(ConfigValue::text("eu").display(), "eu");
    }

    #[test]
    fn domains_are_host_names() {
        for good in ["example.com", "open-arms.co.uk", "a1.io"] {
            assert!(
                errors_of(|e| validate_domain("domain", good, e)).is_empty(),
                "{good}"
            );
        }
        for bad in [
            "localhost",
            "https://example.com",
            "example.com/path",
            "-x.com",
            "a..b",
            "ex ample.com",
            "1.2.3.4",
            "example.com:8080",
        ] {
            assert_eq!(
                errors_of(|e| validate_domain("domain", bad, e)).len(),
                1,
                "{bad}"
            );
        }
        assert_eq!(normalize_domain(" Example.COM. "), "example.com");
    }

    #[test]
    fn an_override_replaces_the_tier_limit_either_way() {
        assert_eq!(effective_user_limit(Tier::Starter, None), Some(3));
        assert_eq!(effective_user_limit(Tier::Starter, Some(25)), Some(25));
        assert_eq!(effective_user_limit(Tier::Pro, Some(2)), Some(2));
        assert_eq!(effective_user_limit(Tier::Enterprise, None), None);
        assert_eq!(effective_user_limit(Tier::Enterprise, Some(500)), Some(500));
        assert_eq!(errors_of(|e| validate_user_limit("u", 0, e)).len(), 1);
        assert!(errors_of(|e| validate_user_limit("u", 40, e)).is_empty());
    }
}
