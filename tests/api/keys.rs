use sqlx::Connection;
use switchboard::domain::{secret, ApiKeyScope, NewApiKey, PageQuery, Role, Tier};

use crate::common::{spawn, TestApp};

/// What the database holds for the tenant's one key: its stored hash, how
/// many columns hold the plain key, how many audit entries mention it.
async fn stored_key_facts(app: &TestApp, tenant: uuid::Uuid, key: &str) -> (String, i64, i64) {
    let pattern = format!("%{}%", &key[10..]);
    if let Some(owner) = &app.owner_url {
        let mut db = sqlx::PgConnection::connect(owner).await.unwrap();
        let hash = sqlx::query_scalar("SELECT key_hash FROM api_keys WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_one(&mut db)
            .await
            .unwrap();
        let leaks = sqlx::query_scalar(
            "SELECT count(*) FROM api_keys WHERE name = $1 OR prefix = $1 OR key_hash = $1",
        )
        .bind(key)
        .fetch_one(&mut db)
        .await
        .unwrap();
        let audit =
            sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE changes::text LIKE $1")
                .bind(&pattern)
                .fetch_one(&mut db)
                .await
                .unwrap();
        return (hash, leaks, audit);
    }
    let mut db = sqlx::SqliteConnection::connect(&app.database_url)
        .await
        .unwrap();
    let hash = sqlx::query_scalar("SELECT key_hash FROM api_keys WHERE tenant_id = ?")
        .bind(tenant.to_string())
        .fetch_one(&mut db)
        .await
        .unwrap();
    let leaks = sqlx::query_scalar(
        "SELECT count(*) FROM api_keys WHERE name = ?1 OR prefix = ?1 OR key_hash = ?1",
    )
    .bind(key)
    .fetch_one(&mut db)
    .await
    .unwrap();
    let audit = sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE changes LIKE ?")
        .bind(&pattern)
        .fetch_one(&mut db)
        .await
        .unwrap();
    (hash, leaks, audit)
}

#[tokio::test]
async fn keys_are_shown_once_stored_hashed_and_revocable() {
    let app = spawn().await;
    let t = app.tenant("Open Arms", Tier::Pro).await;
    let created = app
        .admin
        .create_api_key(
            "open-arms",
            &NewApiKey {
                name: "Website form".into(),
                scope: None,
                workspace_id: None,
            },
        )
        .await
        .unwrap();
    let key = created.key.clone();
    assert!(key.starts_with("sbk_"));
    assert!(key.len() >= 4 + 43, "at least 256 bits of base62");
    assert!(key[4..].chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(created.api_key.scope, ApiKeyScope::LeadsIngest);
    assert!(key.starts_with(&created.api_key.prefix));
    assert!(key.ends_with(&created.api_key.last_four));

    let listed = app
        .admin
        .list_api_keys("open-arms", &PageQuery::default())
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    assert!(!serde_json::to_string(&listed).unwrap().contains(&key));

    // The store holds the SHA-256, never the key.
    let (hash, leaks, audit_leak) = stored_key_facts(&app, t.id, &key).await;
    assert_eq!(hash, secret::hash(&key));
    assert_eq!(leaks, 0);
    assert_eq!(audit_leak, 0);

    app.admin
        .revoke_api_key("open-arms", created.api_key.id)
        .await
        .unwrap();
    let listed = app
        .admin
        .list_api_keys("open-arms", &PageQuery::default())
        .await
        .unwrap();
    assert!(listed.items[0].revoked_at.is_some());
    let audit = app
        .admin
        .list_audit("open-arms", &PageQuery::default())
        .await
        .unwrap();
    assert_eq!(audit.items[0].action, "api_key.revoke");
    assert_eq!(audit.items[1].action, "api_key.create");
    assert_eq!(
        audit.items[0].actor_email.as_deref(),
        Some("root@platform.test")
    );

    let bad = app
        .admin
        .create_api_key(
            "open-arms",
            &NewApiKey {
                name: " ".into(),
                scope: None,
                workspace_id: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(bad.status(), Some(422));
    assert!(bad.problem().unwrap().field("name").is_some());
}

#[tokio::test]
async fn another_tenants_key_cannot_be_revoked_or_seen() {
    let app = spawn().await;
    let a = app.tenant("Alpha", Tier::Pro).await;
    let b = app.tenant("Beta", Tier::Pro).await;
    let (_, a_admin) = app.member(&a, "admin@a.test", Role::Admin).await;
    let _ = b;
    let bkey = app
        .admin
        .create_api_key(
            "beta",
            &NewApiKey {
                name: "B form".into(),
                scope: None,
                workspace_id: None,
            },
        )
        .await
        .unwrap();
    // Through A's path, B's key does not exist.
    let err = a_admin
        .revoke_api_key("alpha", bkey.api_key.id)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    let err = a_admin
        .revoke_api_key("beta", bkey.api_key.id)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    let keys = app
        .admin
        .list_api_keys("beta", &PageQuery::default())
        .await
        .unwrap();
    assert!(keys.items[0].revoked_at.is_none());
}

#[tokio::test]
async fn the_audit_log_paginates_newest_first() {
    let app = spawn().await;
    app.tenant("Open Arms", Tier::Pro).await;
    for i in 0..5 {
        app.admin
            .create_api_key(
                "open-arms",
                &NewApiKey {
                    name: format!("k{i}"),
                    scope: None,
                    workspace_id: None,
                },
            )
            .await
            .unwrap();
    }
    let admin = &app.admin;
    let all = admin
        .all(|p| async move { admin.list_audit("open-arms", &p).await })
        .await
        .unwrap();
    assert_eq!(all.len(), 6);
    let first = app
        .admin
        .list_audit(
            "open-arms",
            &PageQuery {
                limit: Some(2),
                cursor: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(first.items.len(), 2);
    let second = app
        .admin
        .list_audit(
            "open-arms",
            &PageQuery {
                limit: Some(2),
                cursor: first.next_cursor,
            },
        )
        .await
        .unwrap();
    assert!(second.items[0].created_at <= first.items[1].created_at);
    assert_eq!(second.items[0].id, all[2].id);
    assert_eq!(all.last().unwrap().action, "tenant.create");
}
