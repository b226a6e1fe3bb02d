//! The notification centre: every toast and live event, kept across
//! restarts, the unread count the header shows, and the jump to a
//! notification's lead.

pub mod history;
mod jump;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::action::Action;
use super::app::{App, Confirmable, Modal};
use super::effect::Effect;
use super::widgets::toast::{Toast, ToastKind};
use crate::domain::{Lead, ServerEvent};
use history::{SavedHistory, SavedKind, SavedNotification};

/// The history kept; older notifications are dropped.
pub const KEEP: usize = 200;

#[derive(Debug, Clone)]
pub struct Notification {
    pub at: DateTime<Utc>,
    pub kind: ToastKind,
    pub text: String,
    /// The lead as the event carried it, this session only: it opens at
    /// once while a fresh copy is fetched.
    pub lead: Option<Lead>,
    pub lead_id: Option<Uuid>,
    /// The tenant whose event this was, so its lead can be opened from
    /// another tenant.
    pub tenant_id: Option<Uuid>,
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
    pub(crate) saving: Saving,
}

/// Whose history this is and whether the file is behind the screen.
#[derive(Debug, Clone, Default)]
pub(crate) struct Saving {
    /// Known once the profile loads; the file is per user.
    user: Option<Uuid>,
    /// The saved history was read: until then nothing is written, or the
    /// session's first toasts would replace it.
    loaded: bool,
    /// Changed since the last save.
    unsaved: bool,
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
        self.saving.unsaved = true;
    }

    pub fn selected_item(&self) -> Option<&Notification> {
        self.items.get(self.selected)
    }

    /// The lead was deleted: its notifications no longer lead anywhere.
    fn forget_lead(&mut self, id: Uuid) {
        for n in self.items.iter_mut().filter(|n| n.lead_id == Some(id)) {
            n.lead_id = None;
            n.lead = None;
            self.saving.unsaved = true;
        }
    }

    fn snapshot(&self) -> SavedHistory {
        SavedHistory {
            version: 0, // the writer stamps its own
            unread: self.unread,
            items: self.items.iter().map(Notification::saved).collect(),
        }
    }
}

impl Notification {
    fn saved(&self) -> SavedNotification {
        SavedNotification {
            at: self.at,
            kind: match self.kind {
                ToastKind::Success => SavedKind::Success,
                ToastKind::Info => SavedKind::Info,
                ToastKind::Error => SavedKind::Error,
            },
            text: self.text.clone(),
            lead_id: self.lead_id,
            tenant_id: self.tenant_id,
        }
    }

    fn from_saved(n: SavedNotification) -> Self {
        Self {
            at: n.at,
            kind: match n.kind {
                SavedKind::Success => ToastKind::Success,
                SavedKind::Info => ToastKind::Info,
                SavedKind::Error => ToastKind::Error,
            },
            text: n.text,
            lead: None,
            lead_id: n.lead_id,
            tenant_id: n.tenant_id,
        }
    }
}

/// The receiver's host (and port), not its whole URL: a path may carry a
/// token.
pub(crate) fn url_host(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| {
            let host = u.host_str()?.to_string();
            Some(match u.port() {
                Some(p) => format!("{host}:{p}"),
                None => host,
            })
        })
        .unwrap_or_else(|| "an unreadable URL".into())
}

/// How an event reads in the history; `tenant` is the slug the API takes.
fn describe(ev: &ServerEvent, tenant: Option<&str>) -> (ToastKind, String) {
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
        "lead.hidden" => (ToastKind::Info, "A lead was assigned away from you".into()),
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
        "webhook.disabled" => (ToastKind::Error, webhook_disabled(ev, tenant)),
        other => (ToastKind::Info, other.replace(['.', '_'], " ")),
    }
}

/// Which endpoint stopped, why, and how to start it again.
fn webhook_disabled(ev: &ServerEvent, tenant: Option<&str>) -> String {
    let data = &ev.data;
    let host = data
        .get("url")
        .and_then(|v| v.as_str())
        .map_or_else(|| "an endpoint".into(), url_host);
    let failures = data
        .get("consecutive_failures")
        .and_then(|v| v.as_u64())
        .map(|n| format!(" after {n} failed attempts in a row"))
        .unwrap_or_default();
    let webhooks = match tenant {
        Some(t) => format!(":tenant {t}, then :webhooks"),
        None => ":webhooks".into(),
    };
    format!(
        "Webhook to {host} disabled{failures}. Fix the receiver, then re-enable it in \
         {webhooks} (x on its row; pending deliveries resume)"
    )
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
            tenant_id: None,
        });
    }

    /// Records a live event of `tenant`; `lead.updated` and an eval run's
    /// progress (one per case) are too frequent to be news.
    pub(crate) fn note_event(&mut self, tenant: Uuid, ev: &ServerEvent) {
        // Each webhook attempt is on the webhooks screen, not news.
        if matches!(
            ev.kind.as_str(),
            "lead.updated" | "eval.progress" | "webhook.delivery" | "webhook.test"
        ) {
            return;
        }
        let slug = self.session.tenant(tenant).map(|t| t.slug.clone());
        let (kind, text) = describe(ev, slug.as_deref());
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
            tenant_id: Some(tenant),
        });
        self.dirty = true;
    }

    /// An endpoint stopped after failing for a day: it stays until dismissed
    /// (nothing reaches the receiver until someone acts); several at once (a
    /// receiver behind them all went down) share one toast that counts.
    pub(crate) fn toast_webhook_disabled(&mut self, ev: &ServerEvent) {
        const GROUP: &str = "webhook-disabled";
        let host = ev
            .data
            .get("url")
            .and_then(|v| v.as_str())
            .map_or_else(|| "an endpoint".into(), url_host);
        if let Some(t) = self.toasts.iter_mut().find(|t| t.group == Some(GROUP)) {
            t.count += 1;
            t.text = format!(
                "{} webhook endpoints disabled (latest: {host}); fix the receivers, \
                 then re-enable them in :webhooks",
                t.count
            );
            self.dirty = true;
            return;
        }
        let mut t = Toast::error(format!(
            "Webhook to {host} disabled after repeated failures; fix the receiver, \
             then re-enable it in :webhooks"
        ));
        t.group = Some(GROUP);
        self.toast(t);
    }

    pub(crate) fn open_notifications(&mut self) {
        self.notifications.open = true;
        if self.notifications.unread > 0 {
            self.notifications.unread = 0;
            self.notifications.saving.unsaved = true;
        }
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
            Action::ClearNotifications if rows > 0 => {
                self.modal = Some(Modal::Confirm {
                    question: format!(
                        "Clear all {rows} notifications? They are gone for good, here and on disk."
                    ),
                    action: Confirmable::ClearNotifications { count: rows },
                });
            }
            _ => {}
        }
        Vec::new()
    }

    /// Empties the history (confirmed).
    pub(crate) fn clear_notifications(&mut self, count: usize) -> Vec<Effect> {
        let v = &mut self.notifications;
        v.items.clear();
        v.unread = 0;
        v.selected = 0;
        v.saving.unsaved = true;
        self.toast(Toast::success(format!("Cleared {count} notifications")));
        Vec::new()
    }

    /// The profile is known: ask for this user's saved history, once.
    pub(crate) fn load_history(&mut self, user: Uuid) -> Vec<Effect> {
        let saving = &mut self.notifications.saving;
        if saving.user == Some(user) {
            return Vec::new();
        }
        *saving = Saving {
            user: Some(user),
            loaded: false,
            unsaved: saving.unsaved,
        };
        vec![Effect::LoadNotifications { user }]
    }

    /// The saved history arrived: it goes under what this session already
    /// recorded, and what was unread at the last quit is still unread.
    pub fn on_history(&mut self, user: Uuid, saved: SavedHistory) {
        let v = &mut self.notifications;
        if v.saving.user != Some(user) || v.saving.loaded {
            return;
        }
        v.saving.loaded = true;
        v.saving.unsaved = !v.items.is_empty();
        let unread = saved.unread.min(saved.items.len());
        v.items
            .extend(saved.items.into_iter().map(Notification::from_saved));
        v.items.truncate(KEEP);
        if !v.open {
            v.unread = (v.unread + unread).min(v.items.len());
        }
        v.selected = v.selected.min(v.items.len().saturating_sub(1));
        self.dirty = true;
    }

    /// The history to write, if it changed since the last write: asked each
    /// tick (a burst of events is one write) and at quit.
    pub(crate) fn save_history(&mut self) -> Vec<Effect> {
        let v = &mut self.notifications;
        let (Some(user), true, true) = (v.saving.user, v.saving.loaded, v.saving.unsaved) else {
            return Vec::new();
        };
        v.saving.unsaved = false;
        vec![Effect::SaveNotifications {
            user,
            history: v.snapshot(),
        }]
    }
}
