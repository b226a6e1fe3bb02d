//! Failed-login limits per email and per IP (sliding window, in memory).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct LoginLimiter {
    window: Duration,
    per_email: usize,
    per_ip: usize,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl LoginLimiter {
    pub fn new(window: Duration, per_email: usize, per_ip: usize) -> Self {
        Self {
            window,
            per_email,
            per_ip,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn keys(email: &str, ip: &str) -> [String; 2] {
        [format!("email:{email}"), format!("ip:{ip}")]
    }

    /// Seconds to wait when either the email or the IP is over its limit.
    pub fn retry_after(&self, email: &str, ip: &str) -> Option<u64> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let [ek, ik] = Self::keys(email, ip);
        let mut wait = None;
        for (key, limit) in [(ek, self.per_email), (ik, self.per_ip)] {
            if let Some(times) = map.get_mut(&key) {
                times.retain(|t| now.duration_since(*t) < self.window);
                if times.len() >= limit {
                    let oldest = times[0];
                    let secs = (self.window - now.duration_since(oldest)).as_secs().max(1);
                    wait = Some(wait.map_or(secs, |w: u64| w.max(secs)));
                }
            }
        }
        wait
    }

    pub fn record_failure(&self, email: &str, ip: &str) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            // Bound memory under a spray of random emails: forget stale entries.
            map.retain(|_, times| times.iter().any(|t| now.duration_since(*t) < self.window));
        }
        for key in Self::keys(email, ip) {
            map.entry(key).or_default().push(now);
        }
    }

    pub fn record_success(&self, email: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&format!("email:{email}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_after_the_allowed_failures() {
        let l = LoginLimiter::new(Duration::from_secs(60), 3, 10);
        for _ in 0..3 {
            assert_eq!(l.retry_after("a@x.io", "1.1.1.1"), None);
            l.record_failure("a@x.io", "1.1.1.1");
        }
        assert!(l.retry_after("a@x.io", "1.1.1.1").is_some());
        assert_eq!(l.retry_after("b@x.io", "2.2.2.2"), None);
    }
}
