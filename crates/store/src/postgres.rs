//! The PostgreSQL backend, for many stateless caseload instances sharing one database.
//! Every write is one transaction; version checks and merges happen in SQL, so concurrent
//! instances never lose an update.

use async_trait::async_trait;
use caseload_domain::{
    Change, ChildKind, ChildRecord, Fields, Intervention, InterventionId, InterventionStatus,
    NewIntervention, Page, PageRequest, Plan, PlanId, RecordId, RecordMeta, Subject, Timestamp,
    Version, WriteMode,
};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{PgConnection, Postgres, Transaction};

use crate::rows::{ChildRow, InterventionRow, PlanRow, missing_plan, missing_record, table};
use crate::{
    Backend, ConnectOptions, Database, InterventionFilter, InterventionStore, PlanStore, Put,
    RecordStore, StoreError, paginate,
};

const PLAN_COLUMNS: &str = "id, fields::text AS fields, version, created_at, updated_at";
const CHILD_COLUMNS: &str = "plan_id, id, fields::text AS fields, version, created_at, updated_at";
const INTERVENTION_COLUMNS: &str = "id, plan_id, subject_kind, subject_id, reason, \
     requested_action, details::text AS details, requester, status, version, created_at, updated_at";

/// The PostgreSQL store.
pub(crate) struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects and applies pending migrations (serialised across instances by an advisory
    /// lock).
    pub(crate) async fn open(url: &str, options: &ConnectOptions) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.acquire_timeout)
            .connect(url)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Self { pool })
    }

    async fn begin(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        Ok(self.pool.begin().await?)
    }
}

fn merge_sql(mode: WriteMode, column: &str, value: &str) -> String {
    match mode {
        WriteMode::Merge => format!("{column} || {value}"),
        WriteMode::Replace => value.to_owned(),
    }
}

async fn plan_exists(conn: &mut PgConnection, id: PlanId) -> Result<bool, StoreError> {
    let found: Option<i32> = sqlx::query_scalar("SELECT 1 FROM plans WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(found.is_some())
}

#[async_trait]
impl PlanStore for PgStore {
    async fn create_plan(&self, fields: Fields) -> Result<Plan, StoreError> {
        let id = PlanId::new();
        let now = Timestamp::now();
        sqlx::query(
            "INSERT INTO plans (id, fields, version, created_at, updated_at) \
             VALUES ($1, $2::jsonb, 1, $3, $3)",
        )
        .bind(id.to_string())
        .bind(fields.to_json())
        .bind(now.as_micros())
        .execute(&self.pool)
        .await?;
        Ok(Plan {
            id,
            fields,
            meta: RecordMeta {
                version: Version::FIRST,
                created_at: now,
                updated_at: now,
            },
        })
    }

    async fn update_plan(&self, id: PlanId, change: Change) -> Result<Plan, StoreError> {
        let mut tx = self.begin().await?;
        let sql = format!(
            "UPDATE plans SET fields = {}, version = version + 1, updated_at = $2 \
             WHERE id = $3 AND ($4::bigint IS NULL OR version = $4) RETURNING {PLAN_COLUMNS}",
            merge_sql(change.mode, "fields", "$1::jsonb")
        );
        let row: Option<PlanRow> = sqlx::query_as(&sql)
            .bind(change.fields.to_json())
            .bind(Timestamp::now().as_micros())
            .bind(id.to_string())
            .bind(change.expected.map(Version::get))
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = row {
            tx.commit().await?;
            return row.try_into();
        }
        let current: Option<i64> = sqlx::query_scalar("SELECT version FROM plans WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        Err(match current {
            None => missing_plan(id),
            Some(v) => StoreError::VersionMismatch { current: Some(v) },
        })
    }

    async fn plan(&self, id: PlanId) -> Result<Plan, StoreError> {
        let row: Option<PlanRow> =
            sqlx::query_as(&format!("SELECT {PLAN_COLUMNS} FROM plans WHERE id = $1"))
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await?;
        row.ok_or_else(|| missing_plan(id))?.try_into()
    }

    async fn plans(&self, page: PageRequest) -> Result<Page<Plan>, StoreError> {
        let rows: Vec<PlanRow> = sqlx::query_as(&format!(
            "SELECT {PLAN_COLUMNS} FROM plans WHERE ($1::text IS NULL OR id > $1) \
             ORDER BY id LIMIT $2"
        ))
        .bind(page.after.as_deref())
        .bind(i64::from(page.size.get()) + 1)
        .fetch_all(&self.pool)
        .await?;
        let plans = rows
            .into_iter()
            .map(Plan::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(paginate(plans, &page, |p| p.id.to_string()))
    }
}

#[async_trait]
impl RecordStore for PgStore {
    async fn put_record(
        &self,
        kind: ChildKind,
        plan: PlanId,
        id: RecordId,
        change: Change,
    ) -> Result<Put, StoreError> {
        let mut tx = self.begin().await?;
        // Share-lock the plan so it is known to exist for the whole transaction.
        let found: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM plans WHERE id = $1 FOR KEY SHARE")
                .bind(plan.to_string())
                .fetch_optional(&mut *tx)
                .await?;
        if found.is_none() {
            return Err(missing_plan(plan));
        }
        let t = table(kind);
        let now = Timestamp::now().as_micros();
        let row: Option<ChildRow> = match change.expected {
            // Unconditional: one upsert. A new record is at version 1; an updated one never is.
            None => {
                let sql = format!(
                    "INSERT INTO {t} (plan_id, id, fields, version, created_at, updated_at) \
                     VALUES ($1, $2, $3::jsonb, 1, $4, $4) ON CONFLICT (plan_id, id) DO UPDATE SET \
                     fields = {}, version = {t}.version + 1, updated_at = excluded.updated_at \
                     RETURNING {CHILD_COLUMNS}",
                    merge_sql(change.mode, &format!("{t}.fields"), "excluded.fields")
                );
                sqlx::query_as(&sql)
                    .bind(plan.to_string())
                    .bind(id.as_str())
                    .bind(change.fields.to_json())
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await?
            }
            Some(expected) => {
                let sql = format!(
                    "UPDATE {t} SET fields = {}, version = version + 1, updated_at = $2 \
                     WHERE plan_id = $3 AND id = $4 AND version = $5 RETURNING {CHILD_COLUMNS}",
                    merge_sql(change.mode, "fields", "$1::jsonb")
                );
                sqlx::query_as(&sql)
                    .bind(change.fields.to_json())
                    .bind(now)
                    .bind(plan.to_string())
                    .bind(id.as_str())
                    .bind(expected.get())
                    .fetch_optional(&mut *tx)
                    .await?
            }
        };
        if let Some(row) = row {
            tx.commit().await?;
            let record = row.into_record(kind)?;
            return Ok(Put {
                created: record.meta.version == Version::FIRST,
                record,
            });
        }
        let current: Option<i64> = sqlx::query_scalar(&format!(
            "SELECT version FROM {t} WHERE plan_id = $1 AND id = $2"
        ))
        .bind(plan.to_string())
        .bind(id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        Err(StoreError::VersionMismatch { current })
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
        .bind(i64::from(page.size.get()) + 1)
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() && !plan_exists(&mut *self.pool.acquire().await?, plan).await? {
            return Err(missing_plan(plan));
        }
        let records = rows
            .into_iter()
            .map(|row| row.into_record(kind))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(paginate(records, &page, |r| r.id.to_string()))
    }
}

#[async_trait]
impl InterventionStore for PgStore {
    async fn create_intervention(&self, new: NewIntervention) -> Result<Intervention, StoreError> {
        let mut tx = self.begin().await?;
        let found: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM plans WHERE id = $1 FOR KEY SHARE")
                .bind(new.plan_id.to_string())
                .fetch_optional(&mut *tx)
                .await?;
        if found.is_none() {
            return Err(missing_plan(new.plan_id));
        }
        if let Some((kind, id)) = match &new.subject {
            Subject::Plan => None,
            Subject::Rules(id) => Some((ChildKind::Rules, id)),
            Subject::Performance(id) => Some((ChildKind::Performance, id)),
        } {
            let found: Option<i32> = sqlx::query_scalar(&format!(
                "SELECT 1 FROM {} WHERE plan_id = $1 AND id = $2 FOR KEY SHARE",
                table(kind)
            ))
            .bind(new.plan_id.to_string())
            .bind(id.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            if found.is_none() {
                return Err(missing_record(kind, new.plan_id, id));
            }
        }
        let id = InterventionId::new();
        let now = Timestamp::now();
        sqlx::query(
            "INSERT INTO interventions (id, plan_id, subject_kind, subject_id, reason, \
             requested_action, details, requester, status, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, 1, $10, $10)",
        )
        .bind(id.to_string())
        .bind(new.plan_id.to_string())
        .bind(new.subject.kind_name())
        .bind(new.subject.record_id().map(RecordId::as_str))
        .bind(new.reason.as_deref())
        .bind(new.requested_action.as_deref())
        .bind(new.details.to_json())
        .bind(&new.requester)
        .bind(InterventionStatus::Open.as_str())
        .bind(now.as_micros())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Intervention {
            id,
            request: new,
            status: InterventionStatus::Open,
            meta: RecordMeta {
                version: Version::FIRST,
                created_at: now,
                updated_at: now,
            },
        })
    }

    async fn interventions(
        &self,
        plan: PlanId,
        filter: InterventionFilter,
        page: PageRequest,
    ) -> Result<Page<Intervention>, StoreError> {
        let kind = filter.subject.as_ref().map(|s| s.kind_name());
        let subject_id = filter
            .subject
            .as_ref()
            .and_then(|s| s.record_id())
            .map(RecordId::as_str);
        let rows: Vec<InterventionRow> = sqlx::query_as(&format!(
            "SELECT {INTERVENTION_COLUMNS} FROM interventions WHERE plan_id = $1 \
             AND ($2::text IS NULL OR subject_kind = $2) AND ($3::text IS NULL OR subject_id = $3) \
             AND ($4::text IS NULL OR status = $4) AND ($5::text IS NULL OR id < $5) \
             ORDER BY id DESC LIMIT $6"
        ))
        .bind(plan.to_string())
        .bind(kind)
        .bind(subject_id)
        .bind(filter.status.map(|s| s.as_str()))
        .bind(page.after.as_deref())
        .bind(i64::from(page.size.get()) + 1)
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() && !plan_exists(&mut *self.pool.acquire().await?, plan).await? {
            return Err(missing_plan(plan));
        }
        let items = rows
            .into_iter()
            .map(Intervention::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(paginate(items, &page, |i| i.id.to_string()))
    }
}

#[async_trait]
impl Database for PgStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn ready(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
