//! The webhooks screen's answers: live `webhook.delivery` events and the
//! responses to its requests (the secret dialog, the editor's failures).

use uuid::Uuid;

use super::{Screen, WebhookResponse, WebhooksView};
use crate::console::component::Cx;
use crate::console::effect::{Effect, RequestId};
use crate::console::notifications::url_host;
use crate::console::state::{InFlight, Load, Modal, Slot};
use crate::console::widgets::dialog::SecretDialog;
use crate::console::widgets::toast::Toast;
use crate::domain::webhook::DELIVERY_EVENT;
use crate::domain::{ServerEvent, Webhook, WebhookAttempt, WebhookDelivery};

impl WebhooksView {
    /// A live `webhook.delivery` event: that delivery's row (and the open
    /// delivery) take its state; the endpoint's last status too.
    pub(crate) fn on_event(&mut self, tenant: Uuid, ev: &ServerEvent) -> bool {
        if !self.open || self.tenant != Some(tenant) {
            return false;
        }
        if ev.kind == "webhook.disabled" {
            let id = ev
                .data
                .get("webhook_id")
                .and_then(|v| v.as_str())
                .and_then(|s| Uuid::parse_str(s).ok());
            if let Some(h) = self.hook_mut(id) {
                h.enabled = false;
                h.disabled_reason = ev
                    .data
                    .get("reason")
                    .and_then(|v| v.as_str())
                    .map(str::to_string);
                return true;
            }
            return false;
        }
        if ev.kind != DELIVERY_EVENT {
            return false;
        }
        let Some(after) = ev
            .data
            .get("delivery")
            .and_then(|d| serde_json::from_value::<WebhookDelivery>(d.clone()).ok())
        else {
            return false;
        };
        let attempt = ev
            .data
            .get("attempt")
            .and_then(|a| serde_json::from_value::<WebhookAttempt>(a.clone()).ok());
        let failed = attempt
            .as_ref()
            .is_some_and(|a| !a.status_code.is_some_and(|c| (200..300).contains(&c)));
        if let Some(h) = self.hook_mut(Some(after.webhook_id)) {
            let newest = h.last_delivery_at.is_none_or(|at| at <= after.created_at);
            if newest {
                h.last_delivery_status = Some(after.status);
                h.last_delivery_at = Some(after.created_at);
            }
            h.consecutive_failures = if failed {
                h.consecutive_failures + 1
            } else {
                0
            };
        }
        if self.endpoint == Some(after.webhook_id) {
            if let Some(list) = self.deliveries.items.loaded_mut() {
                match list.iter_mut().find(|d| d.id == after.id) {
                    Some(row) => merge(row, &after, attempt.as_ref()),
                    // A new event's first attempt: newest first.
                    None => {
                        let mut row = after.clone();
                        row.attempts.extend(attempt.clone());
                        let at = list
                            .iter()
                            .position(|d| d.event_seq < row.event_seq)
                            .unwrap_or(list.len());
                        list.insert(at, row);
                        if at <= self.deliveries.selected && list.len() > 1 {
                            self.deliveries.selected += 1;
                        }
                    }
                }
            }
            if let Some(d) = self.detail.loaded_mut() {
                if d.delivery.id == after.id {
                    merge(&mut d.delivery, &after, attempt.as_ref());
                }
            }
        }
        true
    }

    fn hook_mut(&mut self, id: Option<Uuid>) -> Option<&mut Webhook> {
        let id = id?;
        self.hooks.loaded_mut()?.iter_mut().find(|h| h.id == id)
    }

    fn replace_hook(&mut self, hook: Webhook) {
        if let Some(h) = self.hook_mut(Some(hook.id)) {
            let last = (h.last_delivery_status, h.last_delivery_at);
            *h = hook;
            if h.last_delivery_status.is_none() {
                (h.last_delivery_status, h.last_delivery_at) = last;
            }
        }
    }

    fn show_secret(&self, title: &str, host: &str, secret: String, cx: &mut Cx<'_>) {
        let tenant = self
            .tenant
            .and_then(|t| cx.session.tenant(t))
            .map(|t| t.name.clone())
            .unwrap_or_default();
        *cx.modal = Some(Modal::Secret(SecretDialog {
            title: title.to_string(),
            what: format!(
                "Signing secret of the webhook to {host} ({tenant}): verify each delivery's \
                 Switchboard-Signature with it"
            ),
            secret,
            copied: false,
        }));
    }

    pub(super) fn on_webhook_response(
        &mut self,
        id: RequestId,
        flight: &InFlight,
        response: WebhookResponse,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        if flight.tenant != self.tenant {
            return Vec::new();
        }
        let fail = |cx: &mut Cx<'_>, e: &crate::api::ApiError| {
            cx.toast(Toast::error(format!("{}: {}", flight.fail, e.message())))
        };
        let ok = |cx: &mut Cx<'_>| {
            if !flight.ok.is_empty() {
                cx.toast(Toast::success(flight.ok.clone()));
            }
        };
        match response {
            WebhookResponse::List(r) => self.hooks.arrived(r),
            WebhookResponse::Created(Ok(created)) => {
                let host = url_host(&created.webhook.url);
                if let Some(list) = self.hooks.loaded_mut() {
                    list.push(created.webhook);
                    self.hooks.selected = list.len() - 1;
                }
                if self.editor.as_ref().is_some_and(|e| e.pending == Some(id)) {
                    self.editor = None;
                }
                ok(cx);
                self.show_secret("Webhook created", &host, created.secret, cx);
            }
            WebhookResponse::Rotated(Ok(rotated)) => {
                let host = url_host(&rotated.webhook.url);
                self.replace_hook(rotated.webhook);
                self.show_secret("New signing secret", &host, rotated.secret, cx);
            }
            WebhookResponse::Updated(Ok(hook)) => {
                if self.editor.as_ref().is_some_and(|e| e.pending == Some(id)) {
                    self.editor = None;
                }
                self.replace_hook(hook);
                ok(cx);
            }
            WebhookResponse::Created(Err(e)) | WebhookResponse::Rotated(Err(e))
                if self
                    .editor
                    .as_ref()
                    .is_some_and(|ed| ed.pending == Some(id)) =>
            {
                self.editor_failed(&e, cx)
            }
            WebhookResponse::Updated(Err(e))
                if self
                    .editor
                    .as_ref()
                    .is_some_and(|ed| ed.pending == Some(id)) =>
            {
                self.editor_failed(&e, cx)
            }
            WebhookResponse::Deleted(Ok(())) => {
                if let Some(gone) = flight.target {
                    self.hooks.retain(|h| h.id != gone);
                }
                if flight.target == self.endpoint {
                    self.screen = Screen::List;
                }
                ok(cx);
            }
            WebhookResponse::Tested(Ok(d)) | WebhookResponse::Replayed(Ok(d)) => {
                if self.endpoint == Some(d.webhook_id) {
                    if let Some(list) = self.deliveries.loaded_mut() {
                        match list.iter_mut().find(|x| x.id == d.id) {
                            Some(row) => *row = d.clone(),
                            None => list.insert(0, d.clone()),
                        }
                    }
                    if let Some(open) = self.detail.loaded_mut() {
                        if open.delivery.id == d.id {
                            open.delivery = d.clone();
                        }
                    }
                }
                if let Some(h) = self.hook_mut(Some(d.webhook_id)) {
                    h.last_delivery_status = Some(d.status);
                    h.last_delivery_at = Some(d.created_at);
                }
                ok(cx);
            }
            WebhookResponse::Deliveries(r) => {
                let next_page = flight.slot == Some(Slot::WebhookDeliveriesMore);
                if flight.target != self.endpoint {
                    return Vec::new();
                }
                let page = self
                    .deliveries
                    .arrived_page(&mut self.pager, r, next_page, |d| d.id);
                if let Some(e) = page {
                    fail(cx, &e);
                }
            }
            WebhookResponse::Delivery(r) => {
                self.detail = match r {
                    Ok(d) => Load::Loaded(d),
                    Err(e) => Load::Failed(e.message()),
                };
            }
            WebhookResponse::Created(Err(e))
            | WebhookResponse::Rotated(Err(e))
            | WebhookResponse::Updated(Err(e))
            | WebhookResponse::Deleted(Err(e))
            | WebhookResponse::Tested(Err(e))
            | WebhookResponse::Replayed(Err(e)) => fail(cx, &e),
        }
        Vec::new()
    }

    fn editor_failed(&mut self, e: &crate::api::ApiError, cx: &mut Cx<'_>) {
        if let Some(editor) = &mut self.editor {
            editor.pending = None;
            match e.problem() {
                Some(p) => editor.apply_problem(p),
                None => editor.failure = Some(e.message()),
            }
        }
        cx.toast(Toast::error(e.message()));
    }
}

/// Takes the state of a delivery from a live event, keeping the attempts
/// already known and adding the new one.
fn merge(row: &mut WebhookDelivery, after: &WebhookDelivery, attempt: Option<&WebhookAttempt>) {
    let attempts = std::mem::take(&mut row.attempts);
    *row = WebhookDelivery {
        attempts,
        ..after.clone()
    };
    if let Some(a) = attempt {
        if !row.attempts.contains(a) {
            row.attempts.push(a.clone());
        }
    }
}
