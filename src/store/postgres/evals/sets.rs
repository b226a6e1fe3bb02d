//! Eval sets and their cases in PostgreSQL.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{commit, lock_tenant, StoredCase, StoredSet, CASES, SETS};
use crate::domain::eval::{EvalCase, EvalCaseInput, EvalSet, EvalSetInput};
use crate::store::evals::{
    case_audit, check_case_room, check_set_room, name_key, refuse_while_running, set_audit,
    to_json, CaseRow,
};
use crate::store::postgres::{db_error, ms, write_audit, PgStore, Tx};
use crate::store::{Actor, StoreError, StoreResult};

async fn set_in(tx: &mut Tx, tenant_id: Uuid, id: Uuid) -> StoreResult<Option<EvalSet>> {
    Ok(
        sqlx::query_as::<_, StoredSet>(&format!("{SETS} WHERE s.tenant_id = $1 AND s.id = $2"))
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(&mut **tx)
            .await
            .map_err(|e| db_error(e, "read an eval set"))?
            .map(EvalSet::from),
    )
}

async fn cases_in(
    tx: &mut Tx,
    tenant_id: Uuid,
    set_id: Uuid,
    only: Option<&[Uuid]>,
) -> StoreResult<Vec<EvalCase>> {
    sqlx::query_as::<_, StoredCase>(&format!(
        "{CASES} WHERE tenant_id = $1 AND set_id = $2 AND ($3::uuid[] IS NULL OR id = ANY($3)) \
         ORDER BY position"
    ))
    .bind(tenant_id)
    .bind(set_id)
    .bind(only)
    .fetch_all(&mut **tx)
    .await
    .map_err(|e| db_error(e, "read eval cases"))?
    .into_iter()
    .map(StoredCase::into_case)
    .collect()
}

/// Appends cases after the set's last position; their ids, in order.
async fn insert_cases(
    tx: &mut Tx,
    tenant_id: Uuid,
    set_id: Uuid,
    cases: &[CaseRow],
    now: DateTime<Utc>,
) -> StoreResult<Vec<Uuid>> {
    let last: i32 = sqlx::query_scalar(
        "SELECT coalesce(max(position), 0) FROM eval_cases WHERE tenant_id = $1 AND set_id = $2",
    )
    .bind(tenant_id)
    .bind(set_id)
    .fetch_one(&mut **tx)
    .await
    .map_err(|e| db_error(e, "read an eval set's cases"))?;
    let ids: Vec<Uuid> = cases.iter().map(|_| Uuid::now_v7()).collect();
    let positions: Vec<i32> = (1..=cases.len() as i32).map(|i| last + i).collect();
    let messages: Vec<&str> = cases.iter().map(|c| c.case.message.as_str()).collect();
    let leads: Vec<serde_json::Value> = cases.iter().map(|c| to_json(&c.case.lead)).collect();
    let expects: Vec<serde_json::Value> = cases.iter().map(|c| to_json(&c.case.expect)).collect();
    let sources: Vec<Option<serde_json::Value>> = cases
        .iter()
        .map(|c| c.source.map(|s| to_json(&s)))
        .collect();
    sqlx::query(
        "INSERT INTO eval_cases (tenant_id, set_id, id, position, message, lead, expect, source, \
         created_at, updated_at) \
         SELECT $1, $2, i, p, m, l, e, s, $8, $8 \
           FROM unnest($3::uuid[], $4::int[], $5::text[], $6::jsonb[], $7::jsonb[], $9::jsonb[]) \
                AS c(i, p, m, l, e, s)",
    )
    .bind(tenant_id)
    .bind(set_id)
    .bind(&ids)
    .bind(&positions)
    .bind(&messages)
    .bind(&leads)
    .bind(&expects)
    .bind(ms(now))
    .bind(&sources)
    .execute(&mut **tx)
    .await
    .map_err(|e| db_error(e, "store eval cases"))?;
    Ok(ids)
}

async fn touch_set(tx: &mut Tx, tenant_id: Uuid, id: Uuid, now: DateTime<Utc>) -> StoreResult<()> {
    let done = sqlx::query("UPDATE eval_sets SET updated_at = $3 WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .bind(ms(now))
        .execute(&mut **tx)
        .await
        .map_err(|e| db_error(e, "update an eval set"))?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// A unique violation on a set's name, as the field it is.
fn name_taken(e: sqlx::Error, doing: &str) -> StoreError {
    match db_error(e, doing) {
        StoreError::Conflict { .. } => StoreError::Conflict { field: "name" },
        other => other,
    }
}

pub(super) async fn list_eval_sets(store: &PgStore, tenant_id: Uuid) -> StoreResult<Vec<EvalSet>> {
    let mut tx = store.tenant_tx(tenant_id).await?;
    let sets = sqlx::query_as::<_, StoredSet>(&format!(
        "{SETS} WHERE s.tenant_id = $1 ORDER BY s.name_key, s.id"
    ))
    .bind(tenant_id)
    .fetch_all(&mut *tx)
    .await
    .map_err(|e| db_error(e, "list eval sets"))?;
    commit(tx, "list eval sets").await?;
    Ok(sets.into_iter().map(EvalSet::from).collect())
}

pub(super) async fn eval_set(
    store: &PgStore,
    tenant_id: Uuid,
    id: Uuid,
) -> StoreResult<Option<EvalSet>> {
    let mut tx = store.tenant_tx(tenant_id).await?;
    let set = set_in(&mut tx, tenant_id, id).await?;
    commit(tx, "read an eval set").await?;
    Ok(set)
}

pub(super) async fn create_eval_set(
    store: &PgStore,
    actor: &Actor,
    tenant_id: Uuid,
    set: EvalSetInput,
    cases: Vec<CaseRow>,
    now: DateTime<Utc>,
) -> StoreResult<EvalSet> {
    let id = Uuid::now_v7();
    let mut tx = store.tenant_tx(tenant_id).await?;
    lock_tenant(&mut tx, "eval_sets", tenant_id).await?;
    let sets: i64 = sqlx::query_scalar("SELECT count(*) FROM eval_sets WHERE tenant_id = $1")
        .bind(tenant_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| db_error(e, "count eval sets"))?;
    check_set_room(sets as u32)?;
    check_case_room(0, cases.len())?;
    sqlx::query(
        "INSERT INTO eval_sets (tenant_id, id, name, name_key, description, created_by, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(&set.name)
    .bind(name_key(&set.name))
    .bind(&set.description)
    .bind(actor.email.as_deref())
    .bind(ms(now))
    .execute(&mut *tx)
    .await
    .map_err(|e| name_taken(e, "store an eval set"))?;
    insert_cases(&mut tx, tenant_id, id, &cases, now).await?;
    let changes = serde_json::json!({ "name": set.name, "cases": cases.len() });
    write_audit(
        &mut tx,
        tenant_id,
        actor,
        &set_audit("eval_set.create", id, changes),
    )
    .await?;
    let created = set_in(&mut tx, tenant_id, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    commit(tx, "commit an eval set").await?;
    Ok(created)
}

pub(super) async fn update_eval_set(
    store: &PgStore,
    actor: &Actor,
    tenant_id: Uuid,
    id: Uuid,
    set: EvalSetInput,
    now: DateTime<Utc>,
) -> StoreResult<EvalSet> {
    let mut tx = store.tenant_tx(tenant_id).await?;
    let done = sqlx::query(
        "UPDATE eval_sets SET name = $3, name_key = $4, description = $5, updated_at = $6 \
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(&set.name)
    .bind(name_key(&set.name))
    .bind(&set.description)
    .bind(ms(now))
    .execute(&mut *tx)
    .await
    .map_err(|e| name_taken(e, "update an eval set"))?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    let changes = serde_json::json!({ "name": set.name, "description": set.description });
    write_audit(
        &mut tx,
        tenant_id,
        actor,
        &set_audit("eval_set.update", id, changes),
    )
    .await?;
    let updated = set_in(&mut tx, tenant_id, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    commit(tx, "commit an eval set").await?;
    Ok(updated)
}

pub(super) async fn delete_eval_set(
    store: &PgStore,
    actor: &Actor,
    tenant_id: Uuid,
    id: Uuid,
) -> StoreResult<()> {
    let mut tx = store.tenant_tx(tenant_id).await?;
    // Locks the set first: a run starting now waits, then finds it gone.
    let found: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM eval_sets WHERE tenant_id = $1 AND id = $2 FOR UPDATE")
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| db_error(e, "lock an eval set"))?;
    if found.is_none() {
        return Err(StoreError::NotFound);
    }
    let running: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM eval_runs WHERE tenant_id = $1 AND set_id = $2 \
         AND status = 'running'",
    )
    .bind(tenant_id)
    .bind(id)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| db_error(e, "read an eval set's runs"))?;
    if running > 0 {
        return Err(refuse_while_running("the set"));
    }
    sqlx::query("DELETE FROM eval_sets WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "delete an eval set"))?;
    let audit = set_audit("eval_set.delete", id, serde_json::json!({}));
    write_audit(&mut tx, tenant_id, actor, &audit).await?;
    commit(tx, "commit an eval set's deletion").await
}

pub(super) async fn eval_cases(
    store: &PgStore,
    tenant_id: Uuid,
    set_id: Uuid,
) -> StoreResult<Vec<EvalCase>> {
    let mut tx = store.tenant_tx(tenant_id).await?;
    let cases = cases_in(&mut tx, tenant_id, set_id, None).await?;
    commit(tx, "read eval cases").await?;
    Ok(cases)
}

pub(super) async fn add_eval_cases(
    store: &PgStore,
    actor: &Actor,
    tenant_id: Uuid,
    set_id: Uuid,
    cases: Vec<CaseRow>,
    now: DateTime<Utc>,
) -> StoreResult<Vec<EvalCase>> {
    let mut tx = store.tenant_tx(tenant_id).await?;
    // One writer of a set's cases at a time: the count holds to commit.
    let locked: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM eval_sets WHERE tenant_id = $1 AND id = $2 FOR UPDATE")
            .bind(tenant_id)
            .bind(set_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| db_error(e, "lock an eval set"))?;
    if locked.is_none() {
        return Err(StoreError::NotFound);
    }
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
    commit(tx, "commit eval cases").await?;
    Ok(added)
}

pub(super) async fn update_eval_case(
    store: &PgStore,
    actor: &Actor,
    tenant_id: Uuid,
    set_id: Uuid,
    id: Uuid,
    case: EvalCaseInput,
    now: DateTime<Utc>,
) -> StoreResult<EvalCase> {
    let mut tx = store.tenant_tx(tenant_id).await?;
    let done = sqlx::query(
        "UPDATE eval_cases SET message = $4, lead = $5, expect = $6, updated_at = $7 \
         WHERE tenant_id = $1 AND set_id = $2 AND id = $3",
    )
    .bind(tenant_id)
    .bind(set_id)
    .bind(id)
    .bind(&case.message)
    .bind(to_json(&case.lead))
    .bind(to_json(&case.expect))
    .bind(ms(now))
    .execute(&mut *tx)
    .await
    .map_err(|e| db_error(e, "update an eval case"))?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    touch_set(&mut tx, tenant_id, set_id, now).await?;
    let audit = case_audit("eval_case.update", set_id, &[id]);
    write_audit(&mut tx, tenant_id, actor, &audit).await?;
    let updated = cases_in(&mut tx, tenant_id, set_id, Some(&[id]))
        .await?
        .pop()
        .ok_or(StoreError::NotFound)?;
    commit(tx, "commit an eval case").await?;
    Ok(updated)
}

pub(super) async fn delete_eval_case(
    store: &PgStore,
    actor: &Actor,
    tenant_id: Uuid,
    set_id: Uuid,
    id: Uuid,
) -> StoreResult<()> {
    let mut tx = store.tenant_tx(tenant_id).await?;
    let done =
        sqlx::query("DELETE FROM eval_cases WHERE tenant_id = $1 AND set_id = $2 AND id = $3")
            .bind(tenant_id)
            .bind(set_id)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, "delete an eval case"))?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    let audit = case_audit("eval_case.delete", set_id, &[id]);
    write_audit(&mut tx, tenant_id, actor, &audit).await?;
    commit(tx, "commit an eval case's deletion").await
}
