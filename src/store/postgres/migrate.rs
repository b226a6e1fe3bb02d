//! `switchboard migrate`: the schema, the application role and its grants
//! (run as the owner); and the checks `serve` makes before it trusts a role.

use anyhow::Context;
use sqlx::PgPool;

use super::pool;
use crate::store::schema;

/// The role servers connect as: LOGIN, NOSUPERUSER, NOBYPASSRLS, owns nothing.
pub const APP_ROLE: &str = "switchboard_app";

const MIGRATE_HINT: &str = "run `switchboard migrate --database-url postgres://OWNER@HOST/DB` \
     as the database owner first";

fn migrator() -> &'static sqlx::migrate::Migrator {
    &crate::store::schema::POSTGRES
}

/// Migrates the database `owner_url` names, as that URL's user (who then
/// owns the tables and functions), creates the application role when
/// missing, and grants it DML on the tables and EXECUTE on the functions.
pub async fn migrate(owner_url: &str) -> anyhow::Result<()> {
    let pool = pool(owner_url, 2).await?;
    if let Some(applied) = schema::postgres_applied(&pool).await? {
        schema::refuse_unknown(&applied, migrator())?;
    }
    ensure_app_role(&pool).await?;
    migrator()
        .run(&pool)
        .await
        .context("cannot migrate the PostgreSQL database")?;
    grant_app_role(&pool).await?;
    lock_schema(&pool).await?;
    pool.close().await;
    Ok(())
}

/// Roles are cluster-wide: several databases (or test runs) may create it at
/// once, so a concurrent creation counts as success.
async fn ensure_app_role(pool: &PgPool) -> anyhow::Result<()> {
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
            .bind(APP_ROLE)
            .fetch_one(pool)
            .await
            .context("cannot look up the application role")?;
    if exists {
        return Ok(());
    }
    let created = sqlx::query(&format!(
        "CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE"
    ))
    .execute(pool)
    .await;
    match created {
        Ok(_) => Ok(()),
        // duplicate_object, or unique_violation on pg_authid when two
        // sessions race past the EXISTS check.
        Err(sqlx::Error::Database(db))
            if matches!(db.code().as_deref(), Some("42710") | Some("23505")) =>
        {
            Ok(())
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!(
            "cannot create the application role {APP_ROLE} (the migrating user needs CREATEROLE)"
        ))),
    }
}

async fn grant_app_role(pool: &PgPool) -> anyhow::Result<()> {
    let grants = [
        format!("GRANT USAGE ON SCHEMA public TO {APP_ROLE}"),
        format!(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}"
        ),
        // The migrations table is the owner's: the server only reads it to
        // refuse to start on a schema it does not know.
        format!("REVOKE INSERT, UPDATE, DELETE ON _sqlx_migrations FROM {APP_ROLE}"),
        format!("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}"),
        // Only the store's own functions (sb_*), owned by this role.
        format!(
            "DO $$ DECLARE f regprocedure; BEGIN \
               FOR f IN SELECT p.oid::regprocedure FROM pg_proc p \
                 JOIN pg_namespace n ON n.oid = p.pronamespace \
                 WHERE n.nspname = 'public' AND p.proname LIKE 'sb\\_%' \
                   AND p.proowner = (SELECT oid FROM pg_roles WHERE rolname = current_user) \
               LOOP EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO {APP_ROLE}', f); END LOOP; \
             END $$"
        ),
    ];
    for sql in grants {
        sqlx::query(&sql)
            .execute(pool)
            .await
            .with_context(|| format!("cannot grant the application role its rights ({sql})"))?;
    }
    Ok(())
}

/// Only the owner creates objects in the schema: a table or function that
/// another role plants there could shadow the store's own or wait for the
/// owner to call it. PostgreSQL 15 no longer grants CREATE on `public` to
/// PUBLIC, but databases created by older versions (or restored from their
/// dumps) still do, and a grant may be added later, so every `migrate` takes
/// it back and then checks that the application role has no way left to
/// create there. Temporary objects cannot shadow what the owner's functions
/// read (they name everything schema-qualified, 0009), but the application
/// has no use for them either, so PUBLIC loses TEMPORARY on the database
/// (a no-op, with a server warning, when the migrating role does not own it).
async fn lock_schema(pool: &PgPool) -> anyhow::Result<()> {
    let revokes = [
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC".to_string(),
        format!("REVOKE CREATE ON SCHEMA public FROM {APP_ROLE}"),
        "DO $$ BEGIN \
           EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database()); \
         END $$"
            .to_string(),
    ];
    for sql in revokes {
        sqlx::query(&sql)
            .execute(pool)
            .await
            .with_context(|| format!("cannot take CREATE on the schema back ({sql})"))?;
    }
    let can_create: bool =
        sqlx::query_scalar("SELECT has_schema_privilege($1, 'public', 'CREATE')")
            .bind(APP_ROLE)
            .fetch_one(pool)
            .await
            .context("cannot check the application role's rights on the schema")?;
    if can_create {
        anyhow::bail!(
            "the application role {APP_ROLE} may still CREATE in schema public after the \
             REVOKE (the migrating user does not own the schema, or {APP_ROLE} is a member of \
             a role granted CREATE there); revoke it as the schema's owner"
        );
    }
    Ok(())
}

/// Refuses a role that RLS would not hold: a superuser, a BYPASSRLS role,
/// the owner of the tables (FORCE RLS binds owners, but an owner can turn
/// it off) or a member of the owner's role (it can `SET ROLE` to the owner,
/// and inherits the owner's policies), and a role that may create objects in
/// the schema (it could plant one for the owner's code to find).
pub(super) async fn check_app_role(pool: &PgPool) -> anyhow::Result<()> {
    let (user, superuser, bypass): (String, bool, bool) = sqlx::query_as(
        "SELECT rolname::text, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user",
    )
    .fetch_one(pool)
    .await
    .context("cannot read the connecting role's attributes")?;
    if superuser || bypass {
        anyhow::bail!(
            "the database role {user:?} is a superuser or has BYPASSRLS, so row-level security \
             would not isolate tenants; serve as the application role instead \
             (postgres://{APP_ROLE}@HOST/DB), which `switchboard migrate` creates"
        );
    }
    let owned: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user",
    )
    .fetch_one(pool)
    .await
    .context("cannot check which tables the connecting role owns")?;
    if owned > 0 {
        anyhow::bail!(
            "the database role {user:?} owns the tables, so it could disable row-level security; \
             migrate as the owner and serve as the application role (postgres://{APP_ROLE}@HOST/DB)"
        );
    }
    // The owner is whoever owns the tenants table (none yet: the migration
    // check that follows refuses the unmigrated database).
    let owner: Option<(String, bool)> = sqlx::query_as(
        "SELECT r.rolname::text, pg_has_role(current_user, r.oid, 'MEMBER') \
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
           JOIN pg_roles r ON r.oid = c.relowner \
          WHERE n.nspname = 'public' AND c.relname = 'tenants' AND c.relkind = 'r'",
    )
    .fetch_optional(pool)
    .await
    .context("cannot check the connecting role's membership of the owner's role")?;
    if let Some((owner, true)) = owner {
        anyhow::bail!(
            "the database role {user:?} is a member of {owner:?}, the role that owns the tables, \
             so it could SET ROLE {owner} and see past row-level security; serve as the \
             application role (postgres://{APP_ROLE}@HOST/DB), which is no member of it"
        );
    }
    let can_create: bool =
        sqlx::query_scalar("SELECT has_schema_privilege(current_user, 'public', 'CREATE')")
            .fetch_one(pool)
            .await
            .context("cannot check the connecting role's rights on the schema")?;
    if can_create {
        anyhow::bail!(
            "the database role {user:?} may CREATE in schema public, so it could plant objects \
             that shadow the store's own; run `switchboard migrate` as the owner, which revokes \
             that, or revoke it by hand"
        );
    }
    Ok(())
}

/// Refuses to serve a schema older (or newer) than this binary's migrations.
pub(super) async fn check_migrated(pool: &PgPool) -> anyhow::Result<()> {
    let applied: Vec<i64> = match sqlx::query_scalar(
        "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version",
    )
    .fetch_all(pool)
    .await
    {
        Ok(v) => v,
        Err(e) => {
            return Err(anyhow::Error::new(e).context(format!(
                "the database has no Switchboard schema: {MIGRATE_HINT}"
            )))
        }
    };
    schema::refuse_unknown(&applied, migrator())?;
    let known: Vec<i64> = migrator().iter().map(|m| m.version).collect();
    if known.iter().any(|v| !applied.contains(v)) {
        anyhow::bail!("the database has pending migrations: {MIGRATE_HINT}");
    }
    Ok(())
}
