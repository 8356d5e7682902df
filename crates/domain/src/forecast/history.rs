//! The history the projections learn from, read from the case timelines in one pass.
//!
//! - A case **arrives** at [`CaseTimeline::opened_at`]. It **reaches the queue** at the first
//!   working moment of the calendar at or after that: a case opened on Saturday, after
//!   closing or on a holiday counts on the next working day, at its opening hour. This is
//!   the load the teams see, so the series has no arrivals on days without working time.
//! - The history covers the [`HISTORY_DAYS`] local days before the day of `now` (today is
//!   not complete and is forecast instead), starting at the first day on which any case
//!   reached the queue. Cases that reach the queue today or later are not history.
//! - Per hour of the week and per team (see `routing.rs`) it keeps how many cases reached
//!   the queue, apart for those that arrived in working time and those that waited for an
//!   opening (the backlog at opening, which `inputs.rs` spreads over the hours the target
//!   allows); per team, the priorities of those cases (for the service level targets) and
//!   the effort of every resolved case passed that reported any (for the handling time).

use super::routing::Routing;
use super::week::{HOURS, WorkWeek, weekday};
use crate::analytics::{CaseTimeline, plan_priority};
use crate::plan::{Priority, Team};
use std::borrow::Borrow;

/// Days of history used: 26 weeks, what the store passes.
pub(super) const HISTORY_DAYS: i64 = 26 * 7;

/// Effort minutes and how many cases reported them (shares count in part).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Effort {
    pub minutes: f64,
    pub cases: f64,
}

/// What the history says; rows per team are in plan order with one more row for all cases
/// (`Effort`, priorities) or for unassigned cases (hours of the week).
pub(super) struct History {
    /// The local day of the first entry of `daily`.
    pub first_day: i64,
    /// Cases that reached the queue per local day, up to the day before today.
    pub daily: Vec<f64>,
    /// Per team and then unassigned: cases that arrived in working time, per hour of the week.
    pub slots: Vec<[f64; HOURS]>,
    /// Per team and then unassigned: cases that arrived while closed, per hour of the week
    /// in which they reached the queue (an opening).
    pub backlog: Vec<[f64; HOURS]>,
    /// Cases in `daily`.
    pub arrivals: u64,
    /// Per team and then for all cases: effort of resolved cases.
    pub effort: Vec<Effort>,
    /// Per team and then for all cases: arrivals per priority, in [`Priority::ALL`] order.
    pub priorities: Vec<[f64; 4]>,
}

/// Reads the history of `cases` before the local day `today`; see the module docs.
pub(super) fn read<C: Borrow<CaseTimeline>>(
    cases: &[C],
    week: &WorkWeek,
    teams: &[Team],
    today: i64,
) -> History {
    let start = today.saturating_sub(HISTORY_DAYS);
    let queue = Queue::new(week, start, today);
    let rows = teams.len() + 1;
    let mut routing = Routing::new(teams);
    let mut daily = vec![0.0; HISTORY_DAYS as usize];
    let mut slots = vec![[0.0; HOURS]; rows];
    let mut backlog = vec![[0.0; HOURS]; rows];
    let mut effort = vec![Effort::default(); rows];
    let mut priorities = vec![[0.0; 4]; rows];
    let mut arrivals = 0;
    for case in cases {
        let case = case.borrow();
        let route = routing.of(case);
        let route = routing.route(route);
        if let Some(minutes) = case
            .effort_minutes()
            .filter(|m| m.is_finite() && *m > 0.0 && case.resolved_at().is_some())
        {
            for &(team, share) in route {
                effort[team].minutes += minutes * share;
                effort[team].cases += share;
            }
            effort[teams.len()].minutes += minutes;
            effort[teams.len()].cases += 1.0;
        }
        let (opened, minute) = week.local(case.opened_at());
        let Some((day, reached)) = queue.reached(opened, minute) else {
            continue;
        };
        // `reached` keeps the day within [start, today).
        daily[(day - start) as usize] += 1.0;
        arrivals += 1;
        let slot = weekday(day) * 24 + usize::from(reached / 60);
        let waited = (day, reached) != (opened, minute);
        let by_hour = if waited { &mut backlog } else { &mut slots };
        let priority = Priority::ALL
            .iter()
            .position(|p| *p == plan_priority(case.priority()))
            .unwrap_or(1);
        for &(team, share) in route {
            by_hour[team][slot] += share;
            priorities[team][priority] += share;
        }
        if route.is_empty() {
            by_hour[teams.len()][slot] += 1.0;
        }
        priorities[teams.len()][priority] += 1.0;
    }
    let first = daily.iter().position(|c| *c > 0.0);
    History {
        first_day: first.map_or(today, |i| start + i as i64),
        daily: first.map_or_else(Vec::new, |i| daily.split_off(i)),
        slots,
        backlog,
        arrivals,
        effort,
        priorities,
    }
}

/// When a case arriving at a local day and minute reaches the queue, within `[start, end)`.
struct Queue<'w, 'a> {
    week: &'w WorkWeek<'a>,
    start: i64,
    end: i64,
    /// Per day from `start`: the first working day at or after it, before `end`.
    next_working: Vec<Option<i64>>,
}

impl<'w, 'a> Queue<'w, 'a> {
    fn new(week: &'w WorkWeek<'a>, start: i64, end: i64) -> Self {
        let mut next_working = vec![None; usize::try_from(end - start).unwrap_or(0)];
        let mut next = None;
        for (i, slot) in next_working.iter_mut().enumerate().rev() {
            let day = start + i as i64;
            if week.is_working_day(day) {
                next = Some(day);
            }
            *slot = next;
        }
        Self {
            week,
            start,
            end,
            next_working,
        }
    }

    /// The local day and minute the case reaches the queue; `None` outside `[start, end)`.
    fn reached(&self, day: i64, minute: u16) -> Option<(i64, u16)> {
        if day < self.start || day >= self.end {
            return None;
        }
        if self.week.is_working_day(day) {
            let windows = self.week.windows(weekday(day));
            if let Some(&(open, _)) = windows.iter().find(|(_, close)| minute < *close) {
                return Some((day, minute.max(open)));
            }
        }
        let next = (*self
            .next_working
            .get(usize::try_from(day + 1 - self.start).ok()?)?)?;
        let &(open, _) = self.week.windows(weekday(next)).first()?;
        Some((next, open))
    }
}
