//! The one small trait each feature of the console implements, and what a
//! feature sees of the rest: the session, request bookkeeping and the dialog
//! slot while it acts, the theme, keymap and session while it draws.

use chrono::{DateTime, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use uuid::Uuid;

use super::action::Action;
use super::effect::{Effect, Request, RequestId};
use super::inflight::Requests;
use super::keymap::{Context, Keymap};
use super::request::Response;
use super::session::Session;
use super::state::{Confirmable, InFlight, Load, Modal, Slot};
use super::theme::Theme;
use super::widgets::toast::Toast;

/// A feature: its state is private to its module; the [`App`](super::App)
/// routes actions and replies to it and draws it in the main area.
pub trait Component {
    /// Where keys go while the feature has the focus, most specific first,
    /// and whether a text input has it (then unbound keys are typed).
    fn contexts(&self, shared: &Shared<'_>) -> (Vec<Context>, bool);
    /// Changes the feature's state for one action; no I/O.
    fn update(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect>;
    /// Applies a reply the router found to be this feature's.
    fn on_response(
        &mut self,
        id: RequestId,
        flight: &InFlight,
        response: Response,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect>;
    /// Draws the feature: a pure function of its state and `shared`.
    fn render(&self, shared: &Shared<'_>, area: Rect, buf: &mut Buffer);
}

/// What a feature may read while it draws.
#[derive(Clone, Copy)]
pub struct Shared<'a> {
    pub theme: &'a Theme,
    pub keymap: &'a Keymap,
    pub session: &'a Session,
    /// The clock drawing is against (tests fix it).
    pub now: DateTime<Utc>,
    /// The platform's base URL, for hints such as where forms post leads.
    pub server_url: &'a str,
}

impl Shared<'_> {
    /// A tenant's name as drawn (empty when it is not known).
    pub fn tenant_name(&self, tenant: Option<Uuid>) -> String {
        tenant
            .and_then(|t| self.session.tenant(t))
            .map(|t| crate::console::sanitize::cleaned(&t.name))
            .unwrap_or_default()
    }
}

/// What a feature may touch while it handles an action or a reply: the
/// session, its requests, and the dialog slot (empty while it handles an
/// action: the router hands an open dialog its keys first). Toasts are
/// queued for the App, which also records them in the notification history.
pub struct Cx<'a> {
    pub session: &'a mut Session,
    pub requests: &'a mut Requests,
    pub modal: &'a mut Option<Modal>,
    pub theme: &'a Theme,
    pub keymap: &'a Keymap,
    /// The console's clock (tests fix it).
    pub now: DateTime<Utc>,
    /// The terminal's size: how many rows a page is.
    pub viewport: (u16, u16),
    pub(crate) toasts: Vec<Toast>,
    /// A request went out: the spinner turns, so the screen changes.
    pub(crate) sent: bool,
}

impl<'a> Cx<'a> {
    pub fn new(
        session: &'a mut Session,
        requests: &'a mut Requests,
        modal: &'a mut Option<Modal>,
        theme: &'a Theme,
        keymap: &'a Keymap,
        now: DateTime<Utc>,
        viewport: (u16, u16),
    ) -> Self {
        Self {
            session,
            requests,
            modal,
            theme,
            keymap,
            now,
            viewport,
            toasts: Vec::new(),
            sent: false,
        }
    }

    /// How many rows a page of a list is: the terminal's less the header,
    /// the pane bar, the footer, the pane's borders and the table's header.
    pub fn page_rows(&self) -> usize {
        usize::from(self.viewport.1.saturating_sub(6)).max(1)
    }

    pub fn toast(&mut self, toast: Toast) {
        self.toasts.push(toast);
    }

    pub fn send(&mut self, req: Request, slot: Option<Slot>, ok: &str, fail: &str) -> Vec<Effect> {
        self.send_about(req, slot, ok, fail, None, None)
    }

    pub fn send_about(
        &mut self,
        req: Request,
        slot: Option<Slot>,
        ok: &str,
        fail: &str,
        tenant: Option<Uuid>,
        target: Option<Uuid>,
    ) -> Vec<Effect> {
        self.sent = true;
        self.requests
            .send_about(req, slot, ok, fail, tenant, target)
    }

    /// Asks "yes?" before a destructive action.
    pub fn confirm(&mut self, question: String, action: Confirmable) {
        *self.modal = Some(Modal::Confirm { question, action });
    }

    /// Closes the form whose save this reply answers.
    pub fn finish_form(&mut self, id: RequestId) {
        if matches!(&*self.modal, Some(Modal::Form(f)) if f.pending == Some(id)) {
            *self.modal = None;
        }
    }

    /// Asks for a tenant's usage again: the header shows its month's leads.
    pub fn load_usage(&mut self, tenant: Uuid) -> Vec<Effect> {
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

    /// (Re)loads the tenants list: the header and tables show its counts.
    pub fn load_tenants(&mut self) -> Vec<Effect> {
        self.sent = true;
        load_tenants(self.session, self.requests)
    }
}

pub(crate) fn load_tenants(session: &mut Session, requests: &mut Requests) -> Vec<Effect> {
    if !matches!(session.tenants, Load::Loaded(_)) {
        session.tenants = Load::Loading;
    }
    requests.send_about(
        Request::ListTenants,
        Some(Slot::Tenants),
        "",
        "Could not load tenants",
        None,
        None,
    )
}

/// Builds a [`Cx`] from the App's fields, beside a mutable borrow of one
/// feature, runs `$body`, then shows the toasts it queued.
macro_rules! with_cx {
    ($app:expr, $feature:ident, |$f:ident, $cx:ident| $body:expr) => {{
        let app = &mut *$app;
        let mut $cx = $crate::console::component::Cx::new(
            &mut app.session,
            &mut app.requests,
            &mut app.modal,
            &app.theme,
            &app.keymap,
            app.now,
            app.viewport,
        );
        let $f = &mut app.$feature;
        let out = $body;
        let toasts = std::mem::take(&mut $cx.toasts);
        let sent = $cx.sent;
        drop($cx);
        for t in toasts {
            app.toast(t);
        }
        app.dirty |= sent;
        out
    }};
}
pub(crate) use with_cx;
