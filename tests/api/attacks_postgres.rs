//! PostgreSQL only (run when `SWITCHBOARD_TEST_DATABASE_URL` is set): attacks
//! on the database itself by a role that holds the application's connection —
//! objects planted in the schema or the session's temporary schema to shadow
//! what the owner's SECURITY DEFINER functions read, and a serving role that
//! can become the owner. All of them are OWASP API8 (security misconfiguration).

use sqlx::{Connection, PgConnection};
use switchboard::domain::{Channel, NewInvitation, NewWorkspace, Role, Tier};
use switchboard::store;
use uuid::Uuid;

use crate::common::{lead, postgres_admin_url, spawn, PgDatabase, TestApp};

const SEARCH_PATH: &str = "search_path=pg_catalog, public";

fn admin_url() -> Option<String> {
    let url = postgres_admin_url();
    if url.is_none() {
        eprintln!("skipped: set SWITCHBOARD_TEST_DATABASE_URL to run the PostgreSQL tests");
    }
    url
}

fn with(url: &str, user: &str, db: &str) -> String {
    let mut u = reqwest::Url::parse(url).unwrap();
    u.set_path(&format!("/{db}"));
    u.set_username(user).unwrap();
    u.set_password(None).unwrap();
    u.to_string()
}

async fn connect(url: &str) -> PgConnection {
    PgConnection::connect(url).await.unwrap()
}

/// SQLSTATE of a failed statement.
fn sqlstate(result: Result<sqlx::postgres::PgQueryResult, sqlx::Error>) -> Option<String> {
    match result {
        Ok(_) => None,
        Err(e) => e
            .as_database_error()
            .and_then(|d| d.code().map(|c| c.to_string())),
    }
}

/// An empty database, with PostgreSQL's pre-15 default put back: every role
/// may create in `public` (databases upgraded from PostgreSQL 14 or older, or
/// restored from their dumps, keep it).
async fn database_where_public_may_create(admin: &str) -> (String, String) {
    let name = format!("sb_test_{}", Uuid::new_v4().simple());
    let mut conn = connect(admin).await;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.ok();
    let mut u = reqwest::Url::parse(admin).unwrap();
    u.set_path(&format!("/{name}"));
    let owner_url = u.to_string();
    let mut db = connect(&owner_url).await;
    sqlx::query("GRANT CREATE ON SCHEMA public TO PUBLIC")
        .execute(&mut db)
        .await
        .unwrap();
    (name, owner_url)
}

async fn drop_database(admin: &str, name: &str) {
    let mut conn = connect(admin).await;
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await;
}

/// What an attacker with the app role's connection tries: a table and a
/// function of the store's own names, where the owner's code would find them.
async fn plant_objects(app_url: &str) -> Vec<(&'static str, Option<String>)> {
    let mut conn = connect(app_url).await;
    let attempts = [
        "CREATE TABLE public.sb_planted (x int)",
        "CREATE FUNCTION public.sb_planted() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        // An overload that a caller's unqualified call could resolve to.
        "CREATE FUNCTION public.sb_member_tenants(p_user text) \
         RETURNS TABLE (tenant_id uuid, role text) LANGUAGE sql \
         AS 'SELECT NULL::uuid, ''admin''::text'",
    ];
    let mut outcomes = Vec::new();
    for sql in attempts {
        outcomes.push((sql, sqlstate(sqlx::query(sql).execute(&mut conn).await)));
    }
    outcomes
}

#[tokio::test]
async fn api8_every_security_definer_function_pins_search_path_to_pg_catalog_and_public() {
    let Some(admin) = admin_url() else { return };
    let db = PgDatabase::create(&admin).await;
    let mut owner = connect(&db.owner_url).await;
    let functions: Vec<(String, Option<Vec<String>>)> = sqlx::query_as(
        "SELECT p.oid::regprocedure::text, p.proconfig FROM pg_proc p \
           JOIN pg_namespace n ON n.oid = p.pronamespace \
          WHERE n.nspname = 'public' AND p.prosecdef ORDER BY 1",
    )
    .fetch_all(&mut owner)
    .await
    .unwrap();
    assert!(
        functions.len() >= 16,
        "expected the store's SECURITY DEFINER functions, found {functions:?}"
    );
    // The search path exactly, and besides it only a planner setting
    // (sb_ingest_batch's generic plans), which changes no name resolution.
    let pinned = |config: &Option<Vec<String>>| {
        let config = config.as_deref().unwrap_or_default();
        config
            .iter()
            .filter(|c| c.starts_with("search_path="))
            .count()
            == 1
            && config
                .iter()
                .all(|c| *c == SEARCH_PATH || c == "plan_cache_mode=force_generic_plan")
    };
    let wrong: Vec<_> = functions
        .iter()
        .filter(|(_, config)| !pinned(config))
        .collect();
    assert!(
        wrong.is_empty(),
        "SECURITY DEFINER functions whose search_path is not exactly {SEARCH_PATH:?}: {wrong:#?}"
    );
}

#[tokio::test]
async fn api8_app_role_cannot_create_objects_in_the_schema() {
    let Some(admin) = admin_url() else { return };
    let (name, owner_url) = database_where_public_may_create(&admin).await;
    store::postgres::migrate(&owner_url).await.unwrap();
    let app_url = with(&admin, store::postgres::APP_ROLE, &name);
    let outcomes = plant_objects(&app_url).await;

    // Someone grants it again later: the next `migrate` takes it back.
    let mut owner = connect(&owner_url).await;
    sqlx::query("GRANT CREATE ON SCHEMA public TO PUBLIC")
        .execute(&mut owner)
        .await
        .unwrap();
    store::postgres::migrate(&owner_url).await.unwrap();
    let again = plant_objects(&app_url).await;
    drop_database(&admin, &name).await;

    for (sql, code) in outcomes.into_iter().chain(again) {
        assert_eq!(
            code.as_deref(),
            Some("42501"),
            "the app role could run {sql:?}"
        );
    }
}

#[tokio::test]
async fn api8_serve_refuses_an_app_role_that_may_create_in_the_schema() {
    let Some(admin) = admin_url() else { return };
    let db = PgDatabase::create(&admin).await;
    assert!(store::open(&db.app_url).await.is_ok());
    let mut owner = connect(&db.owner_url).await;
    sqlx::query(&format!(
        "GRANT CREATE ON SCHEMA public TO {}",
        store::postgres::APP_ROLE
    ))
    .execute(&mut owner)
    .await
    .unwrap();
    let refused = store::open(&db.app_url)
        .await
        .err()
        .map(|e| format!("{e:#}"));
    let msg = refused.expect("serve accepted a role that may create objects in public");
    assert!(msg.contains("CREATE") && msg.contains("public"), "{msg}");
}

/// Roles are cluster-wide: dropped (best effort) with the test's database.
struct OwnerAndMember {
    admin: String,
    db: String,
    owner: String,
    member: String,
    noinherit_member: String,
}

impl OwnerAndMember {
    /// A non-superuser owner (as a production owner is) that owns a fresh
    /// database and migrates it, and a LOGIN role that is a member of it.
    async fn create(admin: &str) -> OwnerAndMember {
        let suffix = Uuid::new_v4().simple().to_string();
        let roles = OwnerAndMember {
            admin: admin.to_string(),
            db: format!("sb_test_{suffix}"),
            owner: format!("sb_owner_{suffix}"),
            member: format!("sb_member_{suffix}"),
            noinherit_member: format!("sb_member_ni_{suffix}"),
        };
        let mut conn = connect(admin).await;
        for sql in [
            format!("CREATE ROLE {} LOGIN CREATEROLE", roles.owner),
            format!("CREATE DATABASE {} OWNER {}", roles.db, roles.owner),
            format!("CREATE ROLE {} LOGIN", roles.member),
            format!("GRANT {} TO {}", roles.owner, roles.member),
            // NOINHERIT does not help: the member may still SET ROLE to the owner.
            format!("CREATE ROLE {} LOGIN NOINHERIT", roles.noinherit_member),
            format!("GRANT {} TO {}", roles.owner, roles.noinherit_member),
        ] {
            sqlx::query(&sql).execute(&mut conn).await.unwrap();
        }
        roles
    }

    fn url(&self, role: &str) -> String {
        with(&self.admin, role, &self.db)
    }
}

impl Drop for OwnerAndMember {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let statements = [
            format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.db),
            format!("DROP ROLE IF EXISTS {}", self.member),
            format!("DROP ROLE IF EXISTS {}", self.noinherit_member),
            format!("DROP ROLE IF EXISTS {}", self.owner),
        ];
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut conn = PgConnection::connect(&admin).await.ok()?;
                for sql in statements {
                    let _ = sqlx::query(&sql).execute(&mut conn).await;
                }
                Some(())
            })
        })
        .join();
    }
}

#[tokio::test]
async fn api8_serve_refuses_a_member_of_the_owner_role() {
    let Some(admin) = admin_url() else { return };
    let roles = OwnerAndMember::create(&admin).await;
    store::postgres::migrate(&roles.url(&roles.owner))
        .await
        .unwrap();
    // The application role is still accepted on the same database.
    assert!(store::open(&roles.url(store::postgres::APP_ROLE))
        .await
        .is_ok());

    // The members are no superusers, have no BYPASSRLS and own nothing, yet
    // `SET ROLE <owner>` gives them the tables, and the owner's policies
    // (`owner_functions ... TO <owner>`) let the inheriting one see every
    // tenant's rows without even that.
    for member in [&roles.member, &roles.noinherit_member] {
        let mut conn = connect(&roles.url(member)).await;
        sqlx::query(&format!("SET ROLE {}", roles.owner))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.ok();

        let refused = store::open(&roles.url(member))
            .await
            .err()
            .map(|e| format!("{e:#}"));
        let msg =
            refused.unwrap_or_else(|| panic!("serve accepted {member}, a member of the owner"));
        assert!(
            msg.contains("member of") && msg.contains(&roles.owner),
            "{member}: {msg}"
        );
    }
}

/// One call of each read-only SECURITY DEFINER function, as JSON text. Every
/// cast and name here is qualified: the session's temporary types shadow
/// unqualified ones in this query too.
async fn definer_reads(conn: &mut PgConnection, seed: &Seed) -> Vec<(String, Option<String>)> {
    let t = seed.tenant;
    let calls = [
        format!("public.sb_tenant_usage('{t}'::pg_catalog.uuid)"),
        format!("public.sb_member_tenants('{}'::pg_catalog.uuid)", seed.user),
        format!(
            "public.sb_api_key_owner('{}'::pg_catalog.text)",
            seed.key_hash
        ),
        format!(
            "public.sb_invitation_by_token('{}'::pg_catalog.text)",
            seed.token_hash
        ),
        format!(
            "public.sb_pending_invitations('{}'::pg_catalog.text)",
            seed.invitee
        ),
        "public.sb_workspace_agent_links(NULL)".to_string(),
        format!(
            "public.sb_analytics('{t}'::pg_catalog.uuid, '-infinity'::pg_catalog.timestamptz, \
             'infinity'::pg_catalog.timestamptz, pg_catalog.now(), NULL::pg_catalog.uuid)"
        ),
        "public.sb_tenant_overview(pg_catalog.to_char(pg_catalog.now(), 'YYYY-MM'), \
         pg_catalog.now(), '-infinity'::pg_catalog.timestamptz)"
            .to_string(),
    ];
    let mut out = Vec::new();
    for call in calls {
        let mut tx = conn.begin().await.unwrap();
        sqlx::query("SELECT pg_catalog.set_config('app.tenant_id', $1, true)")
            .bind(t.to_string())
            .execute(&mut *tx)
            .await
            .unwrap();
        let json: Result<Option<String>, _> = sqlx::query_scalar(&format!(
            "SELECT pg_catalog.jsonb_agg(f)::pg_catalog.text FROM {call} f"
        ))
        .fetch_one(&mut *tx)
        .await;
        tx.rollback().await.ok();
        out.push((call, json.map_err(|e| e.to_string()).unwrap_or_else(Some)));
    }
    out
}

struct Seed {
    tenant: Uuid,
    user: Uuid,
    invitee: String,
    key_hash: String,
    token_hash: String,
}

/// A tenant with a member, an ingest key, a lead, an open invitation and a
/// workspace, so that each function has something to return.
async fn seed(app: &TestApp) -> Seed {
    let tenant = app.tenant("Shadowed", Tier::Pro).await;
    let (user, _) = app
        .member(&tenant, "agent@shadowed.test", Role::Agent)
        .await;
    let key = app.ingest_key(&tenant.slug).await;
    app.anon()
        .ingest_lead(&key, &lead("Ada Lovelace"), None)
        .await
        .unwrap();
    let invitee = "new@shadowed.test".to_string();
    app.admin
        .create_invitation(
            &tenant.slug,
            &NewInvitation {
                email: invitee.clone(),
                role: Role::Viewer,
            },
        )
        .await
        .unwrap();
    app.admin
        .create_workspace(
            &tenant.slug,
            &NewWorkspace {
                name: "Front desk".into(),
                channel: Channel::WebForm,
                agent_id: None,
                strategy_active: false,
            },
        )
        .await
        .unwrap();
    let mut owner = connect(app.owner_url.as_deref().unwrap()).await;
    let key_hash: String =
        sqlx::query_scalar("SELECT key_hash FROM api_keys WHERE tenant_id = $1 LIMIT 1")
            .bind(tenant.id)
            .fetch_one(&mut owner)
            .await
            .unwrap();
    let token_hash: String =
        sqlx::query_scalar("SELECT token_hash FROM invitations WHERE tenant_id = $1 LIMIT 1")
            .bind(tenant.id)
            .fetch_one(&mut owner)
            .await
            .unwrap();
    Seed {
        tenant: tenant.id,
        user: user.id,
        invitee,
        key_hash,
        token_hash,
    }
}

#[tokio::test]
async fn api8_temporary_tables_and_types_do_not_shadow_what_security_definer_functions_read() {
    let Some(_) = admin_url() else { return };
    let app = spawn().await;
    let seed = seed(&app).await;
    let db: String = {
        let mut owner = connect(app.owner_url.as_deref().unwrap()).await;
        let db: String = sqlx::query_scalar("SELECT current_database()::text")
            .fetch_one(&mut owner)
            .await
            .unwrap();
        // The attacker's best case: the role may create temporary objects
        // (PostgreSQL's default for PUBLIC).
        sqlx::query(&format!(
            "GRANT TEMPORARY ON DATABASE {db} TO {}",
            store::postgres::APP_ROLE
        ))
        .execute(&mut owner)
        .await
        .unwrap();
        db
    };
    let mut conn = connect(&app.database_url).await;
    let honest = definer_reads(&mut conn, &seed).await;
    for (call, json) in &honest {
        let json = json.as_deref().unwrap_or("null");
        assert!(
            json.starts_with('['),
            "{call} returned nothing to compare: {json}"
        );
    }

    // Empty look-alikes of every table in the schema, and of the types the
    // functions cast to, in the session's temporary schema: PostgreSQL
    // searches it first for relations and types unless search_path lists
    // pg_temp, so an unqualified name in a function would now read these.
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::pg_catalog.text FROM pg_catalog.pg_class c \
           JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
          WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(tables.len() > 20, "{tables:?}");
    for table in &tables {
        sqlx::query(&format!(
            "CREATE TEMPORARY TABLE {table} (LIKE public.{table})"
        ))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("shadow {table} in {db}: {e}"));
    }
    for ty in ["uuid", "date", "jsonb"] {
        sqlx::query(&format!("CREATE TYPE pg_temp.{ty} AS ENUM ('shadow')"))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let shadowed = definer_reads(&mut conn, &seed).await;
    assert_eq!(honest, shadowed);
}
