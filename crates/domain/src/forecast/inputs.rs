//! What the staffing of each team takes from the history and the plan: how a day's arrivals
//! spread over the hours of the day and the teams, the average handling time, and the
//! service level to staff for.

use super::history::{Effort, History};
use super::week::{HOURS, WorkWeek};
use super::{DEFAULT_AHT_MINUTES, DEFAULT_ATTAINMENT_GOAL, DEFAULT_FIRST_RESPONSE_HOURS};
use crate::plan::{Priority, ServiceLevelTargets};

/// The shortest and longest handling time used, in minutes: effort reports outside this
/// range are more likely slips than a real average.
const AHT_RANGE: (f64, f64) = (1.0, 24.0 * 60.0);

/// The service level goal is kept strictly between 0 and 1, as Erlang C needs: a goal of 1
/// (every case in time) is staffed as 99.9%, a goal of 0 as 1%.
const GOAL_RANGE: (f64, f64) = (0.01, 0.999);

/// Per team, then unassigned: the cases of the history per hour of the week in which they
/// are worked. A case that arrived in working time counts in its hour. A case that arrived
/// while closed is in the queue at the opening, and the target allows its first response up
/// to the target's hours later, so it is spread evenly over the working time from that
/// opening to `spread_hours[row]` working hours later, or to the end of that day if sooner.
/// (All of them in the opening hour would ask Erlang C to answer the night's backlog within
/// that hour.)
pub(super) fn worked_hours(
    history: &History,
    week: &WorkWeek,
    spread_hours: &[f64],
) -> Vec<[f64; HOURS]> {
    let mut load = history.slots.clone();
    for (row, backlog) in history.backlog.iter().enumerate() {
        let spread = spread_hours.get(row).copied().unwrap_or(0.0) * 60.0;
        for (slot, &cases) in backlog.iter().enumerate().filter(|(_, c)| **c > 0.0) {
            let day_end = (slot / 24 + 1) * 24;
            let mut left = spread.max(1.0);
            let mut taken: Vec<(usize, f64)> = Vec::new();
            for s in slot..day_end {
                let minutes = f64::from(week.slot_minutes(s)).min(left);
                if minutes > 0.0 {
                    taken.push((s, minutes));
                    left -= minutes;
                }
                if left <= 0.0 {
                    break;
                }
            }
            let total: f64 = taken.iter().map(|(_, m)| m).sum();
            if total <= 0.0 {
                // Not reached: a backlog hour is an opening, which has working minutes.
                load[row][slot] += cases;
                continue;
            }
            for (s, minutes) in taken {
                load[row][s] += cases * minutes / total;
            }
        }
    }
    load
}

/// Per team, then unassigned: the fraction of a day's arrivals worked in each hour of the
/// week, from [`worked_hours`]. For every day of the week with working time the fractions of
/// its hours add up to 1 over all rows. A day of the week without history follows each
/// row's share of all cases, spread over its hours by working minutes.
pub(super) fn day_shares(load: &[[f64; HOURS]], week: &WorkWeek) -> Vec<[f64; HOURS]> {
    let rows = load.len();
    let mut shares = vec![[0.0; HOURS]; rows];
    let row_totals: Vec<f64> = load.iter().map(|r| r.iter().sum()).collect();
    let grand: f64 = row_totals.iter().sum();
    for weekday in 0..7 {
        let hours = weekday * 24..weekday * 24 + 24;
        let day_total: f64 = load
            .iter()
            .map(|r| r[hours.clone()].iter().sum::<f64>())
            .sum();
        let day_minutes = f64::from(week.day_minutes(weekday));
        for (row, share) in shares.iter_mut().enumerate() {
            for slot in week.slots_of(weekday) {
                share[slot] = if day_total > 0.0 {
                    load[row][slot] / day_total
                } else {
                    let of_all = if grand > 0.0 {
                        row_totals[row] / grand
                    } else if row + 1 == rows {
                        1.0
                    } else {
                        0.0
                    };
                    of_all * f64::from(week.slot_minutes(slot)) / day_minutes
                };
            }
        }
    }
    shares
}

/// The average handling time of a team, in minutes, and where it came from: the mean effort
/// of the team's resolved cases (`history`), else of all the plan's resolved cases (`plan`),
/// else [`DEFAULT_AHT_MINUTES`] (`default`).
pub(super) fn handling_time(team: &Effort, all: &Effort) -> (f64, &'static str) {
    let mean = |e: &Effort| (e.cases > 0.0).then(|| e.minutes / e.cases);
    let (minutes, source) = match (mean(team), mean(all)) {
        (Some(m), _) => (m, "history"),
        (None, Some(m)) => (m, "plan"),
        (None, None) => (DEFAULT_AHT_MINUTES, "default"),
    };
    (minutes.clamp(AHT_RANGE.0, AHT_RANGE.1), source)
}

/// The service level a team is staffed for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Target {
    /// Business hours to first response.
    pub first_response_hours: f64,
    /// Fraction of arrivals to answer within them.
    pub goal: f64,
    /// `plan` or `default`.
    pub source: &'static str,
}

/// The target of a team: the first-response hours and attainment goals of the priorities
/// of its cases that have a target, weighted by their arrivals; when none of its cases has
/// one, the same over all the plan's cases; when none of those has one either, the plain
/// mean of the targets set; with no targets, [`DEFAULT_FIRST_RESPONSE_HOURS`] and
/// [`DEFAULT_ATTAINMENT_GOAL`].
pub(super) fn target(
    team: &[f64; 4],
    all: &[f64; 4],
    targets: Option<&ServiceLevelTargets>,
) -> Target {
    let weighted = |weights: &[f64; 4]| {
        let targets = targets?;
        let mut sums = (0.0, 0.0, 0.0);
        for (i, p) in Priority::ALL.into_iter().enumerate() {
            if let Some(t) = targets.get(p).filter(|_| weights[i] > 0.0) {
                sums.0 += weights[i] * t.first_response_hours();
                sums.1 += weights[i] * t.attainment_goal();
                sums.2 += weights[i];
            }
        }
        (sums.2 > 0.0).then(|| (tidy(sums.0 / sums.2), tidy(sums.1 / sums.2)))
    };
    let plain = || {
        let set: Vec<_> = targets?.iter().map(|(_, t)| *t).collect();
        let n = set.len() as f64;
        (n > 0.0).then(|| {
            let hours: f64 = set.iter().map(|t| t.first_response_hours()).sum();
            let goals: f64 = set.iter().map(|t| t.attainment_goal()).sum();
            (tidy(hours / n), tidy(goals / n))
        })
    };
    let (first_response_hours, goal, source) =
        match weighted(team).or_else(|| weighted(all)).or_else(plain) {
            Some((hours, goal)) => (hours, goal, "plan"),
            None => (
                DEFAULT_FIRST_RESPONSE_HOURS,
                DEFAULT_ATTAINMENT_GOAL,
                "default",
            ),
        };
    Target {
        first_response_hours,
        goal: goal.clamp(GOAL_RANGE.0, GOAL_RANGE.1),
        source,
    }
}

/// A mean rounded to six decimals, so that `0.9 × w ÷ w` reads as 0.9 again.
fn tidy(mean: f64) -> f64 {
    (mean * 1e6).round() / 1e6
}
