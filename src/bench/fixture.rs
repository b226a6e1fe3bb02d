//! The common setup of harnesses: a platform admin, an enterprise tenant
//! (no monthly limit) and an ingest key, made through the real API.

use crate::api::Client;
use crate::domain::{NewApiKey, NewTenant, Tenant, Tier};
use crate::server::password;
use crate::store::DynStore;

pub const ADMIN_EMAIL: &str = "bench@local";
/// Harness-only credentials for throwaway databases.
pub const ADMIN_PASSWORD: &str = "bench-password";

/// Creates the platform admin directly in the store (as `user add` does).
pub async fn create_admin(store: &DynStore) -> anyhow::Result<()> {
    let hash = password::hash(ADMIN_PASSWORD.into()).await?;
    store
        .create_user(ADMIN_EMAIL, "bench", Some(&hash), true)
        .await?;
    Ok(())
}

/// Signs in as the admin at `base`.
pub async fn admin_client(base: &str) -> anyhow::Result<Client> {
    let login = Client::new(base)?
        .login(ADMIN_EMAIL, ADMIN_PASSWORD)
        .await?;
    Ok(Client::new(base)?.with_token(login.token))
}

/// A new enterprise tenant called `name` and an ingest key for it.
pub async fn tenant_with_key(admin: &Client, name: &str) -> anyhow::Result<(Tenant, String)> {
    let tenant = admin
        .create_tenant(&NewTenant {
            name: name.into(),
            tier: Some(Tier::Enterprise),
            ..Default::default()
        })
        .await?;
    let key = admin
        .create_api_key(
            &tenant.slug,
            &NewApiKey {
                name: format!("{name} key"),
                scope: None,
                workspace_id: None,
            },
        )
        .await?
        .key;
    Ok((tenant, key))
}
