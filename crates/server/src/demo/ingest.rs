//! Feeding the stream to the store exactly as the case-events endpoint does: NDJSON batches
//! of at most [`MAX_BATCH_EVENTS`] events, parsed by [`parse_batch`], each stored whole by
//! [`Database::ingest`](caseload_store::CaseEventStore::ingest). Generating, serialising and
//! parsing run on a blocking thread a batch or two ahead of the store, so the store's
//! writes and the next batch's parsing overlap.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use caseload_domain::PlanId;
use caseload_domain::events::{BatchError, BatchFormat, CaseEvent, MAX_BATCH_EVENTS, parse_batch};
use caseload_store::Database;
use tokio::sync::mpsc;

use super::stream::CaseStream;

/// What the ingestion did.
#[derive(Debug, Clone, Copy, Default)]
pub struct Report {
    /// Events stored.
    pub accepted: u64,
    /// Events the store already had (none, for a new plan).
    pub duplicates: u64,
    /// From the first event generated to the last batch stored.
    pub elapsed: Duration,
}

impl Report {
    /// Events stored per second, generation included.
    pub fn rate(&self) -> f64 {
        self.accepted as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Batches generated ahead of the store.
const AHEAD: usize = 2;
/// How often progress is logged.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// Stores every event of `stream` under `plan`, in batches, logging progress.
pub async fn ingest(
    db: Arc<dyn Database>,
    plan: PlanId,
    stream: CaseStream,
) -> anyhow::Result<Report> {
    let total = stream.event_count();
    let started = Instant::now();
    let (batches, mut parsed) = mpsc::channel::<Result<Vec<CaseEvent>, BatchError>>(AHEAD);
    let producer = tokio::task::spawn_blocking(move || -> serde_json::Result<()> {
        let mut body = Vec::with_capacity(4 << 20);
        let mut lines = 0;
        let send = |body: &mut Vec<u8>| {
            let batch = parse_batch(body, BatchFormat::Ndjson);
            body.clear();
            // Fails only when the store side gave up; its error is the one to report.
            batches.blocking_send(batch).is_ok()
        };
        for event in stream.events() {
            serde_json::to_writer(&mut body, &event)?;
            body.push(b'\n');
            lines += 1;
            if lines == MAX_BATCH_EVENTS {
                if !send(&mut body) {
                    return Ok(());
                }
                lines = 0;
            }
        }
        if lines > 0 {
            send(&mut body);
        }
        Ok(())
    });

    let mut report = Report::default();
    let mut logged = started;
    while let Some(batch) = parsed.recv().await {
        let events = batch.context("a generated batch was refused by the batch parser")?;
        let done = db
            .ingest(plan, events, super::plan::ACTOR.to_owned())
            .await
            .context("storing a batch of case events")?;
        report.accepted += done.accepted;
        report.duplicates += done.duplicates;
        report.elapsed = started.elapsed();
        if logged.elapsed() >= PROGRESS_EVERY {
            logged = Instant::now();
            tracing::info!(
                %plan,
                ingested = report.accepted,
                of = total,
                events_per_second = report.rate().round(),
                "demo: ingesting case events"
            );
        }
    }
    producer
        .await
        .context("the event generator stopped")?
        .context("serialising an event")?;
    report.elapsed = started.elapsed();
    Ok(report)
}
