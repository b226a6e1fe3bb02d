//! The OpenAPI document is the contract: what it says every operation may
//! answer, and what it says requests look like, checked on the served
//! document (and a few answers the extractors give), so the contract cannot
//! drift without `.ci/schemathesis` running.

use serde_json::{json, Value};

use crate::common::spawn;

const METHODS: [&str; 5] = ["get", "put", "post", "patch", "delete"];

fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                ops.push((method.to_uppercase(), path.clone(), op));
            }
        }
    }
    ops
}

fn params<'a>(op: &'a Value, location: &str) -> Vec<&'a Value> {
    op["parameters"]
        .as_array()
        .map(|ps| ps.iter().filter(|p| p["in"] == location).collect())
        .unwrap_or_default()
}

fn authenticated(op: &Value) -> bool {
    op["security"].as_array().is_some_and(|reqs| {
        reqs.iter()
            .any(|r| r.as_object().is_some_and(|o| !o.is_empty()))
    })
}

async fn served_document() -> Value {
    let app = spawn().await;
    app.anon().openapi().await.expect("the OpenAPI document")
}

#[tokio::test]
async fn every_operation_declares_the_answers_of_its_extractors() {
    let doc = served_document().await;
    let mut missing = Vec::new();
    for (method, path, op) in operations(&doc) {
        let declared = op["responses"].as_object().expect("responses");
        let mut needs = Vec::new();
        if authenticated(op) {
            needs.push(("401", "it needs credentials"));
        }
        if !params(op, "path").is_empty() {
            needs.push(("404", "its path names a resource"));
        }
        if op.get("requestBody").is_some() {
            needs.push(("422", "it reads a body"));
            needs.push(("413", "it reads a body"));
        }
        if !params(op, "query").is_empty() {
            needs.push(("422", "it reads a query string"));
        }
        for (status, why) in needs {
            if !declared.contains_key(status) {
                missing.push(format!("{method} {path}: no {status} although {why}"));
            }
        }
        if !declared.keys().any(|s| s.starts_with('2')) {
            missing.push(format!("{method} {path}: no success response"));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[tokio::test]
async fn every_error_response_is_problem_json_and_no_success_is() {
    let doc = served_document().await;
    let mut wrong = Vec::new();
    for (method, path, op) in operations(&doc) {
        for (status, response) in op["responses"].as_object().expect("responses") {
            let content = response["content"].as_object();
            let types: Vec<&String> = content.map(|c| c.keys().collect()).unwrap_or_default();
            let is_error = status.starts_with('4') || status.starts_with('5');
            if is_error {
                let problem = content
                    .and_then(|c| c.get("application/problem+json"))
                    .map(|c| &c["schema"]["$ref"]);
                if types != ["application/problem+json"]
                    || problem != Some(&json!("#/components/schemas/Problem"))
                {
                    wrong.push(format!("{method} {path} {status}: {types:?}"));
                }
            } else if types
                .iter()
                .any(|t| t.as_str() == "application/problem+json")
            {
                wrong.push(format!("{method} {path} {status}: a success as a problem"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn parameters_sit_where_the_server_reads_them() {
    let doc = served_document().await;
    let mut wrong = Vec::new();
    for (method, path, op) in operations(&doc) {
        // A query struct once appeared as required path parameters.
        for p in params(op, "path") {
            let name = p["name"].as_str().unwrap_or_default();
            if !path.contains(&format!("{{{name}}}")) {
                wrong.push(format!(
                    "{method} {path}: path parameter {name} not in the path"
                ));
            }
        }
        for p in params(op, "query").into_iter().chain(params(op, "header")) {
            let ty = &p["schema"]["type"];
            if ty == "null" || ty.as_array().is_some_and(|t| t.contains(&json!("null"))) {
                wrong.push(format!("{method} {path}: {} is nullable", p["name"]));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    let leads = &doc["paths"]["/api/v1/tenants/{tenant}/leads"]["get"];
    let limit = params(leads, "query")
        .into_iter()
        .find(|p| p["name"] == "limit")
        .expect("leads take ?limit=");
    assert_eq!(limit["required"], false);
    assert_eq!(limit["schema"]["minimum"], 1);
    assert_eq!(limit["schema"]["maximum"], 200);
}

#[tokio::test]
async fn request_schemas_carry_the_rules_the_server_applies() {
    let doc = served_document().await;
    let schemas = &doc["components"]["schemas"];
    let prop = |schema: &str, field: &str| schemas[schema]["properties"][field].clone();

    let slug = prop("NewTenant", "slug");
    assert_eq!(
        (slug["minLength"].clone(), slug["maxLength"].clone()),
        (json!(2), json!(48))
    );
    assert!(slug["pattern"].is_string());
    assert_eq!(prop("NewTenant", "name")["maxLength"], 120);
    assert_eq!(prop("NewApiKey", "name")["maxLength"], 80);
    assert_eq!(prop("NewAgent", "max_tokens")["maximum"], 4096);
    // An agent's tags and category: the limits the server checks.
    for schema in ["NewAgent", "AgentPatch"] {
        let tags = prop(schema, "tags");
        assert_eq!(tags["maxItems"], 8, "{schema}: {tags}");
        assert_eq!(tags["items"]["maxLength"], 24, "{schema}: {tags}");
        assert_eq!(
            tags["items"]["pattern"],
            switchboard::domain::agent::TAG_PATTERN
        );
        let category = prop(schema, "category");
        assert_eq!(category["maxLength"], 40, "{schema}: {category}");
        assert!(category["pattern"].is_string(), "{schema}: {category}");
    }
    assert_eq!(prop("AgentCopy", "name")["maxLength"], 80);
    // All optional, as the server reads them.
    for (schema, field) in [
        ("NewAgent", "tags"),
        ("NewAgent", "category"),
        ("AgentPatch", "tags"),
        ("AgentPatch", "category"),
        ("AgentCopy", "name"),
    ] {
        let required = schemas[schema]["required"].as_array().cloned();
        assert!(
            !required.unwrap_or_default().contains(&json!(field)),
            "{schema}.{field} is optional"
        );
    }
    assert_eq!(prop("PasswordChange", "new_password")["minLength"], 8);
    assert_eq!(prop("NewNote", "body")["maxLength"], 5000);
    assert_eq!(
        prop("TenantSettingsPatch", "sla_at_risk_percent")["maximum"],
        90
    );
    assert_eq!(prop("BulkLeads", "ids")["maxItems"], 500);

    // Emails carry the server's own rule; ids the only form that is written.
    let email = prop("NewInvitation", "email");
    assert_eq!(
        email["pattern"],
        switchboard::domain::validate::EMAIL_PATTERN,
        "{email}"
    );
    assert!(email.get("format").is_none(), "{email}");
    // An optional email the server trims may also be blank.
    // (Blank as the server trims it: Rust's White_Space, spelled out.)
    let blank_or_email = format!(
        "^[{}]*$|{}",
        switchboard::domain::validate::WHITE_SPACE,
        switchboard::domain::validate::EMAIL_PATTERN
    );
    for (schema, field) in [
        ("LeadInput", "email"),
        ("TenantSettingsPatch", "manager_email"),
    ] {
        let p = prop(schema, field);
        assert_eq!(p["pattern"], blank_or_email.as_str(), "{schema}.{field}");
        assert!(p.get("format").is_none(), "{schema}.{field}");
    }
    assert!(prop("NewApiKey", "workspace_id")["pattern"].is_string());
}

#[tokio::test]
async fn the_extractors_answer_as_documented() {
    let app = spawn().await;
    let http = reqwest::Client::new();
    let token = app.admin.token().expect("the admin's session").to_string();
    let tenants = format!("{}/api/v1/tenants", app.url);

    // A struct is never read from an array, at the top or nested.
    for body in [
        json!([null, null]),
        json!({"name": "Array", "settings": [null, null]}),
    ] {
        let resp = http
            .post(&tenants)
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 422, "{body}");
    }
    // 2.0 is an integer to JSON Schema, and so to the server.
    let resp = http
        .post(&tenants)
        .bearer_auth(&token)
        .json(&json!({"name": "Floats", "settings": {"sla_hours": 2.0}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);

    // ?limit= outside 1–200 is refused, as the document says.
    for limit in [0, 201] {
        let resp = http
            .get(format!("{tenants}?limit={limit}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 422, "limit={limit}");
    }

    // A body over the limit is a 413 problem, announced or streamed.
    let big = vec![b' '; 300 * 1024];
    let announced = http
        .post(&tenants)
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(big.clone());
    let streamed = http
        .post(&tenants)
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(
            big.chunks(64 * 1024)
                .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
                .collect::<Vec<_>>(),
        )));
    for request in [announced, streamed] {
        let resp = request.send().await.unwrap();
        assert_eq!(resp.status(), 413);
        assert_eq!(resp.headers()["content-type"], "application/problem+json");
        let problem: Value = resp.json().await.unwrap();
        assert_eq!(problem["type"], "/problems/payload-too-large");
    }

    // What axum answers by itself is a problem too.
    let resp = http.put(&tenants).send().await.unwrap();
    assert_eq!(resp.status(), 405);
    assert!(resp.headers().contains_key("allow"));
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
}

/// A member's effective permissions (role and grants) may lack anything,
/// so every tenant route that checks one declares its 403; only reads any
/// member may make are left out, by name.
#[tokio::test]
async fn tenant_routes_that_check_a_permission_declare_403() {
    const ANY_MEMBER: &[&str] = &[
        "GET /api/v1/tenants/{tenant}",
        "GET /api/v1/tenants/{tenant}/members",
        "GET /api/v1/tenants/{tenant}/agents",
        "GET /api/v1/tenants/{tenant}/agents/{id}",
        "GET /api/v1/tenants/{tenant}/agents/{id}/versions",
        "GET /api/v1/tenants/{tenant}/agents/{id}/versions/{n}",
        "GET /api/v1/tenants/{tenant}/agents/{id}/knowledge",
        "GET /api/v1/tenants/{tenant}/workspaces",
        "GET /api/v1/tenants/{tenant}/workspaces/{id}",
    ];
    let doc = served_document().await;
    let mut missing = Vec::new();
    for (method, path, op) in operations(&doc) {
        let name = format!("{method} {path}");
        if !path.starts_with("/api/v1/tenants/{tenant}") || ANY_MEMBER.contains(&name.as_str()) {
            continue;
        }
        if !op["responses"].as_object().unwrap().contains_key("403") {
            missing.push(name);
        }
    }
    assert!(missing.is_empty(), "no 403 declared: {missing:#?}");
}
