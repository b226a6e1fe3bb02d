//! Small input checks shared by request types.

/// Rust's White_Space (what `str::trim` and `char::is_whitespace` take) as
/// the body of a regex character class. The OpenAPI document's patterns say
/// "blank" with it instead of `\s`: `\s` differs between regex dialects
/// (ECMA-262 counts U+FEFF and not U+0085, Python counts U+001C–U+001F), and a
/// pattern that disagrees with the server is a schema that lies.
macro_rules! white_space {
    () => {
        r"\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
    };
}

/// The class body of [`white_space!`], for code that builds patterns.
pub const WHITE_SPACE: &str = white_space!();

/// "Not blank" as the server decides it: at least one character that
/// `str::trim` keeps. Every `\S` pattern of a request type becomes this in
/// the served document (`server::openapi`).
pub const NOT_BLANK: &str = concat!("[^", white_space!(), "]");

/// [`is_email`] as a JSON Schema `pattern` (with `maxLength` 254), which the
/// OpenAPI document puts in place of each `format: email` (the server's rule,
/// not RFC 5321's). Lengths count characters, as JSON Schema does. The
/// refused characters are exactly `is_whitespace() || is_control()`: the
/// controls U+0000–U+001F and U+007F–U+009F, and White_Space beyond them.
pub const EMAIL_PATTERN: &str = concat!(
    r"^[^@\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]{1,64}",
    r"@[^@.\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+",
    r"(\.[^@.\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+)+$"
);
pub const EMAIL_MAX_CHARS: usize = 254;

/// A pragmatic email check: one `@`, a non-empty local part, a dotted domain,
/// no spaces. Deliverability is the mail server's business.
pub fn is_email(s: &str) -> bool {
    if s.chars().count() > EMAIL_MAX_CHARS || s.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return false;
    }
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.chars().count() <= 64
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
}

/// For an optional nested object of a request body: serde alone would also
/// read a struct from an array (`"settings": [null, null]`), which the
/// OpenAPI document refuses. `null` is absent.
/// An object (not an array of its fields, which serde's derive would take
/// field by field); `null` and absence are the job of `default`.
pub fn object<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    use serde::de::Error;
    use serde::Deserialize;
    match serde_json::Value::deserialize(d)? {
        v @ serde_json::Value::Object(_) => T::deserialize(v).map_err(D::Error::custom),
        _ => Err(D::Error::custom("must be an object")),
    }
}

pub fn optional_object<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    use serde::de::Error;
    use serde::Deserialize;
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => Ok(None),
        v @ serde_json::Value::Object(_) => T::deserialize(v).map(Some).map_err(D::Error::custom),
        _ => Err(D::Error::custom("must be an object")),
    }
}

/// For a field where `null` means "remove it" and absence "leave it":
/// `Some(None)` for `null`, `Some(Some(_))` for an object (not an array of
/// its fields). Goes with `#[serde(default)]`, which makes absence `None`.
pub fn nullable_object<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    optional_object(d).map(Some)
}

/// A list of objects, each an object (not an array of its fields).
pub fn objects<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    use serde::de::Error;
    use serde::Deserialize;
    Vec::<serde_json::Value>::deserialize(d)?
        .into_iter()
        .map(|v| match v {
            v @ serde_json::Value::Object(_) => T::deserialize(v).map_err(D::Error::custom),
            _ => Err(D::Error::custom("each item must be an object")),
        })
        .collect()
}

pub fn normalize_email(s: &str) -> String {
    s.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert!(is_email("ana@example.com"));
        assert!(!is_email("ana@example"));
        assert!(!is_email("ana example@x.com"));
        assert!(!is_email("@x.com"));
        assert!(!is_email("a@b@c.com"));
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Emails arrive from forms, CSV and headers: any text is judged
        /// without panic, and normalising is idempotent.
        #[test]
        fn any_text_is_judged_without_panic(
            s in crate::domain::text::arbitrary::text(&["@", ".", "..", "a"])
        ) {
            let _ = is_email(&s);
            let once = normalize_email(&s);
            prop_assert_eq!(normalize_email(&once), once.clone());
        }
    }
}
