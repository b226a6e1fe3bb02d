//! The analytics view: how the current tenant, or for platform admins every
//! tenant together, did over the last 7, 30 or 90 days. Shown in the Leads
//! pane instead of the list while open; for one tenant, its funnel too.

mod funnel;
mod pane;

use chrono::{DateTime, Duration, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use uuid::Uuid;

use crate::console::action::Action;
use crate::console::component::{Component, Cx, Shared};
use crate::console::effect::{Effect, Request, RequestId};
use crate::console::keymap::Context;
use crate::console::request::Response;
use crate::console::state::{InFlight, Load, Slot};
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
    open: bool,
    /// The current tenant the figures were asked for (also kept in the
    /// all-tenants scope, so a switch of tenant is noticed).
    tenant: Option<Uuid>,
    scope: AnalyticsScope,
    days: u32,
    data: Load<Analytics>,
    /// The funnel is shown instead of the chart and the breakdowns.
    funnel: bool,
}

impl Default for AnalyticsView {
    fn default() -> Self {
        Self {
            open: false,
            tenant: None,
            scope: AnalyticsScope::Tenant,
            days: 30,
            data: Load::Idle,
            funnel: false,
        }
    }
}

impl AnalyticsView {
    pub fn is_open(&self) -> bool {
        self.open
    }

    pub fn days(&self) -> u32 {
        self.days
    }

    pub fn scope(&self) -> AnalyticsScope {
        self.scope
    }

    pub fn data(&self) -> &Load<Analytics> {
        &self.data
    }

    /// Whether the funnel is shown (when the figures have one).
    pub fn shows_funnel(&self) -> bool {
        self.funnel && self.has_funnel()
    }

    /// One tenant's figures carry a funnel; all tenants' do not.
    fn has_funnel(&self) -> bool {
        self.data.loaded().is_some_and(|a| a.conversion.is_some())
    }

    /// Another view takes the Leads pane.
    pub fn close(&mut self) {
        self.open = false;
    }

    /// Opens the view and (re)loads it; the router shows the Leads pane.
    pub(crate) fn open(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        self.open = true;
        self.load(cx)
    }

    /// The last `days` UTC days up to `now`, as the server counts them.
    pub fn query(&self, now: DateTime<Utc>) -> AnalyticsQuery {
        let to = now.date_naive();
        let from = to - Duration::days(i64::from(self.days) - 1);
        AnalyticsQuery {
            from: Some(from),
            to: Some(to),
        }
    }

    fn load(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let Some(tenant) = cx.session.current_tenant else {
            return Vec::new();
        };
        // Only platform admins are offered the other scope; should the
        // profile say otherwise later, fall back to the tenant.
        if !cx.session.is_platform_admin() {
            self.scope = AnalyticsScope::Tenant;
        }
        if self.tenant != Some(tenant) || !matches!(self.data, Load::Loaded(_)) {
            self.data = Load::Loading;
        }
        self.tenant = Some(tenant);
        let query = self.query(cx.now);
        let (req, about) = match self.scope {
            AnalyticsScope::Tenant => (
                Request::Analytics {
                    tenant: tenant.to_string(),
                    query,
                },
                Some(tenant),
            ),
            AnalyticsScope::AllTenants => (Request::PlatformAnalytics { query }, None),
        };
        cx.send_about(
            req,
            Some(Slot::Analytics),
            "",
            "Could not load the analytics",
            about,
            None,
        )
    }

    /// A new current tenant while the view is shown reloads it.
    pub(crate) fn follow_tenant(&mut self, shown: bool, cx: &mut Cx<'_>) -> Vec<Effect> {
        let current = cx.session.current_tenant;
        if !(self.open && shown) || current.is_none() || self.tenant == current {
            return Vec::new();
        }
        // Figures across tenants do not depend on the current one.
        if self.scope == AnalyticsScope::AllTenants && cx.session.is_platform_admin() {
            self.tenant = current;
            return Vec::new();
        }
        self.load(cx)
    }
}

impl Component for AnalyticsView {
    fn contexts(&self, shared: &Shared<'_>) -> (Vec<Context>, bool) {
        let mut out = Vec::new();
        if self.data.is_failed() {
            out.push(Context::LoadError);
        }
        if shared.session.is_platform_admin() {
            out.push(Context::AnalyticsAdmin);
        }
        if self.has_funnel() {
            out.push(Context::AnalyticsFunnel);
        }
        out.extend([Context::Analytics, Context::Global]);
        (out, false)
    }

    fn update(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        match action {
            Action::NextPeriod => {
                let i = PERIODS.iter().position(|d| *d == self.days).unwrap_or(0);
                self.days = PERIODS[(i + 1) % PERIODS.len()];
                self.load(cx)
            }
            Action::SwitchScope if cx.session.is_platform_admin() => {
                self.scope = match self.scope {
                    AnalyticsScope::Tenant => AnalyticsScope::AllTenants,
                    AnalyticsScope::AllTenants => AnalyticsScope::Tenant,
                };
                self.data = Load::Loading;
                self.load(cx)
            }
            Action::Toggle if self.has_funnel() => {
                self.funnel = !self.funnel;
                Vec::new()
            }
            Action::Retry => self.load(cx),
            Action::Back => {
                self.open = false;
                cx.requests.forget(Slot::Analytics);
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn on_response(
        &mut self,
        _id: RequestId,
        flight: &InFlight,
        response: Response,
        _cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        let Response::Analytics(r) = response else {
            return Vec::new();
        };
        // All tenants' figures are asked about no tenant.
        let asked = match self.scope {
            AnalyticsScope::Tenant => self.tenant,
            AnalyticsScope::AllTenants => None,
        };
        if flight.tenant == asked {
            self.data = match r {
                Ok(a) => Load::Loaded(a),
                Err(e) => Load::Failed(e.message()),
            };
        }
        Vec::new()
    }

    fn render(&self, shared: &Shared<'_>, area: Rect, buf: &mut Buffer) {
        pane::render(self, shared, area, buf)
    }
}
