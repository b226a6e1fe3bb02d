//! The Evals screen's answers: lists, a set, runs and a run's progress,
//! a comparison, saves (a refused one keeps the form and its draft, with
//! the server's field errors), deletions and an import's report.

use super::forms::{open_add_form, open_run_form};
use super::{EvalResponse, EvalsView, Screen};
use crate::api::ApiError;
use crate::console::component::Cx;
use crate::console::effect::{Effect, RequestId};
use crate::console::keymap::Context;
use crate::console::state::{InFlight, Load, Modal, Slot};
use crate::console::widgets::toast::Toast;

impl EvalsView {
    pub(super) fn on_eval_response(
        &mut self,
        id: RequestId,
        flight: &InFlight,
        response: EvalResponse,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        // The picker of `E` answers wherever the screen is.
        if flight.slot == Some(Slot::EvalPick) {
            if let EvalResponse::Sets(r) = response {
                return self.picked_sets(flight, r, cx);
            }
            return Vec::new();
        }
        // A case added from a lead or the playground reports anywhere.
        let foreign = flight.tenant != self.tenant || !self.open;
        if foreign {
            if let EvalResponse::CaseSaved(r) = &response {
                match r {
                    Ok(_) => {
                        cx.finish_form(id);
                        cx.toast(Toast::success(flight.ok.clone()));
                    }
                    Err(e) => {
                        keep_draft(id, e, cx);
                        failed(flight, e, cx);
                    }
                }
            } else if let Some(e) = response.error() {
                keep_draft(id, e, cx);
            }
            return Vec::new();
        }
        let ok = |cx: &mut Cx<'_>| {
            if !flight.ok.is_empty() {
                cx.toast(Toast::success(flight.ok.clone()));
            }
        };
        match response {
            EvalResponse::Sets(r) => {
                self.sets.arrived(r);
                return self.load_last_runs(cx);
            }
            EvalResponse::SetCreated(Ok(detail)) => {
                cx.finish_form(id);
                if let Some(list) = self.sets.loaded_mut() {
                    list.push(detail.set.clone());
                    list.sort_by_key(|s| s.name.to_lowercase());
                }
                self.sets.select_where(|s| s.id == detail.set.id);
                self.last_runs.insert(detail.set.id, None);
                ok(cx);
            }
            EvalResponse::SetUpdated(Ok(set)) => {
                cx.finish_form(id);
                if let Some(list) = self.sets.loaded_mut() {
                    if let Some(s) = list.iter_mut().find(|s| s.id == set.id) {
                        *s = set.clone();
                    }
                }
                if let Some(d) = self.set.loaded_mut() {
                    if d.set.id == set.id {
                        d.set = set;
                    }
                }
                ok(cx);
            }
            EvalResponse::SetDeleted(Ok(())) => {
                if let Some(gone) = flight.target {
                    self.sets.retain(|s| s.id != gone);
                }
                if flight.target == self.set_id {
                    self.screen = Screen::Sets;
                    self.set_id = None;
                }
                ok(cx);
            }
            EvalResponse::Set(r) => {
                if flight.target != self.set_id {
                    return Vec::new();
                }
                self.set = match r {
                    Ok(d) => {
                        self.case_selected =
                            self.case_selected.min(d.cases.len().saturating_sub(1));
                        self.sync_count(d.set.id, d.cases.len());
                        Load::Loaded(d)
                    }
                    Err(e) => Load::Failed(e.message()),
                };
            }
            EvalResponse::CaseSaved(Ok(case)) => {
                cx.finish_form(id);
                if let Some(d) = self.set.loaded_mut().filter(|d| d.set.id == case.set_id) {
                    match d.cases.iter_mut().find(|c| c.id == case.id) {
                        Some(c) => *c = case.clone(),
                        None => {
                            d.cases.push(case.clone());
                            self.case_selected = d.cases.len() - 1;
                        }
                    }
                    let n = d.cases.len();
                    self.sync_count(case.set_id, n);
                }
                ok(cx);
            }
            EvalResponse::CaseDeleted(Ok(())) => {
                if let (Some(d), Some(gone)) = (self.set.loaded_mut(), flight.target) {
                    d.cases.retain(|c| c.id != gone);
                    self.case_selected = self.case_selected.min(d.cases.len().saturating_sub(1));
                    let (set, n) = (d.set.id, d.cases.len());
                    self.sync_count(set, n);
                }
                ok(cx);
            }
            EvalResponse::Imported(Ok(report)) => {
                cx.finish_form(id);
                let n = report.imported;
                cx.toast(Toast::success(format!(
                    "Imported {n} case{}",
                    if n == 1 { "" } else { "s" }
                )));
                if let Some(s) = self
                    .sets
                    .loaded_mut()
                    .and_then(|l| l.iter_mut().find(|s| Some(s.id) == flight.target))
                {
                    s.cases += n;
                }
                if flight.target == self.set_id && self.screen != Screen::Sets {
                    return self.load_set(cx);
                }
            }
            EvalResponse::Runs(r) => {
                // Each set's runs read for the list, or the open set's.
                let for_list = flight.slot.is_none();
                if let (Ok(list), Some(set)) = (&r, flight.target) {
                    self.last_runs.insert(set, list.first().cloned());
                }
                if !for_list && (r.is_err() || flight.target == self.set_id) {
                    self.runs.arrived(r);
                }
            }
            EvalResponse::RunStarted(Ok(run)) => {
                cx.finish_form(id);
                if let Some(list) = self.runs.loaded_mut() {
                    list.insert(0, run.clone());
                }
                self.runs.selected = 0;
                self.last_runs.insert(run.set_id, Some(run.clone()));
                ok(cx);
                if self.set_id == Some(run.set_id) {
                    return self.open_run(run.id, cx);
                }
            }
            EvalResponse::Run(r) => {
                if flight.target != self.run_id {
                    return Vec::new();
                }
                match r {
                    Ok(d) => {
                        if let Some(list) = self.runs.loaded_mut() {
                            if let Some(row) = list.iter_mut().find(|x| x.id == d.run.id) {
                                *row = d.run.clone();
                            }
                        }
                        if self
                            .last_runs
                            .get(&d.run.set_id)
                            .is_some_and(|l| l.as_ref().is_some_and(|l| l.id == d.run.id))
                        {
                            self.last_runs.insert(d.run.set_id, Some(d.run.clone()));
                        }
                        self.run = Load::Loaded(d);
                        let rows = self.run_rows().len();
                        self.row_selected = self.row_selected.min(rows.saturating_sub(1));
                    }
                    // A quiet refresh that failed keeps what is shown.
                    Err(e) if flight.quiet && self.run.loaded().is_some() => {
                        tracing::debug!(error = %e.message(), "eval run refresh failed");
                    }
                    Err(e) => self.run = Load::Failed(e.message()),
                }
            }
            EvalResponse::RunCancelled(Ok(run)) => {
                if let Some(list) = self.runs.loaded_mut() {
                    if let Some(row) = list.iter_mut().find(|x| x.id == run.id) {
                        *row = run.clone();
                    }
                }
                if let Some(d) = self.run.loaded_mut().filter(|d| d.run.id == run.id) {
                    d.run = run;
                }
                ok(cx);
            }
            EvalResponse::Compared(r) => {
                self.compare = match r {
                    Ok(c) => Load::Loaded(c),
                    Err(e) => Load::Failed(e.message()),
                };
            }
            EvalResponse::Agents(r) => {
                let Some(set) = self.starting.take() else {
                    return Vec::new();
                };
                match (r, self.tenant) {
                    (Ok(agents), Some(tenant)) if !agents.is_empty() => {
                        open_run_form(tenant, set, &agents, cx)
                    }
                    (Ok(_), _) => cx.toast(Toast::error(
                        "No agent to run the set with: create one in the Agents pane (3)",
                    )),
                    (Err(e), _) => failed(flight, &e, cx),
                }
            }
            EvalResponse::SetCreated(Err(e))
            | EvalResponse::SetUpdated(Err(e))
            | EvalResponse::SetDeleted(Err(e))
            | EvalResponse::CaseSaved(Err(e))
            | EvalResponse::CaseDeleted(Err(e))
            | EvalResponse::Imported(Err(e))
            | EvalResponse::RunStarted(Err(e))
            | EvalResponse::RunCancelled(Err(e)) => {
                keep_draft(id, &e, cx);
                failed(flight, &e, cx);
            }
        }
        Vec::new()
    }

    /// The set's case count in the list follows its cases.
    fn sync_count(&mut self, set: uuid::Uuid, n: usize) {
        if let Some(s) = self
            .sets
            .loaded_mut()
            .and_then(|l| l.iter_mut().find(|s| s.id == set))
        {
            s.cases = n as u32;
        }
    }

    /// The sets for `E`'s form arrived.
    fn picked_sets(
        &mut self,
        flight: &InFlight,
        r: crate::api::ApiResult<Vec<crate::domain::eval::EvalSet>>,
        cx: &mut Cx<'_>,
    ) -> Vec<Effect> {
        let Some(from) = self.adding.take() else {
            return Vec::new();
        };
        match r {
            Ok(sets) if sets.is_empty() => {
                let new = cx.keymap.key_label(Context::EvalSets, "new");
                cx.toast(Toast::error(format!(
                    "No eval set yet: create one with :evals, then {new}"
                )))
            }
            Ok(sets) => open_add_form(from, &sets, cx),
            Err(e) => failed(flight, &e, cx),
        }
        Vec::new()
    }
}

/// A refused save: the form stays open with what was typed, each field's
/// complaint under it.
fn keep_draft(id: RequestId, e: &ApiError, cx: &mut Cx<'_>) {
    if let Some(Modal::Form(open)) = &mut *cx.modal {
        open.refused(id, e, true);
    }
}

fn failed(flight: &InFlight, e: &ApiError, cx: &mut Cx<'_>) {
    cx.toast(Toast::error(format!("{}: {}", flight.fail, e.message())));
}
