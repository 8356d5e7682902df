//! Performance from data: the statistics of a plan's case activity, computed, never typed in.
//!
//! Three steps, all pure (no clock, no I/O):
//!
//! 1. **Reduce** each case's events to a [`CaseTimeline`] — with [`CaseTimeline::fold`] from
//!    the whole history, or incrementally with [`CaseTimeline::apply`] as events arrive. The
//!    result does not depend on the order in which events arrive, so out-of-order and
//!    re-batched ingestion give the same timeline.
//! 2. **Compute** a [`Statistics`] with [`compute`] for a [`StatisticType`] over a [`Window`]
//!    (half-open, `[start, end)`), optionally broken down by a [`Dimension`], against the
//!    plan's [`PlanSettings`](crate::plan::PlanSettings): service-level targets, business
//!    calendar and resource plan. [`compute`] gives the same result for any slice that holds
//!    every case for which [`CaseTimeline::matters_for`] is true, so a store need load only
//!    those (see that method for the predicate to index on).
//! 3. **Render** the BIAN strings from the typed figures: [`headline`] for
//!    `CustomerCaseServiceStatisticValue`, [`interpretation`] for
//!    `CustomerCaseServiceStatisticInterpretation`, [`recommendation`] for
//!    `CustomerCaseServiceStatisticRecommendation`, [`readable_statistics`] for
//!    `CustomerCaseResolutionServiceStatistics` and [`readable_utilization`] for
//!    `CustomerCaseResourceUtilization`. [`Statistics`] itself serialises (PascalCase) as the
//!    typed extension property `Statistics`.
//!
//! Beside the statistics, [`CaseClocks::of`] gives one case's SLA clocks (first response and
//! resolution: due instant, state, business hours elapsed and paused) for case lists; the
//! statistics time cases with the same clocks.
//!
//! Definitions shared by every statistic, so the figures agree with one another:
//!
//! - A case **opens** at its earliest `opened` event, or at its earliest event of any type
//!   when no `opened` was reported. It is **resolved** at its *last* `resolved` event and
//!   **closed** at its last `closed` event; it is **open** at an instant when it has opened
//!   before it and its latest `reopened`, `resolved` or `closed` event before it is none or a
//!   `reopened` (events at the very instant belong to what follows it, as windows are
//!   half-open).
//! - A case counts as **resolved in a window** when its last resolution falls in it; the
//!   durations, service levels, rates and effort per case are over those cases.
//! - **Durations** are the case's SLA clocks ([`CaseClocks`]): business hours of the plan's
//!   calendar (the default calendar when the plan has none) from opening to the first
//!   `first_response` (or, when none was reported, to the first resolution or closing: it
//!   answered the customer) and to resolution. The resolution clock stands still while the
//!   bank waits on the customer (from a `waiting_on_customer` to the next `customer_replied`,
//!   or to the resolution when the customer never replied), so resolution times exclude that
//!   paused working time; the first-response clock never stops.
//! - A case **meets** a target when its clock stopped at or before its due instant: the
//!   target in working time from the opening, plus the working time paused before it. That
//!   is the elapsed time being at most the target, except for a clock stopped in the closed
//!   hours just after a due instant that fell on a closing, which missed it.
//! - **Effort and money** count in the window in which their event occurred; effort is
//!   credited to the event's team, or to the case's team when the event names none.
//! - **Percentiles** are exact, by the nearest-rank method: p90 is the smallest value with at
//!   least 90% of the values at or below it.
//!
//! **Incremental use.** A store keeps one [`CaseTimeline`] per case — its serde form is a small
//! JSON document, validated when read back — and applies each new event to it at ingest, in
//! whatever order events come. To compute, it loads only the timelines for which
//! [`CaseTimeline::matters_for`] holds (an index on first/last event and the open flag), so
//! the cost of a Performance retrieval follows the cases active in the window and the
//! previous one plus the open backlog, not the length of the history.
//!
//! **Cost.** One pass over the cases, skipping those that cannot matter, with per-case work
//! for the window and the previous one; business hours come from an index of the calendar
//! built once per call (two look-ups per duration); no allocation per case; exact
//! percentiles by selection. The speed test (`speed_tests.rs`) computes all ten statistics
//! over a million events.

mod advice;
mod booking;
mod clocks;
mod compute;
mod distribution;
mod kind;
mod readable;
mod settings;
mod staffing_advice;
mod statistics;
mod tally;
mod text;
mod timeline;
mod window;
mod workclock;

pub use advice::{TARGET_UTILIZATION, UNDERUSED_UTILIZATION, interpretation, recommendation};
pub use booking::Booking;
pub use clocks::{CaseClockReadings, CaseClocks, ClockReading, ClockState, SlaClock};
pub use compute::{UNSPECIFIED, compute};
pub use kind::StatisticType;
pub use readable::{headline, headline_value, readable_statistics, readable_utilization};
pub use settings::{
    DEFAULT_WINDOW_DAYS, MAX_WINDOW_DAYS, PerformanceSettings, PerformanceSettingsError, period,
    rounded_now,
};
pub use statistics::{
    BacklogAging, Breakdown, BreakdownValue, CaseCounts, CurrencyNet, Durations, EffortPerCase,
    PriorityAttainment, ProfitLoss, ServiceLevels, Statistics, TeamUtilization, Trend, Utilization,
};
pub use timeline::{CaseTimeline, Pause, Pauses, fold_cases, plan_priority};
pub use window::{Dimension, Window, WindowError};

#[cfg(test)]
mod capacity_tests;
#[cfg(test)]
mod compute_tests;
#[cfg(test)]
mod readable_tests;
#[cfg(test)]
mod speed_tests;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod trend_tests;
