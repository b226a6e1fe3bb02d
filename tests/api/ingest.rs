use std::sync::Arc;

use switchboard::domain::{
    LeadInput, LeadQuery, NewTenant, ProblemKind, TenantPatch, TenantSettingsPatch, Tier,
};
use switchboard::server::ServerSettings;
use switchboard::store::{Actor, IngestOutcome, LeadLimit, NewLeadRow};

use crate::common::{lead, spawn, spawn_with};

#[tokio::test]
async fn a_form_posts_a_lead_with_its_key_and_members_see_it() {
    let app = spawn().await;
    app.tenant("Open Arms", Tier::Pro).await;
    let key = app.ingest_key("open-arms").await;
    let receipt = app
        .anon()
        .ingest_lead(&key, &lead("Jane Doe"), None)
        .await
        .unwrap();
    let leads = app
        .admin
        .list_leads("open-arms", &LeadQuery::default())
        .await
        .unwrap();
    assert_eq!(leads.items.len(), 1);
    let l = &leads.items[0];
    assert_eq!(l.id, receipt.id);
    assert_eq!(l.name, "Jane Doe");
    assert_eq!(l.stage, "new");
    assert_eq!(l.email.as_deref(), Some("jane.doe@example.com"));
    assert_eq!(l.sla_due_at - l.created_at, chrono::Duration::hours(24));
    // Authorization: Bearer works as well as X-Api-Key.
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/ingest/leads", app.url))
        .bearer_auth(&key)
        .json(&lead("Bo Bearer"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let keys = app
        .admin
        .list_api_keys("open-arms", &Default::default())
        .await
        .unwrap();
    assert!(keys.items[0].last_used_at.is_some());
    let usage = app.admin.usage("open-arms").await.unwrap();
    assert_eq!(usage.leads_this_month, 2);
    assert_eq!(usage.lead_limit, Some(1000));
    assert_eq!(
        app.admin
            .tenant("open-arms")
            .await
            .unwrap()
            .usage
            .leads_this_month,
        2
    );
}

#[tokio::test]
async fn bad_input_names_the_fields_and_stores_nothing() {
    let app = spawn().await;
    app.tenant("Open Arms", Tier::Pro).await;
    let key = app.ingest_key("open-arms").await;
    let bad = LeadInput {
        name: "".into(),
        email: Some("not-an-email".into()),
        message: "x".repeat(20_000),
        ..Default::default()
    };
    let err = app.anon().ingest_lead(&key, &bad, None).await.unwrap_err();
    let p = err.problem().unwrap();
    assert_eq!(p.status, 422);
    for f in ["name", "email", "message"] {
        assert!(p.field(f).is_some(), "{f} not named: {p}");
    }
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/ingest/leads", app.url))
        .header("x-api-key", &key)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let huge = reqwest::Client::new()
        .post(format!("{}/api/v1/ingest/leads", app.url))
        .header("x-api-key", &key)
        .header("content-type", "application/json")
        .body(vec![b' '; 300 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), 413);
    let leads = app
        .admin
        .list_leads("open-arms", &LeadQuery::default())
        .await
        .unwrap();
    assert!(leads.items.is_empty());
    assert_eq!(
        app.admin.usage("open-arms").await.unwrap().leads_this_month,
        0
    );
}

#[tokio::test]
async fn unknown_revoked_and_suspended_keys_are_refused() {
    let app = spawn().await;
    app.tenant("Open Arms", Tier::Pro).await;
    let key = app.ingest_key("open-arms").await;
    let unknown = app
        .anon()
        .ingest_lead(
            "sbk_0000000000000000000000000000000000000000000",
            &lead("A"),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(unknown.status(), Some(401));
    assert!(unknown.is(ProblemKind::Unauthorized));

    app.admin.suspend_tenant("open-arms").await.unwrap();
    let suspended = app
        .anon()
        .ingest_lead(&key, &lead("B"), None)
        .await
        .unwrap_err();
    assert_eq!(suspended.status(), Some(423));
    app.admin.reactivate_tenant("open-arms").await.unwrap();

    let keys = app
        .admin
        .list_api_keys("open-arms", &Default::default())
        .await
        .unwrap();
    app.admin
        .revoke_api_key("open-arms", keys.items[0].id)
        .await
        .unwrap();
    let revoked = app
        .anon()
        .ingest_lead(&key, &lead("C"), None)
        .await
        .unwrap_err();
    assert_eq!(revoked.status(), Some(401));
    // Same answer as an unknown key: no hint which tenant exists.
    assert_eq!(revoked.problem(), unknown.problem());
    assert!(app
        .admin
        .list_leads("open-arms", &LeadQuery::default())
        .await
        .unwrap()
        .items
        .is_empty());
}

#[tokio::test]
async fn a_key_only_ever_writes_into_its_own_tenant() {
    let app = spawn().await;
    app.tenant("Alpha", Tier::Pro).await;
    app.tenant("Beta", Tier::Pro).await;
    let alpha_key = app.ingest_key("alpha").await;
    app.anon()
        .ingest_lead(&alpha_key, &lead("For Alpha"), None)
        .await
        .unwrap();
    let beta = app
        .admin
        .list_leads("beta", &LeadQuery::default())
        .await
        .unwrap();
    assert!(beta.items.is_empty());
    let alpha = app
        .admin
        .list_leads("alpha", &LeadQuery::default())
        .await
        .unwrap();
    assert_eq!(alpha.items.len(), 1);
    // Another tenant's lead id through this tenant's path is not found.
    let err = app.admin.lead("beta", alpha.items[0].id).await.unwrap_err();
    assert_eq!(err.status(), Some(404));
}

#[tokio::test]
async fn retries_with_an_idempotency_key_create_one_lead() {
    let app = spawn().await;
    app.tenant("Open Arms", Tier::Pro).await;
    let key = app.ingest_key("open-arms").await;
    let first = app
        .anon()
        .ingest_lead(&key, &lead("Jane"), Some("form-123"))
        .await
        .unwrap();
    let again = app
        .anon()
        .ingest_lead(&key, &lead("Jane"), Some("form-123"))
        .await
        .unwrap();
    assert_eq!(first, again);
    let other = app
        .anon()
        .ingest_lead(&key, &lead("Someone Else"), Some("form-123"))
        .await
        .unwrap_err();
    assert_eq!(other.status(), Some(409));
    assert!(other.problem().unwrap().field("Idempotency-Key").is_some());
    let leads = app
        .admin
        .list_leads("open-arms", &LeadQuery::default())
        .await
        .unwrap();
    assert_eq!(leads.items.len(), 1);
    assert_eq!(
        app.admin.usage("open-arms").await.unwrap().leads_this_month,
        1
    );
}

#[tokio::test]
async fn an_idempotency_key_outside_its_pattern_is_refused_and_stores_nothing() {
    let app = spawn().await;
    app.tenant("Open Arms", Tier::Pro).await;
    let key = app.ingest_key("open-arms").await;
    // The document's pattern is `^[!-~]{1,255}$`: visible ASCII, no space.
    // A space or a tab inside was let through before.
    let long = "k".repeat(256);
    for bad in ["form 123", "form\t123", long.as_str()] {
        let err = app
            .anon()
            .ingest_lead(&key, &lead("Jane"), Some(bad))
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(422), "{bad:?}");
        let field = err
            .problem()
            .unwrap()
            .field("Idempotency-Key")
            .map(str::to_string);
        assert!(
            field.is_some_and(|m| m.contains("visible ASCII")),
            "{bad:?}: {err:?}"
        );
    }
    let leads = app
        .admin
        .list_leads("open-arms", &LeadQuery::default())
        .await
        .unwrap();
    assert!(leads.items.is_empty(), "{:?}", leads.items);
    // The longest key the pattern allows is taken.
    let edge = "~".repeat(255);
    app.anon()
        .ingest_lead(&key, &lead("Jane"), Some(&edge))
        .await
        .unwrap();
}

#[tokio::test]
async fn spam_is_kept_out_of_the_queue_and_the_allowance() {
    let app = spawn().await;
    app.admin
        .create_tenant(&NewTenant {
            name: "Open Arms".into(),
            tier: Some(Tier::Starter),
            settings: Some(TenantSettingsPatch {
                spam_keywords: Some(vec!["casino".into()]),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    let key = app.ingest_key("open-arms").await;
    let mut spam = lead("Spammer");
    spam.message = "Best CASINO bonus today".into();
    app.anon().ingest_lead(&key, &spam, None).await.unwrap();
    let mut links = lead("Linker");
    links.message = "https://a.example https://b.example".into();
    app.anon().ingest_lead(&key, &links, None).await.unwrap();
    app.anon()
        .ingest_lead(&key, &lead("Real Person"), None)
        .await
        .unwrap();

    let queue = app
        .admin
        .list_leads("open-arms", &LeadQuery::default())
        .await
        .unwrap();
    assert_eq!(queue.items.len(), 1);
    assert_eq!(queue.items[0].name, "Real Person");
    let spam_list = app
        .admin
        .list_leads(
            "open-arms",
            &LeadQuery {
                spam: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(spam_list.items.len(), 2);
    assert!(spam_list
        .items
        .iter()
        .all(|l| l.spam && l.spam_reason.is_some()));
    assert!(spam_list
        .items
        .iter()
        .any(|l| l.spam_reason.as_deref().unwrap().contains("casino")));
    assert_eq!(
        app.admin.usage("open-arms").await.unwrap().leads_this_month,
        1
    );
    let _ = TenantPatch::default();
}

#[tokio::test]
async fn at_the_limit_200_concurrent_ingests_accept_exactly_one() {
    let app = spawn_with(ServerSettings {
        ingest_per_minute: 100_000,
        ingest_burst: 10_000,
        // The race is for the month's limit, not the per-minute ones.
        tenant_rate_limits: false,
        ..ServerSettings::default()
    })
    .await;
    let t = app.tenant("Small", Tier::Starter).await;
    let now = chrono::Utc::now();
    for i in 0..99 {
        let row = NewLeadRow {
            input: lead(&format!("Pre {i}")),
            source: switchboard::domain::LeadSource::Import,
            stage: "new".into(),
            spam_reason: None,
            sla_due_at: now + chrono::Duration::hours(24),
            sla_at_risk_at: now + chrono::Duration::hours(18),
            received_at: None,
            workspace_id: None,
            import_key: None,
        };
        let out = app
            .store
            .insert_lead(
                &Actor::system(),
                t.id,
                row,
                LeadLimit {
                    tier: Tier::Starter,
                    limit: Some(100),
                },
                None,
                now,
            )
            .await
            .unwrap();
        assert!(matches!(out, IngestOutcome::Created(_)));
    }
    let key = Arc::new(app.ingest_key("small").await);
    let mut tasks = Vec::new();
    for i in 0..200 {
        let client = app.anon();
        let key = Arc::clone(&key);
        tasks.push(tokio::spawn(async move {
            client
                .ingest_lead(&key, &lead(&format!("Racer {i}")), None)
                .await
        }));
    }
    let (mut ok, mut limited) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(e) => {
                assert_eq!(e.status(), Some(402), "{e}");
                assert!(e.message().contains("resets"), "{}", e.message());
                limited += 1;
            }
        }
    }
    assert_eq!((ok, limited), (1, 199));
    assert_eq!(
        app.admin.usage("small").await.unwrap().leads_this_month,
        100
    );
    let all = app
        .admin
        .list_leads(
            "small",
            &LeadQuery {
                limit: Some(200),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(all.items.len(), 100);
    // Crossing 80 % and reaching the limit each said so once.
    let events = app.store.events_after(t.id, 0, 10_000).await.unwrap();
    let near: Vec<i64> = events
        .iter()
        .filter(|e| e.kind == "usage.near_limit")
        .map(|e| e.data["leads_this_month"].as_i64().unwrap())
        .collect();
    assert_eq!(near, [80, 100]);
}

#[tokio::test]
async fn each_key_is_rate_limited_with_retry_after() {
    let app = spawn_with(ServerSettings {
        ingest_per_minute: 1,
        ingest_burst: 2,
        ..ServerSettings::default()
    })
    .await;
    app.tenant("Open Arms", Tier::Pro).await;
    let key = app.ingest_key("open-arms").await;
    let other = app.ingest_key("open-arms").await;
    app.anon()
        .ingest_lead(&key, &lead("A"), None)
        .await
        .unwrap();
    app.anon()
        .ingest_lead(&key, &lead("B"), None)
        .await
        .unwrap();
    let err = app
        .anon()
        .ingest_lead(&key, &lead("C"), None)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(429));
    assert!(err.problem().unwrap().retry_after.unwrap() >= 1);
    // Another key has its own bucket.
    app.anon()
        .ingest_lead(&other, &lead("D"), None)
        .await
        .unwrap();
}
