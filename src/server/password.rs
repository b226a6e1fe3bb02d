//! Password hashing with argon2id (run off the async threads: it is slow on purpose).

use anyhow::Context;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

pub const MIN_PASSWORD_LEN: usize = 8;

pub fn validate(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(format!("must be at least {MIN_PASSWORD_LEN} characters"));
    }
    if password.len() > 1024 {
        return Err("must be at most 1024 bytes".into());
    }
    Ok(())
}

pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))
    })
    .await
    .context("password hashing task failed")?
}

/// Verifies against `stored`; with no stored hash it still spends the same
/// time, so response times do not reveal which emails have accounts.
pub async fn verify(password: String, stored: Option<String>) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
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
    .context("password verification task failed")?
}

/// argon2id hash of a random string nobody knows; used for timing parity.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$0HtRG6cYW1Rq0pyu0FO0SGzuvjyZ1gPXHjJ9T5a4k7E";
