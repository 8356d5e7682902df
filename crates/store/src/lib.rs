//! Persistence for caseload.
//!
//! One storage interface, split by capability ([`PlanStore`], [`RecordStore`],
//! [`InterventionStore`]) and gathered in [`Database`]; two implementations, SQLite (the
//! embedded default) and PostgreSQL (for many instances sharing one database). The backend is
//! chosen once, at start, from the database URL by [`connect`].
//!
//! Contract shared by both backends, and checked by the same test suite on each:
//! - a write is durable when its future resolves `Ok`;
//! - version checks happen in the database, so several service instances on one PostgreSQL
//!   behave as one service;
//! - a failed call changes nothing.

mod error;
mod postgres;
mod rows;
mod sqlite;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use caseload_domain::{
    Change, ChildKind, ChildRecord, Fields, Intervention, InterventionStatus, NewIntervention,
    Page, PageRequest, Plan, PlanId, RecordId, Subject,
};

pub use error::StoreError;

/// Which backend a [`Database`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// The result of a create-or-update of a rule or performance record.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// Stores a new plan with a fresh id at version 1.
    async fn create_plan(&self, fields: Fields) -> Result<Plan, StoreError>;
    /// Applies a change to a plan.
    async fn update_plan(&self, id: PlanId, change: Change) -> Result<Plan, StoreError>;
    /// One plan.
    async fn plan(&self, id: PlanId) -> Result<Plan, StoreError>;
    /// Plans in creation order.
    async fn plans(&self, page: PageRequest) -> Result<Page<Plan>, StoreError>;
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
}

/// Everything the service stores.
#[async_trait]
pub trait Database: PlanStore + RecordStore + InterventionStore {
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

/// The page of `items` fetched with one extra row: trims it and reports where to go on.
fn paginate<T>(mut items: Vec<T>, page: &PageRequest, key: impl Fn(&T) -> String) -> Page<T> {
    let size = page.size.get() as usize;
    let more = items.len() > size;
    items.truncate(size);
    let next_after = if more { items.last().map(key) } else { None };
    Page { items, next_after }
}
