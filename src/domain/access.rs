//! Roles, the one table that maps them to named permissions, and a member's
//! grants and withdrawals on top of their role (the effective set).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Manager,
    Agent,
    Viewer,
}

/// A named permission. The declaration order is the order lists show.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
pub enum Permission {
    #[serde(rename = "leads:view_all")]
    LeadsViewAll,
    #[serde(rename = "leads:view_assigned")]
    LeadsViewAssigned,
    #[serde(rename = "leads:edit")]
    LeadsEdit,
    /// Approve, reject or edit-and-approve a drafted reply.
    #[serde(rename = "leads:approve")]
    LeadsApprove,
    #[serde(rename = "leads:delete")]
    LeadsDelete,
    #[serde(rename = "leads:export")]
    LeadsExport,
    /// See every lead's workflows (else only those of one's assigned leads).
    #[serde(rename = "workflows:view_all")]
    WorkflowsViewAll,
    #[serde(rename = "workflows:cancel")]
    WorkflowsCancel,
    /// The tenant's analytics over all its leads.
    #[serde(rename = "analytics:view_all")]
    AnalyticsViewAll,
    /// The same analytics over one's assigned leads only.
    #[serde(rename = "analytics:view_own")]
    AnalyticsViewOwn,
    #[serde(rename = "agents:manage")]
    AgentsManage,
    #[serde(rename = "settings:manage")]
    SettingsManage,
    /// Change the tenant's tier (and so its limits).
    #[serde(rename = "settings:billing")]
    SettingsBilling,
    /// Delete the tenant and every row of its data.
    #[serde(rename = "tenant:delete")]
    TenantDelete,
    #[serde(rename = "members:manage")]
    MembersManage,
    #[serde(rename = "keys:manage")]
    KeysManage,
    #[serde(rename = "audit:view")]
    AuditView,
    /// Chat with agents in the playground (it runs the model).
    #[serde(rename = "playground:use")]
    PlaygroundUse,
    /// Read and search the tenant's knowledge base.
    #[serde(rename = "knowledge:view")]
    KnowledgeView,
    /// Add, edit and delete knowledge documents.
    #[serde(rename = "knowledge:manage")]
    KnowledgeManage,
    /// Read eval sets, their runs and results.
    #[serde(rename = "evals:view")]
    EvalsView,
    /// Create, edit, import and delete eval sets and cases; delete runs.
    #[serde(rename = "evals:manage")]
    EvalsManage,
    /// Run an eval set against an agent's versions, and cancel a run (it
    /// runs the model, as the playground does).
    #[serde(rename = "evals:run")]
    EvalsRun,
}

use Permission::*;

/// The permission table. Every check in the server goes through
/// [`effective`] (the role's row here, then the member's grants).
const TABLE: &[(Role, &[Permission])] = &[
    (Role::Admin, &Permission::ALL),
    (
        Role::Manager,
        &[
            LeadsViewAll,
            LeadsViewAssigned,
            LeadsEdit,
            LeadsApprove,
            LeadsExport,
            WorkflowsViewAll,
            WorkflowsCancel,
            AnalyticsViewAll,
            AgentsManage,
            AuditView,
            PlaygroundUse,
            KnowledgeView,
            KnowledgeManage,
            EvalsView,
            EvalsManage,
            EvalsRun,
        ],
    ),
    (
        Role::Agent,
        &[
            LeadsViewAssigned,
            LeadsEdit,
            AnalyticsViewOwn,
            PlaygroundUse,
            KnowledgeView,
            EvalsView,
            EvalsRun,
        ],
    ),
    // Read-only: sees what a manager sees, changes nothing.
    (
        Role::Viewer,
        &[LeadsViewAll, WorkflowsViewAll, AnalyticsViewAll, EvalsView],
    ),
];

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Manager, Role::Agent, Role::Viewer];

    pub fn permissions(self) -> &'static [Permission] {
        TABLE
            .iter()
            .find(|(role, _)| *role == self)
            .map(|(_, perms)| *perms)
            .unwrap_or(&[])
    }

    pub fn can(self, permission: Permission) -> bool {
        self.permissions().contains(&permission)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Agent => "agent",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Permission {
    pub const ALL: [Permission; 23] = [
        LeadsViewAll,
        LeadsViewAssigned,
        LeadsEdit,
        LeadsApprove,
        LeadsDelete,
        LeadsExport,
        WorkflowsViewAll,
        WorkflowsCancel,
        AnalyticsViewAll,
        AnalyticsViewOwn,
        AgentsManage,
        SettingsManage,
        SettingsBilling,
        TenantDelete,
        MembersManage,
        KeysManage,
        AuditView,
        PlaygroundUse,
        KnowledgeView,
        KnowledgeManage,
        EvalsView,
        EvalsManage,
        EvalsRun,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LeadsViewAll => "leads:view_all",
            LeadsViewAssigned => "leads:view_assigned",
            LeadsEdit => "leads:edit",
            LeadsApprove => "leads:approve",
            LeadsDelete => "leads:delete",
            LeadsExport => "leads:export",
            WorkflowsViewAll => "workflows:view_all",
            WorkflowsCancel => "workflows:cancel",
            AnalyticsViewAll => "analytics:view_all",
            AnalyticsViewOwn => "analytics:view_own",
            AgentsManage => "agents:manage",
            SettingsManage => "settings:manage",
            SettingsBilling => "settings:billing",
            TenantDelete => "tenant:delete",
            MembersManage => "members:manage",
            KeysManage => "keys:manage",
            AuditView => "audit:view",
            PlaygroundUse => "playground:use",
            KnowledgeView => "knowledge:view",
            KnowledgeManage => "knowledge:manage",
            EvalsView => "evals:view",
            EvalsManage => "evals:manage",
            EvalsRun => "evals:run",
        }
    }

    pub fn parse(s: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// What the permission lets a member do, as the README and the console
    /// say it.
    pub fn describe(self) -> &'static str {
        match self {
            LeadsViewAll => "see every lead",
            LeadsViewAssigned => "see the leads assigned to them",
            LeadsEdit => "create, change, note, import and start workflows on leads they see",
            LeadsApprove => "approve, reject or edit-and-approve drafted replies",
            LeadsDelete => "delete leads",
            LeadsExport => "export leads as CSV",
            WorkflowsViewAll => "see every workflow (else those of their assigned leads)",
            WorkflowsCancel => "cancel a workflow",
            AnalyticsViewAll => "see the tenant's analytics",
            AnalyticsViewOwn => "see analytics over their assigned leads",
            AgentsManage => "create, change and share agents and workspaces",
            SettingsManage => "change the tenant's settings and webhooks",
            SettingsBilling => "change the tenant's tier and limits",
            TenantDelete => "delete the tenant and all its data",
            MembersManage => "add, remove and invite members; change roles and grants",
            KeysManage => "create, rotate and revoke API keys",
            AuditView => "read the audit log",
            PlaygroundUse => "chat with agents in the playground",
            KnowledgeView => "read and search the knowledge base",
            KnowledgeManage => "add, edit and delete knowledge documents",
            EvalsView => "read eval sets, their runs and results",
            EvalsManage => "create, edit and delete eval sets and cases; delete runs",
            EvalsRun => "run an eval set against agent versions, and cancel a run",
        }
    }
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One member's permissions on top of their role: granted ones the role
/// lacks, withdrawn ones it has. Kept sorted and without repeats.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Grants {
    #[serde(default)]
    pub granted: Vec<Permission>,
    #[serde(default)]
    pub withdrawn: Vec<Permission>,
}

impl Grants {
    pub fn is_empty(&self) -> bool {
        self.granted.is_empty() && self.withdrawn.is_empty()
    }

    /// Only what changes `role`'s set: grants it lacks, withdrawals of
    /// what it has; sorted, without repeats. Refused when one permission is
    /// both granted and withdrawn (named in the error).
    pub fn normalized(&self, role: Role) -> Result<Grants, Permission> {
        if let Some(p) = self.granted.iter().find(|p| self.withdrawn.contains(p)) {
            return Err(*p);
        }
        let keep = |list: &[Permission], has: bool| {
            let mut out: Vec<Permission> = list
                .iter()
                .copied()
                .filter(|p| role.can(*p) != has)
                .collect();
            out.sort();
            out.dedup();
            out
        };
        Ok(Grants {
            granted: keep(&self.granted, true),
            withdrawn: keep(&self.withdrawn, false),
        })
    }
}

/// The permissions a member with `role` and `grants` holds: the role's,
/// less what was withdrawn, plus what was granted. The one function the
/// server's gate asks.
pub fn effective(role: Role, grants: &Grants) -> Vec<Permission> {
    Permission::ALL
        .into_iter()
        .filter(|p| (role.can(*p) && !grants.withdrawn.contains(p)) || grants.granted.contains(p))
        .collect()
}

/// The role × permission table as Markdown (the README carries it; a test
/// keeps them equal).
pub fn markdown_table() -> String {
    let mut out = String::from("| permission | what it allows |");
    for r in Role::ALL {
        out.push_str(&format!(" {r} |"));
    }
    out.push_str("\n| --- | --- |");
    for _ in Role::ALL {
        out.push_str(" :-: |");
    }
    out.push('\n');
    for p in Permission::ALL {
        out.push_str(&format!("| `{p}` | {} |", p.describe()));
        for r in Role::ALL {
            out.push_str(if r.can(p) { " ✓ |" } else { "   |" });
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_has_every_permission_and_viewer_cannot_change_anything() {
        for p in Permission::ALL {
            assert!(Role::Admin.can(p), "admin lacks {p}");
        }
        assert!(!Role::Viewer.can(Permission::LeadsEdit));
        assert!(!Role::Viewer.can(Permission::MembersManage));
        assert!(!Role::Agent.can(Permission::LeadsViewAll));
        assert!(!Role::Manager.can(Permission::KeysManage));
    }

    #[test]
    fn the_roles_hold_what_the_designs_give_them() {
        let has = |r: Role, ps: &[Permission]| ps.iter().all(|p| r.can(*p));
        assert!(has(
            Role::Manager,
            &[
                LeadsViewAll,
                LeadsApprove,
                LeadsEdit,
                LeadsExport,
                WorkflowsViewAll,
                WorkflowsCancel,
                AnalyticsViewAll
            ]
        ));
        assert!(!Role::Manager.can(SettingsBilling));
        assert!(!Role::Manager.can(LeadsDelete));
        assert!(has(
            Role::Agent,
            &[
                LeadsViewAssigned,
                LeadsEdit,
                AnalyticsViewOwn,
                PlaygroundUse
            ]
        ));
        for p in [
            LeadsApprove,
            WorkflowsCancel,
            WorkflowsViewAll,
            AnalyticsViewAll,
        ] {
            assert!(!Role::Agent.can(p), "agent has {p}");
        }
        for p in Role::Viewer.permissions() {
            assert!(
                p.as_str().ends_with("view_all") || p.as_str().ends_with(":view"),
                "viewer can change something: {p}"
            );
        }
    }

    #[test]
    fn roles_and_permissions_round_trip_through_their_names() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("owner"), None);
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(p));
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(json, format!("\"{p}\""));
        }
        let mut sorted = Permission::ALL;
        sorted.sort();
        assert_eq!(sorted, Permission::ALL, "ALL follows the declaration order");
    }

    #[test]
    fn grants_add_to_and_withdrawals_take_from_the_role() {
        let g = Grants {
            granted: vec![LeadsApprove, LeadsEdit, LeadsApprove],
            withdrawn: vec![PlaygroundUse, LeadsDelete],
        }
        .normalized(Role::Agent)
        .unwrap();
        // Edit the agent has, delete it lacks: both dropped as no-ops.
        assert_eq!(g.granted, vec![LeadsApprove]);
        assert_eq!(g.withdrawn, vec![PlaygroundUse]);
        let e = effective(Role::Agent, &g);
        assert!(e.contains(&LeadsApprove) && !e.contains(&PlaygroundUse));
        assert!(e.contains(&LeadsEdit));
        let both = Grants {
            granted: vec![AuditView],
            withdrawn: vec![AuditView],
        };
        assert_eq!(both.normalized(Role::Viewer), Err(AuditView));
    }

    #[test]
    fn the_readme_carries_the_permission_table() {
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
        let begin = "<!-- permissions:begin -->\n";
        let end = "<!-- permissions:end -->";
        let from = readme
            .find(begin)
            .expect("README lacks the permissions marker")
            + begin.len();
        let to = readme[from..].find(end).unwrap() + from;
        if std::env::var_os("SWITCHBOARD_UPDATE_README").is_some() {
            let updated = format!("{}{}{}", &readme[..from], markdown_table(), &readme[to..]);
            std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"), updated).unwrap();
            return;
        }
        assert_eq!(
            &readme[from..to],
            markdown_table(),
            "README's permission table differs from domain::access; \
             run this test with SWITCHBOARD_UPDATE_README=1 to rewrite it"
        );
    }
}
