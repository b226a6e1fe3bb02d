use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use sqlx::Connection;
use switchboard::domain::{
    secret, ApiKeyScope, ApiKeyState, Channel, NewApiKey, NewWorkspace, PageQuery, Role, Tier,
};
use switchboard::server::clock::ManualClock;
use switchboard::server::ServerSettings;

use crate::common::{lead, spawn, spawn_with_clock, TestApp};

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

/// How many audit entries of the tenant hold `needle` anywhere in their
/// changes, read straight from the database.
async fn audit_mentions(app: &TestApp, tenant: uuid::Uuid, needle: &str) -> i64 {
    let pattern = format!("%{needle}%");
    if let Some(owner) = &app.owner_url {
        let mut db = sqlx::PgConnection::connect(owner).await.unwrap();
        return sqlx::query_scalar(
            "SELECT count(*) FROM audit_events WHERE tenant_id = $1 AND changes::text LIKE $2",
        )
        .bind(tenant)
        .bind(&pattern)
        .fetch_one(&mut db)
        .await
        .unwrap();
    }
    let mut db = sqlx::SqliteConnection::connect(&app.database_url)
        .await
        .unwrap();
    sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE tenant_id = ? AND changes LIKE ?")
        .bind(tenant.to_string())
        .bind(&pattern)
        .fetch_one(&mut db)
        .await
        .unwrap()
}

fn detail_of(err: &switchboard::api::ApiError) -> String {
    err.problem()
        .and_then(|p| p.detail.clone())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_rotated_key_works_through_its_overlap_and_is_refused_after() {
    let start = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let app = spawn_with_clock(ServerSettings::default(), clock.clone()).await;
    let t = app.tenant("Open Arms", Tier::Pro).await;
    let ws = app
        .admin
        .create_workspace(
            "open-arms",
            &NewWorkspace {
                name: "Website".into(),
                channel: Channel::WebForm,
                agent_id: None,
                strategy_active: false,
            },
        )
        .await
        .unwrap();
    let old = app.form_key("open-arms", Some(ws.id)).await;
    let anon = app.anon();
    anon.ingest_lead(&old.key, &lead("Before Rotation"), None)
        .await
        .unwrap();

    let rotated = app
        .admin
        .rotate_api_key("open-arms", old.api_key.id, 60)
        .await
        .unwrap();
    // The new key: another secret, the old one's name, scope and workspace.
    assert_ne!(rotated.key, old.key);
    assert!(rotated.key.starts_with(&rotated.api_key.prefix));
    assert_eq!(rotated.api_key.name, "Website form");
    assert_eq!(rotated.api_key.scope, ApiKeyScope::LeadsIngest);
    assert_eq!(rotated.api_key.workspace_id, Some(ws.id));
    assert_eq!(rotated.api_key.state(start), ApiKeyState::Active);
    // The old key: replaced, expiring at now + 60 minutes.
    let until = start + Duration::minutes(60);
    assert_eq!(rotated.previous.id, old.api_key.id);
    assert_eq!(rotated.previous.replaced_by, Some(rotated.api_key.id));
    assert_eq!(rotated.previous.expires_at, Some(until));
    assert!(rotated.previous.revoked_at.is_none());

    // The list says the same, and never holds either secret.
    let listed = app
        .admin
        .list_api_keys("open-arms", &PageQuery::default())
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 2);
    let json = serde_json::to_string(&listed).unwrap();
    assert!(!json.contains(&old.key) && !json.contains(&rotated.key));
    let listed_old = listed
        .items
        .iter()
        .find(|k| k.id == old.api_key.id)
        .unwrap();
    assert_eq!(listed_old.expires_at, Some(until));
    assert_eq!(listed_old.replaced_by, Some(rotated.api_key.id));

    // Within the overlap both keys post leads, into the bound workspace.
    clock.advance(Duration::minutes(59));
    let during = anon
        .ingest_lead(&old.key, &lead("During Overlap"), None)
        .await
        .unwrap();
    let lead_in = app.admin.lead("open-arms", during.id).await.unwrap();
    assert_eq!(lead_in.workspace_id, Some(ws.id));
    anon.ingest_lead(&rotated.key, &lead("New Key Early"), None)
        .await
        .unwrap();

    // At the end of the overlap the old key answers as a revoked one does.
    clock.advance(Duration::minutes(1));
    let expired = anon
        .ingest_lead(&old.key, &lead("After Overlap"), None)
        .await
        .unwrap_err();
    assert_eq!(expired.status(), Some(401));
    anon.ingest_lead(&rotated.key, &lead("New Key Later"), None)
        .await
        .unwrap();
    let other = app.form_key("open-arms", None).await;
    app.admin
        .revoke_api_key("open-arms", other.api_key.id)
        .await
        .unwrap();
    let revoked = anon
        .ingest_lead(&other.key, &lead("Revoked Key"), None)
        .await
        .unwrap_err();
    assert_eq!(revoked.status(), Some(401));
    assert_eq!(
        serde_json::to_value(expired.problem().unwrap()).unwrap(),
        serde_json::to_value(revoked.problem().unwrap()).unwrap(),
        "an expired key is not told apart from a revoked one"
    );

    // An expired key cannot be rotated again.
    let again = app
        .admin
        .rotate_api_key("open-arms", old.api_key.id, 60)
        .await
        .unwrap_err();
    assert_eq!(again.status(), Some(409));
    assert!(detail_of(&again).contains("expired"), "{again:?}");

    // The audit entry names the new key, never a secret.
    let audit = app
        .admin
        .list_audit("open-arms", &PageQuery::default())
        .await
        .unwrap();
    let entry = audit
        .items
        .iter()
        .find(|e| e.action == "api_key.rotate")
        .expect("a rotation entry");
    assert_eq!(entry.resource_id, old.api_key.id.to_string());
    assert_eq!(
        entry.changes["replaced_by"],
        serde_json::json!(rotated.api_key.id)
    );
    assert_eq!(entry.changes["overlap_minutes"], 60);
    let audit_json = serde_json::to_string(&audit).unwrap();
    for secret in [&old.key, &rotated.key] {
        assert!(!audit_json.contains(secret.as_str()));
        assert_eq!(audit_mentions(&app, t.id, &secret[10..]).await, 0);
        assert_eq!(audit_mentions(&app, t.id, &secret::hash(secret)).await, 0);
    }
}

#[tokio::test]
async fn a_zero_overlap_revokes_the_old_key_at_once() {
    let app = spawn().await;
    app.tenant("Open Arms", Tier::Pro).await;
    let old = app.form_key("open-arms", None).await;
    let rotated = app
        .admin
        .rotate_api_key("open-arms", old.api_key.id, 0)
        .await
        .unwrap();
    assert!(rotated.previous.revoked_at.is_some());
    assert_eq!(rotated.previous.replaced_by, Some(rotated.api_key.id));
    let anon = app.anon();
    let err = anon
        .ingest_lead(&old.key, &lead("Too Late"), None)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401));
    anon.ingest_lead(&rotated.key, &lead("New Key"), None)
        .await
        .unwrap();
    // Revoked: rotating it again is a conflict that says why.
    let err = app
        .admin
        .rotate_api_key("open-arms", old.api_key.id, 0)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(409));
    assert!(detail_of(&err).contains("revoked"), "{err:?}");
}

#[tokio::test]
async fn rotating_is_refused_for_revoked_replaced_or_foreign_keys_and_long_overlaps() {
    let app = spawn().await;
    let a = app.tenant("Alpha", Tier::Pro).await;
    app.tenant("Beta", Tier::Pro).await;
    let (_, a_admin) = app.member(&a, "admin@a.test", Role::Admin).await;
    let (_, a_agent) = app.member(&a, "agent@a.test", Role::Agent).await;
    let bkey = app.form_key("beta", None).await;
    let akey = app.form_key("alpha", None).await;

    // Another tenant's key does not exist, by either path.
    for slug in ["alpha", "beta"] {
        let err = a_admin
            .rotate_api_key(slug, bkey.api_key.id, 60)
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(404), "{slug}");
    }
    let bkeys = app
        .admin
        .list_api_keys("beta", &PageQuery::default())
        .await
        .unwrap();
    assert_eq!(bkeys.items.len(), 1, "nothing was made in Beta");
    assert!(bkeys.items[0].expires_at.is_none());

    // Same permission as creating a key.
    let err = a_agent
        .rotate_api_key("alpha", akey.api_key.id, 60)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403));

    // Past seven days: 422 naming the field and the limit.
    let err = a_admin
        .rotate_api_key("alpha", akey.api_key.id, 10_081)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422));
    let problem = err.problem().unwrap();
    let field = problem.field("overlap_minutes").expect("names the field");
    assert!(field.contains("10080"), "{field}");

    // Once rotated, a key is rotated through its replacement.
    let rotated = a_admin
        .rotate_api_key("alpha", akey.api_key.id, 10_080)
        .await
        .unwrap();
    let err = a_admin
        .rotate_api_key("alpha", akey.api_key.id, 60)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(409));
    assert!(detail_of(&err).contains("already rotated"));
    a_admin
        .rotate_api_key("alpha", rotated.api_key.id, 60)
        .await
        .unwrap();

    // A revoked key is not rotated.
    let revoked = app.form_key("alpha", None).await;
    a_admin
        .revoke_api_key("alpha", revoked.api_key.id)
        .await
        .unwrap();
    let err = a_admin
        .rotate_api_key("alpha", revoked.api_key.id, 60)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(409));
    let keys = app
        .admin
        .list_api_keys("alpha", &PageQuery::default())
        .await
        .unwrap();
    assert_eq!(keys.items.len(), 4, "two rotations made two keys, no more");
}

/// A form ingest as the server makes it once it has read the key: the row
/// the write gets, with the owner the request read (maybe stale by now).
async fn write_with(
    app: &TestApp,
    owner: &switchboard::store::KeyOwner,
    name: &str,
) -> switchboard::store::KeyedIngest {
    use switchboard::domain::LeadSource;
    use switchboard::store::{Actor, LeadLimit, NewLeadRow};
    let now = app.state.clock.now();
    let row = NewLeadRow {
        input: lead(name),
        source: LeadSource::Form,
        stage: "new".into(),
        spam_reason: None,
        sla_due_at: now + Duration::hours(24),
        sla_at_risk_at: now + Duration::hours(18),
        received_at: None,
        workspace_id: None,
        import_key: None,
    };
    let limit = LeadLimit {
        tier: Tier::Pro,
        limit: Tier::Pro.lead_limit(),
    };
    app.store
        .ingest_with_key(owner, &Actor::system(), row, limit, None, now)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_key_that_expires_or_is_revoked_after_the_read_is_refused_inside_the_write() {
    use switchboard::store::KeyedIngest;
    let start = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let app = spawn_with_clock(ServerSettings::default(), clock.clone()).await;
    app.tenant("Open Arms", Tier::Pro).await;
    let first = app.form_key("open-arms", None).await;
    let second = app.form_key("open-arms", None).await;
    // What a request reads before it writes: both keys accepted now.
    let read = |key: String| {
        let store = app.store.clone();
        async move {
            store
                .ingest_context(&secret::hash(&key))
                .await
                .unwrap()
                .expect("the key is known")
                .0
        }
    };
    let stale_first = read(first.key.clone()).await;
    let stale_second = read(second.key.clone()).await;
    assert!(stale_first.accepts(start) && stale_second.accepts(start));
    assert!(matches!(
        write_with(&app, &stale_first, "While Valid").await,
        KeyedIngest::Done(_)
    ));

    // The first key is rotated with a one-minute overlap, and the minute
    // passes between the request's read and its write.
    app.admin
        .rotate_api_key("open-arms", first.api_key.id, 1)
        .await
        .unwrap();
    clock.advance(Duration::minutes(2));
    assert!(
        matches!(
            write_with(&app, &stale_first, "After Expiry").await,
            KeyedIngest::KeyRevoked
        ),
        "an expired key must not write"
    );
    // The second is revoked between the read and the write.
    app.admin
        .revoke_api_key("open-arms", second.api_key.id)
        .await
        .unwrap();
    assert!(
        matches!(
            write_with(&app, &stale_second, "After Revoke").await,
            KeyedIngest::KeyRevoked
        ),
        "a revoked key must not write"
    );
    // Nothing of the refused writes was stored.
    let leads = app
        .admin
        .list_leads("open-arms", &Default::default())
        .await
        .unwrap()
        .items;
    let names: Vec<&str> = leads.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, vec!["While Valid"]);
}
