//! The typed result of [`project`](super::project), serialised with PascalCase properties like
//! the BIAN fields (the typed extension property `Projections`). Instants are RFC 3339 text
//! in UTC; dates are `YYYY-MM-DD` in the plan calendar's time zone. A figure that cannot be
//! computed (a prediction interval the method does not give, staffing without a resource
//! plan, attainment with nothing required) is `null`, never a made-up zero.

use serde::{Serialize, Serializer};

use crate::record::Timestamp;

/// How the daily arrivals were forecast.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Method {
    /// MSTL decomposition with a weekly period of 7 days, the trend forecast by AutoETS
    /// (`augurs`); gives a prediction interval per day.
    #[serde(rename = "mstl-ets")]
    MstlEts,
    /// The mean arrivals of each day of the week over the history, repeated flat: used for
    /// histories shorter than [`MIN_MODEL_DAYS`](super::MIN_MODEL_DAYS) or when the model
    /// fails.
    #[serde(rename = "weekday-mean")]
    WeekdayMean,
    /// No arrivals in the history: every forecast is zero.
    #[serde(rename = "none")]
    None,
}

impl Method {
    /// The name written in `Method`: `mstl-ets`, `weekday-mean` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MstlEts => "mstl-ets",
            Self::WeekdayMean => "weekday-mean",
            Self::None => "none",
        }
    }
}

/// The loading projections of a plan: forecast arrivals, the staff they need per team and
/// interval against the resource plan, and a recommended reallocation of agents.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Projections {
    /// How the arrivals were forecast.
    pub method: Method,
    /// The instant the projection was made for (`now`).
    #[serde(serialize_with = "rfc3339")]
    pub generated_at: Timestamp,
    /// The IANA time zone of the plan's calendar, in which dates and hours are read.
    pub time_zone: String,
    /// The first forecast date (the local date of `GeneratedAt`).
    pub from: String,
    /// The last forecast date, inclusive.
    pub to: String,
    /// Weeks forecast: `Daily` has seven times as many days.
    pub weeks: u32,
    /// The first date of the history used, if there was any.
    pub history_from: Option<String>,
    /// Days of history used, up to the day before `From`.
    pub history_days: u32,
    /// Cases that arrived in the history used.
    pub history_arrivals: u64,
    /// The probability that a day's arrivals fall between its `Low` and `High`, when the
    /// method gives an interval.
    pub prediction_level: Option<f64>,
    /// Forecast arrivals over the whole horizon divided by `Weeks`.
    pub expected_arrivals_per_week: f64,
    /// One entry per forecast day, in order.
    pub daily: Vec<DailyForecast>,
    /// One entry per working hour of the week, Monday first.
    pub hour_of_week: Vec<HourOfWeekLoad>,
    /// One entry per team of the resource plan, in its order; empty without a resource plan.
    pub teams: Vec<TeamProjection>,
    /// Forecast arrivals over the horizon that no team of the resource plan takes (all of
    /// them without a resource plan).
    pub unassigned_arrivals: f64,
    /// The recommended moves of agents between teams and the attainment they bring.
    pub reallocation: Reallocation,
}

/// The forecast of one day.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DailyForecast {
    /// The local date, `YYYY-MM-DD`.
    pub date: String,
    /// The day of the week, `Mon` to `Sun`.
    pub weekday: &'static str,
    /// Working hours of the calendar that day: zero at weekends and on holidays.
    pub working_hours: f64,
    /// Expected arrivals that reach the queue that day (never negative). Cases that arrive
    /// while the bank is closed count on the next working day, so a day without working
    /// hours has none.
    pub arrivals: f64,
    /// Lower bound of the prediction interval, when the method gives one.
    pub low: Option<f64>,
    /// Upper bound of the prediction interval, when the method gives one.
    pub high: Option<f64>,
    /// Agent-hours required that day, summed over teams and intervals; `null` without a
    /// resource plan.
    pub required_agent_hours: Option<f64>,
    /// Agent-hours available that day, summed over teams and intervals; `null` without a
    /// resource plan.
    pub available_agent_hours: Option<f64>,
}

/// The load of one working hour of the week.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HourOfWeekLoad {
    /// 0 for Monday 00:00–01:00 up to 167 for Sunday 23:00–24:00, local time.
    pub hour_of_week: u8,
    /// The hour for people, e.g. `Mon 09:00–10:00`.
    pub interval: String,
    /// Working minutes of the calendar in that hour (less than 60 where a window opens or
    /// closes inside it).
    pub working_minutes: u16,
    /// The fraction of the history's cases worked in that hour: a case that arrived in
    /// working time counts in its hour; one that arrived while closed is spread over the
    /// working hours its first-response target allows after the opening.
    pub share: f64,
    /// Expected arrivals in that hour in an average week of the horizon.
    pub arrivals: f64,
}

/// The staffing of one team of the resource plan against its forecast load.
///
/// Definitions, per **interval** (one local clock hour of a forecast day with working time):
///
/// - **Required agents**: the fewest agents at their desks that answer the team's service
///   level goal — that fraction of the interval's arrivals gets a first response within the
///   target time — by Erlang C ([`crate::staffing`]), from the interval's forecast arrivals,
///   its working minutes and the team's average handling time.
/// - **Available agents**: the scheduled agents × (1 − shrinkage) × the share of the day's
///   working hours each agent works (productive hours per day ÷ working hours that day, at
///   most 1): the agents one can expect at their desks and free for cases.
/// - **Gap**: required − available. Positive is a shortfall, negative a surplus.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TeamProjection {
    /// The team's name in the resource plan.
    pub team: String,
    /// The case categories it takes; empty when it takes any.
    pub skills: Vec<String>,
    /// The average handling time used, in minutes.
    pub aht_minutes: f64,
    /// Where it comes from: `history` (the team's resolved cases), `plan` (all resolved
    /// cases of the plan) or `default` ([`DEFAULT_AHT_MINUTES`](super::DEFAULT_AHT_MINUTES)).
    pub aht_source: &'static str,
    /// The answer time staffed for: business hours to first response.
    pub first_response_hours: f64,
    /// The fraction of arrivals to answer within it.
    pub service_level_goal: f64,
    /// Where the two come from: `plan` (the targets of the priorities of the team's cases,
    /// weighted by their arrivals) or `default`.
    pub target_source: &'static str,
    /// Scheduled headcount in the resource plan (full-time equivalents).
    pub scheduled_agents: f64,
    /// Headcount after the recommended reallocation.
    pub recommended_agents: f64,
    /// Forecast arrivals for the team over the horizon.
    pub arrivals: f64,
    /// The team's average working week of the horizon: one entry per working hour of the
    /// week, averaged over that hour's working occurrences in the horizon.
    pub intervals: Vec<TeamInterval>,
    /// The gaps over every interval of the horizon.
    pub gaps: GapSummary,
}

/// One working hour of a team's average week.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TeamInterval {
    /// 0 for Monday 00:00–01:00 up to 167, local time.
    pub hour_of_week: u8,
    /// The hour for people, e.g. `Mon 09:00–10:00`.
    pub interval: String,
    /// Mean forecast arrivals in that hour.
    pub arrivals: f64,
    /// Mean required agents in that hour (see [`TeamProjection`]).
    pub required_agents: f64,
    /// Available agents in that hour.
    pub available_agents: f64,
    /// `RequiredAgents − AvailableAgents`: positive short, negative spare.
    pub gap: f64,
}

/// A team's gaps over every interval of the horizon.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GapSummary {
    /// Intervals in the horizon (working hours of working days).
    pub intervals: u32,
    /// Of those, intervals with more agents required than available.
    pub intervals_short: u32,
    /// The interval with the largest gap, e.g. `2026-06-08 Mon 09:00–10:00` (the first of
    /// equals); `null` without intervals.
    pub worst_interval: Option<String>,
    /// Its gap, in agents.
    pub worst_gap: Option<f64>,
    /// Required agents × working hours, summed over the intervals.
    pub agent_hours_required: f64,
    /// Available agents × working hours, summed over the intervals.
    pub agent_hours_available: f64,
    /// Positive gaps × working hours: the agent-hours short.
    pub agent_hours_short: f64,
    /// Negative gaps × working hours, as a positive number: the agent-hours spare.
    pub agent_hours_surplus: f64,
}

/// Recommended moves of whole agents between teams, and goal attainment before and after.
///
/// **Attainment** is the share of the required agent-hours of an average week of the
/// horizon that available agents cover, over all teams, where each team's interval counts
/// at most what it requires: `Σ min(required, available) × hours ÷ Σ required × hours`. A
/// surplus in one interval or team does not make up for a shortfall in another; that is
/// what moving agents can fix.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Reallocation {
    /// The moves, in the order the greedy search chose them (grouped by pair of teams).
    pub moves: Vec<AgentMove>,
    /// Attainment with the resource plan as it is; `null` when nothing is required.
    pub attainment_before: Option<f64>,
    /// Attainment after the moves; `null` when nothing is required.
    pub attainment_after: Option<f64>,
}

/// Agents moved from one team to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AgentMove {
    /// The team that gives them.
    pub from: String,
    /// The team that takes them.
    pub to: String,
    /// How many (whole agents).
    pub agents: u32,
}

fn rfc3339<S: Serializer>(at: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&at.to_rfc3339())
}
