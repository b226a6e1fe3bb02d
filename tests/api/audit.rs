//! The audit log's filters and what an edit records.

use switchboard::domain::{AuditFilter, LeadPatch, PageQuery, Role, Tier};

use crate::common::{lead, spawn};

#[tokio::test]
async fn the_audit_log_filters_by_actor_action_resource_and_time_and_shows_before_and_after() {
    let app = spawn().await;
    let tenant = app.tenant("Open Arms", Tier::Pro).await;
    let (_, manager) = app
        .member(&tenant, "manager@openarms.test", Role::Manager)
        .await;
    let started = chrono::Utc::now();
    let created = manager
        .create_lead("open-arms", &lead("Jane Doe"))
        .await
        .unwrap();
    let patch = LeadPatch {
        name: Some("Jane Smith".into()),
        stage: Some("contacted".into()),
        ..Default::default()
    };
    manager
        .update_lead("open-arms", created.id, &patch)
        .await
        .unwrap();
    let key = app.ingest_key("open-arms").await;

    let by = |filter: AuditFilter| {
        let admin = app.admin.clone();
        async move {
            let page = PageQuery::default();
            admin
                .audit("open-arms", &filter, &page)
                .await
                .unwrap()
                .items
        }
    };
    let leads = by(AuditFilter {
        action: Some("lead.".into()),
        ..Default::default()
    })
    .await;
    let actions: Vec<&str> = leads.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["lead.update", "lead.create"], "newest first");
    let edit = &leads[0];
    assert_eq!(edit.actor_email.as_deref(), Some("manager@openarms.test"));
    assert_eq!(edit.changes["before"]["name"], "Jane Doe");
    assert_eq!(edit.changes["after"]["name"], "Jane Smith");
    assert_eq!(edit.changes["before"]["stage"], "new");
    assert_eq!(edit.changes["after"]["stage"], "contacted");

    let mine = by(AuditFilter {
        actor: Some("MANAGER@".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(mine.len(), 2, "case-insensitive part of the email");
    let keys = by(AuditFilter {
        resource: Some("api_key".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].actor_email.as_deref(), Some("root@platform.test"));
    let body = serde_json::to_string(&keys[0].changes).unwrap();
    assert!(!body.contains(&key), "never the secret");
    let one = by(AuditFilter {
        resource_id: Some(created.id.to_string()),
        ..Default::default()
    })
    .await;
    assert_eq!(one.len(), 2);
    let none = by(AuditFilter {
        to: Some(started - chrono::Duration::seconds(1)),
        action: Some("lead.".into()),
        ..Default::default()
    })
    .await;
    assert!(none.is_empty());
    let since = by(AuditFilter {
        from: Some(started - chrono::Duration::seconds(1)),
        action: Some("".into()),
        ..Default::default()
    })
    .await;
    assert!(since.len() >= 3, "{since:?}");
}

/// What the console's audit view does past its first page: the same filter,
/// time bounds included, with the previous page's cursor.
#[tokio::test]
async fn the_audit_log_pages_with_a_cursor_under_a_time_filter() {
    let app = spawn().await;
    app.tenant("Open Arms", Tier::Pro).await;
    let started = chrono::Utc::now() - chrono::Duration::seconds(1);
    for i in 0..5 {
        app.admin
            .create_lead("open-arms", &lead(&format!("Lead {i}")))
            .await
            .unwrap();
    }
    let filter = AuditFilter {
        action: Some("lead.create".into()),
        from: Some(started),
        to: Some(chrono::Utc::now() + chrono::Duration::minutes(1)),
        ..Default::default()
    };
    let mut seen = Vec::new();
    let mut cursor = None;
    for _ in 0..5 {
        let page = PageQuery {
            limit: Some(2),
            cursor: cursor.take(),
        };
        let got = app.admin.audit("open-arms", &filter, &page).await.unwrap();
        assert!(got.items.len() <= 2);
        seen.extend(got.items.into_iter().map(|e| (e.created_at, e.id)));
        match got.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5, "every event once: {seen:?}");
    assert!(
        seen.windows(2).all(|w| w[0].0 >= w[1].0),
        "newest first across pages: {seen:?}"
    );
    let mut ids: Vec<_> = seen.iter().map(|(_, id)| *id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5, "no event twice: {seen:?}");
    // A time window before the leads were made pages to nothing.
    let before = AuditFilter {
        to: Some(started),
        ..filter
    };
    let none = app
        .admin
        .audit("open-arms", &before, &PageQuery::default())
        .await
        .unwrap();
    assert!(
        none.items.is_empty() && none.next_cursor.is_none(),
        "{none:?}"
    );
}
