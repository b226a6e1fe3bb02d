//! Platform settings (issue 16): only platform admins read or change them;
//! their defaults shape a tenant created without saying otherwise; and
//! they may forbid tenant admins to delete their tenant (platform admins
//! still may).

use switchboard::domain::business_hours::BusinessHours;
use switchboard::domain::platform::{PlatformSettings, TenantDefaults};
use switchboard::domain::{
    AuditFilter, NewTenant, PageQuery, ProblemKind, Role, TenantSettingsPatch, Tier,
};

use crate::common::spawn;

fn strict() -> PlatformSettings {
    PlatformSettings {
        tenant_defaults: TenantDefaults {
            tier: Tier::Pro,
            sla_hours: 4,
            pipeline_stages: vec!["Inbox".into(), "Quoted".into(), "Booked".into()],
            business_hours: None,
        },
        tenant_admins_may_delete: false,
    }
}

#[tokio::test]
async fn only_platform_admins_read_or_change_the_platform_settings() {
    let app = spawn().await;
    let t = app.tenant("Open Arms", Tier::Pro).await;
    let (_, admin) = app.member(&t, "admin@oa.test", Role::Admin).await;
    let (_, viewer) = app.member(&t, "viewer@oa.test", Role::Viewer).await;
    let (_, loner) = app.user("loner@nowhere.test", false).await;
    for client in [&admin, &viewer, &loner] {
        let err = client.platform_settings().await.unwrap_err();
        assert_eq!(err.status(), Some(403));
        let err = client.put_platform_settings(&strict()).await.unwrap_err();
        assert_eq!(err.status(), Some(403));
        assert!(
            err.message().contains("platform admins"),
            "{}",
            err.message()
        );
    }
    let err = app.anon().platform_settings().await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    // Nothing changed: the built-in defaults are still in force.
    assert_eq!(
        app.admin.platform_settings().await.unwrap(),
        PlatformSettings::default()
    );
}

#[tokio::test]
async fn defaults_apply_to_a_new_tenant_unless_the_request_says_otherwise() {
    let app = spawn().await;
    let hours: BusinessHours = serde_json::from_value(serde_json::json!({
        "time_zone": "Europe/London",
        "week": { "mon": ["09:00-17:00"] }
    }))
    .unwrap();
    let settings = PlatformSettings {
        tenant_defaults: TenantDefaults {
            business_hours: Some(hours.clone()),
            ..strict().tenant_defaults
        },
        tenant_admins_may_delete: true,
    };
    let saved = app.admin.put_platform_settings(&settings).await.unwrap();
    assert_eq!(saved, settings);
    assert_eq!(app.admin.platform_settings().await.unwrap(), settings);

    let plain = app
        .admin
        .create_tenant(&NewTenant {
            name: "Plain".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(plain.tier, Tier::Pro);
    assert_eq!(plain.settings.sla_hours, 4);
    let stages: Vec<(&str, &str)> = plain
        .settings
        .pipeline_stages
        .iter()
        .map(|s| (s.id.as_str(), s.name.as_str()))
        .collect();
    assert_eq!(
        stages,
        [
            ("inbox", "Inbox"),
            ("quoted", "Quoted"),
            ("booked", "Booked")
        ]
    );
    assert_eq!(plain.settings.business_hours, Some(hours));

    let own = app
        .admin
        .create_tenant(&NewTenant {
            name: "Own Way".into(),
            tier: Some(Tier::Starter),
            settings: Some(TenantSettingsPatch {
                sla_hours: Some(48),
                business_hours: Some(None),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(own.tier, Tier::Starter);
    assert_eq!(own.settings.sla_hours, 48);
    assert_eq!(own.settings.business_hours, None);
    assert_eq!(own.settings.pipeline_stages.len(), 3, "the default stages");

    // The change is audited on the platform tenant, field by field.
    let audit = app
        .admin
        .audit(
            "platform",
            &AuditFilter {
                action: Some("platform.settings.update".into()),
                ..Default::default()
            },
            &PageQuery::default(),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(
        audit[0].changes["tenant_defaults.tier"],
        serde_json::json!({ "from": "starter", "to": "pro" })
    );
    assert!(audit[0].changes.get("tenant_admins_may_delete").is_none());
}

#[tokio::test]
async fn bad_platform_settings_are_a_422_naming_each_field_and_change_nothing() {
    let app = spawn().await;
    let mut bad = strict();
    bad.tenant_defaults.sla_hours = 0;
    bad.tenant_defaults.pipeline_stages = vec!["New".into(), "new".into()];
    let err = app.admin.put_platform_settings(&bad).await.unwrap_err();
    let p = err.problem().unwrap();
    assert_eq!(p.status, 422);
    assert!(p.is(ProblemKind::Validation));
    for f in [
        "tenant_defaults.sla_hours",
        "tenant_defaults.pipeline_stages",
    ] {
        assert!(p.field(f).is_some(), "no error for {f}: {p}");
    }
    assert_eq!(
        app.admin.platform_settings().await.unwrap(),
        PlatformSettings::default()
    );
}

#[tokio::test]
async fn a_platform_setting_may_forbid_tenant_admins_to_delete_their_tenant() {
    let app = spawn().await;
    let t = app.tenant("Alpha", Tier::Pro).await;
    let (_, admin) = app.member(&t, "admin@alpha.test", Role::Admin).await;
    let (_, agent) = app.member(&t, "agent@alpha.test", Role::Agent).await;
    app.admin.put_platform_settings(&strict()).await.unwrap();

    let err = admin.delete_tenant("alpha").await.unwrap_err();
    assert_eq!(err.status(), Some(403));
    assert!(
        err.message().contains("a platform setting forbids"),
        "{}",
        err.message()
    );
    // Others still hear that their role lacks the permission.
    let err = agent.delete_tenant("alpha").await.unwrap_err();
    assert_eq!(err.status(), Some(403));
    assert!(err.message().contains("tenant:delete"), "{}", err.message());
    assert!(app.admin.tenant("alpha").await.is_ok(), "nothing changed");

    // Allowed again, the tenant's admin may.
    app.admin
        .put_platform_settings(&PlatformSettings::default())
        .await
        .unwrap();
    app.tenant("Beta", Tier::Pro).await;
    app.admin.put_platform_settings(&strict()).await.unwrap();
    // A platform admin always may.
    app.admin.delete_tenant("beta").await.unwrap();
    app.admin
        .put_platform_settings(&PlatformSettings::default())
        .await
        .unwrap();
    admin.delete_tenant("alpha").await.unwrap();
    for _ in 0..400 {
        if app.store.pending_purges().await.unwrap().is_empty() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the purge did not finish");
}
