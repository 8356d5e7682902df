//! The single SQLite writer, with group commit.
//!
//! SQLite allows one writer at a time and, with `synchronous=FULL`, each commit costs an
//! fsync. Rather than one transaction (and one fsync) per request, every write is sent to
//! one thread that owns the only writing connection. It takes whatever writes are waiting
//! (up to [`MAX_BATCH`]), applies them in one transaction, commits once, and only then
//! answers each caller. A caller is therefore acknowledged only after the commit holding its
//! write is durable, and concurrent writers share the fsync.
//!
//! A write that fails for a reason of its own (unknown plan, stale version) is decided by
//! reading inside the transaction before writing, so it writes nothing and does not disturb
//! its batch. If a statement fails outright, the batch is rolled back and its writes are
//! retried one transaction each, so one bad write cannot fail its neighbours.

use std::sync::mpsc;

use caseload_domain::{
    Change, ChildKind, Fields, Intervention, InterventionId, InterventionStatus, NewIntervention,
    Plan, PlanId, RecordId, RecordMeta, Subject, Timestamp, Version, WriteMode,
};
use rusqlite::{Connection, OptionalExtension as _, params};
use tokio::sync::oneshot;

use super::{SqliteStore, child_row, plan_row};
use crate::rows::{missing_plan, missing_record, table};
use crate::{Put, StoreError};

/// Most writes committed in one transaction.
pub(crate) const MAX_BATCH: usize = 512;
/// Writes waiting beyond this make callers get "unavailable" instead of queueing forever.
const QUEUE: usize = MAX_BATCH * 16;

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// A write for the writer thread.
pub(crate) enum WriteOp {
    CreatePlan {
        fields: Fields,
        reply: Reply<Plan>,
    },
    UpdatePlan {
        id: PlanId,
        change: Change,
        reply: Reply<Plan>,
    },
    PutRecord {
        kind: ChildKind,
        plan: PlanId,
        id: RecordId,
        change: Change,
        reply: Reply<Put>,
    },
    CreateIntervention {
        new: NewIntervention,
        reply: Reply<Intervention>,
    },
    /// Answer once the writes queued before it are committed (readiness).
    Ping {
        done: oneshot::Sender<()>,
    },
    /// Finish what is queued, close the connection, then stop.
    Shutdown {
        done: oneshot::Sender<()>,
    },
}

/// The handle through which the store sends writes.
pub(crate) struct Writer {
    tx: mpsc::SyncSender<WriteOp>,
}

impl Writer {
    /// Starts the writer thread on `conn`.
    pub(crate) fn start(conn: Connection) -> Result<Self, StoreError> {
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        std::thread::Builder::new()
            .name("caseload-sqlite-writer".into())
            .spawn(move || run(conn, rx))
            .map_err(|e| StoreError::Internal(format!("cannot start the writer thread: {e}")))?;
        Ok(Self { tx })
    }

    /// Queues a write; refuses at once when the queue is full (overload) or the writer is gone.
    pub(crate) fn send(&self, op: WriteOp) -> Result<(), StoreError> {
        self.tx.try_send(op).map_err(|e| match e {
            mpsc::TrySendError::Full(_) => {
                StoreError::Unavailable("too many writes waiting".into())
            }
            mpsc::TrySendError::Disconnected(_) => {
                StoreError::Unavailable("the writer has stopped".into())
            }
        })
    }

    /// Whether the writer answers: it has committed everything queued before the probe.
    pub(crate) async fn check(&self) -> Result<(), StoreError> {
        let (done, answered) = oneshot::channel();
        self.send(WriteOp::Ping { done })?;
        answered
            .await
            .map_err(|_| StoreError::Unavailable("the writer has stopped".into()))
    }
}

/// What one write produced, before it is known whether its batch committed.
enum Applied {
    Plan(Result<Plan, StoreError>),
    Put(Result<Put, StoreError>),
    Intervention(Result<Intervention, StoreError>),
}

impl WriteOp {
    /// Answers the caller: with the write's own result if its batch committed, else with
    /// the batch's error. A caller that went away no longer needs the answer; its write
    /// stands, as it would have had the answer arrived a moment earlier.
    fn reply(self, outcome: Result<Applied, StoreError>) {
        fn pick<T>(
            outcome: Result<Applied, StoreError>,
            take: impl FnOnce(Applied) -> Option<Result<T, StoreError>>,
        ) -> Result<T, StoreError> {
            outcome.and_then(|applied| {
                take(applied).unwrap_or_else(|| {
                    Err(StoreError::Internal(
                        "writer answered the wrong operation".into(),
                    ))
                })
            })
        }
        match self {
            Self::CreatePlan { reply, .. } | Self::UpdatePlan { reply, .. } => {
                let _ = reply.send(pick(outcome, |a| match a {
                    Applied::Plan(r) => Some(r),
                    _ => None,
                }));
            }
            Self::PutRecord { reply, .. } => {
                let _ = reply.send(pick(outcome, |a| match a {
                    Applied::Put(r) => Some(r),
                    _ => None,
                }));
            }
            Self::CreateIntervention { reply, .. } => {
                let _ = reply.send(pick(outcome, |a| match a {
                    Applied::Intervention(r) => Some(r),
                    _ => None,
                }));
            }
            Self::Ping { done } | Self::Shutdown { done } => {
                let _ = done.send(());
            }
        }
    }
}

fn run(mut conn: Connection, rx: mpsc::Receiver<WriteOp>) {
    while let Ok(first) = rx.recv() {
        let mut batch = Vec::with_capacity(16);
        let mut pings = Vec::new();
        let mut stop = None;
        for op in std::iter::once(first).chain(std::iter::from_fn(|| rx.try_recv().ok())) {
            match op {
                WriteOp::Shutdown { done } => {
                    stop = Some(done);
                    break;
                }
                WriteOp::Ping { done } => pings.push(done),
                op => batch.push(op),
            }
            if batch.len() >= MAX_BATCH {
                break;
            }
        }
        if !batch.is_empty() {
            commit(&mut conn, batch);
        }
        for done in pings {
            let _ = done.send(());
        }
        if let Some(done) = stop {
            // Writes queued behind the shutdown request are still answered.
            let rest: Vec<_> = std::iter::from_fn(|| rx.try_recv().ok())
                .filter_map(|op| match op {
                    WriteOp::Shutdown { done } | WriteOp::Ping { done } => {
                        let _ = done.send(());
                        None
                    }
                    op => Some(op),
                })
                .collect();
            if !rest.is_empty() {
                commit(&mut conn, rest);
            }
            // Closing checkpoints the WAL into the database file.
            if let Err((_, err)) = conn.close() {
                tracing::warn!(error = %err, "closing the writer connection failed");
            }
            let _ = done.send(());
            return;
        }
    }
}

fn commit(conn: &mut Connection, batch: Vec<WriteOp>) {
    tracing::trace!(size = batch.len(), "committing write batch");
    match transaction(conn, &batch) {
        Ok(results) => {
            for (op, applied) in batch.into_iter().zip(results) {
                op.reply(Ok(applied));
            }
        }
        Err(err) if batch.len() > 1 => {
            tracing::warn!(error = %err, size = batch.len(), "group commit failed; retrying its writes one by one");
            for op in batch {
                let outcome = transaction(conn, std::slice::from_ref(&op))
                    .map_err(StoreError::from)
                    .and_then(|mut v| {
                        v.pop()
                            .ok_or_else(|| StoreError::Internal("empty batch".into()))
                    });
                op.reply(outcome);
            }
        }
        Err(err) => {
            tracing::error!(error = %err, "write failed");
            let message = err.to_string();
            for op in batch {
                op.reply(Err(StoreError::Internal(message.clone())));
            }
        }
    }
}

fn transaction(conn: &mut Connection, ops: &[WriteOp]) -> rusqlite::Result<Vec<Applied>> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut results = Vec::with_capacity(ops.len());
    for op in ops {
        // An error drops `tx`, which rolls back.
        results.push(apply(&tx, op)?);
    }
    tx.commit()?;
    Ok(results)
}

fn apply(conn: &Connection, op: &WriteOp) -> rusqlite::Result<Applied> {
    let now = Timestamp::now();
    Ok(match op {
        WriteOp::CreatePlan { fields, .. } => Applied::Plan(Ok(create_plan(conn, fields, now)?)),
        WriteOp::UpdatePlan { id, change, .. } => {
            Applied::Plan(update_plan(conn, *id, change, now)?)
        }
        WriteOp::PutRecord {
            kind,
            plan,
            id,
            change,
            ..
        } => Applied::Put(put_record(conn, *kind, *plan, id, change, now)?),
        WriteOp::CreateIntervention { new, .. } => {
            Applied::Intervention(create_intervention(conn, new, now)?)
        }
        // Taken out of batches before they are applied.
        WriteOp::Ping { .. } | WriteOp::Shutdown { .. } => {
            Applied::Plan(Err(StoreError::Internal("not a write".into())))
        }
    })
}

fn create_plan(conn: &Connection, fields: &Fields, now: Timestamp) -> rusqlite::Result<Plan> {
    let id = PlanId::new();
    conn.prepare_cached(
        "INSERT INTO plans (id, fields, version, created_at, updated_at) VALUES (?1, ?2, 1, ?3, ?3)",
    )?
    .execute(params![id.to_string(), fields.to_json(), now.as_micros()])?;
    Ok(Plan {
        id,
        fields: fields.clone(),
        meta: RecordMeta {
            version: Version::FIRST,
            created_at: now,
            updated_at: now,
        },
    })
}

fn merge_sql(mode: WriteMode, column: &str, value: &str) -> String {
    match mode {
        WriteMode::Merge => format!("json_patch({column}, {value})"),
        WriteMode::Replace => value.to_owned(),
    }
}

fn update_plan(
    conn: &Connection,
    id: PlanId,
    change: &Change,
    now: Timestamp,
) -> rusqlite::Result<Result<Plan, StoreError>> {
    let sql = format!(
        "UPDATE plans SET fields = {}, version = version + 1, updated_at = ?2 \
         WHERE id = ?3 AND (?4 IS NULL OR version = ?4) \
         RETURNING id, fields, version, created_at, updated_at",
        merge_sql(change.mode, "fields", "?1")
    );
    let row = conn
        .prepare_cached(&sql)?
        .query_row(
            params![
                change.fields.to_json(),
                now.as_micros(),
                id.to_string(),
                change.expected.map(Version::get)
            ],
            plan_row,
        )
        .optional()?;
    if let Some(row) = row {
        return Ok(Plan::try_from(row));
    }
    let current: Option<i64> = conn
        .prepare_cached("SELECT version FROM plans WHERE id = ?1")?
        .query_row([id.to_string()], |r| r.get(0))
        .optional()?;
    Ok(Err(match current {
        None => missing_plan(id),
        Some(v) => StoreError::VersionMismatch { current: Some(v) },
    }))
}

fn put_record(
    conn: &Connection,
    kind: ChildKind,
    plan: PlanId,
    id: &RecordId,
    change: &Change,
    now: Timestamp,
) -> rusqlite::Result<Result<Put, StoreError>> {
    if !SqliteStore::plan_exists(conn, plan)? {
        return Ok(Err(missing_plan(plan)));
    }
    let t = table(kind);
    let returning = "RETURNING plan_id, id, fields, version, created_at, updated_at";
    let row = match change.expected {
        // Unconditional: one upsert. A new record is at version 1; an updated one never is.
        None => {
            let sql = format!(
                "INSERT INTO {t} (plan_id, id, fields, version, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, 1, ?4, ?4) ON CONFLICT (plan_id, id) DO UPDATE SET \
                 fields = {}, version = {t}.version + 1, updated_at = excluded.updated_at {returning}",
                merge_sql(change.mode, &format!("{t}.fields"), "excluded.fields")
            );
            conn.prepare_cached(&sql)?
                .query_row(
                    params![
                        plan.to_string(),
                        id.as_str(),
                        change.fields.to_json(),
                        now.as_micros()
                    ],
                    child_row,
                )
                .optional()?
        }
        // Conditional: only an existing record at the expected version is changed.
        Some(expected) => {
            let sql = format!(
                "UPDATE {t} SET fields = {}, version = version + 1, updated_at = ?2 \
                 WHERE plan_id = ?3 AND id = ?4 AND version = ?5 {returning}",
                merge_sql(change.mode, "fields", "?1")
            );
            conn.prepare_cached(&sql)?
                .query_row(
                    params![
                        change.fields.to_json(),
                        now.as_micros(),
                        plan.to_string(),
                        id.as_str(),
                        expected.get()
                    ],
                    child_row,
                )
                .optional()?
        }
    };
    if let Some(row) = row {
        return Ok(row.into_record(kind).map(|record| Put {
            created: record.meta.version == Version::FIRST,
            record,
        }));
    }
    let current: Option<i64> = conn
        .prepare_cached(&format!(
            "SELECT version FROM {t} WHERE plan_id = ?1 AND id = ?2"
        ))?
        .query_row(params![plan.to_string(), id.as_str()], |r| r.get(0))
        .optional()?;
    Ok(Err(StoreError::VersionMismatch { current }))
}

fn create_intervention(
    conn: &Connection,
    new: &NewIntervention,
    now: Timestamp,
) -> rusqlite::Result<Result<Intervention, StoreError>> {
    if !SqliteStore::plan_exists(conn, new.plan_id)? {
        return Ok(Err(missing_plan(new.plan_id)));
    }
    if let Some((kind, id)) = match &new.subject {
        Subject::Plan => None,
        Subject::Rules(id) => Some((ChildKind::Rules, id)),
        Subject::Performance(id) => Some((ChildKind::Performance, id)),
    } {
        let found = conn
            .prepare_cached(&format!(
                "SELECT 1 FROM {} WHERE plan_id = ?1 AND id = ?2",
                table(kind)
            ))?
            .query_row(params![new.plan_id.to_string(), id.as_str()], |_| Ok(()))
            .optional()?;
        if found.is_none() {
            return Ok(Err(missing_record(kind, new.plan_id, id)));
        }
    }
    let id = InterventionId::new();
    conn.prepare_cached(
        "INSERT INTO interventions (id, plan_id, subject_kind, subject_id, reason, \
         requested_action, details, requester, status, version, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1, ?10, ?10)",
    )?
    .execute(params![
        id.to_string(),
        new.plan_id.to_string(),
        new.subject.kind_name(),
        new.subject.record_id().map(RecordId::as_str),
        new.reason,
        new.requested_action,
        new.details.to_json(),
        new.requester,
        InterventionStatus::Open.as_str(),
        now.as_micros(),
    ])?;
    Ok(Ok(Intervention {
        id,
        request: new.clone(),
        status: InterventionStatus::Open,
        meta: RecordMeta {
            version: Version::FIRST,
            created_at: now,
            updated_at: now,
        },
    }))
}
