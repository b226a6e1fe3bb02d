//! A tenant's profile in the settings form: the configuration key/values as
//! a text area of `key = value` lines, and the user limit as a number (empty:
//! the tier's), each read back with a message that names the line.
//!
//! ```text
//! Config      crm.region = eu
//!             seats = 12
//!             beta = true
//! ```

use std::collections::BTreeMap;

use crate::domain::tenant_profile::{
    is_config_key, ConfigValue, MAX_CONFIG_KEYS, MAX_CONFIG_TEXT_CHARS, MAX_USER_LIMIT,
};
use crate::domain::Tenant;

pub(super) const CONFIG_FIELD: &str = "settings.config";
pub(super) const USER_LIMIT_FIELD: &str = "user_limit";

/// The configuration as the form shows it: one `key = value` line per key,
/// in key order.
pub(super) fn config_text(config: &BTreeMap<String, ConfigValue>) -> String {
    config
        .iter()
        .map(|(k, v)| format!("{k} = {}", value_text(v)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A value as typed back: a string that would read as something else (a
/// number, `true`, surrounding spaces) is quoted.
fn value_text(v: &ConfigValue) -> String {
    let shown = v.display();
    if ConfigValue::parse(&shown) == *v {
        shown
    } else {
        v.0.to_string()
    }
}

/// Reads the configuration text area: blank lines and `#` comments are
/// skipped; the error names the line and what to write.
pub(super) fn parse_config(text: &str) -> Result<BTreeMap<String, ConfigValue>, String> {
    let mut out = BTreeMap::new();
    for (n, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!("line {n}: write key = value, e.g. crm.region = eu"));
        };
        let key = key.trim();
        if !is_config_key(key) {
            return Err(format!(
                "line {n}: {key:?} is not a key; start with a lower-case letter, then up to 63 \
                 of a-z, 0-9, _ . -"
            ));
        }
        if out.contains_key(key) {
            return Err(format!(
                "line {n}: {key} is on an earlier line too; give each key once"
            ));
        }
        let value = ConfigValue::parse(value);
        if value.display().chars().count() > MAX_CONFIG_TEXT_CHARS {
            return Err(format!(
                "line {n}: the value of {key} is over {MAX_CONFIG_TEXT_CHARS} characters"
            ));
        }
        out.insert(key.to_string(), value);
    }
    if out.len() > MAX_CONFIG_KEYS {
        return Err(format!(
            "{} keys; at most {MAX_CONFIG_KEYS} are allowed",
            out.len()
        ));
    }
    Ok(out)
}

/// Reads the user-limit field: empty is the tier's limit (`None`).
pub(super) fn parse_user_limit(text: &str) -> Result<Option<u32>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<u32>() {
        Ok(n) if (1..=MAX_USER_LIMIT).contains(&n) => Ok(Some(n)),
        _ => Err(format!(
            "must be a whole number from 1 to {MAX_USER_LIMIT}; empty for the tier's limit"
        )),
    }
}

/// "3/10 (tier default)" or "3/25 (override)"; ∞ when unlimited.
pub(super) fn users_text(t: &Tenant) -> String {
    let limit = t
        .usage
        .user_limit
        .map_or("∞".to_string(), |l| l.to_string());
    let whose = if t.user_limit_override.is_some() {
        "override"
    } else {
        "tier default"
    };
    format!("{}/{limit} ({whose})", t.usage.users)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_lines_round_trip_with_their_types() {
        let text = "# crm\ncrm.region = eu\n\nseats = 12\nbeta=true\nlabel = \"42\"";
        let config = parse_config(text).unwrap();
        assert_eq!(config["seats"].0, serde_json::json!(12));
        assert_eq!(config["beta"].0, serde_json::json!(true));
        assert_eq!(config["label"].0, serde_json::json!("42"));
        assert_eq!(parse_config(&config_text(&config)).unwrap(), config);
        assert!(config_text(&config).contains("label = \"42\""));
    }

    #[test]
    fn bad_lines_are_named() {
        assert!(parse_config("ok = 1\nno equals")
            .unwrap_err()
            .starts_with("line 2:"));
        assert!(parse_config("Bad = 1").unwrap_err().contains("not a key"));
        assert!(parse_config("a = 1\na = 2")
            .unwrap_err()
            .contains("earlier line"));
        assert_eq!(parse_user_limit(" "), Ok(None));
        assert_eq!(parse_user_limit("25"), Ok(Some(25)));
        assert!(parse_user_limit("0").is_err());
        assert!(parse_user_limit("ten").is_err());
    }
}
