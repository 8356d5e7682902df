//! The typed result of [`compute`](super::compute): every figure of a window, so that
//! programs need not parse the BIAN strings. Serialised with PascalCase properties, like the
//! BIAN fields; instants as RFC 3339 text and money as decimal text. A figure that cannot be
//! computed (a median of no cases, a rate over nothing, utilization without a resource plan)
//! is `null`, never a made-up zero.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::text::{decimal, rfc3339};
use super::{Dimension, StatisticType};
use crate::record::Timestamp;

/// All figures of one window, with the trend of the headline figure of
/// [`statistic_type`](Self::statistic_type) and its breakdown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statistics {
    /// The statistic asked for; it chooses the headline figure, the trend and the breakdown.
    pub statistic_type: StatisticType,
    /// The first instant of the window.
    #[serde(with = "rfc3339")]
    pub window_start: Timestamp,
    /// The first instant after the window.
    #[serde(with = "rfc3339")]
    pub window_end: Timestamp,
    /// Cases opened, resolved, closed, reopened and appealed in the window, and the backlog.
    pub counts: CaseCounts,
    /// Business hours from opening to first response, over cases resolved in the window.
    pub first_response_hours: Durations,
    /// Business hours from opening to resolution, over cases resolved in the window.
    pub resolution_hours: Durations,
    /// Cases open at the end of the window, by calendar age.
    pub backlog_aging: BacklogAging,
    /// Attainment of the service-level targets, over cases resolved in the window.
    pub service_levels: ServiceLevels,
    /// Fraction of cases resolved in the window that were ever reopened.
    pub reopen_rate: Option<f64>,
    /// Fraction of cases resolved in the window that were ever appealed.
    pub appeal_rate: Option<f64>,
    /// Minutes of effort per case resolved in the window.
    pub effort_per_case: EffortPerCase,
    /// Effort booked in the window against the teams' scheduled capacity.
    pub utilization: Utilization,
    /// Amounts booked in the window, netted per currency.
    pub profit_loss: ProfitLoss,
    /// The headline figure against the previous window of the same length.
    pub trend: Trend,
    /// The headline figure per value of the dimension asked for, if one was.
    pub breakdown: Option<Breakdown>,
}

/// Case counts of a window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CaseCounts {
    /// Cases that opened in the window.
    pub opened: u64,
    /// Cases whose last resolution falls in the window.
    pub resolved: u64,
    /// Cases whose last closing falls in the window.
    pub closed: u64,
    /// Cases reopened in the window (once each, however often).
    pub reopened: u64,
    /// Cases appealed in the window (once each, however often).
    pub appealed: u64,
    /// Cases open at the start of the window.
    pub backlog_at_start: u64,
    /// Cases open at the end of the window.
    pub backlog: u64,
}

/// A distribution of durations in business hours (nearest-rank percentiles).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Durations {
    /// How many cases were measured.
    pub cases: u64,
    /// The median.
    pub p50: Option<f64>,
    /// The 90th percentile.
    pub p90: Option<f64>,
    /// The 95th percentile.
    pub p95: Option<f64>,
    /// The mean.
    pub mean: Option<f64>,
}

/// Open cases by calendar age at the end of the window; each bound belongs to the older
/// bucket (a case exactly one day old is in `From1To3Days`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BacklogAging {
    /// Younger than one day.
    pub up_to_1_day: u64,
    /// One day to less than three.
    pub from_1_to_3_days: u64,
    /// Three days to less than seven.
    pub from_3_to_7_days: u64,
    /// Seven days to less than fourteen.
    pub from_7_to_14_days: u64,
    /// Fourteen days or older.
    pub over_14_days: u64,
}

/// Service-level attainment over cases resolved in the window. A case meets its target when
/// both its first response and its resolution came within its priority's business hours
/// (exactly on the limit counts as met).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServiceLevels {
    /// Cases whose priority has a target.
    pub cases: u64,
    /// Of those, cases that met it.
    pub met: u64,
    /// `met / cases`.
    pub attainment: Option<f64>,
    /// Fraction of those cases whose first response met the target.
    pub first_response_attainment: Option<f64>,
    /// Fraction of those cases whose resolution met the target.
    pub resolution_attainment: Option<f64>,
    /// The goals weighted by the cases of each priority: what the plan expects of this mix.
    pub goal: Option<f64>,
    /// Resolved cases whose priority has no target (not counted above).
    pub without_target: u64,
    /// Per priority that has a target, most urgent first.
    pub priorities: Vec<PriorityAttainment>,
}

/// Attainment of one priority's target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PriorityAttainment {
    /// `low`, `normal`, `high` or `urgent`.
    pub priority: String,
    /// Business hours allowed to the first response.
    pub first_response_hours: f64,
    /// Business hours allowed to resolution.
    pub resolution_hours: f64,
    /// The fraction of cases that must meet the target.
    pub goal: f64,
    /// Cases of this priority resolved in the window.
    pub cases: u64,
    /// Cases whose first response met the target.
    pub first_response_met: u64,
    /// Cases whose resolution met the target.
    pub resolution_met: u64,
    /// Cases that met both.
    pub met: u64,
    /// `met / cases`.
    pub attainment: Option<f64>,
}

/// Effort per case resolved in the window, over the cases that reported effort.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EffortPerCase {
    /// Cases measured.
    pub cases: u64,
    /// Their total effort, in minutes.
    pub total_minutes: f64,
    /// Mean minutes per case.
    pub mean_minutes: Option<f64>,
    /// Median minutes per case.
    pub p50_minutes: Option<f64>,
    /// 90th percentile of minutes per case.
    pub p90_minutes: Option<f64>,
}

/// Effort booked in the window against scheduled capacity. Capacity of a team is
/// `agents × productive hours per day × (1 − shrinkage) × working days in the window`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Utilization {
    /// Working days of the business calendar in the window (partial days count in part).
    pub working_days: f64,
    /// Effort booked by the planned teams, in hours.
    pub effort_hours: f64,
    /// Capacity of the planned teams, in hours.
    pub capacity_hours: f64,
    /// `effort_hours / capacity_hours`; `null` without capacity.
    pub overall: Option<f64>,
    /// Effort booked with no team on the event or the case, in hours.
    pub unassigned_effort_hours: f64,
    /// Events that booked effort in the window, with or without a team.
    pub bookings: u64,
    /// The planned teams in plan order, then teams with effort but not in the plan.
    pub teams: Vec<TeamUtilization>,
}

/// One team's effort against its capacity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TeamUtilization {
    /// The team's name.
    pub team: String,
    /// Its scheduled headcount; `null` for a team not in the plan.
    pub agents: Option<f64>,
    /// Effort booked by it in the window, in hours.
    pub effort_hours: f64,
    /// Its capacity in the window, in hours; `null` for a team not in the plan.
    pub capacity_hours: Option<f64>,
    /// `effort_hours / capacity_hours`.
    pub utilization: Option<f64>,
}

/// Amounts booked in the window, with their signs as reported: a positive net is a profit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProfitLoss {
    /// The headline currency: the one with the most bookings (ties: alphabetical).
    pub currency: Option<String>,
    /// Per currency, alphabetical.
    pub nets: Vec<CurrencyNet>,
}

/// The net of one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CurrencyNet {
    /// ISO 4217 code.
    pub currency: String,
    /// The exact sum, as decimal text.
    #[serde(with = "decimal")]
    pub net: Decimal,
    /// How many amounts were booked.
    pub bookings: u64,
}

/// The headline figure against the previous window of equal length.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Trend {
    /// The first instant of the previous window.
    #[serde(with = "rfc3339")]
    pub previous_window_start: Timestamp,
    /// The first instant after it (the start of this window).
    #[serde(with = "rfc3339")]
    pub previous_window_end: Timestamp,
    /// The headline figure of the previous window.
    pub previous: Option<f64>,
    /// The headline figure of this window.
    pub current: Option<f64>,
    /// `current − previous`.
    pub change: Option<f64>,
    /// `change / previous`, when the previous figure is not zero.
    pub relative_change: Option<f64>,
}

/// The headline figure per value of a dimension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Breakdown {
    /// What the cases were grouped by.
    pub dimension: Dimension,
    /// The value that contributes most to the figure falling short (see
    /// [`interpretation`](super::interpretation)); `null` with no values.
    pub driver: Option<String>,
    /// Per value, largest population first; cases without the label are `unspecified`.
    pub values: Vec<BreakdownValue>,
}

/// The headline figure of one value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BreakdownValue {
    /// The label, e.g. `billing`.
    pub value: String,
    /// The cases (or bookings) behind the figure, e.g. cases resolved for a resolution time.
    pub population: u64,
    /// The headline figure for this value.
    pub headline: Option<f64>,
}
