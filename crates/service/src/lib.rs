//! The operations every surface of caseload calls (the BIAN routes, the REST facade, the
//! dashboard, the event relay, the CLI), written once and free of HTTP: this crate depends on
//! the domain and the store, never on axum, http, tower or hyper.
//!
//! Contract:
//! - an operation takes what it needs as arguments — the [`Caller`] when who asks matters,
//!   typed inputs — and returns domain types or view structs;
//! - every failure is one [`ServiceError`]; a surface maps it to its own protocol in one
//!   place (the server's `From<ServiceError> for ApiError`).

mod caller;
mod error;

pub use caller::{Caller, DEFAULT_UNIT, Scope, Scopes, UnitChoice, valid_unit};
pub use error::ServiceError;
