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
