//! Every route × every kind of caller: the status codes follow the one
//! permission table in `domain::access`, and a member's grants and
//! withdrawals on top of it (checked against a simple model here).

use switchboard::api::{ApiError, Client};
use switchboard::domain::{
    secret, ApiKeyScope, BulkLeads, Grants, LeadPatch, LeadQuery, LeadSource, NewApiKey,
    NewInvitation, NewMember, NewNote, NewTenant, PageQuery, Permission, Role, TenantPatch, Tier,
};
use switchboard::domain::{
    AgentConfig, AgentPatch, Channel, NewAgent, NewPlaygroundSession, NewWorkspace, PlaygroundLane,
    SaveAsLead, Sharing, SharingChange, WorkflowStatus, WorkspacePatch,
};
use switchboard::domain::{AgentKnowledge, KnowledgePatch, NewKnowledgeDocument};
use switchboard::domain::{NewWebhook, WebhookPatch};
use switchboard::store::{
    Actor, IngestOutcome, LeadChange, LeadLimit, NewApiKeyRow, NewInvitationRow, NewLeadRow,
    NewWorkflowRow, PlaygroundMessageRow, PlaygroundSessionRow, WebhookRow, WorkflowTransition,
    WorkspaceRow,
};
use uuid::Uuid;

use crate::common::{spawn_with, TestApp};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Caller {
    Anonymous,
    Member(Role),
    /// A member of this role granted one permission on top.
    Granted(Role, Permission),
    /// A member of this role with one permission withdrawn.
    Withdrawn(Role, Permission),
    OtherTenantAdmin,
    PlatformAdmin,
}

impl Caller {
    /// The model of a member's effective permissions, written apart from
    /// `domain::access::effective`: the role's row, less a withdrawal,
    /// plus a grant.
    fn permissions(self) -> Option<Vec<Permission>> {
        let (role, granted, withdrawn) = match self {
            Caller::Member(r) => (r, None, None),
            Caller::Granted(r, p) => (r, Some(p), None),
            Caller::Withdrawn(r, p) => (r, None, Some(p)),
            _ => return None,
        };
        let mut perms: Vec<Permission> = role
            .permissions()
            .iter()
            .copied()
            .filter(|p| Some(*p) != withdrawn)
            .collect();
        perms.extend(granted);
        Some(perms)
    }

    /// The fixture's leads are assigned to the agent member only.
    fn assigned(self) -> bool {
        self == Caller::Member(Role::Agent)
    }

    fn email(self) -> String {
        match self {
            Caller::Member(r) => format!("{r}@alpha.test"),
            Caller::Granted(r, p) => format!("{r}+{}@alpha.test", p.as_str().replace(':', "-")),
            Caller::Withdrawn(r, p) => {
                format!("{r}-{}@alpha.test", p.as_str().replace(':', "-"))
            }
            other => panic!("{other:?} is no member of alpha"),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Route {
    Me,
    ListTenants,
    CreateTenant,
    GetTenant,
    PatchTenant,
    ChangeTier,
    Suspend,
    Reactivate,
    DeleteTenant,
    SetLimits,
    ListMembers,
    AddMember,
    ChangeRole,
    RemoveMember,
    OwnPermissions,
    MemberPermissions,
    SetMemberPermissions,
    ListInvitations,
    Invite,
    RevokeInvitation,
    ListKeys,
    CreateKey,
    RevokeKey,
    RotateKey,
    Audit,
    ListLeads,
    GetLead,
    CreateLead,
    PatchLead,
    DeleteLead,
    AddNote,
    Timeline,
    BulkLeads,
    Usage,
    ImportSample,
    ImportCsv,
    ExportCsv,
    ListAgents,
    CreateAgent,
    PatchAgent,
    DeleteAgent,
    AgentVersions,
    RestoreVersion,
    ShareAgent,
    CopyAgent,
    ListWorkspaces,
    CreateWorkspace,
    PatchWorkspace,
    DeleteWorkspace,
    ListPlaygroundSessions,
    CreatePlaygroundSession,
    GetPlaygroundSession,
    DeletePlaygroundSession,
    CancelPlaygroundReply,
    SavePlaygroundLead,
    ListWorkflows,
    GetWorkflow,
    StartWorkflow,
    ApproveWorkflow,
    RejectWorkflow,
    CancelWorkflow,
    RetryWorkflow,
    TenantAnalytics,
    PlatformAnalytics,
    PlatformOverview,
    GetPlatformSettings,
    PutPlatformSettings,
    OverrideUserLimit,
    ListWebhooks,
    CreateWebhook,
    GetWebhook,
    PatchWebhook,
    DeleteWebhook,
    RotateWebhookSecret,
    WebhookDeliveries,
    ReplayWebhookDelivery,
    WebhookDelivery,
    TestWebhook,
    ListKnowledge,
    CreateKnowledge,
    GetKnowledge,
    PatchKnowledge,
    DeleteKnowledge,
    SearchKnowledge,
    GetAgentKnowledge,
    SetAgentKnowledge,
}

/// What a route needs.
enum Needs {
    /// Any signed-in user, outside any tenant.
    SignedIn,
    PlatformAdmin,
    Member,
    Perm(Permission),
    TenantPlatformAdmin,
    /// A list of leads (or their workflows): a permission if named, and a
    /// view of leads (all or assigned).
    Leads(Option<Permission>),
    /// The fixture's lead: as `Leads`, and the lead in sight.
    Lead(Option<Permission>),
    /// A workflow of the fixture's lead: as `Lead`, and `workflows:view_all`
    /// or the lead assigned to the caller.
    Workflow(Option<Permission>),
    /// `analytics:view_all` or `analytics:view_own`.
    Analytics,
}

impl Route {
    const ALL: [Route; 86] = [
        Route::Me,
        Route::ListTenants,
        Route::CreateTenant,
        Route::GetTenant,
        Route::PatchTenant,
        Route::ChangeTier,
        Route::Suspend,
        Route::Reactivate,
        Route::DeleteTenant,
        Route::SetLimits,
        Route::ListMembers,
        Route::AddMember,
        Route::ChangeRole,
        Route::RemoveMember,
        Route::OwnPermissions,
        Route::MemberPermissions,
        Route::SetMemberPermissions,
        Route::ListInvitations,
        Route::Invite,
        Route::RevokeInvitation,
        Route::ListKeys,
        Route::CreateKey,
        Route::RevokeKey,
        Route::RotateKey,
        Route::Audit,
        Route::ListLeads,
        Route::GetLead,
        Route::CreateLead,
        Route::PatchLead,
        Route::DeleteLead,
        Route::AddNote,
        Route::Timeline,
        Route::BulkLeads,
        Route::Usage,
        Route::ImportSample,
        Route::ImportCsv,
        Route::ExportCsv,
        Route::ListAgents,
        Route::CreateAgent,
        Route::PatchAgent,
        Route::DeleteAgent,
        Route::AgentVersions,
        Route::RestoreVersion,
        Route::ShareAgent,
        Route::CopyAgent,
        Route::ListWorkspaces,
        Route::CreateWorkspace,
        Route::PatchWorkspace,
        Route::DeleteWorkspace,
        Route::ListPlaygroundSessions,
        Route::CreatePlaygroundSession,
        Route::GetPlaygroundSession,
        Route::DeletePlaygroundSession,
        Route::CancelPlaygroundReply,
        Route::SavePlaygroundLead,
        Route::ListWorkflows,
        Route::GetWorkflow,
        Route::StartWorkflow,
        Route::ApproveWorkflow,
        Route::RejectWorkflow,
        Route::CancelWorkflow,
        Route::RetryWorkflow,
        Route::TenantAnalytics,
        Route::PlatformAnalytics,
        Route::PlatformOverview,
        Route::GetPlatformSettings,
        Route::PutPlatformSettings,
        Route::OverrideUserLimit,
        Route::ListWebhooks,
        Route::CreateWebhook,
        Route::GetWebhook,
        Route::PatchWebhook,
        Route::DeleteWebhook,
        Route::RotateWebhookSecret,
        Route::WebhookDeliveries,
        Route::ReplayWebhookDelivery,
        Route::WebhookDelivery,
        Route::TestWebhook,
        Route::ListKnowledge,
        Route::CreateKnowledge,
        Route::GetKnowledge,
        Route::PatchKnowledge,
        Route::DeleteKnowledge,
        Route::SearchKnowledge,
        Route::GetAgentKnowledge,
        Route::SetAgentKnowledge,
    ];

    fn needs(self) -> Needs {
        use Permission::*;
        match self {
            Route::Me | Route::ListTenants => Needs::SignedIn,
            Route::CreateTenant => Needs::PlatformAdmin,
            Route::GetTenant | Route::ListMembers | Route::OwnPermissions => Needs::Member,
            Route::PatchTenant => Needs::Perm(SettingsManage),
            Route::ChangeTier => Needs::Perm(SettingsBilling),
            Route::DeleteTenant => Needs::Perm(TenantDelete),
            Route::Suspend | Route::Reactivate | Route::SetLimits => Needs::TenantPlatformAdmin,
            Route::AddMember
            | Route::ChangeRole
            | Route::RemoveMember
            | Route::MemberPermissions
            | Route::SetMemberPermissions
            | Route::ListInvitations
            | Route::Invite
            | Route::RevokeInvitation => Needs::Perm(MembersManage),
            Route::ListKeys | Route::CreateKey | Route::RevokeKey | Route::RotateKey => {
                Needs::Perm(KeysManage)
            }
            Route::Audit => Needs::Perm(AuditView),
            Route::Usage => Needs::Member,
            Route::ListLeads => Needs::Leads(None),
            Route::GetLead | Route::Timeline => Needs::Lead(None),
            Route::PatchLead | Route::AddNote => Needs::Lead(Some(LeadsEdit)),
            Route::CreateLead | Route::BulkLeads | Route::ImportSample | Route::ImportCsv => {
                Needs::Leads(Some(LeadsEdit))
            }
            Route::DeleteLead => Needs::Lead(Some(LeadsDelete)),
            Route::ExportCsv => Needs::Leads(Some(LeadsExport)),
            Route::ListAgents
            | Route::AgentVersions
            | Route::ListWorkspaces
            | Route::GetAgentKnowledge => Needs::Member,
            Route::SetAgentKnowledge => Needs::Perm(AgentsManage),
            Route::ListKnowledge | Route::GetKnowledge | Route::SearchKnowledge => {
                Needs::Perm(KnowledgeView)
            }
            Route::CreateKnowledge | Route::PatchKnowledge | Route::DeleteKnowledge => {
                Needs::Perm(KnowledgeManage)
            }
            Route::CreateAgent
            | Route::PatchAgent
            | Route::DeleteAgent
            | Route::RestoreVersion
            | Route::ShareAgent
            | Route::CopyAgent
            | Route::CreateWorkspace
            | Route::PatchWorkspace
            | Route::DeleteWorkspace => Needs::Perm(AgentsManage),
            Route::ListPlaygroundSessions
            | Route::CreatePlaygroundSession
            | Route::GetPlaygroundSession
            | Route::DeletePlaygroundSession
            | Route::CancelPlaygroundReply => Needs::Perm(PlaygroundUse),
            Route::SavePlaygroundLead => Needs::Perm(LeadsEdit),
            Route::ListWorkflows => Needs::Leads(None),
            Route::GetWorkflow => Needs::Workflow(None),
            Route::StartWorkflow => Needs::Lead(Some(LeadsEdit)),
            Route::ApproveWorkflow | Route::RejectWorkflow => Needs::Workflow(Some(LeadsApprove)),
            Route::CancelWorkflow => Needs::Workflow(Some(WorkflowsCancel)),
            Route::RetryWorkflow => Needs::Workflow(Some(LeadsEdit)),
            Route::TenantAnalytics => Needs::Analytics,
            Route::PlatformAnalytics
            | Route::PlatformOverview
            | Route::GetPlatformSettings
            | Route::PutPlatformSettings => Needs::PlatformAdmin,
            // Only platform admins override a tenant's user limit.
            Route::OverrideUserLimit => Needs::TenantPlatformAdmin,
            Route::ListWebhooks
            | Route::CreateWebhook
            | Route::GetWebhook
            | Route::PatchWebhook
            | Route::DeleteWebhook
            | Route::RotateWebhookSecret
            | Route::WebhookDeliveries
            | Route::ReplayWebhookDelivery
            | Route::WebhookDelivery
            | Route::TestWebhook => Needs::Perm(SettingsManage),
        }
    }

    fn success(self) -> u16 {
        match self {
            Route::CreateTenant
            | Route::AddMember
            | Route::Invite
            | Route::CreateKey
            | Route::RotateKey
            | Route::CreateLead
            | Route::AddNote
            | Route::CreateAgent
            | Route::CopyAgent
            | Route::CreateWorkspace
            | Route::CreatePlaygroundSession
            | Route::SavePlaygroundLead
            | Route::StartWorkflow
            | Route::CreateWebhook
            | Route::CreateKnowledge => 201,
            Route::ReplayWebhookDelivery | Route::TestWebhook | Route::DeleteTenant => 202,
            Route::RemoveMember
            | Route::RevokeInvitation
            | Route::RevokeKey
            | Route::DeleteLead
            | Route::DeleteAgent
            | Route::DeleteWorkspace
            | Route::DeletePlaygroundSession
            | Route::CancelPlaygroundReply
            | Route::DeleteWebhook
            | Route::DeleteKnowledge => 204,
            _ => 200,
        }
    }

    fn expected(self, caller: Caller) -> u16 {
        use Permission::*;
        let perms = match (caller, self.needs()) {
            (Caller::Anonymous, _) => return 401,
            // Not a member of alpha, so it has no permissions of its own there.
            (Caller::PlatformAdmin, _) if matches!(self, Route::OwnPermissions) => return 404,
            (Caller::PlatformAdmin, _) => return self.success(),
            (_, Needs::SignedIn) => return self.success(),
            (_, Needs::PlatformAdmin) => return 403,
            (Caller::OtherTenantAdmin, _) => return 404,
            _ => caller.permissions().expect("a member"),
        };
        let has = |p: Permission| perms.contains(&p);
        let sees_leads = has(LeadsViewAll) || has(LeadsViewAssigned);
        let sees_lead = has(LeadsViewAll) || (has(LeadsViewAssigned) && caller.assigned());
        let leads = |p: Option<Permission>| {
            if p.is_some_and(|p| !has(p)) || !sees_leads {
                Err(403)
            } else {
                Ok(())
            }
        };
        let lead = |p: Option<Permission>| {
            leads(p)?;
            if sees_lead {
                Ok(())
            } else {
                Err(404)
            }
        };
        let outcome = match self.needs() {
            Needs::Member => Ok(()),
            Needs::TenantPlatformAdmin => Err(403),
            Needs::Perm(p) if has(p) => Ok(()),
            Needs::Perm(_) => Err(403),
            Needs::Leads(p) => leads(p),
            Needs::Lead(p) => lead(p),
            Needs::Workflow(p) => lead(p).and_then(|()| {
                if has(WorkflowsViewAll) || caller.assigned() {
                    Ok(())
                } else {
                    Err(404)
                }
            }),
            Needs::Analytics if has(AnalyticsViewAll) || has(AnalyticsViewOwn) => Ok(()),
            Needs::Analytics => Err(403),
            Needs::SignedIn | Needs::PlatformAdmin => unreachable!("answered above"),
        };
        outcome.map_or_else(|status| status, |()| self.success())
    }
}

fn status<T>(r: Result<T, ApiError>, ok: u16) -> u16 {
    match r {
        Ok(_) => ok,
        Err(e) => e.status().unwrap_or_else(|| panic!("transport error: {e}")),
    }
}

mod calls;
mod fixture;
use fixture::Fixture;

/// Runs every route as every caller and lists the answers the model did
/// not expect.
async fn walk(callers: &[Caller]) -> Vec<String> {
    // No workers: the fixture puts workflows in the state each call needs.
    let app = spawn_with(switchboard::server::ServerSettings {
        workflow_workers: 0,
        ..Default::default()
    })
    .await;
    let alpha = app.tenant("Alpha", Tier::Enterprise).await;
    let beta = app.tenant("Beta", Tier::Enterprise).await;
    let mut clients = Vec::new();
    for caller in callers {
        let client = match *caller {
            Caller::Anonymous => app.anon(),
            Caller::PlatformAdmin => app.admin.clone(),
            Caller::OtherTenantAdmin => app.member(&beta, "admin@beta.test", Role::Admin).await.1,
            Caller::Member(role) => app.member(&alpha, &caller.email(), role).await.1,
            Caller::Granted(role, p) | Caller::Withdrawn(role, p) => {
                let (user, client) = app.member(&alpha, &caller.email(), role).await;
                let (granted, withdrawn) = match caller {
                    Caller::Granted(..) => (vec![p], vec![]),
                    _ => (vec![], vec![p]),
                };
                let grants = Grants { granted, withdrawn };
                let set = app.admin.set_member_permissions("alpha", user.id, &grants);
                let effective = set.await.unwrap().effective;
                let mut model = caller.permissions().unwrap();
                model.sort();
                assert_eq!(effective, model, "{caller:?}'s effective permissions");
                client
            }
        };
        clients.push((*caller, client));
    }
    let (target, _) = app.member(&alpha, "target@alpha.test", Role::Viewer).await;
    // The fixture's leads are assigned to the agent (a member made above,
    // or one made here when the walk has none).
    let agent = match app.store.user_by_email("agent@alpha.test").await.unwrap() {
        Some((user, _)) => user.id,
        None => {
            app.member(&alpha, "agent@alpha.test", Role::Agent)
                .await
                .0
                .id
        }
    };

    let fx = Fixture {
        tenant_id: alpha.id,
        target_user: target.id,
        agent,
        app,
        n: Default::default(),
    };
    let mut failures = Vec::new();
    for route in Route::ALL {
        for (caller, client) in &clients {
            let want = route.expected(*caller);
            let got = fx.call(route, client).await;
            if got != want {
                failures.push(format!("{route:?} as {caller:?}: got {got}, want {want}"));
            }
        }
    }
    failures
}

#[tokio::test]
async fn every_route_answers_every_caller_as_the_permission_table_says() {
    let mut callers = vec![
        Caller::Anonymous,
        Caller::PlatformAdmin,
        Caller::OtherTenantAdmin,
    ];
    callers.extend(Role::ALL.map(Caller::Member));
    let failures = walk(&callers).await;
    assert!(failures.is_empty(), "mismatches:\n{}", failures.join("\n"));
}

/// Every permission granted to a viewer (who has the fewest), and every
/// permission withdrawn from an admin (who has them all): each route
/// answers as the model of effective permissions says.
#[tokio::test]
async fn every_route_answers_as_the_grants_and_withdrawals_say() {
    let mut callers = Vec::new();
    for p in Permission::ALL {
        if !Role::Viewer.can(p) {
            callers.push(Caller::Granted(Role::Viewer, p));
        }
        callers.push(Caller::Withdrawn(Role::Admin, p));
    }
    let failures = walk(&callers).await;
    assert!(failures.is_empty(), "mismatches:\n{}", failures.join("\n"));
}
