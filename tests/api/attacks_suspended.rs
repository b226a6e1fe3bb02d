//! A suspended tenant is read-only (issue 13): every route that changes a
//! tenant's data refuses its members with the suspended problem and changes
//! nothing (OWASP API5, broken function level authorization: a function the
//! tenant's state forbids must not run).

use std::collections::BTreeSet;

use serde_json::{json, Value};
use switchboard::domain::{
    AuditFilter, LeadQuery, NewApiKey, NewInvitation, PageQuery, Role, Tier,
};
use uuid::Uuid;

use crate::common::{lead, spawn, TestApp, PASSWORD};

const METHODS: [&str; 4] = ["post", "put", "patch", "delete"];

/// Every mutating operation under `/tenants/{tenant}` in the served OpenAPI
/// document, as `METHOD path`.
async fn mutating_tenant_routes(app: &TestApp) -> BTreeSet<String> {
    let doc: Value = reqwest::get(format!("{}/api/v1/openapi.json", app.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/api/v1/tenants/{tenant}") {
            continue;
        }
        for method in METHODS {
            if item.get(method).is_some() {
                routes.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    routes
}

/// Everything a refused change could have touched, as the platform admin
/// reads it.
async fn snapshot(app: &TestApp, slug: &str) -> Value {
    let c = &app.admin;
    let page = PageQuery::default();
    json!({
        "tenant": c.tenant(slug).await.unwrap(),
        "leads": c.list_leads(slug, &LeadQuery::default()).await.unwrap().items,
        "members": c.list_members(slug, &page).await.unwrap(),
        "invitations": c.list_invitations(slug, &page).await.unwrap(),
        "keys": c.list_api_keys(slug, &page).await.unwrap(),
        "agents": c.list_agents(slug).await.unwrap(),
        "workspaces": c.list_workspaces(slug).await.unwrap(),
        "webhooks": c.list_webhooks(slug).await.unwrap(),
        "sessions": c.playground_sessions(slug).await.unwrap(),
        "workflows": c.workflows(slug, None, None).await.unwrap(),
        "audit": c.audit(slug, &AuditFilter::default(), &page).await.unwrap().items,
    })
}

async fn token(app: &TestApp, email: &str) -> String {
    let r: Value = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", app.url))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["token"].as_str().unwrap().to_string()
}

/// API5: the tenant's own admin walks every mutating route of its
/// suspended tenant; each answers 423 tenant-suspended and nothing changes.
#[tokio::test]
async fn api5_a_suspended_tenants_members_cannot_change_anything_through_any_route() {
    let app = spawn().await;
    let tenant = app.tenant("Oak", Tier::Pro).await;
    let slug = tenant.slug.clone();
    app.member(&tenant, "owner@oak.test", Role::Admin).await;
    let (invitee, invitee_client) = app.user("invitee@oak.test", false).await;
    let lead = app.admin.create_lead(&slug, &lead("Jane")).await.unwrap();
    let key = NewApiKey {
        name: "form".into(),
        scope: None,
        workspace_id: None,
    };
    let key = app.admin.create_api_key(&slug, &key).await.unwrap();
    let invite = NewInvitation {
        email: invitee.email.clone(),
        role: Role::Viewer,
    };
    let invitation = app.admin.create_invitation(&slug, &invite).await.unwrap();
    app.admin.suspend_tenant(&slug).await.unwrap();
    let before = snapshot(&app, &slug).await;

    // One request per route, with a body the route would otherwise accept;
    // ids name real rows where the tenant has them.
    let id = Uuid::now_v7();
    let l = lead.id;
    let csv = "name,email\nMallory,m@example.com\n";
    let calls: Vec<(&str, String, Value)> = vec![
        ("PATCH", "".into(), json!({ "name": "Renamed" })),
        // Deleting is the biggest change of all.
        ("DELETE", "".into(), json!(null)),
        (
            "POST",
            "/members".into(),
            json!({ "email": "x@oak.test", "role": "viewer" }),
        ),
        (
            "PATCH",
            format!("/members/{id}"),
            json!({ "role": "viewer" }),
        ),
        ("DELETE", format!("/members/{id}"), json!(null)),
        (
            "PUT",
            format!("/members/{id}/permissions"),
            json!({ "granted": ["audit:view"], "withdrawn": [] }),
        ),
        (
            "POST",
            "/invitations".into(),
            json!({ "email": "y@oak.test", "role": "viewer" }),
        ),
        (
            "DELETE",
            format!("/invitations/{}", invitation.invitation.id),
            json!(null),
        ),
        ("POST", "/api-keys".into(), json!({ "name": "another" })),
        (
            "POST",
            format!("/api-keys/{}/rotate", key.api_key.id),
            json!({ "overlap_minutes": 60 }),
        ),
        (
            "DELETE",
            format!("/api-keys/{}", key.api_key.id),
            json!(null),
        ),
        (
            "POST",
            "/leads".into(),
            json!({ "name": "New", "email": "new@example.com" }),
        ),
        (
            "POST",
            "/leads/bulk".into(),
            json!({ "ids": [l], "action": "delete" }),
        ),
        ("POST", "/leads/import-sample".into(), json!(null)),
        ("POST", "/leads/import".into(), json!(csv)),
        ("PATCH", format!("/leads/{l}"), json!({ "name": "Changed" })),
        ("DELETE", format!("/leads/{l}"), json!(null)),
        (
            "POST",
            format!("/leads/{l}/notes"),
            json!({ "body": "hi", "is_reply": false }),
        ),
        ("POST", format!("/leads/{l}/workflow"), json!({})),
        (
            "POST",
            "/agents".into(),
            json!({ "name": "A", "system_prompt": "p", "model": "local/smollm2" }),
        ),
        ("PATCH", format!("/agents/{id}"), json!({ "name": "B" })),
        ("DELETE", format!("/agents/{id}"), json!(null)),
        ("POST", format!("/agents/{id}/copy"), json!({})),
        (
            "POST",
            format!("/agents/{id}/versions/1/restore"),
            json!(null),
        ),
        (
            "PUT",
            format!("/agents/{id}/sharing"),
            json!({ "sharing": "private" }),
        ),
        (
            "PUT",
            format!("/agents/{id}/knowledge"),
            json!({ "mode": "none" }),
        ),
        (
            "POST",
            "/knowledge".into(),
            json!({ "title": "Hours", "body": "9 to 5" }),
        ),
        (
            "PATCH",
            format!("/knowledge/{id}"),
            json!({ "title": "Hours" }),
        ),
        ("DELETE", format!("/knowledge/{id}"), json!(null)),
        ("POST", "/evals".into(), json!({ "name": "FAQ" })),
        ("PATCH", format!("/evals/{id}"), json!({ "name": "FAQ 2" })),
        ("DELETE", format!("/evals/{id}"), json!(null)),
        (
            "POST",
            format!("/evals/{id}/cases"),
            json!({ "message": "Hi" }),
        ),
        (
            "PATCH",
            format!("/evals/{id}/cases/{id}"),
            json!({ "message": "Hello" }),
        ),
        ("DELETE", format!("/evals/{id}/cases/{id}"), json!(null)),
        (
            "POST",
            format!("/evals/{id}/import"),
            json!({ "cases": [{ "message": "Hi" }] }),
        ),
        (
            "POST",
            format!("/evals/{id}/runs"),
            json!({ "agent_id": id }),
        ),
        ("DELETE", format!("/evals/{id}/runs/{id}"), json!(null)),
        ("POST", format!("/evals/{id}/runs/{id}/cancel"), json!(null)),
        (
            "POST",
            "/workspaces".into(),
            json!({ "name": "W", "channel": "web_form", "strategy_active": true }),
        ),
        (
            "PATCH",
            format!("/workspaces/{id}"),
            json!({ "name": "W2" }),
        ),
        ("DELETE", format!("/workspaces/{id}"), json!(null)),
        ("POST", "/playground/sessions".into(), json!({})),
        ("DELETE", format!("/playground/sessions/{id}"), json!(null)),
        (
            "POST",
            format!("/playground/sessions/{id}/messages"),
            json!({ "content": "hi" }),
        ),
        (
            "POST",
            format!("/playground/sessions/{id}/cancel"),
            json!(null),
        ),
        (
            "POST",
            format!("/playground/sessions/{id}/regenerate"),
            json!({}),
        ),
        (
            "POST",
            format!("/playground/sessions/{id}/messages/{id}/lead"),
            json!({}),
        ),
        ("POST", format!("/workflows/{id}/approve"), json!({})),
        (
            "POST",
            format!("/workflows/{id}/approve"),
            json!({ "reply": "edited and approved" }),
        ),
        (
            "POST",
            format!("/workflows/{id}/reject"),
            json!({ "reason": "no" }),
        ),
        ("POST", format!("/workflows/{id}/cancel"), json!(null)),
        ("POST", format!("/workflows/{id}/retry"), json!(null)),
        (
            "POST",
            "/webhooks".into(),
            json!({ "url": "https://hooks.example.com/x", "events": ["*"] }),
        ),
        (
            "PATCH",
            format!("/webhooks/{id}"),
            json!({ "enabled": false }),
        ),
        ("DELETE", format!("/webhooks/{id}"), json!(null)),
        ("POST", format!("/webhooks/{id}/rotate-secret"), json!(null)),
        ("POST", format!("/webhooks/{id}/test"), json!(null)),
        (
            "POST",
            format!("/webhooks/{id}/deliveries/{id}/replay"),
            json!(null),
        ),
    ];
    // Platform-admin-only (a member is refused as such) and the way back.
    let exempt = ["POST /suspend", "POST /reactivate", "PUT /limits"];

    let walked: BTreeSet<String> = calls
        .iter()
        .map(|(m, p, _)| (*m, template(p)))
        .chain(
            exempt
                .iter()
                .map(|e| e.split_once(' ').unwrap())
                .map(|(m, p)| (m, p.to_string())),
        )
        .map(|(m, p)| format!("{m} /api/v1/tenants/{{tenant}}{p}"))
        .collect();
    let served = mutating_tenant_routes(&app).await;
    let missed: Vec<&String> = served.difference(&walked).collect();
    assert!(
        missed.is_empty(),
        "routes this test does not walk: {missed:?}"
    );

    let owner = token(&app, "owner@oak.test").await;
    let http = reqwest::Client::new();
    for (method, path, body) in &calls {
        let url = format!("{}/api/v1/tenants/{slug}{path}", app.url);
        let rb = http
            .request(method.parse().unwrap(), &url)
            .bearer_auth(&owner);
        let rb = match body {
            Value::Null => rb,
            Value::String(csv) => rb.header("content-type", "text/csv").body(csv.clone()),
            body => rb.json(body),
        };
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        let problem: Value = r.json().await.unwrap_or(Value::Null);
        assert_eq!(
            (status, problem["type"].as_str()),
            (423, Some("/problems/tenant-suspended")),
            "{method} {path}: {problem}"
        );
    }

    // Joining the suspended tenant is a change to it too.
    let p = invitee_client
        .accept_my_invitation(invitation.invitation.id)
        .await
        .unwrap_err();
    assert_eq!(p.status(), Some(423), "{p:?}");

    assert_eq!(
        snapshot(&app, &slug).await,
        before,
        "a refused change changed state"
    );
}

/// `/leads/{uuid}/notes` → `/leads/{id}/notes`, as the document names it.
fn template(path: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    for seg in path.split('/') {
        let prev = out.last().map(String::as_str).unwrap_or("");
        let seg = match (prev, Uuid::parse_str(seg).is_ok()) {
            ("members", true) => "{user_id}".to_string(),
            ("deliveries", true) => "{delivery}".to_string(),
            ("messages", true) => "{message}".to_string(),
            ("cases", true) => "{case}".to_string(),
            ("runs", true) => "{run}".to_string(),
            (_, true) => "{id}".to_string(),
            ("versions", false) if seg == "1" => "{n}".to_string(),
            _ => seg.to_string(),
        };
        out.push(seg);
    }
    out.join("/")
}
