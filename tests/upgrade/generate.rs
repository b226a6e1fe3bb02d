//! The fixture generator (`tests/fixtures/generate.sh` runs it): drives an
//! old `switchboard` over HTTP to build a realistic platform on SQLite and
//! on PostgreSQL, then records what the API answers in `manifest.json`.
//!
//! Environment: `SB_GEN_BINARY` (the old binary), `SB_GEN_OUT` (the fixture
//! dir), `SB_GEN_COMMIT`, and `SB_GEN_PG_URL` (a superuser URL; the
//! database `SB_GEN_PG_DB` is left behind for `pg_dump`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};

use super::api::Api;
use super::fakes;
use super::fill::{fill, id, t, TENANTS};
use super::knowledge;
use super::manifest::{self as m, Credentials, Manifest, Resource, Snapshot};
use super::process::{self, Home, PgDatabase};

pub const ADMIN_EMAIL: &str = "admin@fixture.test";
/// Test-only credentials, written into the manifest on purpose.
pub const ADMIN_PASSWORD: &str = "fixture-admin-password-1";

fn config(model_url: &str) -> String {
    format!(
        "webhook_private_targets = true\n\
         sla_check_seconds = 1\n\
         workflow_workers = 2\n\
         [llm.local]\nenabled = false\n\
         [llm.providers.fake]\nkind = \"openai\"\nbase_url = \"{model_url}\"\n\
         models = [\"fake-1\"]\ntimeout_secs = 10\n"
    )
}

#[tokio::test]
#[ignore = "writes a fixture generation; run by tests/fixtures/generate.sh"]
async fn generate_fixture() {
    let bin = PathBuf::from(std::env::var("SB_GEN_BINARY").expect("SB_GEN_BINARY"));
    let out = PathBuf::from(std::env::var("SB_GEN_OUT").expect("SB_GEN_OUT"));
    let commit = std::env::var("SB_GEN_COMMIT").expect("SB_GEN_COMMIT");
    std::fs::create_dir_all(&out).unwrap();
    let model = fakes::model().await;
    let receiver = fakes::receiver().await;
    let home = Home::new(&config(&model.base_url));
    let mut stores = BTreeMap::new();

    let db = out.join("switchboard.db");
    let _ = std::fs::remove_file(&db);
    let sqlite_url = format!("sqlite://{}", db.display());
    stores.insert(
        "sqlite".to_string(),
        build(&bin, &home, &sqlite_url, &sqlite_url, &receiver.base_url).await,
    );

    if let Ok(admin_url) = std::env::var("SB_GEN_PG_URL") {
        let name = std::env::var("SB_GEN_PG_DB").unwrap_or_else(|_| "sb_fixture_gen".into());
        let pg = PgDatabase::create(&admin_url, &name).await;
        let (ok, _, err) = process::run(
            &bin,
            &home,
            &["migrate", "--database-url", &pg.owner_url],
            "",
        )
        .await;
        assert!(ok, "old migrate failed: {err}");
        stores.insert(
            "postgres".to_string(),
            build(&bin, &home, &pg.app_url, &pg.app_url, &receiver.base_url).await,
        );
        // Left for pg_dump.
        std::mem::forget(pg);
    }

    let manifest = Manifest {
        format: 1,
        commit,
        generated_at: chrono::Utc::now().to_rfc3339(),
        admin: Credentials {
            email: ADMIN_EMAIL.into(),
            password: ADMIN_PASSWORD.into(),
        },
        stores,
    };
    std::fs::write(
        out.join("manifest.json"),
        serde_json::to_string(&manifest).unwrap() + "\n",
    )
    .unwrap();
    println!(
        "model calls: {}",
        model.hits.load(std::sync::atomic::Ordering::SeqCst)
    );
}

/// Creates the first admin, serves, fills the platform, records it, stops.
async fn build(bin: &Path, home: &Home, url: &str, serve_url: &str, hooks: &str) -> Snapshot {
    let (ok, _, err) = process::run(
        bin,
        home,
        &[
            "user",
            "add",
            ADMIN_EMAIL,
            "--platform-admin",
            "--name",
            "Fixture Admin",
            "--password-stdin",
            "--database-url",
            url,
        ],
        &format!("{ADMIN_PASSWORD}\n"),
    )
    .await;
    assert!(ok, "user add failed: {err}");
    let server = match process::serve(bin, home, serve_url).await {
        Ok(s) => s,
        Err(e) => panic!("old serve did not start: {}", e.stderr),
    };
    let anon = Api::new(&server.url);
    let admin = anon.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.unwrap();
    let users = fill(&admin, &anon, hooks).await;
    settle(&admin).await;
    let snapshot = snapshot(&admin, &anon, users).await;
    let counts: BTreeMap<&str, usize> =
        snapshot
            .resources
            .iter()
            .fold(BTreeMap::new(), |mut acc, r| {
                *acc.entry(r.name.as_str()).or_default() += r.count;
                acc
            });
    println!("{url}: {counts:?}");
    server.stop().await;
    snapshot
}

/// Workflows decided every way; deliveries delivered (the dead endpoint's
/// disabled with its deliveries pending); SLA alerts written.
async fn settle(admin: &Api) {
    let slugs: Vec<&str> = TENANTS.iter().map(|tn| tn.slug).collect();
    for s in &slugs {
        wait_for(admin, s, |w| {
            !matches!(w["status"].as_str(), Some("queued" | "running"))
        })
        .await;
    }
    for (i, s) in slugs.iter().enumerate() {
        let wfs = admin.rows(&t(s, "/workflows")).await.unwrap();
        let waiting: Vec<String> = wfs
            .iter()
            .filter(|w| w["status"] == "awaiting_approval")
            .map(id)
            .collect();
        let mut it = waiting.iter();
        if let Some(w) = it.next() {
            admin
                .post(&t(s, &format!("/workflows/{w}/approve")), json!({}))
                .await;
        }
        if i >= 2 {
            if let Some(w) = it.next() {
                admin
                    .post(
                        &t(s, &format!("/workflows/{w}/approve")),
                        json!({"reply": "Edited by a person: we can host you, see you Friday."}),
                    )
                    .await;
            }
            if let Some(w) = it.next() {
                if i % 2 == 0 {
                    admin
                        .post(
                            &t(s, &format!("/workflows/{w}/reject")),
                            json!({"reason": "too pushy"}),
                        )
                        .await;
                } else {
                    admin
                        .post(&t(s, &format!("/workflows/{w}/cancel")), json!(null))
                        .await;
                }
            }
        }
        // A workflow started by hand for a lead that came in without one.
        if i == 5 {
            let leads = admin.rows(&t(s, "/leads?source=manual")).await.unwrap();
            let agents = admin.rows(&t(s, "/agents")).await.unwrap();
            let own = agents
                .iter()
                .find(|a| a["tenant_id"] == leads[0]["tenant_id"])
                .unwrap();
            admin
                .post(
                    &t(s, &format!("/leads/{}/workflow", id(&leads[0]))),
                    json!({"agent_id": own["id"]}),
                )
                .await;
            wait_for(admin, s, |w| {
                !matches!(w["status"].as_str(), Some("queued" | "running"))
            })
            .await;
        }
    }
    // Deliveries: the dead endpoint tried once, then disabled by hand.
    tokio::time::sleep(Duration::from_secs(3)).await;
    for s in &slugs {
        for hook in admin.rows(&t(s, "/webhooks")).await.unwrap() {
            if hook["url"].as_str().is_some_and(|u| u.ends_with("/dead")) {
                admin
                    .patch(
                        &t(s, &format!("/webhooks/{}", id(&hook))),
                        json!({"enabled": false}),
                    )
                    .await;
            }
        }
    }
    for s in &slugs {
        for hook in admin.rows(&t(s, "/webhooks")).await.unwrap() {
            if hook["enabled"] != true {
                continue;
            }
            let path = t(s, &format!("/webhooks/{}/deliveries", id(&hook)));
            for _ in 0..120 {
                let d = admin.rows(&path).await.unwrap();
                if d.iter().all(|d| d["status"] == "delivered") {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
    // One replay, delivered again.
    let hooks = admin.rows(&t("harbor-lights", "/webhooks")).await.unwrap();
    let path = t(
        "harbor-lights",
        &format!("/webhooks/{}/deliveries", id(&hooks[0])),
    );
    let first = admin.rows(&path).await.unwrap();
    if let Some(d) = first.first() {
        admin
            .post(&format!("{path}/{}/replay", id(d)), json!(null))
            .await;
        for _ in 0..60 {
            let d = admin.rows(&path).await.unwrap();
            if d.iter().all(|d| d["status"] == "delivered") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    // The SLA watcher (every second here) writes its alerts.
    tokio::time::sleep(Duration::from_secs(4)).await;
}

async fn wait_for(admin: &Api, s: &str, done: impl Fn(&Value) -> bool) {
    for _ in 0..240 {
        let wfs = admin.rows(&t(s, "/workflows")).await.unwrap();
        if wfs.iter().all(&done) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("workflows of {s} did not settle");
}

/// What the API answers, as the platform admin and as each member.
pub async fn snapshot(admin: &Api, anon: &Api, users: Vec<Credentials>) -> Snapshot {
    let mut resources: Vec<Resource> = Vec::new();
    let (r, tenants) = m::record(admin, &m::TENANTS, "/api/v1/tenants", None).await;
    resources.push(r);
    for tenant in &tenants {
        let s = tenant["slug"].as_str().unwrap();
        for (spec, rest) in [
            (&m::MEMBERS, "/members"),
            (&m::INVITATIONS, "/invitations"),
            (&m::API_KEYS, "/api-keys"),
            (&m::AUDIT, "/audit"),
            (&m::WORKSPACES, "/workspaces"),
            (&m::WORKFLOWS, "/workflows"),
        ] {
            resources.push(m::record(admin, spec, &t(s, rest), None).await.0);
        }
        for rest in ["/leads?sort=oldest", "/leads?sort=oldest&spam=true"] {
            let (r, leads) = m::record(admin, &m::LEADS, &t(s, rest), None).await;
            resources.push(r);
            for lead in &leads {
                let path = t(s, &format!("/leads/{}/timeline", id(lead)));
                resources.push(m::record(admin, &m::TIMELINE, &path, None).await.0);
            }
        }
        let (r, agents) = m::record(admin, &m::AGENTS, &t(s, "/agents"), None).await;
        resources.push(r);
        for a in &agents {
            let path = t(s, &format!("/agents/{}/versions", id(a)));
            resources.push(m::record(admin, &m::AGENT_VERSIONS, &path, None).await.0);
        }
        let (r, sessions) = m::record(
            admin,
            &m::PLAYGROUND_SESSIONS,
            &t(s, "/playground/sessions"),
            None,
        )
        .await;
        resources.push(r);
        for session in &sessions {
            let path = t(s, &format!("/playground/sessions/{}", id(session)));
            resources.push(
                m::record(admin, &m::PLAYGROUND_TRANSCRIPT, &path, None)
                    .await
                    .0,
            );
        }
        let (r, hooks) = m::record(admin, &m::WEBHOOKS, &t(s, "/webhooks"), None).await;
        resources.push(r);
        for h in &hooks {
            let path = t(s, &format!("/webhooks/{}/deliveries", id(h)));
            resources.push(m::record(admin, &m::DELIVERIES, &path, None).await.0);
        }
        resources.extend(knowledge::record(admin, s).await);
    }
    for u in &users {
        let api = anon.login(&u.email, &u.password).await.unwrap();
        resources.push(
            m::record(&api, &m::ME, "/api/v1/me", Some(&u.email))
                .await
                .0,
        );
    }
    Snapshot { users, resources }
}
