//! The Evals screen's keys, screen by screen: the sets, a set's cases and
//! runs, one run, one case's replies, two runs compared.

use uuid::Uuid;

use super::forms;
use super::{EvalRequest, EvalsView, Screen};
use crate::console::action::Action;
use crate::console::component::Cx;
use crate::console::effect::Effect;
use crate::console::panes::step;
use crate::console::state::{Confirmable, Slot};

impl EvalsView {
    pub(super) fn update_sets(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        if self.sets.step(&action, cx.page_rows()) {
            return Vec::new();
        }
        match action {
            Action::Retry => return self.load(cx),
            Action::Back => self.close(),
            Action::Open => return self.open_set(cx),
            Action::New => {
                if let Some(t) = self.tenant {
                    forms::open_set_form(t, None, cx);
                }
            }
            Action::Edit => {
                if let (Some(t), Some(s)) = (self.tenant, self.selected_set()) {
                    forms::open_set_form(t, Some(s), cx);
                }
            }
            Action::Remove => {
                if let (Some(tenant), Some(s)) = (self.tenant, self.selected_set()) {
                    cx.confirm(
                        format!(
                            "Delete the eval set \"{}\"? Its {} cases and every run of it \
                             go with it.",
                            s.name, s.cases
                        ),
                        Confirmable::DeleteEvalSet {
                            tenant,
                            set: s.id,
                            name: s.name.clone(),
                        },
                    );
                }
            }
            _ => {}
        }
        Vec::new()
    }

    pub(super) fn update_cases(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        let rows = self.set.loaded().map_or(0, |d| d.cases.len());
        if step(&mut self.case_selected, &action, rows, cx.page_rows()) {
            return Vec::new();
        }
        let (Some(tenant), Some(set)) = (self.tenant, self.set_id) else {
            return Vec::new();
        };
        match action {
            Action::Retry => return self.load_set(cx),
            Action::Back => {
                self.screen = Screen::Sets;
                cx.requests.forget(Slot::EvalSet);
            }
            Action::NextTab | Action::PrevTab => {
                self.screen = Screen::Runs;
                return self.load_runs(cx);
            }
            Action::New => forms::open_case_form(tenant, set, None, cx),
            Action::Edit | Action::Open => {
                let case = self
                    .set
                    .loaded()
                    .and_then(|d| d.cases.get(self.case_selected));
                if let Some(c) = case.cloned() {
                    forms::open_case_form(tenant, set, Some(&c), cx);
                }
            }
            Action::Remove => {
                let case = self
                    .set
                    .loaded()
                    .and_then(|d| d.cases.get(self.case_selected));
                if let Some(c) = case {
                    cx.confirm(
                        format!("Delete case #{} of the set? Past runs keep it.", c.position),
                        Confirmable::DeleteEvalCase {
                            tenant,
                            set,
                            case: c.id,
                        },
                    );
                }
            }
            Action::Import => forms::open_import_form(tenant, set, cx),
            Action::StartEvalRun => return self.start(cx),
            _ => {}
        }
        Vec::new()
    }

    /// `s`: the agents are read, then the run form opens with them.
    pub(super) fn start(&mut self, cx: &mut Cx<'_>) -> Vec<Effect> {
        let (Some(tenant), Some(set)) = (self.tenant_str(), self.set_id) else {
            return Vec::new();
        };
        self.starting = Some(set);
        let req = EvalRequest::Agents { tenant };
        self.send(
            req,
            Some(Slot::EvalAgents),
            "",
            "Could not load the agents",
            Some(set),
            cx,
        )
    }

    pub(super) fn update_runs(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        if self.runs.step(&action, cx.page_rows()) {
            return Vec::new();
        }
        match action {
            Action::Retry => return self.load_runs(cx),
            Action::Back => {
                self.screen = Screen::Sets;
                cx.requests.forget(Slot::EvalRuns);
            }
            Action::NextTab | Action::PrevTab => {
                self.screen = Screen::Cases;
                return self.load_set(cx);
            }
            Action::Open => {
                if let Some(id) = self.selected_run().map(|r| r.id) {
                    return self.open_run(id, cx);
                }
            }
            Action::Toggle => {
                if let Some(id) = self.selected_run().map(|r| r.id) {
                    self.marked = if self.marked == Some(id) {
                        None
                    } else {
                        Some(id)
                    };
                }
            }
            Action::Compare => return self.compare_runs(cx),
            Action::StartEvalRun => return self.start(cx),
            Action::Stop => return self.cancel_run(cx),
            _ => {}
        }
        Vec::new()
    }

    /// Cases of the open run, in the set's order.
    pub fn run_rows(&self) -> Vec<Uuid> {
        let Some(d) = self.run.loaded() else {
            return Vec::new();
        };
        let mut cases: Vec<(u32, Uuid)> = Vec::new();
        for r in &d.results {
            if !cases.iter().any(|(_, c)| *c == r.case_id) {
                cases.push((r.case.position, r.case_id));
            }
        }
        cases.sort();
        cases.into_iter().map(|(_, c)| c).collect()
    }

    pub(super) fn update_run(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        let rows = self.run_rows().len();
        if step(&mut self.row_selected, &action, rows, cx.page_rows()) {
            return Vec::new();
        }
        match action {
            Action::Retry => return self.load_run(cx),
            Action::Back => {
                self.screen = Screen::Runs;
                cx.requests.forget(Slot::EvalRun);
                return self.load_runs(cx);
            }
            Action::Open if rows > 0 => {
                self.scroll = 0;
                self.screen = Screen::Result;
            }
            Action::Stop => return self.cancel_run(cx),
            _ => {}
        }
        Vec::new()
    }

    pub(super) fn update_result(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        match action {
            Action::Up => self.scroll = self.scroll.saturating_sub(1),
            Action::Down => self.scroll = self.scroll.saturating_add(1),
            Action::Top => self.scroll = 0,
            Action::Retry => return self.load_run(cx),
            Action::Back => self.screen = Screen::Run,
            _ => {}
        }
        Vec::new()
    }

    pub(super) fn update_compare(&mut self, action: Action, cx: &mut Cx<'_>) -> Vec<Effect> {
        let rows = self.compare.loaded().map_or(0, |c| c.cases.len());
        if step(&mut self.compare_selected, &action, rows, cx.page_rows()) {
            return Vec::new();
        }
        match action {
            Action::Retry => return self.compare_runs(cx),
            Action::Back => {
                self.screen = Screen::Runs;
                cx.requests.forget(Slot::EvalCompare);
            }
            _ => {}
        }
        Vec::new()
    }
}
