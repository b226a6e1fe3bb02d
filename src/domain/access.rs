//! Roles and the one table that maps them to named permissions.

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum Permission {
    #[serde(rename = "leads:view_all")]
    LeadsViewAll,
    #[serde(rename = "leads:view_assigned")]
    LeadsViewAssigned,
    #[serde(rename = "leads:edit")]
    LeadsEdit,
    #[serde(rename = "leads:delete")]
    LeadsDelete,
    #[serde(rename = "leads:export")]
    LeadsExport,
    #[serde(rename = "agents:manage")]
    AgentsManage,
    #[serde(rename = "settings:manage")]
    SettingsManage,
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

/// The permission table. Every check in the server goes through [`Role::can`].
const TABLE: &[(Role, &[Permission])] = &[
    (
        Role::Admin,
        &[
            LeadsViewAll,
            LeadsViewAssigned,
            LeadsEdit,
            LeadsDelete,
            LeadsExport,
            AgentsManage,
            SettingsManage,
            MembersManage,
            KeysManage,
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
        Role::Manager,
        &[
            LeadsViewAll,
            LeadsViewAssigned,
            LeadsEdit,
            LeadsDelete,
            LeadsExport,
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
            PlaygroundUse,
            KnowledgeView,
            EvalsView,
            EvalsRun,
        ],
    ),
    (Role::Viewer, &[LeadsViewAll, EvalsView]),
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
    pub const ALL: [Permission; 16] = [
        LeadsViewAll,
        LeadsViewAssigned,
        LeadsEdit,
        LeadsDelete,
        LeadsExport,
        AgentsManage,
        SettingsManage,
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
            LeadsDelete => "leads:delete",
            LeadsExport => "leads:export",
            AgentsManage => "agents:manage",
            SettingsManage => "settings:manage",
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
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
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
        // Evals: managers keep sets, agents run what their playground
        // may, viewers read results.
        assert!(Role::Manager.can(Permission::EvalsManage));
        assert!(Role::Agent.can(Permission::EvalsRun));
        assert!(!Role::Agent.can(Permission::EvalsManage));
        assert!(Role::Viewer.can(Permission::EvalsView));
        assert!(!Role::Viewer.can(Permission::EvalsRun));
        for role in Role::ALL {
            assert_eq!(
                role.can(Permission::EvalsRun),
                role.can(Permission::PlaygroundUse),
                "{role} runs evals exactly when it may use the playground"
            );
        }
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("owner"), None);
    }
}
