//! The single SQLite writer, with group commit.
//!
//! SQLite allows one writer at a time and, with `synchronous=FULL`, each commit costs an
//! fsync. Rather than one transaction (and one fsync) per request, every write is sent to
//! one task that owns the only read-write connection. It takes whatever writes are waiting
//! (up to [`MAX_BATCH`]), applies them in one transaction, commits once, and only then
//! answers each caller. A caller is therefore acknowledged only after the commit holding its
//! write is durable, and concurrent writers share the fsync.
//!
//! A write that fails for a reason of its own (unknown plan, stale version) is decided by
//! reading inside the transaction before writing, so it writes nothing and does not disturb
//! its batch. If a statement fails outright, the batch is rolled back and its writes are
//! retried one transaction each, so one bad write cannot fail its neighbours.

use caseload_domain::{
    Change, ChildKind, Fields, Intervention, InterventionId, InterventionStatus, NewIntervention,
    Plan, PlanId, RecordId, RecordMeta, Subject, Timestamp, Version, WriteMode,
};
use sqlx::SqliteConnection;
use tokio::sync::{mpsc, oneshot};

use crate::rows::{ChildRow, PlanRow, missing_plan, missing_record, table};
use crate::{Put, StoreError};

/// Most writes committed in one transaction.
pub(crate) const MAX_BATCH: usize = 512;

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// A write for the writer task.
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
    /// Finish what is queued, then stop.
    Shutdown {
        done: oneshot::Sender<()>,
    },
}

/// What one write produced, before it is known whether its batch committed.
enum Applied {
    Plan(Result<Plan, StoreError>),
    Put(Result<Put, StoreError>),
    Intervention(Result<Intervention, StoreError>),
    Nothing,
}

impl WriteOp {
    /// Answers the caller: with the write's own result if its batch committed, else with
    /// the batch's error.
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
        // A caller that went away (timeout, disconnect) no longer needs the answer; its
        // write stands, as it would have had the answer arrived a moment earlier.
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
            Self::Shutdown { done } => {
                let _ = done.send(());
            }
        }
    }
}

/// Runs the writer until a [`WriteOp::Shutdown`] arrives or every sender is gone.
pub(crate) async fn run(mut conn: SqliteConnection, mut rx: mpsc::Receiver<WriteOp>) {
    let mut stop = None;
    while let Some(first) = rx.recv().await {
        let mut batch = Vec::with_capacity(16);
        for op in std::iter::once(first).chain(std::iter::from_fn(|| rx.try_recv().ok())) {
            match op {
                WriteOp::Shutdown { done } => {
                    stop = Some(done);
                    break;
                }
                op => batch.push(op),
            }
            if batch.len() >= MAX_BATCH {
                break;
            }
        }
        if !batch.is_empty() {
            commit(&mut conn, batch).await;
        }
        if let Some(done) = stop.take() {
            // Anything queued after the shutdown request is still answered.
            rx.close();
            let rest: Vec<_> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
            if !rest.is_empty() {
                commit(&mut conn, rest).await;
            }
            // Closing checkpoints the WAL into the database file.
            if let Err(err) = sqlx::Connection::close(conn).await {
                tracing::warn!(error = %err, "closing the writer connection failed");
            }
            let _ = done.send(());
            return;
        }
    }
}

async fn commit(conn: &mut SqliteConnection, batch: Vec<WriteOp>) {
    metrics_batch(batch.len());
    match transaction(conn, &batch).await {
        Ok(results) => {
            for (op, applied) in batch.into_iter().zip(results) {
                op.reply(Ok(applied));
            }
        }
        Err(err) if batch.len() > 1 => {
            tracing::warn!(error = %err, size = batch.len(), "group commit failed; retrying its writes one by one");
            for op in batch {
                let outcome = transaction(conn, std::slice::from_ref(&op))
                    .await
                    .map_err(StoreError::from)
                    .and_then(|mut v| v.pop().ok_or_else(|| StoreError::Internal("empty".into())));
                op.reply(outcome);
            }
        }
        Err(err) => {
            tracing::error!(error = %err, "write failed");
            for op in batch {
                op.reply(Err(StoreError::from(clone_error(&err))));
            }
        }
    }
}

fn metrics_batch(size: usize) {
    tracing::trace!(size, "committing write batch");
}

/// `sqlx::Error` is not `Clone`; keep the message.
fn clone_error(err: &sqlx::Error) -> sqlx::Error {
    sqlx::Error::Protocol(err.to_string())
}

async fn transaction(
    conn: &mut SqliteConnection,
    ops: &[WriteOp],
) -> Result<Vec<Applied>, sqlx::Error> {
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
    let mut results = Vec::with_capacity(ops.len());
    for op in ops {
        match apply(conn, op).await {
            Ok(applied) => results.push(applied),
            Err(err) => {
                rollback(conn).await;
                return Err(err);
            }
        }
    }
    if let Err(err) = sqlx::query("COMMIT").execute(&mut *conn).await {
        rollback(conn).await;
        return Err(err);
    }
    Ok(results)
}

async fn rollback(conn: &mut SqliteConnection) {
    if let Err(err) = sqlx::query("ROLLBACK").execute(&mut *conn).await {
        tracing::error!(error = %err, "rollback failed");
    }
}

async fn apply(conn: &mut SqliteConnection, op: &WriteOp) -> Result<Applied, sqlx::Error> {
    let now = Timestamp::now();
    Ok(match op {
        WriteOp::CreatePlan { fields, .. } => {
            Applied::Plan(Ok(create_plan(conn, fields, now).await?))
        }
        WriteOp::UpdatePlan { id, change, .. } => {
            Applied::Plan(update_plan(conn, *id, change, now).await?)
        }
        WriteOp::PutRecord {
            kind,
            plan,
            id,
            change,
            ..
        } => Applied::Put(put_record(conn, *kind, *plan, id, change, now).await?),
        WriteOp::CreateIntervention { new, .. } => {
            Applied::Intervention(create_intervention(conn, new, now).await?)
        }
        WriteOp::Shutdown { .. } => Applied::Nothing,
    })
}

async fn create_plan(
    conn: &mut SqliteConnection,
    fields: &Fields,
    now: Timestamp,
) -> Result<Plan, sqlx::Error> {
    let id = PlanId::new();
    sqlx::query(
        "INSERT INTO plans (id, fields, version, created_at, updated_at) VALUES (?, ?, 1, ?, ?)",
    )
    .bind(id.to_string())
    .bind(fields.to_json())
    .bind(now.as_micros())
    .bind(now.as_micros())
    .execute(&mut *conn)
    .await?;
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

async fn plan_exists(conn: &mut SqliteConnection, id: PlanId) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM plans WHERE id = ?")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(found.is_some())
}

async fn update_plan(
    conn: &mut SqliteConnection,
    id: PlanId,
    change: &Change,
    now: Timestamp,
) -> Result<Result<Plan, StoreError>, sqlx::Error> {
    let sql = format!(
        "UPDATE plans SET fields = {}, version = version + 1, updated_at = ? \
         WHERE id = ? AND (? IS NULL OR version = ?) \
         RETURNING id, fields, version, created_at, updated_at",
        merge_sql(change.mode, "fields", "?")
    );
    let expected = change.expected.map(Version::get);
    let row: Option<PlanRow> = sqlx::query_as(&sql)
        .bind(change.fields.to_json())
        .bind(now.as_micros())
        .bind(id.to_string())
        .bind(expected)
        .bind(expected)
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(row) = row {
        return Ok(Plan::try_from(row));
    }
    let current: Option<i64> = sqlx::query_scalar("SELECT version FROM plans WHERE id = ?")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(Err(match current {
        None => missing_plan(id),
        Some(v) => StoreError::VersionMismatch { current: Some(v) },
    }))
}

async fn put_record(
    conn: &mut SqliteConnection,
    kind: ChildKind,
    plan: PlanId,
    id: &RecordId,
    change: &Change,
    now: Timestamp,
) -> Result<Result<Put, StoreError>, sqlx::Error> {
    if !plan_exists(conn, plan).await? {
        return Ok(Err(missing_plan(plan)));
    }
    let t = table(kind);
    let returning = "RETURNING plan_id, id, fields, version, created_at, updated_at";
    let row: Option<ChildRow> = match change.expected {
        // Unconditional: one upsert. A new record is at version 1; an updated one never is.
        None => {
            let sql = format!(
                "INSERT INTO {t} (plan_id, id, fields, version, created_at, updated_at) \
                 VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT (plan_id, id) DO UPDATE SET \
                 fields = {}, version = {t}.version + 1, updated_at = excluded.updated_at {returning}",
                merge_sql(change.mode, &format!("{t}.fields"), "excluded.fields")
            );
            sqlx::query_as(&sql)
                .bind(plan.to_string())
                .bind(id.as_str())
                .bind(change.fields.to_json())
                .bind(now.as_micros())
                .bind(now.as_micros())
                .fetch_optional(&mut *conn)
                .await?
        }
        // Conditional: only an existing record at the expected version is changed.
        Some(expected) => {
            let sql = format!(
                "UPDATE {t} SET fields = {}, version = version + 1, updated_at = ? \
                 WHERE plan_id = ? AND id = ? AND version = ? {returning}",
                merge_sql(change.mode, "fields", "?")
            );
            sqlx::query_as(&sql)
                .bind(change.fields.to_json())
                .bind(now.as_micros())
                .bind(plan.to_string())
                .bind(id.as_str())
                .bind(expected.get())
                .fetch_optional(&mut *conn)
                .await?
        }
    };
    if let Some(row) = row {
        return Ok(row.into_record(kind).map(|record| Put {
            created: record.meta.version == Version::FIRST,
            record,
        }));
    }
    let current: Option<i64> = sqlx::query_scalar(&format!(
        "SELECT version FROM {t} WHERE plan_id = ? AND id = ?"
    ))
    .bind(plan.to_string())
    .bind(id.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(Err(StoreError::VersionMismatch { current }))
}

async fn create_intervention(
    conn: &mut SqliteConnection,
    new: &NewIntervention,
    now: Timestamp,
) -> Result<Result<Intervention, StoreError>, sqlx::Error> {
    if !plan_exists(conn, new.plan_id).await? {
        return Ok(Err(missing_plan(new.plan_id)));
    }
    if let Some((kind, id)) = match &new.subject {
        Subject::Plan => None,
        Subject::Rules(id) => Some((ChildKind::Rules, id)),
        Subject::Performance(id) => Some((ChildKind::Performance, id)),
    } {
        let found: Option<i64> = sqlx::query_scalar(&format!(
            "SELECT 1 FROM {} WHERE plan_id = ? AND id = ?",
            table(kind)
        ))
        .bind(new.plan_id.to_string())
        .bind(id.as_str())
        .fetch_optional(&mut *conn)
        .await?;
        if found.is_none() {
            return Ok(Err(missing_record(kind, new.plan_id, id)));
        }
    }
    let id = InterventionId::new();
    sqlx::query(
        "INSERT INTO interventions (id, plan_id, subject_kind, subject_id, reason, \
         requested_action, details, requester, status, version, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
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
    .bind(now.as_micros())
    .execute(&mut *conn)
    .await?;
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
