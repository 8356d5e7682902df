//! The PostgreSQL backend, for many stateless caseload instances sharing one database.
//! Every write is one transaction; version checks and merges happen in SQL, so concurrent
//! instances never lose an update.
//!
//! This module holds the store, its connection and migrations, and the helpers the
//! capabilities share (existence checks and key-share locks); each capability's SQL lives
//! in its own file, named as on SQLite, and hands what it read to the steps both backends
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
mod evaluations;
mod events;
mod idempotency;
mod interventions;
mod keys;
mod plans;
mod records;

use async_trait::async_trait;
use caseload_domain::{ChildKind, PlanId, RecordId, WriteMode};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{PgConnection, Postgres, Transaction};

use crate::rows::{missing_plan, missing_record, table};
use crate::{Backend, ConnectOptions, Database, StoreError};

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
            // After the server restarts, every pooled connection is dead: each is pinged
            // before use and discarded when the ping fails, so service resumes as soon as
            // new connections can be opened (this is sqlx's default, relied on here).
            .test_before_acquire(true)
            .connect(url)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Self { pool })
    }

    async fn begin(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        Ok(self.pool.begin().await?)
    }
}

/// The SQL for a JSONB column's new value: `value` merged over the old one, or replacing it.
fn merge_sql(mode: WriteMode, column: &str, value: &str) -> String {
    match mode {
        WriteMode::Merge => format!("{column} || {value}"),
        WriteMode::Replace => value.to_owned(),
    }
}

/// The condition that a column is one of `count` ids, bound as the text array `param`. For
/// one id, `= (param)[1]`: planned once, like the plain comparison of a single read. For more,
/// `= ANY(param)`, which PostgreSQL plans afresh at every execution (that would double the time
/// of a read of one, but is little for a page).
fn one_of(param: &str, count: usize) -> String {
    if count == 1 {
        format!("= ({param}::text[])[1]")
    } else {
        format!("= ANY({param}::text[])")
    }
}

/// Ids as the text array [`one_of`] matches.
fn id_texts<T: std::fmt::Display>(ids: &[T]) -> Vec<String> {
    ids.iter().map(T::to_string).collect()
}

/// What a create under the request key `key` already made in `table`, read with `columns`:
/// the creation guard (migrations 0008 and 0009). A create run again under the key (its first
/// response lost, or the key expired) returns that instead of making another.
async fn made_under_key<R>(
    conn: &mut PgConnection,
    table: &str,
    columns: &str,
    key: Option<&str>,
) -> Result<Option<R>, StoreError>
where
    R: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    let Some(key) = key else {
        return Ok(None);
    };
    Ok(sqlx::query_as(&format!(
        "SELECT {columns} FROM {table} WHERE request_key = $1"
    ))
    .bind(key)
    .fetch_optional(conn)
    .await?)
}

/// Whether the plan exists.
async fn plan_exists(conn: &mut PgConnection, id: PlanId) -> Result<bool, StoreError> {
    let found: Option<i32> = sqlx::query_scalar("SELECT 1 FROM plans WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(found.is_some())
}

/// Fails with "not found" unless the plan exists; share-locks it so it keeps existing until
/// the transaction ends.
async fn lock_plan(conn: &mut PgConnection, plan: PlanId) -> Result<(), StoreError> {
    let found: Option<i32> = sqlx::query_scalar("SELECT 1 FROM plans WHERE id = $1 FOR KEY SHARE")
        .bind(plan.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    found.map(|_| ()).ok_or_else(|| missing_plan(plan))
}

/// Whether a record exists; with `lock`, share-locks it so it keeps existing until the
/// transaction ends.
async fn record_exists(
    conn: &mut PgConnection,
    kind: ChildKind,
    plan: PlanId,
    id: &RecordId,
    lock: bool,
) -> Result<bool, StoreError> {
    let found: Option<i32> = sqlx::query_scalar(&format!(
        "SELECT 1 FROM {} WHERE plan_id = $1 AND id = $2{}",
        table(kind),
        if lock { " FOR KEY SHARE" } else { "" }
    ))
    .bind(plan.to_string())
    .bind(id.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(found.is_some())
}

/// Fails with "not found" unless the criterion exists.
async fn require_rules(
    conn: &mut PgConnection,
    plan: PlanId,
    rules: &RecordId,
    lock: bool,
) -> Result<(), StoreError> {
    if record_exists(conn, ChildKind::Rules, plan, rules, lock).await? {
        Ok(())
    } else {
        Err(missing_record(ChildKind::Rules, plan, rules))
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
