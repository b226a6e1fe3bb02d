//! Members, roles and invitations.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{Duration, Utc};
use uuid::Uuid;

use super::access::Need;
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Path, Query, Session};
use super::tenants::page_check;
use super::{password, AppState};
use crate::domain::validate::{is_email, normalize_email};
use crate::domain::{
    secret, AcceptInvitation, CreatedInvitation, Invitation, LoginResponse, Member, NewInvitation,
    NewMember, Page, PageQuery, Permission, Problem, RoleChange,
};
use crate::store::NewInvitationRow;

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
    responses((status = 201, body = Member), (status = 402, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn add(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
    Json(new): Json<NewMember>,
) -> ApiResult<(StatusCode, Json<Member>)> {
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
    let member = state
        .store
        .add_member(
            &access.actor,
            access.tenant.id,
            user.id,
            new.role,
            tier.user_limit(),
            tier,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(member)))
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
    if let Some(limit) = access.tenant.tier.user_limit() {
        if access.tenant.usage.users >= limit {
            return Err(ApiError::LimitReached(format!(
                "the {} tier allows {limit} users and {} has {}; upgrade the tier or remove someone first",
                access.tenant.tier, access.tenant.name, access.tenant.usage.users
            )));
        }
    }
    let token = secret::generate("sbi_");
    let row = NewInvitationRow {
        email,
        role: new.role,
        token_hash: secret::hash(&token),
        expires_at: Utc::now() + Duration::days(7),
    };
    let invitation = state
        .store
        .create_invitation(&access.actor, access.tenant.id, row)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedInvitation { invitation, token }),
    ))
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
    responses((status = 200, body = LoginResponse), (status = 402, body = Problem), (status = 422, body = Problem)))]
pub async fn accept(
    State(state): State<AppState>,
    Json(req): Json<AcceptInvitation>,
) -> ApiResult<Json<LoginResponse>> {
    let token_hash = secret::hash(req.token.trim());
    let email = state
        .store
        .invitation_email(&token_hash)
        .await?
        .ok_or_else(|| {
            ApiError::field(
                "token",
                "is invalid, already used, revoked or expired; ask for a new invitation",
            )
        })?;
    let existing = state.store.user_by_email(&email).await?;
    let new_user = match existing {
        Some(_) => None,
        None => {
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
            Some((name, password::hash(pw).await?))
        }
    };
    let (user, _tenant) = state
        .store
        .accept_invitation(
            &token_hash,
            new_user.as_ref().map(|(n, h)| (n.as_str(), h.as_str())),
        )
        .await?;
    Ok(Json(state.issue_session(user).await?))
}
