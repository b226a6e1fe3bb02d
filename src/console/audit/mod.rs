//! The audit view: the current tenant's audit log, newest first, narrowed
//! by actor, action prefix and resource, with each change's before/after.

mod when;

use uuid::Uuid;

pub use when::{When, FORMATS};

use crate::console::action::Action;
use crate::console::app::{App, FormPurpose, Load, OpenForm, Pane, Slot};
use crate::console::effect::{Effect, Request};
use crate::console::paging::{append_new, Pager};
use crate::console::widgets::form::Field;
use crate::console::widgets::toast::Toast;
use crate::domain::{AuditEvent, AuditFilter, Page};

/// Events per request; later pages load as the selection nears the end.
pub const AUDIT_PAGE: u32 = 100;

#[derive(Debug, Clone, Default)]
pub struct AuditView {
    /// Shown in the Leads pane instead of the list.
    pub open: bool,
    pub tenant: Option<Uuid>,
    /// The filter the loaded pages answer, its time bounds resolved.
    pub filter: AuditFilter,
    /// The time bounds as typed ("24h", "2026-11-01"): a relative one is
    /// measured again from now each time the first page is asked for.
    pub from: String,
    pub to: String,
    pub events: Load<Vec<AuditEvent>>,
    /// The next page's cursor, and whether it is being fetched.
    pub pager: Pager,
    pub selected: usize,
}

impl AuditView {
    pub fn selected_event(&self) -> Option<&AuditEvent> {
        self.events.loaded()?.get(self.selected)
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

impl App {
    pub(crate) fn open_audit(&mut self) -> Vec<Effect> {
        self.pane = Pane::Leads;
        self.leads.detail = None;
        self.approvals.open = false;
        self.analytics.close();
        self.audit.open = true;
        self.load_audit()
    }

    /// Asks for the first page under the filter; later pages append.
    pub(crate) fn load_audit(&mut self) -> Vec<Effect> {
        let Some(tenant) = self.session.current_tenant else {
            return Vec::new();
        };
        let now = self.now;
        let v = &mut self.audit;
        if v.tenant != Some(tenant) {
            v.filter = AuditFilter::default();
            v.from.clear();
            v.to.clear();
            v.selected = 0;
        }
        v.tenant = Some(tenant);
        v.events = Load::Loading;
        // The texts were checked when the filter was applied.
        let bound = |text: &str, upper| {
            When::parse(text)
                .ok()
                .flatten()
                .map(|w| w.resolve(now, upper))
        };
        v.filter.from = bound(&v.from, false);
        v.filter.to = bound(&v.to, true);
        // A next page of the previous list must not be appended to this one.
        v.pager.restart();
        self.requests.latest.remove(&Slot::AuditMore);
        self.send_about(
            Request::Audit {
                tenant: tenant.to_string(),
                filter: self.audit.filter.clone(),
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
    fn maybe_load_more_audit(&mut self) -> Vec<Effect> {
        let v = &mut self.audit;
        let (Some(tenant), Some(rows)) = (v.tenant, v.events.loaded().map(Vec::len)) else {
            return Vec::new();
        };
        let Some(cursor) = v.pager.due(v.selected, rows) else {
            return Vec::new();
        };
        self.send_about(
            Request::Audit {
                tenant: tenant.to_string(),
                filter: self.audit.filter.clone(),
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

    /// A new current tenant while the view is open reloads it.
    pub(crate) fn sync_audit(&mut self) -> Vec<Effect> {
        let open = self.audit.open && self.pane == Pane::Leads;
        if open
            && self.session.current_tenant.is_some()
            && self.audit.tenant != self.session.current_tenant
        {
            return self.load_audit();
        }
        Vec::new()
    }

    pub(crate) fn update_audit(&mut self, action: Action) -> Vec<Effect> {
        let rows = self.audit.events.loaded().map_or(0, Vec::len);
        let v = &mut self.audit;
        match action {
            Action::Up => v.selected = v.selected.saturating_sub(1),
            Action::Down => v.selected = (v.selected + 1).min(rows.saturating_sub(1)),
            Action::Top => v.selected = 0,
            Action::Bottom => v.selected = rows.saturating_sub(1),
            Action::Filter => {
                if let Some(t) = v.tenant {
                    self.open_form(FormPurpose::AuditFilter(t));
                }
                return Vec::new();
            }
            Action::Retry => return self.load_audit(),
            Action::Back => {
                v.open = false;
                self.requests.latest.remove(&Slot::Audit);
                self.requests.latest.remove(&Slot::AuditMore);
                v.pager.restart();
                return Vec::new();
            }
            _ => return Vec::new(),
        }
        self.maybe_load_more_audit()
    }

    pub(crate) fn audit_filter_fields(&self) -> (String, Vec<Field>) {
        let f = &self.audit.filter;
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        (
            "Filter the audit log".into(),
            vec![
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
                    &self.audit.from,
                    "2026-11-01, 2026-11-01 14:00 (UTC), or 24h / 7d ago",
                ),
                Field::line_with_placeholder(
                    "to",
                    "To",
                    &self.audit.to,
                    "empty: until now; a day counts to its end",
                ),
            ],
        )
    }

    /// Applying the filter form: nothing is saved, the log is asked again.
    /// A time that cannot be read keeps the form, with what was typed.
    pub(crate) fn submit_audit_filter(&mut self, open: &mut OpenForm) -> (Vec<Effect>, bool) {
        let text = |open: &OpenForm, name: &str| open.form.value(name).trim().to_string();
        let (from, to) = (text(open, "from"), text(open, "to"));
        open.form.clear_errors();
        let (from_at, to_at) = (When::parse(&from), When::parse(&to));
        for (name, parsed) in [("from", &from_at), ("to", &to_at)] {
            if let Err(e) = parsed {
                open.form.set_error(name, *e, &self.theme);
                open.form.summary = Some(FORMATS.into());
            }
        }
        if let (Ok(Some(f)), Ok(Some(t))) = (from_at, to_at) {
            if f.resolve(self.now, false) >= t.resolve(self.now, true) {
                open.form
                    .set_error("to", "must be later than From", &self.theme);
            }
        }
        if open.form.fields.iter().any(|f| f.error.is_some()) {
            return (Vec::new(), true);
        }
        let opt = |s: String| (!s.is_empty()).then_some(s);
        self.audit.filter = AuditFilter {
            actor: opt(text(open, "actor")),
            action: opt(text(open, "action")),
            resource: opt(text(open, "resource")),
            ..AuditFilter::default()
        };
        self.audit.from = from;
        self.audit.to = to;
        self.audit.selected = 0;
        (self.load_audit(), false)
    }

    pub(crate) fn on_audit(
        &mut self,
        flight: &crate::console::app::InFlight,
        r: crate::api::ApiResult<Page<AuditEvent>>,
    ) {
        let v = &mut self.audit;
        if flight.tenant != v.tenant {
            return;
        }
        let next_page = flight.slot == Some(Slot::AuditMore);
        match r {
            Ok(page) => {
                v.pager.on_page(page.next_cursor);
                if next_page {
                    if let Some(list) = v.events.loaded_mut() {
                        append_new(list, page.items, |e| e.id);
                    }
                } else {
                    v.selected = v.selected.min(page.items.len().saturating_sub(1));
                    v.events = Load::Loaded(page.items);
                }
            }
            // The rows already shown stay; the next move asks again.
            Err(e) if next_page => {
                v.pager.failed();
                self.toast(Toast::error(format!("{}: {}", flight.fail, e.message())));
            }
            Err(e) => v.events = Load::Failed(e.message()),
        }
    }
}
