//! `caseload demo`: a plan with a realistic case history, served, so that a new user sees
//! real figures at once.
//!
//! The contract:
//!
//! - **A new plan every run.** Each run creates its own plan (goals for all four
//!   priorities, a Europe/Berlin business calendar, four teams), a decision criterion
//!   `auto-refund` and one performance record per statistic type, in the configured
//!   database, next to whatever is there. Nothing is overwritten.
//! - **A seeded history.** `--events` events over the `--days` days ending now, from
//!   `--seed`: the same seed, size, length and end give the same events (the end is now, to
//!   the second). `stream.rs` says how cases arrive, `case.rs` how each one lives,
//!   `model.rs` the numbers behind both.
//! - **The client's path.** Events reach the store as the case-events endpoint's do: NDJSON
//!   batches of at most 10,000 events through the batch parser into the store's `ingest`
//!   (`ingest.rs`).
//! - **Then it serves** exactly as `caseload serve` does, and logs the URLs to open;
//!   `--no-serve` exits after ingesting instead.

mod case;
mod event;
mod ingest;
mod model;
mod plan;
mod stream;

use std::time::Instant;

use anyhow::Context as _;
use caseload_domain::Timestamp;

use crate::app::{self, Application, shutdown_signal};
use crate::config::{DemoArgs, Settings};
use stream::{CaseStream, StreamSpec};

/// Runs `caseload demo`: creates the plan, generates and ingests its history, then serves
/// (unless `--no-serve`).
pub async fn run(settings: &Settings, args: &DemoArgs) -> anyhow::Result<()> {
    if !args.no_serve {
        // Fail before the work, not after it, when the address is taken.
        drop(
            std::net::TcpListener::bind(settings.listen)
                .with_context(|| format!("binding {}", settings.listen))?,
        );
    }
    let db = app::connect(settings).await?;
    let now = Timestamp::now().as_micros();
    let spec = StreamSpec {
        seed: args.seed,
        end: Timestamp::from_micros(now - now.rem_euclid(1_000_000)),
        days: args.days,
        events: args.events,
    };
    let started = Instant::now();
    let start =
        Timestamp::from_micros(spec.end.as_micros() - i64::from(spec.days) * 86_400_000_000);
    let calendar = plan::calendar(start, spec.end)?;
    let stream = tokio::task::spawn_blocking(move || CaseStream::plan(&spec, calendar))
        .await
        .context("planning the case stream")?;
    tracing::info!(
        seed = spec.seed,
        days = spec.days,
        cases = stream.case_count(),
        events = stream.event_count(),
        seconds = started.elapsed().as_secs_f64(),
        "demo: case stream planned"
    );

    let plan = plan::create(db.as_ref(), &spec, &stream).await?;
    let id = plan.id;
    tracing::info!(plan = %id, "demo: plan created");
    let report = ingest::ingest(db.clone(), id, stream).await?;
    let started = std::time::Instant::now();
    db.fold_timelines(id)
        .await
        .context("folding the demo's events into case timelines")?;
    tracing::info!(
        plan = %id,
        seconds = started.elapsed().as_secs_f64(),
        "demo: case timelines folded"
    );
    db.close().await;
    tracing::info!(
        plan = %id,
        events = report.accepted,
        duplicates = report.duplicates,
        seconds = report.elapsed.as_secs_f64(),
        events_per_second = report.rate().round(),
        "demo: case history ingested"
    );

    if args.no_serve {
        tracing::info!(
            plan = %id,
            "demo: done; run `caseload` with the same database and open \
             http://{addr}/CustomerCaseManagement/{id}/Retrieve",
            addr = settings.listen,
        );
        return Ok(());
    }
    let app = Application::build(settings).await?;
    let addr = app.local_addr();
    tracing::info!(
        plan = %id,
        "demo: open http://{addr}/CustomerCaseManagement/{id}/Retrieve (the plan), \
         http://{addr}/CustomerCaseManagement/{id}/Performance/sla-attainment/Retrieve \
         (a statistic), http://{addr}/CustomerCaseManagement/{id}/Rules/{rules}/Retrieve \
         (a criterion) and http://{addr}/docs/ (every operation)",
        rules = plan::CRITERION_ID,
    );
    app.run_until(shutdown_signal()).await
}
