//! The all-tenants queue's own part of the Leads list: which tenants
//! `:leads all tenant …` narrows it to, and `o`, which opens the overdue
//! queue across tenants for a user with several.

use super::{LeadScope, LeadsView};
use crate::console::component::Cx;
use crate::console::effect::Effect;
use crate::console::keymap::Context;
use crate::console::session::Session;
use crate::console::widgets::toast::Toast;

impl LeadsView {
    /// `o`: the overdue queue, or back to every lead. A user with more than
    /// one client tenant triages every tenant's overdue leads from one
    /// queue, so it opens across tenants (told how to narrow it); one with
    /// a single tenant gets that tenant's. Leaving a queue `o` widened
    /// narrows it back to the current tenant.
    pub(super) fn toggle_overdue(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        if self.filter.scope == LeadScope::Overdue {
            if std::mem::take(&mut self.widened_by_overdue) {
                self.all_tenants = false;
                self.only_tenants.clear();
            }
            return self.set_scope(LeadScope::All, cx);
        }
        let tenants = client_tenants(cx.session);
        if !self.all_tenants && tenants > 1 {
            self.all_tenants = true;
            self.only_tenants.clear();
            self.widened_by_overdue = true;
            let key = cx.keymap.key_label(Context::LeadQueue, "all_tenants");
            let here = cx
                .session
                .current()
                .map_or_else(|| "the current tenant".to_string(), |t| t.name.clone());
            cx.toast(Toast::info(format!(
                "Overdue queue across your {tenants} tenants; {key} for {here} only, \
                 :leads all tenant SLUG for another"
            )));
        }
        self.set_scope(LeadScope::Overdue, cx)
    }
}

/// The client tenants the user works in (the platform's own tenant is not
/// one): those the all-tenants queue spans.
fn client_tenants(session: &Session) -> usize {
    session
        .tenants
        .loaded()
        .map_or(0, |all| all.iter().filter(|t| !t.is_platform).count())
}

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
