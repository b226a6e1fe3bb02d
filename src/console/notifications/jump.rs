//! Enter on a notification: the lead it is about, in the Leads pane of its
//! tenant, fetched by id when it is not at hand.

use uuid::Uuid;

use crate::console::app::{App, InFlight, Load, Pane, Slot};
use crate::console::effect::{Effect, Request};
use crate::console::leads::LeadDetail;
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
        self.approvals.open = false;
        self.analytics.close();
        self.audit.close();
        let mut out = self.show_leads_of_current();
        let at_hand = n.lead.filter(|l| l.tenant_id == tenant).or_else(|| {
            let i = self.leads.position(id)?;
            self.leads.items.get(i).cloned()
        });
        if !self.detail_is(id) {
            self.drop_lead_workflow();
            self.leads.detail = at_hand.map(|lead| LeadDetail {
                lead,
                timeline: Load::Loading,
                scroll: 0,
            });
        }
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
        if self.detail_is(id) {
            out.extend(self.load_lead_workflow(id));
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
                self.lead_is_gone(tenant, id);
                return Vec::new();
            }
            Err(e) => {
                if let Some(d) = self.leads.detail.as_mut().filter(|d| d.lead.id == id) {
                    d.timeline = Load::Failed(e.message());
                }
                self.toast(Toast::error(format!("{}: {}", flight.fail, e.message())));
                return Vec::new();
            }
        };
        let here = self.pane == Pane::Leads && self.leads.tenant == Some(tenant);
        let other_open = self.leads.detail.as_ref().is_some_and(|d| d.lead.id != id);
        if !here || other_open {
            return Vec::new();
        }
        let timeline = data
            .timeline
            .map_or_else(|e| Load::Failed(e.message()), Load::Loaded);
        let opening = !self.detail_is(id);
        if opening {
            self.leads.detail = Some(LeadDetail {
                lead: lead.clone(),
                timeline,
                scroll: 0,
            });
        } else if let Some(d) = &mut self.leads.detail {
            d.timeline = timeline;
        }
        self.refresh_lead(lead);
        if opening {
            return self.load_lead_workflow(id);
        }
        Vec::new()
    }

    /// A 404: the lead was deleted since the notification was written.
    fn lead_is_gone(&mut self, tenant: Uuid, id: Uuid) {
        self.notifications.forget_lead(id);
        if self.leads.tenant == Some(tenant) {
            self.leads.remove(id);
            if self.detail_is(id) {
                self.leads.detail = None;
                self.requests.latest.remove(&Slot::Lead);
                self.drop_lead_workflow();
            }
        }
        self.toast(Toast::info("That lead no longer exists"));
    }
}
