//! Criteria and performance analyses on SQLite, with their version history: put (an
//! upsert, or an update at an expected version), read, list. A put appends the version and
//! its audit record in its write.

use async_trait::async_trait;
use caseload_domain::{
    Change, ChildKind, ChildRecord, Page, PageRequest, PlanId, RecordId, RecordVersion, Timestamp,
};
use rusqlite::{Connection, OptionalExtension as _, Row, params};

use super::audit::{append, failed};
use super::{Refusable, SqliteStore, merge_sql, plan_exists, record_exists};
use crate::audit::Origin;
use crate::rows::{ChildRow, VersionRow, kind_name, missing_plan, missing_record, table};
use crate::{Put, RecordStore, StoreError, steps};

pub(crate) const CHILD_COLUMNS: &str =
    "plan_id, id, fields, extensions, version, created_at, updated_at";

pub(crate) fn child_row(row: &Row<'_>) -> rusqlite::Result<ChildRow> {
    Ok(ChildRow {
        plan_id: row.get(0)?,
        id: row.get(1)?,
        fields: row.get(2)?,
        extensions: row.get(3)?,
        version: row.get(4)?,
        created_at: row.get(5)?,
        updated_at: row.get(6)?,
    })
}

pub(crate) fn version_row(row: &Row<'_>) -> rusqlite::Result<VersionRow> {
    Ok(VersionRow {
        version: row.get(0)?,
        fields: row.get(1)?,
        extensions: row.get(2)?,
        changed_by: row.get(3)?,
        changed_at: row.get(4)?,
    })
}

fn child_select(kind: ChildKind) -> String {
    format!("SELECT {CHILD_COLUMNS} FROM {}", table(kind))
}

#[async_trait]
impl RecordStore for SqliteStore {
    async fn put_record(
        &self,
        kind: ChildKind,
        plan: PlanId,
        id: RecordId,
        change: Change,
    ) -> Result<Put, StoreError> {
        let origin = Origin::new(&change.actor);
        self.write(move |conn| put_record(conn, kind, plan, &id, &change, &origin))
            .await
    }

    async fn record(
        &self,
        kind: ChildKind,
        plan: PlanId,
        id: RecordId,
    ) -> Result<ChildRecord, StoreError> {
        let row = self.read(|conn| {
            conn.prepare_cached(&format!(
                "{} WHERE plan_id = ?1 AND id = ?2",
                child_select(kind)
            ))?
            .query_row(params![plan.to_string(), id.as_str()], child_row)
            .optional()
        })?;
        row.ok_or_else(|| missing_record(kind, plan, &id))?
            .into_record(kind)
    }

    async fn records(
        &self,
        kind: ChildKind,
        plan: PlanId,
        page: PageRequest,
    ) -> Result<Page<ChildRecord>, StoreError> {
        let (rows, plan_exists) = self.read(|conn| {
            let rows = conn
                .prepare_cached(&format!(
                    "{} WHERE plan_id = ?1 AND (?2 IS NULL OR id > ?2) ORDER BY id LIMIT ?3",
                    child_select(kind)
                ))?
                .query_map(
                    params![plan.to_string(), page.after, steps::fetch_limit(&page)],
                    child_row,
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let exists = !rows.is_empty() || plan_exists(conn, plan)?;
            Ok((rows, exists))
        })?;
        if !plan_exists {
            return Err(missing_plan(plan));
        }
        steps::page_of(
            rows,
            &page,
            |row| row.into_record(kind),
            |r| r.id.to_string(),
        )
    }

    async fn record_versions(
        &self,
        kind: ChildKind,
        plan: PlanId,
        id: RecordId,
        page: PageRequest,
    ) -> Result<Page<RecordVersion>, StoreError> {
        let after = steps::number_after(&page, "version page")?;
        let (rows, exists) = self.read(|conn| {
            let exists = record_exists(conn, kind, plan, &id)?;
            let rows = conn
                .prepare_cached(
                    "SELECT version, fields, extensions, changed_by, changed_at FROM record_versions \
                     WHERE kind = ?1 AND plan_id = ?2 AND record_id = ?3 AND (?4 IS NULL OR version < ?4) \
                     ORDER BY version DESC LIMIT ?5",
                )?
                .query_map(
                    params![kind_name(kind), plan.to_string(), id.as_str(), after, steps::fetch_limit(&page)],
                    version_row,
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok((rows, exists))
        })?;
        if !exists {
            return Err(missing_record(kind, plan, &id));
        }
        steps::page_of(
            rows,
            &page,
            |r| r.into_version(kind),
            |v| v.version.to_string(),
        )
    }
}

pub(crate) fn put_record(
    conn: &Connection,
    kind: ChildKind,
    plan: PlanId,
    id: &RecordId,
    change: &Change,
    origin: &Origin,
) -> Refusable<Put> {
    if !plan_exists(conn, plan)? {
        return Ok(Err(missing_plan(plan)));
    }
    let t = table(kind);
    let current: Option<(String, String)> = conn
        .prepare_cached(&format!(
            "SELECT fields, extensions FROM {t} WHERE plan_id = ?1 AND id = ?2"
        ))?
        .query_row(params![plan.to_string(), id.as_str()], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let now = Timestamp::now().as_micros();
    let extensions = change
        .extensions
        .as_ref()
        .map(|e| serde_json::Value::Object(e.clone()).to_string());
    let returning = "RETURNING plan_id, id, fields, extensions, version, created_at, updated_at";
    let row = match change.expected {
        // Unconditional: one upsert. A new record is at version 1; an updated one never is.
        None => {
            let sql = format!(
                "INSERT INTO {t} (plan_id, id, fields, extensions, version, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, coalesce(?5, '{{}}'), 1, ?4, ?4) ON CONFLICT (plan_id, id) DO UPDATE SET \
                 fields = {}, extensions = coalesce(?5, {t}.extensions), version = {t}.version + 1, \
                 updated_at = excluded.updated_at {returning}",
                merge_sql(change.mode, &format!("{t}.fields"), "excluded.fields")
            );
            conn.prepare_cached(&sql)?
                .query_row(
                    params![
                        plan.to_string(),
                        id.as_str(),
                        change.fields.to_json(),
                        now,
                        extensions
                    ],
                    child_row,
                )
                .optional()?
        }
        // Conditional: only an existing record at the expected version is changed.
        Some(expected) => {
            let sql = format!(
                "UPDATE {t} SET fields = {}, extensions = coalesce(?6, extensions), version = version + 1, \
                 updated_at = ?2 WHERE plan_id = ?3 AND id = ?4 AND version = ?5 {returning}",
                merge_sql(change.mode, "fields", "?1")
            );
            conn.prepare_cached(&sql)?
                .query_row(
                    params![
                        change.fields.to_json(),
                        now,
                        plan.to_string(),
                        id.as_str(),
                        expected.get(),
                        extensions
                    ],
                    child_row,
                )
                .optional()?
        }
    };
    let Some(row) = row else {
        let current: Option<i64> = conn
            .prepare_cached(&format!(
                "SELECT version FROM {t} WHERE plan_id = ?1 AND id = ?2"
            ))?
            .query_row(params![plan.to_string(), id.as_str()], |r| r.get(0))
            .optional()?;
        return Ok(Err(StoreError::VersionMismatch { current }));
    };
    conn.prepare_cached(
        "INSERT INTO record_versions (kind, plan_id, record_id, version, fields, extensions, changed_by, changed_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        kind_name(kind),
        row.plan_id,
        row.id,
        row.version,
        row.fields,
        row.extensions,
        change.actor,
        row.updated_at
    ])?;
    let before = current.as_ref().map(|(f, e)| (f.as_str(), e.as_str()));
    let (put, entry) = steps::record_put(kind, row, before, origin).map_err(failed)?;
    append(conn, &entry)?;
    Ok(Ok(put))
}
