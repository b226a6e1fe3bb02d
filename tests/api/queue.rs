//! The cross-tenant lead queue (`GET /api/v1/leads`, issue 15): every tenant
//! the caller may see, each with that tenant's visibility, one keyset order.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{Duration, Utc};
use switchboard::api::{ApiError, Client};
use switchboard::domain::access::{Grants, Permission};
use switchboard::domain::{Lead, LeadPatch, LeadQuery, QueueLead, Role, Tenant, Tier, User};
use switchboard::server::clock::ManualClock;
use switchboard::server::ServerSettings;
use uuid::Uuid;

use super::common::{lead, spawn, spawn_with_clock, TestApp};

async fn add(app: &TestApp, tenant: &Tenant, name: &str) -> Lead {
    app.admin
        .create_lead(&tenant.slug, &lead(name))
        .await
        .expect("create lead")
}

async fn assign(app: &TestApp, tenant: &Tenant, lead: &Lead, to: Uuid) {
    app.admin
        .update_lead(
            &tenant.slug,
            lead.id,
            &LeadPatch {
                assignee_id: Some(Some(to)),
                ..Default::default()
            },
        )
        .await
        .expect("assign");
}

/// Every page of the queue, following the cursor.
async fn all_pages(
    client: &Client,
    query: &LeadQuery,
    tenants: &[String],
) -> Result<Vec<QueueLead>, ApiError> {
    let mut out = Vec::new();
    let mut query = query.clone();
    loop {
        let page = client.list_queue(&query, tenants).await?;
        out.extend(page.items);
        match page.next_cursor {
            Some(c) => query.cursor = Some(c),
            None => return Ok(out),
        }
    }
}

fn names(items: &[QueueLead]) -> HashSet<String> {
    items.iter().map(|l| l.lead.name.clone()).collect()
}

fn set(names: &[&str]) -> HashSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn status(e: ApiError) -> u16 {
    match e {
        ApiError::Problem(p) => p.status,
        other => panic!("expected a problem, got {other:?}"),
    }
}

/// Three tenants: the user sees all of Alpha's leads (viewer), only their
/// own of Beta's (agent), and nothing of Gamma's (not a member).
struct World {
    app: TestApp,
    alpha: Tenant,
    beta: Tenant,
    gamma: Tenant,
    user: User,
    client: Client,
    colleague: User,
}

async fn world() -> World {
    let app = spawn().await;
    let alpha = app.tenant("Alpha Dental", Tier::Pro).await;
    let beta = app.tenant("Beta Law", Tier::Pro).await;
    let gamma = app.tenant("Gamma Gyms", Tier::Pro).await;
    let (user, client) = app.member(&alpha, "sam@agency.test", Role::Viewer).await;
    app.store
        .add_member(
            &switchboard::store::Actor::system(),
            beta.id,
            user.id,
            Role::Agent,
            None,
            beta.tier,
        )
        .await
        .expect("add to beta");
    let (colleague, _) = app.member(&beta, "kim@agency.test", Role::Agent).await;
    for n in ["Alpha one", "Alpha two", "Alpha three"] {
        add(&app, &alpha, n).await;
    }
    let mine = add(&app, &beta, "Beta mine").await;
    let theirs = add(&app, &beta, "Beta theirs").await;
    add(&app, &beta, "Beta nobody's").await;
    assign(&app, &beta, &mine, user.id).await;
    assign(&app, &beta, &theirs, colleague.id).await;
    for n in ["Gamma one", "Gamma two"] {
        add(&app, &gamma, n).await;
    }
    World {
        app,
        alpha,
        beta,
        gamma,
        user,
        client,
        colleague,
    }
}

#[tokio::test]
async fn a_member_of_two_tenants_sees_all_of_one_and_only_their_own_of_the_other() {
    let w = world().await;
    let all = all_pages(&w.client, &LeadQuery::default(), &[])
        .await
        .unwrap();
    assert_eq!(
        names(&all),
        set(&["Alpha one", "Alpha two", "Alpha three", "Beta mine"]),
        "all of Alpha's (viewer), only their own of Beta's (agent), none of Gamma's"
    );
    for item in &all {
        let t = if item.lead.name.starts_with("Alpha") {
            &w.alpha
        } else {
            &w.beta
        };
        assert_eq!(item.tenant.id, t.id, "each lead names its tenant");
        assert_eq!(item.tenant.slug, t.slug);
        assert_eq!(item.tenant.name, t.name);
        assert_eq!(item.lead.tenant_id, t.id);
    }

    // Asking for the colleague's leads: theirs in Alpha (none there), none
    // in Beta, where only the user's own are visible.
    let q = LeadQuery {
        assignee: Some(w.colleague.id.to_string()),
        ..Default::default()
    };
    assert!(all_pages(&w.client, &q, &[]).await.unwrap().is_empty());
    // "me": their own in both.
    let q = LeadQuery {
        assignee: Some("me".into()),
        ..Default::default()
    };
    assert_eq!(
        names(&all_pages(&w.client, &q, &[]).await.unwrap()),
        set(&["Beta mine"])
    );

    // A platform admin sees every tenant's leads, Gamma's too.
    let everything = all_pages(&w.app.admin, &LeadQuery::default(), &[])
        .await
        .unwrap();
    assert_eq!(everything.len(), 8);
    assert_eq!(
        everything
            .iter()
            .filter(|l| l.tenant.id == w.gamma.id)
            .count(),
        2
    );
}

#[tokio::test]
async fn per_member_grants_and_withdrawals_decide_what_the_queue_shows() {
    let w = world().await;
    // Alpha: the viewer's leads:view_all withdrawn leaves no lead permission.
    let withdraw = Grants {
        granted: vec![],
        withdrawn: vec![Permission::LeadsViewAll],
    };
    w.app
        .admin
        .set_member_permissions(&w.alpha.slug, w.user.id, &withdraw)
        .await
        .expect("withdraw");
    // Beta: the agent granted leads:view_all sees every lead there.
    let grant = Grants {
        granted: vec![Permission::LeadsViewAll],
        withdrawn: vec![],
    };
    w.app
        .admin
        .set_member_permissions(&w.beta.slug, w.user.id, &grant)
        .await
        .expect("grant");
    let all = all_pages(&w.client, &LeadQuery::default(), &[])
        .await
        .unwrap();
    assert_eq!(
        names(&all),
        set(&["Beta mine", "Beta theirs", "Beta nobody's"]),
        "none of Alpha's after the withdrawal, all of Beta's after the grant"
    );
    let named = all_pages(
        &w.client,
        &LeadQuery::default(),
        std::slice::from_ref(&w.alpha.slug),
    )
    .await;
    assert_eq!(
        status(named.unwrap_err()),
        404,
        "Alpha is no longer theirs to name"
    );
}

#[tokio::test]
async fn the_tenant_filter_narrows_to_the_named_tenants_and_refuses_others() {
    let w = world().await;
    let only_beta = all_pages(
        &w.client,
        &LeadQuery::default(),
        std::slice::from_ref(&w.beta.slug),
    )
    .await
    .unwrap();
    assert_eq!(names(&only_beta), set(&["Beta mine"]));
    // By id, repeated.
    let both = all_pages(
        &w.client,
        &LeadQuery::default(),
        &[w.alpha.id.to_string(), w.beta.slug.clone()],
    )
    .await
    .unwrap();
    assert_eq!(both.len(), 4);

    // A tenant the user is not a member of answers 404, like a tenant that
    // does not exist: nothing tells them apart, nothing of Gamma is shown.
    for other in [
        w.gamma.slug.clone(),
        w.gamma.id.to_string(),
        "no-such-tenant".into(),
    ] {
        let err = w
            .client
            .list_queue(
                &LeadQuery::default(),
                &[w.alpha.slug.clone(), other.clone()],
            )
            .await
            .expect_err("another tenant is not found");
        assert_eq!(status(err), 404, "tenant={other}");
    }
    // The platform admin may name any.
    let gamma = all_pages(
        &w.app.admin,
        &LeadQuery::default(),
        std::slice::from_ref(&w.gamma.slug),
    )
    .await
    .unwrap();
    assert_eq!(names(&gamma), set(&["Gamma one", "Gamma two"]));
}

#[tokio::test]
async fn a_role_that_sees_no_lead_and_a_stranger_see_nothing_and_anonymous_is_refused() {
    let w = world().await;
    let (_, stranger) = w.app.user("stranger@else.test", false).await;
    assert!(all_pages(&stranger, &LeadQuery::default(), &[])
        .await
        .unwrap()
        .is_empty());
    let err = w
        .app
        .anon()
        .list_queue(&LeadQuery::default(), &[])
        .await
        .expect_err("sign in first");
    assert_eq!(status(err), 401);
    // A cursor this server never issued.
    let bad = LeadQuery {
        cursor: Some("0.12.not-an-id".into()),
        ..Default::default()
    };
    assert_eq!(
        status(
            w.client
                .list_queue(&bad, &[])
                .await
                .expect_err("bad cursor")
        ),
        422
    );
    // The user's own lead in Beta, then reassigned away: gone from their queue.
    let mine = w
        .client
        .list_queue(&LeadQuery::default(), std::slice::from_ref(&w.beta.slug))
        .await
        .unwrap()
        .items
        .remove(0);
    assign(&w.app, &w.beta, &mine.lead, w.colleague.id).await;
    assert!(all_pages(
        &w.client,
        &LeadQuery::default(),
        std::slice::from_ref(&w.beta.slug)
    )
    .await
    .unwrap()
    .is_empty());
    let _ = w.user;
}

#[tokio::test]
async fn the_overdue_queue_is_most_overdue_first_across_tenants_with_the_filters() {
    let clock = Arc::new(ManualClock::new(Utc::now() - Duration::days(3)));
    let app = spawn_with_clock(ServerSettings::default(), clock.clone()).await;
    let tenants = [
        app.tenant("North Clinic", Tier::Pro).await,
        app.tenant("South Clinic", Tier::Pro).await,
        app.tenant("East Clinic", Tier::Pro).await,
    ];
    // Interleaved across tenants, a minute apart: creation order is due order.
    let mut created = Vec::new();
    for i in 0..12 {
        let t = &tenants[i % 3];
        created.push(add(&app, t, &format!("Lead {i:02} {}", t.slug)).await);
        clock.advance(Duration::minutes(1));
    }
    clock.advance(Duration::days(2));
    // One answered, one moved on to another stage: both met.
    app.admin
        .add_note(
            &tenants[0].slug,
            created[0].id,
            &switchboard::domain::NewNote {
                body: "Called back".into(),
                is_reply: true,
            },
        )
        .await
        .unwrap();
    app.admin
        .update_lead(
            &tenants[1].slug,
            created[4].id,
            &LeadPatch {
                stage: Some("contacted".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let overdue = LeadQuery {
        sla: Some("overdue".into()),
        limit: Some(4),
        ..Default::default()
    };
    let items = all_pages(&app.admin, &overdue, &[]).await.unwrap();
    let order: Vec<Uuid> = items.iter().map(|l| l.lead.id).collect();
    let expected: Vec<Uuid> = created
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 0 && *i != 4)
        .map(|(_, l)| l.id)
        .collect();
    assert_eq!(order, expected, "most overdue first, across tenants");
    assert!(items
        .windows(2)
        .all(|w| w[0].lead.sla_due_at <= w[1].lead.sla_due_at));

    let q = |f: fn(&mut LeadQuery)| {
        let mut q = LeadQuery::default();
        f(&mut q);
        q
    };
    let stage = all_pages(&app.admin, &q(|q| q.stage = Some("contacted".into())), &[])
        .await
        .unwrap();
    assert_eq!(
        stage.iter().map(|l| l.lead.id).collect::<Vec<_>>(),
        vec![created[4].id]
    );
    let met = all_pages(&app.admin, &q(|q| q.sla = Some("met".into())), &[])
        .await
        .unwrap();
    // Leaving the first stage is a first response too.
    assert_eq!(
        met.iter().map(|l| l.lead.id).collect::<Vec<_>>(),
        vec![created[0].id, created[4].id]
    );
    let text = all_pages(&app.admin, &q(|q| q.q = Some("lead 07".into())), &[])
        .await
        .unwrap();
    assert_eq!(
        text.iter().map(|l| l.lead.id).collect::<Vec<_>>(),
        vec![created[7].id]
    );
    let manual = all_pages(&app.admin, &q(|q| q.source = Some("manual".into())), &[])
        .await
        .unwrap();
    assert_eq!(manual.len(), 12);
    assert!(
        all_pages(&app.admin, &q(|q| q.source = Some("form".into())), &[])
            .await
            .unwrap()
            .is_empty()
    );
    let newest = all_pages(
        &app.admin,
        &q(|q| {
            q.sort = Some("newest".into());
            q.limit = Some(5);
        }),
        &[],
    )
    .await
    .unwrap();
    let mut by_id = created.iter().map(|l| l.id).collect::<Vec<_>>();
    by_id.sort();
    by_id.reverse();
    assert_eq!(newest.iter().map(|l| l.lead.id).collect::<Vec<_>>(), by_id);
    // A bad filter is refused as on the per-tenant list.
    assert_eq!(
        status(
            app.admin
                .list_queue(&q(|q| q.sla = Some("late".into())), &[])
                .await
                .expect_err("bad sla")
        ),
        422
    );
}

/// Pages through `query` while a lead arrives in a random tenant before
/// each page: every lead that was there before is listed exactly once.
async fn page_while_leads_arrive(
    app: &TestApp,
    client: &Client,
    tenants: &[Tenant],
    query: LeadQuery,
) {
    let before: HashSet<Uuid> = all_pages(client, &query, &[])
        .await
        .unwrap()
        .iter()
        .map(|l| l.lead.id)
        .collect();
    let mut seen = Vec::new();
    let mut query = query;
    let mut arrived = 0;
    loop {
        let t = &tenants[(arrived * 7) % tenants.len()];
        add(app, t, &format!("Arrival {arrived}")).await;
        arrived += 1;
        let page = client.list_queue(&query, &[]).await.unwrap();
        seen.extend(page.items.iter().map(|l| l.lead.id));
        match page.next_cursor {
            Some(c) => query.cursor = Some(c),
            None => break,
        }
    }
    let unique: HashSet<Uuid> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "no lead listed twice");
    let missing: Vec<_> = before.difference(&unique).collect();
    assert!(missing.is_empty(), "no lead skipped: {missing:?}");
    assert!(arrived > 3, "several pages");
}

#[tokio::test]
async fn paging_across_tenants_has_no_duplicates_or_gaps_while_leads_arrive() {
    let app = spawn().await;
    // More tenants than one merge takes: the platform admin's queue walks
    // the cross-tenant index; a member of two merges theirs.
    let mut tenants = Vec::new();
    for i in 0..switchboard::store::MERGE_MAX_TENANTS + 3 {
        tenants.push(app.tenant(&format!("Client {i:02}"), Tier::Pro).await);
    }
    for (i, t) in tenants.iter().enumerate() {
        for j in 0..(1 + i % 3) {
            add(&app, t, &format!("Lead {i}-{j}")).await;
        }
    }
    let (two, member) = app
        .member(&tenants[0], "two@agency.test", Role::Manager)
        .await;
    app.store
        .add_member(
            &switchboard::store::Actor::system(),
            tenants[1].id,
            two.id,
            Role::Viewer,
            None,
            Tier::Pro,
        )
        .await
        .unwrap();
    for sort in ["sla", "newest", "oldest"] {
        let query = LeadQuery {
            sort: Some(sort.into()),
            limit: Some(7),
            ..Default::default()
        };
        page_while_leads_arrive(&app, &app.admin, &tenants, query.clone()).await;
        let query = LeadQuery {
            limit: Some(2),
            ..query
        };
        page_while_leads_arrive(&app, &member, &tenants[..2], query).await;
    }
}
