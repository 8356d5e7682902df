//! The audit trail: one record for every change the store makes, written in the same
//! transaction as the change, so a change without its record (or a record without its
//! change) cannot be committed.
//!
//! Contract, the same on both backends:
//! - every write that changes state appends exactly one record (a case-event batch that
//!   stores events: one record for the batch); a refused write (not found, version mismatch,
//!   illegal move) appends none; folding timelines (derived data) appends none;
//! - a record says who ([`AuditRecord::actor`]), when, through which request
//!   ([`AuditRecord::interaction_id`], read from [`REQUEST`] when the store is called), what
//!   ([`AuditAction`] and a subject such as `rules/r1`), and the before/after of the
//!   properties that changed;
//! - records are append-only: the store has no path that changes or removes one, and a
//!   database trigger refuses `UPDATE` and `DELETE` on `audit_records`;
//! - records form one hash chain per plan (the chain is the plan id) and one for service-wide
//!   events such as API keys (the chain [`SERVICE_CHAIN`], the empty string): each record's
//!   `prev_hash` is the hash of the chain's previous record, so a changed, removed or inserted
//!   record breaks the chain from there on. [`AuditContent`] documents the hashed bytes;
//! - `audit_heads` keeps each chain's last seq and hash; a writer locks its chain's head in
//!   its transaction (PostgreSQL: a row lock; SQLite has one writer), so concurrent writers to
//!   one plan append one after the other. Verification also compares each chain's last record
//!   with its head, so removing the newest records is caught too.
//!
//! The chain shows that records were changed, removed or reordered by someone who could not
//! also recompute every later hash and the head. Someone with write access to the database
//! can rewrite a whole chain; to catch that, keep the heads (or the output of
//! `caseload audit verify`) somewhere the database's users cannot write.
//!
//! # Writing a record from new store code (API keys)
//!
//! A change and its record belong in one transaction. Inside the store crate, build an
//! `Entry` (for a service-wide event, `Entry::service`, e.g. with
//! [`AuditAction::ApiKeyCreate`]) and append it within the change's transaction:
//! `crate::sqlite::audit::append(conn, &entry)` in a function run by the SQLite writer, or
//! `crate::postgres::audit::append(&mut tx, &entry).await` before `tx.commit()`. Capture the
//! `Origin` (`Origin::new(actor)`) on the calling task, before work is handed to the
//! SQLite writer thread, where [`REQUEST`] is not in scope. [`AuditStore::append_service_event`]
//! appends a service-wide record in a transaction of its own, for events that change nothing
//! else in the store.

mod chain;
mod entry;
mod what;

use async_trait::async_trait;
use caseload_domain::{Page, PageRequest, PlanId, Timestamp};
use serde_json::Value as Json;

use crate::StoreError;

pub(crate) use chain::{AUDIT_COLUMNS, AuditRow, Head, Verifier};
pub use chain::{AuditContent, GENESIS};
pub(crate) use entry::{Entry, Origin};
pub(crate) use what::*;

/// The chain of service-wide events (API keys, ...), which belong to no plan.
pub const SERVICE_CHAIN: &str = "";

tokio::task_local! {
    /// The request a store call is made for. The service layer runs each write it makes for
    /// an `Actor` inside `REQUEST.scope(...)` with the context the surface handed it, so
    /// the write names the request's interaction id and makes its creations once under the
    /// request's idempotency key. Callers outside a request (the CLI, background work)
    /// leave it unset.
    pub static REQUEST: RequestContext;
}

/// What the store is told about the request it works for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    /// The request's `x-fapi-interaction-id`.
    pub interaction_id: Option<String>,
    /// The request's idempotency key, hashed with its principal, when it has one: a create
    /// made under it is made once, however often the request runs.
    pub request_key: Option<String>,
}

/// The request context of the calling task, or an empty one outside any request (the CLI,
/// background work). Read it on the calling task: tasks and threads the call hands work to
/// do not inherit it.
pub fn current_request() -> RequestContext {
    REQUEST.try_with(Clone::clone).unwrap_or_default()
}

/// What a change did, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    /// A plan was created.
    PlanCreate,
    /// A plan's properties or settings changed.
    PlanUpdate,
    /// A case decision criterion was created or changed.
    RulesPut,
    /// A performance record was created or changed.
    PerformancePut,
    /// An intervention request was raised.
    InterventionCreate,
    /// An intervention request moved in its lifecycle.
    InterventionTransition,
    /// A case's evaluation against a criterion was recorded.
    EvaluationRecord,
    /// An outcome was attached to a recorded evaluation.
    EvaluationOutcome,
    /// A back-test was stored as a criterion's analysis.
    BacktestSave,
    /// A batch of case events was stored.
    EventsIngest,
    /// An API key was created.
    ApiKeyCreate,
    /// An API key was revoked.
    ApiKeyRevoke,
}

impl AuditAction {
    /// The stored name, e.g. `plan.create`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PlanCreate => "plan.create",
            Self::PlanUpdate => "plan.update",
            Self::RulesPut => "rules.put",
            Self::PerformancePut => "performance.put",
            Self::InterventionCreate => "intervention.create",
            Self::InterventionTransition => "intervention.transition",
            Self::EvaluationRecord => "evaluation.record",
            Self::EvaluationOutcome => "evaluation.outcome",
            Self::BacktestSave => "backtest.save",
            Self::EventsIngest => "events.ingest",
            Self::ApiKeyCreate => "apikey.create",
            Self::ApiKeyRevoke => "apikey.revoke",
        }
    }
}

impl std::fmt::Display for AuditAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One stored audit record.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    /// Its position among all records: grows with every record (with gaps on PostgreSQL,
    /// where a rolled-back write uses a number up); within a chain, in chain order.
    pub seq: i64,
    /// The plan id, or [`SERVICE_CHAIN`] for service-wide events.
    pub chain: String,
    /// When it was written.
    pub at: Timestamp,
    /// Who made the change.
    pub actor: String,
    /// The `x-fapi-interaction-id` of the request that made it, if it came through the API.
    pub interaction_id: Option<String>,
    /// What was done, e.g. `plan.update` (see [`AuditAction`]).
    pub action: String,
    /// What it was done to, e.g. `plan`, `rules/r1`, `intervention/<id>`.
    pub subject: String,
    /// The changed properties before the change; `None` for a creation.
    pub before: Option<Json>,
    /// The changed properties after it (for a creation, every property given).
    pub after: Option<Json>,
    /// The hash of the chain's previous record ([`GENESIS`] for the first).
    pub prev_hash: [u8; 32],
    /// This record's hash (see [`AuditContent`]).
    pub hash: [u8; 32],
}

impl AuditRecord {
    /// The plan whose chain the record is on, if any.
    pub fn plan(&self) -> Option<PlanId> {
        PlanId::parse(&self.chain).ok()
    }
}

/// Narrows a list of audit records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only those of this plan's chain.
    pub plan: Option<PlanId>,
    /// Only those written at or after this time.
    pub from: Option<Timestamp>,
    /// Only those written before this time.
    pub to: Option<Timestamp>,
    /// Which page, newest first (the page key is the seq).
    pub page: PageRequest,
}

/// The first place where the trail is not as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    /// The chain (plan id, or [`SERVICE_CHAIN`]).
    pub chain: String,
    /// The seq of the first record that does not verify (for records missing at the end of
    /// a chain: the seq its head names).
    pub seq: i64,
    /// What is wrong there.
    pub reason: String,
}

/// What checking every chain found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditVerification {
    /// Chains checked.
    pub chains: u64,
    /// Records checked.
    pub records: u64,
    /// The break with the lowest seq, if any chain is broken.
    pub first_break: Option<ChainBreak>,
}

impl AuditVerification {
    /// Whether every chain verified.
    pub fn is_intact(&self) -> bool {
        self.first_break.is_none()
    }
}

/// The audit trail.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Records newest first, narrowed by `filter`.
    async fn audit_records(&self, filter: AuditFilter) -> Result<Page<AuditRecord>, StoreError>;
    /// Checks every chain from its first record to its head, reading records a page at a
    /// time (the trail may be far larger than memory), in one snapshot.
    async fn verify_audit(&self) -> Result<AuditVerification, StoreError>;
    /// Appends a record to the service-wide chain in a transaction of its own: for events
    /// that change nothing else in the store. A change stored by the store appends its
    /// record in its own transaction instead (see the module documentation).
    async fn append_service_event(
        &self,
        action: AuditAction,
        actor: String,
        subject: String,
        after: Json,
    ) -> Result<AuditRecord, StoreError>;
}

/// The seq a page of records newest first continues below; a key that is not a seq names no
/// page.
pub(crate) fn page_key(page: &PageRequest) -> Result<Option<i64>, StoreError> {
    crate::steps::number_after(page, "audit page")
}

/// Lower-case hexadecimal, as hashes are shown.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// What the audit trail records of an API key: never its secret or the secret's hash.
pub(crate) fn api_key_described(key: &crate::ApiKey) -> serde_json::Value {
    serde_json::json!({
        "Name": key.name,
        "Scopes": key.scopes,
        "BusinessUnits": key.business_units,
        "RevokedAt": key.revoked_at.map(|t| t.to_rfc3339()),
    })
}
