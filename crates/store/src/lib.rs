//! Persistence for caseload.
//!
//! One storage interface, split by capability ([`PlanStore`], [`RecordStore`],
//! [`InterventionStore`], [`AuditStore`], [`IdempotencyStore`], ...) and gathered in [`Database`]; two implementations, SQLite (the
//! embedded default) and PostgreSQL (for many instances sharing one database). The backend is
//! chosen once, at start, from the database URL by [`connect`].
//!
//! Both backends have the same layout: a module per capability (`plans`, `records`,
//! `interventions`, `evaluations`, `events`, `audit`, `idempotency`, `keys`) under `sqlite/`
//! and `postgres/`, so a change to one capability touches one file per backend. What does not
//! depend on the SQL dialect (paging, the history summary, the answers of a page read, the
//! `If-Match` check, the record a write answers and its audit before/after) is written once,
//! in `steps`, and used by both.
//!
//! A list page reads what it shows about its items once for the whole page, not once per item
//! ([`InterventionStore::open_plan_interventions`],
//! [`InterventionStore::open_record_interventions`], [`EvaluationStore::history_summaries`],
//! [`EvaluationStore::latest_backtests`]); the read of one item is the page read of that
//! item alone, so the two cannot disagree.
//!
//! Contract shared by both backends, and checked by the same test suite on each:
//! - a write is durable when its future resolves `Ok`;
//! - version checks happen in the database, so several service instances on one PostgreSQL
//!   behave as one service;
//! - a failed call changes nothing;
//! - every change appends its [audit] record in the same transaction.

pub mod audit;
mod error;
mod idempotency;
mod postgres;
mod rows;
mod sqlite;
mod steps;
mod timelines;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use caseload_domain::analytics::{CaseTimeline, Window};
use caseload_domain::{
    Amount, BacktestRecord, Change, ChildKind, ChildRecord, EvaluationId, EvaluationRecord, Fields,
    HistorySummary, Intervention, InterventionId, InterventionStatus, NewBacktest, NewEvaluation,
    NewIntervention, Page, PageRequest, Plan, PlanId, RecordId, RecordVersion, Subject, Timestamp,
    Transition, Version,
};

pub use audit::{AuditAction, AuditFilter, AuditRecord, AuditStore, AuditVerification, ChainBreak};
pub use error::StoreError;
pub use idempotency::{Begin, IN_FLIGHT_LIMIT, IdempotencyStore, StoredResponse};

/// Which business units a listing covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BusinessUnits {
    /// All of them.
    All,
    /// Only these.
    Only(Vec<String>),
}

impl BusinessUnits {
    /// Whether `unit` is among them.
    pub fn contains(&self, unit: &str) -> bool {
        match self {
            Self::All => true,
            Self::Only(units) => units.iter().any(|u| u == unit),
        }
    }

    /// The units as a list to bind, `None` for all.
    pub(crate) fn as_list(&self) -> Option<&[String]> {
        match self {
            Self::All => None,
            Self::Only(units) => Some(units),
        }
    }
}

/// Which backend a [`Database`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// The result of a create-or-update of a rule or performance record.
#[derive(Debug, Clone, PartialEq)]
pub struct Put {
    /// The record as stored.
    pub record: ChildRecord,
    /// Whether the call created it.
    pub created: bool,
}

/// Narrows a list of interventions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InterventionFilter {
    /// Only those about this subject.
    pub subject: Option<Subject>,
    /// Only those in this status.
    pub status: Option<InterventionStatus>,
}

/// Management plans.
#[async_trait]
pub trait PlanStore: Send + Sync {
    /// Stores a new plan with a fresh id at version 1, created by `actor`.
    async fn create_plan(
        &self,
        fields: Fields,
        extensions: serde_json::Map<String, serde_json::Value>,
        business_unit: String,
        actor: String,
    ) -> Result<Plan, StoreError>;
    /// Applies a change to a plan.
    async fn update_plan(&self, id: PlanId, change: Change) -> Result<Plan, StoreError>;
    /// One plan.
    async fn plan(&self, id: PlanId) -> Result<Plan, StoreError>;
    /// One plan and how many `open` intervention requests are about it, read together (the
    /// plan's Retrieve shows both, and is the hottest read).
    async fn plan_with_open_interventions(&self, id: PlanId) -> Result<(Plan, i64), StoreError>;
    /// Plans in creation order.
    async fn plans(
        &self,
        page: PageRequest,
        business_units: &BusinessUnits,
    ) -> Result<Page<Plan>, StoreError>;
    /// The business unit a plan belongs to; not found for an unknown plan.
    async fn plan_business_unit(&self, id: PlanId) -> Result<String, StoreError>;
}

/// Rule and performance records under a plan.
#[async_trait]
pub trait RecordStore: Send + Sync {
    /// Creates the record if the plan has none with this id, else applies the change.
    async fn put_record(
        &self,
        kind: ChildKind,
        plan: PlanId,
        id: RecordId,
        change: Change,
    ) -> Result<Put, StoreError>;
    /// One record of a plan.
    async fn record(
        &self,
        kind: ChildKind,
        plan: PlanId,
        id: RecordId,
    ) -> Result<ChildRecord, StoreError>;
    /// A plan's records of one kind, in id order.
    async fn records(
        &self,
        kind: ChildKind,
        plan: PlanId,
        page: PageRequest,
    ) -> Result<Page<ChildRecord>, StoreError>;
    /// Every version a record has had, newest first (the page key is the version number).
    async fn record_versions(
        &self,
        kind: ChildKind,
        plan: PlanId,
        id: RecordId,
        page: PageRequest,
    ) -> Result<Page<RecordVersion>, StoreError>;
}

/// Recorded evaluations of cases against a criterion, and back-tests run on them.
#[async_trait]
pub trait EvaluationStore: Send + Sync {
    /// Records an evaluation; the criterion must exist.
    async fn record_evaluation(&self, new: NewEvaluation) -> Result<EvaluationRecord, StoreError>;
    /// Attaches what actually happened to a recorded evaluation (replacing an earlier
    /// outcome; an amount given replaces the recorded one), as told by `actor`.
    async fn set_outcome(
        &self,
        plan: PlanId,
        rules: RecordId,
        id: EvaluationId,
        outcome: String,
        amount: Option<Amount>,
        actor: String,
    ) -> Result<EvaluationRecord, StoreError>;
    /// A criterion's recorded evaluations, newest first.
    async fn evaluations(
        &self,
        plan: PlanId,
        rules: RecordId,
        page: PageRequest,
    ) -> Result<Page<EvaluationRecord>, StoreError>;
    /// Counts, dates and outcome mix of a criterion's recorded evaluations: the
    /// [`history_summaries`](Self::history_summaries) of the one criterion.
    async fn history_summary(
        &self,
        plan: PlanId,
        rules: RecordId,
    ) -> Result<HistorySummary, StoreError> {
        let mut summaries = self
            .history_summaries(plan, std::slice::from_ref(&rules))
            .await?;
        Ok(summaries.remove(&rules).unwrap_or_default())
    }
    /// The most recent `limit` recorded evaluations of a criterion, for back-testing.
    async fn samples(
        &self,
        plan: PlanId,
        rules: RecordId,
        limit: u32,
    ) -> Result<Vec<EvaluationRecord>, StoreError>;
    /// Stores a back-test; the criterion must exist.
    async fn save_backtest(&self, new: NewBacktest) -> Result<BacktestRecord, StoreError>;
    /// A criterion's most recent back-test (the one with the greatest id, so the last
    /// saved): the [`latest_backtests`](Self::latest_backtests) of the one criterion.
    async fn latest_backtest(
        &self,
        plan: PlanId,
        rules: RecordId,
    ) -> Result<Option<BacktestRecord>, StoreError> {
        let mut latest = self
            .latest_backtests(plan, std::slice::from_ref(&rules))
            .await?;
        Ok(latest.remove(&rules))
    }
    /// [`history_summary`](Self::history_summary) of each of a plan's criteria `rules`, read
    /// at once (for a page of them): one entry per criterion, the empty summary for one with
    /// no recorded evaluations; not found, naming the first, if any is not a criterion of the
    /// plan.
    async fn history_summaries(
        &self,
        plan: PlanId,
        rules: &[RecordId],
    ) -> Result<HashMap<RecordId, HistorySummary>, StoreError>;
    /// [`latest_backtest`](Self::latest_backtest) of each of a plan's criteria `rules`, read at
    /// once (for a page of them): an entry for each criterion that has a back-test; not found,
    /// naming the first, if any is not a criterion of the plan.
    async fn latest_backtests(
        &self,
        plan: PlanId,
        rules: &[RecordId],
    ) -> Result<HashMap<RecordId, BacktestRecord>, StoreError>;
}

/// Manual intervention requests.
#[async_trait]
pub trait InterventionStore: Send + Sync {
    /// Records a new, open intervention; its subject must exist.
    async fn create_intervention(&self, new: NewIntervention) -> Result<Intervention, StoreError>;
    /// A plan's interventions, newest first.
    async fn interventions(
        &self,
        plan: PlanId,
        filter: InterventionFilter,
        page: PageRequest,
    ) -> Result<Page<Intervention>, StoreError>;
    /// One intervention of a plan, with its lifecycle so far (oldest move first).
    async fn intervention(
        &self,
        plan: PlanId,
        id: InterventionId,
    ) -> Result<(Intervention, Vec<Transition>), StoreError>;
    /// Moves an intervention to `to`, if its lifecycle allows it (else
    /// [`StoreError::IllegalTransition`]) and, when `expected` is given, it is at that version.
    async fn transition(
        &self,
        plan: PlanId,
        id: InterventionId,
        change: StatusChange,
    ) -> Result<(Intervention, Vec<Transition>), StoreError>;
    /// How many `open` interventions are about this subject: its count in
    /// [`open_plan_interventions`](Self::open_plan_interventions) or
    /// [`open_record_interventions`](Self::open_record_interventions).
    async fn open_interventions(&self, plan: PlanId, subject: Subject) -> Result<i64, StoreError> {
        let count = match steps::subject_record(&subject) {
            None => self.open_plan_interventions(&[plan]).await?.remove(&plan),
            Some((kind, id)) => self
                .open_record_interventions(plan, kind, std::slice::from_ref(id))
                .await?
                .remove(id),
        };
        Ok(count.unwrap_or(0))
    }
    /// How many `open` interventions are about each of `plans` itself (not its records),
    /// counted at once (for a page of plans): one entry per plan, 0 for one with none (or
    /// unknown).
    async fn open_plan_interventions(
        &self,
        plans: &[PlanId],
    ) -> Result<HashMap<PlanId, i64>, StoreError>;
    /// How many `open` interventions are about each of a plan's `records` of one kind,
    /// counted at once (for a page of records): one entry per record, 0 for one with none (or
    /// unknown).
    async fn open_record_interventions(
        &self,
        plan: PlanId,
        kind: ChildKind,
        records: &[RecordId],
    ) -> Result<HashMap<RecordId, i64>, StoreError>;
}

/// A move of an intervention's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    /// The status to move to.
    pub to: InterventionStatus,
    /// Who moves it.
    pub by: String,
    /// Why.
    pub comment: Option<String>,
    /// Move only if the intervention is at this version.
    pub expected: Option<Version>,
}

/// What storing a batch of case events did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ingested {
    /// Events stored.
    pub accepted: u64,
    /// Events skipped because the plan already had their `EventId` (from an earlier batch or
    /// earlier in the same one).
    pub duplicates: u64,
}

/// The case activity feed.
#[async_trait]
pub trait CaseEventStore: Send + Sync {
    /// Stores a batch of a plan's case events, sent by `actor`, in one transaction: all of it
    /// or, on failure, none. Events whose `EventId` the plan already has are skipped and
    /// counted.
    async fn ingest(
        &self,
        plan: PlanId,
        events: Vec<caseload_domain::events::CaseEvent>,
        actor: String,
    ) -> Result<Ingested, StoreError>;
    /// How many case events a plan has.
    async fn case_event_count(&self, plan: PlanId) -> Result<u64, StoreError>;
    /// How far a plan's activity has got: a generation that grows with every batch that
    /// added events (0 before the first), so that what was computed from the activity at one
    /// generation stays right for as long as the generation holds.
    async fn activity_generation(&self, plan: PlanId) -> Result<u64, StoreError>;
    /// Folds the events stored since the last fold into the plan's case timelines, in
    /// transactions of a bounded size, and answers the generation they now include. Reading
    /// timelines does this first; calling it after ingesting keeps reads from waiting.
    async fn fold_timelines(&self, plan: PlanId) -> Result<u64, StoreError>;
    /// The timelines of a plan's cases that [matter](CaseTimeline::matters_for) for
    /// `window` (and so for the window before it): those seen in either window, and those
    /// still open; they include every event stored before the call.
    async fn case_timelines(
        &self,
        plan: PlanId,
        window: Window,
    ) -> Result<Vec<Arc<CaseTimeline>>, StoreError>;
    /// The timelines of a plan's cases that changed after generation `after`, whether or not
    /// they matter for any window; they include every event stored before the call.
    async fn case_timelines_changed(
        &self,
        plan: PlanId,
        after: u64,
    ) -> Result<Vec<Arc<CaseTimeline>>, StoreError>;
}

/// An API key as stored: never its secret, only a hash of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// The key's public id (the part of the key before its secret).
    pub id: String,
    /// What it is for, in the creator's words.
    pub name: String,
    /// SHA-256 of the secret.
    pub secret_hash: Vec<u8>,
    /// The scopes it grants.
    pub scopes: Vec<String>,
    /// The business units it may reach; `*` for all.
    pub business_units: Vec<String>,
    /// When and by whom it was created.
    pub created_at: Timestamp,
    /// Who created it.
    pub created_by: String,
    /// When it was revoked, if it was.
    pub revoked_at: Option<Timestamp>,
}

/// API keys.
#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    /// Stores a new key; the audit trail records it (never its secret's hash) on the
    /// service-wide chain, in the same transaction.
    async fn create_api_key(&self, key: ApiKey) -> Result<(), StoreError>;
    /// A key by id, revoked or not.
    async fn api_key(&self, id: &str) -> Result<Option<ApiKey>, StoreError>;
    /// Every key, oldest first.
    async fn api_keys(&self) -> Result<Vec<ApiKey>, StoreError>;
    /// Revokes a key on behalf of `actor` (again is harmless); not found for an unknown id.
    async fn revoke_api_key(&self, id: &str, actor: String) -> Result<ApiKey, StoreError>;
}

/// Everything the service stores.
#[async_trait]
pub trait Database:
    PlanStore
    + RecordStore
    + InterventionStore
    + EvaluationStore
    + CaseEventStore
    + ApiKeyStore
    + AuditStore
    + IdempotencyStore
{
    /// The backend in use.
    fn backend(&self) -> Backend;
    /// Whether the database answers.
    async fn ready(&self) -> Result<(), StoreError>;
    /// Finishes pending writes and closes connections.
    async fn close(&self);
}

/// How to connect.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Largest number of connections (readers, for SQLite).
    pub max_connections: u32,
    /// How long a call waits for a free connection before the store reports itself
    /// unavailable.
    pub acquire_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// Opens the database named by `url` (`sqlite://path`, `sqlite:path`, `postgres://...` or
/// `postgresql://...`), creating an SQLite file if missing, and applies pending migrations.
pub async fn connect(url: &str, options: &ConnectOptions) -> Result<Arc<dyn Database>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::open(url, options).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgStore::open(url, options).await?))
    } else {
        Err(StoreError::Config(
            "database URL must start with sqlite:, postgres:// or postgresql://".to_owned(),
        ))
    }
}
