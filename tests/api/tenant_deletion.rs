//! Deleting a tenant (issue 16): gone at once to everyone (404; its forms'
//! keys 410), its data purged in batches until no table of the catalogue
//! holds a row of it, one audit record kept on the platform tenant, other
//! tenants untouched, a restart mid-purge resumed, and only those who may.

use sqlx::Connection;
use switchboard::api::ApiError;
use switchboard::domain::eval::{NewEvalCase, NewEvalSet};
use switchboard::domain::{
    AuditFilter, NewAgent, NewKnowledgeDocument, PageQuery, Role, Tenant, Tier,
};
use switchboard::server::events::sweep_once;
use switchboard::server::{AppState, ServerSettings};
use uuid::Uuid;

use crate::common::{lead, spawn, TestApp};

/// Every table with a `tenant_id` column, and how many of its rows belong
/// to `tenant`, read from the database's own catalogue (past RLS), so a
/// table added later cannot be forgotten by the purge.
async fn rows_left(app: &TestApp, tenant: Uuid) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    if let Some(owner) = &app.owner_url {
        let mut db = sqlx::PgConnection::connect(owner).await.unwrap();
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT c.table_name::text FROM information_schema.columns c \
             JOIN information_schema.tables t ON t.table_schema = c.table_schema \
               AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE' \
             WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id' ORDER BY 1",
        )
        .fetch_all(&mut db)
        .await
        .unwrap();
        for table in tables {
            let n: i64 = sqlx::query_scalar(&format!(
                "SELECT count(*) FROM {table} WHERE tenant_id = $1"
            ))
            .bind(tenant)
            .fetch_one(&mut db)
            .await
            .unwrap();
            out.push((table, n));
        }
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM tenants WHERE id = $1")
            .bind(tenant)
            .fetch_one(&mut db)
            .await
            .unwrap();
        out.push(("tenants".into(), n));
        return out;
    }
    let mut db = sqlx::SqliteConnection::connect(&app.database_url)
        .await
        .unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND p.name = 'tenant_id' ORDER BY 1",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    for table in tables {
        let n: i64 =
            sqlx::query_scalar(&format!("SELECT count(*) FROM {table} WHERE tenant_id = ?"))
                .bind(tenant.to_string())
                .fetch_one(&mut db)
                .await
                .unwrap();
        out.push((table, n));
    }
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM tenants WHERE id = ?")
        .bind(tenant.to_string())
        .fetch_one(&mut db)
        .await
        .unwrap();
    out.push(("tenants".into(), n));
    out
}

/// The tenant's rows but its usage counters, which any call (or the
/// server's periodic flush of counted usage) may add to.
fn total(rows: &[(String, i64)]) -> i64 {
    rows.iter()
        .filter(|(table, _)| !["rate_windows", "tenant_usage"].contains(&table.as_str()))
        .map(|(_, n)| n)
        .sum()
}

/// A tenant with rows in most of its tables: leads and their timelines,
/// events, audit, members, keys, an agent with versions, a workspace,
/// knowledge, an eval set. Returns it and its ingest key.
async fn populated(app: &TestApp, name: &str) -> (Tenant, String) {
    let t = app.tenant(name, Tier::Enterprise).await;
    let slug = t.slug.clone();
    app.member(&t, &format!("agent@{slug}.test"), Role::Agent)
        .await;
    let key = app.ingest_key(&slug).await;
    for i in 0..3 {
        app.anon()
            .ingest_lead(&key, &lead(&format!("Lead {i}")), None)
            .await
            .unwrap();
    }
    app.admin.import_sample(&slug).await.unwrap();
    let agent = app
        .admin
        .create_agent(
            &slug,
            &NewAgent {
                name: "Front desk".into(),
                system_prompt: "Answer leads.".into(),
                model: "local/smollm2-135m".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    app.admin
        .update_agent(
            &slug,
            agent.id,
            &switchboard::domain::AgentPatch {
                system_prompt: Some("Answer leads kindly.".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    app.admin
        .create_knowledge(
            &slug,
            &NewKnowledgeDocument {
                title: "Hours".into(),
                body: "We open at nine.\n\nWe close at five.".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let set = app
        .admin
        .create_eval_set(
            &slug,
            &NewEvalSet {
                name: "Typical".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    app.admin
        .add_eval_case(
            &slug,
            set.set.id,
            &NewEvalCase {
                message: Some("Do you open on Sundays?".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    (t, key)
}

async fn purged(app: &TestApp) {
    for _ in 0..400 {
        if app.store.pending_purges().await.unwrap().is_empty() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the purge did not finish");
}

#[tokio::test]
async fn a_deleted_tenant_is_gone_at_once_then_every_row_of_it_is_purged() {
    let app = spawn().await;
    let (doomed, key) = populated(&app, "Doomed Co").await;
    let (keep, keep_key) = populated(&app, "Keep Co").await;
    let before = rows_left(&app, doomed.id).await;
    assert!(
        total(&before) > 30,
        "the fixture fills the tables: {before:?}"
    );
    let keep_before = total(&rows_left(&app, keep.id).await);
    let (_, member) = app
        .member(&doomed, "manager@doomed-co.test", Role::Manager)
        .await;

    let gone = app.admin.delete_tenant("doomed-co").await.unwrap();
    assert_eq!((gone.id, gone.slug.as_str()), (doomed.id, "doomed-co"));

    // Gone at once, to everyone.
    let err = app.admin.tenant("doomed-co").await.unwrap_err();
    assert_eq!(err.status(), Some(404));
    let err = member
        .list_leads("doomed-co", &Default::default())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404), "members lose access");
    let listed = app
        .admin
        .list_tenants(&PageQuery::default())
        .await
        .unwrap()
        .items;
    assert!(listed.iter().all(|t| t.id != doomed.id));
    let err = app
        .anon()
        .ingest_lead(&key, &lead("Too Late"), None)
        .await
        .unwrap_err();
    match &err {
        ApiError::Problem(p) => {
            assert_eq!(p.status, 410);
            assert_eq!(p.kind, "/problems/tenant-deleted");
        }
        other => panic!("expected 410, got {other:?}"),
    }
    // A second delete finds nothing.
    assert_eq!(
        app.admin
            .delete_tenant("doomed-co")
            .await
            .unwrap_err()
            .status(),
        Some(404)
    );

    purged(&app).await;
    let left = rows_left(&app, doomed.id).await;
    let stray: Vec<_> = left.iter().filter(|(_, n)| *n > 0).collect();
    assert!(stray.is_empty(), "rows left behind: {stray:?}");
    // The other tenant kept everything, and still takes leads.
    assert_eq!(total(&rows_left(&app, keep.id).await), keep_before);
    app.anon()
        .ingest_lead(&keep_key, &lead("Still Here"), None)
        .await
        .unwrap();
    // One record of it, on the platform tenant.
    let filter = AuditFilter {
        action: Some("tenant.delete".into()),
        ..Default::default()
    };
    let audit = app
        .admin
        .audit("platform", &filter, &PageQuery::default())
        .await
        .unwrap()
        .items;
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0].resource_id, doomed.id.to_string());
    assert_eq!(audit[0].changes["slug"], "doomed-co");
    assert_eq!(audit[0].actor_email.as_deref(), Some("root@platform.test"));
    // The slug is free again.
    app.tenant("Doomed Co", Tier::Starter).await;
}

#[tokio::test]
async fn a_restart_mid_purge_resumes_until_nothing_is_left() {
    let app = spawn().await;
    let (doomed, _) = populated(&app, "Doomed Co").await;
    // This process stands for one that died purging: the delete marks the
    // tenant but starts nothing here.
    assert!(app.state.purges.claim(doomed.id));
    app.admin.delete_tenant("doomed-co").await.unwrap();
    let step = app.store.purge_tenant_step(doomed.id).await.unwrap();
    assert!(step.deleted > 0 && !step.done, "{step:?}");
    assert_eq!(app.store.pending_purges().await.unwrap(), vec![doomed.id]);
    assert!(total(&rows_left(&app, doomed.id).await) > 0);

    // A new server on the same database resumes at its first sweep.
    let restarted = AppState::new(app.store.clone(), ServerSettings::default());
    sweep_once(&restarted).await.unwrap();
    purged(&app).await;
    let left = rows_left(&app, doomed.id).await;
    assert_eq!(left.iter().map(|(_, n)| n).sum::<i64>(), 0, "{left:?}");
}

#[tokio::test]
async fn only_the_tenants_admins_and_platform_admins_may_delete_it() {
    let app = spawn().await;
    let t = app.tenant("Alpha", Tier::Pro).await;
    let other = app.tenant("Beta", Tier::Pro).await;
    let (_, agent) = app.member(&t, "agent@alpha.test", Role::Agent).await;
    let (_, manager) = app.member(&t, "manager@alpha.test", Role::Manager).await;
    let (_, stranger) = app.member(&other, "admin@beta.test", Role::Admin).await;
    let (_, admin) = app.member(&t, "admin@alpha.test", Role::Admin).await;
    for (who, client, status) in [
        ("an agent", &agent, 403),
        ("a manager", &manager, 403),
        ("another tenant's admin", &stranger, 404),
    ] {
        let err = client.delete_tenant("alpha").await.unwrap_err();
        assert_eq!(err.status(), Some(status), "{who}");
    }
    assert!(app.admin.tenant("alpha").await.is_ok(), "nothing changed");
    // Suspended, it is read-only to its admins.
    app.admin.suspend_tenant("alpha").await.unwrap();
    assert_eq!(
        admin.delete_tenant("alpha").await.unwrap_err().status(),
        Some(423)
    );
    app.admin.reactivate_tenant("alpha").await.unwrap();
    admin.delete_tenant("alpha").await.unwrap();
    // The platform tenant is never deleted.
    let err = app.admin.delete_tenant("platform").await.unwrap_err();
    assert_eq!(err.status(), Some(409));
    purged(&app).await;
}
