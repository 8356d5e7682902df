//! The embedded SQLite backend: one file in WAL mode with `synchronous=FULL` and foreign
//! keys on.
//!
//! Writes go through the group-committing writer thread ([`writer`]). Reads run inline on
//! the calling task with a connection from a small pool: a point read from SQLite's page
//! cache takes microseconds, far less than handing it to another thread would, and in WAL
//! mode readers never wait for the writer. The pool holds at most one connection per thread
//! that is reading at the same moment.

pub(crate) mod audit;
mod idempotency;
mod keys;
mod migrate;
mod reads;
mod writer;
mod writes;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use caseload_domain::analytics::{CaseTimeline, Window};
use caseload_domain::{
    Amount, BacktestRecord, Change, ChildKind, ChildRecord, EvaluationId, EvaluationRecord, Fields,
    HistorySummary, Intervention, InterventionId, NewBacktest, NewEvaluation, NewIntervention,
    Page, PageRequest, Plan, PlanId, RecordId, RecordVersion, Subject, Timestamp, Transition,
};
use rusqlite::{Connection, OpenFlags, OptionalExtension as _, params};
use tokio::sync::oneshot;

use crate::audit::Origin;
use crate::rows::{kind_name, missing_plan, missing_record, table};
use crate::{
    Backend, BusinessUnits, CaseEventStore, ConnectOptions, Database, EvaluationStore, Ingested,
    InterventionFilter, InterventionStore, PlanStore, Put, RecordStore, StatusChange, StoreError,
    paginate,
};
use reads::{BACKTEST_COLUMNS, CHILD_COLUMNS, EVALUATION_COLUMNS, INTERVENTION_COLUMNS};
use writer::{Message, WriteOp, Writer};

/// A query on plans, its columns in [`reads::plan_row`] order, spelled out for `concat!`.
macro_rules! plan_select {
    ($rest:literal) => {
        concat!(
            "SELECT id, fields, version, created_at, updated_at, extensions, business_unit \
             FROM plans ",
            $rest
        )
    };
}

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

fn child_select(kind: ChildKind) -> String {
    format!("SELECT {CHILD_COLUMNS} FROM {}", table(kind))
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
        if self.read(|conn| reads::record_exists(conn, ChildKind::Rules, plan, rules))? {
            Ok(())
        } else {
            Err(missing_record(ChildKind::Rules, plan, rules))
        }
    }
}

#[async_trait]
impl PlanStore for SqliteStore {
    async fn create_plan(
        &self,
        fields: Fields,
        extensions: serde_json::Map<String, serde_json::Value>,
        business_unit: String,
        actor: String,
    ) -> Result<Plan, StoreError> {
        let origin = Origin::new(actor);
        self.write(move |conn| {
            writes::create_plan(conn, &fields, &extensions, &business_unit, &origin)
        })
        .await
    }

    async fn update_plan(&self, id: PlanId, change: Change) -> Result<Plan, StoreError> {
        let origin = Origin::new(&change.actor);
        self.write(move |conn| writes::update_plan(conn, id, &change, &origin))
            .await
    }

    async fn plan(&self, id: PlanId) -> Result<Plan, StoreError> {
        let row = self.read(|conn| {
            conn.prepare_cached(plan_select!("WHERE id = ?1"))?
                .query_row([id.to_string()], reads::plan_row)
                .optional()
        })?;
        row.ok_or_else(|| missing_plan(id))?.try_into()
    }

    async fn plan_with_open_interventions(&self, id: PlanId) -> Result<(Plan, i64), StoreError> {
        let row = self.read(|conn| {
            conn.prepare_cached(
                "SELECT id, fields, version, created_at, updated_at, extensions, business_unit, \
                 (SELECT count(*) FROM interventions i WHERE i.plan_id = plans.id \
                  AND i.subject_kind = 'plan' AND i.subject_id IS NULL AND i.status = 'open') \
                 FROM plans WHERE id = ?1",
            )?
            .query_row([id.to_string()], |r| {
                Ok((reads::plan_row(r)?, r.get::<_, i64>(7)?))
            })
            .optional()
        })?;
        let (row, open) = row.ok_or_else(|| missing_plan(id))?;
        Ok((row.try_into()?, open))
    }

    async fn plans(
        &self,
        page: PageRequest,
        business_units: &BusinessUnits,
    ) -> Result<Page<Plan>, StoreError> {
        // The units as a JSON array, matched with json_each; NULL for all.
        let units = business_units
            .as_list()
            .map(|u| serde_json::Value::from(u.to_vec()).to_string());
        let rows = self.read(|conn| {
            conn.prepare_cached(plan_select!(
                "WHERE (?1 IS NULL OR id > ?1) AND (?3 IS NULL OR business_unit IN \
                 (SELECT value FROM json_each(?3))) ORDER BY id LIMIT ?2"
            ))?
            .query_map(
                params![page.after, i64::from(page.size.get()) + 1, units],
                reads::plan_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()
        })?;
        let plans = rows
            .into_iter()
            .map(Plan::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(paginate(plans, &page, |p| p.id.to_string()))
    }

    async fn plan_business_unit(&self, id: PlanId) -> Result<String, StoreError> {
        let unit: Option<String> = self.read(|conn| {
            conn.prepare_cached("SELECT business_unit FROM plans WHERE id = ?1")?
                .query_row([id.to_string()], |r| r.get(0))
                .optional()
        })?;
        unit.ok_or_else(|| missing_plan(id))
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
        let origin = Origin::new(&change.actor);
        self.write(move |conn| writes::put_record(conn, kind, plan, &id, &change, &origin))
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
            .query_row(params![plan.to_string(), id.as_str()], reads::child_row)
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
                    reads::child_row,
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let exists = !rows.is_empty() || reads::plan_exists(conn, plan)?;
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

    async fn record_versions(
        &self,
        kind: ChildKind,
        plan: PlanId,
        id: RecordId,
        page: PageRequest,
    ) -> Result<Page<RecordVersion>, StoreError> {
        let after: Option<i64> = match &page.after {
            Some(key) => Some(
                key.parse()
                    .map_err(|_| StoreError::NotFound(format!("version page '{key}'")))?,
            ),
            None => None,
        };
        let (rows, exists) = self.read(|conn| {
            let exists = reads::record_exists(conn, kind, plan, &id)?;
            let rows = conn
                .prepare_cached(
                    "SELECT version, fields, extensions, changed_by, changed_at FROM record_versions \
                     WHERE kind = ?1 AND plan_id = ?2 AND record_id = ?3 AND (?4 IS NULL OR version < ?4) \
                     ORDER BY version DESC LIMIT ?5",
                )?
                .query_map(
                    params![kind_name(kind), plan.to_string(), id.as_str(), after, i64::from(page.size.get()) + 1],
                    reads::version_row,
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok((rows, exists))
        })?;
        if !exists {
            return Err(missing_record(kind, plan, &id));
        }
        let versions = rows
            .into_iter()
            .map(|r| r.into_version(kind))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(paginate(versions, &page, |v| v.version.get().to_string()))
    }
}

#[async_trait]
impl InterventionStore for SqliteStore {
    async fn create_intervention(&self, new: NewIntervention) -> Result<Intervention, StoreError> {
        let origin = Origin::new(&new.requester);
        self.write(move |conn| writes::create_intervention(conn, &new, &origin))
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
                .prepare_cached(&format!(
                    "SELECT {INTERVENTION_COLUMNS} FROM interventions \
                     WHERE plan_id = ?1 AND (?2 IS NULL OR subject_kind = ?2) \
                     AND (?3 IS NULL OR subject_id = ?3) AND (?4 IS NULL OR status = ?4) \
                     AND (?5 IS NULL OR id < ?5) ORDER BY id DESC LIMIT ?6"
                ))?
                .query_map(
                    params![
                        plan.to_string(),
                        kind,
                        subject_id,
                        status,
                        page.after,
                        i64::from(page.size.get()) + 1
                    ],
                    reads::intervention_row,
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let exists = !rows.is_empty() || reads::plan_exists(conn, plan)?;
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

    async fn intervention(
        &self,
        plan: PlanId,
        id: InterventionId,
    ) -> Result<(Intervention, Vec<Transition>), StoreError> {
        self.read(|conn| reads::intervention_with_history(conn, plan, id))?
    }

    async fn transition(
        &self,
        plan: PlanId,
        id: InterventionId,
        change: StatusChange,
    ) -> Result<(Intervention, Vec<Transition>), StoreError> {
        let origin = Origin::new(&change.by);
        self.write(move |conn| writes::transition(conn, plan, id, &change, &origin))
            .await
    }

    async fn open_interventions(&self, plan: PlanId, subject: Subject) -> Result<i64, StoreError> {
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT count(*) FROM interventions WHERE plan_id = ?1 AND subject_kind = ?2 \
                 AND subject_id IS ?3 AND status = 'open'",
            )?
            .query_row(
                params![
                    plan.to_string(),
                    subject.kind_name(),
                    subject.record_id().map(RecordId::as_str)
                ],
                |r| r.get(0),
            )
        })
    }
}

#[async_trait]
impl EvaluationStore for SqliteStore {
    async fn record_evaluation(&self, new: NewEvaluation) -> Result<EvaluationRecord, StoreError> {
        let origin = Origin::new(&new.evaluated_by);
        self.write(move |conn| writes::record_evaluation(conn, &new, &origin))
            .await
    }

    async fn set_outcome(
        &self,
        plan: PlanId,
        rules: RecordId,
        id: EvaluationId,
        outcome: String,
        amount: Option<Amount>,
        actor: String,
    ) -> Result<EvaluationRecord, StoreError> {
        let origin = Origin::new(actor);
        self.write(move |conn| {
            writes::set_outcome(conn, plan, &rules, id, &outcome, amount.as_ref(), &origin)
        })
        .await
    }

    async fn evaluations(
        &self,
        plan: PlanId,
        rules: RecordId,
        page: PageRequest,
    ) -> Result<Page<EvaluationRecord>, StoreError> {
        self.require_rule(plan, &rules)?;
        let rows = self.read(|conn| {
            conn.prepare_cached(&format!(
                "SELECT {EVALUATION_COLUMNS} FROM evaluations WHERE plan_id = ?1 AND rules_id = ?2 \
                 AND (?3 IS NULL OR id < ?3) ORDER BY id DESC LIMIT ?4"
            ))?
            .query_map(
                params![
                    plan.to_string(),
                    rules.as_str(),
                    page.after,
                    i64::from(page.size.get()) + 1
                ],
                reads::evaluation_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()
        })?;
        let items = rows
            .into_iter()
            .map(EvaluationRecord::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(paginate(items, &page, |e| e.id.to_string()))
    }

    async fn history_summary(
        &self,
        plan: PlanId,
        rules: RecordId,
    ) -> Result<HistorySummary, StoreError> {
        self.require_rule(plan, &rules)?;
        // One statement, so the counts and the dates come from one snapshot.
        let groups = self.read(|conn| {
            conn.prepare_cached(
                "SELECT coalesce(outcome, 'pending') AS o, count(*) AS n, min(evaluated_at), max(evaluated_at) \
                 FROM evaluations WHERE plan_id = ?1 AND rules_id = ?2 GROUP BY o ORDER BY n DESC, o",
            )?
            .query_map(params![plan.to_string(), rules.as_str()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
        })?;
        Ok(HistorySummary {
            count: groups.iter().map(|g| g.1).sum(),
            first: groups.iter().map(|g| g.2).min().map(Timestamp::from_micros),
            last: groups.iter().map(|g| g.3).max().map(Timestamp::from_micros),
            outcomes: groups.into_iter().map(|(o, n, _, _)| (o, n)).collect(),
        })
    }

    async fn samples(
        &self,
        plan: PlanId,
        rules: RecordId,
        limit: u32,
    ) -> Result<Vec<EvaluationRecord>, StoreError> {
        self.require_rule(plan, &rules)?;
        let rows = self.read(|conn| {
            conn.prepare_cached(&format!(
                "SELECT {EVALUATION_COLUMNS} FROM evaluations WHERE plan_id = ?1 AND rules_id = ?2 \
                 ORDER BY id DESC LIMIT ?3"
            ))?
            .query_map(
                params![plan.to_string(), rules.as_str(), i64::from(limit)],
                reads::evaluation_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()
        })?;
        rows.into_iter().map(EvaluationRecord::try_from).collect()
    }

    async fn save_backtest(&self, new: NewBacktest) -> Result<BacktestRecord, StoreError> {
        let origin = Origin::new(&new.run_by);
        self.write(move |conn| writes::save_backtest(conn, &new, &origin))
            .await
    }

    async fn latest_backtest(
        &self,
        plan: PlanId,
        rules: RecordId,
    ) -> Result<Option<BacktestRecord>, StoreError> {
        self.require_rule(plan, &rules)?;
        let row = self.read(|conn| {
            conn.prepare_cached(&format!(
                "SELECT {BACKTEST_COLUMNS} FROM backtests WHERE plan_id = ?1 AND rules_id = ?2 ORDER BY id DESC LIMIT 1"
            ))?
            .query_row(params![plan.to_string(), rules.as_str()], reads::backtest_row)
            .optional()
        })?;
        row.map(BacktestRecord::try_from).transpose()
    }
}

#[async_trait]
impl CaseEventStore for SqliteStore {
    async fn ingest(
        &self,
        plan: PlanId,
        events: Vec<caseload_domain::events::CaseEvent>,
        actor: String,
    ) -> Result<Ingested, StoreError> {
        let origin = Origin::new(actor);
        self.write(move |conn| writes::ingest(conn, plan, &events, &origin))
            .await
    }

    async fn case_event_count(&self, plan: PlanId) -> Result<u64, StoreError> {
        Ok(self.activity(plan)?.events.max(0) as u64)
    }

    async fn activity_generation(&self, plan: PlanId) -> Result<u64, StoreError> {
        Ok(self.activity(plan)?.generation.max(0) as u64)
    }

    async fn fold_timelines(&self, plan: PlanId) -> Result<u64, StoreError> {
        let mut activity = self.activity(plan)?;
        while activity.folded < activity.generation {
            activity = self.write(move |conn| writes::fold(conn, plan)).await?;
        }
        Ok(activity.generation.max(0) as u64)
    }

    async fn case_timelines(
        &self,
        plan: PlanId,
        window: Window,
    ) -> Result<Vec<CaseTimeline>, StoreError> {
        self.fold_timelines(plan).await?;
        self.read_long(move |conn| reads::case_timelines(conn, plan, window))
            .await
    }

    async fn case_timelines_changed(
        &self,
        plan: PlanId,
        after: u64,
    ) -> Result<Vec<CaseTimeline>, StoreError> {
        self.fold_timelines(plan).await?;
        self.read_long(move |conn| reads::case_timelines_changed(conn, plan, after))
            .await
    }
}

impl SqliteStore {
    /// A plan's activity; not found for an unknown plan.
    fn activity(&self, plan: PlanId) -> Result<reads::Activity, StoreError> {
        let found = self.read(|conn| {
            if reads::plan_exists(conn, plan)? {
                reads::activity(conn, &plan.to_string()).map(Some)
            } else {
                Ok(None)
            }
        })?;
        found.ok_or_else(|| missing_plan(plan))
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
