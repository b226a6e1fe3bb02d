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
        ],
    ),
    (
        Role::Agent,
        &[LeadsViewAssigned, LeadsEdit, PlaygroundUse, KnowledgeView],
    ),
    (Role::Viewer, &[LeadsViewAll]),
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
    pub const ALL: [Permission; 13] = [
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
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("owner"), None);
    }
}
