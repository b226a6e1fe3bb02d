//! The API calls the console makes, their typed replies, and how to perform them.

use uuid::Uuid;

use super::account::{self, AccountRequest, AccountResponse};
use crate::api::{ApiError, ApiResult, Client};
use crate::domain::{
    Agent, AgentPatch, AgentVersion, ModelInfo, NewAgent, NewPlaygroundSession, NewWorkspace,
    PlaygroundSession, PlaygroundTranscript, SaveAsLead, SharingChange, Workspace, WorkspacePatch,
};
use crate::domain::{Analytics, AnalyticsQuery, TenantOverview, Workflow, WorkflowStatus};
use crate::domain::{
    ApiKey, CreatedApiKey, CreatedInvitation, Grants, ImportReport, Invitation, KnowledgeDocument,
    Lead, LeadInput, LeadPatch, LeadQuery, Me, Member, MemberPermissions, NewApiKey, NewInvitation,
    NewKnowledgeDocument, NewMember, NewNote, NewTenant, Page, Role, RotatedApiKey, Tenant,
    TenantPatch, TimelineEntry, Usage,
};

/// Tenants are addressed by id: it survives a slug change.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Me,
    ListTenants,
    CreateTenant(NewTenant),
    UpdateTenant {
        tenant: String,
        patch: TenantPatch,
    },
    Suspend {
        tenant: String,
    },
    DeleteTenant {
        tenant: String,
    },
    Reactivate {
        tenant: String,
    },
    /// Members, invitations and API keys of one tenant, fetched together.
    LoadTenantDetail {
        tenant: String,
    },
    AddMember {
        tenant: String,
        new: NewMember,
    },
    Invite {
        tenant: String,
        new: NewInvitation,
    },
    ChangeRole {
        tenant: String,
        user: Uuid,
        role: Role,
    },
    RemoveMember {
        tenant: String,
        user: Uuid,
    },
    /// Replaces one member's grants and withdrawals.
    SetMemberPermissions {
        tenant: String,
        user: Uuid,
        grants: Grants,
    },
    CreateKey {
        tenant: String,
        new: NewApiKey,
    },
    RevokeKey {
        tenant: String,
        id: Uuid,
    },
    /// Replaces a key; the old one works `overlap_minutes` more.
    RotateKey {
        tenant: String,
        id: Uuid,
        overlap_minutes: u32,
    },
    RevokeInvitation {
        tenant: String,
        id: Uuid,
    },
    /// One page of leads; `query.cursor` is set for the pages after the first.
    ListLeads {
        tenant: String,
        query: LeadQuery,
    },
    /// One page of the leads of every tenant the user may see (the "all
    /// tenants" queue); `tenants` (ids or slugs) narrows it when not empty.
    ListQueue {
        query: LeadQuery,
        tenants: Vec<String>,
    },
    /// One change (stage, assignee) to many leads of one tenant.
    BulkLeads {
        tenant: String,
        bulk: crate::domain::BulkLeads,
    },
    /// Every member, to name assignees and offer them in the assign picker.
    ListLeadMembers {
        tenant: String,
    },
    /// The lead and its timeline, fetched together for the detail panel.
    LoadLead {
        tenant: String,
        id: Uuid,
    },
    UpdateLead {
        tenant: String,
        id: Uuid,
        patch: LeadPatch,
    },
    DeleteLead {
        tenant: String,
        id: Uuid,
    },
    AddNote {
        tenant: String,
        id: Uuid,
        note: NewNote,
    },
    CreateLead {
        tenant: String,
        input: LeadInput,
    },
    Usage {
        tenant: String,
    },
    ImportSample {
        tenant: String,
    },
    /// A knowledge document (Initialize tenant's starter document).
    CreateKnowledge {
        tenant: String,
        new: NewKnowledgeDocument,
    },
    /// Reads `path` (in the task, not the UI loop) and imports it as CSV.
    ImportCsv {
        tenant: String,
        path: String,
    },
    /// Writes every lead matching `query` to `path` as CSV (mode 0600,
    /// never through a link); over an existing file only with `replace`.
    ExportCsv {
        tenant: String,
        query: LeadQuery,
        path: String,
        replace: bool,
    },
    /// Own and shared agents of the tenant.
    ListAgents {
        tenant: String,
    },
    AgentVersions {
        tenant: String,
        id: Uuid,
    },
    CreateAgent {
        tenant: String,
        new: NewAgent,
    },
    UpdateAgent {
        tenant: String,
        id: Uuid,
        patch: AgentPatch,
    },
    DeleteAgent {
        tenant: String,
        id: Uuid,
    },
    RestoreAgentVersion {
        tenant: String,
        id: Uuid,
        version: u32,
    },
    ShareAgent {
        tenant: String,
        id: Uuid,
        change: SharingChange,
    },
    /// "Use as template": a private copy in the tenant.
    CopyAgent {
        tenant: String,
        id: Uuid,
    },
    ListWorkspaces {
        tenant: String,
    },
    CreateWorkspace {
        tenant: String,
        new: NewWorkspace,
    },
    UpdateWorkspace {
        tenant: String,
        id: Uuid,
        patch: WorkspacePatch,
    },
    DeleteWorkspace {
        tenant: String,
        id: Uuid,
    },
    /// The models the server's providers offer, and whether each can answer.
    Models,
    ListPlaygroundSessions {
        tenant: String,
    },
    CreatePlaygroundSession {
        tenant: String,
        new: NewPlaygroundSession,
    },
    /// A session with its transcript.
    LoadPlaygroundSession {
        tenant: String,
        id: Uuid,
    },
    DeletePlaygroundSession {
        tenant: String,
        id: Uuid,
    },
    /// Stops the session's running reply; it is stored as cancelled.
    CancelPlaygroundReply {
        tenant: String,
        session: Uuid,
    },
    SavePlaygroundLead {
        tenant: String,
        session: Uuid,
        message: Uuid,
        contact: SaveAsLead,
    },
    /// The approvals view's workflows, newest first, each with its lead:
    /// those in any of `statuses` (one request each), or all when empty.
    ListApprovals {
        tenant: String,
        statuses: Vec<WorkflowStatus>,
    },
    /// One workflow with its lead (announced by a live event).
    LoadApproval {
        tenant: String,
        id: Uuid,
    },
    /// Approve the draft, or `reply` (the person's edit of it).
    ApproveWorkflow {
        tenant: String,
        id: Uuid,
        reply: Option<String>,
    },
    RejectWorkflow {
        tenant: String,
        id: Uuid,
        reason: String,
    },
    /// Cancel a workflow in progress (the model stops).
    CancelWorkflow {
        tenant: String,
        id: Uuid,
    },
    /// Run a failed, cancelled or rejected workflow again.
    RetryWorkflow {
        tenant: String,
        id: Uuid,
    },
    /// The workflows of one lead, newest first.
    LeadWorkflows {
        tenant: String,
        lead: Uuid,
    },
    /// `agent: None` runs the agent of the workspace the lead came through.
    StartWorkflow {
        tenant: String,
        lead: Uuid,
        agent: Option<Uuid>,
    },
    /// Every client tenant's figures (platform admins).
    PlatformOverview,
    Analytics {
        tenant: String,
        query: AnalyticsQuery,
    },
    /// The same figures across every tenant (platform admins).
    PlatformAnalytics {
        query: AnalyticsQuery,
    },
    /// `limit` audit events matching `filter`, newest first; `cursor` is
    /// set for the pages after the first.
    Audit {
        tenant: String,
        filter: crate::domain::AuditFilter,
        limit: u32,
        cursor: Option<String>,
    },
    /// The signed-in user's own account: invitations, password, sessions.
    Account(AccountRequest),
    /// The webhooks screen's calls.
    Webhook(super::webhooks::WebhookRequest),
    /// A tenant's usage, or a change to its rate limits.
    TenantUsage(super::tenants::UsageRequest),
    /// The Knowledge view's calls (and `:knowledge import`).
    Knowledge(super::knowledge::KnowledgeRequest),
    Platform(super::platform::PlatformRequest),
    /// The Evals screen's calls (and `E` on a lead or a message).
    Eval(super::evals::EvalRequest),
}

/// A workflow awaiting approval and the lead it answers (`Err`: the lead
/// could not be read, the approval is still shown).
#[derive(Debug, Clone, PartialEq)]
pub struct Approval {
    pub workflow: Workflow,
    pub lead: Option<Lead>,
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Exported {
    pub leads: usize,
    pub path: String,
}

/// The lead and its timeline fail independently: the timeline may fail
/// while the lead is still worth showing.
#[derive(Debug, Clone)]
pub struct LeadData {
    pub lead: ApiResult<Lead>,
    pub timeline: ApiResult<Vec<TimelineEntry>>,
}

/// The lists of the detail view fail independently: a manager may see
/// members but not keys.
#[derive(Debug, Clone)]
pub struct TenantDetailData {
    pub members: ApiResult<Vec<Member>>,
    pub invitations: ApiResult<Vec<Invitation>>,
    pub keys: ApiResult<Vec<ApiKey>>,
    /// What a new API key may be bound to.
    pub workspaces: ApiResult<Vec<Workspace>>,
}

#[derive(Debug, Clone)]
pub enum Response {
    Me(ApiResult<Me>),
    Tenants(ApiResult<Vec<Tenant>>),
    TenantCreated(ApiResult<Tenant>),
    /// Update, suspend and reactivate all answer with the tenant.
    TenantUpdated(ApiResult<Tenant>),
    TenantDeleted(ApiResult<crate::domain::TenantDeletion>),
    TenantDetail(Box<TenantDetailData>),
    MemberAdded(ApiResult<crate::domain::MemberAdded>),
    Invited(ApiResult<CreatedInvitation>),
    RoleChanged(ApiResult<Member>),
    MemberPermissionsSaved(ApiResult<MemberPermissions>),
    MemberRemoved(ApiResult<()>),
    KeyCreated(ApiResult<CreatedApiKey>),
    KeyRevoked(ApiResult<()>),
    KeyRotated(ApiResult<RotatedApiKey>),
    InvitationRevoked(ApiResult<()>),
    /// A page of leads; whether it is the first is known from the request.
    Leads(ApiResult<Page<Lead>>),
    /// What a bulk change did to one tenant's leads.
    Bulk(ApiResult<crate::domain::BulkResult>),
    /// A page of the all-tenants queue, each lead with its tenant.
    Queue(ApiResult<Page<crate::domain::QueueLead>>),
    LeadMembers(ApiResult<Vec<Member>>),
    Lead(Box<LeadData>),
    LeadUpdated(ApiResult<Lead>),
    LeadDeleted(ApiResult<()>),
    NoteAdded(ApiResult<TimelineEntry>),
    LeadCreated(ApiResult<Lead>),
    Usage(ApiResult<Usage>),
    Imported(ApiResult<ImportReport>),
    KnowledgeCreated(ApiResult<KnowledgeDocument>),
    Exported(ApiResult<Exported>),
    /// A file is at the export's path: the user is asked before replacing it.
    ExportExists(String),
    Agents(ApiResult<Vec<Agent>>),
    AgentVersions(ApiResult<Vec<AgentVersion>>),
    /// Create, update, restore and share each answer with the agent; the
    /// toast differs, so they stay apart.
    AgentCreated(ApiResult<Agent>),
    AgentUpdated(ApiResult<Agent>),
    AgentRestored(ApiResult<Agent>),
    AgentShared(ApiResult<Agent>),
    AgentDeleted(ApiResult<()>),
    Workspaces(ApiResult<Vec<Workspace>>),
    WorkspaceSaved(ApiResult<Workspace>),
    WorkspaceDeleted(ApiResult<()>),
    Models(ApiResult<Vec<ModelInfo>>),
    PlaygroundSessions(ApiResult<Vec<PlaygroundSession>>),
    PlaygroundSessionCreated(ApiResult<PlaygroundSession>),
    PlaygroundTranscript(ApiResult<PlaygroundTranscript>),
    PlaygroundSessionDeleted(ApiResult<()>),
    /// Whether a reply was running to stop.
    PlaygroundCancelled(ApiResult<bool>),
    PlaygroundLeadSaved(ApiResult<Lead>),
    Approvals(ApiResult<Vec<Approval>>),
    ApprovalLoaded(ApiResult<Box<Approval>>),
    /// Approve, reject and cancel answer with the decided workflow.
    WorkflowDecided(ApiResult<Workflow>),
    /// A retry answers with the workflow queued again.
    WorkflowRetried(ApiResult<Workflow>),
    LeadWorkflows(ApiResult<Vec<Workflow>>),
    WorkflowStarted(ApiResult<Workflow>),
    Overview(ApiResult<Vec<TenantOverview>>),
    Analytics(ApiResult<Analytics>),
    Audit(ApiResult<Page<crate::domain::AuditEvent>>),
    Account(AccountResponse),
    Webhook(super::webhooks::WebhookResponse),
    TenantUsage(super::tenants::UsageResponse),
    Knowledge(super::knowledge::KnowledgeResponse),
    Platform(super::platform::PlatformResponse),
    Eval(super::evals::EvalResponse),
}

impl Response {
    /// The error, if the request failed (for a detail load: the first failure).
    pub fn error(&self) -> Option<&ApiError> {
        match self {
            Response::Me(r) => r.as_ref().err(),
            Response::Tenants(r) => r.as_ref().err(),
            Response::TenantCreated(r) | Response::TenantUpdated(r) => r.as_ref().err(),
            Response::TenantDeleted(r) => r.as_ref().err(),
            Response::TenantDetail(d) => d
                .members
                .as_ref()
                .err()
                .or(d.invitations.as_ref().err())
                .or(d.keys.as_ref().err()),
            Response::MemberAdded(r) => r.as_ref().err(),
            Response::RoleChanged(r) => r.as_ref().err(),
            Response::MemberPermissionsSaved(r) => r.as_ref().err(),
            Response::Invited(r) => r.as_ref().err(),
            Response::MemberRemoved(r)
            | Response::KeyRevoked(r)
            | Response::InvitationRevoked(r) => r.as_ref().err(),
            Response::KeyCreated(r) => r.as_ref().err(),
            Response::KeyRotated(r) => r.as_ref().err(),
            Response::Leads(r) => r.as_ref().err(),
            Response::Queue(r) => r.as_ref().err(),
            Response::Bulk(r) => r.as_ref().err(),
            Response::LeadMembers(r) => r.as_ref().err(),
            Response::Lead(d) => d.lead.as_ref().err().or(d.timeline.as_ref().err()),
            Response::LeadUpdated(r) | Response::LeadCreated(r) => r.as_ref().err(),
            Response::LeadDeleted(r) => r.as_ref().err(),
            Response::NoteAdded(r) => r.as_ref().err(),
            Response::Usage(r) => r.as_ref().err(),
            Response::Imported(r) => r.as_ref().err(),
            Response::KnowledgeCreated(r) => r.as_ref().err(),
            Response::Exported(r) => r.as_ref().err(),
            Response::ExportExists(_) => None,
            Response::Agents(r) => r.as_ref().err(),
            Response::AgentVersions(r) => r.as_ref().err(),
            Response::AgentCreated(r)
            | Response::AgentUpdated(r)
            | Response::AgentRestored(r)
            | Response::AgentShared(r) => r.as_ref().err(),
            Response::AgentDeleted(r) | Response::WorkspaceDeleted(r) => r.as_ref().err(),
            Response::Workspaces(r) => r.as_ref().err(),
            Response::WorkspaceSaved(r) => r.as_ref().err(),
            Response::Models(r) => r.as_ref().err(),
            Response::PlaygroundSessions(r) => r.as_ref().err(),
            Response::PlaygroundSessionCreated(r) => r.as_ref().err(),
            Response::PlaygroundTranscript(r) => r.as_ref().err(),
            Response::PlaygroundSessionDeleted(r) => r.as_ref().err(),
            Response::PlaygroundCancelled(r) => r.as_ref().err(),
            Response::PlaygroundLeadSaved(r) => r.as_ref().err(),
            Response::Approvals(r) => r.as_ref().err(),
            Response::ApprovalLoaded(r) => r.as_ref().err(),
            Response::WorkflowDecided(r)
            | Response::WorkflowRetried(r)
            | Response::WorkflowStarted(r) => r.as_ref().err(),
            Response::LeadWorkflows(r) => r.as_ref().err(),
            Response::Overview(r) => r.as_ref().err(),
            Response::Analytics(r) => r.as_ref().err(),
            Response::Audit(r) => r.as_ref().err(),
            Response::Account(r) => r.error(),
            Response::Webhook(r) => r.error(),
            Response::TenantUsage(r) => r.error(),
            Response::Knowledge(r) => r.error(),
            Response::Platform(r) => r.error(),
            Response::Eval(r) => r.error(),
        }
    }
}

/// Performs one request. Runs in a spawned task, never in the UI loop.
pub async fn execute(client: &Client, req: Request) -> Response {
    match req {
        Request::Me => Response::Me(client.me().await),
        Request::ListTenants => Response::Tenants(
            client
                .all(|p| async move { client.list_tenants(&p).await })
                .await,
        ),
        Request::CreateTenant(new) => Response::TenantCreated(client.create_tenant(&new).await),
        Request::UpdateTenant { tenant, patch } => {
            Response::TenantUpdated(client.update_tenant(&tenant, &patch).await)
        }
        Request::Suspend { tenant } => {
            Response::TenantUpdated(client.suspend_tenant(&tenant).await)
        }
        Request::DeleteTenant { tenant } => {
            Response::TenantDeleted(client.delete_tenant(&tenant).await)
        }
        Request::Reactivate { tenant } => {
            Response::TenantUpdated(client.reactivate_tenant(&tenant).await)
        }
        Request::LoadTenantDetail { tenant } => {
            let t = tenant.as_str();
            let (members, invitations, keys, workspaces) = tokio::join!(
                client.all(|p| async move { client.list_members(t, &p).await }),
                client.all(|p| async move { client.list_invitations(t, &p).await }),
                client.all(|p| async move { client.list_api_keys(t, &p).await }),
                client.list_workspaces(t),
            );
            Response::TenantDetail(Box::new(TenantDetailData {
                members,
                invitations,
                keys,
                workspaces,
            }))
        }
        Request::AddMember { tenant, new } => {
            Response::MemberAdded(client.add_member(&tenant, &new).await)
        }
        Request::Invite { tenant, new } => {
            Response::Invited(client.create_invitation(&tenant, &new).await)
        }
        Request::ChangeRole { tenant, user, role } => {
            Response::RoleChanged(client.change_role(&tenant, user, role).await)
        }
        Request::RemoveMember { tenant, user } => {
            Response::MemberRemoved(client.remove_member(&tenant, user).await)
        }
        Request::SetMemberPermissions {
            tenant,
            user,
            grants,
        } => Response::MemberPermissionsSaved(
            client.set_member_permissions(&tenant, user, &grants).await,
        ),
        Request::CreateKey { tenant, new } => {
            Response::KeyCreated(client.create_api_key(&tenant, &new).await)
        }
        Request::RevokeKey { tenant, id } => {
            Response::KeyRevoked(client.revoke_api_key(&tenant, id).await)
        }
        Request::RotateKey {
            tenant,
            id,
            overlap_minutes,
        } => Response::KeyRotated(client.rotate_api_key(&tenant, id, overlap_minutes).await),
        Request::RevokeInvitation { tenant, id } => {
            Response::InvitationRevoked(client.revoke_invitation(&tenant, id).await)
        }
        Request::ListLeads { tenant, query } => {
            Response::Leads(client.list_leads(&tenant, &query).await)
        }
        Request::ListQueue { query, tenants } => {
            Response::Queue(client.list_queue(&query, &tenants).await)
        }
        Request::BulkLeads { tenant, bulk } => {
            Response::Bulk(client.bulk_leads(&tenant, &bulk).await)
        }
        Request::ListLeadMembers { tenant } => {
            let t = tenant.as_str();
            Response::LeadMembers(
                client
                    .all(|p| async move { client.list_members(t, &p).await })
                    .await,
            )
        }
        Request::LoadLead { tenant, id } => {
            let (lead, timeline) =
                tokio::join!(client.lead(&tenant, id), client.timeline(&tenant, id));
            Response::Lead(Box::new(LeadData { lead, timeline }))
        }
        Request::UpdateLead { tenant, id, patch } => {
            Response::LeadUpdated(client.update_lead(&tenant, id, &patch).await)
        }
        Request::DeleteLead { tenant, id } => {
            Response::LeadDeleted(client.delete_lead(&tenant, id).await)
        }
        Request::AddNote { tenant, id, note } => {
            Response::NoteAdded(client.add_note(&tenant, id, &note).await)
        }
        Request::CreateLead { tenant, input } => {
            Response::LeadCreated(client.create_lead(&tenant, &input).await)
        }
        Request::Usage { tenant } => Response::Usage(client.usage(&tenant).await),
        Request::ImportSample { tenant } => Response::Imported(client.import_sample(&tenant).await),
        Request::CreateKnowledge { tenant, new } => {
            Response::KnowledgeCreated(client.create_knowledge(&tenant, &new).await)
        }
        Request::ImportCsv { tenant, path } => match tokio::fs::read_to_string(&path).await {
            Ok(csv) => Response::Imported(client.import_csv(&tenant, csv).await),
            Err(e) => Response::Imported(Err(ApiError::Local(format!("cannot read {path}: {e}")))),
        },
        Request::ExportCsv {
            tenant,
            query,
            path,
            replace,
        } => export(client, &tenant, &query, path, replace).await,
        Request::ListAgents { tenant } => Response::Agents(client.list_agents(&tenant).await),
        Request::AgentVersions { tenant, id } => {
            Response::AgentVersions(client.agent_versions(&tenant, id).await)
        }
        Request::CreateAgent { tenant, new } => {
            Response::AgentCreated(client.create_agent(&tenant, &new).await)
        }
        Request::UpdateAgent { tenant, id, patch } => {
            Response::AgentUpdated(client.update_agent(&tenant, id, &patch).await)
        }
        Request::DeleteAgent { tenant, id } => {
            Response::AgentDeleted(client.delete_agent(&tenant, id).await)
        }
        Request::RestoreAgentVersion {
            tenant,
            id,
            version,
        } => Response::AgentRestored(client.restore_agent_version(&tenant, id, version).await),
        Request::ShareAgent { tenant, id, change } => {
            Response::AgentShared(client.share_agent(&tenant, id, &change).await)
        }
        Request::CopyAgent { tenant, id } => Response::AgentCreated(
            client
                .copy_agent(&tenant, id, &crate::domain::AgentCopy::default())
                .await,
        ),
        Request::ListWorkspaces { tenant } => {
            Response::Workspaces(client.list_workspaces(&tenant).await)
        }
        Request::CreateWorkspace { tenant, new } => {
            Response::WorkspaceSaved(client.create_workspace(&tenant, &new).await)
        }
        Request::UpdateWorkspace { tenant, id, patch } => {
            Response::WorkspaceSaved(client.update_workspace(&tenant, id, &patch).await)
        }
        Request::DeleteWorkspace { tenant, id } => {
            Response::WorkspaceDeleted(client.delete_workspace(&tenant, id).await)
        }
        Request::Models => Response::Models(client.models().await),
        Request::ListPlaygroundSessions { tenant } => {
            Response::PlaygroundSessions(client.playground_sessions(&tenant).await)
        }
        Request::CreatePlaygroundSession { tenant, new } => Response::PlaygroundSessionCreated(
            client.create_playground_session(&tenant, &new).await,
        ),
        Request::LoadPlaygroundSession { tenant, id } => {
            Response::PlaygroundTranscript(client.playground_session(&tenant, id).await)
        }
        Request::DeletePlaygroundSession { tenant, id } => {
            Response::PlaygroundSessionDeleted(client.delete_playground_session(&tenant, id).await)
        }
        Request::CancelPlaygroundReply { tenant, session } => {
            Response::PlaygroundCancelled(client.cancel_playground_reply(&tenant, session).await)
        }
        Request::SavePlaygroundLead {
            tenant,
            session,
            message,
            contact,
        } => Response::PlaygroundLeadSaved(
            client
                .save_playground_lead(&tenant, session, message, &contact)
                .await,
        ),
        Request::ListApprovals { tenant, statuses } => {
            Response::Approvals(match workflows_in(client, &tenant, &statuses).await {
                Ok(list) => Ok(with_leads(client, &tenant, list).await),
                Err(e) => Err(e),
            })
        }
        Request::LoadApproval { tenant, id } => {
            Response::ApprovalLoaded(match client.workflow(&tenant, id).await {
                Ok(workflow) => Ok(Box::new(Approval {
                    lead: client.lead(&tenant, workflow.lead_id).await.ok(),
                    workflow,
                })),
                Err(e) => Err(e),
            })
        }
        Request::ApproveWorkflow { tenant, id, reply } => {
            Response::WorkflowDecided(client.approve_workflow(&tenant, id, reply).await)
        }
        Request::RejectWorkflow { tenant, id, reason } => {
            Response::WorkflowDecided(client.reject_workflow(&tenant, id, &reason).await)
        }
        Request::CancelWorkflow { tenant, id } => {
            Response::WorkflowDecided(client.cancel_workflow(&tenant, id).await)
        }
        Request::RetryWorkflow { tenant, id } => {
            Response::WorkflowRetried(client.retry_workflow(&tenant, id).await)
        }
        Request::LeadWorkflows { tenant, lead } => {
            Response::LeadWorkflows(client.workflows(&tenant, None, Some(lead)).await)
        }
        Request::StartWorkflow {
            tenant,
            lead,
            agent,
        } => Response::WorkflowStarted(client.start_workflow(&tenant, lead, agent).await),
        Request::PlatformOverview => Response::Overview(client.platform_overview().await),
        Request::Analytics { tenant, query } => {
            Response::Analytics(client.analytics(&tenant, &query).await)
        }
        Request::PlatformAnalytics { query } => {
            Response::Analytics(client.platform_analytics(&query).await)
        }
        Request::Audit {
            tenant,
            filter,
            limit,
            cursor,
        } => {
            let page = crate::domain::PageQuery {
                limit: Some(limit),
                cursor,
            };
            Response::Audit(client.audit(&tenant, &filter, &page).await)
        }
        Request::Account(req) => Response::Account(account::execute(client, req).await),
        Request::Webhook(req) => Response::Webhook(super::webhooks::execute(client, req).await),
        Request::TenantUsage(req) => {
            Response::TenantUsage(super::tenants::usage_execute(client, req).await)
        }
        Request::Eval(req) => Response::Eval(super::evals::execute(client, req).await),
        Request::Knowledge(req) => {
            Response::Knowledge(super::knowledge::execute(client, req).await)
        }
        Request::Platform(req) => Response::Platform(super::platform::execute(client, req).await),
    }
}

/// The workflows in any of `statuses` (all when empty), newest first.
async fn workflows_in(
    client: &Client,
    tenant: &str,
    statuses: &[WorkflowStatus],
) -> ApiResult<Vec<Workflow>> {
    if statuses.is_empty() {
        return client.workflows(tenant, None, None).await;
    }
    let lists = futures::future::join_all(
        statuses
            .iter()
            .map(|s| client.workflows(tenant, Some(*s), None)),
    )
    .await;
    let mut all = Vec::new();
    for list in lists {
        all.extend(list?);
    }
    all.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    Ok(all)
}

/// Reads each workflow's lead, together; a lead that cannot be read leaves
/// its approval without a name rather than failing the list.
async fn with_leads(client: &Client, tenant: &str, list: Vec<Workflow>) -> Vec<Approval> {
    let leads =
        futures::future::join_all(list.iter().map(|w| client.lead(tenant, w.lead_id))).await;
    list.into_iter()
        .zip(leads)
        .map(|(workflow, lead)| Approval {
            workflow,
            lead: lead.ok(),
        })
        .collect()
}

async fn export(
    client: &Client,
    tenant: &str,
    query: &LeadQuery,
    path: String,
    replace: bool,
) -> Response {
    use super::leads::export_file::{self, ExportRefused};
    let refused = |path: String, why| match why {
        ExportRefused::Exists => Response::ExportExists(path),
        ExportRefused::Cannot(msg) => Response::Exported(Err(ApiError::Local(msg))),
    };
    let target = std::path::PathBuf::from(&path);
    if let Err(why) = export_file::preflight(&target, replace) {
        return refused(path, why);
    }
    let csv = match client.export_csv(tenant, query).await {
        Ok(csv) => csv,
        Err(e) => return Response::Exported(Err(e)),
    };
    let leads = csv.lines().count().saturating_sub(1);
    let written =
        tokio::task::spawn_blocking(move || export_file::write(&target, csv.as_bytes(), replace))
            .await
            .unwrap_or_else(|e| Err(ExportRefused::Cannot(format!("the export failed: {e}"))));
    match written {
        Ok(()) => Response::Exported(Ok(Exported { leads, path })),
        Err(why) => refused(path, why),
    }
}
