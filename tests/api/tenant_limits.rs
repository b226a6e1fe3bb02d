//! Per-tenant rate limits on signed-in calls and ingest, and the usage a
//! tenant is shown: on both stores (the two-process case is in
//! `processes.rs`).

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use switchboard::domain::problem::ProblemKind;
use switchboard::domain::usage::{RateKind, RateOverrides, UsageQuery};
use switchboard::domain::{AuditFilter, Role, Tier};
use switchboard::server::clock::ManualClock;
use switchboard::server::ServerSettings;

use crate::common::{lead, spawn_with_clock, TestApp};

/// A platform whose clock stands still at the start of a minute, so every
/// call of a test falls in one rate window.
async fn still() -> (TestApp, Arc<ManualClock>) {
    let start = Utc
        .with_ymd_and_hms(2026, 12, 5, 10, 0, 0)
        .single()
        .expect("a valid time");
    let clock = Arc::new(ManualClock::new(start));
    let app = spawn_with_clock(ServerSettings::default(), clock.clone()).await;
    (app, clock)
}

fn limits(api: Option<u32>, ingest: Option<u32>) -> RateOverrides {
    RateOverrides {
        api_per_minute: api,
        ingest_per_minute: ingest,
    }
}

#[tokio::test]
async fn members_past_the_tenant_api_limit_get_429_until_the_next_minute() {
    let (app, clock) = still().await;
    let t = app.tenant("Busy", Tier::Starter).await;
    let set = app
        .admin
        .set_tenant_limits("busy", &limits(Some(5), None))
        .await
        .unwrap();
    assert_eq!(set.api.per_minute, 5);
    assert!(set.api.overridden);
    assert_eq!(
        set.ingest.per_minute,
        RateKind::Ingest.tier_default(Tier::Starter)
    );
    let (_, member) = app.member(&t, "m@busy.test", Role::Viewer).await;

    // A stranger's calls answer 404 and spend nothing of the tenant's budget.
    let (_, stranger) = app.user("x@else.test", false).await;
    for _ in 0..10 {
        assert_eq!(
            stranger.tenant("busy").await.unwrap_err().status(),
            Some(404)
        );
    }

    for n in 0..5 {
        member
            .tenant("busy")
            .await
            .unwrap_or_else(|e| panic!("call {n}: {e:?}"));
    }
    let refused = member.tenant("busy").await.unwrap_err();
    assert!(refused.is(ProblemKind::RateLimited), "{refused:?}");
    let retry = refused.problem().and_then(|p| p.retry_after);
    assert_eq!(retry, Some(60), "the window opened at :00");
    let why = refused.message();
    assert!(
        why.contains("Busy has had its 5 API calls of this minute"),
        "{why}"
    );
    // Another tenant of the same member is not touched by this one's limit.
    let other = app.tenant("Calm", Tier::Starter).await;
    app.store
        .add_member(
            &switchboard::store::Actor::system(),
            other.id,
            member.me().await.unwrap().user.id,
            Role::Viewer,
            None,
            Tier::Starter,
        )
        .await
        .unwrap();
    member.tenant("calm").await.unwrap();
    // Platform admins are counted but never refused.
    app.admin.tenant("busy").await.unwrap();

    clock.advance(chrono::Duration::seconds(30));
    let later = member.tenant("busy").await.unwrap_err();
    assert_eq!(later.problem().and_then(|p| p.retry_after), Some(30));
    clock.advance(chrono::Duration::seconds(30));
    member.tenant("busy").await.unwrap();
}

#[tokio::test]
async fn ingest_past_the_tenant_limit_answers_429_and_stores_nothing() {
    let (app, _clock) = still().await;
    app.tenant("Forms", Tier::Pro).await;
    app.admin
        .set_tenant_limits("forms", &limits(None, Some(3)))
        .await
        .unwrap();
    // Two keys share the tenant's limit.
    let keys = [app.ingest_key("forms").await, app.ingest_key("forms").await];
    let anon = app.anon();
    for n in 0..3 {
        anon.ingest_lead(&keys[n % 2], &lead(&format!("Lead {n}")), None)
            .await
            .unwrap();
    }
    let refused = anon
        .ingest_lead(&keys[1], &lead("One too many"), None)
        .await
        .unwrap_err();
    assert!(refused.is(ProblemKind::RateLimited), "{refused:?}");
    assert!(refused.problem().and_then(|p| p.retry_after).is_some());
    let usage = app.admin.usage("forms").await.unwrap();
    assert_eq!(usage.leads_this_month, 3);
    assert_eq!(usage.limits.ingest.per_minute, 3);
}

#[tokio::test]
async fn only_platform_admins_set_limits_and_bad_values_change_nothing() {
    let (app, _clock) = still().await;
    let t = app.tenant("Own", Tier::Pro).await;
    let (_, tenant_admin) = app.member(&t, "admin@own.test", Role::Admin).await;
    let denied = tenant_admin
        .set_tenant_limits("own", &limits(Some(100_000), None))
        .await
        .unwrap_err();
    assert_eq!(denied.status(), Some(403));
    let (_, stranger) = app.user("x@else.test", false).await;
    let hidden = stranger
        .set_tenant_limits("own", &limits(Some(10), None))
        .await
        .unwrap_err();
    assert_eq!(hidden.status(), Some(404));

    for bad in [limits(Some(0), None), limits(None, Some(1_000_001))] {
        let e = app.admin.set_tenant_limits("own", &bad).await.unwrap_err();
        assert_eq!(e.status(), Some(422), "{e:?}");
        let detail = e.message();
        assert!(detail.contains("between 1 and"), "{detail}");
    }
    let usage = tenant_admin.usage("own").await.unwrap();
    assert!(!usage.limits.api.overridden && !usage.limits.ingest.overridden);
    assert_eq!(
        usage.limits.api.per_minute,
        RateKind::Api.tier_default(Tier::Pro)
    );

    app.admin
        .set_tenant_limits("own", &limits(Some(50), Some(20)))
        .await
        .unwrap();
    let audit = app
        .admin
        .audit(
            "own",
            &AuditFilter::default(),
            &switchboard::domain::PageQuery::default(),
        )
        .await
        .unwrap();
    let entry = audit.items.iter().find(|e| e.action == "tenant.limits");
    assert!(entry.is_some(), "the change is audited");
    // Back to the tier's defaults.
    let reset = app
        .admin
        .set_tenant_limits("own", &RateOverrides::default())
        .await
        .unwrap();
    assert!(!reset.api.overridden);
}

#[tokio::test]
async fn usage_counts_calls_ingests_and_storage_per_day() {
    let (app, _clock) = still().await;
    let t = app.tenant("Counted", Tier::Pro).await;
    let key = app.ingest_key("counted").await; // 1 call (by the admin)
    let (_, member) = app.member(&t, "m@counted.test", Role::Manager).await;
    for _ in 0..4 {
        member.tenant("counted").await.unwrap(); // 4 calls
    }
    for n in 0..3 {
        app.anon()
            .ingest_lead(&key, &lead(&format!("Counted {n}")), None)
            .await
            .unwrap();
    }
    // Calls to other tenants, or refused ones, count nowhere here.
    let (_, stranger) = app.user("x@else.test", false).await;
    stranger.tenant("counted").await.unwrap_err();

    let usage = member
        .tenant_usage(
            "counted",
            &UsageQuery {
                storage: true,
                ..UsageQuery::default()
            },
        )
        .await
        .unwrap(); // and this one: 6
    assert_eq!(usage.days.len(), 30);
    let today = usage.days.last().map(|d| d.counts).unwrap_or_default();
    assert_eq!(usage.to, today_of(&app));
    assert_eq!(today.api_calls, 6);
    assert_eq!(today.ingests, 3);
    assert_eq!(usage.totals, today);
    let storage = usage.storage.expect("asked for storage");
    let leads = storage.iter().find(|s| s.family == "leads").unwrap();
    assert!(leads.rows >= 3, "{leads:?}");
    assert!(leads.bytes > 0, "{leads:?}");
    let access = storage.iter().find(|s| s.family == "access").unwrap();
    assert!(access.rows >= 2, "a key and a membership: {access:?}");
    // Without asking, storage is not measured.
    assert!(member.usage("counted").await.unwrap().storage.is_none());

    // The platform overview shows the same day.
    let overview = app.admin.platform_overview().await.unwrap();
    let row = overview.iter().find(|r| r.slug == "counted").unwrap();
    assert_eq!(row.usage_today.ingests, 3);
    assert_eq!(row.usage_today.api_calls, 7);

    let bad = member
        .tenant_usage(
            "counted",
            &UsageQuery {
                from: Some(today_of(&app)),
                to: Some(today_of(&app) - chrono::Duration::days(1)),
                storage: false,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(bad.status(), Some(422));
}

fn today_of(app: &TestApp) -> chrono::NaiveDate {
    app.state.clock.now().date_naive()
}
