//! Leads for members: list with filters, read, change, delete, notes,
//! timeline, bulk changes, manual entry and usage.

use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use super::access::{Access, Need};
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Path, Query, Session};
use super::AppState;
use crate::domain::lead::{next_month_start, spam_reason};
use crate::domain::{
    BulkLeads, BulkResult, FieldError, Lead, LeadInput, LeadPatch, LeadQuery, LeadSource, NewNote,
    Page, Permission, Problem, SlaState, TimelineEntry, Usage,
};
use crate::store::{
    AssigneeFilter, IngestOutcome, LeadChange, LeadFilter, LeadLimit, LeadSort, NewLeadRow,
};

/// A caller's view of a tenant's leads: all of them, or only those assigned
/// to them (`leads:view_assigned`).
pub(super) struct LeadScope {
    pub access: Access,
    pub only_assigned_to: Option<Uuid>,
}

impl LeadScope {
    pub async fn resolve(
        state: &AppState,
        session: &Session,
        tenant: &str,
        also: Option<Permission>,
        changing: bool,
    ) -> ApiResult<Self> {
        let need = match also {
            Some(p) => Need::Permission(p),
            None => Need::Member,
        };
        let access = if changing {
            session.tenant_for_change(state, tenant, need).await?
        } else {
            session.tenant(state, tenant, need).await?
        };
        let only_assigned_to = if access.can(Permission::LeadsViewAll) {
            None
        } else if access.can(Permission::LeadsViewAssigned) {
            Some(session.user.id)
        } else {
            return Err(ApiError::Forbidden(
                "your role cannot see leads; ask a tenant admin".into(),
            ));
        };
        Ok(Self {
            access,
            only_assigned_to,
        })
    }

    /// The lead, if it exists here and the caller may see it (else 404).
    pub async fn lead(&self, state: &AppState, id: Uuid) -> ApiResult<Lead> {
        let lead = state
            .store
            .lead(self.access.tenant.id, id, state.clock.now())
            .await?
            .ok_or(ApiError::NotFound)?;
        match self.only_assigned_to {
            Some(me) if lead.assignee_id != Some(me) => Err(ApiError::NotFound),
            _ => Ok(lead),
        }
    }
}

pub(super) fn filter_from(q: &LeadQuery, me: Uuid, only: Option<Uuid>) -> ApiResult<LeadFilter> {
    let mut errors = Vec::new();
    let sla = q.sla.as_deref().and_then(|s| {
        let parsed = SlaState::parse(s);
        if parsed.is_none() {
            errors.push(FieldError::new(
                "sla",
                "must be on_track, at_risk, overdue or met",
            ));
        }
        parsed
    });
    let assignee = match q.assignee.as_deref() {
        None | Some("") => None,
        Some("me") => Some(AssigneeFilter::User(me)),
        Some("none") => Some(AssigneeFilter::Nobody),
        Some(id) => match Uuid::parse_str(id) {
            Ok(u) => Some(AssigneeFilter::User(u)),
            Err(_) => {
                errors.push(FieldError::new("assignee", "must be me, none or a user id"));
                None
            }
        },
    };
    let source = q.source.as_deref().and_then(|s| {
        let parsed = LeadSource::parse(s);
        if parsed.is_none() {
            errors.push(FieldError::new(
                "source",
                "must be form, api, import, manual or playground",
            ));
        }
        parsed
    });
    let sort = match q.sort.as_deref() {
        None | Some("sla") => LeadSort::Sla,
        Some("newest") => LeadSort::Newest,
        Some("oldest") => LeadSort::Oldest,
        Some(_) => {
            errors.push(FieldError::new("sort", "must be sla, newest or oldest"));
            LeadSort::Sla
        }
    };
    if q.limit == Some(0) {
        errors.push(FieldError::new("limit", "must be between 1 and 200"));
    }
    ApiError::check(errors)?;
    // Callers who see only their own leads get only their own leads,
    // whatever they asked for.
    let assignee = match (only, assignee) {
        (Some(me), Some(AssigneeFilter::User(u))) if u != me => {
            Some(AssigneeFilter::User(Uuid::nil()))
        }
        (Some(me), _) => Some(AssigneeFilter::User(me)),
        (None, a) => a,
    };
    Ok(LeadFilter {
        stage: q.stage.clone().filter(|s| !s.is_empty()),
        sla,
        assignee,
        spam: q.spam.unwrap_or(false),
        source,
        text: q
            .q
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from),
        sort,
        cursor: q.cursor.clone().filter(|c| !c.is_empty()),
        limit: q.limit.unwrap_or(50).clamp(1, 200),
    })
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/leads", tag = "leads",
    params(("tenant" = String, Path, description = "tenant id or slug"), LeadQuery),
    responses((status = 200, body = Page<Lead>), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
    Query(q): Query<LeadQuery>,
) -> ApiResult<Json<Page<Lead>>> {
    let scope = LeadScope::resolve(&state, &session, &tenant, None, false).await?;
    let filter = filter_from(&q, session.user.id, scope.only_assigned_to)?;
    let page = state
        .store
        .list_leads(scope.access.tenant.id, &filter, state.clock.now())
        .await?;
    Ok(Json(page))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/leads/{id}", tag = "leads",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    responses((status = 403, body = Problem), (status = 200, body = Lead), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
) -> ApiResult<Json<Lead>> {
    let scope = LeadScope::resolve(&state, &session, &tenant, None, false).await?;
    Ok(Json(scope.lead(&state, id).await?))
}

fn opt_field(v: &Option<String>) -> Option<Option<String>> {
    v.as_ref().map(|s| {
        let t = s.trim();
        (!t.is_empty()).then(|| t.to_string())
    })
}

/// Validates a patch against the tenant (stages, members) into a change.
async fn change_from(
    state: &AppState,
    access: &Access,
    patch: &LeadPatch,
) -> ApiResult<LeadChange> {
    let mut errors = Vec::new();
    let settings = &access.tenant.settings;
    if let Some(stage) = &patch.stage {
        if settings.stage(stage).is_none() {
            let ids: Vec<&str> = settings
                .pipeline_stages
                .iter()
                .map(|s| s.id.as_str())
                .collect();
            errors.push(FieldError::new(
                "stage",
                format!("must be one of this tenant's stage ids: {}", ids.join(", ")),
            ));
        }
    }
    if let Some(Some(user)) = patch.assignee_id {
        if state.store.role_of(access.tenant.id, user).await?.is_none() {
            errors.push(FieldError::new(
                "assignee_id",
                "must be a member of this tenant",
            ));
        }
    }
    if let Some(name) = &patch.name {
        if name.trim().is_empty() || name.chars().count() > 200 {
            errors.push(FieldError::new("name", "needs 1 to 200 characters"));
        }
    }
    if let Some(email) = opt_field(&patch.email).flatten() {
        if !crate::domain::validate::is_email(&email) {
            errors.push(FieldError::new("email", "is not an email address"));
        }
    }
    if let Some(Some(q)) = &patch.qualification {
        if q.category.trim().is_empty() || q.category.chars().count() > 40 {
            errors.push(FieldError::new(
                "qualification.category",
                "needs 1 to 40 characters",
            ));
        }
        if q.reason.chars().count() > 500 {
            errors.push(FieldError::new(
                "qualification.reason",
                "must be at most 500 characters",
            ));
        }
    }
    ApiError::check(errors)?;
    Ok(LeadChange {
        name: patch.name.as_ref().map(|s| s.trim().to_string()),
        email: opt_field(&patch.email).map(|e| e.map(|e| e.to_lowercase())),
        phone: opt_field(&patch.phone),
        company: opt_field(&patch.company),
        message: patch.message.as_ref().map(|s| s.trim().to_string()),
        stage: patch.stage.clone(),
        assignee_id: patch.assignee_id,
        spam: patch.spam,
        qualification: patch.qualification.clone(),
        first_stage: settings.first_stage(),
    })
}

#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}/leads/{id}", tag = "leads",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    request_body = LeadPatch,
    responses((status = 200, body = Lead), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
    Json(patch): Json<LeadPatch>,
) -> ApiResult<Json<Lead>> {
    let scope =
        LeadScope::resolve(&state, &session, &tenant, Some(Permission::LeadsEdit), true).await?;
    scope.lead(&state, id).await?;
    let change = change_from(&state, &scope.access, &patch).await?;
    let lead = state
        .store
        .update_lead(
            &scope.access.actor,
            scope.access.tenant.id,
            id,
            change,
            state.clock.now(),
        )
        .await?;
    state.notify(scope.access.tenant.id);
    Ok(Json(lead))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/leads/{id}", tag = "leads",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
) -> ApiResult<StatusCode> {
    let scope = LeadScope::resolve(
        &state,
        &session,
        &tenant,
        Some(Permission::LeadsDelete),
        true,
    )
    .await?;
    scope.lead(&state, id).await?;
    state
        .store
        .delete_lead(&scope.access.actor, scope.access.tenant.id, id)
        .await?;
    state.notify(scope.access.tenant.id);
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/leads", tag = "leads",
    params(("tenant" = String, Path, description = "tenant id or slug")), request_body = LeadInput,
    responses((status = 201, body = Lead), (status = 402, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
    Json(input): Json<LeadInput>,
) -> ApiResult<(StatusCode, Json<Lead>)> {
    let scope =
        LeadScope::resolve(&state, &session, &tenant, Some(Permission::LeadsEdit), true).await?;
    let input = input.normalized().map_err(ApiError::invalid)?;
    let t = &scope.access.tenant;
    let now = state.clock.now();
    let (sla_due_at, sla_at_risk_at) = t.settings.sla_clock(now);
    let row = NewLeadRow {
        spam_reason: spam_reason(&input, &t.settings.spam_keywords),
        stage: t.settings.first_stage(),
        sla_due_at,
        sla_at_risk_at,
        source: LeadSource::Manual,
        input,
        received_at: None,
        workspace_id: None,
        import_key: None,
    };
    let limit = LeadLimit {
        tier: t.tier,
        limit: t.tier.lead_limit(),
    };
    let outcome = state
        .store
        .insert_lead(&scope.access.actor, t.id, row, limit, None, now)
        .await?;
    let IngestOutcome::Created(lead) = outcome else {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "a manual lead was not created"
        )));
    };
    state.notify(t.id);
    Ok((StatusCode::CREATED, Json(*lead)))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/leads/{id}/notes", tag = "leads",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    request_body = NewNote,
    responses((status = 201, body = TimelineEntry), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn add_note(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
    Json(note): Json<NewNote>,
) -> ApiResult<(StatusCode, Json<TimelineEntry>)> {
    let scope =
        LeadScope::resolve(&state, &session, &tenant, Some(Permission::LeadsEdit), true).await?;
    scope.lead(&state, id).await?;
    let body = note.body.trim();
    if body.is_empty() || body.chars().count() > 5000 {
        return Err(ApiError::field("body", "needs 1 to 5000 characters"));
    }
    let entry = state
        .store
        .add_note(
            &scope.access.actor,
            scope.access.tenant.id,
            id,
            body,
            note.is_reply,
            state.clock.now(),
        )
        .await?;
    state.notify(scope.access.tenant.id);
    Ok((StatusCode::CREATED, Json(entry)))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/leads/{id}/timeline", tag = "leads",
    params(("tenant" = String, Path, description = "tenant id or slug"), ("id" = Uuid, Path)),
    responses((status = 403, body = Problem), (status = 200, body = Vec<TimelineEntry>), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn timeline(
    State(state): State<AppState>,
    session: Session,
    Path((tenant, id)): Path<(String, Uuid)>,
) -> ApiResult<Json<Vec<TimelineEntry>>> {
    let scope = LeadScope::resolve(&state, &session, &tenant, None, false).await?;
    scope.lead(&state, id).await?;
    Ok(Json(
        state.store.timeline(scope.access.tenant.id, id).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/leads/bulk", tag = "leads",
    params(("tenant" = String, Path, description = "tenant id or slug")), request_body = BulkLeads,
    responses((status = 200, body = BulkResult), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn bulk(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
    Json(req): Json<BulkLeads>,
) -> ApiResult<Json<BulkResult>> {
    let scope =
        LeadScope::resolve(&state, &session, &tenant, Some(Permission::LeadsEdit), true).await?;
    if req.ids.is_empty() || req.ids.len() > 500 {
        return Err(ApiError::field("ids", "needs 1 to 500 lead ids"));
    }
    if req.stage.is_none() && req.assignee_id.is_none() {
        return Err(ApiError::field(
            "stage",
            "give a stage, an assignee_id or both",
        ));
    }
    let patch = LeadPatch {
        stage: req.stage.clone(),
        assignee_id: req.assignee_id,
        ..LeadPatch::default()
    };
    let change = change_from(&state, &scope.access, &patch).await?;
    let mut result = BulkResult {
        updated: Vec::new(),
        not_found: Vec::new(),
    };
    for id in req.ids {
        if scope.lead(&state, id).await.is_err() {
            result.not_found.push(id);
            continue;
        }
        state
            .store
            .update_lead(
                &scope.access.actor,
                scope.access.tenant.id,
                id,
                change.clone(),
                state.clock.now(),
            )
            .await?;
        result.updated.push(id);
    }
    state.notify(scope.access.tenant.id);
    Ok(Json(result))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/usage", tag = "leads",
    params(("tenant" = String, Path, description = "tenant id or slug")),
    responses((status = 403, body = Problem), (status = 200, body = Usage), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn usage(
    State(state): State<AppState>,
    session: Session,
    Path(tenant): Path<String>,
) -> ApiResult<Json<Usage>> {
    let access = session.tenant(&state, &tenant, Need::Member).await?;
    let now = state.clock.now();
    let t = access.tenant;
    Ok(Json(Usage {
        leads_this_month: state.store.leads_this_month(t.id, now).await?,
        lead_limit: t.tier.lead_limit(),
        users: t.usage.users,
        user_limit: t.usage.user_limit,
        resets_at: next_month_start(now),
    }))
}
