//! Enter on a notification: the lead it is about, in the Leads pane of its
//! tenant, fetched by id when it is not at hand.

use crate::console::app::{App, InFlight, Load, Pane, Slot};
use crate::console::component::with_cx;
use crate::console::effect::{Effect, Request};
use crate::console::request::Response;
use crate::console::widgets::toast::Toast;

impl App {
    /// Makes the notification's tenant current (as choosing it in the
    /// Tenants pane does), opens its Leads pane and asks for the lead; the
    /// detail opens at once when a copy is at hand, else when it arrives.
    pub(super) fn jump_to_lead(&mut self) -> Vec<Effect> {
        let Some(n) = self.notifications.selected_item().cloned() else {
            return Vec::new();
        };
        let Some(id) = n.lead_id.or(n.lead.as_ref().map(|l| l.id)) else {
            return Vec::new();
        };
        let tenant = n
            .tenant_id
            .or(n.lead.as_ref().map(|l| l.tenant_id))
            .or(self.session.current_tenant);
        let Some(tenant) = tenant else {
            return Vec::new();
        };
        if self.session.current_tenant != Some(tenant) {
            let Some(t) = self.session.tenant(tenant).cloned() else {
                self.toast(Toast::error(
                    "That lead's tenant is not one you can open (any more)",
                ));
                return Vec::new();
            };
            self.switch_to(&t);
        }
        self.notifications.open = false;
        self.pane = Pane::Leads;
        self.approvals.close();
        self.analytics.close();
        self.audit.close();
        let at_hand = n.lead.filter(|l| l.tenant_id == tenant);
        let (mut out, opened) = with_cx!(self, leads, |l, cx| l.show_lead(id, at_hand, &mut cx));
        out.extend(self.send_about(
            Request::LoadLead {
                tenant: tenant.to_string(),
                id,
            },
            Some(Slot::NotifiedLead),
            "",
            "Could not load the lead",
            Some(tenant),
            Some(id),
        ));
        if opened {
            out.extend(with_cx!(self, leads, |l, cx| l.load_workflow(id, &mut cx)));
        }
        out
    }

    /// The lead a notification asked for: open (or refresh) its detail,
    /// unless the user has since gone elsewhere.
    pub(crate) fn on_notified_lead(
        &mut self,
        flight: &InFlight,
        response: Response,
    ) -> Vec<Effect> {
        let (Response::Lead(data), Some(tenant), Some(id)) =
            (response, flight.tenant, flight.target)
        else {
            return Vec::new();
        };
        let lead = match data.lead {
            Ok(lead) => lead,
            Err(e) if e.status() == Some(404) => {
                // Deleted since the notification was written.
                self.notifications.forget_lead(id);
                with_cx!(self, leads, |l, cx| l.on_notified_gone(tenant, id, &mut cx));
                self.toast(Toast::info("That lead no longer exists"));
                return Vec::new();
            }
            Err(e) => {
                self.leads.on_notified_failure(id, e.message());
                self.toast(Toast::error(format!("{}: {}", flight.fail, e.message())));
                return Vec::new();
            }
        };
        let timeline = data
            .timeline
            .map_or_else(|e| Load::Failed(e.message()), Load::Loaded);
        let shown = self.pane == Pane::Leads;
        with_cx!(self, leads, |l, cx| l
            .on_notified_lead(tenant, lead, timeline, shown, &mut cx))
    }
}
