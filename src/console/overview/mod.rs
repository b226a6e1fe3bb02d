//! The platform overview: every client tenant's month at a glance, sortable
//! by column; the operator's morning screen.

pub(crate) mod keys;

use std::cmp::Ordering;

use crate::console::action::Action;
use crate::console::app::{App, Load, Pane, Slot};
use crate::console::effect::{Effect, Request};
use crate::console::widgets::toast::Toast;
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
}

impl OverviewColumn {
    pub const ALL: [OverviewColumn; 6] = [
        OverviewColumn::Name,
        OverviewColumn::Tier,
        OverviewColumn::Usage,
        OverviewColumn::SlaMet,
        OverviewColumn::Overdue,
        OverviewColumn::Awaiting,
    ];

    pub fn title(self) -> &'static str {
        match self {
            OverviewColumn::Name => "Tenant",
            OverviewColumn::Tier => "Tier",
            OverviewColumn::Usage => "Leads/limit",
            OverviewColumn::SlaMet => "SLA met",
            OverviewColumn::Overdue => "Overdue",
            OverviewColumn::Awaiting => "Awaiting",
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
    /// Shown in the Tenants pane instead of the table.
    pub open: bool,
    pub list: Load<Vec<TenantOverview>>,
    pub selected: usize,
    pub sort: OverviewColumn,
    pub descending: bool,
}

impl OverviewView {
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
}

impl App {
    /// Opens the overview in the Tenants pane and (re)loads it.
    pub(crate) fn open_overview(&mut self) -> Vec<Effect> {
        self.pane = Pane::Tenants;
        self.tenants.close_detail();
        self.overview.open = true;
        if !matches!(self.overview.list, Load::Loaded(_)) {
            // Worst first: the most overdue tenant tops the table.
            self.overview.sort = OverviewColumn::Overdue;
            self.overview.descending = true;
        }
        self.load_overview()
    }

    fn load_overview(&mut self) -> Vec<Effect> {
        if !matches!(self.overview.list, Load::Loaded(_)) {
            self.overview.list = Load::Loading;
        }
        self.send(
            Request::PlatformOverview,
            Some(Slot::Overview),
            "",
            "Could not load the platform overview",
        )
    }

    pub(crate) fn update_overview(&mut self, action: Action) -> Vec<Effect> {
        let rows = self.overview.rows().len();
        let v = &mut self.overview;
        match action {
            Action::Up => v.selected = v.selected.saturating_sub(1),
            Action::Down => v.selected = (v.selected + 1).min(rows.saturating_sub(1)),
            Action::Top => v.selected = 0,
            Action::Bottom => v.selected = rows.saturating_sub(1),
            Action::SortNext => v.resort(|v| {
                v.sort = v.sort.next();
                // Names read best A to Z; figures worst (largest) first.
                v.descending = v.sort != OverviewColumn::Name;
            }),
            Action::SortFlip => v.resort(|v| v.descending = !v.descending),
            Action::Back => {
                v.open = false;
                self.requests.latest.remove(&Slot::Overview);
            }
            Action::Retry => return self.load_overview(),
            Action::Open => {
                let Some(id) = v.selected_row().map(|t| t.tenant_id) else {
                    return Vec::new();
                };
                match self.session.tenant(id).cloned() {
                    Some(t) => {
                        self.overview.open = false;
                        self.switch_to(&t);
                        self.pane = Pane::Leads;
                        self.approvals.open = false;
                        self.leads.detail = None;
                    }
                    None => self.toast(Toast::error("That tenant is not in your list yet")),
                }
            }
            _ => {}
        }
        Vec::new()
    }

    pub(crate) fn on_overview(&mut self, r: crate::api::ApiResult<Vec<TenantOverview>>) {
        self.overview.list = match r {
            Ok(list) => Load::Loaded(list),
            Err(e) => Load::Failed(e.message()),
        };
        let rows = self.overview.rows().len();
        self.overview.selected = self.overview.selected.min(rows.saturating_sub(1));
    }
}
