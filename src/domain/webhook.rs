//! Webhook endpoints, their deliveries and attempts; the signature scheme and
//! the retry policy, shared by the server (which signs) and clients (which
//! verify).

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::ToSchema;
use uuid::Uuid;

use super::FieldError;

/// Header carrying the stable event id (`evt_<tenant>_<seq>`): de-duplicate on it.
pub const EVENT_ID_HEADER: &str = "Switchboard-Event-Id";
/// Header carrying the Unix time (seconds) the attempt was signed at.
pub const TIMESTAMP_HEADER: &str = "Switchboard-Timestamp";
/// Header carrying `v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
pub const SIGNATURE_HEADER: &str = "Switchboard-Signature";

/// The live event of each webhook attempt (on the tenant's event stream,
/// never delivered to webhooks): `data.delivery` is the delivery after it.
pub const DELIVERY_EVENT: &str = "webhook.delivery";
/// The event a test sends to one endpoint (never to the others).
pub const TEST_EVENT: &str = "webhook.test";

/// Event kinds an endpoint may subscribe to (besides `*` and `prefix.*`).
pub const EVENT_KINDS: &[&str] = &[
    "lead.created",
    "lead.updated",
    "lead.deleted",
    "lead.qualified",
    "sla.at_risk",
    "sla.breached",
    "usage.near_limit",
    "workflow.awaiting_approval",
    "workflow.approved",
    "workflow.rejected",
    "workflow.failed",
    "webhook.disabled",
    "eval.progress",
    "eval.finished",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Webhook {
    pub id: Uuid,
    pub url: String,
    /// Event kinds delivered: exact kinds, `prefix.*`, or `*` for all.
    pub events: Vec<String>,
    pub enabled: bool,
    /// `whsec_••••` and the last four characters: the secret is shown only
    /// when created or rotated.
    pub secret_hint: String,
    /// Why the server disabled the endpoint (after repeated failures).
    pub disabled_reason: Option<String>,
    /// Failed attempts in a row, across deliveries; reset by a success.
    pub consecutive_failures: u32,
    /// When the current run of failures started.
    pub failing_since: Option<DateTime<Utc>>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The status of the newest delivery (of the newest event), if any.
    #[serde(default)]
    pub last_delivery_status: Option<DeliveryStatus>,
    /// When that delivery's event happened.
    #[serde(default)]
    pub last_delivery_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NewWebhook {
    pub url: String,
    pub events: Vec<String>,
    /// Default true.
    #[serde(default)]
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WebhookPatch {
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub events: Option<Vec<String>>,
    /// Re-enabling clears the failure count.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// Returned at creation and by rotate-secret: the secret is never shown again.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookWithSecret {
    pub webhook: Webhook,
    pub secret: String,
}

impl std::fmt::Debug for WebhookWithSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookWithSecret")
            .field("webhook", &self.webhook)
            .field("secret", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    Delivered,
    /// Retried for the whole retry window without a 2xx; replay to try again.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(DeliveryStatus::Pending),
            "delivered" => Some(DeliveryStatus::Delivered),
            "failed" => Some(DeliveryStatus::Failed),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WebhookDelivery {
    pub id: Uuid,
    pub webhook_id: Uuid,
    /// The stable event id sent in `Switchboard-Event-Id` (same on every
    /// attempt and replay).
    pub event_id: String,
    /// The event's position in the tenant's event log.
    pub event_seq: i64,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub attempt_count: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// Every attempt, oldest first.
    pub attempts: Vec<WebhookAttempt>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WebhookAttempt {
    pub at: DateTime<Utc>,
    /// The receiver's HTTP status, when it answered.
    pub status_code: Option<u16>,
    /// Why no answer came (timeout, refused, …).
    pub error: Option<String>,
    pub latency_ms: u64,
    /// The first 500 bytes of the response body.
    pub response_excerpt: String,
}

/// One delivery with the request body every attempt of it sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WebhookDeliveryDetail {
    pub delivery: WebhookDelivery,
    pub payload: WebhookPayload,
}

/// The body of every delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WebhookPayload {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub created_at: DateTime<Utc>,
    pub tenant: Uuid,
    pub data: serde_json::Value,
}

/// `evt_<tenant id without dashes>_<seq>`: unique across tenants, stable
/// across retries, replays and servers.
pub fn event_id(tenant: Uuid, seq: i64) -> String {
    format!("evt_{}_{seq}", tenant.simple())
}

/// How a stored secret is shown: `whsec_••••` and its last four characters.
pub fn secret_hint(secret: &str) -> String {
    format!("whsec_{}", super::secret::mask(secret))
}

/// `v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!(
        "v1={}",
        hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
    )
}

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length: this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// Checks a `Switchboard-Signature` header in constant time. Receivers
/// should also reject timestamps far from their clock (e.g. 5 minutes) to
/// limit replays.
pub fn verify(secret: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
    header.split(',').map(str::trim).any(|part| {
        part.strip_prefix("v1=")
            .and_then(|h| hex::decode(h).ok())
            .is_some_and(|sig| mac(secret, timestamp, body).verify_slice(&sig).is_ok())
    })
}

/// Whether an endpoint subscribed with `filter` gets events of `kind`.
pub fn matches(filter: &[String], kind: &str) -> bool {
    filter.iter().any(|f| {
        f == "*"
            || f == kind
            || f.strip_suffix('*')
                .is_some_and(|prefix| prefix.ends_with('.') && kind.starts_with(prefix))
    })
}

pub use super::netaddr::is_public_ip;

/// The host of `url` when it names a private or loopback place outright
/// (`localhost`, or an IP literal that is not public); names are checked
/// again when they resolve, at delivery.
pub fn private_host(url: &str) -> Option<String> {
    let parsed = reqwest::Url::parse(url).ok()?;
    let host = parsed
        .host_str()?
        .trim_start_matches('[')
        .trim_end_matches(']');
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => (!is_public_ip(ip)).then(|| ip.to_string()),
        Err(_) => {
            let d = host.trim_end_matches('.').to_ascii_lowercase();
            (d == "localhost" || d.ends_with(".localhost")).then_some(d)
        }
    }
}

/// Validates a URL and an event filter; returns them normalised.
pub fn validate(url: &str, events: &[String]) -> Result<(String, Vec<String>), Vec<FieldError>> {
    let mut errors = Vec::new();
    let url = url.trim().to_string();
    match reqwest::Url::parse(&url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {
            if !u.username().is_empty() || u.password().is_some() {
                errors.push(FieldError::new(
                    "url",
                    "must not carry credentials; verify the signature instead",
                ));
            }
        }
        _ => errors.push(FieldError::new("url", "must be an http:// or https:// URL")),
    }
    if url.len() > 2000 {
        errors.push(FieldError::new("url", "must be at most 2000 characters"));
    }
    let mut filter: Vec<String> = events.iter().map(|e| e.trim().to_string()).collect();
    filter.sort();
    filter.dedup();
    if filter.is_empty() {
        errors.push(FieldError::new(
            "events",
            "needs at least one event kind (or \"*\" for all)",
        ));
    }
    for f in &filter {
        let known = f == "*"
            || EVENT_KINDS.contains(&f.as_str())
            || f.strip_suffix(".*")
                .is_some_and(|p| EVENT_KINDS.iter().any(|k| k.split('.').next() == Some(p)));
        if !known {
            errors.push(FieldError::new(
                "events",
                format!(
                    "{f:?} is not an event kind; use one of {}, \"lead.*\" or \"*\"",
                    EVENT_KINDS.join(", ")
                ),
            ));
        }
    }
    if errors.is_empty() {
        Ok((url, filter))
    } else {
        Err(errors)
    }
}

/// When failed attempts are retried, and when an endpoint gives up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Delay after the first failed attempt; doubles after each.
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// A delivery still failing this long after its event is `failed`.
    pub give_up_after: Duration,
    /// An endpoint is disabled when it has failed this many attempts in a
    /// row **and** has been failing for `disable_after`.
    pub disable_after_failures: u32,
    pub disable_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            first_delay: Duration::seconds(30),
            max_delay: Duration::hours(1),
            give_up_after: Duration::hours(24),
            disable_after_failures: 20,
            disable_after: Duration::hours(24),
        }
    }
}

impl RetryPolicy {
    /// The delay after `failed` attempts (1 = the first failed).
    pub fn delay(&self, failed: u32) -> Duration {
        let doublings = failed.saturating_sub(1).min(20);
        let delay = self.first_delay * 2i32.pow(doublings);
        delay.min(self.max_delay)
    }

    /// The next attempt after one failed at `now`, or `None` to give up.
    pub fn retry_at(
        &self,
        failed: u32,
        created_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        (now - created_at < self.give_up_after).then(|| now + self.delay(failed))
    }

    /// Whether an endpoint failing like this should be disabled.
    pub fn should_disable(&self, failures: u32, since: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        failures >= self.disable_after_failures && now - since >= self.disable_after
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_reject_tampering() {
        let sig = sign("whsec_abc", 1_700_000_000, b"{\"a\":1}");
        assert!(sig.starts_with("v1="));
        assert!(verify("whsec_abc", 1_700_000_000, b"{\"a\":1}", &sig));
        assert!(!verify("whsec_abc", 1_700_000_001, b"{\"a\":1}", &sig));
        assert!(!verify("whsec_abd", 1_700_000_000, b"{\"a\":1}", &sig));
        assert!(!verify("whsec_abc", 1_700_000_000, b"{\"a\":2}", &sig));
    }

    #[test]
    fn filters_match_exact_prefix_and_all() {
        let f = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(matches(&f(&["lead.created"]), "lead.created"));
        assert!(!matches(&f(&["lead.created"]), "lead.updated"));
        assert!(matches(&f(&["lead.*"]), "lead.qualified"));
        assert!(!matches(&f(&["lead.*"]), "sla.breached"));
        assert!(matches(&f(&["*"]), "sla.breached"));
        assert!(validate("http://127.0.0.1:9/x", &f(&["lead.*", "sla.breached"])).is_ok());
        assert!(validate("ftp://x", &f(&["*"])).is_err());
        assert!(validate("https://x.test", &f(&["lead.bogus"])).is_err());
        assert!(validate("https://x.test", &[]).is_err());
    }

    #[test]
    fn backoff_doubles_to_the_cap_and_gives_up_after_a_day() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(1), Duration::seconds(30));
        assert_eq!(p.delay(2), Duration::seconds(60));
        assert_eq!(p.delay(30), Duration::hours(1));
        let t0 = Utc::now();
        assert!(p.retry_at(5, t0, t0 + Duration::hours(23)).is_some());
        assert!(p.retry_at(5, t0, t0 + Duration::hours(24)).is_none());
    }
}

#[cfg(test)]
mod address_tests {
    use super::*;

    #[test]
    fn private_and_loopback_targets_are_recognised() {
        for url in [
            "http://localhost:8080/hook",
            "http://127.0.0.1/x",
            "http://10.1.2.3/x",
            "http://192.168.0.10/x",
            "http://169.254.169.254/latest/meta-data",
            "http://100.64.0.1/x",
            "http://[::1]/x",
            "http://[fd00::1]/x",
            "http://[::ffff:127.0.0.1]/x",
            // The URL parser normalises other spellings of an IPv4 address.
            "http://2130706433/x",
            "http://0x7f.1/x",
            "http://017700000001/x",
            "http://[64:ff9b::a9fe:a9fe]/latest/meta-data",
            "http://[2002:a9fe:a9fe::1]/x",
            "http://[::169.254.169.254]/x",
            "http://198.18.0.1/x",
            "http://240.0.0.1/x",
            "http://[ff02::1]/x",
        ] {
            assert!(private_host(url).is_some(), "{url}");
        }
        for url in [
            "https://hooks.example.com/x",
            "http://8.8.8.8/x",
            "http://[2606:4700::1]/x",
        ] {
            assert_eq!(private_host(url), None, "{url}");
        }
    }
}

/// Tenants type webhook URLs and filters; receivers send signature headers.
#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::domain::text::arbitrary::text;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_url_filter_or_signature_is_judged_without_panic(
            url in text(&["http://", "https://", "[", "]", ":", "@", "/", "%", "::ffff:", "localhost"]),
            filter in text(&["lead.", "*", ".", "sla.breached"]),
            header in text(&["t=", "v1=", ",", "="]),
        ) {
            let _ = private_host(&url);
            let _ = validate(&url, std::slice::from_ref(&filter));
            let _ = matches(std::slice::from_ref(&filter), "lead.created");
            let _ = verify("whsec_x", 0, url.as_bytes(), &header);
        }
    }
}
