//! The webhooks screen (`:webhooks`, or `w` in a tenant's detail): the
//! tenant's endpoints with how their last delivery went; creating one with
//! an event picker (its signing secret shown once, with a copy), editing,
//! deleting, rotating the secret, sending a test event; each endpoint's
//! deliveries, one delivery's body and attempts, replay and re-enabling.
//! Deliveries update live from the tenant's `webhook.delivery` events.
//! Shown in the Tenants pane, over the table or a tenant's detail.

mod editor;
pub mod keys;
mod pane;
pub mod requests;
mod responses;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use uuid::Uuid;

pub use editor::{choices, Editor};
pub use requests::{execute, WebhookRequest, WebhookResponse, DELIVERIES_PAGE};

use super::action::Action;
use super::component::{Component, Cx, Shared};
use super::effect::{Effect, Request, RequestId};
use super::keymap::Context;
use super::notifications::url_host;
use super::paging::Pager;
use super::panes::{screen_contexts, ListState};
use super::request::Response;
use super::state::{Confirmable, InFlight, Load, Slot};
use super::widgets::toast::Toast;
use crate::domain::{NewWebhook, Webhook, WebhookDelivery, WebhookDeliveryDetail, WebhookPatch};

/// Which of the screen's views is shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Screen {
    #[default]
    List,
    /// One endpoint's delivery log.
    Deliveries,
    /// One delivery: its body and every attempt.
    Delivery,
}

#[derive(Debug, Clone, Default)]
pub struct WebhooksView {
    open: bool,
    /// Whose endpoints are shown.
    tenant: Option<Uuid>,
    screen: Screen,
    hooks: ListState<Webhook>,
    /// The endpoint whose deliveries are shown.
    endpoint: Option<Uuid>,
    deliveries: ListState<WebhookDelivery>,
    pager: Pager,
    detail: Load<WebhookDeliveryDetail>,
    /// Lines of the open delivery scrolled past.
    scroll: u16,
    editor: Option<Editor>,
}

impl WebhooksView {
    pub fn is_open(&self) -> bool {
        self.open
    }

    pub fn close(&mut self) {
        self.open = false;
        self.editor = None;
    }

    pub fn screen(&self) -> Screen {
        self.screen
    }

    pub fn editor(&self) -> Option<&Editor> {
        self.editor.as_ref()
    }

    pub fn hooks(&self) -> &Load<Vec<Webhook>> {
        &self.hooks.items
    }

    pub fn selected_hook(&self) -> Option<&Webhook> {
        self.hooks.selected_item()
    }

    /// The endpoint whose deliveries are open.
    pub fn endpoint(&self) -> Option<&Webhook> {
        let id = self.endpoint?;
        self.hooks.loaded()?.iter().find(|h| h.id == id)
    }

    pub fn deliveries(&self) -> &Load<Vec<WebhookDelivery>> {
        &self.deliveries.items
    }

    pub fn selected_delivery(&self) -> Option<&WebhookDelivery> {
        self.deliveries.selected_item()
    }

    /// Opens the current tenant's endpoints (the router made the tenant
    /// current first).
    pub(crate) fn open(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        self.open = true;
        self.screen = Screen::List;
        self.editor = None;
        self.load(cx)
    }

    /// The current tenant changed while the screen is open: show its own.
    pub(crate) fn follow_tenant(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        if !self.open || !cx.session.moved_from(self.tenant) {
            return Vec::new();
        }
        self.open(cx)
    }

    fn tenant_ref(&self) -> Option<(Uuid, String)> {
        self.tenant.map(|t| (t, t.to_string()))
    }

    fn send(
        &self,
        req: WebhookRequest,
        slot: Option<Slot>,
        ok: &str,
        fail: &str,
        target: Option<Uuid>,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        cx.send_about(Request::Webhook(req), slot, ok, fail, self.tenant, target)
    }

    fn load(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let Some(tenant) = cx.session.current_tenant else {
            return Vec::new();
        };
        if self.tenant != Some(tenant) {
            self.hooks.selected = 0;
            self.endpoint = None;
        }
        self.tenant = Some(tenant);
        self.hooks.loading();
        let req = WebhookRequest::List {
            tenant: tenant.to_string(),
        };
        self.send(
            req,
            Some(Slot::Webhooks),
            "",
            "Could not load the webhooks",
            None,
            cx,
        )
    }

    fn load_deliveries(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let (Some((_, tenant)), Some(id)) = (self.tenant_ref(), self.endpoint) else {
            return Vec::new();
        };
        self.deliveries.reloading();
        self.pager.clear();
        cx.requests.forget(Slot::WebhookDeliveriesMore);
        let req = WebhookRequest::Deliveries {
            tenant,
            id,
            cursor: None,
        };
        let fail = "Could not load the deliveries";
        self.send(req, Some(Slot::WebhookDeliveries), "", fail, Some(id), cx)
    }

    fn maybe_load_more(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let (Some((_, tenant)), Some(id)) = (self.tenant_ref(), self.endpoint) else {
            return Vec::new();
        };
        let rows = self.deliveries.row_count();
        let Some(cursor) = self.pager.due(self.deliveries.selected, rows) else {
            return Vec::new();
        };
        let req = WebhookRequest::Deliveries {
            tenant,
            id,
            cursor: Some(cursor),
        };
        let fail = "Could not load more deliveries";
        self.send(
            req,
            Some(Slot::WebhookDeliveriesMore),
            "",
            fail,
            Some(id),
            cx,
        )
    }

    fn load_delivery(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let (Some((_, tenant)), Some(id), Some(d)) =
            (self.tenant_ref(), self.endpoint, self.selected_delivery())
        else {
            return Vec::new();
        };
        let delivery = d.id;
        self.detail = Load::Loading;
        self.scroll = 0;
        let req = WebhookRequest::Delivery {
            tenant,
            id,
            delivery,
        };
        let fail = "Could not load the delivery";
        self.send(req, Some(Slot::WebhookDelivery), "", fail, Some(id), cx)
    }

    /// The endpoint an action is about: the open one in the deliveries,
    /// else the selected row.
    fn target(&self) -> Option<&Webhook> {
        match self.screen {
            Screen::List => self.selected_hook(),
            _ => self.endpoint(),
        }
    }

    fn replay(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let (Some((_, tenant)), Some(hook)) = (self.tenant_ref(), self.endpoint()) else {
            return Vec::new();
        };
        let delivery = match self.screen {
            Screen::Delivery => self.detail.loaded().map(|d| d.delivery.id),
            _ => self.selected_delivery().map(|d| d.id),
        };
        let Some(delivery) = delivery else {
            return Vec::new();
        };
        if !hook.enabled {
            let key = cx
                .keymap
                .key_label(Context::WebhookDeliveries, "webhook_enable");
            cx.toast(Toast::error(format!(
                "The endpoint is disabled: re-enable it ({key}) to replay"
            )));
            return Vec::new();
        }
        let id = hook.id;
        let req = WebhookRequest::Replay {
            tenant,
            id,
            delivery,
        };
        self.send(
            req,
            None,
            "Replay queued (same event id)",
            "Could not replay",
            Some(id),
            cx,
        )
    }

    fn toggle_enabled(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let (Some((_, tenant)), Some(hook)) = (self.tenant_ref(), self.target()) else {
            return Vec::new();
        };
        let host = url_host(&hook.url);
        let (enable, ok) = if hook.enabled {
            (false, format!("Disabled the webhook to {host}"))
        } else {
            (
                true,
                format!("Re-enabled the webhook to {host}: pending deliveries resume"),
            )
        };
        let id = hook.id;
        let req = WebhookRequest::Update {
            tenant,
            id,
            patch: WebhookPatch {
                enabled: Some(enable),
                ..Default::default()
            },
        };
        self.send(req, None, &ok, "Could not change the webhook", Some(id), cx)
    }

    fn send_test(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let (Some((_, tenant)), Some(hook)) = (self.tenant_ref(), self.target()) else {
            return Vec::new();
        };
        let ok = format!("Test event queued for {}", url_host(&hook.url));
        let id = hook.id;
        let req = WebhookRequest::SendTest { tenant, id };
        self.send(req, None, &ok, "Could not send a test event", Some(id), cx)
    }

    fn save(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let Some((_, tenant)) = self.tenant_ref() else {
            return Vec::new();
        };
        let Some(editor) = &mut self.editor else {
            return Vec::new();
        };
        if editor.pending.is_some() || !editor.check() {
            return Vec::new();
        }
        editor.failure = None;
        let (url, events) = (editor.url.trim().to_string(), editor.events());
        let host = url_host(&url);
        let (req, ok, fail) = match editor.editing {
            None => (
                WebhookRequest::Create {
                    tenant,
                    new: NewWebhook {
                        url,
                        events,
                        enabled: None,
                    },
                },
                format!("Created the webhook to {host}"),
                "Could not create the webhook",
            ),
            Some(id) => (
                WebhookRequest::Update {
                    tenant,
                    id,
                    patch: WebhookPatch {
                        url: Some(url),
                        events: Some(events),
                        enabled: None,
                    },
                },
                format!("Saved the webhook to {host}"),
                "Could not save the webhook",
            ),
        };
        let target = editor.editing;
        let out = cx.send_about(Request::Webhook(req), None, &ok, fail, self.tenant, target);
        if let (Some(editor), Some(Effect::Api(id, _))) = (&mut self.editor, out.first()) {
            editor.pending = Some(*id);
        }
        out
    }

    fn update_editor(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        let Some(editor) = &mut self.editor else {
            return Vec::new();
        };
        match action {
            Action::Save => return self.save(cx),
            Action::Cancel => self.editor = None,
            Action::NextField => editor.move_focus(true),
            Action::PrevField => editor.move_focus(false),
            Action::Toggle => editor.toggle(),
            Action::Key(k) => editor.input(k),
            Action::Paste(s) => editor.paste(&s),
            _ => {}
        }
        Vec::new()
    }

    /// Sends a confirmed delete or secret rotation.
    pub(crate) fn perform(&mut self, what: Confirmable, cx: &mut Cx<'_>) -> Vec<Effect> {
        let (req, ok, fail, id) = match what {
            Confirmable::DeleteWebhook { tenant, id, host } => (
                WebhookRequest::Delete {
                    tenant: tenant.to_string(),
                    id,
                },
                format!("Deleted the webhook to {host}"),
                format!("Could not delete the webhook to {host}"),
                id,
            ),
            Confirmable::RotateWebhookSecret { tenant, id, host } => (
                WebhookRequest::RotateSecret {
                    tenant: tenant.to_string(),
                    id,
                },
                String::new(),
                format!("Could not rotate the secret of the webhook to {host}"),
                id,
            ),
            _ => return Vec::new(),
        };
        self.send(req, None, &ok, &fail, Some(id), cx)
    }
}

impl Component for WebhooksView {
    fn contexts(&self, _shared: &Shared<'_>) -> (Vec<Context>, bool) {
        if self.editor.is_some() {
            return (vec![Context::WebhookEditor], true);
        }
        let failed = match self.screen {
            Screen::List => self.hooks.is_failed(),
            Screen::Deliveries => self.deliveries.is_failed(),
            Screen::Delivery => self.detail.is_failed(),
        };
        let screen = match self.screen {
            Screen::List => Context::Webhooks,
            Screen::Deliveries => Context::WebhookDeliveries,
            Screen::Delivery => Context::WebhookDelivery,
        };
        screen_contexts(failed, [screen])
    }

    fn update(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        if self.editor.is_some() {
            return self.update_editor(action, cx);
        }
        match self.screen {
            Screen::List => self.update_list(action, cx),
            Screen::Deliveries => self.update_deliveries(action, cx),
            Screen::Delivery => self.update_delivery(action, cx),
        }
    }

    fn on_response(
        &mut self,
        id: RequestId,
        flight: &InFlight,
        response: Response,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        match response {
            Response::Webhook(r) => self.on_webhook_response(id, flight, r, cx),
            _ => Vec::new(),
        }
    }

    fn render(&self, shared: &Shared<'_>, area: Rect, buf: &mut Buffer) {
        pane::render(self, shared, area, buf)
    }
}

impl WebhooksView {
    fn update_list(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        if self.hooks.step(&action, cx.page_rows()) {
            return Vec::new();
        }
        match action {
            Action::Retry => return self.load(cx),
            Action::Back => self.close(),
            Action::New if self.tenant.is_some() => self.editor = Some(Editor::create()),
            Action::Edit => {
                if let Some(h) = self.selected_hook() {
                    self.editor = Some(Editor::edit(h));
                }
            }
            Action::Open => {
                if let Some(h) = self.selected_hook() {
                    self.endpoint = Some(h.id);
                    self.screen = Screen::Deliveries;
                    self.deliveries.selected = 0;
                    return self.load_deliveries(cx);
                }
            }
            Action::Remove => {
                if let (Some(tenant), Some(h)) = (self.tenant, self.selected_hook()) {
                    let host = url_host(&h.url);
                    cx.confirm(
                        format!(
                            "Delete the webhook to {host}? Its delivery log goes with it; \
                             nothing more is sent there."
                        ),
                        Confirmable::DeleteWebhook {
                            tenant,
                            id: h.id,
                            host,
                        },
                    );
                }
            }
            Action::RotateSecret => {
                if let (Some(tenant), Some(h)) = (self.tenant, self.selected_hook()) {
                    let host = url_host(&h.url);
                    cx.confirm(
                        format!(
                            "Rotate the signing secret of the webhook to {host}? The old one \
                             stops signing at once: the receiver needs the new one."
                        ),
                        Confirmable::RotateWebhookSecret {
                            tenant,
                            id: h.id,
                            host,
                        },
                    );
                }
            }
            Action::SendTest => return self.send_test(cx),
            Action::ToggleEnabled => return self.toggle_enabled(cx),
            _ => {}
        }
        Vec::new()
    }

    fn update_deliveries(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        if self.deliveries.step(&action, cx.page_rows()) {
            return self.maybe_load_more(cx);
        }
        match action {
            Action::Retry => self.load_deliveries(cx),
            Action::Back => {
                self.screen = Screen::List;
                cx.requests.forget(Slot::WebhookDeliveries);
                cx.requests.forget(Slot::WebhookDeliveriesMore);
                Vec::new()
            }
            Action::Open if self.selected_delivery().is_some() => {
                self.screen = Screen::Delivery;
                self.load_delivery(cx)
            }
            Action::Replay => self.replay(cx),
            Action::SendTest => self.send_test(cx),
            Action::ToggleEnabled => self.toggle_enabled(cx),
            _ => Vec::new(),
        }
    }

    fn update_delivery(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        match action {
            Action::Up => self.scroll = self.scroll.saturating_sub(1),
            Action::Down => self.scroll = self.scroll.saturating_add(1),
            Action::Top => self.scroll = 0,
            Action::Retry => return self.load_delivery(cx),
            Action::Back => {
                self.screen = Screen::Deliveries;
                cx.requests.forget(Slot::WebhookDelivery);
            }
            Action::Replay => return self.replay(cx),
            Action::ToggleEnabled => return self.toggle_enabled(cx),
            _ => {}
        }
        Vec::new()
    }
}
