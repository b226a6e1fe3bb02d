//! The manifest a fixture generation writes and every later binary is held
//! to: per resource the GET path, the row count, the fields hashed, and per
//! row its id and a SHA-256 over a canonical JSON of those fields.
//!
//! One function (`row_hash`) hashes at generation and at every check. A row
//! is projected onto the fields recorded when the fixture was made, so a
//! newer binary that adds fields still matches, while a changed or lost
//! field does not.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::api::Api;

#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    /// Bumped if the manifest's own shape changes.
    pub format: u32,
    /// The commit whose binary wrote the fixture.
    pub commit: String,
    pub generated_at: String,
    /// The platform admin every read is made as (test-only credentials).
    pub admin: Credentials,
    /// Per store (`sqlite`, `postgres`): what the API answered.
    pub stores: BTreeMap<String, Snapshot>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Credentials {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Snapshot {
    /// Members who sign in themselves (one per role): their `/me` is
    /// checked as them, which proves their passwords still work.
    pub users: Vec<Credentials>,
    pub resources: Vec<Resource>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Resource {
    /// What the rows are, e.g. `leads` (several resources share a name).
    pub name: String,
    /// GET path under the server's base URL (cursor pages are followed).
    pub path: String,
    /// Read as this user (from `users`); the platform admin when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_user: Option<String>,
    /// The field naming a row.
    pub id_field: String,
    pub count: usize,
    /// Rows the server adds on its own as time passes (timeline entries
    /// and audit of SLA alerts): more rows than recorded are fine, fewer not.
    pub grows: bool,
    /// Dotted paths left out of the hash: computed relative to now.
    pub excluded: Vec<String>,
    /// The fields hashed: every key seen in the rows (after `excluded`),
    /// nested objects as objects, leaves as `true`.
    pub fields: Value,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    pub id: String,
    pub sha256: String,
}

/// JSON with object keys sorted and no whitespace.
pub fn canonical(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let body: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical(&m[k])))
                .collect();
            format!("{{{}}}", body.join(","))
        }
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

/// The row without the excluded paths (`a.b` removes `b` inside `a`).
pub fn without(row: &Value, excluded: &[String]) -> Value {
    let mut out = row.clone();
    for path in excluded {
        let parts: Vec<&str> = path.split('.').collect();
        remove_path(&mut out, &parts);
    }
    out
}

fn remove_path(v: &mut Value, parts: &[&str]) {
    match (v, parts) {
        (Value::Object(m), [last]) => {
            m.remove(*last);
        }
        (Value::Object(m), [first, rest @ ..]) => {
            if let Some(inner) = m.get_mut(*first) {
                remove_path(inner, rest);
            }
        }
        (Value::Array(a), parts) => a.iter_mut().for_each(|x| remove_path(x, parts)),
        _ => {}
    }
}

/// Adds the keys of `v` to the field skeleton `fields`.
pub fn merge_fields(fields: &mut Value, v: &Value) {
    match v {
        Value::Object(m) => {
            if !fields.is_object() {
                *fields = Value::Object(Map::new());
            }
            if let Value::Object(f) = fields {
                for (k, x) in m {
                    merge_fields(f.entry(k.clone()).or_insert(Value::Null), x);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| merge_fields(fields, x)),
        _ => {
            if fields.is_null() {
                *fields = Value::Bool(true);
            }
        }
    }
}

/// `v` keeping only the keys `fields` names (recursively; arrays element-wise).
pub fn project(v: &Value, fields: &Value) -> Value {
    match (v, fields) {
        (Value::Object(m), Value::Object(f)) => Value::Object(
            m.iter()
                .filter(|(k, _)| f.contains_key(*k))
                .map(|(k, x)| (k.clone(), project(x, &f[k])))
                .collect(),
        ),
        (Value::Array(a), f) => Value::Array(a.iter().map(|x| project(x, f)).collect()),
        (other, _) => other.clone(),
    }
}

/// What is hashed of a row: its recorded fields, canonical.
pub fn hashed_form(row: &Value, fields: &Value, excluded: &[String]) -> String {
    canonical(&project(&without(row, excluded), fields))
}

/// The one hash of a row, at generation and at every check.
pub fn row_hash(row: &Value, fields: &Value, excluded: &[String]) -> String {
    hex::encode(Sha256::digest(
        hashed_form(row, fields, excluded).as_bytes(),
    ))
}

/// The row's id; `a.b` reads `b` inside `a`.
pub fn row_id(row: &Value, id_field: &str) -> String {
    let pointer = format!("/{}", id_field.replace('.', "/"));
    match row.pointer(&pointer).unwrap_or(&Value::Null) {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// What to read and how, for a kind of resource.
pub struct Spec {
    pub name: &'static str,
    pub id_field: &'static str,
    pub grows: bool,
    pub excluded: &'static [&'static str],
}

pub const TENANTS: Spec = Spec {
    name: "tenants",
    id_field: "id",
    grows: false,
    // Counted over the current calendar month.
    excluded: &["usage.leads_this_month"],
};
pub const MEMBERS: Spec = plain("members", "user_id");
pub const INVITATIONS: Spec = plain("invitations", "id");
pub const API_KEYS: Spec = plain("api_keys", "id");
pub const AUDIT: Spec = Spec {
    name: "audit",
    id_field: "id",
    grows: true,
    excluded: &[],
};
pub const LEADS: Spec = Spec {
    name: "leads",
    id_field: "id",
    grows: false,
    // on_track / at_risk / overdue depend on when the lead is read.
    excluded: &["sla"],
};
pub const TIMELINE: Spec = Spec {
    name: "timeline",
    id_field: "id",
    // The SLA watcher writes at-risk and breach entries as deadlines pass.
    grows: true,
    excluded: &[],
};
pub const AGENTS: Spec = plain("agents", "id");
/// The platform tenant, which owns the starter agent library.
const PLATFORM_TENANT: &str = "00000000-0000-7000-8000-000000000001";
pub const AGENT_VERSIONS: Spec = plain("agent_versions", "version");
pub const WORKSPACES: Spec = plain("workspaces", "id");
pub const PLAYGROUND_SESSIONS: Spec = plain("playground_sessions", "id");
pub const PLAYGROUND_TRANSCRIPT: Spec = plain("playground_transcript", "session.id");
pub const WORKFLOWS: Spec = plain("workflows", "id");
pub const WEBHOOKS: Spec = plain("webhooks", "id");
pub const DELIVERIES: Spec = plain("webhook_deliveries", "id");
pub const ME: Spec = plain("me", "user.id");
pub const KNOWLEDGE: Spec = plain("knowledge", "id");
pub const KNOWLEDGE_DOCUMENT: Spec = plain("knowledge_document", "id");
/// One object per agent: `{mode, documents}`.
pub const AGENT_KNOWLEDGE: Spec = plain("agent_knowledge", "mode");

const fn plain(name: &'static str, id_field: &'static str) -> Spec {
    Spec {
        name,
        id_field,
        grows: false,
        excluded: &[],
    }
}

/// Reads `path` and records it (generation).
pub async fn record(
    api: &Api,
    spec: &Spec,
    path: &str,
    as_user: Option<&str>,
) -> (Resource, Vec<Value>) {
    let rows = api
        .rows(path)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", spec.name));
    let excluded: Vec<String> = spec.excluded.iter().map(|s| s.to_string()).collect();
    let mut fields = Value::Null;
    for r in &rows {
        merge_fields(&mut fields, &without(r, &excluded));
    }
    let recorded = rows
        .iter()
        .map(|r| Row {
            id: row_id(r, spec.id_field),
            sha256: row_hash(r, &fields, &excluded),
        })
        .collect();
    let resource = Resource {
        name: spec.name.to_string(),
        path: path.to_string(),
        as_user: as_user.map(str::to_string),
        id_field: spec.id_field.to_string(),
        count: rows.len(),
        grows: spec.grows,
        excluded,
        fields,
        rows: recorded,
    };
    (resource, rows)
}

/// Reads a recorded resource back and says what differs: lost rows,
/// changed rows (with what is hashed of them now), a wrong count, or a read
/// that failed.
pub async fn verify(api: &Api, r: &Resource) -> Vec<String> {
    let rows = match api.rows(&r.path).await {
        Ok(rows) => rows,
        Err(e) => return vec![format!("{} ({}): unreadable: {e}", r.name, r.path)],
    };
    let mut failures = Vec::new();
    let by_id: BTreeMap<String, &Value> =
        rows.iter().map(|v| (row_id(v, &r.id_field), v)).collect();
    for row in &r.rows {
        match by_id.get(&row.id) {
            None => failures.push(format!("{} ({}): row {} is lost", r.name, r.path, row.id)),
            Some(now) => {
                if row_hash(now, &r.fields, &r.excluded) != row.sha256 {
                    failures.push(format!(
                        "{} ({}): row {} changed; it now reads {}",
                        r.name,
                        r.path,
                        row.id,
                        hashed_form(now, &r.fields, &r.excluded)
                    ));
                }
            }
        }
    }
    // Upgrading to the agent library (issue 19) seeds the platform's
    // starter agents, which every tenant's list then includes: those, and
    // only those, are the rows an agents list may have gained.
    let recorded: std::collections::BTreeSet<&str> = r.rows.iter().map(|x| x.id.as_str()).collect();
    let seeded = if r.name == AGENTS.name {
        rows.iter()
            .filter(|v| {
                !recorded.contains(row_id(v, &r.id_field).as_str())
                    && v["sharing"] == "global"
                    && v["tenant_id"] == PLATFORM_TENANT
            })
            .count()
    } else {
        0
    };
    let now = rows.len() - seeded;
    let count_ok = if r.grows {
        now >= r.count
    } else {
        now == r.count
    };
    if !count_ok {
        failures.push(format!(
            "{} ({}): {} rows recorded, {} now",
            r.name,
            r.path,
            r.count,
            rows.len()
        ));
    }
    failures
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn added_fields_match_changed_or_lost_ones_do_not() {
        let old = json!({"id": "a", "name": "Jo", "s": {"x": 1}, "sla": "overdue"});
        let excluded = vec!["sla".to_string()];
        let mut fields = Value::Null;
        merge_fields(&mut fields, &without(&old, &excluded));
        let h = row_hash(&old, &fields, &excluded);
        let added = json!({"id": "a", "name": "Jo", "s": {"x": 1, "y": 2}, "new": 3, "sla": "met"});
        assert_eq!(row_hash(&added, &fields, &excluded), h);
        let changed = json!({"id": "a", "name": "Jo", "s": {"x": 2}});
        assert_ne!(row_hash(&changed, &fields, &excluded), h);
        let lost = json!({"id": "a", "s": {"x": 1}});
        assert_ne!(row_hash(&lost, &fields, &excluded), h);
    }

    #[test]
    fn key_order_does_not_matter() {
        let a: Value =
            serde_json::from_str(r#"{"b":1,"a":{"d":[1,{"z":1,"y":2}],"c":null}}"#).unwrap();
        let b: Value =
            serde_json::from_str(r#"{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}"#).unwrap();
        assert_eq!(canonical(&a), canonical(&b));
        assert_eq!(
            canonical(&a),
            r#"{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}"#
        );
    }
}
