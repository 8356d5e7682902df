//! A plan's child records (criteria and performance analyses) on PostgreSQL: each write is
//! an insert of a new record or a versioned update of a locked one, under a key-share lock on
//! the plan, and appends the record as written to `record_versions` and its audit record.

use async_trait::async_trait;
use caseload_domain::{
    Change, ChildKind, ChildRecord, Page, PageRequest, PlanId, RecordId, RecordVersion, Timestamp,
};
use serde_json::Value as Json;

use super::{PgStore, audit::append, lock_plan, merge_sql, plan_exists, record_exists};
use crate::audit::Origin;
use crate::rows::{ChildRow, VersionRow, kind_name, missing_plan, missing_record, table};
use crate::{Put, RecordStore, StoreError, steps};

const CHILD_COLUMNS: &str = "plan_id, id, fields::text AS fields, extensions::text AS extensions, \
     version, created_at, updated_at";
const VERSION_COLUMNS: &str =
    "version, fields::text AS fields, extensions::text AS extensions, changed_by, changed_at";

#[async_trait]
impl RecordStore for PgStore {
    async fn put_record(
        &self,
        kind: ChildKind,
        plan: PlanId,
        id: RecordId,
        change: Change,
    ) -> Result<Put, StoreError> {
        let origin = Origin::new(&change.actor);
        let mut tx = self.begin().await?;
        lock_plan(&mut tx, plan).await?;
        let t = table(kind);
        let now = Timestamp::now().as_micros();
        // Extensions given replace the stored ones whole; NULL keeps them.
        let extensions = change.extensions.map(|map| Json::Object(map).to_string());
        // Unconditional: a new record is inserted at version 1. Otherwise (it exists, or the
        // write is conditional) the record is locked and read first, so that the audit
        // record can say what the update changed.
        let inserted: Option<ChildRow> = match change.expected {
            Some(_) => None,
            None => {
                sqlx::query_as(&format!(
                    "INSERT INTO {t} (plan_id, id, fields, extensions, version, created_at, \
                     updated_at) VALUES ($1, $2, $3::jsonb, COALESCE($4::jsonb, '{{}}'::jsonb), 1, \
                     $5, $5) ON CONFLICT (plan_id, id) DO NOTHING RETURNING {CHILD_COLUMNS}"
                ))
                .bind(plan.to_string())
                .bind(id.as_str())
                .bind(change.fields.to_json())
                .bind(extensions.as_deref())
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?
            }
        };
        let (row, before) = match inserted {
            Some(row) => (row, None),
            None => {
                let current: Option<(i64, String, String)> = sqlx::query_as(&format!(
                    "SELECT version, fields::text, extensions::text FROM {t} \
                     WHERE plan_id = $1 AND id = $2 FOR NO KEY UPDATE"
                ))
                .bind(plan.to_string())
                .bind(id.as_str())
                .fetch_optional(&mut *tx)
                .await?;
                let Some((version, fields, stored_extensions)) = current else {
                    return Err(StoreError::VersionMismatch { current: None });
                };
                steps::check_version(change.expected, version)?;
                let sql = format!(
                    "UPDATE {t} SET fields = {}, extensions = COALESCE($2::jsonb, extensions), \
                     version = version + 1, updated_at = $3 \
                     WHERE plan_id = $4 AND id = $5 RETURNING {CHILD_COLUMNS}",
                    merge_sql(change.mode, "fields", "$1::jsonb")
                );
                let row: ChildRow = sqlx::query_as(&sql)
                    .bind(change.fields.to_json())
                    .bind(extensions.as_deref())
                    .bind(now)
                    .bind(plan.to_string())
                    .bind(id.as_str())
                    .fetch_one(&mut *tx)
                    .await?;
                (row, Some((fields, stored_extensions)))
            }
        };
        // The history keeps the record exactly as this write left it.
        sqlx::query(
            "INSERT INTO record_versions (kind, plan_id, record_id, version, fields, extensions, \
             changed_by, changed_at) VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8)",
        )
        .bind(kind_name(kind))
        .bind(&row.plan_id)
        .bind(&row.id)
        .bind(row.version)
        .bind(&row.fields)
        .bind(&row.extensions)
        .bind(&change.actor)
        .bind(row.updated_at)
        .execute(&mut *tx)
        .await?;
        let before = before.as_ref().map(|(f, e)| (f.as_str(), e.as_str()));
        let (put, entry) = steps::record_put(kind, row, before, &origin)?;
        append(&mut tx, &entry).await?;
        tx.commit().await?;
        Ok(put)
    }

    async fn record(
        &self,
        kind: ChildKind,
        plan: PlanId,
        id: RecordId,
    ) -> Result<ChildRecord, StoreError> {
        let row: Option<ChildRow> = sqlx::query_as(&format!(
            "SELECT {CHILD_COLUMNS} FROM {} WHERE plan_id = $1 AND id = $2",
            table(kind)
        ))
        .bind(plan.to_string())
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.ok_or_else(|| missing_record(kind, plan, &id))?
            .into_record(kind)
    }

    async fn records(
        &self,
        kind: ChildKind,
        plan: PlanId,
        page: PageRequest,
    ) -> Result<Page<ChildRecord>, StoreError> {
        let rows: Vec<ChildRow> = sqlx::query_as(&format!(
            "SELECT {CHILD_COLUMNS} FROM {} WHERE plan_id = $1 AND ($2::text IS NULL OR id > $2) \
             ORDER BY id LIMIT $3",
            table(kind)
        ))
        .bind(plan.to_string())
        .bind(page.after.as_deref())
        .bind(steps::fetch_limit(&page))
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() && !plan_exists(&mut *self.pool.acquire().await?, plan).await? {
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
        // The key is a version number; any other (forged) key names no page.
        let after = steps::number_after(&page, "version page")?;
        let rows: Vec<VersionRow> = sqlx::query_as(&format!(
            "SELECT {VERSION_COLUMNS} FROM record_versions WHERE kind = $1 AND plan_id = $2 \
             AND record_id = $3 AND ($4::bigint IS NULL OR version < $4) \
             ORDER BY version DESC LIMIT $5"
        ))
        .bind(kind_name(kind))
        .bind(plan.to_string())
        .bind(id.as_str())
        .bind(after)
        .bind(steps::fetch_limit(&page))
        .fetch_all(&self.pool)
        .await?;
        // Records written before versions were kept have no history, hence the check.
        if rows.is_empty()
            && !record_exists(&mut *self.pool.acquire().await?, kind, plan, &id, false).await?
        {
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
