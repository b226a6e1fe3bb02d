//! Members, roles and invitations.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{Duration, Utc};
use uuid::Uuid;

use super::access::{Access, Need};
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Path, Query, Session};
use super::tenants::page_check;
use super::{password, AppState};
use crate::domain::validate::{is_email, normalize_email};
use crate::domain::{
    secret, AcceptInvitation, AcceptedInvitation, CreatedInvitation, Grants, Invitation,
    LoginResponse, Member, MemberPermissions, NewInvitation, NewMember, Page, PageQuery,
    Permission, Problem, Role, RoleChange, User,
};
use crate::store::{Accepter, InvitationRef, NewInvitationRow, StoreError};
use tracing::instrument;

const MANAGE: Need = Need::Permission(Permission::MembersManage);

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/members", tag = "members",
    params(("tenant" = String, Path, description = "tenant id or slug"), PageQuery),
    responses((status = 200, body = Page<Member>), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<Member>>> {
    page_check(&page)?;
    let access = session.tenant(&state, &tenant, Need::Member).await?;
    Ok(Json(
        state.store.list_members(access.tenant.id, &page).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/members", tag = "members",
    params(("tenant" = String, Path, description = "tenant id or slug")), request_body = NewMember,
    responses((status = 201, body = Member, description = "a platform admin added the account"),
        (status = 202, body = Invitation,
            description = "invited: the account's owner accepts while signed in"),
        (status = 402, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
/// Adds an existing account. A platform admin adds it at once; a tenant
/// admin's request becomes an invitation its owner accepts signed in, so no
/// tenant can pull someone else's account into its own.
pub async fn add(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
    Json(new): Json<NewMember>,
) -> ApiResult<Response> {
    let access = session.tenant_for_change(&state, &tenant, MANAGE).await?;
    let email = normalize_email(&new.email);
    if !is_email(&email) {
        return Err(ApiError::field("email", "is not an email address"));
    }
    let (user, _) = state.store.user_by_email(&email).await?.ok_or_else(|| {
        ApiError::field(
            "email",
            "has no account yet; send an invitation instead (POST …/invitations)",
        )
    })?;
    let tier = access.tenant.tier;
    if !access.platform_admin {
        if state
            .store
            .role_of(access.tenant.id, user.id)
            .await?
            .is_some()
        {
            return Err(ApiError::Conflict {
                field: "email".into(),
                detail: format!("{email} is already a member here; change their role instead"),
            });
        }
        check_user_room(&access)?;
        let invitation = create_invitation(&state, &access, email, new.role).await?.0;
        return Ok((StatusCode::ACCEPTED, Json(invitation)).into_response());
    }
    let member = state
        .store
        .add_member(
            &access.actor,
            access.tenant.id,
            user.id,
            new.role,
            access.tenant.usage.user_limit,
            tier,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(member)).into_response())
}

#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}/members/{user_id}", tag = "members",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("user_id" = Uuid, Path)),
    request_body = RoleChange,
    responses((status = 200, body = Member), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn change_role(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, user_id)): Path<(String, Uuid)>,
    Json(change): Json<RoleChange>,
) -> ApiResult<Json<Member>> {
    let access = session.tenant_for_change(&state, &tenant, MANAGE).await?;
    let member = state
        .store
        .set_member_role(&access.actor, access.tenant.id, user_id, change.role)
        .await?;
    Ok(Json(member))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/members/{user_id}/permissions", tag = "members",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("user_id" = Uuid, Path)),
    responses((status = 200, body = MemberPermissions,
            description = "the role's permissions, the grants and withdrawals on top, and the effective set"),
        (status = 403, body = Problem, description = "another member's, without members:manage"),
        (status = 404, body = Problem)),
    security(("bearer" = [])))]
/// A member's permissions. Members read their own; reading another's needs
/// `members:manage`.
pub async fn permissions(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, user_id)): Path<(String, Uuid)>,
) -> ApiResult<Json<MemberPermissions>> {
    let need = if user_id == session.user.id {
        Need::Member
    } else {
        MANAGE
    };
    let access = session.tenant(&state, &tenant, need).await?;
    let member = state
        .store
        .member(access.tenant.id, user_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(MemberPermissions::of(&member)))
}

#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/members/{user_id}/permissions", tag = "members",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("user_id" = Uuid, Path)),
    request_body(content = Grants, description = "the whole set of grants and withdrawals; \
        grants of what the role has and withdrawals of what it lacks are dropped"),
    responses((status = 200, body = MemberPermissions), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "nobody could manage members after it"),
        (status = 422, body = Problem, description = "a permission both granted and withdrawn")),
    security(("bearer" = [])))]
/// Replaces one member's grants and withdrawals on top of their role.
#[instrument(skip_all, fields(tenant = %tenant, member = %user_id))]
pub async fn set_permissions(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, user_id)): Path<(String, Uuid)>,
    Json(grants): Json<Grants>,
) -> ApiResult<Json<MemberPermissions>> {
    let access = session.tenant_for_change(&state, &tenant, MANAGE).await?;
    let rights = state
        .store
        .rights_of(access.tenant.id, user_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let grants = grants.normalized(rights.role).map_err(|p| {
        ApiError::field(
            "withdrawn",
            format!("{p} is both granted and withdrawn; keep it in one list"),
        )
    })?;
    let member = state
        .store
        .set_member_grants(&access.actor, access.tenant.id, user_id, grants)
        .await?;
    Ok(Json(MemberPermissions::of(&member)))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/members/{user_id}", tag = "members",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("user_id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn remove(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, user_id)): Path<(String, Uuid)>,
) -> ApiResult<StatusCode> {
    let access = session.tenant_for_change(&state, &tenant, MANAGE).await?;
    state
        .store
        .remove_member(&access.actor, access.tenant.id, user_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/invitations", tag = "members",
    params(("tenant" = String, Path, description = "tenant id or slug"), PageQuery),
    responses((status = 200, body = Page<Invitation>), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_invitations(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<Invitation>>> {
    page_check(&page)?;
    let access = session.tenant(&state, &tenant, MANAGE).await?;
    Ok(Json(
        state
            .store
            .list_invitations(access.tenant.id, &page)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/invitations", tag = "members",
    params(("tenant" = String, Path, description = "tenant id or slug")), request_body = NewInvitation,
    responses((status = 201, body = CreatedInvitation), (status = 402, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn invite(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
    Json(new): Json<NewInvitation>,
) -> ApiResult<(StatusCode, Json<CreatedInvitation>)> {
    let access = session.tenant_for_change(&state, &tenant, MANAGE).await?;
    let email = normalize_email(&new.email);
    if !is_email(&email) {
        return Err(ApiError::field("email", "is not an email address"));
    }
    check_user_room(&access)?;
    let (invitation, token) = create_invitation(&state, &access, email, new.role).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedInvitation { invitation, token }),
    ))
}

/// Refuses an invitation the user limit (the tier's, or a platform admin's
/// override) has no room for.
fn check_user_room(access: &Access) -> ApiResult<()> {
    let t = &access.tenant;
    if let Some(limit) = t.usage.user_limit {
        if t.usage.users >= limit {
            let whose = match t.user_limit_override {
                Some(_) => "a platform admin set a limit of".to_string(),
                None => format!("the {} tier allows", t.tier),
            };
            return Err(ApiError::LimitReached(format!(
                "{whose} {limit} users and {} has {}; upgrade the tier or remove someone first",
                t.name, t.usage.users
            )));
        }
    }
    Ok(())
}

/// Stores a new invitation; returns it with its token (shown once).
async fn create_invitation(
    state: &AppState,
    access: &Access,
    email: String,
    role: Role,
) -> ApiResult<(Invitation, String)> {
    let token = secret::generate("sbi_");
    let row = NewInvitationRow {
        email,
        role,
        token_hash: secret::hash(&token),
        expires_at: Utc::now() + Duration::days(7),
    };
    let invitation = state
        .store
        .create_invitation(&access.actor, access.tenant.id, row)
        .await?;
    Ok((invitation, token))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/invitations/{id}", tag = "members",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn revoke_invitation(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
) -> ApiResult<StatusCode> {
    let access = session.tenant_for_change(&state, &tenant, MANAGE).await?;
    state
        .store
        .revoke_invitation(&access.actor, access.tenant.id, id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/invitations/accept", tag = "members",
    request_body = AcceptInvitation,
    responses((status = 200, body = AcceptedInvitation), (status = 401, body = Problem),
        (status = 402, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem),
        (status = 423, body = Problem)),
    security((), ("bearer" = [])))]
/// Accepts an invitation by its token. For an email that has an account,
/// only that account, signed in, may accept (no new session is made). For a
/// new email, the accepter chooses the password, the account is created
/// (marked with the inviting tenant) and a session for it is returned.
pub async fn accept(
    State(state): State<AppState>,
    session: Option<Session>,
    Json(req): Json<AcceptInvitation>,
) -> ApiResult<Json<AcceptedInvitation>> {
    let token_hash = secret::hash(req.token.trim());
    let which = InvitationRef::Token(&token_hash);
    if let Some(session) = session {
        let (user, tenant) = state
            .store
            .accept_invitation(which, Accepter::Existing(&session.user))
            .await?;
        return Ok(Json(accepted(&state, user, tenant, None).await?));
    }
    let email = state
        .store
        .invitation_email(&token_hash)
        .await?
        .ok_or(StoreError::InvitationInvalid)?;
    if state.store.user_by_email(&email).await?.is_some() {
        return Err(StoreError::InvitationNeedsSignIn.into());
    }
    let pw = req
        .password
        .clone()
        .ok_or_else(|| ApiError::field("password", "is required to create your account"))?;
    password::validate(&pw).map_err(|m| ApiError::field("password", m))?;
    let name = req
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| email.split('@').next().unwrap_or("member"))
        .to_string();
    let hash = password::hash(pw).await?;
    let new = Accepter::New {
        name: &name,
        password_hash: &hash,
    };
    let (user, tenant) = state.store.accept_invitation(which, new).await?;
    let session = state.issue_session(user.clone()).await?;
    Ok(Json(accepted(&state, user, tenant, Some(session)).await?))
}

/// The answer to an acceptance: the membership it gave.
pub(super) async fn accepted(
    state: &AppState,
    user: User,
    tenant: Uuid,
    session: Option<LoginResponse>,
) -> ApiResult<AcceptedInvitation> {
    let mut membership = state
        .store
        .memberships_of(user.id)
        .await?
        .into_iter()
        .find(|m| m.tenant_id == tenant)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("accepted, yet no membership")))?;
    // A new member has no grants: the role's permissions.
    membership.permissions = membership.role.permissions().to_vec();
    Ok(AcceptedInvitation {
        membership,
        session,
    })
}
