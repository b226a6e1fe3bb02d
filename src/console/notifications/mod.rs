//! The notification centre: every toast and live event, kept across
//! restarts, the unread count the header shows, and the jump to a
//! notification's lead.

pub mod history;
mod pane;

use chrono::{DateTime, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use uuid::Uuid;

use super::action::Action;
use super::component::{Component, Cx, Shared};
use super::effect::{Effect, RequestId};
use super::keymap::Context;
use super::panes::step;
use super::request::Response;
use super::session::Session;
use super::state::{Confirmable, InFlight};
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
    /// Shown over whichever pane is current.
    open: bool,
    /// Newest first.
    items: Vec<Notification>,
    unread: usize,
    selected: usize,
    /// Set while a live event is applied: its toasts are recorded as the
    /// event, once, with its lead.
    in_event: bool,
    saving: Saving,
}

/// Whose history this is and whether the file is behind the screen.
#[derive(Debug, Clone, Default)]
struct Saving {
    /// Known once the profile loads; the file is per user.
    user: Option<Uuid>,
    /// The saved history was read: until then nothing is written, or the
    /// session's first toasts would replace it.
    loaded: bool,
    /// Changed since the last save.
    unsaved: bool,
}

impl Notifications {
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Newest first.
    pub fn items(&self) -> &[Notification] {
        &self.items
    }

    /// How many of the newest were not yet seen (the header shows it).
    pub fn unread(&self) -> usize {
        self.unread
    }

    pub fn selected(&self) -> usize {
        self.selected
    }

    /// The centre gives way to a pane the user moved to.
    pub fn close(&mut self) {
        self.open = false;
    }

    /// Opens the centre: everything in it is seen now.
    pub(crate) fn open(&mut self) {
        self.open = true;
        if self.unread > 0 {
            self.unread = 0;
            self.saving.unsaved = true;
        }
        self.selected = 0;
    }

    /// `enter` on a notification about a lead: the router opens that lead
    /// (in its tenant's Leads pane).
    pub fn chosen(&self, action: &Action) -> Option<&Notification> {
        if *action != Action::Open {
            return None;
        }
        self.selected_item()
            .filter(|n| n.lead_id.is_some() || n.lead.is_some())
    }

    /// A live event is being applied (`true`) or is done: toasts raised
    /// meanwhile are the event's, recorded once as the event.
    pub(crate) fn set_in_event(&mut self, applying: bool) {
        self.in_event = applying;
    }

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
    pub(crate) fn forget_lead(&mut self, id: Uuid) {
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

impl Notifications {
    /// Records a toast that no live event raised.
    pub(crate) fn note_toast(&mut self, t: &Toast, now: DateTime<Utc>) {
        if self.in_event {
            return;
        }
        self.push(Notification {
            at: now,
            kind: t.kind,
            text: t.text.clone(),
            lead: None,
            lead_id: None,
            tenant_id: None,
        });
    }

    /// Records a live event of `tenant`; `lead.updated` and an eval run's
    /// progress (one per case) are too frequent to be news. True when it
    /// was recorded (the header's count changed).
    pub(crate) fn note_event(
        &mut self,
        tenant: Uuid,
        ev: &ServerEvent,
        session: &Session,
        now: DateTime<Utc>,
    ) -> bool {
        // Each webhook attempt is on the webhooks screen, not news.
        if matches!(
            ev.kind.as_str(),
            "lead.updated" | "eval.progress" | "webhook.delivery" | "webhook.test"
        ) {
            return false;
        }
        let slug = session.tenant(tenant).map(|t| t.slug.clone());
        let (kind, text) = describe(ev, slug.as_deref());
        let lead = ev.lead();
        let lead_id = lead.as_ref().map(|l| l.id).or_else(|| {
            ev.data
                .get("lead_id")
                .and_then(|v| v.as_str())
                .and_then(|s| Uuid::parse_str(s).ok())
        });
        self.push(Notification {
            at: now,
            kind,
            text,
            lead,
            lead_id,
            tenant_id: Some(tenant),
        });
        true
    }

    /// Empties the history (confirmed).
    pub(crate) fn clear(&mut self, count: usize, cx: &mut Cx<'_>) -> Vec<Effect> {
        self.items.clear();
        self.unread = 0;
        self.selected = 0;
        self.saving.unsaved = true;
        cx.toast(Toast::success(format!("Cleared {count} notifications")));
        Vec::new()
    }

    /// The profile is known: ask for this user's saved history, once.
    pub(crate) fn load_history(&mut self, user: Uuid) -> Vec<Effect> {
        if self.saving.user == Some(user) {
            return Vec::new();
        }
        self.saving = Saving {
            user: Some(user),
            loaded: false,
            unsaved: self.saving.unsaved,
        };
        vec![Effect::LoadNotifications { user }]
    }

    /// The saved history arrived: it goes under what this session already
    /// recorded, and what was unread at the last quit is still unread.
    /// True when it was taken (the screen changed).
    pub(crate) fn on_history(&mut self, user: Uuid, saved: SavedHistory) -> bool {
        if self.saving.user != Some(user) || self.saving.loaded {
            return false;
        }
        self.saving.loaded = true;
        self.saving.unsaved = !self.items.is_empty();
        let unread = saved.unread.min(saved.items.len());
        self.items
            .extend(saved.items.into_iter().map(Notification::from_saved));
        self.items.truncate(KEEP);
        if !self.open {
            self.unread = (self.unread + unread).min(self.items.len());
        }
        self.selected = self.selected.min(self.items.len().saturating_sub(1));
        true
    }

    /// The history to write, if it changed since the last write: asked each
    /// tick (a burst of events is one write) and at quit.
    pub(crate) fn save_history(&mut self) -> Vec<Effect> {
        let (Some(user), true, true) = (self.saving.user, self.saving.loaded, self.saving.unsaved)
        else {
            return Vec::new();
        };
        self.saving.unsaved = false;
        vec![Effect::SaveNotifications {
            user,
            history: self.snapshot(),
        }]
    }
}

impl Component for Notifications {
    fn contexts(&self, _shared: &Shared<'_>) -> (Vec<Context>, bool) {
        (vec![Context::Notifications, Context::Global], false)
    }

    fn update(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        let rows = self.items.len();
        if step(&mut self.selected, &action, rows, cx.page_rows()) {
            return Vec::new();
        }
        match action {
            Action::Back => self.open = false,
            Action::ClearNotifications if rows > 0 => cx.confirm(
                format!(
                    "Clear all {rows} notifications? They are gone for good, here and on disk."
                ),
                Confirmable::ClearNotifications { count: rows },
            ),
            _ => {}
        }
        Vec::new()
    }

    /// The lead a notification asked for (the router hands the rest of the
    /// reply to the Leads feature): deleted since, its notifications no
    /// longer lead anywhere.
    fn on_response(
        &mut self,
        _id: RequestId,
        flight: &InFlight,
        response: Response,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        let (Response::Lead(data), Some(_), Some(id)) = (response, flight.tenant, flight.target)
        else {
            return Vec::new();
        };
        if data.lead.as_ref().err().and_then(|e| e.status()) == Some(404) {
            self.forget_lead(id);
            cx.toast(Toast::info("That lead no longer exists"));
        }
        Vec::new()
    }

    fn render(&self, shared: &Shared<'_>, area: Rect, buf: &mut Buffer) {
        pane::render(self, shared, area, buf)
    }
}
