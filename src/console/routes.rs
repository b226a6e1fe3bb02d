//! Routing: which feature's view is open over which pane, and how the
//! features follow the session (a new current tenant, a pane opened).

use uuid::Uuid;

use super::app::{App, Pane};
use super::component::with_cx;
use super::effect::Effect;
use super::widgets::toast::Toast;

impl App {
    /// After an action or a reply: features that show the current
    /// tenant's data (re)load it when it changed or their pane opened.
    pub(crate) fn follow(&mut self, opened: bool) -> Vec<Effect> {
        let shown = self.pane == Pane::Leads;
        let mut out = with_cx!(self, leads, |l, cx| l.follow_tenant(shown, opened, &mut cx));
        out.extend(self.sync_agents(opened));
        out.extend(self.sync_playground(opened));
        out.extend(self.sync_approvals());
        out.extend(with_cx!(self, analytics, |a, cx| a.follow_tenant(shown, &mut cx)));
        out.extend(with_cx!(self, audit, |a, cx| a.follow_tenant(shown, &mut cx)));
        out.extend(with_cx!(self, webhooks, |w, cx| w.follow_tenant(&mut cx)));
        out
    }

    /// `:webhooks` (the current tenant's) or `w` in a tenant's detail (that
    /// tenant becomes current, so its deliveries update live): the
    /// webhooks screen opens in the Tenants pane.
    pub(crate) fn open_webhooks(&mut self, tenant: Option<Uuid>) -> Vec<Effect> {
        if let Some(t) = tenant.and_then(|id| self.session.tenant(id)).cloned() {
            if self.session.current_tenant != Some(t.id) {
                self.switch_to(&t);
            }
        }
        if self.session.current_tenant.is_none() {
            self.toast(Toast::error("Choose a tenant first (:tenant <slug>)"));
            return Vec::new();
        }
        self.pane = Pane::Tenants;
        self.overview.close();
        with_cx!(self, webhooks, |w, cx| w.open(&mut cx))
    }

    /// `:invitations`: the user's invitations open in the Tenants pane.
    pub(crate) fn open_invitations(&mut self) -> Vec<Effect> {
        self.pane = Pane::Tenants;
        self.tenants.close_detail();
        self.overview.close();
        with_cx!(self, invitations, |v, cx| v.open(&mut cx))
    }

    /// The platform overview opens in the Tenants pane, over the table.
    pub(crate) fn open_overview(&mut self) -> Vec<Effect> {
        self.pane = Pane::Tenants;
        self.tenants.close_detail();
        with_cx!(self, overview, |o, cx| o.open(&mut cx))
    }

    /// `enter` on an overview row: that tenant becomes current and its
    /// leads open.
    pub(crate) fn open_tenant_leads(&mut self, id: Uuid) -> Vec<Effect> {
        match self.session.tenant(id).cloned() {
            Some(t) => {
                self.overview.close();
                self.switch_to(&t);
                self.pane = Pane::Leads;
                self.approvals.open = false;
                self.leads.close_detail();
            }
            None => self.toast(Toast::error("That tenant is not in your list yet")),
        }
        Vec::new()
    }

    /// `:audit`: the tenant's audit log opens in the Leads pane.
    pub(crate) fn open_audit(&mut self) -> Vec<Effect> {
        self.pane = Pane::Leads;
        self.leads.close_detail();
        self.approvals.open = false;
        self.analytics.close();
        with_cx!(self, audit, |a, cx| a.open(&mut cx))
    }

    /// `:analytics`: the figures open in the Leads pane, over the list.
    pub(crate) fn open_analytics(&mut self) -> Vec<Effect> {
        self.pane = Pane::Leads;
        self.leads.close_detail();
        self.approvals.open = false;
        self.audit.close();
        with_cx!(self, analytics, |a, cx| a.open(&mut cx))
    }
}
