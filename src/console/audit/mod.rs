//! The audit view: the current tenant's audit log, newest first, narrowed
//! by actor, action prefix and resource, with each change's before/after.
//! Shown in the Leads pane instead of the list while open.

mod pane;
mod when;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use uuid::Uuid;

pub use when::{When, FORMATS};

use crate::console::action::Action;
use crate::console::component::{Component, Cx, Shared};
use crate::console::effect::{Effect, Request, RequestId};
use crate::console::keymap::Context;
use crate::console::paging::Pager;
use crate::console::panes::{screen_contexts, ListState};
use crate::console::request::Response;
use crate::console::state::{FormPurpose, InFlight, Load, Modal, OpenForm, Slot};
use crate::console::widgets::form::{Field, Form};
use crate::console::widgets::toast::Toast;
use crate::domain::{AuditEvent, AuditFilter};

/// Events per request; later pages load as the selection nears the end.
pub const AUDIT_PAGE: u32 = 100;

#[derive(Debug, Clone, Default)]
pub struct AuditView {
    open: bool,
    tenant: Option<Uuid>,
    /// The filter the loaded pages answer, its time bounds resolved.
    filter: AuditFilter,
    /// The time bounds as typed ("24h", "2026-11-01"): a relative one is
    /// measured again from now each time the first page is asked for.
    from: String,
    to: String,
    events: ListState<AuditEvent>,
    /// The next page's cursor, and whether it is being fetched.
    pager: Pager,
}

impl AuditView {
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Another view takes the Leads pane.
    pub fn close(&mut self) {
        self.open = false;
    }

    pub fn filter(&self) -> &AuditFilter {
        &self.filter
    }

    pub fn events(&self) -> &Load<Vec<AuditEvent>> {
        &self.events.items
    }

    pub fn selected(&self) -> usize {
        self.events.selected
    }

    pub fn selected_event(&self) -> Option<&AuditEvent> {
        self.events.selected_item()
    }

    /// "actor=ana · from=24h ago · to=2026-11-02": the active filter.
    pub fn filter_label(&self) -> String {
        let f = &self.filter;
        let mut parts: Vec<String> = [
            ("actor", &f.actor),
            ("action", &f.action),
            ("resource", &f.resource),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect();
        for (k, text) in [("from", &self.from), ("to", &self.to)] {
            match When::parse(text) {
                Ok(Some(When::Ago(_))) => parts.push(format!("{k}={} ago", text.trim())),
                Ok(Some(_)) => parts.push(format!("{k}={}", text.trim())),
                _ => {}
            }
        }
        parts.join(" · ")
    }

    /// Opens the log and loads its first page; the router shows the Leads pane.
    pub(crate) fn open(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        self.open = true;
        self.load(cx)
    }

    /// Asks for the first page under the filter; later pages append.
    fn load(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let Some(tenant) = cx.session.current_tenant else {
            return Vec::new();
        };
        let now = cx.now;
        if self.tenant != Some(tenant) {
            self.filter = AuditFilter::default();
            self.from.clear();
            self.to.clear();
            self.events.selected = 0;
        }
        self.tenant = Some(tenant);
        self.events.reloading();
        // The texts were checked when the filter was applied.
        let bound = |text: &str, upper| {
            When::parse(text)
                .ok()
                .flatten()
                .map(|w| w.resolve(now, upper))
        };
        self.filter.from = bound(&self.from, false);
        self.filter.to = bound(&self.to, true);
        // A next page of the previous list must not be appended to this one.
        self.pager.restart();
        cx.requests.forget(Slot::AuditMore);
        cx.send_about(
            Request::Audit {
                tenant: tenant.to_string(),
                filter: self.filter.clone(),
                limit: AUDIT_PAGE,
                cursor: None,
            },
            Some(Slot::Audit),
            "",
            "Could not load the audit log",
            Some(tenant),
            None,
        )
    }

    /// Asks for the next page when the selection nears the loaded end.
    fn maybe_load_more(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let (Some(tenant), Some(rows)) = (self.tenant, self.events.loaded().map(Vec::len)) else {
            return Vec::new();
        };
        let Some(cursor) = self.pager.due(self.events.selected, rows) else {
            return Vec::new();
        };
        cx.send_about(
            Request::Audit {
                tenant: tenant.to_string(),
                filter: self.filter.clone(),
                limit: AUDIT_PAGE,
                cursor: Some(cursor),
            },
            Some(Slot::AuditMore),
            "",
            "Could not load more of the audit log",
            Some(tenant),
            None,
        )
    }

    /// A new current tenant while the log is shown reloads it.
    pub(crate) fn follow_tenant(&mut self, shown: bool, cx: &mut Cx<'_>) -> Vec<Effect> {
        if self.open && shown && cx.session.moved_from(self.tenant) {
            return self.load(cx);
        }
        Vec::new()
    }

    fn filter_form(&self, tenant: Uuid, cx: &Cx<'_>) -> Box<OpenForm> {
        let f = &self.filter;
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        let fields = vec![
            Field::line_with_placeholder("actor", "Actor", &v(&f.actor), "part of an email"),
            Field::line_with_placeholder("action", "Action", &v(&f.action), "e.g. lead."),
            Field::line_with_placeholder(
                "resource",
                "Resource",
                &v(&f.resource),
                "e.g. lead, tenant, api_key",
            ),
            Field::line_with_placeholder(
                "from",
                "From",
                &self.from,
                "2026-11-01, 2026-11-01 14:00 (UTC), or 24h / 7d ago",
            ),
            Field::line_with_placeholder(
                "to",
                "To",
                &self.to,
                "empty: until now; a day counts to its end",
            ),
        ];
        Box::new(OpenForm {
            form: Form::new("Filter the audit log", fields, cx.theme),
            purpose: FormPurpose::AuditFilter(tenant),
            pending: None,
        })
    }

    /// Applying the filter form: nothing is saved, the log is asked again.
    /// A time that cannot be read keeps the form, with what was typed.
    pub(crate) fn submit_filter(
        &mut self,
        open: &mut OpenForm,
        cx: &mut Cx<'_>,
    ) -> (Vec<Effect>, bool) {
        let text = |open: &OpenForm, name: &str| open.form.value(name).trim().to_string();
        let (from, to) = (text(open, "from"), text(open, "to"));
        open.form.clear_errors();
        let (from_at, to_at) = (When::parse(&from), When::parse(&to));
        for (name, parsed) in [("from", &from_at), ("to", &to_at)] {
            if let Err(e) = parsed {
                open.form.set_error(name, *e, cx.theme);
                open.form.summary = Some(FORMATS.into());
            }
        }
        if let (Ok(Some(f)), Ok(Some(t))) = (from_at, to_at) {
            if f.resolve(cx.now, false) >= t.resolve(cx.now, true) {
                open.form
                    .set_error("to", "must be later than From", cx.theme);
            }
        }
        if open.form.fields.iter().any(|f| f.error.is_some()) {
            return (Vec::new(), true);
        }
        let opt = |s: String| (!s.is_empty()).then_some(s);
        self.filter = AuditFilter {
            actor: opt(text(open, "actor")),
            action: opt(text(open, "action")),
            resource: opt(text(open, "resource")),
            ..AuditFilter::default()
        };
        self.from = from;
        self.to = to;
        self.events.selected = 0;
        (self.load(cx), false)
    }
}

impl Component for AuditView {
    fn contexts(&self, _shared: &Shared<'_>) -> (Vec<Context>, bool) {
        screen_contexts(self.events.is_failed(), [Context::Audit])
    }

    fn update(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        if self.events.step(&action, cx.page_rows()) {
            return self.maybe_load_more(cx);
        }
        match action {
            Action::Filter => {
                if let Some(t) = self.tenant {
                    *cx.modal = Some(Modal::Form(self.filter_form(t, cx)));
                }
            }
            Action::Retry => return self.load(cx),
            Action::Back => {
                self.open = false;
                cx.requests.forget(Slot::Audit);
                cx.requests.forget(Slot::AuditMore);
                self.pager.restart();
            }
            _ => {}
        }
        Vec::new()
    }

    fn on_response(
        &mut self,
        _id: RequestId,
        flight: &InFlight,
        response: Response,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        let Response::Audit(r) = response else {
            return Vec::new();
        };
        if flight.tenant != self.tenant {
            return Vec::new();
        }
        let next_page = flight.slot == Some(Slot::AuditMore);
        if let Some(e) = self
            .events
            .arrived_page(&mut self.pager, r, next_page, |e| e.id)
        {
            cx.toast(Toast::error(format!("{}: {}", flight.fail, e.message())));
        }
        Vec::new()
    }

    fn render(&self, shared: &Shared<'_>, area: Rect, buf: &mut Buffer) {
        pane::render(self, shared, area, buf)
    }
}

/// "field: before → after" for an edit, "key: value" for anything else;
/// secrets never reach the log, so everything here can be shown.
pub fn change_lines(changes: &serde_json::Value) -> Vec<String> {
    let text = |v: Option<&serde_json::Value>| match v {
        None | Some(serde_json::Value::Null) => "—".to_string(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let (before, after) = (changes.get("before"), changes.get("after"));
    if let (Some(b), Some(serde_json::Value::Object(a))) = (before, after) {
        return a
            .iter()
            .map(|(k, v)| format!("{k}: {} → {}", text(b.get(k)), text(Some(v))))
            .collect();
    }
    match changes {
        serde_json::Value::Object(m) => m
            .iter()
            .map(|(k, v)| format!("{k}: {}", text(Some(v))))
            .collect(),
        serde_json::Value::Null => Vec::new(),
        other => vec![other.to_string()],
    }
}
