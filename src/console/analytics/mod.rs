//! The analytics view: how the current tenant did over the last 7, 30 or
//! 90 days.

use chrono::Duration;
use uuid::Uuid;

use crate::console::action::Action;
use crate::console::app::{App, Load, Pane, Slot};
use crate::console::effect::{Effect, Request};
use crate::domain::{Analytics, AnalyticsQuery};

/// The periods the period key cycles through, in days.
pub const PERIODS: [u32; 3] = [7, 30, 90];

#[derive(Debug, Clone)]
pub struct AnalyticsView {
    /// Shown in the Leads pane instead of the list.
    pub open: bool,
    pub tenant: Option<Uuid>,
    pub days: u32,
    pub data: Load<Analytics>,
}

impl Default for AnalyticsView {
    fn default() -> Self {
        Self {
            open: false,
            tenant: None,
            days: 30,
            data: Load::Idle,
        }
    }
}

impl App {
    pub(crate) fn open_analytics(&mut self) -> Vec<Effect> {
        self.pane = Pane::Leads;
        self.leads.detail = None;
        self.approvals.open = false;
        self.audit.open = false;
        self.analytics.open = true;
        self.load_analytics()
    }

    /// The last `days` UTC days up to today, as the server counts them.
    pub fn analytics_query(&self) -> AnalyticsQuery {
        let to = self.now.date_naive();
        let from = to - Duration::days(i64::from(self.analytics.days) - 1);
        AnalyticsQuery {
            from: Some(from),
            to: Some(to),
        }
    }

    fn load_analytics(&mut self) -> Vec<Effect> {
        let Some(tenant) = self.current_tenant else {
            return Vec::new();
        };
        if self.analytics.tenant != Some(tenant) || !matches!(self.analytics.data, Load::Loaded(_))
        {
            self.analytics.data = Load::Loading;
        }
        self.analytics.tenant = Some(tenant);
        let query = self.analytics_query();
        self.send_about(
            Request::Analytics {
                tenant: tenant.to_string(),
                query,
            },
            Some(Slot::Analytics),
            "",
            "Could not load the analytics",
            Some(tenant),
            None,
        )
    }

    /// A new current tenant while the view is open reloads it.
    pub(crate) fn sync_analytics(&mut self) -> Vec<Effect> {
        let open = self.analytics.open && self.pane == Pane::Leads;
        if open && self.current_tenant.is_some() && self.analytics.tenant != self.current_tenant {
            return self.load_analytics();
        }
        Vec::new()
    }

    pub(crate) fn update_analytics(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::NextPeriod => {
                let i = PERIODS
                    .iter()
                    .position(|d| *d == self.analytics.days)
                    .unwrap_or(0);
                self.analytics.days = PERIODS[(i + 1) % PERIODS.len()];
                self.load_analytics()
            }
            Action::Retry => self.load_analytics(),
            Action::Back => {
                self.analytics.open = false;
                self.latest.remove(&Slot::Analytics);
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    pub(crate) fn on_analytics(
        &mut self,
        tenant: Option<Uuid>,
        r: crate::api::ApiResult<Analytics>,
    ) {
        if tenant != self.analytics.tenant {
            return;
        }
        self.analytics.data = match r {
            Ok(a) => Load::Loaded(a),
            Err(e) => Load::Failed(e.message()),
        };
    }
}
