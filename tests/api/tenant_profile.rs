//! A tenant's profile (issue 16): description, domain and configuration
//! key/values under the usual settings rules, and a user-limit override
//! that only platform admins may set and that replaces the tier's limit
//! wherever members are counted.

use std::collections::BTreeMap;

use switchboard::domain::tenant_profile::ConfigValue;
use switchboard::domain::{
    AcceptInvitation, AuditFilter, NewInvitation, NewMember, NewTenant, PageQuery, ProblemKind,
    Role, TenantPatch, TenantSettingsPatch, Tier,
};

use crate::common::{spawn, TestApp};

fn config(pairs: &[(&str, serde_json::Value)]) -> BTreeMap<String, ConfigValue> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), ConfigValue(v.clone())))
        .collect()
}

fn settings(patch: TenantSettingsPatch) -> TenantPatch {
    TenantPatch {
        settings: Some(patch),
        ..Default::default()
    }
}

fn limit(n: Option<u32>) -> TenantPatch {
    TenantPatch {
        user_limit: Some(n),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_tenant_admin_edits_description_domain_and_config_and_each_is_audited() {
    let app = spawn().await;
    let t = app.tenant("Open Arms", Tier::Pro).await;
    let (_, admin) = app.member(&t, "admin@oa.test", Role::Admin).await;
    let patch = TenantSettingsPatch {
        description: Some("  Family-run plumbing in Leeds ".into()),
        domain: Some("OpenArms.Example.".into()),
        config: Some(config(&[
            ("crm.region", serde_json::json!("eu")),
            ("seats", serde_json::json!(12)),
            ("beta", serde_json::json!(true)),
        ])),
        ..Default::default()
    };
    let saved = admin
        .update_tenant("open-arms", &settings(patch))
        .await
        .unwrap();
    let s = &saved.settings;
    assert_eq!(
        s.description.as_deref(),
        Some("Family-run plumbing in Leeds")
    );
    assert_eq!(s.domain.as_deref(), Some("openarms.example"));
    assert_eq!(s.config["seats"].0, serde_json::json!(12));
    assert_eq!(s.config["beta"].0, serde_json::json!(true));
    // Read back as stored; the config is replaced as a whole, empty text
    // clears description and domain.
    let again = admin.tenant("open-arms").await.unwrap();
    assert_eq!(again.settings, saved.settings);
    let cleared = admin
        .update_tenant(
            "open-arms",
            &settings(TenantSettingsPatch {
                description: Some(String::new()),
                domain: Some(" ".into()),
                config: Some(config(&[("seats", serde_json::json!(3))])),
                ..Default::default()
            }),
        )
        .await
        .unwrap();
    assert_eq!(cleared.settings.description, None);
    assert_eq!(cleared.settings.domain, None);
    assert_eq!(cleared.settings.config.len(), 1);
    let audit = app
        .admin
        .audit(
            "open-arms",
            &AuditFilter {
                action: Some("tenant.update".into()),
                ..Default::default()
            },
            &PageQuery::default(),
        )
        .await
        .unwrap()
        .items;
    let fields: Vec<String> = audit
        .iter()
        .flat_map(|e| e.changes["fields"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| f.as_str().map(String::from))
        .collect();
    for f in ["settings.description", "settings.domain", "settings.config"] {
        assert!(fields.iter().any(|x| x == f), "{f} not audited: {fields:?}");
    }
}

#[tokio::test]
async fn bad_profile_input_is_a_422_naming_each_field_and_changes_nothing() {
    let app = spawn().await;
    let t = app.tenant("Open Arms", Tier::Pro).await;
    let (_, admin) = app.member(&t, "admin@oa.test", Role::Admin).await;
    let bad = TenantPatch {
        name: Some("Renamed".into()),
        settings: Some(TenantSettingsPatch {
            description: Some("x".repeat(501)),
            domain: Some("https://openarms.example/contact".into()),
            config: Some(config(&[
                ("Bad Key", serde_json::json!("x")),
                ("list", serde_json::json!([1, 2])),
                ("nothing", serde_json::Value::Null),
                ("object", serde_json::json!({ "a": 1 })),
            ])),
            ..Default::default()
        }),
        ..Default::default()
    };
    let err = admin.update_tenant("open-arms", &bad).await.unwrap_err();
    let p = err.problem().unwrap();
    assert_eq!(p.status, 422, "{p}");
    assert!(p.is(ProblemKind::Validation));
    for f in [
        "settings.description",
        "settings.domain",
        "settings.config",
        "settings.config.list",
        "settings.config.nothing",
        "settings.config.object",
    ] {
        assert!(p.field(f).is_some(), "no error for {f}: {p}");
    }
    assert!(p.field("settings.domain").unwrap().contains("example.com"));
    let many: Vec<(String, serde_json::Value)> = (0..51)
        .map(|i| (format!("k{i}"), serde_json::json!(i)))
        .collect();
    let many: Vec<(&str, serde_json::Value)> =
        many.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let err = admin
        .update_tenant(
            "open-arms",
            &settings(TenantSettingsPatch {
                config: Some(config(&many)),
                ..Default::default()
            }),
        )
        .await
        .unwrap_err();
    assert!(err.problem().unwrap().field("settings.config").is_some());
    let after = admin.tenant("open-arms").await.unwrap();
    assert_eq!(after.name, "Open Arms");
    assert_eq!(after.settings, t.settings);
}

#[tokio::test]
async fn a_tenant_admin_cannot_set_the_user_limit_and_is_told_why() {
    let app = spawn().await;
    let t = app.tenant("Open Arms", Tier::Starter).await;
    let (_, admin) = app.member(&t, "admin@oa.test", Role::Admin).await;
    for patch in [
        limit(Some(50)),
        TenantPatch {
            name: Some("Open Arms Ltd".into()),
            user_limit: Some(Some(50)),
            ..Default::default()
        },
    ] {
        let err = admin.update_tenant("open-arms", &patch).await.unwrap_err();
        assert_eq!(err.status(), Some(403));
        assert!(
            err.message().contains("platform admins"),
            "{}",
            err.message()
        );
    }
    let after = app.admin.tenant("open-arms").await.unwrap();
    assert_eq!(after.name, "Open Arms", "a refused request changes nothing");
    assert_eq!(after.user_limit_override, None);
    assert_eq!(after.usage.user_limit, Some(3));
    // Sending the value in force is no change, and allowed.
    admin
        .update_tenant("open-arms", &limit(None))
        .await
        .unwrap();
    // Out-of-range values are a 422 for a platform admin.
    for n in [0, 100_001] {
        let err = app
            .admin
            .update_tenant("open-arms", &limit(Some(n)))
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(422));
        assert!(err.problem().unwrap().field("user_limit").is_some());
    }
}

async fn add(app: &TestApp, slug: &str, email: &str) -> Result<(), switchboard::api::ApiError> {
    app.user(email, false).await;
    app.admin
        .add_member(
            slug,
            &NewMember {
                email: email.into(),
                role: Role::Viewer,
            },
        )
        .await
        .map(|_| ())
}

#[tokio::test]
async fn an_override_replaces_the_tier_limit_above_and_below_it() {
    let app = spawn().await;
    app.tenant("Small", Tier::Starter).await;
    // Above the tier's 3.
    let t = app
        .admin
        .update_tenant("small", &limit(Some(5)))
        .await
        .unwrap();
    assert_eq!(t.user_limit_override, Some(5));
    assert_eq!(t.usage.user_limit, Some(5));
    for i in 0..5 {
        add(&app, "small", &format!("u{i}@small.test"))
            .await
            .unwrap();
    }
    let err = add(&app, "small", "u5@small.test").await.unwrap_err();
    assert_eq!(err.status(), Some(402));
    assert!(
        err.message().contains("platform admin"),
        "{}",
        err.message()
    );
    assert_eq!(app.admin.usage("small").await.unwrap().user_limit, Some(5));
    // An invitation accepted at the limit is refused too (the store's check).
    app.admin
        .update_tenant("small", &limit(Some(6)))
        .await
        .unwrap();
    let created = app
        .admin
        .create_invitation(
            "small",
            &NewInvitation {
                email: "late@small.test".into(),
                role: Role::Viewer,
            },
        )
        .await
        .unwrap();
    add(&app, "small", "u6@small.test").await.unwrap();
    let err = app
        .anon()
        .accept_invitation(&AcceptInvitation {
            token: created.token,
            password: Some("a long password".into()),
            name: Some("Late".into()),
        })
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(402), "{}", err.message());
    // Below the tier of an enterprise (unlimited) tenant.
    app.tenant("Big", Tier::Enterprise).await;
    app.admin
        .update_tenant("big", &limit(Some(1)))
        .await
        .unwrap();
    add(&app, "big", "b0@big.test").await.unwrap();
    assert_eq!(
        add(&app, "big", "b1@big.test").await.unwrap_err().status(),
        Some(402)
    );
    // null goes back to the tier's limit.
    let t = app.admin.update_tenant("big", &limit(None)).await.unwrap();
    assert_eq!((t.user_limit_override, t.usage.user_limit), (None, None));
    add(&app, "big", "b2@big.test").await.unwrap();
    // Set at creation too, and audited.
    let created = app
        .admin
        .create_tenant(&NewTenant {
            name: "Seeded".into(),
            user_limit: Some(40),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(created.usage.user_limit, Some(40));
    let audit = app
        .admin
        .audit(
            "big",
            &AuditFilter {
                action: Some("tenant.update".into()),
                ..Default::default()
            },
            &PageQuery::default(),
        )
        .await
        .unwrap()
        .items;
    assert!(
        audit
            .iter()
            .any(|e| e.changes["user_limit"] == serde_json::json!({ "from": 1, "to": null })),
        "{audit:?}"
    );
}
