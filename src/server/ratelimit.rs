//! Failed-login limits (governor's GCRA, in memory): per email *and* client
//! together, so a stranger guessing at a known email locks out only
//! themselves, plus a looser limit per client across all emails. Each
//! allows a burst of its limit, then one more attempt every window / limit.
//! Attempts are reserved before the password is checked, so parallel
//! guesses cannot slip through between the check and the record.
//!
//! governor decides; the cells live in [`Cells`], our own state store,
//! because a right password must give back what its attempt took (forget
//! the email's failures, return the client's cell), which governor's own
//! stores cannot.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::http::HeaderMap;
use governor::clock::{Clock, DefaultClock};
use governor::nanos::Nanos;
use governor::state::keyed::ShrinkableKeyedStateStore;
use governor::state::StateStore;
use governor::{Quota, RateLimiter};

/// Keys kept before the ones back to a full burst are swept (a spray of
/// random emails).
const MAX_KEYS: usize = 100_000;

/// Where a request comes from, as the limits count it: an IPv4 address, or
/// an IPv6 /64 (one subscriber usually holds a whole /64, so counting
/// single addresses would give them 2^64 tries).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientKey(String);

impl ClientKey {
    pub fn of(ip: IpAddr) -> Self {
        let ip = match ip {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6(v6),
            },
            v4 => v4,
        };
        match ip {
            IpAddr::V4(v4) => Self(v4.to_string()),
            IpAddr::V6(v6) => {
                let s = v6.segments();
                let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                Self(format!("{net}/64"))
            }
        }
    }

    /// The client behind `peer`: the address in `trusted_header` when the
    /// server is configured to trust one (its last entry: the one the
    /// trusted proxy added), else the peer itself. A header the proxy did not
    /// set, or cannot be read, counts as the proxy's own address, never as
    /// whatever the client claims.
    pub fn from_request(
        peer: SocketAddr,
        headers: &HeaderMap,
        trusted_header: Option<&str>,
    ) -> Self {
        let claimed = trusted_header
            .and_then(|name| headers.get_all(name).iter().next_back())
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(parse_address);
        Self::of(claimed.unwrap_or(peer.ip()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]:443`.
fn parse_address(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    s.parse::<IpAddr>()
        .ok()
        .or_else(|| s.parse::<SocketAddr>().ok().map(|a| a.ip()))
}

/// GCRA states (theoretical arrival times) per key, held where the login
/// limiter can also forget a key or give a cell back.
struct Cells<K>(Arc<Mutex<HashMap<K, Nanos>>>);

impl<K> Cells<K> {
    fn lock(&self) -> MutexGuard<'_, HashMap<K, Nanos>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl<K: Hash + Eq + Clone> StateStore for Cells<K> {
    type Key = K;

    /// Under one lock, so of N parallel checks at most the burst pass.
    fn measure_and_replace<T, F, E>(&self, key: &K, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        let mut cells = self.lock();
        let (outcome, state) = f(cells.get(key).copied())?;
        cells.insert(key.clone(), state);
        Ok(outcome)
    }
}

impl<K: Hash + Eq + Clone> ShrinkableKeyedStateStore<K> for Cells<K> {
    fn retain_recent(&self, drop_below: Nanos) {
        self.lock().retain(|_, state| *state > drop_below);
    }

    fn len(&self) -> usize {
        self.lock().len()
    }

    fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }
}

/// One limit: governor's rate limiter over [`Cells`] it shares with us.
struct Limit<K: Hash + Eq + Clone> {
    limiter: RateLimiter<K, Cells<K>, DefaultClock>,
    cells: Cells<K>,
    /// The time one attempt takes to come back (window / limit).
    interval: Nanos,
}

impl<K: Hash + Eq + Clone> Limit<K> {
    fn new(window: Duration, limit: usize) -> Self {
        let burst =
            NonZeroU32::new(u32::try_from(limit).unwrap_or(u32::MAX)).unwrap_or(NonZeroU32::MIN);
        let interval = (window / burst.get()).max(Duration::from_nanos(1));
        let quota = Quota::with_period(interval)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MAX))
            .allow_burst(burst);
        let shared = Arc::new(Mutex::new(HashMap::new()));
        Self {
            limiter: RateLimiter::new(quota, Cells(shared.clone()), DefaultClock::default()),
            cells: Cells(shared),
            interval: Nanos::from(interval),
        }
    }

    /// Takes one attempt, or says how many seconds until one is free.
    fn take(&self, key: &K) -> Result<(), u64> {
        if self.limiter.len() > MAX_KEYS {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.limiter.clock().now());
            wait.as_secs_f64().ceil().max(1.0) as u64
        })
    }

    /// Returns one attempt taken from `key`.
    fn give_back(&self, key: &K) {
        if let Some(state) = self.cells.lock().get_mut(key) {
            *state = state.saturating_sub(self.interval);
        }
    }

    /// Forgets every attempt of `key`.
    fn forget(&self, key: &K) {
        self.cells.lock().remove(key);
    }
}

impl<K: Hash + Eq + Clone> std::fmt::Debug for Limit<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limit")
            .field("keys", &self.cells.lock().len())
            .finish()
    }
}

#[derive(Debug)]
pub struct LoginLimiter {
    per_email_client: Limit<(String, ClientKey)>,
    per_client: Limit<ClientKey>,
}

/// A login attempt counted in advance as a failure; [`Attempt::succeeded`]
/// gives it back. Dropped without that, it stays a failure.
#[must_use]
#[derive(Debug)]
pub struct Attempt<'a> {
    limiter: &'a LoginLimiter,
    email_client: (String, ClientKey),
}

impl Attempt<'_> {
    /// The password was right: this client's failures for this email are
    /// forgotten, and the attempt no longer counts against the client.
    pub fn succeeded(self) {
        self.limiter.per_email_client.forget(&self.email_client);
        self.limiter.per_client.give_back(&self.email_client.1);
    }
}

impl LoginLimiter {
    /// At most `per_email_client` failures for one email from one client,
    /// and `per_client` from one client, at once; each comes back after
    /// `window` / its limit.
    pub fn new(window: Duration, per_email_client: usize, per_client: usize) -> Self {
        Self {
            per_email_client: Limit::new(window, per_email_client),
            per_client: Limit::new(window, per_client),
        }
    }

    /// Reserves one attempt for `email` from `client`, or says how many
    /// seconds to wait when either limit is reached. Each limit is checked
    /// and counted under its lock: of N parallel guesses, at most the limit
    /// get a reservation (and so reach the password check). An attempt one
    /// limit refuses counts against neither.
    pub fn reserve(&self, email: &str, client: &ClientKey) -> Result<Attempt<'_>, u64> {
        let email_client = (email.to_string(), client.clone());
        self.per_email_client.take(&email_client)?;
        if let Err(wait) = self.per_client.take(client) {
            self.per_email_client.give_back(&email_client);
            return Err(wait);
        }
        Ok(Attempt {
            limiter: self,
            email_client,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn client(ip: &str) -> ClientKey {
        ClientKey::of(ip.parse().unwrap())
    }

    #[test]
    fn limits_after_the_allowed_failures() {
        let l = LoginLimiter::new(Duration::from_secs(60), 3, 10);
        let c = client("1.1.1.1");
        for _ in 0..3 {
            drop(l.reserve("a@x.io", &c).unwrap());
        }
        assert!(l.reserve("a@x.io", &c).is_err());
        assert!(l.reserve("b@x.io", &client("2.2.2.2")).is_ok());
    }

    /// Issue 13: the lockout of a stranger's guessing does not reach the
    /// owner of the email on another client.
    #[test]
    fn a_strangers_failures_do_not_lock_out_the_owner() {
        let l = LoginLimiter::new(Duration::from_secs(60), 3, 10);
        let stranger = client("203.0.113.7");
        for _ in 0..3 {
            drop(l.reserve("owner@x.io", &stranger).unwrap());
        }
        assert!(l.reserve("owner@x.io", &stranger).is_err());
        l.reserve("owner@x.io", &client("198.51.100.9"))
            .unwrap()
            .succeeded();
    }

    #[test]
    fn the_looser_per_client_limit_spans_emails() {
        let l = LoginLimiter::new(Duration::from_secs(60), 3, 5);
        let c = client("203.0.113.7");
        for i in 0..5 {
            drop(l.reserve(&format!("u{i}@x.io"), &c).unwrap());
        }
        assert!(l.reserve("new@x.io", &c).is_err());
    }

    #[test]
    fn a_success_gives_its_reservation_back() {
        let l = LoginLimiter::new(Duration::from_secs(60), 2, 2);
        let c = client("192.0.2.1");
        for _ in 0..10 {
            l.reserve("a@x.io", &c).unwrap().succeeded();
        }
        drop(l.reserve("a@x.io", &c).unwrap());
        l.reserve("a@x.io", &c).unwrap().succeeded();
    }

    /// A burst of the limit, then one attempt back every window / limit.
    #[test]
    fn an_attempt_comes_back_after_window_over_limit() {
        let l = LoginLimiter::new(Duration::from_millis(400), 2, 100);
        let c = client("192.0.2.7");
        drop(l.reserve("a@x.io", &c).unwrap());
        drop(l.reserve("a@x.io", &c).unwrap());
        assert_eq!(l.reserve("a@x.io", &c).unwrap_err(), 1, "rounded up to 1 s");
        std::thread::sleep(Duration::from_millis(250));
        drop(l.reserve("a@x.io", &c).unwrap());
        assert!(l.reserve("a@x.io", &c).is_err());
    }

    #[test]
    fn an_attempt_the_client_limit_refuses_counts_against_no_email() {
        let l = LoginLimiter::new(Duration::from_secs(60), 1, 1);
        let c = client("192.0.2.8");
        drop(l.reserve("a@x.io", &c).unwrap());
        assert!(l.reserve("z@x.io", &c).is_err());
        let z = ("z@x.io".to_string(), c);
        assert!(
            l.per_email_client.limiter.check_key(&z).is_ok(),
            "z's one attempt is still there"
        );
    }

    #[test]
    fn many_emails_are_swept_once_back_to_a_full_burst() {
        let l = LoginLimiter::new(Duration::from_millis(1), 1, MAX_KEYS * 2);
        let c = client("192.0.2.9");
        for i in 0..=MAX_KEYS {
            drop(l.reserve(&format!("u{i}@x.io"), &c).unwrap());
        }
        std::thread::sleep(Duration::from_millis(5));
        drop(l.reserve("last@x.io", &c).unwrap());
        assert!(l.per_email_client.limiter.len() < 10);
    }

    #[test]
    fn ipv6_counts_by_slash_64() {
        assert_eq!(
            client("2001:db8:1:2::1"),
            client("2001:db8:1:2:ffff:ffff:ffff:ffff")
        );
        assert_ne!(client("2001:db8:1:2::1"), client("2001:db8:1:3::1"));
        assert_eq!(client("2001:db8:1:2::1").as_str(), "2001:db8:1:2::/64");
        assert_eq!(client("::ffff:192.0.2.1"), client("192.0.2.1"));
        let l = LoginLimiter::new(Duration::from_secs(60), 2, 100);
        drop(l.reserve("a@x.io", &client("2001:db8:1:2::1")).unwrap());
        drop(l.reserve("a@x.io", &client("2001:db8:1:2::2")).unwrap());
        assert!(l.reserve("a@x.io", &client("2001:db8:1:2::3")).is_err());
        assert!(l.reserve("a@x.io", &client("2001:db8:1:3::1")).is_ok());
    }

    #[test]
    fn the_client_comes_from_the_trusted_header_only() {
        let peer: SocketAddr = "10.0.0.2:5000".parse().unwrap();
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "6.6.6.6, 203.0.113.7".parse().unwrap());
        h.insert("x-real-ip", "[2001:db8::1]:443".parse().unwrap());
        let key = |h: &HeaderMap, t| ClientKey::from_request(peer, h, t).as_str().to_string();
        assert_eq!(key(&h, None), "10.0.0.2", "not configured: the peer");
        assert_eq!(
            key(&h, Some("x-forwarded-for")),
            "203.0.113.7",
            "the proxy's entry"
        );
        assert_eq!(key(&h, Some("X-Real-IP")), "2001:db8::/64");
        h.insert("x-forwarded-for", "garbage".parse().unwrap());
        assert_eq!(key(&h, Some("x-forwarded-for")), "10.0.0.2");
        assert_eq!(key(&HeaderMap::new(), Some("x-forwarded-for")), "10.0.0.2");
    }

    proptest! {
        /// Any header bytes: never a panic, always some client.
        #[test]
        fn any_forwarded_header_reads_without_panic(
            value in proptest::collection::vec(any::<u8>(), 0..64),
            text in crate::domain::text::arbitrary::text(&[",", ":", "[", "]", "::", "1.2.3.4"]),
        ) {
            let peer: SocketAddr = "192.0.2.1:1".parse().unwrap();
            let mut h = HeaderMap::new();
            if let Ok(v) = axum::http::HeaderValue::from_bytes(&value) {
                h.append("x-forwarded-for", v);
            }
            if let Ok(v) = axum::http::HeaderValue::from_str(&text) {
                h.append("x-forwarded-for", v);
            }
            let key = ClientKey::from_request(peer, &h, Some("x-forwarded-for"));
            prop_assert!(!key.as_str().is_empty());
        }
    }
}
