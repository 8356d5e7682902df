//! Case-event ingest: a batch is parsed off the request workers, stored all or nothing, and
//! folded into the plan's case timelines in the background.

use caseload_domain::PlanId;
use caseload_domain::events::{BatchFormat, MAX_BATCH_EVENTS, parse_batch};

use crate::{Actor, Service, ServiceError};

/// What a batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IngestReport {
    /// Events in the batch.
    pub received: u64,
    /// Events stored.
    pub accepted: u64,
    /// Events skipped because the plan already had their `EventId`.
    pub duplicates: u64,
}

impl Service {
    /// Stores a batch of case events as sent (`format`), by `actor`. The first bad event
    /// refuses the whole batch, naming its place and property; nothing is stored then.
    pub async fn ingest(
        &self,
        plan: PlanId,
        body: impl AsRef<[u8]> + Send + 'static,
        format: BatchFormat,
        actor: Actor,
    ) -> Result<IngestReport, ServiceError> {
        // Parsing 10,000 events is real work: keep it off the request workers.
        let parsed = tokio::task::spawn_blocking(move || parse_batch(body.as_ref(), format))
            .await
            .map_err(|e| ServiceError::Internal(format!("parsing a batch failed: {e}")))?;
        let events = parsed.map_err(|e| ServiceError::invalid(e.to_string()))?;
        debug_assert!(events.len() <= MAX_BATCH_EVENTS);
        let received = events.len() as u64;
        let done = actor
            .scoped(self.db.ingest(plan, events, actor.subject.clone()))
            .await?;
        tracing::info!(%plan, received, accepted = done.accepted, duplicates = done.duplicates, "case events ingested");
        if done.accepted > 0 {
            self.analyst.fold_soon(&self.db, plan);
        }
        Ok(IngestReport {
            received,
            accepted: done.accepted,
            duplicates: done.duplicates,
        })
    }
}
