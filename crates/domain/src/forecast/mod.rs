//! Loading projections (BIAN `CustomerCaseLoadingProjections`): how many cases will arrive
//! in the coming weeks, how many agents each team needs for them hour by hour, and how that
//! compares with the resource plan. Pure: no clock (`now` is passed in), no I/O, and the
//! same input gives the same output.
//!
//! [`project`] works in four steps, each in its own file:
//!
//! 1. **History** (`history.rs`): the daily series of cases reaching the queue over the last
//!    26 weeks, per hour of the week and per team, in the plan calendar's time zone. A case
//!    opened while the bank is closed counts when it next opens.
//! 2. **Forecast** (`model.rs`): MSTL with a weekly period and an AutoETS trend (`augurs`),
//!    or the mean per day of the week for histories shorter than [`MIN_MODEL_DAYS`], or
//!    zeros without history. The calendar is then applied: a day without working time
//!    (weekend, holiday) gets no arrivals, and what was forecast for it is carried to the
//!    next working day of the horizon — cases that arrive while the bank is closed wait for
//!    it to open.
//! 3. **Staffing** (`inputs.rs`, `demand.rs`): each day's arrivals are spread over its working
//!    hours and the teams as in the history (the backlog found at an opening over the hours
//!    its first-response target allows); per team and hour, Erlang C
//!    ([`crate::staffing`]) gives the agents required for the team's service level target,
//!    set against the agents the resource plan makes available. The definitions of
//!    *required*, *available* and *gap* are on [`TeamProjection`].
//! 4. **Reallocation** (`reallocation.rs`): whole agents moved between teams, greedily, while
//!    a move raises goal attainment (defined on [`Reallocation`]).
//!
//! [`readable_projections`] renders the BIAN string from the typed [`Projections`], which
//! itself serialises (PascalCase) as the typed extension property `Projections`.
//!
//! **Cost.** One pass over the cases; the model sees at most 182 daily figures; Erlang C is
//! asked at most once per team and working hour of the horizon; the reallocation works on
//! the hours of one week. The speed test (`speed_tests.rs`) projects 200,000 cases.

mod demand;
mod history;
mod inputs;
mod model;
mod projections;
mod readable;
mod reallocation;
mod routing;
mod week;

use demand::{Day, TeamInputs};
use model::Observed;
use reallocation::Candidate;
use std::borrow::Borrow;
use week::{HOURS, WEEKDAYS, WorkWeek, date_text, interval_label, weekday};

pub use projections::{
    AgentMove, DailyForecast, GapSummary, HourOfWeekLoad, Method, Projections, Reallocation,
    TeamInterval, TeamProjection,
};
pub use readable::readable_projections;
pub use reallocation::MAX_MOVES;

use crate::analytics::CaseTimeline;
use crate::plan::{PlanSettings, Team};
use crate::record::Timestamp;

/// The longest horizon, in weeks; a longer request is cut to it.
pub const MAX_WEEKS: u32 = 52;

/// The horizon when none is asked for, in weeks.
pub const DEFAULT_WEEKS: u32 = 4;

/// The fewest days of history for the seasonal model (three weeks: three of each day of the
/// week); shorter histories use the mean per day of the week.
pub const MIN_MODEL_DAYS: usize = 21;

/// The probability of the prediction interval of each day (`Low`..`High`).
pub const PREDICTION_LEVEL: f64 = 0.95;

/// The handling time used when no resolved case reported effort, in minutes.
pub const DEFAULT_AHT_MINUTES: f64 = 30.0;

/// The answer time staffed for when the plan has no service level targets, in business hours
/// to first response.
pub const DEFAULT_FIRST_RESPONSE_HOURS: f64 = 4.0;

/// The fraction of arrivals to answer in time when the plan has no service level targets.
pub const DEFAULT_ATTAINMENT_GOAL: f64 = 0.8;

/// The loading projections of a plan for `weeks` weeks (1 to [`MAX_WEEKS`]; 0 counts as 1)
/// from the local date of `now` in the plan's calendar, learnt from `cases` (the plan's case
/// timelines: those seen in about the last 26 weeks and the open ones). See the module docs.
pub fn project<C: Borrow<CaseTimeline>>(
    cases: &[C],
    settings: &PlanSettings,
    now: Timestamp,
    weeks: u32,
) -> Projections {
    let weeks = weeks.clamp(1, MAX_WEEKS);
    let horizon = weeks as usize * 7;
    let calendar = settings.calendar();
    let week = WorkWeek::new(calendar);
    let plan = settings.resource_plan.as_ref();
    let teams: &[Team] = plan.map_or(&[], |p| p.teams());
    let (today, _) = week.local(now);

    let history = history::read(cases, &week, teams, today);
    let observed: Vec<Observed> = (history.first_day..)
        .zip(&history.daily)
        .map(|(day, arrivals)| Observed {
            arrivals: *arrivals,
            weekday: weekday(day),
            closed: week.is_holiday(day) && week.day_minutes(weekday(day)) > 0,
        })
        .collect();
    let forecast = model::forecast(&observed, horizon, weekday(today));

    let (days, mut daily) = apply_calendar(&forecast, &week, today);
    let all = teams.len();
    let targets: Vec<inputs::Target> = (0..=all)
        .map(|row| {
            inputs::target(
                &history.priorities[row],
                &history.priorities[all],
                settings.service_level_targets.as_ref(),
            )
        })
        .collect();
    let spread: Vec<f64> = targets.iter().map(|t| t.first_response_hours).collect();
    let load = inputs::worked_hours(&history, &week, &spread);
    let shares = inputs::day_shares(&load, &week);
    let unassigned_arrivals = spread_over(&days, &week, |slot| shares[all][slot]);

    let mut day_required = vec![0.0; days.len()];
    let mut day_available = vec![0.0; days.len()];
    let staffed: Vec<demand::Staffed> = teams
        .iter()
        .enumerate()
        .map(|(i, team)| {
            let (aht_minutes, aht_source) =
                inputs::handling_time(&history.effort[i], &history.effort[all]);
            let team_inputs = TeamInputs {
                team,
                shares: &shares[i],
                aht_minutes,
                aht_source,
                target: targets[i],
            };
            demand::staff(
                &team_inputs,
                &days,
                &week,
                &mut day_required,
                &mut day_available,
            )
        })
        .collect();
    if plan.is_some() {
        for (i, d) in daily.iter_mut().enumerate() {
            d.required_agent_hours = Some(day_required[i]);
            d.available_agent_hours = Some(day_available[i]);
        }
    }

    let mut weight = [0.0; HOURS];
    for d in days.iter().filter(|d| d.working) {
        for slot in week.slots_of(d.weekday) {
            weight[slot] += f64::from(week.slot_minutes(slot)) / 60.0 / f64::from(weeks);
        }
    }
    let candidates: Vec<Candidate> = staffed
        .iter()
        .zip(teams)
        .map(|(s, team)| Candidate {
            team,
            required: &s.required,
            per_agent: &s.per_agent,
        })
        .collect();
    let outcome = reallocation::reallocate(&candidates, &weight);
    let teams_out = staffed
        .into_iter()
        .zip(outcome.agents_after)
        .map(|(s, after)| TeamProjection {
            recommended_agents: after,
            ..s.projection
        })
        .collect();

    let total: f64 = days.iter().map(|d| d.arrivals).sum();
    Projections {
        method: forecast.method,
        generated_at: now,
        time_zone: calendar.time_zone_name().to_owned(),
        from: date_text(today),
        to: date_text(today + horizon as i64 - 1),
        weeks,
        history_from: (!history.daily.is_empty()).then(|| date_text(history.first_day)),
        history_days: u32::try_from(history.daily.len()).unwrap_or(u32::MAX),
        history_arrivals: history.arrivals,
        prediction_level: forecast.bounds.as_ref().map(|_| PREDICTION_LEVEL),
        expected_arrivals_per_week: total / f64::from(weeks),
        daily,
        hour_of_week: hour_of_week(&load, &shares, &days, &week, weeks),
        teams: teams_out,
        unassigned_arrivals,
        reallocation: outcome.reallocation,
    }
}

/// The forecast days with the calendar applied: a day without working time gets nothing,
/// and its forecast (and interval bounds) is carried to the next working day; what is still
/// carried at the end of the horizon is dropped.
fn apply_calendar(
    forecast: &model::Forecast,
    week: &WorkWeek,
    today: i64,
) -> (Vec<Day>, Vec<DailyForecast>) {
    let mut days = Vec::with_capacity(forecast.point.len());
    let mut daily = Vec::with_capacity(forecast.point.len());
    let mut carry = (0.0, 0.0, 0.0);
    for (i, &point) in forecast.point.iter().enumerate() {
        let day = today + i as i64;
        let working = week.is_working_day(day);
        let (low, high) = forecast
            .bounds
            .as_ref()
            .map_or((point, point), |(l, h)| (l[i], h[i]));
        let (arrivals, low, high) = if working {
            let today = (point + carry.0, low + carry.1, high + carry.2);
            carry = (0.0, 0.0, 0.0);
            today
        } else {
            carry = (carry.0 + point, carry.1 + low, carry.2 + high);
            (0.0, 0.0, 0.0)
        };
        let weekday = weekday(day);
        let minutes = if working {
            week.day_minutes(weekday)
        } else {
            0
        };
        days.push(Day {
            day,
            weekday,
            working,
            arrivals,
        });
        daily.push(DailyForecast {
            date: date_text(day),
            weekday: WEEKDAYS[weekday],
            working_hours: f64::from(minutes) / 60.0,
            arrivals,
            low: forecast.bounds.as_ref().map(|_| low),
            high: forecast.bounds.as_ref().map(|_| high),
            required_agent_hours: None,
            available_agent_hours: None,
        });
    }
    (days, daily)
}

/// The arrivals of the horizon that fall to a share of each hour of the week.
fn spread_over(days: &[Day], week: &WorkWeek, share: impl Fn(usize) -> f64) -> f64 {
    days.iter()
        .filter(|d| d.working)
        .map(|d| {
            week.slots_of(d.weekday)
                .map(|slot| d.arrivals * share(slot))
                .sum::<f64>()
        })
        .sum()
}

/// The history's share and the average week's arrivals of each working hour of the week.
fn hour_of_week(
    load: &[[f64; HOURS]],
    shares: &[[f64; HOURS]],
    days: &[Day],
    week: &WorkWeek,
    weeks: u32,
) -> Vec<HourOfWeekLoad> {
    let grand: f64 = load.iter().flatten().sum();
    let mut arrivals = [0.0; HOURS];
    for d in days.iter().filter(|d| d.working) {
        for slot in week.slots_of(d.weekday) {
            let share: f64 = shares.iter().map(|row| row[slot]).sum();
            arrivals[slot] += d.arrivals * share / f64::from(weeks);
        }
    }
    week.working_slots()
        .map(|slot| {
            let seen: f64 = load.iter().map(|row| row[slot]).sum();
            HourOfWeekLoad {
                hour_of_week: slot as u8,
                interval: interval_label(slot),
                working_minutes: week.slot_minutes(slot),
                share: if grand > 0.0 { seen / grand } else { 0.0 },
                arrivals: arrivals[slot],
            }
        })
        .collect()
}

#[cfg(test)]
mod test_support;

#[cfg(test)]
mod forecast_tests;
#[cfg(test)]
mod readable_tests;
#[cfg(test)]
mod speed_tests;
#[cfg(test)]
mod staffing_tests;
