//! API keys used by website forms to post leads.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum ApiKeyScope {
    #[serde(rename = "leads:ingest")]
    LeadsIngest,
}

impl ApiKeyScope {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiKeyScope::LeadsIngest => "leads:ingest",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        (s == "leads:ingest").then_some(ApiKeyScope::LeadsIngest)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ApiKey {
    pub id: Uuid,
    pub name: String,
    /// `sbk_` and the first characters: names the key without revealing it.
    pub prefix: String,
    pub last_four: String,
    pub scope: ApiKeyScope,
    pub created_by: Option<Uuid>,
    /// Leads posted with this key land in this workspace.
    pub workspace_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Set when the key was rotated: it stops working at this time (the
    /// overlap chosen), and the key that replaced it is `replaced_by`.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub replaced_by: Option<Uuid>,
}

/// Where a key stands at a moment: what the keys table shows, and what
/// decides whether ingest accepts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiKeyState {
    Active,
    /// Rotated: still accepted until then.
    Expiring {
        until: DateTime<Utc>,
    },
    /// Rotated, and the overlap is over.
    Expired {
        at: DateTime<Utc>,
    },
    Revoked {
        at: DateTime<Utc>,
    },
}

impl ApiKeyState {
    /// The one rule for a key's validity, from its revocation and expiry.
    pub fn of(
        revoked_at: Option<DateTime<Utc>>,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Self {
        match (revoked_at, expires_at) {
            (Some(at), _) => ApiKeyState::Revoked { at },
            (None, Some(at)) if at <= now => ApiKeyState::Expired { at },
            (None, Some(until)) => ApiKeyState::Expiring { until },
            (None, None) => ApiKeyState::Active,
        }
    }

    /// Whether ingest accepts the key.
    pub fn accepts(self) -> bool {
        matches!(self, ApiKeyState::Active | ApiKeyState::Expiring { .. })
    }
}

impl ApiKey {
    pub fn state(&self, now: DateTime<Utc>) -> ApiKeyState {
        ApiKeyState::of(self.revoked_at, self.expires_at, now)
    }
}

/// The longest a rotated key may keep working beside its replacement: 7 days.
pub const MAX_ROTATION_OVERLAP_MINUTES: u32 = 10_080;

/// A rotation: how long the old key keeps working beside the new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RotateApiKey {
    /// Minutes the old key stays valid; 0 revokes it at once. At most
    /// 10080 (7 days).
    #[schema(minimum = 0, maximum = 10080)]
    pub overlap_minutes: u32,
}

impl RotateApiKey {
    /// Refuses an overlap past the maximum, saying what is allowed.
    pub fn overlap(self) -> Result<chrono::Duration, crate::domain::FieldError> {
        if self.overlap_minutes > MAX_ROTATION_OVERLAP_MINUTES {
            return Err(crate::domain::FieldError::new(
                "overlap_minutes",
                format!(
                    "must be 0 to {MAX_ROTATION_OVERLAP_MINUTES} minutes (7 days); \
                     {} is too long",
                    self.overlap_minutes
                ),
            ));
        }
        Ok(chrono::Duration::minutes(i64::from(self.overlap_minutes)))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NewApiKey {
    #[schema(max_length = 80, pattern = r"\S")]
    pub name: String,
    #[serde(default)]
    pub scope: Option<ApiKeyScope>,
    /// Bind the key to a workspace of the tenant: its leads land there.
    #[serde(default)]
    pub workspace_id: Option<Uuid>,
}

/// Returned once, at creation: the key itself is never shown again.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedApiKey {
    pub api_key: ApiKey,
    pub key: String,
}

impl std::fmt::Debug for CreatedApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedApiKey")
            .field("api_key", &self.api_key)
            .field("key", &"<redacted>")
            .finish()
    }
}

/// Returned once, by a rotation: the new key (shown only now) and the old
/// one as it stands, expiring or revoked.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct RotatedApiKey {
    pub api_key: ApiKey,
    pub key: String,
    pub previous: ApiKey,
}

impl std::fmt::Debug for RotatedApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RotatedApiKey")
            .field("api_key", &self.api_key)
            .field("key", &"<redacted>")
            .field("previous", &self.previous)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_rotated_key_is_accepted_until_its_expiry_and_not_at_it() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap();
        let until = now + chrono::Duration::minutes(60);
        assert_eq!(ApiKeyState::of(None, None, now), ApiKeyState::Active);
        let s = ApiKeyState::of(None, Some(until), now);
        assert_eq!(s, ApiKeyState::Expiring { until });
        assert!(s.accepts());
        assert!(!ApiKeyState::of(None, Some(until), until).accepts());
        assert!(!ApiKeyState::of(Some(now), Some(until), now).accepts());
    }

    #[test]
    fn an_overlap_past_seven_days_is_refused_naming_the_limit() {
        assert!(RotateApiKey { overlap_minutes: 0 }.overlap().is_ok());
        assert!(RotateApiKey {
            overlap_minutes: 10_080
        }
        .overlap()
        .is_ok());
        let err = RotateApiKey {
            overlap_minutes: 10_081,
        }
        .overlap()
        .unwrap_err();
        assert_eq!(err.field, "overlap_minutes");
        assert!(err.message.contains("0 to 10080"), "{}", err.message);
    }
}
