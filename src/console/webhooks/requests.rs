//! The webhooks screen's API calls, their replies, and how to perform them.

use uuid::Uuid;

use crate::api::{ApiError, ApiResult, Client};
use crate::domain::{
    NewWebhook, Page, PageQuery, Webhook, WebhookDelivery, WebhookDeliveryDetail, WebhookPatch,
    WebhookWithSecret,
};

/// Deliveries per page of an endpoint's log.
pub const DELIVERIES_PAGE: u32 = 50;

/// Tenants are addressed by id (it survives a slug change).
#[derive(Debug, Clone, PartialEq)]
pub enum WebhookRequest {
    List {
        tenant: String,
    },
    Create {
        tenant: String,
        new: NewWebhook,
    },
    Update {
        tenant: String,
        id: Uuid,
        patch: WebhookPatch,
    },
    Delete {
        tenant: String,
        id: Uuid,
    },
    RotateSecret {
        tenant: String,
        id: Uuid,
    },
    SendTest {
        tenant: String,
        id: Uuid,
    },
    /// A page of the endpoint's deliveries, newest first.
    Deliveries {
        tenant: String,
        id: Uuid,
        cursor: Option<String>,
    },
    Delivery {
        tenant: String,
        id: Uuid,
        delivery: Uuid,
    },
    Replay {
        tenant: String,
        id: Uuid,
        delivery: Uuid,
    },
}

#[derive(Debug, Clone)]
pub enum WebhookResponse {
    List(ApiResult<Vec<Webhook>>),
    Created(ApiResult<WebhookWithSecret>),
    Updated(ApiResult<Webhook>),
    Deleted(ApiResult<()>),
    Rotated(ApiResult<WebhookWithSecret>),
    Tested(ApiResult<WebhookDelivery>),
    Deliveries(ApiResult<Page<WebhookDelivery>>),
    Delivery(ApiResult<WebhookDeliveryDetail>),
    Replayed(ApiResult<WebhookDelivery>),
}

impl WebhookResponse {
    pub fn error(&self) -> Option<&ApiError> {
        match self {
            WebhookResponse::List(r) => r.as_ref().err(),
            WebhookResponse::Created(r) | WebhookResponse::Rotated(r) => r.as_ref().err(),
            WebhookResponse::Updated(r) => r.as_ref().err(),
            WebhookResponse::Deleted(r) => r.as_ref().err(),
            WebhookResponse::Tested(r) | WebhookResponse::Replayed(r) => r.as_ref().err(),
            WebhookResponse::Deliveries(r) => r.as_ref().err(),
            WebhookResponse::Delivery(r) => r.as_ref().err(),
        }
    }
}

/// Performs one request. Runs in a spawned task, never in the UI loop.
pub async fn execute(client: &Client, req: WebhookRequest) -> WebhookResponse {
    use WebhookRequest as R;
    use WebhookResponse as A;
    match req {
        R::List { tenant } => A::List(client.list_webhooks(&tenant).await),
        R::Create { tenant, new } => A::Created(client.create_webhook(&tenant, &new).await),
        R::Update { tenant, id, patch } => {
            A::Updated(client.update_webhook(&tenant, id, &patch).await)
        }
        R::Delete { tenant, id } => A::Deleted(client.delete_webhook(&tenant, id).await),
        R::RotateSecret { tenant, id } => {
            A::Rotated(client.rotate_webhook_secret(&tenant, id).await)
        }
        R::SendTest { tenant, id } => A::Tested(client.test_webhook(&tenant, id).await),
        R::Deliveries { tenant, id, cursor } => {
            let page = PageQuery {
                limit: Some(DELIVERIES_PAGE),
                cursor,
            };
            A::Deliveries(client.webhook_deliveries(&tenant, id, &page).await)
        }
        R::Delivery {
            tenant,
            id,
            delivery,
        } => A::Delivery(client.webhook_delivery(&tenant, id, delivery).await),
        R::Replay {
            tenant,
            id,
            delivery,
        } => A::Replayed(client.replay_webhook_delivery(&tenant, id, delivery).await),
    }
}
