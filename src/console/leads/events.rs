//! Live lead events from the current tenant's stream: new, changed and
//! deleted (or hidden) leads join, change or leave the list and the detail.
//! Each answers whether the list is `tenant`'s, so showed the event.

use uuid::Uuid;

use super::LeadsView;
use crate::console::component::Cx;
use crate::console::widgets::toast::Toast;
use crate::domain::Lead;

impl LeadsView {
    /// Whether `lead` of `tenant` is listed already (our own manual lead,
    /// toasted when it was added).
    pub(crate) fn lists(&self, tenant: Uuid, lead: Uuid) -> bool {
        self.shows(tenant) && self.position(lead).is_some()
    }

    /// `lead.created`: it joins the list if the filter wants it.
    pub(crate) fn on_created(&mut self, tenant: Uuid, lead: Lead, cx: &Cx<'_>) {
        if !self.shows(tenant) {
            return;
        }
        let known = self.position(lead.id).is_some();
        if known || self.filter.matches(&lead, me_id(cx), cx.now) {
            self.upsert(lead);
        }
    }

    /// `lead.updated`: the fresher copy replaces the listed one and the
    /// open one; a lead the filter now wants joins the list.
    pub(crate) fn on_updated(&mut self, tenant: Uuid, lead: Lead, cx: &Cx<'_>) -> bool {
        if !self.shows(tenant) {
            return false;
        }
        let known = self.position(lead.id).is_some();
        if !known && self.filter.matches(&lead, me_id(cx), cx.now) {
            // e.g. marked not spam elsewhere: it joins this list.
            self.upsert(lead);
        } else {
            self.refresh(lead, cx);
        }
        true
    }

    /// `lead.deleted`, or `lead.hidden` (assigned away from a member who
    /// sees only their assigned leads): it leaves the list and the detail.
    pub(crate) fn on_removed(
        &mut self,
        tenant: Uuid,
        id: Uuid,
        hidden: bool,
        cx: &mut Cx<'_>,
    ) -> bool {
        if !self.shows(tenant) {
            return false;
        }
        if self.gone(id, cx) {
            cx.toast(Toast::info(if hidden {
                "This lead was assigned to someone else; it left your list"
            } else {
                "This lead was deleted by someone else"
            }));
        }
        true
    }
}

/// The signed-in user, for the `mine` scope.
pub(super) fn me_id(cx: &Cx<'_>) -> Option<Uuid> {
    cx.session.me.loaded().map(|m| m.user.id)
}
