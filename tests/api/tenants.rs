use std::collections::BTreeMap;

use switchboard::domain::{
    Grants, NewTenant, PageQuery, Permission, ProblemKind, Role, StageInput, TenantPatch,
    TenantSettingsPatch, TenantStatus, Tier,
};

use crate::common::spawn;

#[tokio::test]
async fn create_derives_a_slug_and_reads_by_id_or_slug() {
    let app = spawn().await;
    let t = app.tenant("Open Arms", Tier::Pro).await;
    assert_eq!(t.slug, "open-arms");
    assert_eq!(t.tier, Tier::Pro);
    assert_eq!(t.status, TenantStatus::Active);
    assert_eq!(t.usage.user_limit, Some(10));
    assert_eq!(t.usage.lead_limit, Some(1000));
    assert_eq!(t.settings.pipeline_stages[0].id, "new");
    assert_eq!(app.admin.tenant("open-arms").await.unwrap().id, t.id);
    assert_eq!(
        app.admin.tenant(&t.id.to_string()).await.unwrap().slug,
        "open-arms"
    );

    let dup = app
        .admin
        .create_tenant(&NewTenant {
            name: "Open Arms".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(dup.status(), Some(409));
    assert!(dup.problem().unwrap().field("slug").is_some());
}

#[tokio::test]
async fn invalid_input_names_every_bad_field_and_stores_nothing() {
    let app = spawn().await;
    let err = app
        .admin
        .create_tenant(&NewTenant {
            name: "  ".into(),
            slug: Some("Not A Slug".into()),
            tier: None,
            settings: Some(TenantSettingsPatch {
                sla_hours: Some(0),
                manager_email: Some("nope".into()),
                pipeline_stages: Some(vec![StageInput::named("new"), StageInput::named("New")]),
                ..Default::default()
            }),
            user_limit: None,
        })
        .await
        .unwrap_err();
    let p = err.problem().unwrap();
    assert_eq!(p.status, 422);
    assert!(p.is(ProblemKind::Validation));
    for f in [
        "name",
        "slug",
        "settings.sla_hours",
        "settings.manager_email",
        "settings.pipeline_stages",
    ] {
        assert!(p.field(f).is_some(), "no error for {f}: {p}");
    }
    let all = app.admin.list_tenants(&PageQuery::default()).await.unwrap();
    assert_eq!(all.items.len(), 1, "only the platform tenant exists");
    assert!(all.items[0].is_platform);
}

#[tokio::test]
async fn settings_update_masks_secrets_and_audits_names_only() {
    let app = spawn().await;
    let t = app.tenant("Open Arms", Tier::Starter).await;
    let secret = "crm-secret-value-0123456789";
    let updated = app
        .admin
        .update_tenant(
            "open-arms",
            &TenantPatch {
                name: Some("Open Arms Ltd".into()),
                settings: Some(TenantSettingsPatch {
                    sla_hours: Some(4),
                    pipeline_stages: Some(vec![
                        StageInput::keep("new", "New"),
                        StageInput::keep("won", "Won"),
                    ]),
                    spam_keywords: Some(vec!["casino".into()]),
                    manager_email: Some("boss@openarms.test".into()),
                    secrets: Some(BTreeMap::from([("crm_token".into(), secret.into())])),
                    sla_at_risk_percent: Some(50),
                    draft_categories: None,
                    business_hours: None,
                    description: None,
                    domain: None,
                    config: None,
                }),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.name, "Open Arms Ltd");
    assert_eq!(updated.settings.sla_hours, 4);
    assert_eq!(updated.settings.sla_at_risk_percent, 50);
    let ids: Vec<&str> = updated
        .settings
        .pipeline_stages
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(ids, ["new", "won"]);
    assert_eq!(updated.settings.secrets["crm_token"], "••••6789");
    let read = app.admin.tenant(&t.id.to_string()).await.unwrap();
    assert_eq!(read.settings.secrets["crm_token"], "••••6789");

    let audit = app
        .admin
        .list_audit("open-arms", &PageQuery::default())
        .await
        .unwrap();
    let text = serde_json::to_string(&audit).unwrap();
    assert!(!text.contains(secret), "the audit log leaked a secret");
    assert_eq!(audit.items[0].action, "tenant.update");
    assert!(text.contains("settings.secrets.crm_token"));
    assert_eq!(audit.items.last().unwrap().action, "tenant.create");

    // A failed update changes nothing.
    let err = app
        .admin
        .update_tenant(
            "open-arms",
            &TenantPatch {
                name: Some("Renamed".into()),
                settings: Some(TenantSettingsPatch {
                    sla_hours: Some(10_000),
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422));
    assert_eq!(
        app.admin.tenant("open-arms").await.unwrap().name,
        "Open Arms Ltd"
    );
}

#[tokio::test]
async fn suspension_makes_a_tenant_read_only_for_its_members() {
    let app = spawn().await;
    let t = app.tenant("Open Arms", Tier::Pro).await;
    let (_, admin) = app.member(&t, "admin@oa.test", Role::Admin).await;
    let s = app.admin.suspend_tenant("open-arms").await.unwrap();
    assert_eq!(s.status, TenantStatus::Suspended);
    // Members can still read, but not change.
    admin.tenant("open-arms").await.unwrap();
    let err = admin
        .update_tenant(
            "open-arms",
            &TenantPatch {
                name: Some("x".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(423));
    assert!(err.is(ProblemKind::Suspended));
    // Only platform admins suspend or reactivate.
    assert_eq!(
        admin
            .reactivate_tenant("open-arms")
            .await
            .unwrap_err()
            .status(),
        Some(403)
    );
    let r = app.admin.reactivate_tenant("open-arms").await.unwrap();
    assert_eq!(r.status, TenantStatus::Active);
    let p = app.admin.suspend_tenant("platform").await.unwrap_err();
    assert_eq!(p.status(), Some(409));
}

#[tokio::test]
async fn a_tier_change_needs_settings_billing() {
    let app = spawn().await;
    let t = app.tenant("Open Arms", Tier::Starter).await;
    let (_, manager) = app.member(&t, "manager@oa.test", Role::Manager).await;
    let (agent, agent_client) = app.member(&t, "agent@oa.test", Role::Agent).await;
    let (_, admin) = app.member(&t, "admin@oa.test", Role::Admin).await;
    let to = |tier| TenantPatch {
        tier: Some(tier),
        ..Default::default()
    };
    // A manager has settings, not billing.
    let err = manager
        .update_tenant("open-arms", &to(Tier::Enterprise))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403));
    assert!(err.to_string().contains("settings:billing"), "{err}");
    // The tenant's admin has billing.
    let up = admin
        .update_tenant("open-arms", &to(Tier::Pro))
        .await
        .unwrap();
    assert_eq!(up.tier, Tier::Pro);
    // Billing granted to an agent: the tier, and nothing else.
    let grants = Grants {
        granted: vec![Permission::SettingsBilling],
        withdrawn: vec![],
    };
    admin
        .set_member_permissions("open-arms", agent.id, &grants)
        .await
        .unwrap();
    let up = agent_client
        .update_tenant("open-arms", &to(Tier::Enterprise))
        .await
        .unwrap();
    assert_eq!(up.usage.user_limit, None);
    let rename = TenantPatch {
        name: Some("Closed Arms".into()),
        tier: Some(Tier::Starter),
        ..Default::default()
    };
    let err = agent_client
        .update_tenant("open-arms", &rename)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403));
    assert_eq!(
        app.admin.tenant("open-arms").await.unwrap().tier,
        Tier::Enterprise
    );
    let audit = admin
        .list_audit("open-arms", &Default::default())
        .await
        .unwrap();
    assert!(
        audit.items.iter().any(|e| e.action == "member.permissions"),
        "the grant is audited"
    );
}

#[tokio::test]
async fn lists_paginate_with_stable_cursors() {
    let app = spawn().await;
    for i in 0..5 {
        app.tenant(&format!("Tenant {i}"), Tier::Starter).await;
    }
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = app
            .admin
            .list_tenants(&PageQuery {
                limit: Some(2),
                cursor: cursor.clone(),
            })
            .await
            .unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.into_iter().map(|t| t.slug));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen.len(), 6, "{seen:?}");
    let mut dedup = seen.clone();
    dedup.dedup();
    assert_eq!(dedup, seen);
    let bad = app
        .admin
        .list_tenants(&PageQuery {
            limit: None,
            cursor: Some("garbage".into()),
        })
        .await
        .unwrap_err();
    assert_eq!(bad.status(), Some(422));
    assert!(bad.problem().unwrap().field("cursor").is_some());
}

#[tokio::test]
async fn members_see_only_their_tenants() {
    let app = spawn().await;
    let a = app.tenant("Alpha", Tier::Pro).await;
    app.tenant("Beta", Tier::Pro).await;
    let (_, viewer) = app.member(&a, "v@alpha.test", Role::Viewer).await;
    let list = viewer.list_tenants(&PageQuery::default()).await.unwrap();
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.items[0].slug, "alpha");
    assert_eq!(viewer.tenant("beta").await.unwrap_err().status(), Some(404));
    let me = viewer.me().await.unwrap();
    assert_eq!(me.memberships.len(), 1);
    assert_eq!(me.memberships[0].role, Role::Viewer);
    let err = viewer
        .create_tenant(&NewTenant {
            name: "Mine".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403));
}
