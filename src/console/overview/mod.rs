//! The platform overview: every client tenant's month at a glance, sortable
//! by column; the operator's morning screen. Shown in the Tenants pane
//! instead of the table while open.

pub(crate) mod keys;
mod pane;

use std::cmp::Ordering;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use uuid::Uuid;

use crate::console::action::Action;
use crate::console::component::{Component, Cx, Shared};
use crate::console::effect::{Effect, Request, RequestId};
use crate::console::keymap::Context;
use crate::console::panes::{screen_contexts, step};
use crate::console::request::Response;
use crate::console::state::{InFlight, Load, Slot};
use crate::domain::TenantOverview;

/// The columns the table sorts by, in the order the sort key cycles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OverviewColumn {
    Name,
    Tier,
    /// This month's leads against the limit, as a share of it.
    Usage,
    SlaMet,
    /// The morning question: who is behind right now.
    #[default]
    Overdue,
    Awaiting,
    /// Signed-in API calls today (UTC).
    Calls,
    /// Model tokens today (UTC).
    Tokens,
}

impl OverviewColumn {
    pub const ALL: [OverviewColumn; 8] = [
        OverviewColumn::Name,
        OverviewColumn::Tier,
        OverviewColumn::Usage,
        OverviewColumn::SlaMet,
        OverviewColumn::Overdue,
        OverviewColumn::Awaiting,
        OverviewColumn::Calls,
        OverviewColumn::Tokens,
    ];

    pub fn title(self) -> &'static str {
        match self {
            OverviewColumn::Name => "Tenant",
            OverviewColumn::Tier => "Tier",
            OverviewColumn::Usage => "Leads",
            OverviewColumn::SlaMet => "SLA met",
            OverviewColumn::Overdue => "Overdue",
            OverviewColumn::Awaiting => "Awaiting",
            OverviewColumn::Calls => "Calls",
            OverviewColumn::Tokens => "Tokens",
        }
    }

    fn next(self) -> Self {
        let i = Self::ALL.iter().position(|c| *c == self).unwrap_or(0);
        Self::ALL[(i + 1) % Self::ALL.len()]
    }

    /// Ascending order by this column; ties by name, so the order is stable.
    fn cmp(self, a: &TenantOverview, b: &TenantOverview) -> Ordering {
        let by = match self {
            OverviewColumn::Name => Ordering::Equal,
            OverviewColumn::Tier => a.tier.as_str().cmp(b.tier.as_str()),
            OverviewColumn::Usage => usage_share(a).total_cmp(&usage_share(b)),
            // No decided lead yet sorts below every percentage.
            OverviewColumn::SlaMet => a
                .sla_met_percent
                .unwrap_or(-1.0)
                .total_cmp(&b.sla_met_percent.unwrap_or(-1.0)),
            OverviewColumn::Overdue => a.overdue_now.cmp(&b.overdue_now),
            OverviewColumn::Awaiting => a.awaiting_approval.cmp(&b.awaiting_approval),
            OverviewColumn::Calls => a.usage_today.api_calls.cmp(&b.usage_today.api_calls),
            OverviewColumn::Tokens => a.usage_today.tokens().cmp(&b.usage_today.tokens()),
        };
        by.then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
    }
}

/// The month's leads as a share of the limit; 0 without a limit.
pub fn usage_share(t: &TenantOverview) -> f64 {
    match t.lead_limit {
        Some(l) if l > 0 => f64::from(t.leads_this_month) / f64::from(l),
        _ => 0.0,
    }
}

#[derive(Debug, Clone, Default)]
pub struct OverviewView {
    open: bool,
    list: Load<Vec<TenantOverview>>,
    selected: usize,
    sort: OverviewColumn,
    descending: bool,
}

impl OverviewView {
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Another view takes the Tenants pane.
    pub fn close(&mut self) {
        self.open = false;
    }

    pub fn sort(&self) -> OverviewColumn {
        self.sort
    }

    /// The rows in the chosen order.
    pub fn rows(&self) -> Vec<&TenantOverview> {
        let mut rows: Vec<&TenantOverview> = self
            .list
            .loaded()
            .map_or(Vec::new(), |l| l.iter().collect());
        rows.sort_by(|a, b| {
            let o = self.sort.cmp(a, b);
            if self.descending {
                o.reverse()
            } else {
                o
            }
        });
        rows
    }

    pub fn selected_row(&self) -> Option<&TenantOverview> {
        self.rows().get(self.selected).copied()
    }

    /// The tenant `enter` goes to; the router switches to it and closes
    /// the overview.
    pub fn chosen(&self, action: &Action) -> Option<Uuid> {
        (self.open && *action == Action::Open)
            .then(|| self.selected_row().map(|t| t.tenant_id))
            .flatten()
    }

    /// Re-sorts, keeping the selection on the same tenant.
    fn resort(&mut self, change: impl FnOnce(&mut Self)) {
        let keep = self.selected_row().map(|t| t.tenant_id);
        change(self);
        if let Some(id) = keep {
            self.selected = self
                .rows()
                .iter()
                .position(|t| t.tenant_id == id)
                .unwrap_or(0);
        }
    }

    /// Opens the overview and (re)loads it; the router shows the Tenants pane.
    pub(crate) fn open(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        self.open = true;
        if !matches!(self.list, Load::Loaded(_)) {
            // Worst first: the most overdue tenant tops the table.
            self.sort = OverviewColumn::Overdue;
            self.descending = true;
        }
        self.load(cx)
    }

    fn load(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        if !matches!(self.list, Load::Loaded(_)) {
            self.list = Load::Loading;
        }
        cx.send(
            Request::PlatformOverview,
            Some(Slot::Overview),
            "",
            "Could not load the platform overview",
        )
    }
}

impl Component for OverviewView {
    fn contexts(&self, _shared: &Shared<'_>) -> (Vec<Context>, bool) {
        screen_contexts(self.list.is_failed(), [Context::Overview])
    }

    fn update(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        let rows = self.rows().len();
        if step(&mut self.selected, &action, rows, cx.page_rows()) {
            return Vec::new();
        }
        match action {
            Action::SortNext => self.resort(|v| {
                v.sort = v.sort.next();
                // Names read best A to Z; figures worst (largest) first.
                v.descending = v.sort != OverviewColumn::Name;
            }),
            Action::SortFlip => self.resort(|v| v.descending = !v.descending),
            Action::Back => {
                self.open = false;
                cx.requests.forget(Slot::Overview);
            }
            Action::Retry => return self.load(cx),
            _ => {}
        }
        Vec::new()
    }

    fn on_response(
        &mut self,
        _id: RequestId,
        _flight: &InFlight,
        response: Response,
        _cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        if let Response::Overview(r) = response {
            self.list = match r {
                Ok(list) => Load::Loaded(list),
                Err(e) => Load::Failed(e.message()),
            };
            let rows = self.rows().len();
            self.selected = self.selected.min(rows.saturating_sub(1));
        }
        Vec::new()
    }

    fn render(&self, shared: &Shared<'_>, area: Rect, buf: &mut Buffer) {
        pane::render(self, shared, area, buf)
    }
}
