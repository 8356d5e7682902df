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

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use caseload_domain::analytics::{
    CaseTimeline, Dimension, StatisticType, Statistics, Window, compute,
};
use caseload_domain::forecast::{self, Projections};
use caseload_domain::plan::PlanSettings;
use caseload_domain::{ChildRecord, PlanId, Timestamp};
use caseload_store::StoreError;
use moka::future::Cache;
use tokio::sync::Mutex;

use caseload_domain::analytics::{
    headline, interpretation, readable_statistics, readable_utilization, recommendation,
};
use caseload_domain::forecast::readable_projections;
use caseload_store::Database;
use serde_json::json;

use crate::{Service, ServiceError, stored};

/// The most case timelines kept in memory for windows outside the recent past, across plans
/// and windows (a timeline takes a few hundred bytes).
const TIMELINES_KEPT: u64 = 300_000;
/// The most plans whose recent timelines are kept in memory.
const MIRRORED_PLANS: u64 = 32;
/// Days of the recent past whose windows are served from a plan's mirror.
const RECENT_DAYS: u32 = 91;
const MICROS_PER_DAY: i64 = 86_400_000_000;
/// How long a plan's batches must pause before its new events are folded in the background.
const FOLD_QUIET: Duration = Duration::from_millis(250);
/// The longest stored events wait for a background fold while batches keep coming.
const FOLD_LAG: Duration = Duration::from_secs(5);
/// The most computed figures kept.
const FIGURES_KEPT: u64 = 4_096;
/// How long an unused entry is kept.
const IDLE: Duration = Duration::from_secs(15 * 60);
/// The history a projection is made from: the cases seen in the last 2 × 13 weeks and the
/// open ones.
const PROJECTION_HISTORY_DAYS: u32 = RECENT_DAYS;
const MICROS_PER_HOUR: i64 = 3_600_000_000;

/// What the computed figures of a plan rest on: a change to any part makes them stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Basis {
    plan: PlanId,
    plan_version: i64,
    generation: u64,
}

/// Figures as a record shows them: the BIAN strings rendered from them, the window and the
/// typed statistics. Rendered once per figures and kept beside them, since the text of ten
/// strings and the statistics as JSON cost more than the rest of a Retrieve together.
#[derive(Debug)]
pub struct Shown {
    /// Each computed BIAN string, by property name.
    pub strings: Vec<(&'static str, String)>,
    /// `{"Start", "End"}` of the window used.
    pub window: serde_json::Value,
    /// The typed statistics.
    pub statistics: serde_json::Value,
}

/// A plan as its records' figures rest on: its version, settings and activity generation.
pub struct PlanBasis {
    basis: Basis,
    plan: caseload_domain::Plan,
    settings: PlanSettings,
}

/// What one record's figures are computed from: their basis, statistic, window and breakdown.
type FiguresKey = (Basis, StatisticType, Window, Option<Dimension>);

/// The timelines of one plan's cases, as of one generation.
type Cases = Arc<Vec<Arc<CaseTimeline>>>;

/// Computes Performance figures and keeps them for as long as they are right.
#[derive(Clone)]
pub struct Analyst {
    /// Per plan, the timelines that matter for any window of the recent past (see
    /// [`recent_cover`]), brought up to date by fetching only those changed since.
    mirrors: Cache<PlanId, Arc<Mutex<Option<Mirror>>>>,
    /// Timelines for windows outside the recent past, per generation and window.
    timelines: Cache<(Basis, Window), Cases>,
    statistics: Cache<FiguresKey, Arc<Statistics>>,
    projections: Cache<(Basis, i64, u32), Arc<Projections>>,
    /// Figures as shown, by what they rest on (the last part is the projections' hour).
    shown: Cache<(FiguresKey, i64), Arc<Shown>>,
    /// Plans whose newly stored events wait to be folded in the background.
    folding: Arc<std::sync::Mutex<HashMap<PlanId, PendingFold>>>,
}

/// A plan's recent case timelines at one generation.
struct Mirror {
    generation: u64,
    covers: Window,
    cases: Cases,
    index: HashMap<String, usize>,
}

impl Mirror {
    fn new(generation: u64, covers: Window, cases: Vec<Arc<CaseTimeline>>) -> Self {
        let index = cases
            .iter()
            .enumerate()
            .map(|(i, c)| (c.case_id().as_str().to_owned(), i))
            .collect();
        Self {
            generation,
            covers,
            cases: Arc::new(cases),
            index,
        }
    }

    /// Takes in timelines changed since its generation, as of `generation`.
    fn update(&mut self, generation: u64, changed: Vec<Arc<CaseTimeline>>) {
        if !changed.is_empty() {
            let mut cases = Vec::clone(&self.cases);
            for case in changed {
                match self.index.get(case.case_id().as_str()) {
                    Some(&i) => cases[i] = case,
                    None if case.matters_for(self.covers) => {
                        self.index
                            .insert(case.case_id().as_str().to_owned(), cases.len());
                        cases.push(case);
                    }
                    None => {}
                }
            }
            self.cases = Arc::new(cases);
        }
        self.generation = generation;
    }
}

/// The window whose timelines serve every window of the recent past: any window that starts
/// at most 91 days before the start of today (UTC), so that the window before it starts at
/// most 182 days before, and ends by the end of tomorrow. It changes once a day.
fn recent_cover(now: Timestamp) -> Window {
    let today = now.as_micros().div_euclid(MICROS_PER_DAY) * MICROS_PER_DAY;
    let start = today - i64::from(RECENT_DAYS) * MICROS_PER_DAY;
    // Ends two days after today starts; the window before it then starts 2 × 91 + 2 days
    // before its end, that is 182 days before today.
    let end = today + 2 * MICROS_PER_DAY;
    Window::new(Timestamp::from_micros(start), Timestamp::from_micros(end))
        .expect("the cover ends after it starts")
}

/// The start of the hour `now` falls in, in microseconds: projections are made per hour.
fn hour_of(now: Timestamp) -> i64 {
    now.as_micros().div_euclid(MICROS_PER_HOUR) * MICROS_PER_HOUR
}

/// Whether the timelines that matter for `cover` include all that matter for `window`.
fn serves(cover: Window, window: Window) -> bool {
    window.previous().start() >= cover.previous().start() && window.end() <= cover.end()
}

impl Default for Analyst {
    fn default() -> Self {
        Self {
            mirrors: Cache::builder()
                .max_capacity(MIRRORED_PLANS)
                .time_to_idle(IDLE)
                .build(),
            timelines: Cache::builder()
                .max_capacity(TIMELINES_KEPT)
                .weigher(|_, cases: &Cases| u32::try_from(cases.len()).unwrap_or(u32::MAX).max(1))
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
            shown: Cache::builder()
                .max_capacity(FIGURES_KEPT)
                .time_to_idle(IDLE)
                .build(),
            folding: Arc::default(),
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

impl Analyst {
    /// What the figures of `plan`'s records rest on, read once for any number of them.
    pub async fn basis(&self, db: &dyn Database, plan: PlanId) -> Result<PlanBasis, ServiceError> {
        let plan = db.plan(plan).await?;
        let generation = db.activity_generation(plan.id).await?;
        let settings = stored::plan_settings(&plan)?;
        Ok(PlanBasis {
            basis: Basis {
                plan: plan.id,
                plan_version: plan.meta.version.get(),
                generation,
            },
            settings,
            plan,
        })
    }

    /// The figures of `record` (a record of the plan `of`) at `now` as the record shows
    /// them; `None` when its statistic type is not one the service computes (its strings are
    /// then the client's alone).
    pub async fn figures(
        &self,
        db: &dyn Database,
        of: &PlanBasis,
        record: &ChildRecord,
        now: Timestamp,
    ) -> Result<Option<Arc<Shown>>, ServiceError> {
        let Some(kind) = statistic_type(record) else {
            return Ok(None);
        };
        let (plan, basis, settings) = (&of.plan, of.basis, &of.settings);
        let chosen = stored::performance_settings(record)?;
        let window = chosen.window(
            now,
            plan.fields.get("CustomerCaseManagementPlanPeriod"),
            settings.calendar().time_zone(),
        );
        let key = (basis, kind, window, chosen.breakdown);
        let shown = self
            .shown
            .try_get_with((key, hour_of(now)), async {
                let statistics = self
                    .statistics
                    .try_get_with(key, async {
                        let cases = self.cases(db, basis, window, now).await?;
                        let settings = settings.clone();
                        let breakdown = chosen.breakdown;
                        blocking(move || {
                            Arc::new(compute(kind, &cases, window, &settings, breakdown))
                        })
                        .await
                    })
                    .await
                    .map_err(|e| e.copied())?;
                let projections = self
                    .projected(db, basis, settings, now, forecast::DEFAULT_WEEKS)
                    .await?;
                Ok::<_, StoreError>(Arc::new(shown(
                    kind,
                    window,
                    &statistics,
                    settings,
                    &projections,
                )))
            })
            .await
            .map_err(shared)?;
        Ok(Some(shown))
    }

    /// A plan's loading projections for the next `weeks` weeks, as of the current hour.
    pub async fn plan_projections(
        &self,
        db: &dyn Database,
        plan: PlanId,
        weeks: u32,
        now: Timestamp,
    ) -> Result<Arc<Projections>, ServiceError> {
        let of = self.basis(db, plan).await?;
        Ok(self
            .projected(db, of.basis, &of.settings, now, weeks)
            .await?)
    }

    /// The plan's loading projections for the next `weeks` as of the current hour.
    async fn projected(
        &self,
        db: &dyn Database,
        basis: Basis,
        settings: &PlanSettings,
        now: Timestamp,
        weeks: u32,
    ) -> Result<Arc<Projections>, StoreError> {
        let hour = hour_of(now);
        let weeks = weeks.clamp(1, forecast::MAX_WEEKS);
        self.projections
            .try_get_with((basis, hour, weeks), async {
                let at = Timestamp::from_micros(hour);
                let history = Window::last_days(at, PROJECTION_HISTORY_DAYS)
                    .map_err(|e| StoreError::Internal(e.to_string()))?;
                let cases = self.cases(db, basis, history, now).await?;
                let settings = settings.clone();
                blocking(move || Arc::new(forecast::project(&cases, &settings, at, weeks))).await
            })
            .await
            .map_err(|e| e.copied())
    }

    /// The timelines that matter for `window` at the basis's generation: from the plan's
    /// mirror when the window is recent, else read once per basis and window.
    async fn cases(
        &self,
        db: &dyn Database,
        basis: Basis,
        window: Window,
        now: Timestamp,
    ) -> Result<Cases, StoreError> {
        let cover = recent_cover(now);
        if serves(cover, window) {
            return self.mirrored(db, basis, cover).await;
        }
        self.timelines
            .try_get_with((basis, window), async {
                let cases = db.case_timelines(basis.plan, window).await?;
                Ok::<_, StoreError>(Arc::new(cases))
            })
            .await
            .map_err(|e| e.copied())
    }

    /// The plan's recent timelines at (at least) the basis's generation.
    async fn mirrored(
        &self,
        db: &dyn Database,
        basis: Basis,
        cover: Window,
    ) -> Result<Cases, StoreError> {
        let slot = self
            .mirrors
            .get_with(basis.plan, async { Arc::default() })
            .await;
        let mut mirror = slot.lock().await;
        let started = std::time::Instant::now();
        match mirror.as_mut() {
            Some(m) if m.covers == cover && m.generation >= basis.generation => {}
            Some(m) if m.covers == cover => {
                let changed = db.case_timelines_changed(basis.plan, m.generation).await?;
                tracing::debug!(plan = %basis.plan, changed = changed.len(),
                    elapsed_ms = started.elapsed().as_millis() as u64, "case timelines brought up to date");
                m.update(basis.generation, changed);
            }
            _ => {
                let cases = db.case_timelines(basis.plan, cover).await?;
                tracing::info!(plan = %basis.plan, cases = cases.len(),
                    elapsed_ms = started.elapsed().as_millis() as u64, "case timelines read");
                *mirror = Some(Mirror::new(basis.generation, cover, cases));
            }
        }
        Ok(mirror
            .as_ref()
            .map(|m| Arc::clone(&m.cases))
            .unwrap_or_default())
    }

    /// Folds a plan's newly stored events into its timelines in the background, so that the
    /// next reader finds them folded. Folding waits until the plan's batches pause for
    /// [`FOLD_QUIET`] (a burst is folded in large steps once it ends, instead of taking the
    /// writer from the batches), but never lets stored events wait longer than
    /// [`FOLD_LAG`]. A read folds whatever is still pending itself, so figures are always
    /// exact; this only keeps reads from waiting.
    pub fn fold_soon(&self, db: &Arc<dyn Database>, plan: PlanId) {
        let now = Instant::now();
        {
            let Ok(mut pending) = self.folding.lock() else {
                return;
            };
            if let Some(p) = pending.get_mut(&plan) {
                p.last_batch = now;
                return;
            }
            pending.insert(
                plan,
                PendingFold {
                    first_batch: now,
                    last_batch: now,
                },
            );
        }
        let (db, folding) = (Arc::clone(db), Arc::clone(&self.folding));
        tokio::spawn(async move {
            loop {
                let due = match folding.lock() {
                    Ok(pending) => pending
                        .get(&plan)
                        .map(|p| (p.last_batch + FOLD_QUIET).min(p.first_batch + FOLD_LAG)),
                    Err(_) => None,
                };
                let Some(due) = due else { return };
                if Instant::now() >= due {
                    break;
                }
                tokio::time::sleep_until(due.into()).await;
            }
            if let Ok(mut pending) = folding.lock() {
                pending.remove(&plan);
            }
            let started = Instant::now();
            match db.fold_timelines(plan).await {
                Ok(generation) => tracing::info!(plan = %plan, generation,
                    elapsed_ms = started.elapsed().as_millis() as u64, "case events folded into timelines"),
                Err(err) => tracing::warn!(plan = %plan, error = %err,
                    "folding case events into timelines failed; the next read retries"),
            }
        });
    }
}

/// Renders computed figures as a record shows them: the BIAN strings, the typed `Window` and
/// `Statistics`. The typed projections (a team's 168 hourly intervals each, most of a record's
/// size) are served by the plan's projections only; the record carries them in words
/// (`CustomerCaseLoadingProjections`).
fn shown(
    kind: StatisticType,
    window: Window,
    s: &Statistics,
    settings: &PlanSettings,
    projections: &Projections,
) -> Shown {
    let strings = vec![
        ("CustomerCaseServiceStatisticValue", headline(kind, s).1),
        (
            "CustomerCaseResolutionServiceStatistics",
            readable_statistics(s),
        ),
        ("CustomerCaseResourceUtilization", readable_utilization(s)),
        (
            "CustomerCaseServiceStatisticInterpretation",
            interpretation(kind, s, settings),
        ),
        (
            "CustomerCaseServiceStatisticRecommendation",
            recommendation(kind, s, settings),
        ),
        (
            "CustomerCaseLoadingProjections",
            readable_projections(projections),
        ),
    ];
    Shown {
        strings,
        window: json!({
            "Start": window.start().to_rfc3339(),
            "End": window.end().to_rfc3339(),
        }),
        // Plain structs of numbers, strings and maps with string keys always serialise.
        statistics: serde_json::to_value(s).unwrap_or(serde_json::Value::Null),
    }
}

impl Service {
    /// A plan's loading projections for the next `weeks` weeks (1 to
    /// [`forecast::MAX_WEEKS`]), as of the current hour.
    pub async fn projections(
        &self,
        plan: PlanId,
        weeks: u32,
    ) -> Result<Arc<Projections>, ServiceError> {
        if !(1..=forecast::MAX_WEEKS).contains(&weeks) {
            return Err(ServiceError::invalid_property(
                "weeks",
                format!("weeks must be between 1 and {}", forecast::MAX_WEEKS),
            ));
        }
        self.analyst
            .plan_projections(self.db.as_ref(), plan, weeks, Timestamp::now())
            .await
    }
}

/// When a plan's batches arrived, while a background fold waits.
struct PendingFold {
    first_batch: Instant,
    last_batch: Instant,
}

/// Runs CPU-bound work on a blocking thread.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::Internal(format!("computing figures failed: {e}")))
}

fn shared(err: Arc<StoreError>) -> ServiceError {
    err.copied().into()
}
