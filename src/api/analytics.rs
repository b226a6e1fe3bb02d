//! Analytics calls: per tenant, across tenants, the platform overview.

use super::{ApiResult, Client};

impl Client {
    /// A tenant's figures over `[from, to]` (UTC days; default the last 30).
    pub async fn analytics(
        &self,
        tenant: &str,
        query: &crate::domain::AnalyticsQuery,
    ) -> ApiResult<crate::domain::Analytics> {
        let rb = self
            .request(
                reqwest::Method::GET,
                &format!("/api/v1/tenants/{tenant}/analytics"),
            )
            .query(query);
        self.json(rb).await
    }

    /// The same across every tenant (platform admins).
    pub async fn platform_analytics(
        &self,
        query: &crate::domain::AnalyticsQuery,
    ) -> ApiResult<crate::domain::Analytics> {
        let rb = self
            .request(reqwest::Method::GET, "/api/v1/analytics")
            .query(query);
        self.json(rb).await
    }

    /// One row per client tenant: the operator's morning table.
    pub async fn platform_overview(&self) -> ApiResult<Vec<crate::domain::TenantOverview>> {
        self.get("/api/v1/analytics/overview").await
    }
}
