//! What a fixture holds: the platform the generator builds through the
//! API (tenants of each tier, people, keys, leads, agents, workspaces,
//! playground transcripts, workflows, webhooks), decided and delivered by
//! `settle` in `generate.rs`.

use serde_json::{json, Value};

use super::api::Api;
use super::knowledge;
use super::manifest::Credentials;

/// Test-only password of every member the fixture signs in as.
const MEMBER_PASSWORD: &str = "fixture-member-password-1";

pub struct Tn {
    pub slug: &'static str,
    pub name: &'static str,
    pub tier: &'static str,
}

pub const TENANTS: [Tn; 6] = [
    Tn {
        slug: "open-arms",
        name: "Open Arms",
        tier: "starter",
    },
    Tn {
        slug: "blue-door",
        name: "Blue Door",
        tier: "starter",
    },
    Tn {
        slug: "harbor-lights",
        name: "Harbor Lights",
        tier: "pro",
    },
    Tn {
        slug: "cedar-clinic",
        name: "Cedar Clinic",
        tier: "pro",
    },
    Tn {
        slug: "northwind-events",
        name: "Northwind Events",
        tier: "enterprise",
    },
    Tn {
        slug: "summit-legal",
        name: "Summit Legal",
        tier: "enterprise",
    },
];

pub fn t(slug: &str, rest: &str) -> String {
    format!("/api/v1/tenants/{slug}{rest}")
}

pub fn id(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {v}"))
        .to_string()
}

/// Everything the issue lists, through the API. Returns the members who
/// sign in themselves.
pub async fn fill(admin: &Api, anon: &Api, hooks: &str) -> Vec<Credentials> {
    let mut users = Vec::new();
    let platform = admin
        .rows("/api/v1/tenants")
        .await
        .unwrap()
        .into_iter()
        .find(|t| t["is_platform"] == true)
        .expect("a platform tenant");
    let platform_slug = platform["slug"].as_str().unwrap().to_string();
    let knowledge = knowledge::served(admin, &platform_slug).await;
    // A globally shared agent from the platform tenant.
    let global = admin
        .post(
            &t(&platform_slug, "/agents"),
            json!({"name": "Platform greeter", "description": "shared with every tenant",
                   "system_prompt": "Greet the lead warmly.", "model": "fake/fake-1", "temperature": 0.2}),
        )
        .await;
    admin
        .put(
            &t(&platform_slug, &format!("/agents/{}/sharing", id(&global))),
            json!({"sharing": "global"}),
        )
        .await;

    for (i, tn) in TENANTS.iter().enumerate() {
        let sla_hours = [24, 24, 8, 12, 4, 48][i];
        let mut settings = json!({
            "sla_hours": sla_hours,
            "manager_email": format!("manager@{}.test", tn.slug),
            "spam_keywords": ["casino", "crypto giveaway"],
        });
        if i == 2 {
            settings["sla_at_risk_percent"] = json!(50);
            settings["pipeline_stages"] = json!([
                {"id": "new", "name": "New"}, {"id": "contacted", "name": "Contacted"},
                {"name": "Proposal"}, {"id": "won", "name": "Won"}, {"id": "lost", "name": "Lost"}]);
        }
        if knowledge {
            knowledge::settings(i, &mut settings);
        }
        if i == 4 {
            settings["secrets"] = json!({"openai_api_key": "sk-fixture-not-a-real-key-0042"});
        }
        admin
            .post(
                "/api/v1/tenants",
                json!({"name": tn.name, "slug": tn.slug, "tier": tn.tier, "settings": settings}),
            )
            .await;
        users.extend(people(admin, anon, tn, i).await);
        if knowledge {
            knowledge::documents(admin, tn.slug, tn.name, i).await;
        }
    }
    // A user in two tenants, and a role change.
    admin
        .post(
            &t("cedar-clinic", "/members"),
            json!({"email": "manager@harbor-lights.test", "role": "agent"}),
        )
        .await;
    let members = admin.rows(&t("summit-legal", "/members")).await.unwrap();
    let viewer = members.iter().find(|m| m["role"] == "viewer").unwrap();
    admin
        .patch(
            &t(
                "summit-legal",
                &format!("/members/{}", viewer["user_id"].as_str().unwrap()),
            ),
            json!({"role": "agent"}),
        )
        .await;

    for (i, tn) in TENANTS.iter().enumerate() {
        work(admin, anon, tn, i, hooks, &platform_slug, &id(&global)).await;
        if knowledge {
            knowledge::links(admin, tn.slug, i).await;
        }
    }
    admin
        .patch(
            &t("cedar-clinic", ""),
            json!({"name": "Cedar Family Clinic"}),
        )
        .await;
    admin.post(&t("blue-door", "/suspend"), json!(null)).await;
    users
}

/// Members of every role (accepted invitations), a pending and a revoked invitation.
async fn people(admin: &Api, anon: &Api, tn: &Tn, i: usize) -> Vec<Credentials> {
    // Starter tenants hold 3 users: two members and one pending invitation.
    let roles: &[&str] = if tn.tier == "starter" {
        if i == 0 {
            &["admin", "agent"]
        } else {
            &["manager", "viewer"]
        }
    } else {
        &["admin", "manager", "agent", "viewer"]
    };
    let mut out = Vec::new();
    for role in roles {
        let email = format!("{role}@{}.test", tn.slug);
        let inv = admin
            .post(
                &t(tn.slug, "/invitations"),
                json!({"email": email, "role": role}),
            )
            .await;
        anon.post(
            "/api/v1/invitations/accept",
            json!({"token": inv["token"], "password": MEMBER_PASSWORD, "name": format!("{} {role}", tn.name)}),
        )
        .await;
        out.push(Credentials {
            email,
            password: MEMBER_PASSWORD.into(),
        });
    }
    let pending = if tn.tier == "starter" {
        "viewer"
    } else {
        "agent"
    };
    admin
        .post(
            &t(tn.slug, "/invitations"),
            json!({"email": format!("pending-{pending}@{}.test", tn.slug), "role": pending}),
        )
        .await;
    if tn.tier != "starter" {
        let revoked = admin
            .post(
                &t(tn.slug, "/invitations"),
                json!({"email": format!("revoked@{}.test", tn.slug), "role": "viewer"}),
            )
            .await;
        admin
            .delete(&t(
                tn.slug,
                &format!("/invitations/{}", id(&revoked["invitation"])),
            ))
            .await;
    }
    out
}

async fn work(
    admin: &Api,
    anon: &Api,
    tn: &Tn,
    i: usize,
    hooks: &str,
    platform: &str,
    global: &str,
) {
    let s = tn.slug;
    let members = admin.rows(&t(s, "/members")).await.unwrap();
    let assignee = members
        .iter()
        .find(|m| m["role"] == "agent" || m["role"] == "manager")
        .map(|m| m["user_id"].clone())
        .unwrap_or(Value::Null);

    // Agents: versions by edits and a restore; sharing modes.
    let agent = admin
        .post(
            &t(s, "/agents"),
            json!({"name": "Front desk", "description": format!("answers {}'s leads", tn.name),
                   "system_prompt": "You answer inbound leads politely.", "model": "fake/fake-1",
                   "temperature": 0.3, "max_tokens": 200}),
        )
        .await;
    let a = id(&agent);
    admin
        .patch(
            &t(s, &format!("/agents/{a}")),
            json!({"system_prompt": "You answer inbound leads politely and briefly."}),
        )
        .await;
    admin
        .patch(
            &t(s, &format!("/agents/{a}")),
            json!({"temperature": 0.5, "description": "tuned"}),
        )
        .await;
    if i % 2 == 0 {
        admin
            .post(
                &t(s, &format!("/agents/{a}/versions/1/restore")),
                json!(null),
            )
            .await;
    }
    if i == 2 {
        admin
            .put(
                &t(s, &format!("/agents/{a}/sharing")),
                json!({"sharing": "selective", "tenants": ["cedar-clinic", "summit-legal"]}),
            )
            .await;
    }
    if i == 3 {
        let doomed = admin
            .post(
                &t(s, "/agents"),
                json!({"name": "Retired", "system_prompt": "Old.", "model": "fake/fake-1"}),
            )
            .await;
        admin
            .delete(&t(s, &format!("/agents/{}", id(&doomed))))
            .await;
    }

    // Workspaces: one working leads with the agent, others idle.
    let web = admin
        .post(
            &t(s, "/workspaces"),
            json!({"name": format!("Website — {}", tn.name), "channel": "web_form", "agent_id": a, "strategy_active": true}),
        )
        .await;
    admin
        .post(
            &t(s, "/workspaces"),
            json!({"name": "Phone line", "channel": "phone", "strategy_active": false}),
        )
        .await;
    if i == 5 {
        admin
            .post(&t(s, "/workspaces"), json!({"name": "Chat", "channel": "chat", "agent_id": global, "strategy_active": false}))
            .await;
    }

    // Keys: bound to the workspace, plain, and revoked.
    let web_key = admin
        .post(
            &t(s, "/api-keys"),
            json!({"name": "Website form", "workspace_id": id(&web)}),
        )
        .await;
    let plain_key = admin
        .post(&t(s, "/api-keys"), json!({"name": "Partner API"}))
        .await;
    let old_key = admin
        .post(&t(s, "/api-keys"), json!({"name": "Legacy form"}))
        .await;
    let (web_key, plain_key) = (
        web_key["key"].as_str().unwrap().to_string(),
        plain_key["key"].as_str().unwrap().to_string(),
    );

    // Webhooks before the leads, so their events are delivered.
    if tn.tier != "starter" {
        admin
            .post(
                &t(s, "/webhooks"),
                json!({"url": format!("{hooks}/{s}-all-leads"), "events": ["lead.*"]}),
            )
            .await;
        let created = admin
            .post(
                &t(s, "/webhooks"),
                json!({"url": format!("{hooks}/{s}-created"), "events": ["lead.created"]}),
            )
            .await;
        admin
            .post(
                &t(
                    s,
                    &format!("/webhooks/{}/rotate-secret", id(&created["webhook"])),
                ),
                json!(null),
            )
            .await;
    }

    // Leads: through the public endpoint (bound key: workflows), by hand, imported.
    let mut leads = Vec::new();
    let n_web = if tn.tier == "starter" { 2 } else { 4 };
    for k in 0..n_web {
        let message = if k == 1 && tn.tier != "starter" {
            "FAIL-MODEL please: we need a quote".to_string()
        } else {
            format!("We need a quote for {} people in week {}.", 10 + k, 20 + k)
        };
        let r = anon
            .ingest(&web_key, &format!("{s}-web-{k}"), json!({
                "name": format!("Web Lead {k}"), "email": format!("web{k}@{s}.example"),
                "company": "Acme", "message": message, "source_page": "/contact",
                "utm": {"source": "google", "campaign": "spring"}, "fields": {"guests": 10 + k, "newsletter": k % 2 == 0}}))
            .await;
        leads.push(id(&r));
    }
    for k in 0..3 {
        let r = anon
            .ingest(&plain_key, &format!("{s}-api-{k}"), json!({
                "name": format!("Api Lead {k}"), "phone": format!("+1 555 01{k}{i}"),
                "message": if k == 2 { "Win big at our casino!".to_string() } else { format!("Call me back about item {k}") }}))
            .await;
        leads.push(id(&r));
    }
    // An endpoint that cannot be reached, disabled by hand after a few
    // events: its deliveries stay pending (and nothing retries them).
    let dead = if i == 4 {
        let url = "http://127.0.0.1:9/dead";
        Some(
            admin
                .post(
                    &t(s, "/webhooks"),
                    json!({"url": url, "events": ["lead.created", "lead.deleted"]}),
                )
                .await,
        )
    } else {
        None
    };
    let manual = admin
        .post(&t(s, "/leads"), json!({"name": "Walk-in Visitor", "email": format!("walkin@{s}.example"), "message": "Dropped by the office."}))
        .await;
    leads.push(id(&manual));
    let doomed = admin
        .post(
            &t(s, "/leads"),
            json!({"name": "Duplicate", "email": "dup@example.com", "message": "oops"}),
        )
        .await;
    admin
        .delete(&t(s, &format!("/leads/{}", id(&doomed))))
        .await;
    if let Some(dead) = dead {
        let hook = id(&dead["webhook"]);
        admin
            .patch(
                &t(s, &format!("/webhooks/{hook}")),
                json!({"enabled": false}),
            )
            .await;
    }
    if i == 0 {
        admin.post(&t(s, "/leads/import-sample"), json!(null)).await;
    }
    if i == 2 {
        admin
            .post_raw(
                &t(s, "/leads/import"),
                "text/csv",
                "name,email,company,message\nCsv One,one@csv.example,Csv Co,Imported lead one\n\
                 Csv Two,two@csv.example,,Imported lead two\n,bad-row@csv.example,,no name\n"
                    .into(),
            )
            .await;
    }
    let revoked = old_key["api_key"]["id"].as_str().unwrap();
    admin.delete(&t(s, &format!("/api-keys/{revoked}"))).await;

    // Every stage, assignments, notes, a reply (SLA met), spam by hand.
    let stages: Vec<String> = admin.get(&t(s, "")).await.unwrap()["settings"]["pipeline_stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|st| st["id"].as_str().unwrap().to_string())
        .collect();
    let hand = &leads[n_web..];
    for (k, lead) in hand.iter().enumerate() {
        let stage = &stages[(k + 1) % stages.len()];
        admin
            .patch(
                &t(s, &format!("/leads/{lead}")),
                json!({"stage": stage, "assignee_id": assignee}),
            )
            .await;
        admin
            .post(
                &t(s, &format!("/leads/{lead}/notes")),
                json!({"body": format!("Internal note {k}"), "is_reply": false}),
            )
            .await;
    }
    admin
        .post(
            &t(s, &format!("/leads/{}/notes", hand[0])),
            json!({"body": "Thanks, we will call you.", "is_reply": true}),
        )
        .await;
    admin
        .patch(&t(s, &format!("/leads/{}", hand[1])), json!({"spam": true}))
        .await;
    admin
        .post(
            &t(s, "/leads/bulk"),
            json!({"ids": [hand[3]], "stage": stages.last().unwrap()}),
        )
        .await;
    if !assignee.is_null() && i == 5 {
        let member = admin
            .rows(&t(s, "/members"))
            .await
            .unwrap()
            .into_iter()
            .find(|m| m["user_id"] == assignee)
            .unwrap();
        let me = anon
            .login(member["email"].as_str().unwrap(), MEMBER_PASSWORD)
            .await
            .unwrap();
        me.post(
            &t(s, &format!("/leads/{}/notes", hand[0])),
            json!({"body": "Called back, left a voicemail."}),
        )
        .await;
    }

    playground(admin, s, &a, i, platform).await;
}

async fn playground(admin: &Api, s: &str, agent: &str, i: usize, _platform: &str) {
    let mut sessions = vec![
        json!({"agent_id": agent, "title": "Latest prompt"}),
        json!({"agent_id": agent, "version": 1, "title": "Pinned to v1"}),
    ];
    if i >= 2 {
        sessions.push(json!({"agent_id": agent, "version": 1, "compare": {"agent_id": agent, "version": 2}, "title": "v1 vs v2"}));
        let ws = admin.rows(&t(s, "/workspaces")).await.unwrap();
        if let Some(w) = ws.iter().find(|w| !w["agent_id"].is_null()) {
            sessions.push(json!({"workspace_id": w["id"], "title": "Through the website"}));
        }
    }
    for (k, body) in sessions.into_iter().enumerate() {
        let session = admin.post(&t(s, "/playground/sessions"), body).await;
        let sid = id(&session);
        for text in [
            "Hi! Do you have a room for two on Friday?",
            "And what does breakfast cost?",
        ] {
            admin
                .send_text(
                    reqwest::Method::POST,
                    &t(s, &format!("/playground/sessions/{sid}/messages")),
                    Some(json!({"content": text})),
                )
                .await
                .unwrap();
        }
        if k == 0 {
            let tr = admin
                .get(&t(s, &format!("/playground/sessions/{sid}")))
                .await
                .unwrap();
            let first = tr["messages"][0]["id"].as_str().unwrap().to_string();
            admin
                .post(
                    &t(
                        s,
                        &format!("/playground/sessions/{sid}/messages/{first}/lead"),
                    ),
                    json!({"name": "Playground Guest", "email": "guest@playground.example"}),
                )
                .await;
        }
    }
    if i == 3 {
        let gone = admin
            .post(
                &t(s, "/playground/sessions"),
                json!({"agent_id": agent, "title": "Deleted"}),
            )
            .await;
        admin
            .delete(&t(s, &format!("/playground/sessions/{}", id(&gone))))
            .await;
    }
}
