//! A tenant's usage and its rate limits.

use super::{ApiResult, Client};
use crate::domain::usage::{RateLimits, RateOverrides, Usage, UsageQuery};

impl Client {
    /// The tenant's usage over the last 30 days, without storage.
    pub async fn usage(&self, tenant: &str) -> ApiResult<Usage> {
        self.tenant_usage(tenant, &UsageQuery::default()).await
    }

    /// What the tenant did per day over `[from, to]` (default the last 30
    /// days), what it stores, and the limits that apply to it.
    pub async fn tenant_usage(&self, tenant: &str, query: &UsageQuery) -> ApiResult<Usage> {
        let rb = self
            .request(
                reqwest::Method::GET,
                &format!("/api/v1/tenants/{tenant}/usage"),
            )
            .query(query);
        self.json(rb).await
    }

    /// Sets the tenant's own limits (`None`: the tier's default). Platform
    /// admins only.
    pub async fn set_tenant_limits(
        &self,
        tenant: &str,
        limits: &RateOverrides,
    ) -> ApiResult<RateLimits> {
        let path = format!("/api/v1/tenants/{tenant}/limits");
        self.json(self.request(reqwest::Method::PUT, &path).json(limits))
            .await
    }
}
