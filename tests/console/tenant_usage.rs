//! A tenant's Usage tab: its rate limits, today and the last 30 days, what
//! it stores; `L` lets a platform admin change its limits, a bad number is
//! refused before sending, and a failed load says so in the tab.

use chrono::NaiveDate;
use switchboard::console::tenants::{UsageRequest, UsageResponse};
use switchboard::domain::usage::{
    RateLimit, RateLimits, RateOverrides, StorageUse, Usage, UsageCounts, UsageDay,
};

use super::*;

fn day(n: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 6).unwrap() + chrono::Duration::days(i64::from(n))
}

fn usage() -> Usage {
    let days: Vec<UsageDay> = (0..30)
        .map(|n| UsageDay {
            day: day(n),
            counts: UsageCounts {
                api_calls: u64::from(n % 7) * 40,
                ingests: u64::from(n % 3),
                generations: u64::from(n % 2),
                prompt_tokens: 300,
                completion_tokens: 120,
            },
        })
        .collect();
    let mut totals = UsageCounts::default();
    for d in &days {
        totals.add(&d.counts);
    }
    Usage {
        leads_this_month: 12,
        lead_limit: Some(1000),
        users: 3,
        user_limit: Some(10),
        resets_at: Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap(),
        limits: RateLimits {
            api: RateLimit {
                per_minute: 3000,
                overridden: false,
            },
            ingest: RateLimit {
                per_minute: 25,
                overridden: true,
            },
        },
        from: day(0),
        to: day(29),
        days,
        totals,
        storage: Some(vec![
            StorageUse {
                family: "leads".into(),
                rows: 1_204,
                bytes: 1_300_000,
            },
            StorageUse {
                family: "audit".into(),
                rows: 88,
                bytes: 20_480,
            },
        ]),
    }
}

/// Open Arms' detail on its Usage tab; the load it sent.
fn usage_tab(admin: bool) -> (App, RequestId) {
    let mut all = vec![platform()];
    all.extend(three_tenants());
    let mut app = loaded_with(admin, all);
    press(&mut app, &[code(KeyCode::Enter)]);
    let fx = press(&mut app, &[key('l'); 4]);
    let id = id_of(
        &fx,
        |r| matches!(r, Request::TenantUsage(UsageRequest::Load { tenant }) if *tenant == Uuid::from_u128(1).to_string()),
    );
    (app, id)
}

#[test]
fn the_usage_tab_shows_limits_days_and_storage() {
    let (mut app, id) = usage_tab(true);
    let screen = render(&app, 100, 30);
    assert!(screen.contains("Loading the usage"), "{screen}");
    app.on_response(
        id,
        Response::TenantUsage(UsageResponse::Loaded(Ok(usage()))),
    );
    let screen = render(&app, 100, 30);
    assert!(screen.contains("3000/min (pro default)"), "{screen}");
    assert!(screen.contains("25/min (set for this tenant)"), "{screen}");
    assert!(screen.contains("1204"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn a_failed_load_says_so_in_the_tab_and_r_retries() {
    let (mut app, id) = usage_tab(true);
    app.on_response(
        id,
        Response::TenantUsage(UsageResponse::Loaded(Err(unreachable()))),
    );
    let screen = render(&app, 100, 30);
    assert!(screen.contains("Could not load the usage"), "{screen}");
    let fx = press(&mut app, &[key('r')]);
    assert!(requests(&fx)
        .iter()
        .any(|(_, r)| matches!(r, Request::TenantUsage(UsageRequest::Load { .. }))));
}

#[test]
fn a_platform_admin_changes_the_limits_and_a_bad_number_is_refused_before_sending() {
    let (mut app, id) = usage_tab(true);
    app.on_response(
        id,
        Response::TenantUsage(UsageResponse::Loaded(Ok(usage()))),
    );
    press(&mut app, &[key('L')]);
    assert!(app.modal.is_some(), "the limits form opens");
    let screen = render(&app, 100, 30);
    assert!(screen.contains("Rate limits of Open Arms"), "{screen}");

    typed(&mut app, "lots");
    let fx = press(&mut app, &[ctrl('s')]);
    assert!(requests(&fx).is_empty(), "nothing sent");
    let screen = render(&app, 100, 30);
    assert!(screen.contains("type a whole number from 1 to"), "{screen}");

    // The draft stays: fix it in place.
    press(&mut app, &[code(KeyCode::Backspace); 4]);
    typed(&mut app, "1200");
    let fx = press(&mut app, &[ctrl('s')]);
    let (save, req) = requests(&fx).into_iter().next().expect("a save");
    assert_eq!(
        req,
        Request::TenantUsage(UsageRequest::SetLimits {
            tenant: Uuid::from_u128(1).to_string(),
            limits: RateOverrides {
                api_per_minute: Some(1200),
                // The tenant's own ingest limit, prefilled, is kept.
                ingest_per_minute: Some(25),
            },
        })
    );
    let set = RateLimits {
        api: RateLimit {
            per_minute: 1200,
            overridden: true,
        },
        ingest: RateLimit {
            per_minute: 25,
            overridden: true,
        },
    };
    let fx = app.on_response(
        save,
        Response::TenantUsage(UsageResponse::LimitsSet(Ok(set))),
    );
    assert!(app.modal.is_none(), "the form closes");
    assert!(
        app.toasts
            .iter()
            .any(|t| t.text.contains("1200 API calls and 25 leads a minute")),
        "{:?}",
        app.toasts
    );
    assert!(
        requests(&fx)
            .iter()
            .any(|(_, r)| matches!(r, Request::TenantUsage(UsageRequest::Load { .. }))),
        "the tab reloads"
    );
}

#[test]
fn a_refused_save_keeps_the_draft_and_shows_why() {
    let (mut app, id) = usage_tab(true);
    app.on_response(
        id,
        Response::TenantUsage(UsageResponse::Loaded(Ok(usage()))),
    );
    press(&mut app, &[key('L')]);
    typed(&mut app, "50");
    let fx = press(&mut app, &[ctrl('s')]);
    let (save, _) = requests(&fx).into_iter().next().expect("a save");
    app.on_response(
        save,
        Response::TenantUsage(UsageResponse::LimitsSet(Err(validation(
            "api_per_minute",
            "must be between 1 and 1000000 requests a minute",
        )))),
    );
    assert!(app.modal.is_some(), "the form stays open");
    let screen = render(&app, 100, 30);
    assert!(screen.contains("must be between 1 and 1000000"), "{screen}");
    assert!(screen.contains("50"), "the draft is kept:\n{screen}");
}

#[test]
fn only_platform_admins_open_the_limits_form() {
    let (mut app, id) = usage_tab(false);
    app.on_response(
        id,
        Response::TenantUsage(UsageResponse::Loaded(Ok(usage()))),
    );
    press(&mut app, &[key('L')]);
    assert!(app.modal.is_none());
    assert!(app.toasts.iter().any(|t| t
        .text
        .contains("Only platform admins change a tenant's rate limits")));
}
