//! Generation, hashing and masking of secrets (tokens, API keys, invitations).

use rand::Rng;
use sha2::{Digest, Sha256};

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `prefix` + 43 base62 characters (256 bits of entropy).
pub fn generate(prefix: &str) -> String {
    let mut rng = rand::thread_rng();
    let mut out = String::with_capacity(prefix.len() + 43);
    out.push_str(prefix);
    for _ in 0..43 {
        out.push(BASE62[rng.gen_range(0..BASE62.len())] as char);
    }
    out
}

/// Hex SHA-256: how tokens, keys and invitations are stored. They carry 256
/// bits of entropy, so a fast hash is enough (unlike passwords).
pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// `••••` + the last four characters (or only dots for short values).
pub fn mask(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() < 12 {
        return "••••".to_string();
    }
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("••••{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_are_long_unique_and_base62() {
        let a = generate("sbk_");
        let b = generate("sbk_");
        assert_ne!(a, b);
        assert_eq!(a.len(), 47);
        assert!(a[4..].chars().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(hash(&a).len(), 64);
        assert_ne!(hash(&a), hash(&b));
    }

    /// Stored hashes are lower-case hex: a change of encoding would sign
    /// every existing session and API key out.
    #[test]
    fn hashes_are_lower_case_hex_sha256() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
