//! The Leads feature: the lazily paged list of the current tenant's leads,
//! its server-side filter and debounced search, the open lead's detail (its
//! timeline, its newest workflow and the actions on it), the live lead
//! events, `:leads`, `:import` and `:export`, and the pure helpers (sort
//! order, filter match, SLA countdown) that update and render share.

mod batch;
mod bulk;
mod detail;
mod detail_pane;
mod events;
pub(crate) mod export_file;
mod flows;
mod forms;
mod memory;
mod pane;
mod queue;
mod replies;
mod run;
mod transfer;

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use uuid::Uuid;

pub(crate) use forms::{is_lead_form, submit};
pub use memory::LeadsMemory;
pub(crate) use replies::answers;
pub(crate) use transfer::perform;

use super::action::Action;
use super::component::{Component, Cx, Shared};
use super::effect::{Effect, RequestId};
use super::keymap::Context;
use super::paging::Pager;
use super::request::Response;
use super::state::{InFlight, Load};
use crate::domain::business_hours::Schedule;
use crate::domain::lead::sla_state;
use crate::domain::{Lead, LeadQuery, Member, SlaState, Tenant, TimelineEntry, Workflow};

/// Rows per page request; the server allows up to 200.
pub const PAGE_SIZE: u32 = 100;
/// Wait this long after the last keystroke before asking the server.
pub const DEBOUNCE_MS: u64 = 300;

/// Which leads the list shows, besides the free text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum LeadScope {
    #[default]
    All,
    Overdue,
    AtRisk,
    Stage(String),
    Mine,
    Spam,
}

impl LeadScope {
    /// How the pane title names it; `None` for the unfiltered list.
    pub fn label(&self) -> Option<String> {
        match self {
            LeadScope::All => None,
            LeadScope::Overdue => Some("overdue queue".into()),
            LeadScope::AtRisk => Some("at risk".into()),
            LeadScope::Stage(s) => Some(format!("stage {s}")),
            LeadScope::Mine => Some("mine".into()),
            LeadScope::Spam => Some("spam".into()),
        }
    }
}

/// The filter the server applies: a scope and the `/` text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LeadFilter {
    pub scope: LeadScope,
    pub q: String,
}

impl LeadFilter {
    pub fn is_empty(&self) -> bool {
        self.scope == LeadScope::All && self.q.trim().is_empty()
    }

    /// The query for one page. The default sort (open leads, soonest due
    /// first) is the order the list keeps; the overdue queue in that order
    /// is most overdue first.
    pub fn query(&self, cursor: Option<String>) -> LeadQuery {
        let mut q = LeadQuery {
            limit: Some(PAGE_SIZE),
            cursor,
            ..LeadQuery::default()
        };
        match &self.scope {
            LeadScope::All => {}
            LeadScope::Overdue => q.sla = Some("overdue".into()),
            LeadScope::AtRisk => q.sla = Some("at_risk".into()),
            LeadScope::Stage(s) => q.stage = Some(s.clone()),
            LeadScope::Mine => q.assignee = Some("me".into()),
            LeadScope::Spam => q.spam = Some(true),
        }
        let text = self.q.trim();
        if !text.is_empty() {
            q.q = Some(text.to_string());
        }
        q
    }

    /// Whether a lead pushed by the server belongs in this list. The text
    /// match approximates the server's (name, email, company, message).
    pub fn matches(&self, lead: &Lead, me: Option<Uuid>, now: DateTime<Utc>) -> bool {
        self.matches_scope(lead, me, now) && self.matches_text(lead)
    }

    pub fn matches_scope(&self, lead: &Lead, me: Option<Uuid>, now: DateTime<Utc>) -> bool {
        // The server hides spam everywhere but the spam list.
        if lead.spam != (self.scope == LeadScope::Spam) {
            return false;
        }
        match &self.scope {
            LeadScope::All | LeadScope::Spam => true,
            LeadScope::Overdue => live_sla(lead, now) == SlaState::Overdue,
            LeadScope::AtRisk => live_sla(lead, now) == SlaState::AtRisk,
            LeadScope::Stage(s) => &lead.stage == s,
            LeadScope::Mine => me.is_some() && lead.assignee_id == me,
        }
    }

    fn matches_text(&self, lead: &Lead) -> bool {
        let needle = self.q.trim().to_lowercase();
        if needle.is_empty() {
            return true;
        }
        [
            Some(lead.name.as_str()),
            lead.email.as_deref(),
            lead.company.as_deref(),
            Some(lead.message.as_str()),
        ]
        .into_iter()
        .flatten()
        .any(|s| s.to_lowercase().contains(&needle))
    }
}

/// The server's default order: open before answered, soonest due first.
pub fn sort_key(l: &Lead) -> (bool, DateTime<Utc>, Uuid) {
    (l.first_response_at.is_some(), l.sla_due_at, l.id)
}

pub fn cmp_leads(a: &Lead, b: &Lead) -> Ordering {
    sort_key(a).cmp(&sort_key(b))
}

/// The SLA state at `now`: the server's value is as of when it was read.
pub fn live_sla(l: &Lead, now: DateTime<Utc>) -> SlaState {
    sla_state(l.sla_at_risk_at, l.sla_due_at, l.first_response_at, now)
}

/// "2h 14m", "35m", "3d 4h": the largest two units.
pub fn short_duration(d: chrono::Duration) -> String {
    let mins = d.num_minutes().max(0);
    let (days, hours, m) = (mins / 1440, mins / 60 % 24, mins % 60);
    if days > 0 {
        format!("{days}d {hours}h")
    } else if hours > 0 {
        format!("{hours}h {m}m")
    } else {
        format!("{m}m")
    }
}

/// The clock a tenant's SLA countdowns run on: wall-clock hours, or its
/// opening hours (read once per frame) and, while it is closed, when they
/// start again: every countdown is paused until then.
#[derive(Debug, Clone, Default)]
pub struct SlaClock {
    schedule: Option<Schedule>,
    paused_until: Option<DateTime<Utc>>,
}

impl SlaClock {
    pub fn of(tenant: Option<&Tenant>, now: DateTime<Utc>) -> Self {
        let schedule = tenant.and_then(|t| t.settings.schedule());
        let paused_until = schedule.as_ref().and_then(|s| s.opens_at(now));
        Self {
            schedule,
            paused_until,
        }
    }

    /// When the paused clock starts again, in the tenant's time zone
    /// ("Mon 09:00"), while it is closed.
    pub fn paused_until(&self) -> Option<String> {
        let (s, at) = (self.schedule.as_ref()?, self.paused_until?);
        Some(s.local(at).format("%a %H:%M").to_string())
    }

    /// The SLA column: business time left, "until Mon 09:00" while the
    /// tenant is closed (the clock is paused), "overdue 35m", or "met".
    pub fn text(&self, l: &Lead, now: DateTime<Utc>) -> (SlaState, String) {
        let state = live_sla(l, now);
        let text = match state {
            SlaState::Met => "met".to_string(),
            SlaState::Overdue => format!("overdue {}", short_duration(now - l.sla_due_at)),
            SlaState::OnTrack | SlaState::AtRisk => match (&self.schedule, self.paused_until()) {
                (Some(_), Some(until)) => format!("until {until}"),
                (Some(s), None) => short_duration(s.between(now, l.sla_due_at)),
                (None, _) => short_duration(l.sla_due_at - now),
            },
        };
        (state, text)
    }

    /// The lead detail's SLA line: the countdown said in full.
    pub fn sentence(&self, l: &Lead, now: DateTime<Utc>) -> (SlaState, String) {
        let (state, short) = self.text(l, now);
        let running = matches!(state, SlaState::OnTrack | SlaState::AtRisk);
        let text = match (&self.schedule, self.paused_until()) {
            (Some(s), Some(until)) if running => format!(
                "paused until {until} (closed now); {} of business time left",
                short_duration(s.between(now, l.sla_due_at))
            ),
            (Some(_), None) if running => format!("{short} of business time left"),
            _ => short,
        };
        (state, text)
    }
}

/// The open lead: a copy kept fresh by replies and events, and its history.
#[derive(Debug, Clone)]
pub struct LeadDetail {
    pub lead: Lead,
    pub timeline: Load<Vec<TimelineEntry>>,
    /// First timeline entry shown.
    pub scroll: usize,
}

impl LeadDetail {
    fn new(lead: Lead) -> Self {
        Self {
            lead,
            timeline: Load::Loading,
            scroll: 0,
        }
    }
}

/// The list of the current tenant's leads, loaded a page at a time, and
/// the lead open over it.
#[derive(Debug, Clone, Default)]
pub struct LeadsView {
    /// The tenant the list belongs to; a different current tenant reloads.
    tenant: Option<Uuid>,
    /// The first page's state; later pages append to `items`.
    status: Load<()>,
    items: Vec<Lead>,
    /// The next page's cursor, and whether it is being fetched.
    pager: Pager,
    selected: usize,
    /// First row on screen, kept so the table scrolls like a pager and
    /// rendering never walks the rows it does not show.
    offset: usize,
    /// The filter the loaded list answers.
    filter: LeadFilter,
    /// The `/` text being typed, sent once typing pauses.
    draft: String,
    editing: bool,
    /// Bumped by every keystroke; only the newest timer sends.
    debounce: u64,
    detail: Option<LeadDetail>,
    /// The open lead and its newest workflow (`None`: it never had one).
    workflow: Option<(Uuid, Load<Option<Workflow>>)>,
    /// Each tenant's members, read once: the current tenant's when the list
    /// follows it, and the tenant of a lead opened from the all-tenants
    /// queue (its assignee picker offers its own members).
    members: HashMap<Uuid, Load<Vec<Member>>>,
    /// The list is the queue of every tenant the user may see rather than
    /// the current tenant's; `tenant` stays the current one.
    all_tenants: bool,
    /// The queue narrowed to these tenants (slugs), `:leads all tenant A,B`;
    /// empty: every tenant.
    only_tenants: Vec<String>,
    /// `o` widened the current tenant's list to the all-tenants queue (a
    /// user with several tenants), so leaving the overdue queue narrows it
    /// back.
    widened_by_overdue: bool,
    /// Tenant names as the queue's pages gave them, for the Tenant column.
    tenant_names: HashMap<Uuid, String>,
    /// The leads marked for a bulk action, and the last one marked (where
    /// a range starts).
    marked: HashSet<Uuid>,
    anchor: Option<Uuid>,
    /// Marked leads changed one request each (spam, delete), tallied.
    batch: Option<batch::Batch>,
}

impl LeadsView {
    /// The tenant whose leads are listed.
    pub fn tenant(&self) -> Option<Uuid> {
        self.tenant
    }

    /// Whether the list is the all-tenants queue.
    pub fn all_tenants(&self) -> bool {
        self.all_tenants
    }

    /// Whether the list shows leads of `tenant`: its own tenant's, or any
    /// in the all-tenants queue.
    pub(crate) fn shows(&self, tenant: Uuid) -> bool {
        self.all_tenants || self.tenant == Some(tenant)
    }

    /// A tenant's name: as the queue gave it, else as the session knows it.
    pub fn tenant_name(&self, id: Uuid, session: &super::session::Session) -> String {
        self.tenant_names
            .get(&id)
            .cloned()
            .or_else(|| session.tenant(id).map(|t| t.name.clone()))
            .unwrap_or_else(|| id.to_string().chars().take(8).collect())
    }

    /// The tenant a lead belongs to: the open lead's or a listed one's.
    pub(super) fn tenant_of(&self, lead: Uuid) -> Option<Uuid> {
        let open = self.detail.as_ref().filter(|d| d.lead.id == lead);
        open.map(|d| d.lead.tenant_id)
            .or_else(|| self.position(lead).map(|i| self.items[i].tenant_id))
            .or(self.tenant)
    }

    /// A tenant's members as last read.
    pub(super) fn members_of(&self, tenant: Uuid) -> Option<&Load<Vec<Member>>> {
        self.members.get(&tenant)
    }

    pub fn items(&self) -> &[Lead] {
        &self.items
    }

    pub fn selected(&self) -> usize {
        self.selected
    }

    pub fn selected_lead(&self) -> Option<&Lead> {
        self.items.get(self.selected)
    }

    pub fn position(&self, id: Uuid) -> Option<usize> {
        self.items.iter().position(|l| l.id == id)
    }

    pub fn filter(&self) -> &LeadFilter {
        &self.filter
    }

    /// The `/` filter has the focus.
    pub fn is_filtering(&self) -> bool {
        self.editing
    }

    /// The `/` text while it is being typed.
    pub fn search_draft(&self) -> Option<&str> {
        self.editing.then_some(self.draft.as_str())
    }

    /// The newest keystroke's number: the timer that may send the search.
    pub fn debounce(&self) -> u64 {
        self.debounce
    }

    pub fn detail(&self) -> Option<&LeadDetail> {
        self.detail.as_ref()
    }

    /// Whether `lead` is the one open.
    pub fn detail_is(&self, lead: Uuid) -> bool {
        self.detail.as_ref().is_some_and(|d| d.lead.id == lead)
    }

    /// The open lead's newest workflow as last read, if it is the one open.
    pub fn workflow(&self) -> Option<&Load<Option<Workflow>>> {
        let open = self.detail.as_ref()?.lead.id;
        self.workflow
            .as_ref()
            .filter(|(l, _)| *l == open)
            .map(|(_, w)| w)
    }

    /// Another view takes the Leads pane.
    pub fn close_detail(&mut self) {
        self.detail = None;
    }

    /// How a member is shown in a narrow column: the name, else the email.
    pub fn member_label(&self, id: Uuid) -> Option<&str> {
        self.members
            .values()
            .filter_map(Load::loaded)
            .flatten()
            .find(|m| m.user_id == id)
            .map(|m| {
                if m.name.trim().is_empty() {
                    m.email.as_str()
                } else {
                    m.name.as_str()
                }
            })
    }

    /// Keeps the selection on screen for a body of `rows` lines.
    fn scroll_into_view(&mut self, rows: usize) {
        let rows = rows.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + rows {
            self.offset = self.selected + 1 - rows;
        }
        self.offset = self.offset.min(self.items.len().saturating_sub(1));
    }

    /// The terminal changed size: the selection stays on screen.
    pub(crate) fn on_resize(&mut self, cx: &Cx<'_>) {
        self.scroll_into_view(flows::page_rows(cx));
    }

    /// Inserts or replaces a lead in its sorted place, keeping the selection
    /// (and the rows on screen) on the same lead. A lead that sorts after the
    /// loaded part while more pages exist is left for those pages.
    fn upsert(&mut self, lead: Lead) -> bool {
        if let Some(i) = self.position(lead.id) {
            self.items[i] = lead;
            return true;
        }
        let at = self
            .items
            .partition_point(|x| cmp_leads(x, &lead) == Ordering::Less);
        if at == self.items.len() && self.pager.more() {
            return false;
        }
        self.items.insert(at, lead);
        // At the head of the queue the selection follows the head (the most
        // urgent lead); anywhere else it stays on the lead it was on.
        if at <= self.selected && self.selected > 0 {
            self.selected += 1;
            // Above the screen: keep the same rows in view.
            if at < self.offset {
                self.offset += 1;
            }
        }
        true
    }

    fn remove(&mut self, id: Uuid) -> bool {
        let Some(i) = self.position(id) else {
            return false;
        };
        self.items.remove(i);
        if i < self.selected {
            self.selected -= 1;
        }
        if i < self.offset {
            self.offset -= 1;
        }
        self.selected = self.selected.min(self.items.len().saturating_sub(1));
        true
    }
}

impl Component for LeadsView {
    fn contexts(&self, _shared: &Shared<'_>) -> (Vec<Context>, bool) {
        if self.editing {
            return (vec![Context::FilterInput], true);
        }
        let mut out = Vec::new();
        if self.detail.is_some() {
            out.push(Context::LeadDetail);
        } else {
            if self.status.is_failed() {
                out.push(Context::LoadError);
            }
            // The all-tenants queue's own keys (how to narrow it) come
            // before the list's.
            if self.all_tenants {
                out.push(Context::LeadQueue);
            }
            out.push(Context::LeadList);
        }
        out.push(Context::Global);
        (out, false)
    }

    fn update(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        self.update_list(action, cx)
    }

    fn on_response(
        &mut self,
        id: RequestId,
        flight: &InFlight,
        response: Response,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        self.apply(id, flight, response, cx)
    }

    fn render(&self, shared: &Shared<'_>, area: Rect, buf: &mut Buffer) {
        match &self.detail {
            Some(d) => detail_pane::render(self, d, shared, area, buf),
            None => pane::render(self, shared, area, buf),
        }
    }
}
