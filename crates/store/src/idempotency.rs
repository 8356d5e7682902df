//! Idempotency keys: the first response to a request sent with an `Idempotency-Key`, kept
//! per principal and key so that a retry is answered with it instead of doing the work
//! again.
//!
//! Contract shared by both backends:
//! - [`IdempotencyStore::begin`] is atomic: of any number of concurrent calls for one
//!   principal and key, at most one is [`Begin::Started`];
//! - a key is held by its request (in flight) until [`IdempotencyStore::complete`] keeps the
//!   response or [`IdempotencyStore::abandon`] frees the key; a request that has held a key
//!   for [`IN_FLIGHT_LIMIT`] is taken to be gone (its process crashed), and the key is free;
//! - a kept response is replayed until its retention ends; then the key is free, and
//!   [`IdempotencyStore::purge_expired`] may delete it.

use std::time::Duration;

use async_trait::async_trait;
use caseload_domain::Timestamp;

use crate::StoreError;

/// How long a request may hold its key before the key counts as abandoned: longer than any
/// request runs (bodies arrive within the body deadline, reads and evaluations have their own
/// budgets), so only a request whose process died is taken over.
pub const IN_FLIGHT_LIMIT: Duration = Duration::from_secs(60);

/// A response kept for replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// The HTTP status code.
    pub status: u16,
    /// The headers worth replaying, as sent (name, value).
    pub headers: Vec<(String, String)>,
    /// The body, byte for byte.
    pub body: Vec<u8>,
}

/// What [`IdempotencyStore::begin`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// The key was free and is now held by this request: run it, then
    /// [complete](IdempotencyStore::complete) or [abandon](IdempotencyStore::abandon) it.
    Started,
    /// A request with the same fingerprint already completed: answer with its response.
    Replay(StoredResponse),
    /// A request with the same fingerprint holds the key and has not finished.
    InFlight,
    /// The key was used for a different request (another method, path or body).
    Mismatch,
}

/// Idempotency keys, scoped per principal.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` of `principal` for a request with `fingerprint`, unless it is already
    /// held or answered (see [`Begin`]). A claim made at `now` keeps its response until
    /// `now + ttl`.
    async fn begin(
        &self,
        principal: &str,
        key: &str,
        fingerprint: &[u8],
        now: Timestamp,
        ttl: Duration,
    ) -> Result<Begin, StoreError>;
    /// Keeps the response of the request holding the key, for replay. Does nothing unless
    /// the key is held (in flight).
    async fn complete(
        &self,
        principal: &str,
        key: &str,
        response: StoredResponse,
    ) -> Result<(), StoreError>;
    /// Frees a held key without keeping a response (the request failed in a way worth
    /// retrying, or its client went away), so that a retry runs again. Does nothing unless
    /// the key is held.
    async fn abandon(&self, principal: &str, key: &str) -> Result<(), StoreError>;
    /// Deletes the keys whose response has expired by `now` and the abandoned claims among
    /// them; answers how many went.
    async fn purge_expired(&self, now: Timestamp) -> Result<u64, StoreError>;
}

/// A stored key as both backends read it.
pub(crate) struct KeyRow {
    pub fingerprint: Vec<u8>,
    /// `None` while in flight.
    pub response: Option<StoredResponse>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// The two states of a key, as stored.
pub(crate) const IN_FLIGHT: &str = "in_flight";
pub(crate) const DONE: &str = "done";

/// The latest start of a claim that still holds its key at `now`, in microseconds.
pub(crate) fn stale_before(now: Timestamp) -> i64 {
    now.as_micros()
        .saturating_sub(IN_FLIGHT_LIMIT.as_micros() as i64)
}

/// When a claim made at `now` stops being replayed, in microseconds.
pub(crate) fn expiry(now: Timestamp, ttl: Duration) -> i64 {
    let ttl = i64::try_from(ttl.as_micros()).unwrap_or(i64::MAX);
    now.as_micros().saturating_add(ttl)
}

impl KeyRow {
    /// Builds a row from its stored columns.
    pub(crate) fn from_columns(
        fingerprint: Vec<u8>,
        state: &str,
        status: Option<i64>,
        headers: Option<String>,
        body: Option<Vec<u8>>,
        created_at: i64,
        expires_at: i64,
    ) -> Result<Self, StoreError> {
        let corrupt = |what: &str| StoreError::Internal(format!("stored idempotency key: {what}"));
        let response = match state {
            IN_FLIGHT => None,
            DONE => Some(StoredResponse {
                status: status
                    .and_then(|s| u16::try_from(s).ok())
                    .ok_or_else(|| corrupt("no status"))?,
                headers: serde_json::from_str(headers.as_deref().unwrap_or("[]"))
                    .map_err(|e| corrupt(&format!("headers are unreadable: {e}")))?,
                body: body.unwrap_or_default(),
            }),
            other => return Err(corrupt(&format!("unknown state '{other}'"))),
        };
        Ok(Self {
            fingerprint,
            response,
            created_at,
            expires_at,
        })
    }

    /// Whether a new request may claim the key: its response has expired, or the request
    /// holding it has been gone too long.
    pub(crate) fn is_free(&self, now: Timestamp) -> bool {
        match self.response {
            Some(_) => self.expires_at <= now.as_micros(),
            None => self.created_at <= stale_before(now),
        }
    }

    /// The answer to a request with `fingerprint` for a key that is not free.
    pub(crate) fn answer(self, fingerprint: &[u8]) -> Begin {
        if self.fingerprint != fingerprint {
            return Begin::Mismatch;
        }
        match self.response {
            Some(response) => Begin::Replay(response),
            None => Begin::InFlight,
        }
    }
}

/// The headers of a response as stored: a JSON array of `[name, value]` pairs.
pub(crate) fn headers_json(headers: &[(String, String)]) -> String {
    serde_json::to_string(headers).unwrap_or_else(|_| "[]".to_owned())
}
