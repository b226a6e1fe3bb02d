//! The audit view: the current tenant's audit log, newest first, narrowed
//! by actor, action prefix and resource, with each change's before/after.

use uuid::Uuid;

use crate::console::action::Action;
use crate::console::app::{App, FormPurpose, Load, OpenForm, Pane, Slot};
use crate::console::effect::{Effect, Request};
use crate::console::widgets::form::Field;
use crate::domain::{AuditEvent, AuditFilter, Page};

/// Events per request; the view shows the newest page.
pub const AUDIT_PAGE: u32 = 100;

#[derive(Debug, Clone, Default)]
pub struct AuditView {
    /// Shown in the Leads pane instead of the list.
    pub open: bool,
    pub tenant: Option<Uuid>,
    pub filter: AuditFilter,
    pub events: Load<Vec<AuditEvent>>,
    /// More events exist than the page shows.
    pub more: bool,
    pub selected: usize,
}

impl AuditView {
    pub fn selected_event(&self) -> Option<&AuditEvent> {
        self.events.loaded()?.get(self.selected)
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
        self.analytics.open = false;
        self.audit.open = true;
        self.load_audit()
    }

    pub(crate) fn load_audit(&mut self) -> Vec<Effect> {
        let Some(tenant) = self.current_tenant else {
            return Vec::new();
        };
        if self.audit.tenant != Some(tenant) {
            self.audit.filter = AuditFilter::default();
            self.audit.selected = 0;
        }
        self.audit.tenant = Some(tenant);
        self.audit.events = Load::Loading;
        self.send_about(
            Request::Audit {
                tenant: tenant.to_string(),
                filter: self.audit.filter.clone(),
                limit: AUDIT_PAGE,
            },
            Some(Slot::Audit),
            "",
            "Could not load the audit log",
            Some(tenant),
            None,
        )
    }

    /// A new current tenant while the view is open reloads it.
    pub(crate) fn sync_audit(&mut self) -> Vec<Effect> {
        let open = self.audit.open && self.pane == Pane::Leads;
        if open && self.current_tenant.is_some() && self.audit.tenant != self.current_tenant {
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
            }
            Action::Retry => return self.load_audit(),
            Action::Back => {
                v.open = false;
                self.latest.remove(&Slot::Audit);
            }
            _ => {}
        }
        Vec::new()
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
            ],
        )
    }

    /// Applying the filter form: nothing is saved, the log is asked again.
    pub(crate) fn submit_audit_filter(&mut self, open: &OpenForm) -> (Vec<Effect>, bool) {
        let opt = |name: &str| {
            let s = open.form.value(name).trim().to_string();
            (!s.is_empty()).then_some(s)
        };
        self.audit.filter = AuditFilter {
            actor: opt("actor"),
            action: opt("action"),
            resource: opt("resource"),
            ..AuditFilter::default()
        };
        self.audit.selected = 0;
        (self.load_audit(), false)
    }

    pub(crate) fn on_audit(
        &mut self,
        tenant: Option<Uuid>,
        r: crate::api::ApiResult<Page<AuditEvent>>,
    ) {
        if tenant != self.audit.tenant {
            return;
        }
        match r {
            Ok(page) => {
                self.audit.more = page.next_cursor.is_some();
                self.audit.selected = self.audit.selected.min(page.items.len().saturating_sub(1));
                self.audit.events = Load::Loaded(page.items);
            }
            Err(e) => self.audit.events = Load::Failed(e.message()),
        }
    }
}
