//! The all-tenants queue's own part of `:leads`: which tenants it is
//! narrowed to.

use crate::console::session::Session;

/// Reads `tenant SLUG[,SLUG…]` at the start of `arg`: the slugs, each
/// checked against the tenants the user sees (by slug or name, any case),
/// and the rest of `arg`. No `tenant` word: every tenant.
pub(super) fn named_tenants<'a>(
    arg: &'a str,
    session: &Session,
) -> Result<(Vec<String>, &'a str), String> {
    let Some(rest) = arg.strip_prefix("tenant") else {
        return Ok((Vec::new(), arg));
    };
    if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        return Ok((Vec::new(), arg));
    }
    let rest = rest.trim_start();
    let (names, after) = match rest.split_once(char::is_whitespace) {
        Some((n, r)) => (n, r.trim()),
        None => (rest, ""),
    };
    if names.is_empty() {
        return Err("usage: :leads all tenant SLUG[,SLUG…] [scope]".into());
    }
    let known = session.tenants.loaded().cloned().unwrap_or_default();
    let mut slugs = Vec::new();
    for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let found = known
            .iter()
            .find(|t| t.slug.eq_ignore_ascii_case(name) || t.name.eq_ignore_ascii_case(name));
        match found {
            Some(t) => slugs.push(t.slug.clone()),
            None => {
                let all: Vec<&str> = known.iter().map(|t| t.slug.as_str()).collect();
                return Err(format!("no tenant {name:?}; tenants: {}", all.join(", ")));
            }
        }
    }
    Ok((slugs, after))
}
