//! Who makes a change and through which request. A surface hands it to every write
//! explicitly; the service tells the store (whose audit records name the request, and whose
//! creations under an idempotency key are made once) for the duration of the write.

use std::future::Future;

use caseload_store::audit::{REQUEST, RequestContext};

/// The acting subject of a write and the request it comes through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// `jwt:<sub>`, `key:<id>`, `development` or a tool's name; recorded on the change.
    pub subject: String,
    /// The request's interaction id, and its idempotency key hashed with the principal when
    /// it has one; empty outside a request (the CLI, background work).
    pub request: RequestContext,
}

impl Actor {
    /// `subject`, acting through `request`.
    pub fn through(subject: impl Into<String>, request: RequestContext) -> Self {
        Self {
            subject: subject.into(),
            request,
        }
    }

    /// Runs store work on behalf of this actor's request.
    pub(crate) async fn scoped<F: Future>(&self, work: F) -> F::Output {
        REQUEST.scope(self.request.clone(), work).await
    }
}
