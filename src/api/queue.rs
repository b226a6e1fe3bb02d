//! Calls across the caller's tenants: the lead queue and the live events of
//! every tenant on one connection.

use reqwest::Method;

use super::{ApiResult, Client, EventStream};
use crate::domain::{LeadQuery, Page, QueueLead};

impl Client {
    /// Leads across every tenant the caller may see (`GET /api/v1/leads`),
    /// through the per-tenant list's filters; only `tenants` (ids or slugs)
    /// when some are named.
    pub async fn list_queue(
        &self,
        query: &LeadQuery,
        tenants: &[String],
    ) -> ApiResult<Page<QueueLead>> {
        let named: Vec<(&str, &str)> = tenants.iter().map(|t| ("tenant", t.as_str())).collect();
        let rb = self
            .request(Method::GET, "/api/v1/leads")
            .query(query)
            .query(&named);
        self.json(rb).await
    }

    /// Live events of every tenant the caller may see, each naming its
    /// tenant (`data.tenant`), resuming after `last_event_id` when given.
    pub async fn all_events(&self, last_event_id: Option<i64>) -> ApiResult<EventStream> {
        let mut rb = self
            .stream_request(Method::GET, "/api/v1/events")
            .header("accept", "text/event-stream");
        if let Some(id) = last_event_id {
            rb = rb.header("last-event-id", id.to_string());
        }
        Ok(EventStream::new(self.send(rb).await?))
    }
}
