//! The API calls the console makes, their typed replies, and how to perform them.

use uuid::Uuid;

use crate::api::{ApiError, ApiResult, Client};
use crate::domain::{
    ApiKey, CreatedApiKey, CreatedInvitation, Invitation, Me, Member, NewApiKey, NewInvitation,
    NewMember, NewTenant, Role, Tenant, TenantPatch,
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
    CreateKey {
        tenant: String,
        new: NewApiKey,
    },
    RevokeKey {
        tenant: String,
        id: Uuid,
    },
    RevokeInvitation {
        tenant: String,
        id: Uuid,
    },
}

/// The three lists of the detail view fail independently: a manager may see
/// members but not keys.
#[derive(Debug, Clone)]
pub struct TenantDetailData {
    pub members: ApiResult<Vec<Member>>,
    pub invitations: ApiResult<Vec<Invitation>>,
    pub keys: ApiResult<Vec<ApiKey>>,
}

#[derive(Debug, Clone)]
pub enum Response {
    Me(ApiResult<Me>),
    Tenants(ApiResult<Vec<Tenant>>),
    TenantCreated(ApiResult<Tenant>),
    /// Update, suspend and reactivate all answer with the tenant.
    TenantUpdated(ApiResult<Tenant>),
    TenantDetail(Box<TenantDetailData>),
    MemberAdded(ApiResult<Member>),
    Invited(ApiResult<CreatedInvitation>),
    RoleChanged(ApiResult<Member>),
    MemberRemoved(ApiResult<()>),
    KeyCreated(ApiResult<CreatedApiKey>),
    KeyRevoked(ApiResult<()>),
    InvitationRevoked(ApiResult<()>),
}

impl Response {
    /// The error, if the request failed (for a detail load: the first failure).
    pub fn error(&self) -> Option<&ApiError> {
        match self {
            Response::Me(r) => r.as_ref().err(),
            Response::Tenants(r) => r.as_ref().err(),
            Response::TenantCreated(r) | Response::TenantUpdated(r) => r.as_ref().err(),
            Response::TenantDetail(d) => d
                .members
                .as_ref()
                .err()
                .or(d.invitations.as_ref().err())
                .or(d.keys.as_ref().err()),
            Response::MemberAdded(r) | Response::RoleChanged(r) => r.as_ref().err(),
            Response::Invited(r) => r.as_ref().err(),
            Response::MemberRemoved(r)
            | Response::KeyRevoked(r)
            | Response::InvitationRevoked(r) => r.as_ref().err(),
            Response::KeyCreated(r) => r.as_ref().err(),
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
        Request::Reactivate { tenant } => {
            Response::TenantUpdated(client.reactivate_tenant(&tenant).await)
        }
        Request::LoadTenantDetail { tenant } => {
            let t = tenant.as_str();
            let (members, invitations, keys) = tokio::join!(
                client.all(|p| async move { client.list_members(t, &p).await }),
                client.all(|p| async move { client.list_invitations(t, &p).await }),
                client.all(|p| async move { client.list_api_keys(t, &p).await }),
            );
            Response::TenantDetail(Box::new(TenantDetailData {
                members,
                invitations,
                keys,
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
        Request::CreateKey { tenant, new } => {
            Response::KeyCreated(client.create_api_key(&tenant, &new).await)
        }
        Request::RevokeKey { tenant, id } => {
            Response::KeyRevoked(client.revoke_api_key(&tenant, id).await)
        }
        Request::RevokeInvitation { tenant, id } => {
            Response::InvitationRevoked(client.revoke_invitation(&tenant, id).await)
        }
    }
}
