//! Routing: which feature's view is open over which pane, and how the
//! features follow the session (a new current tenant, a pane opened).

use super::app::{App, Pane};
use super::component::with_cx;
use super::effect::Effect;

impl App {
    /// After an action or a reply: features that show the current
    /// tenant's data (re)load it when it changed or their pane opened.
    pub(crate) fn follow(&mut self, opened: bool) -> Vec<Effect> {
        let mut out = self.sync_leads(opened);
        out.extend(self.sync_agents(opened));
        out.extend(self.sync_playground(opened));
        out.extend(self.sync_approvals());
        let shown = self.pane == Pane::Leads;
        out.extend(with_cx!(self, analytics, |a, cx| a.follow_tenant(shown, &mut cx)));
        out.extend(self.sync_audit());
        out
    }

    /// `:analytics`: the figures open in the Leads pane, over the list.
    pub(crate) fn open_analytics(&mut self) -> Vec<Effect> {
        self.pane = Pane::Leads;
        self.leads.detail = None;
        self.approvals.open = false;
        self.audit.open = false;
        with_cx!(self, analytics, |a, cx| a.open(&mut cx))
    }
}
