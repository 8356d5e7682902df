//! A record about to be appended: who, through which request, what; sealed with its seq,
//! time and hash when the backend appends it.

use caseload_domain::Timestamp;
use serde_json::Value as Json;

use super::chain::{AuditRow, hash32};
use super::what::BeforeAfter;
use super::{AuditAction, SERVICE_CHAIN, current_request};
use crate::StoreError;

/// Who makes a change and through which request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin {
    /// Who.
    pub actor: String,
    /// The request's interaction id, if the change came through the API.
    pub interaction_id: Option<String>,
    /// The request's idempotency key with its principal, if it has one.
    pub request_key: Option<String>,
}

impl Origin {
    /// `actor`, acting through the request of the calling task (see
    /// [`REQUEST`](super::REQUEST)). Call it on the task that called the store.
    pub fn new(actor: impl Into<String>) -> Self {
        let request = current_request();
        Self {
            actor: actor.into(),
            interaction_id: request.interaction_id,
            request_key: request.request_key,
        }
    }
}

/// An audit record to append.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    /// The plan id, or the service chain.
    pub chain: String,
    /// What was done.
    pub action: AuditAction,
    /// What it was done to.
    pub subject: String,
    /// Who, through which request.
    pub origin: Origin,
    /// The changed properties before (`None` for a creation).
    pub before: Option<Json>,
    /// The changed properties after.
    pub after: Option<Json>,
}

impl Entry {
    /// A record on a plan's chain.
    pub fn plan(
        plan: impl std::fmt::Display,
        action: AuditAction,
        subject: impl Into<String>,
        origin: &Origin,
        (before, after): BeforeAfter,
    ) -> Self {
        Self {
            chain: plan.to_string(),
            action,
            subject: subject.into(),
            origin: origin.clone(),
            before,
            after,
        }
    }

    /// A record on the service-wide chain, e.g. an API key created or revoked.
    pub fn service(
        action: AuditAction,
        subject: impl Into<String>,
        origin: &Origin,
        after: Json,
    ) -> Self {
        Self {
            chain: SERVICE_CHAIN.to_owned(),
            action,
            subject: subject.into(),
            origin: origin.clone(),
            before: None,
            after: Some(after),
        }
    }

    /// The row to store as number `seq` at `at`, after a record whose hash is `prev_hash`
    /// (the chain head's hash, or [`GENESIS`](super::GENESIS)).
    pub fn seal(&self, seq: i64, at: Timestamp, prev_hash: &[u8]) -> Result<AuditRow, StoreError> {
        let prev = hash32(prev_hash, "the audit chain's head")?;
        let mut row = AuditRow {
            seq,
            chain: self.chain.clone(),
            at: at.as_micros(),
            actor: self.origin.actor.clone(),
            interaction_id: self.origin.interaction_id.clone(),
            action: self.action.as_str().to_owned(),
            subject: self.subject.clone(),
            before: self.before.as_ref().map(Json::to_string),
            after: self.after.as_ref().map(Json::to_string),
            prev_hash: prev.to_vec(),
            hash: Vec::new(),
        };
        row.hash = row.content().hash(&prev).to_vec();
        Ok(row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_sealed_record_hashes_what_is_stored() {
        let origin = Origin {
            actor: "alice".into(),
            interaction_id: Some("req-9".into()),
            request_key: None,
        };
        let entry = Entry::service(
            AuditAction::ApiKeyCreate,
            "apikey/k1",
            &origin,
            json!({"Name": "ops"}),
        );
        let row = entry
            .seal(7, Timestamp::from_micros(42), &[3; 32])
            .expect("sealed");
        assert_eq!(row.after.as_deref(), Some(r#"{"Name":"ops"}"#));
        assert_eq!(row.hash, row.content().hash(&[3; 32]).to_vec());
        assert!(entry.seal(8, Timestamp::from_micros(43), &[0; 5]).is_err());
    }
}
