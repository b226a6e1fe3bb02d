//! OWASP API4 (unrestricted resource consumption) across tenants: one
//! tenant's backlog of webhook deliveries cannot delay every other tenant's.
//! Against the store directly (no dispatcher racing the claims), on SQLite
//! or, with SWITCHBOARD_TEST_DATABASE_URL, PostgreSQL.

use chrono::{Duration, Utc};
use switchboard::domain::{LeadSource, TenantSettings, Tier};
use switchboard::store::{self, Actor, DynStore, LeadLimit, NewLeadRow, TenantRow, WebhookRow};
use uuid::Uuid;

use crate::common::{lead, postgres_admin_url, PgDatabase};

struct Db {
    store: DynStore,
    _dir: tempfile::TempDir,
    _pg: Option<PgDatabase>,
}

async fn db() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let pg = match postgres_admin_url() {
        Some(admin) => Some(PgDatabase::create(&admin).await),
        None => None,
    };
    let url = match &pg {
        Some(pg) => pg.app_url.clone(),
        None => format!("sqlite://{}", dir.path().join("fair.db").display()),
    };
    Db {
        store: store::open(&url).await.unwrap(),
        _dir: dir,
        _pg: pg,
    }
}

/// A tenant with one webhook on every lead event and `leads` new leads.
async fn tenant_with_backlog(store: &DynStore, slug: &str, leads: usize) -> Uuid {
    let actor = Actor::system();
    let tenant = store
        .create_tenant(
            &actor,
            TenantRow {
                name: slug.into(),
                slug: slug.into(),
                tier: Tier::Enterprise,
                settings: TenantSettings::default(),
                user_limit: None,
            },
        )
        .await
        .unwrap();
    let now = Utc::now();
    store
        .create_webhook(
            &actor,
            tenant.id,
            WebhookRow {
                url: "https://hooks.example.test/in".into(),
                events: vec!["lead.created".into()],
                enabled: true,
                secret: "whsec_test".into(),
            },
            now,
        )
        .await
        .unwrap();
    for i in 0..leads {
        let row = NewLeadRow {
            input: lead(&format!("{slug} lead {i}")),
            source: LeadSource::Api,
            stage: "new".into(),
            spam_reason: None,
            sla_due_at: now + Duration::hours(24),
            sla_at_risk_at: now + Duration::hours(20),
            received_at: None,
            workspace_id: None,
            import_key: None,
        };
        let limit = LeadLimit {
            tier: Tier::Enterprise,
            limit: None,
        };
        store
            .insert_lead(&actor, tenant.id, row, limit, None, now)
            .await
            .unwrap();
    }
    tenant.id
}

#[tokio::test]
async fn api4_one_tenants_webhook_backlog_does_not_delay_other_tenants() {
    let db = db().await;
    let noisy = tenant_with_backlog(&db.store, "noisy", 30).await;
    // The quiet tenants' events come after the whole backlog.
    let quiet_a = tenant_with_backlog(&db.store, "quiet-a", 1).await;
    let quiet_b = tenant_with_backlog(&db.store, "quiet-b", 1).await;
    let now = Utc::now() + Duration::seconds(1);
    let claimed = db
        .store
        .claim_deliveries(now, now + Duration::minutes(1), 4)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 4);
    let tenants: Vec<Uuid> = claimed.iter().map(|j| j.tenant_id).collect();
    assert!(tenants.contains(&quiet_a), "{tenants:?}");
    assert!(tenants.contains(&quiet_b), "{tenants:?}");
    assert_eq!(tenants.iter().filter(|t| **t == noisy).count(), 2);
}
