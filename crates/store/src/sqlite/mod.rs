//! The embedded SQLite backend: one file in WAL mode with `synchronous=FULL` and foreign
//! keys on.
//!
//! Writes go through the group-committing writer thread ([`writer`]). Reads run inline on
//! the calling task with a connection from a small pool: a point read from SQLite's page
//! cache takes microseconds, far less than handing it to another thread would, and in WAL
//! mode readers never wait for the writer. The pool holds at most one connection per thread
//! that is reading at the same moment.
//!
//! Each write runs inside a batch's transaction on the writer thread. Each decides refusals
//! of its own (unknown ids, stale versions, illegal moves) by reading first, so a refused
//! write writes nothing. Each write that changes something appends its audit record last;
//! anything that fails after the first change fails the whole write (a `rusqlite` error), so
//! a change is never committed without its record.
//!
//! This module holds the store, its connections and the helpers the capabilities share
//! (existence checks, the creation guard); each capability's SQL, reads and writes, lives in
//! its own file, named as on PostgreSQL, and hands what it read to the steps both backends
//! share ([`crate::steps`]):
//!
//! - [`plans`]: management plans ([`PlanStore`](crate::PlanStore));
//! - [`records`]: criteria and performance analyses with their version history
//!   ([`RecordStore`](crate::RecordStore));
//! - [`evaluations`]: recorded evaluations, outcomes and back-tests
//!   ([`EvaluationStore`](crate::EvaluationStore));
//! - [`interventions`]: intervention requests and their lifecycle
//!   ([`InterventionStore`](crate::InterventionStore));
//! - [`events`]: case events and the case timelines folded from them
//!   ([`CaseEventStore`](crate::CaseEventStore));
//! - [`audit`]: the audit trail every write above appends to ([`AuditStore`](crate::AuditStore));
//! - [`idempotency`]: idempotency keys and the responses kept for replay
//!   ([`IdempotencyStore`](crate::IdempotencyStore)).

pub(crate) mod audit;
mod cache;
mod evaluations;
mod events;
mod idempotency;
mod interventions;
mod keys;
mod migrate;
mod plans;
mod records;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use caseload_domain::{ChildKind, PlanId, RecordId, Subject, WriteMode};
use rusqlite::{Connection, OpenFlags, OptionalExtension as _, params};
use tokio::sync::oneshot;

use crate::audit::Origin;
use crate::rows::{missing_plan, missing_record, table};
use crate::{Backend, ConnectOptions, Database, StoreError, steps};
use writer::{Message, WriteOp, Writer};

/// How long a connection waits on a lock held by another process before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The SQLite store.
pub(crate) struct SqliteStore {
    path: PathBuf,
    readers: Mutex<Vec<Connection>>,
    max_idle_readers: usize,
    writer: Writer,
    /// Plans as last read, while nothing has committed since ([`cache`]).
    plans: cache::PlanCache,
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

impl SqliteStore {
    /// Opens (creating if needed) and migrates the database file named by `url`.
    pub(crate) async fn open(url: &str, options: &ConnectOptions) -> Result<Self, StoreError> {
        let path = file_of(url)?;
        let path_for_open = path.clone();
        let conn = tokio::task::spawn_blocking(move || -> Result<Connection, StoreError> {
            let mut conn = open_connection(&path_for_open, true)?;
            migrate::run(&mut conn)?;
            // The writer revisits the pages of recently active cases batch after batch: a
            // page cache of its own (64 MiB at most, filled only as used) keeps them from
            // being read back from the file each time.
            conn.execute_batch("PRAGMA cache_size = -65536;")?;
            Ok(conn)
        })
        .await
        .map_err(|e| StoreError::Internal(format!("opening the database: {e}")))??;
        Ok(Self {
            path,
            readers: Mutex::new(Vec::new()),
            max_idle_readers: options.max_connections.max(1) as usize,
            writer: Writer::start(conn)?,
            plans: cache::PlanCache::default(),
        })
    }

    /// Runs `read` on a pooled connection, on the calling thread.
    fn read<T>(
        &self,
        read: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let conn = self.reader()?;
        let result = read(&conn);
        self.put_back(conn);
        Ok(result?)
    }

    /// Runs a long `read` (one that scans many rows) on a pooled connection, on a blocking
    /// thread, so that it does not hold up the requests sharing the caller's thread.
    async fn read_long<T: Send + 'static>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = self.reader()?;
        let (conn, result) = tokio::task::spawn_blocking(move || {
            let result = read(&conn);
            (conn, result)
        })
        .await
        .map_err(|e| StoreError::Internal(format!("a read failed: {e}")))?;
        self.put_back(conn);
        result
    }

    /// An idle reading connection, or a new one.
    fn reader(&self) -> Result<Connection, StoreError> {
        let pooled = self
            .readers
            .lock()
            .map(|mut idle| idle.pop())
            .unwrap_or(None);
        match pooled {
            Some(conn) => Ok(conn),
            None => {
                let conn = open_connection(&self.path, false)?;
                conn.execute_batch("PRAGMA query_only = ON;")?;
                Ok(conn)
            }
        }
    }

    /// Keeps a reading connection for the next read, up to the pool's size.
    fn put_back(&self, conn: Connection) {
        if let Ok(mut idle) = self.readers.lock()
            && idle.len() < self.max_idle_readers
        {
            idle.push(conn);
        }
    }

    /// Runs `work` in the writer's next group commit and answers once it is durable.
    async fn write<T: Send + 'static>(
        &self,
        work: impl Fn(&Connection) -> rusqlite::Result<Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.writer
            .send(Message::Write(WriteOp::new(work, reply)))?;
        answer
            .await
            .map_err(|_| StoreError::Internal("the writer dropped a write".into()))?
    }

    /// Fails with "not found" unless the rule exists.
    fn require_rule(&self, plan: PlanId, rules: &RecordId) -> Result<(), StoreError> {
        if self.read(|conn| record_exists(conn, ChildKind::Rules, plan, rules))? {
            Ok(())
        } else {
            Err(missing_record(ChildKind::Rules, plan, rules))
        }
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
        if self.writer.send(Message::Shutdown(done)).is_ok() {
            let _ = finished.await;
        }
        if let Ok(mut idle) = self.readers.lock() {
            idle.clear();
        }
    }
}

type Refusable<T> = rusqlite::Result<Result<T, StoreError>>;

/// What a create under the request key of `origin` already made in `table`, read with
/// `columns` into `row`: the creation guard (migrations 0008 and 0009). A create run again
/// under the key (its first response lost, or the key expired) returns that instead of
/// making another.
fn made_under_key<R>(
    conn: &Connection,
    table: &str,
    columns: &str,
    origin: &Origin,
    row: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<R>,
) -> rusqlite::Result<Option<R>> {
    let Some(key) = &origin.request_key else {
        return Ok(None);
    };
    conn.prepare_cached(&format!(
        "SELECT {columns} FROM {table} WHERE request_key = ?1"
    ))?
    .query_row([key], row)
    .optional()
}

fn merge_sql(mode: WriteMode, column: &str, value: &str) -> String {
    match mode {
        WriteMode::Merge => format!("json_patch({column}, {value})"),
        WriteMode::Replace => value.to_owned(),
    }
}

/// How a page read matches a column against `ids`, bound as the one parameter `param`: the
/// condition, and the parameter's value. One id is compared with `=`, as cheap as the single
/// read it is; more are bound as a JSON array of their text and matched with `json_each`.
fn one_of<T: std::fmt::Display>(param: &str, ids: &[T]) -> (String, String) {
    match ids {
        [id] => (format!("= {param}"), id.to_string()),
        _ => {
            let texts = ids.iter().map(T::to_string).collect::<Vec<_>>();
            (
                format!("IN (SELECT value FROM json_each({param}))"),
                serde_json::Value::from(texts).to_string(),
            )
        }
    }
}

pub(crate) fn plan_exists(conn: &Connection, id: PlanId) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM plans WHERE id = ?1")?
        .query_row([id.to_string()], |_| Ok(()))
        .optional()
        .map(|found| found.is_some())
}

pub(crate) fn record_exists(
    conn: &Connection,
    kind: ChildKind,
    plan: PlanId,
    id: &RecordId,
) -> rusqlite::Result<bool> {
    conn.prepare_cached(&format!(
        "SELECT 1 FROM {} WHERE plan_id = ?1 AND id = ?2",
        table(kind)
    ))?
    .query_row(params![plan.to_string(), id.as_str()], |_| Ok(()))
    .optional()
    .map(|found| found.is_some())
}

fn subject_exists(conn: &Connection, plan: PlanId, subject: &Subject) -> Refusable<()> {
    if !plan_exists(conn, plan)? {
        return Ok(Err(missing_plan(plan)));
    }
    let Some((kind, id)) = steps::subject_record(subject) else {
        return Ok(Ok(()));
    };
    let found = conn
        .prepare_cached(&format!(
            "SELECT 1 FROM {} WHERE plan_id = ?1 AND id = ?2",
            table(kind)
        ))?
        .query_row(params![plan.to_string(), id.as_str()], |_| Ok(()))
        .optional()?;
    Ok(found.ok_or_else(|| missing_record(kind, plan, id)))
}
