//! Prompt evaluation calls: eval sets and cases, imports, and runs of a set
//! against an agent's versions.

use reqwest::Method;
use uuid::Uuid;

use super::{ApiResult, Client};
use crate::domain::eval::{
    EvalCase, EvalCasePatch, EvalComparison, EvalImport, EvalImportReport, EvalRun, EvalRunDetail,
    EvalSet, EvalSetDetail, EvalSetPatch, NewEvalCase, NewEvalRun, NewEvalSet,
};

fn evals(tenant: &str) -> String {
    format!("/api/v1/tenants/{tenant}/evals")
}

fn runs(tenant: &str, set: Uuid) -> String {
    format!("{}/{set}/runs", evals(tenant))
}

impl Client {
    /// The tenant's eval sets, by name.
    pub async fn eval_sets(&self, tenant: &str) -> ApiResult<Vec<EvalSet>> {
        self.get(&evals(tenant)).await
    }

    pub async fn create_eval_set(
        &self,
        tenant: &str,
        new: &NewEvalSet,
    ) -> ApiResult<EvalSetDetail> {
        self.post(&evals(tenant), new).await
    }

    /// A set with its cases.
    pub async fn eval_set(&self, tenant: &str, set: Uuid) -> ApiResult<EvalSetDetail> {
        self.get(&format!("{}/{set}", evals(tenant))).await
    }

    pub async fn update_eval_set(
        &self,
        tenant: &str,
        set: Uuid,
        patch: &EvalSetPatch,
    ) -> ApiResult<EvalSet> {
        self.patch(&format!("{}/{set}", evals(tenant)), patch).await
    }

    pub async fn delete_eval_set(&self, tenant: &str, set: Uuid) -> ApiResult<()> {
        self.delete(&format!("{}/{set}", evals(tenant))).await
    }

    /// A case written out, or made from a lead or a playground message.
    pub async fn add_eval_case(
        &self,
        tenant: &str,
        set: Uuid,
        new: &NewEvalCase,
    ) -> ApiResult<EvalCase> {
        self.post(&format!("{}/{set}/cases", evals(tenant)), new)
            .await
    }

    pub async fn update_eval_case(
        &self,
        tenant: &str,
        set: Uuid,
        case: Uuid,
        patch: &EvalCasePatch,
    ) -> ApiResult<EvalCase> {
        self.patch(&format!("{}/{set}/cases/{case}", evals(tenant)), patch)
            .await
    }

    pub async fn delete_eval_case(&self, tenant: &str, set: Uuid, case: Uuid) -> ApiResult<()> {
        self.delete(&format!("{}/{set}/cases/{case}", evals(tenant)))
            .await
    }

    /// Imports cases from a CSV file: all of them, or none and every bad row.
    pub async fn import_eval_csv(
        &self,
        tenant: &str,
        set: Uuid,
        csv: String,
    ) -> ApiResult<EvalImportReport> {
        let rb = self
            .request(Method::POST, &format!("{}/{set}/import", evals(tenant)))
            .header("content-type", "text/csv")
            .body(csv);
        self.json(rb).await
    }

    /// Imports cases written out as JSON: all of them, or none.
    pub async fn import_eval_json(
        &self,
        tenant: &str,
        set: Uuid,
        import: &EvalImport,
    ) -> ApiResult<EvalImportReport> {
        self.post(&format!("{}/{set}/import", evals(tenant)), import)
            .await
    }

    /// A set's runs, newest first.
    pub async fn eval_runs(&self, tenant: &str, set: Uuid) -> ApiResult<Vec<EvalRun>> {
        self.get(&runs(tenant, set)).await
    }

    /// Starts a run in the background; follow it with [`Client::eval_run`].
    pub async fn start_eval_run(
        &self,
        tenant: &str,
        set: Uuid,
        new: &NewEvalRun,
    ) -> ApiResult<EvalRun> {
        self.post(&runs(tenant, set), new).await
    }

    /// A run with its progress and every result so far.
    pub async fn eval_run(&self, tenant: &str, set: Uuid, run: Uuid) -> ApiResult<EvalRunDetail> {
        self.get(&format!("{}/{run}", runs(tenant, set))).await
    }

    pub async fn cancel_eval_run(&self, tenant: &str, set: Uuid, run: Uuid) -> ApiResult<EvalRun> {
        self.post(&format!("{}/{run}/cancel", runs(tenant, set)), &())
            .await
    }

    pub async fn delete_eval_run(&self, tenant: &str, set: Uuid, run: Uuid) -> ApiResult<()> {
        self.delete(&format!("{}/{run}", runs(tenant, set))).await
    }

    /// Two runs of a set side by side (each run's first version).
    pub async fn compare_eval_runs(
        &self,
        tenant: &str,
        set: Uuid,
        run: Uuid,
        other: Uuid,
    ) -> ApiResult<EvalComparison> {
        self.get(&format!("{}/{run}/compare/{other}", runs(tenant, set)))
            .await
    }
}
