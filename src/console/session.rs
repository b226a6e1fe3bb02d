//! Who is signed in, the tenants they can see and the one they work on:
//! the context every feature reads, and only the session's replies and a
//! tenant switch change.

use uuid::Uuid;

use super::state::Load;
use crate::domain::{Me, Permission, Tenant};

#[derive(Debug, Clone, Default)]
pub struct Session {
    pub me: Load<Me>,
    pub tenants: Load<Vec<Tenant>>,
    pub current_tenant: Option<Uuid>,
    /// The tenant (slug) to start on when the list first loads: the one
    /// last worked on in this context.
    pub preferred: Option<String>,
    /// Tenants (slugs) made current, most recent first (kept between runs
    /// per context): `:tenant` completion lists them first.
    pub recent: Vec<String>,
}

/// How many recently used tenants are kept.
pub const RECENT_TENANTS: usize = 10;

impl Session {
    pub fn tenant(&self, id: Uuid) -> Option<&Tenant> {
        self.tenants.loaded()?.iter().find(|t| t.id == id)
    }

    pub fn current(&self) -> Option<&Tenant> {
        self.current_tenant.and_then(|id| self.tenant(id))
    }

    /// Whether the signed-in user holds every one of `needs` in `tenant`
    /// (a platform admin holds them all).
    pub fn may(&self, tenant: Uuid, needs: &[Permission]) -> bool {
        let Some(me) = self.me.loaded() else {
            return false;
        };
        me.platform_admin
            || me
                .memberships
                .iter()
                .find(|m| m.tenant_id == tenant)
                .is_some_and(|m| needs.iter().all(|p| m.permissions.contains(p)))
    }

    /// Whether a tenant is current and it is not `shown`: what shows
    /// `shown`'s data is to follow the current one.
    pub fn moved_from(&self, shown: Option<Uuid>) -> bool {
        self.current_tenant.is_some() && self.current_tenant != shown
    }

    /// A stage's name in `tenant`, or its id when the tenant does not know it.
    pub fn stage_name(&self, tenant: Option<Uuid>, id: &str) -> String {
        tenant
            .and_then(|t| self.tenant(t))
            .and_then(|t| t.settings.stage(id))
            .map(|s| s.name.clone())
            .unwrap_or_else(|| id.to_string())
    }

    /// Whether the signed-in user sees figures across tenants.
    pub fn is_platform_admin(&self) -> bool {
        self.me.loaded().is_some_and(|m| m.platform_admin)
    }

    /// Adds a tenant just created.
    pub fn push_tenant(&mut self, t: Tenant) {
        if let Some(list) = self.tenants.loaded_mut() {
            list.push(t);
        }
    }

    /// Replaces the older copy of a tenant that changed.
    pub fn replace_tenant(&mut self, t: Tenant) {
        if let Some(x) = self
            .tenants
            .loaded_mut()
            .and_then(|list| list.iter_mut().find(|x| x.id == t.id))
        {
            *x = t;
        }
    }

    /// Keeps the current tenant if the new list still has it, else picks
    /// the first that is not the platform's.
    /// Puts the current tenant first among the recent ones.
    pub fn note_current(&mut self) {
        let Some(slug) = self.current().map(|t| t.slug.clone()) else {
            return;
        };
        if self.recent.first() == Some(&slug) {
            return;
        }
        self.recent.retain(|s| *s != slug);
        self.recent.insert(0, slug);
        self.recent.truncate(RECENT_TENANTS);
    }

    /// Forgets a deleted tenant; if it was current, another becomes so.
    pub fn remove_tenant(&mut self, id: Uuid) {
        let Some(list) = self.tenants.loaded() else {
            return;
        };
        let rest: Vec<Tenant> = list.iter().filter(|t| t.id != id).cloned().collect();
        self.set_tenants(rest);
    }

    pub fn set_tenants(&mut self, list: Vec<Tenant>) {
        let current_ok = self
            .current_tenant
            .is_some_and(|c| list.iter().any(|t| t.id == c));
        if !current_ok {
            let preferred = self.preferred.take();
            self.current_tenant = preferred
                .and_then(|slug| list.iter().find(|t| t.slug == slug))
                .or_else(|| list.iter().find(|t| !t.is_platform))
                .or(list.first())
                .map(|t| t.id);
        }
        self.tenants = Load::Loaded(list);
    }
}
