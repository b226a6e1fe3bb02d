//! The notification centre: every toast and live event of the session, the
//! unread count the header shows, and the jump to a notification's lead.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::action::Action;
use super::app::{App, Load, Pane};
use super::effect::Effect;
use super::leads::LeadDetail;
use super::widgets::toast::{Toast, ToastKind};
use crate::domain::{Lead, ServerEvent};

/// The history kept; older notifications are dropped.
pub const KEEP: usize = 200;

#[derive(Debug, Clone)]
pub struct Notification {
    pub at: DateTime<Utc>,
    pub kind: ToastKind,
    pub text: String,
    /// The lead it is about, when the event carried it whole.
    pub lead: Option<Lead>,
    pub lead_id: Option<Uuid>,
}

#[derive(Debug, Clone, Default)]
pub struct Notifications {
    pub open: bool,
    /// Newest first.
    pub items: Vec<Notification>,
    pub unread: usize,
    pub selected: usize,
    /// Set while a live event is applied: its toasts are recorded as the
    /// event, once, with its lead.
    pub(crate) in_event: bool,
}

impl Notifications {
    fn push(&mut self, n: Notification) {
        self.items.insert(0, n);
        self.items.truncate(KEEP);
        if self.open {
            self.selected = (self.selected + 1).min(self.items.len().saturating_sub(1));
        } else {
            self.unread = (self.unread + 1).min(KEEP);
        }
    }
}

/// How an event reads in the history.
fn describe(ev: &ServerEvent) -> (ToastKind, String) {
    let s = |k: &str| ev.data.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let lead_name = ev
        .lead()
        .map(|l| l.name)
        .or_else(|| s("lead_name"))
        .or_else(|| s("name"))
        .unwrap_or_else(|| "a lead".into());
    match ev.kind.as_str() {
        "lead.created" => (ToastKind::Info, format!("New lead: {lead_name}")),
        "lead.updated" => (ToastKind::Info, format!("Lead changed: {lead_name}")),
        "lead.deleted" => (ToastKind::Info, "A lead was deleted".into()),
        "lead.qualified" => (ToastKind::Info, "A lead was qualified".into()),
        "sla.at_risk" => (ToastKind::Info, format!("SLA at risk: {lead_name}")),
        "sla.breached" => (ToastKind::Error, format!("SLA breached: {lead_name}")),
        "workflow.awaiting_approval" => (
            ToastKind::Info,
            format!("A reply to {lead_name} awaits approval"),
        ),
        "workflow.approved" => (ToastKind::Success, "A drafted reply was approved".into()),
        "workflow.rejected" => (ToastKind::Info, "A drafted reply was rejected".into()),
        "workflow.failed" => (
            ToastKind::Error,
            format!("A workflow failed: {}", s("error").unwrap_or_default()),
        ),
        "webhook.disabled" => (ToastKind::Error, "A webhook endpoint was disabled".into()),
        other => (ToastKind::Info, other.replace(['.', '_'], " ")),
    }
}

impl App {
    /// Records a toast that no live event raised.
    pub(crate) fn note_toast(&mut self, t: &Toast) {
        if self.notifications.in_event {
            return;
        }
        self.notifications.push(Notification {
            at: self.now,
            kind: t.kind,
            text: t.text.clone(),
            lead: None,
            lead_id: None,
        });
    }

    /// Records a live event; `lead.updated` is too frequent to be news.
    pub(crate) fn note_event(&mut self, ev: &ServerEvent) {
        if ev.kind == "lead.updated" {
            return;
        }
        let (kind, text) = describe(ev);
        let lead = ev.lead();
        let lead_id = lead.as_ref().map(|l| l.id).or_else(|| {
            ev.data
                .get("lead_id")
                .and_then(|v| v.as_str())
                .and_then(|s| Uuid::parse_str(s).ok())
        });
        self.notifications.push(Notification {
            at: self.now,
            kind,
            text,
            lead,
            lead_id,
        });
        self.dirty = true;
    }

    pub(crate) fn open_notifications(&mut self) {
        self.notifications.open = true;
        self.notifications.unread = 0;
        self.notifications.selected = 0;
    }

    pub(crate) fn update_notifications(&mut self, action: Action) -> Vec<Effect> {
        let rows = self.notifications.items.len();
        let v = &mut self.notifications;
        match action {
            Action::Up => v.selected = v.selected.saturating_sub(1),
            Action::Down => v.selected = (v.selected + 1).min(rows.saturating_sub(1)),
            Action::Top => v.selected = 0,
            Action::Bottom => v.selected = rows.saturating_sub(1),
            Action::Back => v.open = false,
            Action::Open => return self.jump_to_lead(),
            _ => {}
        }
        Vec::new()
    }

    /// Opens the notification's lead in the Leads pane: the copy the event
    /// carried, else the loaded row, refreshed from the server either way.
    fn jump_to_lead(&mut self) -> Vec<Effect> {
        let Some(n) = self.notifications.items.get(self.notifications.selected) else {
            return Vec::new();
        };
        let found = n.lead.clone().or_else(|| {
            n.lead_id
                .and_then(|id| self.leads.position(id))
                .and_then(|i| self.leads.items.get(i).cloned())
        });
        let Some(lead) = found else {
            if n.lead_id.is_some() {
                self.toast(Toast::info(
                    "That lead is not loaded; find it in the Leads pane",
                ));
            }
            return Vec::new();
        };
        self.notifications.open = false;
        self.pane = Pane::Leads;
        self.approvals.open = false;
        self.analytics.open = false;
        self.audit.open = false;
        if self.leads.tenant != Some(lead.tenant_id) {
            // Another tenant's lead: the list must be of its tenant first.
            return Vec::new();
        }
        let id = lead.id;
        self.leads.detail = Some(LeadDetail {
            lead,
            timeline: Load::Loading,
            scroll: 0,
        });
        self.load_lead(id)
    }
}
