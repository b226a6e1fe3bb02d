//! Public lead ingest for website forms, authenticated by a tenant API key.

use std::num::NonZeroU32;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tracing::instrument;
use uuid::Uuid;

use super::error::{ApiError, ApiResult};
use super::extract::Json;
use super::AppState;
use crate::domain::lead::spam_reason;
use crate::domain::{secret, IngestReceipt, LeadInput, LeadSource, Problem, TenantStatus};
use crate::store::{Actor, Idempotency, IngestOutcome, KeyedIngest, LeadLimit, NewLeadRow};

/// Per-key token buckets.
pub struct IngestLimiter(DefaultKeyedRateLimiter<Uuid>);

impl IngestLimiter {
    pub fn new(per_minute: u32, burst: u32) -> Self {
        let rate = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
        Self(RateLimiter::keyed(
            Quota::per_minute(rate).allow_burst(burst),
        ))
    }

    /// Seconds to wait when the key's bucket is empty.
    fn check(&self, key: Uuid) -> Option<u64> {
        self.0.check_key(&key).err().map(|not_until| {
            let wait = not_until.wait_time_from(governor::clock::Clock::now(
                &governor::clock::DefaultClock::default(),
            ));
            wait.as_secs().max(1)
        })
    }
}

impl std::fmt::Debug for IngestLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IngestLimiter")
    }
}

fn api_key(headers: &HeaderMap) -> Option<&str> {
    let from_bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    from_bearer
        .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()))
        .filter(|k| k.starts_with("sbk_"))
}

fn suspended() -> ApiError {
    ApiError::Suspended(
        "this tenant is suspended and accepts no leads; contact the agency that runs the form"
            .into(),
    )
}

const BAD_KEY: &str = "the API key is missing, unknown, revoked or expired; send a valid key as `Authorization: Bearer sbk_…` or `X-Api-Key`";

#[utoipa::path(post, path = "/api/v1/ingest/leads", tag = "ingest", request_body = LeadInput,
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "retries with the same key return the first result")),
    responses((status = 201, body = IngestReceipt), (status = 401, body = Problem), (status = 402, body = Problem),
        (status = 409, body = Problem), (status = 410, body = Problem, description = "the key's tenant was deleted"),
        (status = 422, body = Problem), (status = 423, body = Problem), (status = 429, body = Problem)),
    security(("api_key" = [])))]
#[instrument(skip_all)]
pub async fn ingest(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let key = api_key(&headers).ok_or(ApiError::Unauthorized(BAD_KEY))?;
    let now = state.clock.now();
    let key_hash = secret::hash(key);
    // Maybe read a moment ago: the write re-checks what must not be stale.
    // A rotated key past its overlap is refused exactly as a revoked one.
    let (owner, tenant) = state
        .ingest_contexts
        .get(&state.store, &key_hash)
        .await?
        .filter(|(o, _)| o.accepts(now))
        .ok_or(ApiError::Unauthorized(BAD_KEY))?;
    if let Some(retry_after) = state.ingest_limiter.check(owner.key_id) {
        return Err(ApiError::RateLimited { retry_after });
    }
    if tenant.status == TenantStatus::Suspended {
        return Err(suspended());
    }
    state.admit_ingest(&tenant).await?;
    let idempotency = match headers.get("idempotency-key") {
        None => None,
        Some(v) => {
            // As the OpenAPI document says (`^[!-~]{1,255}$`): a key with a
            // space or a control character inside is refused, not trimmed
            // into another key.
            let k = v.as_bytes();
            if k.is_empty() || k.len() > 255 || !k.iter().all(|b| (b'!'..=b'~').contains(b)) {
                return Err(ApiError::field(
                    "Idempotency-Key",
                    "must be 1 to 255 visible ASCII characters, without spaces",
                ));
            }
            let k = String::from_utf8_lossy(k);
            Some(Idempotency {
                key: k.to_string(),
                body_hash: secret::hash(&String::from_utf8_lossy(&body)),
            })
        }
    };
    let input: LeadInput = serde_json::from_slice(&body).map_err(|e| ApiError::Validation {
        detail: format!("the body is not a valid lead: {e}"),
        errors: vec![crate::domain::FieldError::new("body", e.to_string())],
    })?;
    let input = input.normalized().map_err(ApiError::invalid)?;
    let (sla_due_at, sla_at_risk_at) = tenant.settings.sla_clock(now);
    let row = NewLeadRow {
        spam_reason: spam_reason(&input, &tenant.settings.spam_keywords),
        stage: tenant.settings.first_stage(),
        sla_due_at,
        sla_at_risk_at,
        source: LeadSource::Form,
        input,
        received_at: None,
        workspace_id: owner.workspace_id,
        import_key: None,
    };
    let actor = Actor {
        user_id: None,
        email: Some(format!("api-key:{}", owner.key_id)),
    };
    let limit = LeadLimit {
        tier: tenant.tier,
        limit: tenant.tier.lead_limit(),
    };
    let outcome = state
        .store
        .ingest_with_key(&owner, &actor, row, limit, idempotency, now)
        .await;
    // The write refused what was remembered of the key: read it again next.
    if matches!(
        outcome,
        Ok(KeyedIngest::KeyRevoked | KeyedIngest::Suspended)
            | Err(crate::store::StoreError::TenantDeleted)
    ) {
        state.ingest_contexts.forget(&key_hash);
    }
    let outcome = outcome.map_err(|e| match e {
        crate::store::StoreError::LimitReached { tier, limit, .. } => {
            ApiError::LimitReached(format!(
                "{} reached the {tier} tier's {limit} leads this month; the count resets on {}",
                tenant.name,
                crate::domain::lead::next_month_start(now).format("%Y-%m-%d")
            ))
        }
        other => other.into(),
    })?;
    let (lead, replayed) = match outcome {
        KeyedIngest::Done(IngestOutcome::Created(lead)) => (lead, false),
        KeyedIngest::Done(IngestOutcome::Replayed(lead)) => (lead, true),
        KeyedIngest::Done(IngestOutcome::Duplicate) => return Err(ApiError::NotFound),
        KeyedIngest::KeyRevoked => return Err(ApiError::Unauthorized(BAD_KEY)),
        KeyedIngest::Suspended => return Err(suspended()),
    };
    if !replayed {
        state.notify(tenant.id);
    }
    let receipt = IngestReceipt {
        id: lead.id,
        received_at: lead.created_at,
    };
    let mut resp = (StatusCode::CREATED, Json(receipt)).into_response();
    if replayed {
        resp.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(resp)
}

/// Keys and sessions arrive in headers anyone can write.
#[cfg(test)]
mod fuzz {
    use super::*;
    use axum::http::{HeaderValue, Request};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_credential_header_is_read_without_panic(
            raw in proptest::collection::vec(any::<u8>(), 0..80),
            text in crate::domain::text::arbitrary::text(&["Bearer ", "bearer", " ", "sbk_", "sbt_"]),
        ) {
            for value in [HeaderValue::from_bytes(&raw), HeaderValue::from_str(&text)]
                .into_iter()
                .flatten()
            {
                let mut headers = HeaderMap::new();
                headers.insert(axum::http::header::AUTHORIZATION, value.clone());
                headers.insert("x-api-key", value.clone());
                if let Some(key) = api_key(&headers) {
                    prop_assert!(key.starts_with("sbk_"));
                }
                let (parts, ()) = Request::builder()
                    .header(axum::http::header::AUTHORIZATION, value)
                    .body(())
                    .unwrap()
                    .into_parts();
                let _ = super::super::extract::bearer(&parts);
            }
        }
    }
}
