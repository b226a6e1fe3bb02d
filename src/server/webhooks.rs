//! Webhook endpoints per tenant: CRUD, secret rotation, the delivery log and
//! replay. Delivery itself is the dispatcher's (`dispatch.rs`).

use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use super::access::Need;
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Path, Query, Session};
use super::AppState;
use crate::domain::webhook::validate;
use crate::domain::{
    secret, NewWebhook, Page, PageQuery, Permission, Problem, Webhook, WebhookDelivery,
    WebhookDeliveryDetail, WebhookPatch, WebhookWithSecret,
};
use crate::store::{WebhookChange, WebhookRow};

const MANAGE: Need = Need::Permission(Permission::SettingsManage);

fn new_secret() -> String {
    secret::generate("whsec_")
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/webhooks", tag = "webhooks",
    params(("tenant" = String, Path, description = "tenant id or slug")),
    responses((status = 200, body = Vec<Webhook>), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
) -> ApiResult<Json<Vec<Webhook>>> {
    let access = session.tenant(&state, &tenant, MANAGE).await?;
    Ok(Json(state.store.list_webhooks(access.tenant.id).await?))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/webhooks", tag = "webhooks",
    params(("tenant" = String, Path, description = "tenant id or slug")), request_body = NewWebhook,
    responses((status = 201, body = WebhookWithSecret, description = "the endpoint and its signing secret, shown only now"),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
    Json(new): Json<NewWebhook>,
) -> ApiResult<(StatusCode, Json<WebhookWithSecret>)> {
    let access = session.tenant_for_change(&state, &tenant, MANAGE).await?;
    let (url, events) = validate(&new.url, &new.events).map_err(ApiError::invalid)?;
    reachable(&state, &url)?;
    let secret = new_secret();
    let row = WebhookRow {
        url,
        events,
        enabled: new.enabled.unwrap_or(true),
        secret: secret.clone(),
    };
    let webhook = state
        .store
        .create_webhook(&access.actor, access.tenant.id, row, state.clock.now())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(WebhookWithSecret { webhook, secret }),
    ))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/webhooks/{id}", tag = "webhooks",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    responses((status = 200, body = Webhook), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
) -> ApiResult<Json<Webhook>> {
    let access = session.tenant(&state, &tenant, MANAGE).await?;
    let webhook = state.store.webhook(access.tenant.id, id).await?;
    Ok(Json(webhook.ok_or(ApiError::NotFound)?))
}

#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}/webhooks/{id}", tag = "webhooks",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    request_body = WebhookPatch,
    responses((status = 200, body = Webhook), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
    Json(patch): Json<WebhookPatch>,
) -> ApiResult<Json<Webhook>> {
    let access = session.tenant_for_change(&state, &tenant, MANAGE).await?;
    let before = state
        .store
        .webhook(access.tenant.id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let url = patch.url.as_deref().unwrap_or(&before.url);
    let events = patch.events.as_deref().unwrap_or(&before.events);
    let (url, events) = validate(url, events).map_err(ApiError::invalid)?;
    if patch.url.is_some() {
        reachable(&state, &url)?;
    }
    let change = WebhookChange {
        url: patch.url.is_some().then_some(url),
        events: patch.events.is_some().then_some(events),
        enabled: patch.enabled,
    };
    let webhook = state
        .store
        .update_webhook(
            &access.actor,
            access.tenant.id,
            id,
            change,
            state.clock.now(),
        )
        .await?;
    if patch.enabled == Some(true) {
        // Pending deliveries of a re-enabled endpoint are due again.
        state.notify(access.tenant.id);
    }
    Ok(Json(webhook))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/webhooks/{id}", tag = "webhooks",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
) -> ApiResult<StatusCode> {
    let access = session.tenant_for_change(&state, &tenant, MANAGE).await?;
    state
        .store
        .delete_webhook(&access.actor, access.tenant.id, id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/webhooks/{id}/rotate-secret", tag = "webhooks",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    responses((status = 200, body = WebhookWithSecret, description = "the new secret, shown only now; the old one stops signing at once"),
        (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
) -> ApiResult<Json<WebhookWithSecret>> {
    let access = session.tenant_for_change(&state, &tenant, MANAGE).await?;
    let secret = new_secret();
    let webhook = state
        .store
        .rotate_webhook_secret(
            &access.actor,
            access.tenant.id,
            id,
            &secret,
            state.clock.now(),
        )
        .await?;
    Ok(Json(WebhookWithSecret { webhook, secret }))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/webhooks/{id}/deliveries", tag = "webhooks",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path), PageQuery),
    responses((status = 200, body = Page<WebhookDelivery>, description = "newest event first, each with every attempt"),
        (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn deliveries(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<WebhookDelivery>>> {
    if page.limit == Some(0) {
        return Err(ApiError::field("limit", "must be between 1 and 200"));
    }
    let access = session.tenant(&state, &tenant, MANAGE).await?;
    if state.store.webhook(access.tenant.id, id).await?.is_none() {
        return Err(ApiError::NotFound);
    }
    Ok(Json(
        state
            .store
            .list_deliveries(access.tenant.id, id, &page)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/webhooks/{id}/deliveries/{delivery}/replay", tag = "webhooks",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path), ("delivery" = Uuid, Path)),
    responses((status = 202, body = WebhookDelivery, description = "queued again with the same event id"),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn replay(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id, delivery)): Path<(String, Uuid, Uuid)>,
) -> ApiResult<(StatusCode, Json<WebhookDelivery>)> {
    let access = session.tenant_for_change(&state, &tenant, MANAGE).await?;
    enabled_endpoint(&state, access.tenant.id, id, "replay").await?;
    let d = state
        .store
        .replay_delivery(
            &access.actor,
            access.tenant.id,
            id,
            delivery,
            state.clock.now(),
        )
        .await?;
    state.notify(access.tenant.id);
    Ok((StatusCode::ACCEPTED, Json(d)))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/webhooks/{id}/deliveries/{delivery}", tag = "webhooks",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path), ("delivery" = Uuid, Path)),
    responses((status = 200, body = WebhookDeliveryDetail, description = "the delivery, every attempt and the request body each sends"),
        (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn delivery(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id, delivery)): Path<(String, Uuid, Uuid)>,
) -> ApiResult<Json<WebhookDeliveryDetail>> {
    let access = session.tenant(&state, &tenant, MANAGE).await?;
    let tenant_id = access.tenant.id;
    let (delivery, event) = state
        .store
        .webhook_delivery(tenant_id, id, delivery)
        .await?
        .ok_or(ApiError::NotFound)?;
    // Events a delivery refers to are kept (retention skips them).
    let event = event.unwrap_or_else(|| crate::store::EventRecord {
        id: delivery.event_seq,
        tenant_id,
        kind: delivery.event_type.clone(),
        data: serde_json::Value::Null,
        created_at: delivery.created_at,
    });
    let payload = super::dispatch::event_payload(tenant_id, &event);
    Ok(Json(WebhookDeliveryDetail { delivery, payload }))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/webhooks/{id}/test", tag = "webhooks",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    responses((status = 202, body = WebhookDelivery, description = "a `webhook.test` event queued for this endpoint only"),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn send_test(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
) -> ApiResult<(StatusCode, Json<WebhookDelivery>)> {
    let access = session.tenant_for_change(&state, &tenant, MANAGE).await?;
    enabled_endpoint(&state, access.tenant.id, id, "test it").await?;
    let d = state
        .store
        .send_test_event(&access.actor, access.tenant.id, id, state.clock.now())
        .await?;
    state.notify(access.tenant.id);
    Ok((StatusCode::ACCEPTED, Json(d)))
}

/// The tenant's endpoint `id` (404 when it has none), refused with 409 when
/// it is disabled: nothing is sent to it until it is enabled again.
async fn enabled_endpoint(
    state: &AppState,
    tenant_id: Uuid,
    id: Uuid,
    to: &str,
) -> ApiResult<Webhook> {
    let webhook = state
        .store
        .webhook(tenant_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if !webhook.enabled {
        return Err(ApiError::Conflict {
            field: "enabled".into(),
            detail: format!("the endpoint is disabled; enable it (PATCH enabled=true) to {to}"),
        });
    }
    Ok(webhook)
}

/// Refuses a receiver on a loopback or private address, unless this server
/// allows them (`webhook_private_targets`).
fn reachable(state: &AppState, url: &str) -> ApiResult<()> {
    if state.settings.webhook_private_targets {
        return Ok(());
    }
    match crate::domain::webhook::private_host(url) {
        None => Ok(()),
        Some(host) => Err(ApiError::field(
            "url",
            format!(
                "points at {host}, a loopback or private address; this server delivers only to \
                 public addresses (an operator can allow private ones with \
                 webhook_private_targets = true)"
            ),
        )),
    }
}
