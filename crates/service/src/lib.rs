//! The operations every surface of caseload calls (the BIAN routes, the REST facade, the
//! dashboard, the event relay, the CLI), written once and free of HTTP: this crate depends on
//! the domain and the store, never on axum, http, tower or hyper.
//!
//! Contract:
//! - an operation is a method of [`Service`]; it takes what it needs as arguments (the
//!   [`Caller`] when what it reaches matters, the [`Actor`] of a write: who, and the request's
//!   interaction id and idempotency key; the [`WriteRequest`] of a change) and returns domain types or view structs ([`PlanView`], [`RecordView`]) that a
//!   surface renders in its own form;
//! - every failure is one [`ServiceError`]; a surface maps it to its own protocol in one
//!   place (the server's `From<ServiceError> for ApiError`);
//! - stored settings are loaded as typed values ([`stored`]): a stored value that does not
//!   parse is a logged [`ServiceError::Internal`], never silently an empty setting.
//!
//! Layout, one module per group of operations: [`plans`], [`records`], [`interventions`],
//! [`criteria`], [`performance`] (the computed figures and their cache, [`Analyst`]),
//! [`events`] (case-event ingest), [`audit`] (the trail as a caller may see it), [`views`]
//! (what a plan or record shows besides its stored properties, read once per page),
//! [`stored`] (settings as stored, loaded typed) and [`input`] (checks of JSON input shared
//! by the groups).

mod actor;
pub mod audit;
mod caller;
pub mod criteria;
mod error;
pub mod events;
pub mod input;
pub mod interventions;
pub mod performance;
pub mod plans;
pub mod records;
pub mod stored;
pub mod views;

use std::sync::Arc;

use caseload_domain::{Change, Fields, Version, WriteMode};
use caseload_store::Database;
use serde_json::{Map, Value};

pub use actor::Actor;
pub use caller::{Caller, DEFAULT_UNIT, Scope, Scopes, UnitChoice, valid_unit};
pub use error::ServiceError;
pub use performance::{Analyst, Shown};
pub use views::{PlanView, RecordDetails, RecordView};

/// The operations, over one store. Cheap to clone: every surface of a process shares one
/// (and with it the computed-figures cache).
#[derive(Clone)]
pub struct Service {
    db: Arc<dyn Database>,
    analyst: Arc<Analyst>,
}

impl Service {
    /// The operations over `db`, with an empty figures cache.
    pub fn new(db: Arc<dyn Database>) -> Self {
        Self {
            db,
            analyst: Arc::default(),
        }
    }

    /// The store, for what a surface keeps of its own there (API keys, idempotency records).
    pub fn store(&self) -> &Arc<dyn Database> {
        &self.db
    }
}

/// How a write applies: merge (BIAN Update) or replace (REST PUT), under which `If-Match`,
/// by whom.
#[derive(Debug, Clone)]
pub struct WriteRequest {
    /// Merge into or replace what is stored.
    pub mode: WriteMode,
    /// The version the client expects (`If-Match`).
    pub expected: Option<Version>,
    /// Who writes, through which request.
    pub actor: Actor,
}

impl WriteRequest {
    /// The change this write makes of `fields` and, when given, the settings `extensions`.
    pub(crate) fn change(&self, fields: Fields, extensions: Option<Map<String, Value>>) -> Change {
        Change {
            fields,
            mode: self.mode,
            expected: self.expected,
            extensions,
            actor: self.actor.subject.clone(),
        }
    }
}
