//! The typed HTTP client: every console call and every HTTP test goes through
//! it. It speaks the shared domain types and turns problem+json into
//! [`ApiError`].

mod account;
mod analytics;
mod evals;
mod events;
mod knowledge;
mod platform;
mod playground;
mod queue;
mod usage;
mod webhooks;
mod workflows;

use std::path::Path;
use std::time::Duration;

use anyhow::Context;

pub use events::EventStream;
pub use playground::ReplyStream;

use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;

use crate::domain::{
    AcceptInvitation, AcceptedInvitation, Agent, AgentCopy, AgentPatch, AgentSort, AgentVersion,
    ApiKey, AuditEvent, BulkLeads, BulkResult, CreatedApiKey, CreatedInvitation, Grants,
    ImportReport, IngestReceipt, Invitation, Lead, LeadInput, LeadPatch, LeadQuery, LoginRequest,
    LoginResponse, Me, Member, MemberAdded, MemberPermissions, NewAgent, NewApiKey, NewInvitation,
    NewMember, NewNote, NewTenant, NewWorkspace, Page, PageQuery, Problem, ProblemKind, Role,
    RoleChange, RotateApiKey, RotatedApiKey, SharingChange, Tenant, TenantDeletion, TenantPatch,
    TimelineEntry, Workspace, WorkspacePatch,
};

#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// The server answered with a problem.
    #[error("{0}")]
    Problem(Problem),
    /// The server could not be reached (refused, timed out, reset).
    #[error("cannot reach the server at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// The server answered something this client does not understand.
    #[error("unexpected answer from the server: {0}")]
    Decode(String),
    /// A local step around the call failed (reading or writing a file).
    #[error("{0}")]
    Local(String),
}

impl ApiError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Problem(p) => Some(p.status),
            _ => None,
        }
    }

    pub fn problem(&self) -> Option<&Problem> {
        match self {
            ApiError::Problem(p) => Some(p),
            _ => None,
        }
    }

    pub fn is(&self, kind: ProblemKind) -> bool {
        self.problem().is_some_and(|p| p.is(kind))
    }

    /// One line for a toast or an inline error.
    pub fn message(&self) -> String {
        match self {
            ApiError::Problem(p) => p.summary(),
            other => other.to_string(),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[derive(Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
    /// No total timeout: for long-lived event streams.
    stream_http: reqwest::Client,
    token: Option<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

fn page_params(page: &PageQuery) -> Vec<(&'static str, String)> {
    let mut q = Vec::new();
    if let Some(l) = page.limit {
        q.push(("limit", l.to_string()));
    }
    if let Some(c) = &page.cursor {
        q.push(("cursor", c.clone()));
    }
    q
}

/// Why TLS refused the server's certificate, when that is what failed
/// (rustls says "invalid peer certificate: …" somewhere down the chain).
fn certificate_refused(err: &reqwest::Error) -> Option<String> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cause {
        // rustls' error travels inside an io::Error, whose source() skips it.
        let inner = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .map(|i| i.to_string());
        for text in [Some(e.to_string()), inner].into_iter().flatten() {
            if let Some(at) = text.find("invalid peer certificate") {
                return Some(text[at..].to_string());
            }
        }
        cause = e.source();
    }
    None
}

/// The certificates of a PEM file, or what is wrong with it.
fn read_ca_file(path: &Path) -> anyhow::Result<Vec<reqwest::Certificate>> {
    let pem = std::fs::read(path).with_context(|| {
        format!(
            "cannot read the CA file {} (--ca-file, ca_file)",
            path.display()
        )
    })?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .with_context(|| format!("the CA file {} is not PEM certificates", path.display()))?;
    if certs.is_empty() {
        anyhow::bail!(
            "the CA file {} holds no certificate: give a PEM file with \
             -----BEGIN CERTIFICATE----- blocks (the CA's certificate, not its key)",
            path.display()
        );
    }
    Ok(certs)
}

impl Client {
    /// `base` is the server's root, e.g. `http://127.0.0.1:7070`. HTTPS
    /// trusts the OS's certificate store and the bundled public roots.
    pub fn new(base: &str) -> anyhow::Result<Self> {
        Self::new_trusting(base, None)
    }

    /// As [`Client::new`], also trusting the CA certificates in `ca_file`
    /// (PEM): a server behind a private CA.
    pub fn new_trusting(base: &str, ca_file: Option<&Path>) -> anyhow::Result<Self> {
        let extra = match ca_file {
            Some(path) => read_ca_file(path)?,
            None => Vec::new(),
        };
        let mut http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30));
        let mut stream_http = reqwest::Client::builder().connect_timeout(Duration::from_secs(5));
        for cert in extra {
            http = http.add_root_certificate(cert.clone());
            stream_http = stream_http.add_root_certificate(cert);
        }
        let http = http.build()?;
        let stream_http = stream_http.build()?;
        Ok(Self {
            base: base.trim_end_matches('/').to_string(),
            http,
            stream_http,
            token: None,
        })
    }

    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// A request without the total timeout, for long-lived streams.
    fn stream_request(&self, method: Method, path: &str) -> RequestBuilder {
        let mut rb = self
            .stream_http
            .request(method, format!("{}{}", self.base, path));
        if let Some(t) = &self.token {
            rb = rb.bearer_auth(t);
        }
        rb
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let mut rb = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(t) = &self.token {
            rb = rb.bearer_auth(t);
        }
        rb
    }

    async fn send(&self, rb: RequestBuilder) -> ApiResult<reqwest::Response> {
        let resp = rb.send().await.map_err(|e| ApiError::Unreachable {
            url: self.base.clone(),
            reason: if e.is_timeout() {
                "timed out".into()
            } else if let Some(why) = certificate_refused(&e) {
                format!(
                    "its certificate is not trusted ({why}); if a private CA signed it, \
                     give the CA's certificate with --ca-file PATH (or ca_file in config.toml)"
                )
            } else if e.is_connect() {
                "connection refused or failed".into()
            } else {
                e.to_string()
            },
        })?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let body = resp.bytes().await.unwrap_or_default();
        let mut problem = serde_json::from_slice::<Problem>(&body).unwrap_or_else(|_| Problem {
            kind: "about:blank".into(),
            title: status
                .canonical_reason()
                .unwrap_or("HTTP error")
                .to_string(),
            status: status.as_u16(),
            detail: Some(String::from_utf8_lossy(&body).chars().take(200).collect()),
            errors: Vec::new(),
            retry_after: None,
        });
        if problem.retry_after.is_none() {
            problem.retry_after = retry_after;
        }
        Err(ApiError::Problem(problem))
    }

    async fn json<T: DeserializeOwned>(&self, rb: RequestBuilder) -> ApiResult<T> {
        let resp = self.send(rb).await?;
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| ApiError::Decode(e.to_string()))?;
        serde_json::from_slice(&bytes).map_err(|e| ApiError::Decode(e.to_string()))
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> ApiResult<T> {
        self.json(self.request(Method::GET, path)).await
    }

    async fn get_page<T: DeserializeOwned>(
        &self,
        path: &str,
        page: &PageQuery,
    ) -> ApiResult<Page<T>> {
        self.json(self.request(Method::GET, path).query(&page_params(page)))
            .await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> ApiResult<T> {
        self.json(self.request(Method::POST, path).json(body)).await
    }

    async fn patch<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> ApiResult<T> {
        self.json(self.request(Method::PATCH, path).json(body))
            .await
    }

    async fn delete(&self, path: &str) -> ApiResult<()> {
        self.send(self.request(Method::DELETE, path)).await?;
        Ok(())
    }

    /// Follows `next_cursor` until the last page.
    pub async fn all<T, F, Fut>(&self, fetch: F) -> ApiResult<Vec<T>>
    where
        F: Fn(PageQuery) -> Fut,
        Fut: std::future::Future<Output = ApiResult<Page<T>>>,
    {
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let page = fetch(PageQuery {
                limit: Some(crate::domain::page::MAX_LIMIT),
                cursor,
            })
            .await?;
            out.extend(page.items);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    // health and auth

    pub async fn healthz(&self) -> ApiResult<()> {
        let resp = self.send(self.request(Method::GET, "/healthz")).await?;
        if resp.status() == StatusCode::OK {
            Ok(())
        } else {
            Err(ApiError::Decode(format!("healthz said {}", resp.status())))
        }
    }

    pub async fn login(&self, email: &str, password: &str) -> ApiResult<LoginResponse> {
        let body = LoginRequest {
            email: email.to_string(),
            password: password.to_string(),
        };
        self.post("/api/v1/auth/login", &body).await
    }

    pub async fn logout(&self) -> ApiResult<()> {
        self.send(self.request(Method::POST, "/api/v1/auth/logout"))
            .await?;
        Ok(())
    }

    pub async fn me(&self) -> ApiResult<Me> {
        self.get("/api/v1/me").await
    }

    /// The models agents can name on this server, with their readiness.
    pub async fn models(&self) -> ApiResult<Vec<crate::domain::ModelInfo>> {
        self.get("/api/v1/models").await
    }

    pub async fn openapi(&self) -> ApiResult<serde_json::Value> {
        self.get("/api/v1/openapi.json").await
    }

    // tenants

    pub async fn list_tenants(&self, page: &PageQuery) -> ApiResult<Page<Tenant>> {
        self.get_page("/api/v1/tenants", page).await
    }

    pub async fn create_tenant(&self, new: &NewTenant) -> ApiResult<Tenant> {
        self.post("/api/v1/tenants", new).await
    }

    /// `tenant` is an id or a slug.
    pub async fn tenant(&self, tenant: &str) -> ApiResult<Tenant> {
        self.get(&format!("/api/v1/tenants/{tenant}")).await
    }

    pub async fn update_tenant(&self, tenant: &str, patch: &TenantPatch) -> ApiResult<Tenant> {
        self.patch(&format!("/api/v1/tenants/{tenant}"), patch)
            .await
    }

    /// Deletes the tenant: gone at once, its data purged in the background.
    pub async fn delete_tenant(&self, tenant: &str) -> ApiResult<TenantDeletion> {
        self.json(self.request(Method::DELETE, &format!("/api/v1/tenants/{tenant}")))
            .await
    }

    pub async fn suspend_tenant(&self, tenant: &str) -> ApiResult<Tenant> {
        self.post(&format!("/api/v1/tenants/{tenant}/suspend"), &())
            .await
    }

    pub async fn reactivate_tenant(&self, tenant: &str) -> ApiResult<Tenant> {
        self.post(&format!("/api/v1/tenants/{tenant}/reactivate"), &())
            .await
    }

    // members and invitations

    pub async fn list_members(&self, tenant: &str, page: &PageQuery) -> ApiResult<Page<Member>> {
        self.get_page(&format!("/api/v1/tenants/{tenant}/members"), page)
            .await
    }

    /// Adds an existing account: a platform admin adds it at once; anyone
    /// else's request becomes an invitation its owner accepts signed in.
    pub async fn add_member(&self, tenant: &str, new: &NewMember) -> ApiResult<MemberAdded> {
        let rb = self
            .request(Method::POST, &format!("/api/v1/tenants/{tenant}/members"))
            .json(new);
        let resp = self.send(rb).await?;
        let invited = resp.status() == StatusCode::ACCEPTED;
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| ApiError::Decode(e.to_string()))?;
        let decode = |e: serde_json::Error| ApiError::Decode(e.to_string());
        Ok(if invited {
            MemberAdded::Invited(serde_json::from_slice(&bytes).map_err(decode)?)
        } else {
            MemberAdded::Added(serde_json::from_slice(&bytes).map_err(decode)?)
        })
    }

    pub async fn change_role(&self, tenant: &str, user: Uuid, role: Role) -> ApiResult<Member> {
        self.patch(
            &format!("/api/v1/tenants/{tenant}/members/{user}"),
            &RoleChange { role },
        )
        .await
    }

    /// A member's role permissions, grants and effective set.
    pub async fn member_permissions(
        &self,
        tenant: &str,
        user: Uuid,
    ) -> ApiResult<MemberPermissions> {
        self.get(&format!(
            "/api/v1/tenants/{tenant}/members/{user}/permissions"
        ))
        .await
    }

    /// Replaces a member's grants and withdrawals on top of their role.
    pub async fn set_member_permissions(
        &self,
        tenant: &str,
        user: Uuid,
        grants: &Grants,
    ) -> ApiResult<MemberPermissions> {
        let path = format!("/api/v1/tenants/{tenant}/members/{user}/permissions");
        self.json(self.request(Method::PUT, &path).json(grants))
            .await
    }

    pub async fn remove_member(&self, tenant: &str, user: Uuid) -> ApiResult<()> {
        self.delete(&format!("/api/v1/tenants/{tenant}/members/{user}"))
            .await
    }

    pub async fn create_invitation(
        &self,
        tenant: &str,
        new: &NewInvitation,
    ) -> ApiResult<CreatedInvitation> {
        self.post(&format!("/api/v1/tenants/{tenant}/invitations"), new)
            .await
    }

    pub async fn list_invitations(
        &self,
        tenant: &str,
        page: &PageQuery,
    ) -> ApiResult<Page<Invitation>> {
        self.get_page(&format!("/api/v1/tenants/{tenant}/invitations"), page)
            .await
    }

    pub async fn revoke_invitation(&self, tenant: &str, id: Uuid) -> ApiResult<()> {
        self.delete(&format!("/api/v1/tenants/{tenant}/invitations/{id}"))
            .await
    }

    /// Accepts an invitation by token: signed in, as this account; not
    /// signed in, only for a new email (the answer carries its session).
    pub async fn accept_invitation(
        &self,
        accept: &AcceptInvitation,
    ) -> ApiResult<AcceptedInvitation> {
        self.post("/api/v1/invitations/accept", accept).await
    }

    // API keys

    pub async fn list_api_keys(&self, tenant: &str, page: &PageQuery) -> ApiResult<Page<ApiKey>> {
        self.get_page(&format!("/api/v1/tenants/{tenant}/api-keys"), page)
            .await
    }

    pub async fn create_api_key(&self, tenant: &str, new: &NewApiKey) -> ApiResult<CreatedApiKey> {
        self.post(&format!("/api/v1/tenants/{tenant}/api-keys"), new)
            .await
    }

    pub async fn revoke_api_key(&self, tenant: &str, id: Uuid) -> ApiResult<()> {
        self.delete(&format!("/api/v1/tenants/{tenant}/api-keys/{id}"))
            .await
    }

    /// Replaces the key with a new one (shown only in this answer); the old
    /// one keeps working for `overlap_minutes` (0: revoked at once).
    pub async fn rotate_api_key(
        &self,
        tenant: &str,
        id: Uuid,
        overlap_minutes: u32,
    ) -> ApiResult<RotatedApiKey> {
        self.post(
            &format!("/api/v1/tenants/{tenant}/api-keys/{id}/rotate"),
            &RotateApiKey { overlap_minutes },
        )
        .await
    }

    // audit

    pub async fn list_audit(&self, tenant: &str, page: &PageQuery) -> ApiResult<Page<AuditEvent>> {
        self.audit(tenant, &crate::domain::AuditFilter::default(), page)
            .await
    }

    /// The audit log narrowed by actor, action, resource and time.
    pub async fn audit(
        &self,
        tenant: &str,
        filter: &crate::domain::AuditFilter,
        page: &PageQuery,
    ) -> ApiResult<Page<AuditEvent>> {
        let rb = self
            .request(Method::GET, &format!("/api/v1/tenants/{tenant}/audit"))
            .query(&page_params(page))
            .query(filter);
        self.json(rb).await
    }

    // leads

    /// Posts a lead as a website form does, with an API key.
    pub async fn ingest_lead(
        &self,
        api_key: &str,
        lead: &LeadInput,
        idempotency_key: Option<&str>,
    ) -> ApiResult<IngestReceipt> {
        let mut rb = self
            .http
            .post(format!("{}/api/v1/ingest/leads", self.base))
            .header("x-api-key", api_key)
            .json(lead);
        if let Some(k) = idempotency_key {
            rb = rb.header("idempotency-key", k);
        }
        self.json(rb).await
    }

    pub async fn list_leads(&self, tenant: &str, query: &LeadQuery) -> ApiResult<Page<Lead>> {
        self.json(
            self.request(Method::GET, &format!("/api/v1/tenants/{tenant}/leads"))
                .query(query),
        )
        .await
    }

    pub async fn lead(&self, tenant: &str, id: Uuid) -> ApiResult<Lead> {
        self.get(&format!("/api/v1/tenants/{tenant}/leads/{id}"))
            .await
    }

    pub async fn create_lead(&self, tenant: &str, lead: &LeadInput) -> ApiResult<Lead> {
        self.post(&format!("/api/v1/tenants/{tenant}/leads"), lead)
            .await
    }

    pub async fn update_lead(&self, tenant: &str, id: Uuid, patch: &LeadPatch) -> ApiResult<Lead> {
        self.patch(&format!("/api/v1/tenants/{tenant}/leads/{id}"), patch)
            .await
    }

    pub async fn delete_lead(&self, tenant: &str, id: Uuid) -> ApiResult<()> {
        self.delete(&format!("/api/v1/tenants/{tenant}/leads/{id}"))
            .await
    }

    pub async fn add_note(
        &self,
        tenant: &str,
        id: Uuid,
        note: &NewNote,
    ) -> ApiResult<TimelineEntry> {
        self.post(&format!("/api/v1/tenants/{tenant}/leads/{id}/notes"), note)
            .await
    }

    pub async fn timeline(&self, tenant: &str, id: Uuid) -> ApiResult<Vec<TimelineEntry>> {
        self.get(&format!("/api/v1/tenants/{tenant}/leads/{id}/timeline"))
            .await
    }

    pub async fn bulk_leads(&self, tenant: &str, bulk: &BulkLeads) -> ApiResult<BulkResult> {
        self.post(&format!("/api/v1/tenants/{tenant}/leads/bulk"), bulk)
            .await
    }

    /// Live events of a tenant, resuming after `last_event_id` when given.
    pub async fn events(&self, tenant: &str, last_event_id: Option<i64>) -> ApiResult<EventStream> {
        let mut rb = self
            .stream_request(Method::GET, &format!("/api/v1/tenants/{tenant}/events"))
            .header("accept", "text/event-stream");
        if let Some(id) = last_event_id {
            rb = rb.header("last-event-id", id.to_string());
        }
        Ok(EventStream::new(self.send(rb).await?))
    }

    /// Loads the bundled sample leads into `tenant` (idempotent).
    pub async fn import_sample(&self, tenant: &str) -> ApiResult<ImportReport> {
        self.post(
            &format!("/api/v1/tenants/{tenant}/leads/import-sample"),
            &(),
        )
        .await
    }

    /// Imports a CSV file; the report lists every row not imported.
    pub async fn import_csv(&self, tenant: &str, csv: String) -> ApiResult<ImportReport> {
        self.json(
            self.request(
                Method::POST,
                &format!("/api/v1/tenants/{tenant}/leads/import"),
            )
            .header("content-type", "text/csv")
            .body(csv),
        )
        .await
    }

    /// Every lead matching `query`, as CSV.
    pub async fn export_csv(&self, tenant: &str, query: &LeadQuery) -> ApiResult<String> {
        let resp = self
            .send(
                self.request(
                    Method::GET,
                    &format!("/api/v1/tenants/{tenant}/leads/export.csv"),
                )
                .query(query),
            )
            .await?;
        resp.text()
            .await
            .map_err(|e| ApiError::Decode(format!("export broke off: {e}")))
    }

    // agents and workspaces

    pub async fn list_agents(&self, tenant: &str) -> ApiResult<Vec<Agent>> {
        self.get(&format!("/api/v1/tenants/{tenant}/agents")).await
    }

    /// The agents in the order `sort` names (`list_agents` is by name).
    pub async fn list_agents_sorted(&self, tenant: &str, sort: AgentSort) -> ApiResult<Vec<Agent>> {
        self.get(&format!(
            "/api/v1/tenants/{tenant}/agents?sort={}",
            sort.as_str()
        ))
        .await
    }

    /// "Use as template": a private copy of an agent the tenant can see.
    pub async fn copy_agent(&self, tenant: &str, id: Uuid, copy: &AgentCopy) -> ApiResult<Agent> {
        self.post(&format!("/api/v1/tenants/{tenant}/agents/{id}/copy"), copy)
            .await
    }

    pub async fn create_agent(&self, tenant: &str, new: &NewAgent) -> ApiResult<Agent> {
        self.post(&format!("/api/v1/tenants/{tenant}/agents"), new)
            .await
    }

    pub async fn agent(&self, tenant: &str, id: Uuid) -> ApiResult<Agent> {
        self.get(&format!("/api/v1/tenants/{tenant}/agents/{id}"))
            .await
    }

    pub async fn update_agent(
        &self,
        tenant: &str,
        id: Uuid,
        patch: &AgentPatch,
    ) -> ApiResult<Agent> {
        self.patch(&format!("/api/v1/tenants/{tenant}/agents/{id}"), patch)
            .await
    }

    pub async fn delete_agent(&self, tenant: &str, id: Uuid) -> ApiResult<()> {
        self.delete(&format!("/api/v1/tenants/{tenant}/agents/{id}"))
            .await
    }

    pub async fn agent_versions(&self, tenant: &str, id: Uuid) -> ApiResult<Vec<AgentVersion>> {
        self.get(&format!("/api/v1/tenants/{tenant}/agents/{id}/versions"))
            .await
    }

    pub async fn agent_version(&self, tenant: &str, id: Uuid, n: u32) -> ApiResult<AgentVersion> {
        self.get(&format!(
            "/api/v1/tenants/{tenant}/agents/{id}/versions/{n}"
        ))
        .await
    }

    /// Makes version `n`'s prompt and parameters current again, as a new version.
    pub async fn restore_agent_version(&self, tenant: &str, id: Uuid, n: u32) -> ApiResult<Agent> {
        self.post(
            &format!("/api/v1/tenants/{tenant}/agents/{id}/versions/{n}/restore"),
            &(),
        )
        .await
    }

    pub async fn share_agent(
        &self,
        tenant: &str,
        id: Uuid,
        change: &SharingChange,
    ) -> ApiResult<Agent> {
        self.json(
            self.request(
                Method::PUT,
                &format!("/api/v1/tenants/{tenant}/agents/{id}/sharing"),
            )
            .json(change),
        )
        .await
    }

    pub async fn list_workspaces(&self, tenant: &str) -> ApiResult<Vec<Workspace>> {
        self.get(&format!("/api/v1/tenants/{tenant}/workspaces"))
            .await
    }

    pub async fn create_workspace(&self, tenant: &str, new: &NewWorkspace) -> ApiResult<Workspace> {
        self.post(&format!("/api/v1/tenants/{tenant}/workspaces"), new)
            .await
    }

    pub async fn update_workspace(
        &self,
        tenant: &str,
        id: Uuid,
        patch: &WorkspacePatch,
    ) -> ApiResult<Workspace> {
        self.patch(&format!("/api/v1/tenants/{tenant}/workspaces/{id}"), patch)
            .await
    }

    pub async fn delete_workspace(&self, tenant: &str, id: Uuid) -> ApiResult<()> {
        self.delete(&format!("/api/v1/tenants/{tenant}/workspaces/{id}"))
            .await
    }
}
