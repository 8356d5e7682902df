//! The SLA clocks of one case: first response and resolution, in the working time of the
//! plan's calendar, the resolution clock standing still while the bank waits on the customer.
//!
//! **The model.** Both clocks start when the case opens. The first-response clock stops when
//! the customer is first answered ([`CaseTimeline::answered_at`]); the resolution clock when
//! the case is no longer open, at its last resolution ([`CaseTimeline::resolution_stopped_at`]:
//! a reopened case's clock runs from the opening to the resolution that held). The resolution
//! clock does not run during the case's [pauses](CaseTimeline::pauses); the first-response
//! clock always runs. A clock's **elapsed** time is the working time from the opening to its
//! stop (or to now) minus the working time paused; its **due instant** is the first instant
//! at which the elapsed time reaches the target — the target in working time from the
//! opening plus the working time paused before it — and its **at-risk instant** the first at
//! which it reaches `AtRiskRatio` × the target.
//!
//! **States**, for a clock whose priority has a target (otherwise `no_target`): `met` when
//! it stopped at or before its due instant, `missed` when after; `paused` while the bank
//! waits; `breached` when running past its due instant; `at_risk` when running with elapsed
//! time at or past its at-risk share; `running` otherwise. "At or before the due instant" is
//! the same test as "elapsed working time at most the target", except when the clock stops
//! in the closed hours just after the due instant (the elapsed time is then exactly the
//! target, but the customer waited past the promised instant): that is `missed`. The
//! statistics count met and missed targets with the same test (`on_time`).
//!
//! **Two steps.** [`CaseClocks::of`] works out what does not depend on now — the stop, the
//! pauses, the due and at-risk instants given the pauses so far — once per change of the
//! case (a store keeps it with the timeline and can index the instants);
//! [`SlaClock::reading_at`] gives the state and hours at an instant. Between two events
//! a running clock's state changes only at its at-risk and due instants, so a store can
//! select clocks by state with instants alone: `at_risk` is `at_risk_at <= now <= due_at`,
//! `breached` is `due_at < now`, both for clocks neither stopped nor paused.
//!
//! A reading takes `now` to be at or after the case's events, as it is for a request.

use std::cmp::Ordering;
use std::fmt;

use super::timeline::Pause;
use super::workclock::WorkClock;
use super::{CaseTimeline, plan_priority};
use crate::plan::{BusinessCalendar, PlanSettings};
use crate::record::Timestamp;

const MICROS_PER_HOUR: f64 = 3_600_000_000.0;

/// Working time between two instants in microseconds (zero when `end` is not after `start`):
/// the calendar itself, or its index when many cases are timed at once.
pub(super) trait WorkingTime {
    fn micros_between(&self, start: Timestamp, end: Timestamp) -> i64;
}

impl WorkingTime for BusinessCalendar {
    fn micros_between(&self, start: Timestamp, end: Timestamp) -> i64 {
        let time = self.working_time_between(start, end);
        i64::try_from(time.as_micros()).unwrap_or(i64::MAX)
    }
}

impl WorkingTime for WorkClock<'_> {
    fn micros_between(&self, start: Timestamp, end: Timestamp) -> i64 {
        self.between(start, end)
    }
}

/// Working microseconds of `pauses` within `[start, end)`.
pub(super) fn paused_micros(
    work: &impl WorkingTime,
    start: Timestamp,
    end: Timestamp,
    pauses: impl IntoIterator<Item = Pause>,
) -> i64 {
    pauses
        .into_iter()
        .map(|p| {
            let to = p.to.map_or(end, |to| to.min(end));
            work.micros_between(p.from.max(start), to)
        })
        .sum()
}

/// Working microseconds from `start` to `end` outside `pauses`.
pub(super) fn elapsed_micros(
    work: &impl WorkingTime,
    start: Timestamp,
    end: Timestamp,
    pauses: impl IntoIterator<Item = Pause>,
) -> i64 {
    (work.micros_between(start, end) - paused_micros(work, start, end, pauses)).max(0)
}

/// Whether a clock started at `start` and stopped at `stop`, with `elapsed` working
/// microseconds outside `pauses` (see [`elapsed_micros`]), met a target of `target` working
/// microseconds: whether it stopped at or before its due instant. No due instant is needed:
/// the elapsed time is below the target (met) or above it (missed); when it is exactly the
/// target, the clock stopped at the due instant only if it was still running just before
/// (two more working-time look-ups, in that case only).
pub(super) fn on_time(
    work: &impl WorkingTime,
    start: Timestamp,
    stop: Timestamp,
    elapsed: i64,
    target: i64,
    pauses: impl IntoIterator<Item = Pause>,
) -> bool {
    match elapsed.cmp(&target) {
        Ordering::Less => true,
        Ordering::Greater => false,
        Ordering::Equal => {
            let before = Timestamp::from_micros(stop.as_micros().saturating_sub(1));
            stop <= start || elapsed_micros(work, start, before, pauses) < target
        }
    }
}

/// Working microseconds of `hours` (targets are at most 87,600 h, so this fits easily).
pub(super) fn hours_to_micros(hours: f64) -> i64 {
    (hours * MICROS_PER_HOUR).round() as i64
}

fn micros_to_hours(micros: i64) -> f64 {
    micros as f64 / MICROS_PER_HOUR
}

/// Where a clock stands at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClockState {
    /// Running, before its at-risk share of the target.
    Running,
    /// Standing still while the bank waits on the customer (resolution clock only).
    Paused,
    /// Running, at or past its at-risk share of the target, not past its due instant.
    AtRisk,
    /// Running past its due instant.
    Breached,
    /// Stopped at or before its due instant.
    Met,
    /// Stopped after its due instant.
    Missed,
    /// The case's priority has no target for this clock.
    NoTarget,
}

impl ClockState {
    /// Every state, in the order listed in the API.
    pub const ALL: [Self; 7] = [
        Self::Running,
        Self::Paused,
        Self::AtRisk,
        Self::Breached,
        Self::Met,
        Self::Missed,
        Self::NoTarget,
    ];

    /// The word used in the API: `running`, `paused`, `at_risk`, `breached`, `met`,
    /// `missed` or `no_target`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Paused => "paused",
            Self::AtRisk => "at_risk",
            Self::Breached => "breached",
            Self::Met => "met",
            Self::Missed => "missed",
            Self::NoTarget => "no_target",
        }
    }

    /// Parses the word used in the API, exactly; `None` for anything else.
    pub fn parse(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == word)
    }
}

impl fmt::Display for ClockState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One clock's target, with its limits in working microseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Limits {
    hours: f64,
    due: i64,
    at_risk: i64,
}

impl Limits {
    fn new(hours: f64, ratio: f64) -> Self {
        Self {
            hours,
            due: hours_to_micros(hours),
            at_risk: hours_to_micros(hours * ratio),
        }
    }
}

/// One SLA clock of a case, as far as it does not depend on now; see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub struct SlaClock {
    limits: Option<Limits>,
    started_at: Timestamp,
    stopped_at: Option<Timestamp>,
    /// The pauses, cut to `[started_at, stopped_at]`, in order; only the last may be open.
    pauses: Vec<Pause>,
    due_at: Option<Timestamp>,
    at_risk_at: Option<Timestamp>,
}

impl SlaClock {
    fn new(
        calendar: &BusinessCalendar,
        limits: Option<Limits>,
        started_at: Timestamp,
        stopped_at: Option<Timestamp>,
        pauses: impl IntoIterator<Item = Pause>,
    ) -> Self {
        let pauses: Vec<Pause> = pauses
            .into_iter()
            .filter_map(|p| {
                let from = p.from.max(started_at);
                let to = match (p.to, stopped_at) {
                    (Some(to), Some(stop)) => Some(to.min(stop)),
                    (None, Some(stop)) => Some(stop),
                    (to, None) => to,
                };
                let empty =
                    to.is_some_and(|to| to <= from) || stopped_at.is_some_and(|stop| from >= stop);
                (!empty).then_some(Pause { from, to })
            })
            .collect();
        let mut clock = Self {
            limits,
            started_at,
            stopped_at,
            pauses,
            due_at: None,
            at_risk_at: None,
        };
        if let Some(limits) = limits.filter(|_| !clock.is_paused()) {
            clock.due_at = clock.instant_after(calendar, limits.due);
            clock.at_risk_at = clock.instant_after(calendar, limits.at_risk);
        }
        clock
    }

    /// The first instant at which `amount` working microseconds have elapsed outside the
    /// pauses; `None` when an open pause comes first.
    fn instant_after(&self, calendar: &BusinessCalendar, amount: i64) -> Option<Timestamp> {
        let mut remaining = amount;
        let mut cursor = self.started_at;
        for pause in &self.pauses {
            if pause.from > cursor {
                let running = calendar.micros_between(cursor, pause.from);
                if running >= remaining {
                    break;
                }
                remaining -= running;
            }
            cursor = cursor.max(pause.to?);
        }
        Some(calendar.add_working_micros(cursor, remaining))
    }

    /// The target in business hours; `None` when the case's priority has none.
    pub fn target_hours(&self) -> Option<f64> {
        self.limits.map(|l| l.hours)
    }

    /// When the clock started: the case's opening.
    pub fn started_at(&self) -> Timestamp {
        self.started_at
    }

    /// When the clock stopped, if it has.
    pub fn stopped_at(&self) -> Option<Timestamp> {
        self.stopped_at
    }

    /// Whether the clock stands still now, waiting on the customer.
    pub fn is_paused(&self) -> bool {
        self.stopped_at.is_none() && self.pauses.last().is_some_and(|p| p.to.is_none())
    }

    /// The pauses that counted, cut to the clock's run, in order.
    pub fn pauses(&self) -> &[Pause] {
        &self.pauses
    }

    /// The instant at which the elapsed time reaches the target, given the pauses so far;
    /// `None` while paused and without a target. After the stop for a met clock.
    pub fn due_at(&self) -> Option<Timestamp> {
        self.due_at
    }

    /// The instant at which the elapsed time reaches the at-risk share of the target, given
    /// the pauses so far; `None` while paused and without a target.
    pub fn at_risk_at(&self) -> Option<Timestamp> {
        self.at_risk_at
    }

    /// The state once stopped (`met` or `missed`), or `no_target`: the states that no longer
    /// depend on now. `None` for a clock still running or paused.
    pub fn settled_state(&self) -> Option<ClockState> {
        match (self.limits, self.stopped_at) {
            (None, _) => Some(ClockState::NoTarget),
            (Some(_), Some(stop)) => Some(if self.due_at.is_some_and(|due| stop <= due) {
                ClockState::Met
            } else {
                ClockState::Missed
            }),
            (Some(_), None) => None,
        }
    }

    /// The state at `now`; see the module docs.
    pub fn state_at(&self, now: Timestamp) -> ClockState {
        if let Some(settled) = self.settled_state() {
            return settled;
        }
        if self.is_paused() {
            return ClockState::Paused;
        }
        match (self.due_at, self.at_risk_at) {
            (Some(due), _) if now > due => ClockState::Breached,
            (_, Some(at_risk)) if now >= at_risk => ClockState::AtRisk,
            _ => ClockState::Running,
        }
    }

    /// The clock read at `now` (at or after the case's events): its state and hours.
    pub fn reading_at(&self, calendar: &BusinessCalendar, now: Timestamp) -> ClockReading {
        let end = self.stopped_at.unwrap_or(now);
        let paused = paused_micros(calendar, self.started_at, end, self.pauses.iter().copied());
        let worked = calendar.micros_between(self.started_at, end);
        ClockReading {
            state: self.state_at(now),
            target_hours: self.target_hours(),
            due_at: self.due_at,
            elapsed_business_hours: micros_to_hours((worked - paused).max(0)),
            paused_business_hours: micros_to_hours(paused),
        }
    }
}

/// A clock read at an instant: what a case list shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClockReading {
    /// Where the clock stands.
    pub state: ClockState,
    /// The target in business hours; `None` when the case's priority has none.
    pub target_hours: Option<f64>,
    /// The due instant; `None` while paused and without a target.
    pub due_at: Option<Timestamp>,
    /// Business hours the clock has run, pauses excluded (to its stop when stopped).
    pub elapsed_business_hours: f64,
    /// Business hours it stood still waiting on the customer.
    pub paused_business_hours: f64,
}

/// A case's two clocks; see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseClocks {
    /// Until the customer's first answer; never paused.
    pub first_response: SlaClock,
    /// Until the resolution that held, paused while the bank waits on the customer.
    pub resolution: SlaClock,
}

/// Both clocks of a case read at one instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CaseClockReadings {
    /// The first-response clock.
    pub first_response: ClockReading,
    /// The resolution clock.
    pub resolution: ClockReading,
}

impl CaseClocks {
    /// The clocks of `case` under the plan's calendar and targets (by the case's priority,
    /// `normal` when none was reported). Independent of now; the cost is a walk of the
    /// calendar over the days until the due instants.
    pub fn of(case: &CaseTimeline, settings: &PlanSettings) -> Self {
        let calendar = settings.calendar();
        let target = (settings.service_level_targets.as_ref())
            .and_then(|targets| targets.get(plan_priority(case.priority())));
        let limits = |hours: fn(&crate::plan::ServiceLevelTarget) -> f64| {
            target.map(|t| Limits::new(hours(t), t.at_risk_ratio()))
        };
        let opened_at = case.opened_at();
        Self {
            first_response: SlaClock::new(
                calendar,
                limits(|t| t.first_response_hours()),
                opened_at,
                case.answered_at(),
                [],
            ),
            resolution: SlaClock::new(
                calendar,
                limits(|t| t.resolution_hours()),
                opened_at,
                case.resolution_stopped_at(),
                case.pauses(),
            ),
        }
    }

    /// Both clocks read at `now`.
    pub fn reading_at(&self, calendar: &BusinessCalendar, now: Timestamp) -> CaseClockReadings {
        CaseClockReadings {
            first_response: self.first_response.reading_at(calendar, now),
            resolution: self.resolution.reading_at(calendar, now),
        }
    }

    /// The earliest due instant of a clock still running (neither stopped nor paused): what
    /// a list of open cases sorts by. `None` when no clock with a target is running.
    pub fn next_due_at(&self) -> Option<Timestamp> {
        [&self.first_response, &self.resolution]
            .into_iter()
            .filter(|c| c.stopped_at.is_none())
            .filter_map(|c| c.due_at)
            .min()
    }
}

#[cfg(test)]
#[path = "clocks_tests.rs"]
mod tests;
