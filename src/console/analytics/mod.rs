//! The analytics view: how the current tenant, or for platform admins every
//! tenant together, did over the last 7, 30 or 90 days.

use chrono::Duration;
use uuid::Uuid;

use crate::console::action::Action;
use crate::console::app::{App, Load, Pane, Slot};
use crate::console::effect::{Effect, Request};
use crate::domain::{Analytics, AnalyticsQuery};

/// The periods the period key cycles through, in days.
pub const PERIODS: [u32; 3] = [7, 30, 90];

/// Whose figures the view shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AnalyticsScope {
    #[default]
    Tenant,
    /// Every tenant together (platform admins only).
    AllTenants,
}

#[derive(Debug, Clone)]
pub struct AnalyticsView {
    /// Shown in the Leads pane instead of the list.
    pub open: bool,
    /// The current tenant the figures were asked for (also kept in the
    /// all-tenants scope, so a switch of tenant is noticed).
    pub tenant: Option<Uuid>,
    pub scope: AnalyticsScope,
    pub days: u32,
    pub data: Load<Analytics>,
}

impl Default for AnalyticsView {
    fn default() -> Self {
        Self {
            open: false,
            tenant: None,
            scope: AnalyticsScope::Tenant,
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

    /// Whether the signed-in user sees figures across tenants.
    pub fn is_platform_admin(&self) -> bool {
        self.session.me.loaded().is_some_and(|m| m.platform_admin)
    }

    fn load_analytics(&mut self) -> Vec<Effect> {
        let Some(tenant) = self.session.current_tenant else {
            return Vec::new();
        };
        // Only platform admins are offered the other scope; should the
        // profile say otherwise later, fall back to the tenant.
        if !self.is_platform_admin() {
            self.analytics.scope = AnalyticsScope::Tenant;
        }
        let scope = self.analytics.scope;
        if self.analytics.tenant != Some(tenant) || !matches!(self.analytics.data, Load::Loaded(_))
        {
            self.analytics.data = Load::Loading;
        }
        self.analytics.tenant = Some(tenant);
        let query = self.analytics_query();
        let (req, about) = match scope {
            AnalyticsScope::Tenant => (
                Request::Analytics {
                    tenant: tenant.to_string(),
                    query,
                },
                Some(tenant),
            ),
            AnalyticsScope::AllTenants => (Request::PlatformAnalytics { query }, None),
        };
        self.send_about(
            req,
            Some(Slot::Analytics),
            "",
            "Could not load the analytics",
            about,
            None,
        )
    }

    /// A new current tenant while the view is open reloads it.
    pub(crate) fn sync_analytics(&mut self) -> Vec<Effect> {
        let open = self.analytics.open && self.pane == Pane::Leads;
        if !open
            || self.session.current_tenant.is_none()
            || self.analytics.tenant == self.session.current_tenant
        {
            return Vec::new();
        }
        // Figures across tenants do not depend on the current one.
        if self.analytics.scope == AnalyticsScope::AllTenants && self.is_platform_admin() {
            self.analytics.tenant = self.session.current_tenant;
            return Vec::new();
        }
        self.load_analytics()
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
            Action::SwitchScope if self.is_platform_admin() => {
                self.analytics.scope = match self.analytics.scope {
                    AnalyticsScope::Tenant => AnalyticsScope::AllTenants,
                    AnalyticsScope::AllTenants => AnalyticsScope::Tenant,
                };
                self.analytics.data = Load::Loading;
                self.load_analytics()
            }
            Action::Retry => self.load_analytics(),
            Action::Back => {
                self.analytics.open = false;
                self.requests.latest.remove(&Slot::Analytics);
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
        // All tenants' figures are asked about no tenant.
        let asked = match self.analytics.scope {
            AnalyticsScope::Tenant => self.analytics.tenant,
            AnalyticsScope::AllTenants => None,
        };
        if tenant != asked {
            return;
        }
        self.analytics.data = match r {
            Ok(a) => Load::Loaded(a),
            Err(e) => Load::Failed(e.message()),
        };
    }
}
