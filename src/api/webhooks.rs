//! Webhook calls: endpoints, secret rotation, the delivery log and replay.

use uuid::Uuid;

use super::{ApiResult, Client};
use crate::domain::{
    NewWebhook, Page, PageQuery, Webhook, WebhookDelivery, WebhookDeliveryDetail, WebhookPatch,
    WebhookWithSecret,
};

fn webhooks(tenant: &str) -> String {
    format!("/api/v1/tenants/{tenant}/webhooks")
}

impl Client {
    pub async fn list_webhooks(&self, tenant: &str) -> ApiResult<Vec<Webhook>> {
        self.get(&webhooks(tenant)).await
    }

    /// The secret in the answer is shown only this once.
    pub async fn create_webhook(
        &self,
        tenant: &str,
        new: &NewWebhook,
    ) -> ApiResult<WebhookWithSecret> {
        self.post(&webhooks(tenant), new).await
    }

    pub async fn webhook(&self, tenant: &str, id: Uuid) -> ApiResult<Webhook> {
        self.get(&format!("{}/{id}", webhooks(tenant))).await
    }

    pub async fn update_webhook(
        &self,
        tenant: &str,
        id: Uuid,
        patch: &WebhookPatch,
    ) -> ApiResult<Webhook> {
        self.patch(&format!("{}/{id}", webhooks(tenant)), patch)
            .await
    }

    pub async fn delete_webhook(&self, tenant: &str, id: Uuid) -> ApiResult<()> {
        self.delete(&format!("{}/{id}", webhooks(tenant))).await
    }

    /// A new secret, shown only this once; the old one stops signing at once.
    pub async fn rotate_webhook_secret(
        &self,
        tenant: &str,
        id: Uuid,
    ) -> ApiResult<WebhookWithSecret> {
        let path = format!("{}/{id}/rotate-secret", webhooks(tenant));
        self.post(&path, &serde_json::json!({})).await
    }

    /// Newest event first, each delivery with every attempt.
    pub async fn webhook_deliveries(
        &self,
        tenant: &str,
        id: Uuid,
        page: &PageQuery,
    ) -> ApiResult<Page<WebhookDelivery>> {
        let path = format!("{}/{id}/deliveries", webhooks(tenant));
        self.get_page(&path, page).await
    }

    /// Sends the delivery's event again (same event id).
    pub async fn replay_webhook_delivery(
        &self,
        tenant: &str,
        id: Uuid,
        delivery: Uuid,
    ) -> ApiResult<WebhookDelivery> {
        let path = format!("{}/{id}/deliveries/{delivery}/replay", webhooks(tenant));
        self.post(&path, &serde_json::json!({})).await
    }

    /// One delivery, every attempt and the request body each sends.
    pub async fn webhook_delivery(
        &self,
        tenant: &str,
        id: Uuid,
        delivery: Uuid,
    ) -> ApiResult<WebhookDeliveryDetail> {
        self.get(&format!("{}/{id}/deliveries/{delivery}", webhooks(tenant)))
            .await
    }

    /// Queues a `webhook.test` event for this endpoint only.
    pub async fn test_webhook(&self, tenant: &str, id: Uuid) -> ApiResult<WebhookDelivery> {
        let path = format!("{}/{id}/test", webhooks(tenant));
        self.post(&path, &serde_json::json!({})).await
    }
}
