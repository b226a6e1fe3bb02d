//! Live events from the server's stream for the current tenant: new,
//! changed and deleted leads, SLA breaches, and disabled webhooks.

use uuid::Uuid;

use crate::console::app::{App, Slot};
use crate::console::effect::Effect;
use crate::console::widgets::toast::Toast;
use crate::domain::ServerEvent;

impl App {
    /// One toast per lead, until a burst (an import, a campaign): then one
    /// toast that counts, so the screen is not buried.
    fn toast_new_lead(&mut self, name: &str, place: &str) {
        const GROUP: &str = "new-lead";
        if let Some(t) = self
            .toasts
            .iter_mut()
            .find(|t| t.group == Some(GROUP) && t.ttl.is_some())
        {
            t.count += 1;
            t.text = format!("{} new leads — {place} (latest: {name})", t.count);
            t.ttl = Some(crate::console::widgets::toast::SUCCESS_TICKS);
            self.dirty = true;
            return;
        }
        let mut t = Toast::info(format!("New lead: {name} — {place}"));
        t.group = Some(GROUP);
        self.toast(t);
    }

    /// A breach stays until dismissed (someone needs to act); several at
    /// once (a backlog, an import of old leads) share one toast that counts.
    fn toast_breach(&mut self, name: &str) {
        const GROUP: &str = "sla-breach";
        if let Some(t) = self.toasts.iter_mut().find(|t| t.group == Some(GROUP)) {
            t.count += 1;
            t.text = format!("{} leads breached their SLA (latest: {name})", t.count);
            self.dirty = true;
            return;
        }
        let mut t = Toast::error(format!("SLA breached: {name}"));
        t.group = Some(GROUP);
        self.toast(t);
    }

    /// Applies one event of `tenant`'s stream. Events of a tenant that is no
    /// longer current (the stream is being switched) are dropped.
    pub fn on_event(&mut self, tenant: Uuid, ev: ServerEvent) -> Vec<Effect> {
        if self.session.current_tenant != Some(tenant) {
            return Vec::new();
        }
        self.note_event(tenant, &ev);
        self.notifications.in_event = true;
        let out = self.apply_event(tenant, ev);
        self.notifications.in_event = false;
        out
    }

    fn apply_event(&mut self, tenant: Uuid, ev: ServerEvent) -> Vec<Effect> {
        let listed = self.leads.tenant == Some(tenant);
        match ev.kind.as_str() {
            "lead.created" => {
                let Some(lead) = ev.lead() else {
                    return Vec::new();
                };
                let known = listed && self.leads.position(lead.id).is_some();
                // Our own manual lead is already listed and toasted; spam
                // does not deserve anyone's attention.
                if !known && !lead.spam {
                    let place = self
                        .session
                        .current()
                        .map(|t| t.name.clone())
                        .unwrap_or_default();
                    self.toast_new_lead(&lead.name, &place);
                }
                if listed {
                    let me = self.me_id();
                    if known || self.leads.filter.matches(&lead, me, self.now) {
                        self.leads.upsert(lead);
                    }
                }
                self.dirty = true;
                return self.load_usage(tenant);
            }
            "lead.updated" => {
                if let Some(lead) = ev.lead().filter(|_| listed) {
                    let me = self.me_id();
                    let known = self.leads.position(lead.id).is_some();
                    if !known && self.leads.filter.matches(&lead, me, self.now) {
                        // e.g. marked not spam elsewhere: it joins this list.
                        self.leads.upsert(lead);
                    } else {
                        self.refresh_lead(lead);
                    }
                    self.dirty = true;
                }
            }
            // Deleted, or no longer visible to this user (assigned away
            // from a member who sees only their assigned leads).
            "lead.deleted" | "lead.hidden" => {
                let id = ev
                    .data
                    .get("lead_id")
                    .and_then(|v| v.as_str())
                    .and_then(|s| Uuid::parse_str(s).ok());
                if let Some(id) = id.filter(|_| listed) {
                    self.leads.remove(id);
                    if self.detail_is(id) {
                        self.leads.detail = None;
                        self.requests.latest.remove(&Slot::Lead);
                        self.toast(Toast::info(if ev.kind == "lead.hidden" {
                            "This lead was assigned to someone else; it left your list"
                        } else {
                            "This lead was deleted by someone else"
                        }));
                    }
                    self.dirty = true;
                }
            }
            "sla.breached" => {
                let name = ev.data.get("name").and_then(|v| v.as_str()).unwrap_or("?");
                self.toast_breach(name);
            }
            "lead.qualified"
            | "workflow.awaiting_approval"
            | "workflow.approved"
            | "workflow.rejected"
            | "workflow.failed" => return self.on_workflow_event(tenant, &ev),
            "webhook.disabled" => self.toast_webhook_disabled(&ev),
            // At-risk shows by itself: the SLA column is computed at render.
            _ => {}
        }
        Vec::new()
    }
}
