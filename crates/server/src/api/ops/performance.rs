//! Performance from data: the figures of a Performance record whose
//! `CustomerCaseServiceStatisticType` names a statistic the service computes, over the window
//! its settings give, from the plan's case timelines.
//!
//! **Why a Retrieve does not grow with the history.** The store keeps one timeline per case,
//! moved on at ingest, and reads only the cases that matter for a window (seen in it or the
//! window before it, or still open). On top of that, the [`Analyst`] reuses what it computed
//! for as long as it is right: every figure is kept under the plan's version (its goals,
//! calendar and resources) and its activity *generation*, which the store raises with every
//! batch that adds events. A Retrieve therefore reads the record, the plan and the generation
//! (three indexed look-ups) and, unless events arrived since, renders figures already
//! computed. Because the generation lives in the database, several instances sharing one
//! database never serve figures older than the last batch they can see. A figure is computed
//! once however many requests ask for it at the same moment.

use std::sync::Arc;
use std::time::Duration;

use caseload_domain::analytics::{
    CaseTimeline, Dimension, PerformanceSettings, StatisticType, Statistics, Window, compute,
};
use caseload_domain::forecast::{self, Projections};
use caseload_domain::plan::PlanSettings;
use caseload_domain::{ChildRecord, PlanId, Timestamp};
use caseload_store::StoreError;
use moka::future::Cache;

use super::AppState;
use crate::api::error::ApiError;

/// The most case timelines kept in memory across plans and windows (a timeline takes a few
/// hundred bytes).
const TIMELINES_KEPT: u64 = 600_000;
/// The most computed figures kept.
const FIGURES_KEPT: u64 = 4_096;
/// How long an unused entry is kept.
const IDLE: Duration = Duration::from_secs(15 * 60);
/// The history a projection is made from: the cases seen in the last 2 × 13 weeks and the
/// open ones.
const PROJECTION_HISTORY_DAYS: u32 = 91;
const MICROS_PER_HOUR: i64 = 3_600_000_000;

/// What the computed figures of a plan rest on: a change to any part makes them stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Basis {
    plan: PlanId,
    plan_version: i64,
    generation: u64,
}

/// The figures of one Performance record, as of one request.
pub struct Figures {
    /// The statistic the record names.
    pub kind: StatisticType,
    /// The window they are computed over.
    pub window: Window,
    /// Every figure of the window, with the headline's trend and breakdown.
    pub statistics: Arc<Statistics>,
    /// The plan's goals, calendar and resources they were computed against.
    pub settings: PlanSettings,
    /// Arrivals forecast and staffing against the resource plan.
    pub projections: Arc<Projections>,
}

/// Computes Performance figures and keeps them for as long as they are right.
#[derive(Clone)]
pub struct Analyst {
    timelines: Cache<(Basis, Window), Arc<Vec<CaseTimeline>>>,
    statistics: Cache<(Basis, StatisticType, Window, Option<Dimension>), Arc<Statistics>>,
    projections: Cache<(Basis, i64, u32), Arc<Projections>>,
}

impl Default for Analyst {
    fn default() -> Self {
        Self {
            timelines: Cache::builder()
                .max_capacity(TIMELINES_KEPT)
                .weigher(|_, cases: &Arc<Vec<CaseTimeline>>| {
                    u32::try_from(cases.len()).unwrap_or(u32::MAX).max(1)
                })
                .time_to_idle(IDLE)
                .build(),
            statistics: Cache::builder()
                .max_capacity(FIGURES_KEPT)
                .time_to_idle(IDLE)
                .build(),
            projections: Cache::builder()
                .max_capacity(FIGURES_KEPT)
                .time_to_idle(IDLE)
                .build(),
        }
    }
}

/// The statistic a Performance record names, if the service computes it.
pub fn statistic_type(record: &ChildRecord) -> Option<StatisticType> {
    record
        .fields
        .get("CustomerCaseServiceStatisticType")
        .and_then(StatisticType::parse)
}

/// A Performance record's stored settings (validated when written).
pub fn stored_settings(record: &ChildRecord) -> PerformanceSettings {
    PerformanceSettings::from_json(&record.extensions).unwrap_or_default()
}

impl Analyst {
    /// The figures of `record` at `now`; `None` when its statistic type is not one the
    /// service computes (its strings are then the client's alone).
    pub async fn figures(
        &self,
        state: &AppState,
        record: &ChildRecord,
        now: Timestamp,
    ) -> Result<Option<Figures>, ApiError> {
        let Some(kind) = statistic_type(record) else {
            return Ok(None);
        };
        let plan = state.db.plan(record.plan_id).await?;
        let generation = state.db.activity_generation(record.plan_id).await?;
        let basis = Basis {
            plan: plan.id,
            plan_version: plan.meta.version.get(),
            generation,
        };
        let settings = super::plan_settings(&plan);
        let chosen = stored_settings(record);
        let window = chosen.window(
            now,
            plan.fields.get("CustomerCaseManagementPlanPeriod"),
            settings.calendar().time_zone(),
        );
        let statistics = self
            .statistics
            .try_get_with((basis, kind, window, chosen.breakdown), async {
                let cases = self.cases(state, basis, window).await?;
                let settings = settings.clone();
                let breakdown = chosen.breakdown;
                blocking(move || Arc::new(compute(kind, &cases, window, &settings, breakdown)))
                    .await
            })
            .await
            .map_err(shared)?;
        let projections = self.projections(state, basis, &settings, now).await?;
        Ok(Some(Figures {
            kind,
            window,
            statistics,
            settings,
            projections,
        }))
    }

    /// The plan's loading projections for the next `weeks` as of the current hour.
    async fn projections(
        &self,
        state: &AppState,
        basis: Basis,
        settings: &PlanSettings,
        now: Timestamp,
    ) -> Result<Arc<Projections>, ApiError> {
        let hour = now.as_micros().div_euclid(MICROS_PER_HOUR) * MICROS_PER_HOUR;
        let weeks = forecast::DEFAULT_WEEKS;
        self.projections
            .try_get_with((basis, hour, weeks), async {
                let at = Timestamp::from_micros(hour);
                let history = Window::last_days(at, PROJECTION_HISTORY_DAYS)
                    .map_err(|e| StoreError::Internal(e.to_string()))?;
                let cases = self.cases(state, basis, history).await?;
                let settings = settings.clone();
                blocking(move || Arc::new(forecast::project(&cases, &settings, at, weeks))).await
            })
            .await
            .map_err(shared)
    }

    /// The timelines that matter for `window`, read once per basis and window.
    async fn cases(
        &self,
        state: &AppState,
        basis: Basis,
        window: Window,
    ) -> Result<Arc<Vec<CaseTimeline>>, StoreError> {
        self.timelines
            .try_get_with((basis, window), async {
                let started = std::time::Instant::now();
                let cases = state.db.case_timelines(basis.plan, window).await?;
                tracing::debug!(
                    plan = %basis.plan,
                    cases = cases.len(),
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "read case timelines"
                );
                Ok::<_, StoreError>(Arc::new(cases))
            })
            .await
            .map_err(|e| unshared(&e))
    }
}

/// Runs CPU-bound work on a blocking thread.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::Internal(format!("computing figures failed: {e}")))
}

/// A store error shared by the requests that waited for the same computation, as their own.
fn unshared(err: &StoreError) -> StoreError {
    match err {
        StoreError::NotFound(what) => StoreError::NotFound(what.clone()),
        StoreError::Unavailable(why) => StoreError::Unavailable(why.clone()),
        other => StoreError::Internal(other.to_string()),
    }
}

fn shared(err: Arc<StoreError>) -> ApiError {
    unshared(&err).into()
}
