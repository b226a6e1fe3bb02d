//! Retention of outbound traffic, on whichever store the suite runs: webhook
//! deliveries delivered or given up longer ago than `outbound_retention`
//! go with their attempts, and so does mail sent that long ago; pending and
//! retrying deliveries (however old), unsent mail and recent rows stay. A
//! manual clock stands in for the month.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, TimeZone, Utc};
use switchboard::domain::{
    DeliveryStatus, NewTenant, PageQuery, RetryPolicy, TenantSettingsPatch, Tier, WebhookDelivery,
    WebhookPatch,
};
use switchboard::server::clock::ManualClock;
use switchboard::server::events::sweep_once;
use switchboard::server::mailer::{SmtpSettings, SmtpTls};
use switchboard::server::retention::purge_expired;
use switchboard::server::ServerSettings;
use switchboard::store::OutboundPurge;
use uuid::Uuid;

use crate::common::{lead, spawn_with_clock, TestApp};
use crate::email::tenant_with_manager;
use crate::receivers::{free_addr, HookReceiver, SmtpReceiver};
use crate::webhooks::{fast, hook, wait_delivery};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

/// A count over the raw tables (past RLS on PostgreSQL: as the owner).
async fn count(app: &TestApp, sql: &str) -> i64 {
    use sqlx::Connection;
    match &app.owner_url {
        Some(owner) => {
            let mut db = sqlx::PgConnection::connect(owner).await.unwrap();
            sqlx::query_scalar(sql).fetch_one(&mut db).await.unwrap()
        }
        None => {
            let mut db = sqlx::SqliteConnection::connect(&app.database_url)
                .await
                .unwrap();
            sqlx::query_scalar(sql).fetch_one(&mut db).await.unwrap()
        }
    }
}

async fn deliveries(app: &TestApp, webhook: Uuid) -> Vec<WebhookDelivery> {
    app.admin
        .webhook_deliveries("open-arms", webhook, &PageQuery::default())
        .await
        .unwrap()
        .items
}

#[tokio::test]
async fn finished_outbound_rows_past_retention_go_and_pending_or_recent_ones_stay() {
    let clock = Arc::new(ManualClock::new(t0()));
    let smtp_addr = free_addr().await;
    let _smtp = SmtpReceiver::start(smtp_addr).await;
    let settings = ServerSettings {
        // Give up after a minute, so a `failed` delivery is quick to make.
        outbound_retry: RetryPolicy {
            give_up_after: Duration::minutes(1),
            ..RetryPolicy::default()
        },
        outbound_retention: Duration::days(30),
        smtp: Some(SmtpSettings {
            host: smtp_addr.ip().to_string(),
            port: smtp_addr.port(),
            from: "alerts@switchboard.test".into(),
            username: None,
            password: None,
            tls: SmtpTls::None,
            ca_file: None,
            timeout: StdDuration::from_secs(5),
        }),
        ..fast()
    };
    let app = spawn_with_clock(settings, clock.clone()).await;
    let open_arms = tenant_with_manager(&app).await;
    // No manager email: its alert waits in the outbox, unsent, forever.
    let quiet = app
        .admin
        .create_tenant(&NewTenant {
            name: "Quiet".into(),
            tier: Some(Tier::Pro),
            settings: Some(TenantSettingsPatch {
                sla_hours: Some(4),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .id;
    let ok_rx = HookReceiver::start().await;
    let down_rx = HookReceiver::start().await;
    down_rx.answer(503);
    let events = ["lead.created"];
    let create = |url: String| {
        let admin = app.admin.clone();
        async move {
            admin
                .create_webhook("open-arms", &hook(&url, &events))
                .await
                .unwrap()
                .webhook
                .id
        }
    };
    let ok = create(ok_rx.url.clone()).await;
    let paused = create(down_rx.url.clone()).await;
    let gives_up = create(down_rx.url.clone()).await;

    // Day 0: one event for each endpoint, and breach alerts for both tenants.
    app.admin
        .create_lead("open-arms", &lead("Jane"))
        .await
        .unwrap();
    app.admin.create_lead("quiet", &lead("Joe")).await.unwrap();
    let pending = |d: &WebhookDelivery| d.attempt_count >= 1;
    wait_delivery(&app.admin, "open-arms", ok, |d| {
        d.status == DeliveryStatus::Delivered
    })
    .await;
    wait_delivery(&app.admin, "open-arms", paused, pending).await;
    wait_delivery(&app.admin, "open-arms", gives_up, pending).await;
    // Retrying, and then its endpoint is disabled: pending however old.
    let off = WebhookPatch {
        enabled: Some(false),
        ..Default::default()
    };
    app.admin
        .update_webhook("open-arms", paused, &off)
        .await
        .unwrap();
    clock.advance(Duration::seconds(61));
    wait_delivery(&app.admin, "open-arms", gives_up, |d| {
        d.status == DeliveryStatus::Failed
    })
    .await;
    clock.advance(Duration::hours(5));
    assert_eq!(sweep_once(&app.state).await.unwrap().breached, 2);
    wait_no_pending_mail(&app, open_arms).await;

    // Day 31: a recent delivery, a recent give-up and a recent email.
    clock.advance(Duration::days(31));
    app.admin
        .create_lead("open-arms", &lead("June"))
        .await
        .unwrap();
    let recent = wait_delivery(&app.admin, "open-arms", ok, |d| {
        d.status == DeliveryStatus::Delivered && d.created_at > t0() + Duration::days(31)
    })
    .await;
    clock.advance(Duration::hours(5));
    wait_delivery(&app.admin, "open-arms", gives_up, |d| {
        d.status == DeliveryStatus::Failed && d.created_at > t0() + Duration::days(31)
    })
    .await;
    assert_eq!(sweep_once(&app.state).await.unwrap().breached, 1);
    wait_no_pending_mail(&app, open_arms).await;

    let attempts_before = count(&app, "SELECT count(*) FROM webhook_attempts").await;
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL"
        )
        .await,
        2
    );
    let purged = purge_expired(&app.state).await.unwrap();
    // Day 0's delivered one and given-up one; day 0's sent email.
    assert_eq!((purged.deliveries, purged.mails), (2, 1), "{purged:?}");
    // Day 0's events went with their deliveries (event retention is 30
    // days too); those the kept deliveries carry stay.
    assert!(purged.events >= 1, "{purged:?}");

    let kept = deliveries(&app, ok).await;
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0].id, recent.id);
    let kept = deliveries(&app, gives_up).await;
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(kept[0].created_at > t0() + Duration::days(31));
    let kept = deliveries(&app, paused).await;
    assert_eq!(kept.len(), 1, "the pending one stays however old: {kept:?}");
    assert_eq!(kept[0].status, DeliveryStatus::Pending);
    assert_eq!(kept[0].created_at, t0());
    assert_eq!(kept[0].attempts.len(), 1);
    // The two deleted deliveries' attempts (1 + 2) went with them.
    assert_eq!(
        count(&app, "SELECT count(*) FROM webhook_attempts").await,
        attempts_before - 3
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM webhook_attempts a WHERE NOT EXISTS (SELECT 1 FROM \
             webhook_deliveries d WHERE d.tenant_id = a.tenant_id AND d.id = a.delivery_id)"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL"
        )
        .await,
        1
    );
    let unsent = app.store.pending_outbox(quiet).await.unwrap();
    assert_eq!(unsent.len(), 1, "unsent mail stays however old");

    // Nothing more is due.
    assert_eq!(
        purge_expired(&app.state).await.unwrap(),
        OutboundPurge::default()
    );
}

async fn wait_no_pending_mail(app: &TestApp, tenant: Uuid) {
    let deadline = std::time::Instant::now() + StdDuration::from_secs(10);
    while !app.store.pending_outbox(tenant).await.unwrap().is_empty() {
        assert!(std::time::Instant::now() < deadline, "mail never sent");
        tokio::time::sleep(StdDuration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn the_dispatcher_runs_retention_on_its_own() {
    let clock = Arc::new(ManualClock::new(t0()));
    let settings = ServerSettings {
        outbound_purge_interval: StdDuration::from_millis(50),
        ..fast()
    };
    let app = spawn_with_clock(settings, clock.clone()).await;
    app.tenant("Open Arms", Tier::Pro).await;
    let rx = HookReceiver::start().await;
    let webhook = app
        .admin
        .create_webhook("open-arms", &hook(&rx.url, &["lead.created"]))
        .await
        .unwrap()
        .webhook
        .id;
    app.admin
        .create_lead("open-arms", &lead("Jane"))
        .await
        .unwrap();
    wait_delivery(&app.admin, "open-arms", webhook, |d| {
        d.status == DeliveryStatus::Delivered
    })
    .await;
    // Within retention: several passes leave it.
    tokio::time::sleep(StdDuration::from_millis(200)).await;
    assert_eq!(deliveries(&app, webhook).await.len(), 1);

    clock.advance(Duration::days(30) + Duration::minutes(1));
    let deadline = std::time::Instant::now() + StdDuration::from_secs(10);
    while !deliveries(&app, webhook).await.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "no retention pass deleted it"
        );
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
}
