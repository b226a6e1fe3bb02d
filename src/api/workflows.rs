//! Lead workflow calls: start, list, read, approve, reject, cancel, retry.

use uuid::Uuid;

use super::{ApiResult, Client};
use crate::domain::{ApproveWorkflow, RejectWorkflow, StartWorkflow, Workflow, WorkflowStatus};

fn workflows(tenant: &str) -> String {
    format!("/api/v1/tenants/{tenant}/workflows")
}

impl Client {
    /// Starts a workflow for a lead with `agent` (default: its workspace's).
    pub async fn start_workflow(
        &self,
        tenant: &str,
        lead: Uuid,
        agent: Option<Uuid>,
    ) -> ApiResult<Workflow> {
        self.post(
            &format!("/api/v1/tenants/{tenant}/leads/{lead}/workflow"),
            &StartWorkflow { agent_id: agent },
        )
        .await
    }

    /// Newest first, optionally of one status and/or one lead.
    pub async fn workflows(
        &self,
        tenant: &str,
        status: Option<WorkflowStatus>,
        lead: Option<Uuid>,
    ) -> ApiResult<Vec<Workflow>> {
        let mut q: Vec<(&str, String)> = Vec::new();
        if let Some(s) = status {
            q.push(("status", s.as_str().to_string()));
        }
        if let Some(l) = lead {
            q.push(("lead", l.to_string()));
        }
        let rb = self
            .request(reqwest::Method::GET, &workflows(tenant))
            .query(&q);
        self.json(rb).await
    }

    pub async fn workflow(&self, tenant: &str, id: Uuid) -> ApiResult<Workflow> {
        self.get(&format!("{}/{id}", workflows(tenant))).await
    }

    /// Sends the draft, or `reply` (an edit of it), as the lead's reply.
    pub async fn approve_workflow(
        &self,
        tenant: &str,
        id: Uuid,
        reply: Option<String>,
    ) -> ApiResult<Workflow> {
        self.post(
            &format!("{}/{id}/approve", workflows(tenant)),
            &ApproveWorkflow { reply },
        )
        .await
    }

    pub async fn reject_workflow(
        &self,
        tenant: &str,
        id: Uuid,
        reason: &str,
    ) -> ApiResult<Workflow> {
        let body = RejectWorkflow {
            reason: reason.to_string(),
        };
        self.post(&format!("{}/{id}/reject", workflows(tenant)), &body)
            .await
    }

    pub async fn cancel_workflow(&self, tenant: &str, id: Uuid) -> ApiResult<Workflow> {
        self.post(&format!("{}/{id}/cancel", workflows(tenant)), &())
            .await
    }

    pub async fn retry_workflow(&self, tenant: &str, id: Uuid) -> ApiResult<Workflow> {
        self.post(&format!("{}/{id}/retry", workflows(tenant)), &())
            .await
    }
}
