//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::extract::Json;
use super::{
    account, agents, analytics, api_keys, auth, events, import, ingest, leads, members, playground,
    tenants, webhooks, workflows, workspaces,
};
use crate::domain::*;

#[derive(OpenApi)]
#[openapi(
    info(title = "Switchboard API", description = "Tenants, members, API keys and audit for the Switchboard platform."),
    paths(
        auth::login, auth::logout, auth::me, auth::models, account::change_password,
        account::logout_all, account::my_invitations, account::accept_mine, account::decline_mine,
        tenants::list, tenants::create, tenants::get, tenants::update, tenants::suspend, tenants::reactivate,
        members::list, members::add, members::change_role, members::remove,
        members::list_invitations, members::invite, members::revoke_invitation, members::accept,
        api_keys::list, api_keys::create, api_keys::revoke, api_keys::audit,
        ingest::ingest,
        leads::list, leads::create, leads::get, leads::update, leads::delete, leads::add_note,
        leads::timeline, leads::bulk, leads::usage, events::stream,
        import::import_sample, import::import_csv, import::export_csv,
        agents::list, agents::create, agents::get, agents::update, agents::delete,
        agents::versions, agents::version, agents::restore, agents::set_sharing,
        workspaces::list, workspaces::create, workspaces::get, workspaces::update, workspaces::delete,
        playground::list, playground::create, playground::get, playground::delete,
        playground::send, playground::cancel, playground::save_as_lead,
        workflows::start, workflows::list, workflows::get, workflows::approve, workflows::reject,
        workflows::cancel, workflows::retry,
        analytics::tenant, analytics::platform, analytics::overview,
        webhooks::list, webhooks::create, webhooks::get, webhooks::update, webhooks::delete,
        webhooks::rotate_secret, webhooks::deliveries, webhooks::replay,
    ),
    components(schemas(Problem, FieldError, Tenant, Role, Permission, Tier, TenantStatus, WebhookPayload)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
            components.add_security_scheme(
                "api_key",
                SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Api-Key"))),
            );
        }
    }
}

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
