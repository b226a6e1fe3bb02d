//! Eval sets and their cases in SQLite.

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;
use uuid::Uuid;

use super::{commit, StoredCase, StoredSet, Tx, CASES, SETS};
use crate::domain::eval::{EvalCase, EvalCaseInput, EvalSet, EvalSetInput};
use crate::store::evals::{
    case_audit, check_case_room, check_set_room, name_key, refuse_while_running, set_audit,
    to_json, CaseRow,
};
use crate::store::sqlite::{db_error, write_audit, SqliteStore};
use crate::store::{Actor, StoreError, StoreResult};

async fn set_in(
    conn: &mut SqliteConnection,
    tenant_id: Uuid,
    id: Uuid,
) -> StoreResult<Option<EvalSet>> {
    sqlx::query_as::<_, StoredSet>(&format!("{SETS} WHERE s.tenant_id = ? AND s.id = ?"))
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await
        .map_err(|e| db_error(e, "read an eval set"))?
        .map(StoredSet::into_set)
        .transpose()
}

async fn cases_in(
    conn: &mut SqliteConnection,
    tenant_id: Uuid,
    set_id: Uuid,
    only: Option<&[Uuid]>,
) -> StoreResult<Vec<EvalCase>> {
    let only = only.map(|ids| to_json(&ids).to_string());
    sqlx::query_as::<_, StoredCase>(&format!(
        "{CASES} WHERE tenant_id = ? AND set_id = ? \
         AND (? IS NULL OR id IN (SELECT value FROM json_each(?))) ORDER BY position"
    ))
    .bind(tenant_id.to_string())
    .bind(set_id.to_string())
    .bind(only.as_deref())
    .bind(only.as_deref())
    .fetch_all(&mut *conn)
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
    let last: i64 = sqlx::query_scalar(
        "SELECT coalesce(max(position), 0) FROM eval_cases WHERE tenant_id = ? AND set_id = ?",
    )
    .bind(tenant_id.to_string())
    .bind(set_id.to_string())
    .fetch_one(&mut **tx)
    .await
    .map_err(|e| db_error(e, "read an eval set's cases"))?;
    let mut ids = Vec::with_capacity(cases.len());
    for (i, row) in cases.iter().enumerate() {
        let id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO eval_cases (tenant_id, set_id, id, position, message, lead, expect, \
             source, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(tenant_id.to_string())
        .bind(set_id.to_string())
        .bind(id.to_string())
        .bind(last + 1 + i as i64)
        .bind(&row.case.message)
        .bind(to_json(&row.case.lead).to_string())
        .bind(to_json(&row.case.expect).to_string())
        .bind(row.source.map(|s| to_json(&s).to_string()))
        .bind(now.timestamp_millis())
        .bind(now.timestamp_millis())
        .execute(&mut **tx)
        .await
        .map_err(|e| db_error(e, "store an eval case"))?;
        ids.push(id);
    }
    Ok(ids)
}

async fn touch_set(tx: &mut Tx, tenant_id: Uuid, id: Uuid, now: DateTime<Utc>) -> StoreResult<()> {
    let done = sqlx::query("UPDATE eval_sets SET updated_at = ? WHERE tenant_id = ? AND id = ?")
        .bind(now.timestamp_millis())
        .bind(tenant_id.to_string())
        .bind(id.to_string())
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

pub(super) async fn list_eval_sets(
    store: &SqliteStore,
    tenant_id: Uuid,
) -> StoreResult<Vec<EvalSet>> {
    sqlx::query_as::<_, StoredSet>(&format!(
        "{SETS} WHERE s.tenant_id = ? ORDER BY s.name_key, s.id"
    ))
    .bind(tenant_id.to_string())
    .fetch_all(&store.pool)
    .await
    .map_err(|e| db_error(e, "list eval sets"))?
    .into_iter()
    .map(StoredSet::into_set)
    .collect()
}

pub(super) async fn eval_set(
    store: &SqliteStore,
    tenant_id: Uuid,
    id: Uuid,
) -> StoreResult<Option<EvalSet>> {
    let mut conn = store
        .pool
        .acquire()
        .await
        .map_err(|e| db_error(e, "read evals"))?;
    set_in(&mut conn, tenant_id, id).await
}

pub(super) async fn create_eval_set(
    store: &SqliteStore,
    actor: &Actor,
    tenant_id: Uuid,
    set: EvalSetInput,
    cases: Vec<CaseRow>,
    now: DateTime<Utc>,
) -> StoreResult<EvalSet> {
    let id = Uuid::now_v7();
    let (_writer, mut tx) = store.write().await?;
    let sets: i64 = sqlx::query_scalar("SELECT count(*) FROM eval_sets WHERE tenant_id = ?")
        .bind(tenant_id.to_string())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| db_error(e, "count eval sets"))?;
    check_set_room(sets as u32)?;
    check_case_room(0, cases.len())?;
    sqlx::query(
        "INSERT INTO eval_sets (tenant_id, id, name, name_key, description, created_by, \
         created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(tenant_id.to_string())
    .bind(id.to_string())
    .bind(&set.name)
    .bind(name_key(&set.name))
    .bind(&set.description)
    .bind(actor.email.as_deref())
    .bind(now.timestamp_millis())
    .bind(now.timestamp_millis())
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
    store: &SqliteStore,
    actor: &Actor,
    tenant_id: Uuid,
    id: Uuid,
    set: EvalSetInput,
    now: DateTime<Utc>,
) -> StoreResult<EvalSet> {
    let (_writer, mut tx) = store.write().await?;
    let done = sqlx::query(
        "UPDATE eval_sets SET name = ?, name_key = ?, description = ?, updated_at = ? \
         WHERE tenant_id = ? AND id = ?",
    )
    .bind(&set.name)
    .bind(name_key(&set.name))
    .bind(&set.description)
    .bind(now.timestamp_millis())
    .bind(tenant_id.to_string())
    .bind(id.to_string())
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
    store: &SqliteStore,
    actor: &Actor,
    tenant_id: Uuid,
    id: Uuid,
) -> StoreResult<()> {
    let (_writer, mut tx) = store.write().await?;
    let running: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM eval_runs WHERE tenant_id = ? AND set_id = ? \
         AND status = 'running'",
    )
    .bind(tenant_id.to_string())
    .bind(id.to_string())
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| db_error(e, "read an eval set's runs"))?;
    if running > 0 {
        return Err(refuse_while_running("the set"));
    }
    let done = sqlx::query("DELETE FROM eval_sets WHERE tenant_id = ? AND id = ?")
        .bind(tenant_id.to_string())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error(e, "delete an eval set"))?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    let audit = set_audit("eval_set.delete", id, serde_json::json!({}));
    write_audit(&mut tx, tenant_id, actor, &audit).await?;
    commit(tx, "commit an eval set's deletion").await
}

pub(super) async fn eval_cases(
    store: &SqliteStore,
    tenant_id: Uuid,
    set_id: Uuid,
) -> StoreResult<Vec<EvalCase>> {
    let mut conn = store
        .pool
        .acquire()
        .await
        .map_err(|e| db_error(e, "read evals"))?;
    cases_in(&mut conn, tenant_id, set_id, None).await
}

pub(super) async fn add_eval_cases(
    store: &SqliteStore,
    actor: &Actor,
    tenant_id: Uuid,
    set_id: Uuid,
    cases: Vec<CaseRow>,
    now: DateTime<Utc>,
) -> StoreResult<Vec<EvalCase>> {
    let (_writer, mut tx) = store.write().await?;
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
    store: &SqliteStore,
    actor: &Actor,
    tenant_id: Uuid,
    set_id: Uuid,
    id: Uuid,
    case: EvalCaseInput,
    now: DateTime<Utc>,
) -> StoreResult<EvalCase> {
    let (_writer, mut tx) = store.write().await?;
    let done = sqlx::query(
        "UPDATE eval_cases SET message = ?, lead = ?, expect = ?, updated_at = ? \
         WHERE tenant_id = ? AND set_id = ? AND id = ?",
    )
    .bind(&case.message)
    .bind(to_json(&case.lead).to_string())
    .bind(to_json(&case.expect).to_string())
    .bind(now.timestamp_millis())
    .bind(tenant_id.to_string())
    .bind(set_id.to_string())
    .bind(id.to_string())
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
    store: &SqliteStore,
    actor: &Actor,
    tenant_id: Uuid,
    set_id: Uuid,
    id: Uuid,
) -> StoreResult<()> {
    let (_writer, mut tx) = store.write().await?;
    let done = sqlx::query("DELETE FROM eval_cases WHERE tenant_id = ? AND set_id = ? AND id = ?")
        .bind(tenant_id.to_string())
        .bind(set_id.to_string())
        .bind(id.to_string())
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
