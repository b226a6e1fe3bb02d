//! What the Leads feature does with its API replies.

use uuid::Uuid;

use super::events::me_id;
use super::flows::page_rows;
use super::{LeadDetail, LeadsView};
use crate::console::component::Cx;
use crate::console::effect::{Effect, RequestId};
use crate::console::paging::append_new;
use crate::console::request::Response;
use crate::console::state::{InFlight, Load, Slot};
use crate::console::widgets::toast::Toast;
use crate::domain::{Lead, Page};

/// Whether a reply is the Leads feature's to apply.
pub(crate) fn answers(r: &Response) -> bool {
    matches!(
        r,
        Response::Leads(_)
            | Response::Queue(_)
            | Response::Bulk(_)
            | Response::LeadMembers(_)
            | Response::Lead(_)
            | Response::LeadUpdated(_)
            | Response::LeadDeleted(_)
            | Response::NoteAdded(_)
            | Response::LeadCreated(_)
            | Response::Imported(_)
            | Response::Exported(_)
            | Response::ExportExists(_)
            | Response::LeadWorkflows(_)
            | Response::WorkflowStarted(_)
    )
}

impl LeadsView {
    /// Whether a reply is about the tenant listed.
    fn here(&self, flight: &InFlight) -> bool {
        flight.tenant.is_some_and(|t| self.shows(t))
    }

    /// Applies a successful (or, for a lead's detail, partly failed) reply.
    pub(super) fn apply(
        &mut self,
        id: RequestId,
        flight: &InFlight,
        response: Response,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        // A reply about a tenant the pane has left has nothing to update,
        // but a mutation still deserves its toast.
        let here = self.here(flight);
        match response {
            Response::Leads(Ok(page)) if here && !self.all_tenants => {
                self.on_page(flight, page, cx)
            }
            Response::Queue(Ok(page)) if here && self.all_tenants => {
                let items = page
                    .items
                    .into_iter()
                    .map(|q| {
                        self.tenant_names.insert(q.tenant.id, q.tenant.name);
                        q.lead
                    })
                    .collect();
                let page = Page {
                    items,
                    next_cursor: page.next_cursor,
                };
                self.on_page(flight, page, cx)
            }
            Response::Bulk(Ok(result)) => return self.on_bulk(flight, result, here, cx),
            Response::LeadMembers(Ok(list)) => {
                if let Some(t) = flight.tenant.filter(|t| self.members.contains_key(t)) {
                    self.members.insert(t, Load::Loaded(list));
                }
            }
            Response::Lead(data) if here => {
                let Some(d) = self
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
                    Ok(lead) => self.refresh(lead, cx),
                    Err(e) => cx.toast(Toast::error(format!("{}: {}", flight.fail, e.message()))),
                }
            }
            Response::LeadUpdated(Ok(lead)) if self.in_batch(flight) => {
                let id = lead.id;
                if here {
                    self.refresh(lead, cx);
                }
                self.batch_step(id, None, cx);
            }
            Response::LeadDeleted(Ok(())) if self.in_batch(flight) => {
                if let Some(gone) = flight.target {
                    // Named before it leaves the list.
                    self.batch_step(gone, None, cx);
                    if here {
                        self.gone(gone, cx);
                    }
                }
            }
            Response::LeadUpdated(Ok(lead)) => {
                let lead_id = lead.id;
                if here {
                    self.refresh(lead, cx);
                }
                cx.toast(Toast::success(flight.ok.clone()));
                // The timeline gained an entry only the server can write.
                if here && self.detail_is(lead_id) {
                    return self.load_lead(lead_id, cx);
                }
            }
            Response::LeadDeleted(Ok(())) => {
                if let Some(gone) = flight.target.filter(|_| here) {
                    self.gone(gone, cx);
                }
                cx.toast(Toast::success(flight.ok.clone()));
            }
            Response::NoteAdded(Ok(entry)) => {
                cx.finish_form(id);
                cx.toast(Toast::success(flight.ok.clone()));
                // A reply stops the SLA clock: fetch the lead with its timeline.
                if here && self.detail_is(entry.lead_id) {
                    return self.load_lead(entry.lead_id, cx);
                }
            }
            Response::LeadCreated(Ok(lead)) => {
                cx.finish_form(id);
                cx.toast(Toast::success(flight.ok.clone()));
                if here && self.filter.matches(&lead, me_id(cx), cx.now) {
                    let lead_id = lead.id;
                    self.upsert(lead);
                    if let Some(i) = self.position(lead_id) {
                        self.selected = i;
                        self.scroll_into_view(page_rows(cx));
                    }
                }
                if let Some(t) = flight.tenant {
                    return cx.load_usage(t);
                }
            }
            Response::Imported(Ok(report)) => return self.on_imported(flight, report, cx),
            Response::Exported(Ok(done)) => cx.toast(Toast::success(format!(
                "Exported {} leads to {}",
                done.leads, done.path
            ))),
            Response::ExportExists(path) => self.on_export_exists(flight, path, cx),
            Response::LeadWorkflows(r) => self.on_workflows(
                flight.target,
                match r {
                    Ok(list) => Load::Loaded(list.into_iter().next()),
                    Err(e) => Load::Failed(e.message()),
                },
            ),
            Response::WorkflowStarted(r) if self.in_batch(flight) => {
                if let Some(lead) = flight.target {
                    let why = r.err().map(|e| e.message());
                    self.batch_step(lead, why.as_deref(), cx);
                }
            }
            Response::WorkflowStarted(Ok(wf)) => {
                self.on_workflow(&wf);
                cx.toast(Toast::success(flight.ok.clone()));
            }
            Response::WorkflowStarted(Err(e)) => {
                if let Some(out) = self.on_start_refused(flight, &e, cx) {
                    return out;
                }
                cx.toast(Toast::error(format!("{}: {}", flight.fail, e.message())));
            }
            _ => {}
        }
        Vec::new()
    }

    fn on_page(&mut self, flight: &InFlight, page: Page<Lead>, cx: &Cx<'_>) {
        if flight.slot == Some(Slot::LeadsMore) {
            // A lead pushed live may already be here.
            append_new(&mut self.items, page.items, |l| l.id);
        } else {
            // Stay on the same lead across a reload when it is still listed.
            let keep = self.selected_lead().map(|l| l.id);
            self.items = page.items;
            self.selected = keep
                .and_then(|id| self.position(id))
                .unwrap_or(self.selected)
                .min(self.items.len().saturating_sub(1));
            self.status = Load::Loaded(());
        }
        self.pager.on_page(page.next_cursor);
        self.scroll_into_view(page_rows(cx));
    }

    /// A fresher copy of a lead: replaced in the list (or dropped from it
    /// when it left the list's scope, e.g. marked spam) and in the detail.
    pub(super) fn refresh(&mut self, lead: Lead, cx: &Cx<'_>) {
        if self.filter.matches_scope(&lead, me_id(cx), cx.now) {
            if self.position(lead.id).is_some() {
                self.upsert(lead.clone());
            }
        } else {
            self.remove(lead.id);
        }
        if let Some(d) = self.detail.as_mut().filter(|d| d.lead.id == lead.id) {
            d.lead = lead;
        }
    }

    /// A lead deleted (or no longer visible): it leaves the list, and the
    /// detail if it was open. Says whether it was open.
    pub(super) fn gone(&mut self, id: Uuid, cx: &mut Cx<'_>) -> bool {
        self.remove(id);
        if !self.detail_is(id) {
            return false;
        }
        self.detail = None;
        cx.requests.forget(Slot::Lead);
        true
    }

    /// A failed leads load or lookup, shown where it belongs; `true` when
    /// handled here, so the caller does not toast it again.
    pub(crate) fn on_failure(&mut self, flight: &InFlight, message: &str) -> bool {
        let here = self.here(flight);
        match flight.slot {
            Some(Slot::Leads) => {
                if here {
                    self.status = Load::Failed(message.to_string());
                }
                true
            }
            Some(Slot::LeadsMore) => {
                self.pager.failed();
                false
            }
            Some(Slot::LeadMembers) => {
                // The assignee column falls back to "—"; the picker says why.
                if let Some(t) = flight.tenant.filter(|t| self.members.contains_key(t)) {
                    self.members.insert(t, Load::Failed(message.to_string()));
                }
                true
            }
            // Another tenant's members (a lead of the all-tenants queue):
            // failed, so the next try asks again; the toast says why.
            None if flight.fail == super::flows::MEMBERS_FAIL => {
                if let Some(t) = flight.tenant.filter(|t| self.members.contains_key(t)) {
                    self.members.insert(t, Load::Failed(message.to_string()));
                }
                false
            }
            _ => false,
        }
    }

    /// A notification's lead is to be shown: the list points at the
    /// current tenant, and the lead opens at once when a copy is at hand
    /// (`at_hand`, else the listed one). The lead itself is asked for by
    /// the caller; its workflow here, when the detail opened.
    pub(crate) fn show_lead(
        &mut self,
        id: Uuid,
        at_hand: Option<Lead>,
        cx: &mut Cx<'_>,
    ) -> (Vec<Effect>, bool) {
        let out = self.show_current(cx);
        let at_hand = at_hand.or_else(|| {
            let i = self.position(id)?;
            self.items.get(i).cloned()
        });
        if !self.detail_is(id) {
            self.drop_workflow(cx);
            self.detail = at_hand.map(LeadDetail::new);
        }
        (out, self.detail_is(id))
    }

    /// The lead a notification asked for arrived: open (or refresh) its
    /// detail, unless the user has since gone elsewhere (`shown`: the Leads
    /// pane is on screen).
    pub(crate) fn on_notified_lead(
        &mut self,
        tenant: Uuid,
        lead: Lead,
        timeline: Load<Vec<crate::domain::TimelineEntry>>,
        shown: bool,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        let id = lead.id;
        let here = shown && self.shows(tenant);
        let other_open = self.detail.as_ref().is_some_and(|d| d.lead.id != id);
        if !here || other_open {
            return Vec::new();
        }
        let opening = !self.detail_is(id);
        if opening {
            self.detail = Some(LeadDetail {
                lead: lead.clone(),
                timeline,
                scroll: 0,
            });
        } else if let Some(d) = &mut self.detail {
            d.timeline = timeline;
        }
        self.refresh(lead, cx);
        if opening {
            return self.load_workflow(id, cx);
        }
        Vec::new()
    }

    /// The notification's lead could not be read: its detail says why.
    pub(crate) fn on_notified_failure(&mut self, id: Uuid, message: String) {
        if let Some(d) = self.detail.as_mut().filter(|d| d.lead.id == id) {
            d.timeline = Load::Failed(message);
        }
    }

    /// The notification's lead no longer exists (a 404).
    pub(crate) fn on_notified_gone(&mut self, tenant: Uuid, id: Uuid, cx: &mut Cx<'_>) {
        if self.shows(tenant) && self.gone(id, cx) {
            self.drop_workflow(cx);
        }
    }
}
