//! The embedded SQLite backend: one file in WAL mode with `synchronous=FULL` and foreign
//! keys on.
//!
//! Writes go through the group-committing writer thread ([`writer`]). Reads run inline on
//! the calling task with a connection from a small pool: a point read from SQLite's page
//! cache takes microseconds, far less than handing it to another thread would, and in WAL
//! mode readers never wait for the writer. The pool holds at most one connection per thread
//! that is reading at the same moment.

mod migrate;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use caseload_domain::{
    Change, ChildKind, ChildRecord, Fields, Intervention, NewIntervention, Page, PageRequest, Plan,
    PlanId, RecordId,
};
use rusqlite::{Connection, OpenFlags, OptionalExtension as _, Row, params};
use tokio::sync::oneshot;

use crate::rows::{ChildRow, InterventionRow, PlanRow, missing_plan, missing_record, table};
use crate::{
    Backend, ConnectOptions, Database, InterventionFilter, InterventionStore, PlanStore, Put,
    RecordStore, StoreError, paginate,
};
use writer::{WriteOp, Writer};

/// How long a connection waits on a lock held by another process before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The SQLite store.
pub(crate) struct SqliteStore {
    path: PathBuf,
    readers: Mutex<Vec<Connection>>,
    max_idle_readers: usize,
    writer: Writer,
}

/// Opens a connection with the settings every connection of the store uses.
fn open_connection(path: &Path, create: bool) -> rusqlite::Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
    )?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// The file named by `sqlite://PATH`, `sqlite:PATH` or `sqlite:///ABSOLUTE/PATH`.
fn file_of(url: &str) -> Result<PathBuf, StoreError> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let rest = rest.split('?').next().unwrap_or(rest);
    if rest.is_empty() || rest.contains(":memory:") || rest.starts_with("file::memory") {
        return Err(StoreError::Config(
            "an in-memory SQLite database cannot be shared by the writer and readers; name a file"
                .into(),
        ));
    }
    Ok(PathBuf::from(rest))
}

pub(crate) fn plan_row(row: &Row<'_>) -> rusqlite::Result<PlanRow> {
    Ok(PlanRow {
        id: row.get(0)?,
        fields: row.get(1)?,
        version: row.get(2)?,
        created_at: row.get(3)?,
        updated_at: row.get(4)?,
    })
}

pub(crate) fn child_row(row: &Row<'_>) -> rusqlite::Result<ChildRow> {
    Ok(ChildRow {
        plan_id: row.get(0)?,
        id: row.get(1)?,
        fields: row.get(2)?,
        version: row.get(3)?,
        created_at: row.get(4)?,
        updated_at: row.get(5)?,
    })
}

fn intervention_row(row: &Row<'_>) -> rusqlite::Result<InterventionRow> {
    Ok(InterventionRow {
        id: row.get(0)?,
        plan_id: row.get(1)?,
        subject_kind: row.get(2)?,
        subject_id: row.get(3)?,
        reason: row.get(4)?,
        requested_action: row.get(5)?,
        details: row.get(6)?,
        requester: row.get(7)?,
        status: row.get(8)?,
        version: row.get(9)?,
        created_at: row.get(10)?,
        updated_at: row.get(11)?,
    })
}

macro_rules! plan_select {
    ($($rest:literal)?) => {
        concat!("SELECT id, fields, version, created_at, updated_at FROM plans" $(, " ", $rest)?)
    };
}

fn child_select(kind: ChildKind) -> String {
    format!(
        "SELECT plan_id, id, fields, version, created_at, updated_at FROM {}",
        table(kind)
    )
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the database file named by `url`.
    pub(crate) async fn open(url: &str, options: &ConnectOptions) -> Result<Self, StoreError> {
        let path = file_of(url)?;
        let path_for_open = path.clone();
        let conn = tokio::task::spawn_blocking(move || -> Result<Connection, StoreError> {
            let mut conn = open_connection(&path_for_open, true)?;
            migrate::run(&mut conn)?;
            Ok(conn)
        })
        .await
        .map_err(|e| StoreError::Internal(format!("opening the database: {e}")))??;
        Ok(Self {
            path,
            readers: Mutex::new(Vec::new()),
            max_idle_readers: options.max_connections.max(1) as usize,
            writer: Writer::start(conn)?,
        })
    }

    /// Runs `read` on a pooled connection, on the calling thread.
    fn read<T>(
        &self,
        read: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let pooled = self
            .readers
            .lock()
            .map(|mut idle| idle.pop())
            .unwrap_or(None);
        let conn = match pooled {
            Some(conn) => conn,
            None => {
                let conn = open_connection(&self.path, false)?;
                conn.execute_batch("PRAGMA query_only = ON;")?;
                conn
            }
        };
        let result = read(&conn);
        if let Ok(mut idle) = self.readers.lock() {
            if idle.len() < self.max_idle_readers {
                idle.push(conn);
            }
        }
        Ok(result?)
    }

    async fn write<T>(
        &self,
        op: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> WriteOp,
    ) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.writer.send(op(reply))?;
        answer
            .await
            .map_err(|_| StoreError::Internal("the writer dropped a write".into()))?
    }

    fn plan_exists(conn: &Connection, id: PlanId) -> rusqlite::Result<bool> {
        conn.prepare_cached("SELECT 1 FROM plans WHERE id = ?1")?
            .query_row([id.to_string()], |_| Ok(()))
            .optional()
            .map(|found| found.is_some())
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
        let row = self.read(|conn| {
            conn.prepare_cached(plan_select!("WHERE id = ?1"))?
                .query_row([id.to_string()], plan_row)
                .optional()
        })?;
        row.ok_or_else(|| missing_plan(id))?.try_into()
    }

    async fn plans(&self, page: PageRequest) -> Result<Page<Plan>, StoreError> {
        let rows = self.read(|conn| {
            conn.prepare_cached(plan_select!(
                "WHERE (?1 IS NULL OR id > ?1) ORDER BY id LIMIT ?2"
            ))?
            .query_map(
                params![page.after, i64::from(page.size.get()) + 1],
                plan_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()
        })?;
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
                    params![plan.to_string(), page.after, i64::from(page.size.get()) + 1],
                    child_row,
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let exists = !rows.is_empty() || Self::plan_exists(conn, plan)?;
            Ok((rows, exists))
        })?;
        if !plan_exists {
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
            .map(|id| id.as_str().to_owned());
        let status = filter.status.map(|s| s.as_str());
        let (rows, plan_exists) = self.read(|conn| {
            let rows = conn
                .prepare_cached(
                    "SELECT id, plan_id, subject_kind, subject_id, reason, requested_action, details, \
                     requester, status, version, created_at, updated_at FROM interventions \
                     WHERE plan_id = ?1 AND (?2 IS NULL OR subject_kind = ?2) \
                     AND (?3 IS NULL OR subject_id = ?3) AND (?4 IS NULL OR status = ?4) \
                     AND (?5 IS NULL OR id < ?5) ORDER BY id DESC LIMIT ?6",
                )?
                .query_map(
                    params![
                        plan.to_string(),
                        kind,
                        subject_id,
                        status,
                        page.after,
                        i64::from(page.size.get()) + 1
                    ],
                    intervention_row,
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let exists = !rows.is_empty() || Self::plan_exists(conn, plan)?;
            Ok((rows, exists))
        })?;
        if !plan_exists {
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
        self.read(|conn| conn.query_row("SELECT 1", [], |_| Ok(())))?;
        self.writer.check().await
    }

    async fn close(&self) {
        let (done, finished) = oneshot::channel();
        if self.writer.send(WriteOp::Shutdown { done }).is_ok() {
            let _ = finished.await;
        }
        if let Ok(mut idle) = self.readers.lock() {
            idle.clear();
        }
    }
}
