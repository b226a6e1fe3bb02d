//! Small input checks shared by request types.

/// A pragmatic email check: one `@`, a non-empty local part, a dotted domain,
/// no spaces. Deliverability is the mail server's business.
pub fn is_email(s: &str) -> bool {
    if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
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
