//! The embedded SQLite backend: one file in WAL mode with `synchronous=FULL` and foreign
//! keys on. Writes go through the group-committing writer task ([`writer`]); reads use a
//! pool of read-only connections, which WAL lets run beside the writer.

mod writer;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use caseload_domain::{
    Change, ChildKind, ChildRecord, Fields, Intervention, NewIntervention, Page, PageRequest, Plan,
    PlanId, RecordId,
};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions as _, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use crate::rows::{ChildRow, InterventionRow, PlanRow, missing_plan, missing_record, table};
use crate::{
    Backend, ConnectOptions, Database, InterventionFilter, InterventionStore, PlanStore, Put,
    RecordStore, StoreError, paginate,
};
use writer::WriteOp;

/// How long a connection waits on a lock held by another process before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The SQLite store.
pub(crate) struct SqliteStore {
    reads: SqlitePool,
    writes: mpsc::Sender<WriteOp>,
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the database file named by `url`.
    pub(crate) async fn open(url: &str, options: &ConnectOptions) -> Result<Self, StoreError> {
        let base = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Config(e.to_string()))?
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        if base.get_filename().as_os_str().is_empty() || url.contains(":memory:") {
            return Err(StoreError::Config(
                "an in-memory SQLite database cannot be shared by the writer and readers; name a file"
                    .into(),
            ));
        }
        let mut writer = base.clone().create_if_missing(true).connect().await?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&mut writer)
            .await?;
        let reads = SqlitePoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.acquire_timeout)
            .connect_with(base.read_only(true))
            .await?;
        let (tx, rx) = mpsc::channel(writer::MAX_BATCH * 8);
        tokio::spawn(writer::run(writer, rx));
        Ok(Self { reads, writes: tx })
    }

    async fn write<T>(
        &self,
        op: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> WriteOp,
    ) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.writes
            .send(op(reply))
            .await
            .map_err(|_| StoreError::Unavailable("the writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Internal("the writer dropped a write".into()))?
    }

    async fn plan_exists(&self, id: PlanId) -> Result<bool, StoreError> {
        let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM plans WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&self.reads)
            .await?;
        Ok(found.is_some())
    }
}

#[async_trait]
impl PlanStore for SqliteStore {
    async fn create_plan(&self, fields: Fields) -> Result<Plan, StoreError> {
        self.write(|reply| WriteOp::CreatePlan { fields, reply })
            .await
    }

    async fn update_plan(&self, id: PlanId, change: Change) -> Result<Plan, StoreError> {
        self.write(|reply| WriteOp::UpdatePlan { id, change, reply })
            .await
    }

    async fn plan(&self, id: PlanId) -> Result<Plan, StoreError> {
        let row: Option<PlanRow> = sqlx::query_as(
            "SELECT id, fields, version, created_at, updated_at FROM plans WHERE id = ?",
        )
        .bind(id.to_string())
        .fetch_optional(&self.reads)
        .await?;
        row.ok_or_else(|| missing_plan(id))?.try_into()
    }

    async fn plans(&self, page: PageRequest) -> Result<Page<Plan>, StoreError> {
        let rows: Vec<PlanRow> = sqlx::query_as(
            "SELECT id, fields, version, created_at, updated_at FROM plans \
             WHERE (? IS NULL OR id > ?) ORDER BY id LIMIT ?",
        )
        .bind(page.after.as_deref())
        .bind(page.after.as_deref())
        .bind(i64::from(page.size.get()) + 1)
        .fetch_all(&self.reads)
        .await?;
        let plans = rows
            .into_iter()
            .map(Plan::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(paginate(plans, &page, |p| p.id.to_string()))
    }
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
        self.write(|reply| WriteOp::PutRecord {
            kind,
            plan,
            id,
            change,
            reply,
        })
        .await
    }

    async fn record(
        &self,
        kind: ChildKind,
        plan: PlanId,
        id: RecordId,
    ) -> Result<ChildRecord, StoreError> {
        let row: Option<ChildRow> = sqlx::query_as(&format!(
            "SELECT plan_id, id, fields, version, created_at, updated_at FROM {} \
             WHERE plan_id = ? AND id = ?",
            table(kind)
        ))
        .bind(plan.to_string())
        .bind(id.as_str())
        .fetch_optional(&self.reads)
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
            "SELECT plan_id, id, fields, version, created_at, updated_at FROM {} \
             WHERE plan_id = ? AND (? IS NULL OR id > ?) ORDER BY id LIMIT ?",
            table(kind)
        ))
        .bind(plan.to_string())
        .bind(page.after.as_deref())
        .bind(page.after.as_deref())
        .bind(i64::from(page.size.get()) + 1)
        .fetch_all(&self.reads)
        .await?;
        if rows.is_empty() && !self.plan_exists(plan).await? {
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
impl InterventionStore for SqliteStore {
    async fn create_intervention(&self, new: NewIntervention) -> Result<Intervention, StoreError> {
        self.write(|reply| WriteOp::CreateIntervention { new, reply })
            .await
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
        let status = filter.status.map(|s| s.as_str());
        let rows: Vec<InterventionRow> = sqlx::query_as(
            "SELECT id, plan_id, subject_kind, subject_id, reason, requested_action, details, \
             requester, status, version, created_at, updated_at FROM interventions \
             WHERE plan_id = ? AND (? IS NULL OR subject_kind = ?) \
             AND (? IS NULL OR subject_id = ?) AND (? IS NULL OR status = ?) \
             AND (? IS NULL OR id < ?) ORDER BY id DESC LIMIT ?",
        )
        .bind(plan.to_string())
        .bind(kind)
        .bind(kind)
        .bind(subject_id)
        .bind(subject_id)
        .bind(status)
        .bind(status)
        .bind(page.after.as_deref())
        .bind(page.after.as_deref())
        .bind(i64::from(page.size.get()) + 1)
        .fetch_all(&self.reads)
        .await?;
        if rows.is_empty() && !self.plan_exists(plan).await? {
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
impl Database for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn ready(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.reads).await?;
        if self.writes.is_closed() {
            return Err(StoreError::Unavailable("the writer has stopped".into()));
        }
        Ok(())
    }

    async fn close(&self) {
        let (done, finished) = oneshot::channel();
        if self.writes.send(WriteOp::Shutdown { done }).await.is_ok() {
            let _ = finished.await;
        }
        self.reads.close().await;
    }
}
