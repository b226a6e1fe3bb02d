//! Eval sets and their cases: one flow for both backends, each statement
//! written once (a [`Dialect`] apart where the engines differ).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    case_audit, check_case_room, check_set_room, name_key, refuse_while_running, set_audit,
    to_json, CaseRow, EvalCaseRecord, EvalSetRecord, CASES, SETS,
};
use crate::domain::eval::{EvalCase, EvalCaseInput, EvalSet, EvalSetInput};
use crate::store::conn::{write_audit, Arg, Backend, Conn, Stmt};
use crate::store::row::Int;
use crate::store::sql::Dialect;
use crate::store::{Actor, StoreError, StoreResult};

/// Eval sets and their cases, each within one tenant.
#[async_trait]
pub trait EvalSetStore: Send + Sync {
    /// The tenant's sets, by name.
    async fn list_eval_sets(&self, tenant_id: Uuid) -> StoreResult<Vec<EvalSet>>;
    async fn eval_set(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<EvalSet>>;
    /// A set with its first cases, in one transaction; refused past
    /// [`MAX_SETS`], and on a name the tenant already uses.
    async fn create_eval_set(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        set: EvalSetInput,
        cases: Vec<CaseRow>,
        now: DateTime<Utc>,
    ) -> StoreResult<EvalSet>;
    async fn update_eval_set(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        set: EvalSetInput,
        now: DateTime<Utc>,
    ) -> StoreResult<EvalSet>;
    /// Deletes a set with its cases and runs; refused while a run of it runs.
    async fn delete_eval_set(&self, actor: &Actor, tenant_id: Uuid, id: Uuid) -> StoreResult<()>;
    /// A set's cases, by position.
    async fn eval_cases(&self, tenant_id: Uuid, set_id: Uuid) -> StoreResult<Vec<EvalCase>>;
    /// Appends cases after the last, all or none; refused past [`MAX_CASES`].
    async fn add_eval_cases(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        set_id: Uuid,
        cases: Vec<CaseRow>,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<EvalCase>>;
    async fn update_eval_case(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        set_id: Uuid,
        id: Uuid,
        case: EvalCaseInput,
        now: DateTime<Utc>,
    ) -> StoreResult<EvalCase>;
    async fn delete_eval_case(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        set_id: Uuid,
        id: Uuid,
    ) -> StoreResult<()>;
}

async fn set_in<C: Conn>(c: &mut C, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<EvalSet>> {
    let sql = format!("{SETS} WHERE s.tenant_id = $1 AND s.id = $2");
    let stmt = Stmt::new(sql, "read an eval set").id(tenant_id).id(id);
    Ok(c.fetch_optional::<EvalSetRecord>(stmt)
        .await?
        .map(EvalSet::from))
}

/// A set's cases by position; only those listed when `only` is some.
async fn cases_in<C: Conn>(
    c: &mut C,
    tenant_id: Uuid,
    set_id: Uuid,
    only: Option<&[Uuid]>,
) -> StoreResult<Vec<EvalCase>> {
    let listed = match c.dialect() {
        Dialect::Postgres => "($3::uuid[] IS NULL OR id = ANY($3))",
        Dialect::Sqlite => "($3 IS NULL OR id IN (SELECT value FROM json_each($3)))",
    };
    let sql =
        format!("{CASES} WHERE tenant_id = $1 AND set_id = $2 AND {listed} ORDER BY position");
    let stmt = Stmt::new(sql, "read eval cases")
        .id(tenant_id)
        .id(set_id)
        .arg(Arg::OptIds(only.map(<[Uuid]>::to_vec)));
    c.fetch_all::<EvalCaseRecord>(stmt)
        .await?
        .into_iter()
        .map(EvalCaseRecord::into_case)
        .collect()
}

/// Appends cases after the set's last position; their ids, in order.
async fn insert_cases<C: Conn>(
    c: &mut C,
    tenant_id: Uuid,
    set_id: Uuid,
    cases: &[CaseRow],
    now: DateTime<Utc>,
) -> StoreResult<Vec<Uuid>> {
    let last = Stmt::new(
        "SELECT coalesce(max(position), 0) FROM eval_cases WHERE tenant_id = $1 AND set_id = $2",
        "read an eval set's cases",
    )
    .id(tenant_id)
    .id(set_id);
    let (Int(last),) = c.fetch_one::<(Int,)>(last).await?;
    let ids: Vec<Uuid> = cases.iter().map(|_| Uuid::now_v7()).collect();
    let positions = (1..=cases.len() as i64).map(|i| last + i);
    match c.dialect() {
        // One statement for all of them.
        Dialect::Postgres => {
            let stmt = Stmt::new(
                "INSERT INTO eval_cases (tenant_id, set_id, id, position, message, lead, expect, \
                 source, created_at, updated_at) \
                 SELECT $1, $2, i, p, m, l, e, s, $8, $8 \
                   FROM unnest($3::uuid[], $4::int[], $5::text[], $6::jsonb[], $7::jsonb[], \
                               $9::jsonb[]) AS c(i, p, m, l, e, s)",
                "store eval cases",
            )
            .id(tenant_id)
            .id(set_id)
            .arg(Arg::Ids(ids.clone()))
            .arg(Arg::I32s(positions.map(|p| p as i32).collect()))
            .arg(Arg::Texts(
                cases.iter().map(|r| r.case.message.clone()).collect(),
            ))
            .arg(Arg::Jsons(
                cases.iter().map(|r| to_json(&r.case.lead)).collect(),
            ))
            .arg(Arg::Jsons(
                cases.iter().map(|r| to_json(&r.case.expect)).collect(),
            ))
            .time(now)
            .arg(Arg::OptJsons(
                cases
                    .iter()
                    .map(|r| r.source.map(|s| to_json(&s)))
                    .collect(),
            ));
            c.execute(stmt).await?;
        }
        Dialect::Sqlite => {
            for ((row, id), position) in cases.iter().zip(&ids).zip(positions) {
                let stmt = Stmt::new(
                    "INSERT INTO eval_cases (tenant_id, set_id, id, position, message, lead, \
                     expect, source, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
                    "store an eval case",
                )
                .id(tenant_id)
                .id(set_id)
                .id(*id)
                .arg(Arg::Int(position))
                .text(row.case.message.clone())
                .json(to_json(&row.case.lead))
                .json(to_json(&row.case.expect))
                .arg(Arg::OptJson(row.source.map(|s| to_json(&s))))
                .time(now);
                c.execute(stmt).await?;
            }
        }
    }
    Ok(ids)
}

async fn touch_set<C: Conn>(
    c: &mut C,
    tenant_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let stmt = Stmt::new(
        "UPDATE eval_sets SET updated_at = $3 WHERE tenant_id = $1 AND id = $2",
        "update an eval set",
    )
    .id(tenant_id)
    .id(id)
    .time(now);
    if c.execute(stmt).await? == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Locks a set's row until the transaction ends (a case writer or a
/// run starting waits); not found when it is not there.
async fn lock_set<C: Conn>(c: &mut C, tenant_id: Uuid, id: Uuid) -> StoreResult<()> {
    let stmt = Stmt::new(
        "SELECT 1 FROM eval_sets WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        "lock an eval set",
    )
    .id(tenant_id)
    .id(id);
    match c.fetch_optional::<(Int,)>(stmt).await? {
        Some(_) => Ok(()),
        None => Err(StoreError::NotFound),
    }
}

/// A unique violation on a set's name, as the field it is.
fn name_taken(e: StoreError) -> StoreError {
    match e {
        StoreError::Conflict { .. } => StoreError::Conflict { field: "name" },
        other => other,
    }
}

#[async_trait]
impl<B: Backend> EvalSetStore for B {
    async fn list_eval_sets(&self, tenant_id: Uuid) -> StoreResult<Vec<EvalSet>> {
        let mut tx = self.reading(tenant_id).await?;
        let sql = format!("{SETS} WHERE s.tenant_id = $1 ORDER BY s.name_key, s.id");
        let sets = tx
            .fetch_all::<EvalSetRecord>(Stmt::new(sql, "list eval sets").id(tenant_id))
            .await?;
        tx.commit("list eval sets").await?;
        Ok(sets.into_iter().map(EvalSet::from).collect())
    }

    async fn eval_set(&self, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<EvalSet>> {
        let mut tx = self.reading(tenant_id).await?;
        let set = set_in(&mut tx, tenant_id, id).await?;
        tx.commit("read an eval set").await?;
        Ok(set)
    }

    async fn create_eval_set(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        set: EvalSetInput,
        cases: Vec<CaseRow>,
        now: DateTime<Utc>,
    ) -> StoreResult<EvalSet> {
        let id = Uuid::now_v7();
        let mut tx = self.writing(tenant_id).await?;
        tx.lock(format!("eval_sets:{tenant_id}")).await?;
        let count = Stmt::new(
            "SELECT count(*) FROM eval_sets WHERE tenant_id = $1",
            "count eval sets",
        )
        .id(tenant_id);
        let (sets,) = tx.fetch_one::<(i64,)>(count).await?;
        check_set_room(sets as u32)?;
        check_case_room(0, cases.len())?;
        let insert = Stmt::new(
            "INSERT INTO eval_sets (tenant_id, id, name, name_key, description, created_by, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
            "store an eval set",
        )
        .id(tenant_id)
        .id(id)
        .text(set.name.clone())
        .text(name_key(&set.name))
        .text(set.description.clone())
        .opt_text(actor.email.clone())
        .time(now);
        tx.execute(insert).await.map_err(name_taken)?;
        insert_cases(&mut tx, tenant_id, id, &cases, now).await?;
        let changes = serde_json::json!({ "name": set.name, "cases": cases.len() });
        let audit = set_audit("eval_set.create", id, changes);
        write_audit(&mut tx, tenant_id, actor, &audit).await?;
        let created = set_in(&mut tx, tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit("commit an eval set").await?;
        Ok(created)
    }

    async fn update_eval_set(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        id: Uuid,
        set: EvalSetInput,
        now: DateTime<Utc>,
    ) -> StoreResult<EvalSet> {
        let mut tx = self.writing(tenant_id).await?;
        let update = Stmt::new(
            "UPDATE eval_sets SET name = $3, name_key = $4, description = $5, updated_at = $6 \
             WHERE tenant_id = $1 AND id = $2",
            "update an eval set",
        )
        .id(tenant_id)
        .id(id)
        .text(set.name.clone())
        .text(name_key(&set.name))
        .text(set.description.clone())
        .time(now);
        if tx.execute(update).await.map_err(name_taken)? == 0 {
            return Err(StoreError::NotFound);
        }
        let changes = serde_json::json!({ "name": set.name, "description": set.description });
        let audit = set_audit("eval_set.update", id, changes);
        write_audit(&mut tx, tenant_id, actor, &audit).await?;
        let updated = set_in(&mut tx, tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit("commit an eval set").await?;
        Ok(updated)
    }

    async fn delete_eval_set(&self, actor: &Actor, tenant_id: Uuid, id: Uuid) -> StoreResult<()> {
        let mut tx = self.writing(tenant_id).await?;
        // Locks the set first: a run starting now waits, then finds it gone.
        lock_set(&mut tx, tenant_id, id).await?;
        let running = Stmt::new(
            "SELECT count(*) FROM eval_runs WHERE tenant_id = $1 AND set_id = $2 \
             AND status = 'running'",
            "read an eval set's runs",
        )
        .id(tenant_id)
        .id(id);
        let (running,) = tx.fetch_one::<(i64,)>(running).await?;
        if running > 0 {
            return Err(refuse_while_running("the set"));
        }
        let delete = Stmt::new(
            "DELETE FROM eval_sets WHERE tenant_id = $1 AND id = $2",
            "delete an eval set",
        )
        .id(tenant_id)
        .id(id);
        if tx.execute(delete).await? == 0 {
            return Err(StoreError::NotFound);
        }
        let audit = set_audit("eval_set.delete", id, serde_json::json!({}));
        write_audit(&mut tx, tenant_id, actor, &audit).await?;
        tx.commit("commit an eval set's deletion").await
    }

    async fn eval_cases(&self, tenant_id: Uuid, set_id: Uuid) -> StoreResult<Vec<EvalCase>> {
        let mut tx = self.reading(tenant_id).await?;
        let cases = cases_in(&mut tx, tenant_id, set_id, None).await?;
        tx.commit("read eval cases").await?;
        Ok(cases)
    }

    async fn add_eval_cases(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        set_id: Uuid,
        cases: Vec<CaseRow>,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<EvalCase>> {
        let mut tx = self.writing(tenant_id).await?;
        // One writer of a set's cases at a time: the count holds to commit.
        lock_set(&mut tx, tenant_id, set_id).await?;
        let held = set_in(&mut tx, tenant_id, set_id)
            .await?
            .ok_or(StoreError::NotFound)?
            .cases;
        check_case_room(held, cases.len())?;
        let ids = insert_cases(&mut tx, tenant_id, set_id, &cases, now).await?;
        touch_set(&mut tx, tenant_id, set_id, now).await?;
        let audit = case_audit("eval_case.create", set_id, &ids);
        write_audit(&mut tx, tenant_id, actor, &audit).await?;
        let added = cases_in(&mut tx, tenant_id, set_id, Some(&ids)).await?;
        tx.commit("commit eval cases").await?;
        Ok(added)
    }

    async fn update_eval_case(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        set_id: Uuid,
        id: Uuid,
        case: EvalCaseInput,
        now: DateTime<Utc>,
    ) -> StoreResult<EvalCase> {
        let mut tx = self.writing(tenant_id).await?;
        let update = Stmt::new(
            "UPDATE eval_cases SET message = $4, lead = $5, expect = $6, updated_at = $7 \
             WHERE tenant_id = $1 AND set_id = $2 AND id = $3",
            "update an eval case",
        )
        .id(tenant_id)
        .id(set_id)
        .id(id)
        .text(case.message.clone())
        .json(to_json(&case.lead))
        .json(to_json(&case.expect))
        .time(now);
        if tx.execute(update).await? == 0 {
            return Err(StoreError::NotFound);
        }
        touch_set(&mut tx, tenant_id, set_id, now).await?;
        let audit = case_audit("eval_case.update", set_id, &[id]);
        write_audit(&mut tx, tenant_id, actor, &audit).await?;
        let updated = cases_in(&mut tx, tenant_id, set_id, Some(&[id]))
            .await?
            .pop()
            .ok_or(StoreError::NotFound)?;
        tx.commit("commit an eval case").await?;
        Ok(updated)
    }

    async fn delete_eval_case(
        &self,
        actor: &Actor,
        tenant_id: Uuid,
        set_id: Uuid,
        id: Uuid,
    ) -> StoreResult<()> {
        let mut tx = self.writing(tenant_id).await?;
        let delete = Stmt::new(
            "DELETE FROM eval_cases WHERE tenant_id = $1 AND set_id = $2 AND id = $3",
            "delete an eval case",
        )
        .id(tenant_id)
        .id(set_id)
        .id(id);
        if tx.execute(delete).await? == 0 {
            return Err(StoreError::NotFound);
        }
        let audit = case_audit("eval_case.delete", set_id, &[id]);
        write_audit(&mut tx, tenant_id, actor, &audit).await?;
        tx.commit("commit an eval case's deletion").await
    }
}
