//! Failed-login limits (sliding window, in memory): per email *and* client
//! together, so a stranger guessing at a known email locks out only
//! themselves, plus a looser limit per client across all emails. Attempts
//! are reserved before the password is checked, so parallel guesses cannot
//! slip through between the check and the record.
//!
//! A sliding window of failures rather than `governor`'s GCRA: a success
//! must give back what its attempt reserved, which a rate limiter's cells
//! cannot.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;

/// Entries kept before stale ones are swept (a spray of random emails).
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

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    EmailClient(String, ClientKey),
    Client(ClientKey),
}

#[derive(Debug)]
pub struct LoginLimiter {
    window: Duration,
    per_email_client: usize,
    per_client: usize,
    failures: Mutex<HashMap<Key, Vec<Instant>>>,
}

/// A login attempt counted in advance as a failure; [`Attempt::succeeded`]
/// gives it back. Dropped without that, it stays a failure.
#[must_use]
#[derive(Debug)]
pub struct Attempt<'a> {
    limiter: &'a LoginLimiter,
    email: String,
    client: ClientKey,
    at: Instant,
}

impl Attempt<'_> {
    /// The password was right: this client's failures for this email are
    /// forgotten, and the attempt no longer counts against the client.
    pub fn succeeded(self) {
        let mut map = self.limiter.lock();
        map.remove(&Key::EmailClient(self.email.clone(), self.client.clone()));
        if let Some(times) = map.get_mut(&Key::Client(self.client.clone())) {
            if let Some(i) = times.iter().position(|t| *t == self.at) {
                times.remove(i);
            }
        }
    }
}

impl LoginLimiter {
    /// At most `per_email_client` failures for one email from one client,
    /// and `per_client` from one client, within `window`.
    pub fn new(window: Duration, per_email_client: usize, per_client: usize) -> Self {
        Self {
            window,
            per_email_client,
            per_client,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Vec<Instant>>> {
        self.failures.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reserves one attempt for `email` from `client`, or says how many
    /// seconds to wait when either limit is reached. Checking and counting
    /// happen under one lock: of N parallel guesses, at most the limit get
    /// a reservation (and so reach the password check).
    pub fn reserve(&self, email: &str, client: &ClientKey) -> Result<Attempt<'_>, u64> {
        let now = Instant::now();
        let mut map = self.lock();
        if map.len() > MAX_KEYS {
            map.retain(|_, times| times.iter().any(|t| now.duration_since(*t) < self.window));
        }
        let keys = [
            (
                Key::EmailClient(email.to_string(), client.clone()),
                self.per_email_client,
            ),
            (Key::Client(client.clone()), self.per_client),
        ];
        let mut wait = None;
        for (key, limit) in &keys {
            if let Some(times) = map.get_mut(key) {
                times.retain(|t| now.duration_since(*t) < self.window);
                if times.len() >= *limit {
                    let oldest = times.first().copied().unwrap_or(now);
                    let left = self.window.saturating_sub(now.duration_since(oldest));
                    let secs = left.as_secs().max(1);
                    wait = Some(wait.map_or(secs, |w: u64| w.max(secs)));
                }
            }
        }
        if let Some(secs) = wait {
            return Err(secs);
        }
        for (key, _) in keys {
            map.entry(key).or_default().push(now);
        }
        Ok(Attempt {
            limiter: self,
            email: email.to_string(),
            client: client.clone(),
            at: now,
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
