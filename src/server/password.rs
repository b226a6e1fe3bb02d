//! Password hashing with argon2id (run off the async threads: it is slow on purpose).

use anyhow::Context;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use std::sync::{Arc, OnceLock};
use tokio::sync::Semaphore;

pub const MIN_PASSWORD_LEN: usize = 8;

pub fn validate(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(format!("must be at least {MIN_PASSWORD_LEN} characters"));
    }
    if password.chars().count() > 1024 {
        return Err("must be at most 1024 characters".into());
    }
    Ok(())
}

/// Password hashes computed at once, process-wide: about one per core.
/// Each argon2id run holds 19 MiB; without a cap a login flood would start
/// one per request on the blocking pool (up to 512 threads) and exhaust
/// memory. Callers beyond it wait their turn.
pub fn hashing_slots() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
}

fn hashing() -> Arc<Semaphore> {
    static SLOTS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    SLOTS
        .get_or_init(|| Arc::new(Semaphore::new(hashing_slots())))
        .clone()
}

/// Runs `work` on the blocking pool once a hashing slot is free; the slot
/// is held until `work` ends, even if the caller stops waiting.
async fn with_slot<T: Send + 'static>(
    work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    let slot = hashing()
        .acquire_owned()
        .await
        .context("password hashing is shut down")?;
    tokio::task::spawn_blocking(move || {
        let out = work();
        drop(slot);
        out
    })
    .await
    .context("password hashing task failed")?
}

pub async fn hash(password: String) -> anyhow::Result<String> {
    with_slot(move || {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))
    })
    .await
}

/// Verifies against `stored`; with no stored hash it still spends the same
/// time, so response times do not reveal which emails have accounts.
pub async fn verify(password: String, stored: Option<String>) -> anyhow::Result<bool> {
    with_slot(move || {
        let fallback = DUMMY_HASH;
        let stored_ref = stored.as_deref().unwrap_or(fallback);
        let parsed = PasswordHash::new(stored_ref)
            .map_err(|e| anyhow::anyhow!("stored password hash is malformed: {e}"))?;
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(ok && stored.is_some())
    })
    .await
}

/// argon2id hash of a random string nobody knows; used for timing parity.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$0HtRG6cYW1Rq0pyu0FO0SGzuvjyZ1gPXHjJ9T5a4k7E";

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A login flood waits for a hashing slot instead of starting one
    /// argon2 run (19 MiB each) per request.
    #[tokio::test]
    async fn verification_waits_for_a_free_hashing_slot() {
        let all = u32::try_from(hashing_slots()).unwrap();
        let taken = hashing().acquire_many_owned(all).await.unwrap();
        let waiting = tokio::spawn(verify("guess".into(), None));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!waiting.is_finished(), "no slot free: it must wait");
        drop(taken);
        let ok = tokio::time::timeout(Duration::from_secs(30), waiting)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert!(!ok);
    }
}
