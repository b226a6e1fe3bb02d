//! The Evals screen (`:evals`): the current tenant's eval sets with their
//! last run's pass rate; a set's cases (written, edited, deleted, imported
//! from CSV/JSON) and its runs, newest first; starting a run against one or
//! two versions of an agent; a run side by side per version, differences
//! highlighted, updated live while it runs; one case's replies in full;
//! two runs compared. `E` on a lead or in the playground adds a case.
//! Shown in the Tenants pane, over the table or a tenant's detail.

mod forms;
pub mod keys;
mod pane;
pub mod requests;
mod responses;
mod run_pane;
mod screens;

use std::collections::HashMap;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use uuid::Uuid;

pub(crate) use forms::is_eval_form;
pub use forms::CaseFrom;
pub use requests::{execute, read_import, EvalRequest, EvalResponse, ImportBody};

use super::action::Action;
use super::component::{Component, Cx, Shared};
use super::effect::{Effect, Request, RequestId};
use super::keymap::Context;
use super::panes::{screen_contexts, ListState};
use super::request::Response;
use super::state::{Confirmable, InFlight, Load, Slot};
use super::widgets::toast::Toast;
use crate::domain::eval::{EvalComparison, EvalRun, EvalRunDetail, EvalSet, EvalSetDetail};

/// Which of the screen's views is shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Screen {
    #[default]
    Sets,
    /// One set's cases.
    Cases,
    /// One set's runs, newest first.
    Runs,
    /// One run, its versions side by side.
    Run,
    /// One case of the open run: every version's reply in full.
    Result,
    /// Two runs compared.
    Compare,
}

#[derive(Debug, Clone, Default)]
pub struct EvalsView {
    open: bool,
    /// Whose sets are shown.
    tenant: Option<Uuid>,
    screen: Screen,
    sets: ListState<EvalSet>,
    /// Each set's newest run, as far as it is known (`None`: never run).
    last_runs: HashMap<Uuid, Option<EvalRun>>,
    /// The set open, with its cases.
    set: Load<EvalSetDetail>,
    set_id: Option<Uuid>,
    case_selected: usize,
    runs: ListState<EvalRun>,
    /// A run marked to compare with another.
    marked: Option<Uuid>,
    run: Load<EvalRunDetail>,
    run_id: Option<Uuid>,
    row_selected: usize,
    /// Lines of the open case scrolled past.
    scroll: u16,
    compare: Load<EvalComparison>,
    compare_selected: usize,
    /// `E` on a lead or a playground message: the sets are being read
    /// for the form's picker.
    adding: Option<CaseFrom>,
    /// `s`: the agents are being read for the run form.
    starting: Option<Uuid>,
    /// Ticks since the open run was last asked for while it runs.
    since_poll: u8,
}

/// How many ticks (seconds) between two reads of a running run.
const POLL_TICKS: u8 = 2;

impl EvalsView {
    pub fn is_open(&self) -> bool {
        self.open
    }

    pub fn close(&mut self) {
        self.open = false;
    }

    pub fn screen(&self) -> Screen {
        self.screen
    }

    pub fn sets(&self) -> &Load<Vec<EvalSet>> {
        &self.sets.items
    }

    pub fn set(&self) -> &Load<EvalSetDetail> {
        &self.set
    }

    pub fn runs(&self) -> &Load<Vec<EvalRun>> {
        &self.runs.items
    }

    pub fn run(&self) -> &Load<EvalRunDetail> {
        &self.run
    }

    pub fn comparison(&self) -> &Load<EvalComparison> {
        &self.compare
    }

    pub fn selected_set(&self) -> Option<&EvalSet> {
        self.sets.selected_item()
    }

    pub fn selected_run(&self) -> Option<&EvalRun> {
        self.runs.selected_item()
    }

    /// The open set's name, for titles.
    fn set_name(&self) -> String {
        if let Some(d) = self.set.loaded() {
            return d.set.name.clone();
        }
        let id = self.set_id;
        self.sets
            .loaded()
            .and_then(|l| l.iter().find(|s| Some(s.id) == id))
            .map(|s| s.name.clone())
            .unwrap_or_default()
    }

    /// Opens the current tenant's sets (the router made the tenant
    /// current first).
    pub(crate) fn open(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        self.open = true;
        self.screen = Screen::Sets;
        self.load(cx)
    }

    /// The current tenant changed while the screen is open: show its own.
    pub(crate) fn follow_tenant(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        if !self.open || !cx.session.moved_from(self.tenant) {
            return Vec::new();
        }
        self.open(cx)
    }

    fn tenant_str(&self) -> Option<String> {
        self.tenant.map(|t| t.to_string())
    }

    pub(crate) fn send(
        &self,
        req: EvalRequest,
        slot: Option<Slot>,
        ok: &str,
        fail: &str,
        target: Option<Uuid>,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        cx.send_about(Request::Eval(req), slot, ok, fail, self.tenant, target)
    }

    /// Sends without turning the spinner: a background read.
    fn send_quiet(
        &self,
        req: EvalRequest,
        slot: Option<Slot>,
        target: Option<Uuid>,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        let out = self.send(req, slot, "", "", target, cx);
        let id = cx.requests.last_id();
        if let Some(f) = cx.requests.in_flight.get_mut(&id) {
            f.quiet = true;
        }
        out
    }

    fn load(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let Some(tenant) = cx.session.current_tenant else {
            return Vec::new();
        };
        if self.tenant != Some(tenant) {
            self.sets.reset();
            self.last_runs.clear();
            self.set_id = None;
            self.run_id = None;
            self.marked = None;
        }
        self.tenant = Some(tenant);
        self.sets.loading();
        let req = EvalRequest::Sets {
            tenant: tenant.to_string(),
        };
        self.send(
            req,
            Some(Slot::EvalSets),
            "",
            "Could not load the eval sets",
            None,
            cx,
        )
    }

    /// Each set's runs, read quietly for the list's "last run" column.
    fn load_last_runs(&self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let (Some(tenant), Some(sets)) = (self.tenant_str(), self.sets.loaded()) else {
            return Vec::new();
        };
        let ids: Vec<Uuid> = sets.iter().map(|s| s.id).collect();
        let mut out = Vec::new();
        for set in ids {
            let req = EvalRequest::Runs {
                tenant: tenant.clone(),
                set,
            };
            out.extend(self.send_quiet(req, None, Some(set), cx));
        }
        out
    }

    fn load_set(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let (Some(tenant), Some(set)) = (self.tenant_str(), self.set_id) else {
            return Vec::new();
        };
        if self.set.loaded().is_none_or(|d| d.set.id != set) {
            self.set = Load::Loading;
        }
        let req = EvalRequest::Set { tenant, set };
        self.send(
            req,
            Some(Slot::EvalSet),
            "",
            "Could not load the set",
            Some(set),
            cx,
        )
    }

    fn load_runs(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let (Some(tenant), Some(set)) = (self.tenant_str(), self.set_id) else {
            return Vec::new();
        };
        self.runs.loading();
        let req = EvalRequest::Runs { tenant, set };
        self.send(
            req,
            Some(Slot::EvalRuns),
            "",
            "Could not load the runs",
            Some(set),
            cx,
        )
    }

    fn load_run(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let (Some(tenant), Some(set), Some(run)) = (self.tenant_str(), self.set_id, self.run_id)
        else {
            return Vec::new();
        };
        if self.run.loaded().is_none_or(|d| d.run.id != run) {
            self.run = Load::Loading;
        }
        self.since_poll = 0;
        let req = EvalRequest::Run { tenant, set, run };
        self.send(
            req,
            Some(Slot::EvalRun),
            "",
            "Could not load the run",
            Some(run),
            cx,
        )
    }

    /// The open run, read again quietly (progress while it runs).
    fn refresh_run(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let (Some(tenant), Some(set), Some(run)) = (self.tenant_str(), self.set_id, self.run_id)
        else {
            return Vec::new();
        };
        if cx.requests.awaits(Slot::EvalRun) {
            return Vec::new();
        }
        self.since_poll = 0;
        let req = EvalRequest::Run { tenant, set, run };
        self.send_quiet(req, Some(Slot::EvalRun), Some(run), cx)
    }

    /// Whether the open run is still running (then it is followed).
    pub fn following(&self) -> bool {
        self.open
            && matches!(self.screen, Screen::Run | Screen::Result)
            && self
                .run
                .loaded()
                .is_some_and(|d| !d.run.status.is_finished())
    }

    /// The slow clock: a running run open on screen is read again every
    /// [`POLL_TICKS`] seconds, besides the progress events, so it moves
    /// even when the event stream is down.
    pub(crate) fn on_tick(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        if !self.following() {
            return Vec::new();
        }
        self.since_poll = self.since_poll.saturating_add(1);
        if self.since_poll < POLL_TICKS {
            return Vec::new();
        }
        self.refresh_run(cx)
    }

    /// A live `eval.progress` / `eval.finished` event: the run's row takes
    /// its progress, and the open run is read again.
    pub(crate) fn on_event(
        &mut self,
        tenant: Uuid,
        ev: &crate::domain::ServerEvent,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        if !self.open || self.tenant != Some(tenant) {
            return Vec::new();
        }
        let run = ev
            .data
            .get("run_id")
            .and_then(|v| v.as_str())
            .and_then(|s| Uuid::parse_str(s).ok());
        let Some(run) = run else {
            return Vec::new();
        };
        let done = ev.data.get("done").and_then(|v| v.as_u64());
        if let (Some(list), Some(done)) = (self.runs.loaded_mut(), done) {
            if let Some(r) = list.iter_mut().find(|r| r.id == run) {
                r.progress.done = done as u32;
            }
        }
        if ev.kind == "eval.finished" && self.runs.loaded().is_some() {
            let mut out = self.load_runs(cx);
            if self.run_id == Some(run) {
                out.extend(self.refresh_run(cx));
            }
            return out;
        }
        if self.run_id == Some(run) && matches!(self.screen, Screen::Run | Screen::Result) {
            return self.refresh_run(cx);
        }
        Vec::new()
    }

    fn open_set(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let Some(id) = self.selected_set().map(|s| s.id) else {
            return Vec::new();
        };
        if self.set_id != Some(id) {
            self.case_selected = 0;
            self.runs.reset();
            self.marked = None;
        }
        self.set_id = Some(id);
        self.screen = Screen::Cases;
        self.load_set(cx)
    }

    fn open_run(&mut self, id: Uuid, cx: &mut Cx<'_>) -> Vec<Effect> {
        if self.run_id != Some(id) {
            self.row_selected = 0;
        }
        self.run_id = Some(id);
        self.screen = Screen::Run;
        self.load_run(cx)
    }

    /// `c` in the runs: the marked run against the selected one, else the
    /// selected one against the run before it.
    fn compare_runs(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let (Some(tenant), Some(set), Some(runs)) =
            (self.tenant_str(), self.set_id, self.runs.loaded())
        else {
            return Vec::new();
        };
        let Some(selected) = runs.get(self.runs.selected).map(|r| r.id) else {
            return Vec::new();
        };
        let pair = match self.marked {
            Some(m) if m != selected => Some((m, selected)),
            _ => runs
                .get(self.runs.selected + 1)
                .map(|older| (older.id, selected)),
        };
        let Some((run, other)) = pair else {
            let key = cx.keymap.key_label(Context::EvalRuns, "eval_mark");
            cx.toast(Toast::info(format!(
                "Mark a run with {key}, then compare it with another"
            )));
            return Vec::new();
        };
        self.compare = Load::Loading;
        self.compare_selected = 0;
        self.screen = Screen::Compare;
        let req = EvalRequest::Compare {
            tenant,
            set,
            run,
            other,
        };
        self.send(
            req,
            Some(Slot::EvalCompare),
            "",
            "Could not compare the runs",
            None,
            cx,
        )
    }

    fn cancel_run(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let id = match self.screen {
            Screen::Runs => self.selected_run().map(|r| (r.id, r.status)),
            _ => self.run.loaded().map(|d| (d.run.id, d.run.status)),
        };
        let (Some(tenant), Some(set), Some((run, status))) = (self.tenant_str(), self.set_id, id)
        else {
            return Vec::new();
        };
        if status.is_finished() {
            cx.toast(Toast::info(format!(
                "The run is {} already",
                status.as_str()
            )));
            return Vec::new();
        }
        let req = EvalRequest::CancelRun { tenant, set, run };
        self.send(
            req,
            None,
            "Cancelled the run",
            "Could not cancel the run",
            Some(run),
            cx,
        )
    }

    /// `:evals import FILE`: the cases of a CSV or JSON file join the set
    /// open (or selected in the list), all or none.
    pub(crate) fn import(&mut self, path: &str, cx: &mut Cx<'_>) -> Result<Vec<Effect>, String> {
        if path.is_empty() {
            return Err("usage: :evals import FILE (.csv, or .json)".into());
        }
        let set = match self.screen {
            Screen::Sets => self.selected_set().map(|s| s.id),
            _ => self.set_id,
        };
        let (Some(tenant), Some(set)) = (self.tenant_str(), set) else {
            let open = cx.keymap.key_label(Context::EvalSets, "open");
            return Err(format!("open a set first (:evals, then {open})"));
        };
        let req = EvalRequest::Import {
            tenant,
            set,
            path: path.to_string(),
        };
        let fail = format!("Could not import {path}");
        Ok(self.send(req, None, "", &fail, Some(set), cx))
    }

    /// Sends a confirmed deletion.
    pub(crate) fn perform(&mut self, what: Confirmable, cx: &mut Cx<'_>) -> Vec<Effect> {
        match what {
            Confirmable::DeleteEvalSet { tenant, set, name } => {
                let req = EvalRequest::DeleteSet {
                    tenant: tenant.to_string(),
                    set,
                };
                let ok = format!("Deleted the eval set \"{name}\"");
                let fail = format!("Could not delete the eval set \"{name}\"");
                self.send(req, None, &ok, &fail, Some(set), cx)
            }
            Confirmable::DeleteEvalCase { tenant, set, case } => {
                let req = EvalRequest::DeleteCase {
                    tenant: tenant.to_string(),
                    set,
                    case,
                };
                self.send(
                    req,
                    None,
                    "Deleted the case",
                    "Could not delete the case",
                    Some(case),
                    cx,
                )
            }
            _ => Vec::new(),
        }
    }
}

impl Component for EvalsView {
    fn contexts(&self, _shared: &Shared<'_>) -> (Vec<Context>, bool) {
        let failed = match self.screen {
            Screen::Sets => self.sets.is_failed(),
            Screen::Cases => self.set.is_failed(),
            Screen::Runs => self.runs.is_failed(),
            Screen::Run | Screen::Result => self.run.is_failed(),
            Screen::Compare => self.compare.is_failed(),
        };
        let screen = match self.screen {
            Screen::Sets => Context::EvalSets,
            Screen::Cases => Context::EvalCases,
            Screen::Runs => Context::EvalRuns,
            Screen::Run => Context::EvalRun,
            Screen::Result => Context::EvalResult,
            Screen::Compare => Context::EvalCompare,
        };
        screen_contexts(failed, [screen])
    }

    fn update(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        match self.screen {
            Screen::Sets => self.update_sets(action, cx),
            Screen::Cases => self.update_cases(action, cx),
            Screen::Runs => self.update_runs(action, cx),
            Screen::Run => self.update_run(action, cx),
            Screen::Result => self.update_result(action, cx),
            Screen::Compare => self.update_compare(action, cx),
        }
    }

    fn on_response(
        &mut self,
        id: RequestId,
        flight: &InFlight,
        response: Response,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        match response {
            Response::Eval(r) => self.on_eval_response(id, flight, r, cx),
            _ => Vec::new(),
        }
    }

    fn render(&self, shared: &Shared<'_>, area: Rect, buf: &mut Buffer) {
        pane::render(self, shared, area, buf)
    }
}
