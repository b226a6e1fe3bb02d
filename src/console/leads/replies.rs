//! What the console does with the Leads pane's API replies.

use crate::console::app::{App, InFlight, Load, Slot};
use crate::console::effect::{Effect, Request, RequestId};
use crate::console::paging::append_new;
use crate::console::request::Response;
use crate::console::widgets::toast::Toast;
use crate::domain::{Lead, Page};

impl App {
    /// Applies a successful (or, for a lead's detail, partly failed) reply.
    pub(crate) fn on_lead_response(
        &mut self,
        id: RequestId,
        flight: &InFlight,
        response: Response,
    ) -> Vec<Effect> {
        // A reply about a tenant the pane has left has nothing to update,
        // but a mutation still deserves its toast.
        let here = flight.tenant.is_some() && flight.tenant == self.leads.tenant;
        match response {
            Response::Leads(Ok(page)) if here => self.on_leads_page(flight, page),
            Response::LeadMembers(Ok(list)) if here => self.leads.members = Load::Loaded(list),
            Response::Lead(data) if here => {
                let Some(d) = self
                    .leads
                    .detail
                    .as_mut()
                    .filter(|d| Some(d.lead.id) == flight.target)
                else {
                    return Vec::new();
                };
                d.timeline = match data.timeline {
                    Ok(t) => Load::Loaded(t),
                    Err(e) => Load::Failed(e.message()),
                };
                d.scroll = d.scroll.min(d.timeline.loaded().map_or(0, Vec::len));
                match data.lead {
                    Ok(lead) => self.refresh_lead(lead),
                    Err(e) => {
                        self.toast(Toast::error(format!("{}: {}", flight.fail, e.message())));
                    }
                }
            }
            Response::LeadUpdated(Ok(lead)) => {
                let lead_id = lead.id;
                if here {
                    self.refresh_lead(lead);
                }
                self.toast(Toast::success(flight.ok.clone()));
                // The timeline gained an entry only the server can write.
                if here && self.detail_is(lead_id) {
                    return self.load_lead(lead_id);
                }
            }
            Response::LeadDeleted(Ok(())) => {
                if let Some(gone) = flight.target.filter(|_| here) {
                    self.leads.remove(gone);
                    if self.detail_is(gone) {
                        self.leads.detail = None;
                        self.requests.latest.remove(&Slot::Lead);
                    }
                }
                self.toast(Toast::success(flight.ok.clone()));
            }
            Response::NoteAdded(Ok(entry)) => {
                self.finish_form(id);
                self.toast(Toast::success(flight.ok.clone()));
                // A reply stops the SLA clock: fetch the lead with its timeline.
                if here && self.detail_is(entry.lead_id) {
                    return self.load_lead(entry.lead_id);
                }
            }
            Response::LeadCreated(Ok(lead)) => {
                self.finish_form(id);
                self.toast(Toast::success(flight.ok.clone()));
                if here {
                    let me = self.me_id();
                    if self.leads.filter.matches(&lead, me, self.now) {
                        let lead_id = lead.id;
                        self.leads.upsert(lead);
                        if let Some(i) = self.leads.position(lead_id) {
                            self.leads.selected = i;
                            self.leads.scroll_into_view(self.lead_rows());
                        }
                    }
                }
                if let Some(t) = flight.tenant {
                    return self.load_usage(t);
                }
            }
            Response::Imported(Ok(report)) => return self.on_imported(flight, report),
            Response::Exported(Ok(done)) => {
                self.toast(Toast::success(format!(
                    "Exported {} leads to {}",
                    done.leads, done.path
                )));
            }
            Response::Usage(Ok(u)) => {
                if let Some(t) = flight.tenant.and_then(|t| self.tenant_mut(t)) {
                    t.usage.leads_this_month = u.leads_this_month;
                    t.usage.lead_limit = u.lead_limit;
                    t.usage.users = u.users;
                    t.usage.user_limit = u.user_limit;
                }
            }
            _ => {}
        }
        Vec::new()
    }

    fn on_leads_page(&mut self, flight: &InFlight, page: Page<Lead>) {
        let v = &mut self.leads;
        if flight.slot == Some(Slot::LeadsMore) {
            // A lead pushed live may already be here.
            append_new(&mut v.items, page.items, |l| l.id);
        } else {
            // Stay on the same lead across a reload when it is still listed.
            let keep = v.selected_lead().map(|l| l.id);
            v.items = page.items;
            v.selected = keep
                .and_then(|id| v.position(id))
                .unwrap_or(v.selected)
                .min(v.items.len().saturating_sub(1));
            v.status = Load::Loaded(());
        }
        v.pager.on_page(page.next_cursor);
        let rows = self.lead_rows();
        self.leads.scroll_into_view(rows);
    }

    /// A fresher copy of a lead: replaced in the list (or dropped from it
    /// when it left the list's scope, e.g. marked spam) and in the detail.
    pub(crate) fn refresh_lead(&mut self, lead: Lead) {
        let me = self.me_id();
        if self.leads.filter.matches_scope(&lead, me, self.now) {
            if self.leads.position(lead.id).is_some() {
                self.leads.upsert(lead.clone());
            }
        } else {
            self.leads.remove(lead.id);
        }
        if let Some(d) = self.leads.detail.as_mut().filter(|d| d.lead.id == lead.id) {
            d.lead = lead;
        }
    }

    pub(crate) fn detail_is(&self, lead: uuid::Uuid) -> bool {
        self.leads
            .detail
            .as_ref()
            .is_some_and(|d| d.lead.id == lead)
    }

    pub(crate) fn me_id(&self) -> Option<uuid::Uuid> {
        self.session.me.loaded().map(|m| m.user.id)
    }

    pub(crate) fn load_usage(&mut self, tenant: uuid::Uuid) -> Vec<Effect> {
        self.send_about(
            Request::Usage {
                tenant: tenant.to_string(),
            },
            Some(Slot::Usage),
            "",
            "Could not refresh the usage",
            Some(tenant),
            None,
        )
    }

    fn tenant_mut(&mut self, id: uuid::Uuid) -> Option<&mut crate::domain::Tenant> {
        self.session
            .tenants
            .loaded_mut()?
            .iter_mut()
            .find(|t| t.id == id)
    }

    /// A failed leads load or lookup, shown where it belongs; `true` when
    /// handled here, so the caller does not toast it again.
    pub(crate) fn on_lead_failure(&mut self, flight: &InFlight, message: &str) -> bool {
        let here = flight.tenant.is_some() && flight.tenant == self.leads.tenant;
        match flight.slot {
            Some(Slot::Leads) => {
                if here {
                    self.leads.status = Load::Failed(message.to_string());
                }
                true
            }
            Some(Slot::LeadsMore) => {
                self.leads.pager.failed();
                false
            }
            Some(Slot::LeadMembers) => {
                // The assignee column falls back to "—"; the picker says why.
                if here {
                    self.leads.members = Load::Failed(message.to_string());
                }
                true
            }
            // The header keeps the last known count.
            Some(Slot::Usage) => true,
            _ => false,
        }
    }
}
