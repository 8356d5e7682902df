//! One window's figures, accumulated case by case (the engine under `compute`).
//!
//! [`Facts::of`] says what one case contributes to a window — computing business hours only
//! for cases resolved in it, and only when asked, with the case's SLA clocks (see
//! `clocks.rs`: paused time excluded, met when stopped by the due instant) — and [`Tally`]
//! adds facts and bookings up.
//! Nothing is allocated per case: a tally keeps one vector per distribution and maps keyed
//! by labels borrowed from the timelines.

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;

use super::clocks::{elapsed_micros, hours_to_micros, on_time};
use super::distribution::{durations, effort};
use super::statistics::{
    BacklogAging, CaseCounts, CurrencyNet, PriorityAttainment, ProfitLoss, ServiceLevels,
    Statistics, TeamUtilization, Trend, Utilization,
};
use super::workclock::WorkClock;
use super::{Booking, CaseTimeline, StatisticType, Window, plan_priority};
use crate::plan::{Priority, ServiceLevelTarget, Team};
use crate::record::Timestamp;

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// A priority's target, with its limits in microseconds for exact comparison.
#[derive(Debug, Clone, Copy)]
pub(super) struct Target<'a> {
    pub target: &'a ServiceLevelTarget,
    pub first_response: i64,
    pub resolution: i64,
}

impl<'a> Target<'a> {
    pub fn new(target: &'a ServiceLevelTarget) -> Self {
        Self {
            target,
            first_response: hours_to_micros(target.first_response_hours()),
            resolution: hours_to_micros(target.resolution_hours()),
        }
    }
}

/// The teams' capacity in one window.
#[derive(Debug, Clone, Default)]
pub(super) struct Capacity<'a> {
    pub working_days: f64,
    /// Planned teams in plan order, with their capacity in hours.
    pub teams: Vec<(&'a Team, f64)>,
}

/// What the figures of one window are computed with.
pub(super) struct Context<'a> {
    pub window: Window,
    pub clock: &'a WorkClock<'a>,
    /// Per priority, least urgent first.
    pub targets: [Option<Target<'a>>; 4],
    pub capacity: Capacity<'a>,
    /// Whether business-hours durations (and so service levels) are needed.
    pub durations: bool,
}

/// What one case contributes to a window.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Facts {
    opened: bool,
    resolved: bool,
    closed: bool,
    reopened: bool,
    appealed: bool,
    open_at_start: bool,
    /// Calendar age in microseconds, when open at the end.
    backlog_age: Option<i64>,
    resolution: Option<Resolution>,
}

/// What a case resolved in the window contributes.
#[derive(Debug, Clone, Copy)]
struct Resolution {
    priority: Priority,
    /// Its clocks, when durations are needed.
    durations: Option<Durations>,
    effort_minutes: Option<f64>,
    ever_reopened: bool,
    ever_appealed: bool,
}

impl Facts {
    pub fn of(case: &CaseTimeline, ctx: &Context<'_>) -> Self {
        let window = ctx.window;
        let opened_at = case.opened_at();
        let age = |at: Timestamp| at.as_micros().saturating_sub(opened_at.as_micros());
        if case.first_seen_at() >= window.end() {
            return Self::default();
        }
        if case.last_seen_at() < window.start() {
            // Nothing happened in the window: open throughout or not at all.
            let open = case.is_open();
            return Self {
                open_at_start: open,
                backlog_age: open.then(|| age(window.end())),
                ..Self::default()
            };
        }
        let resolved_at = case.resolved_at().filter(|t| window.contains(*t));
        Self {
            opened: window.contains(opened_at),
            resolved: resolved_at.is_some(),
            closed: case.closed_at().is_some_and(|t| window.contains(t)),
            reopened: case.reopened_in(window),
            appealed: case.appealed_in(window),
            open_at_start: case.is_open_at(window.start()),
            backlog_age: case.is_open_at(window.end()).then(|| age(window.end())),
            resolution: resolved_at.map(|resolved_at| {
                let priority = plan_priority(case.priority());
                Resolution {
                    priority,
                    durations: ctx.durations.then(|| {
                        let target = ctx.targets[priority as usize];
                        Durations::of(case, resolved_at, target, ctx.clock)
                    }),
                    effort_minutes: case.effort_minutes(),
                    ever_reopened: case.reopened() > 0,
                    ever_appealed: case.appealed() > 0,
                }
            }),
        }
    }

    /// Whether the case contributes nothing to the window's counts.
    pub fn is_empty(&self) -> bool {
        !(self.opened
            || self.resolved
            || self.closed
            || self.reopened
            || self.appealed
            || self.open_at_start
            || self.backlog_age.is_some())
    }
}

/// A resolved case's clocks: business microseconds to first response and to resolution
/// (paused time excluded), and whether each stopped by its due instant (when its priority
/// has a target).
#[derive(Debug, Clone, Copy)]
struct Durations {
    first_response: i64,
    resolution: i64,
    first_response_met: bool,
    resolution_met: bool,
}

impl Durations {
    fn of(
        case: &CaseTimeline,
        resolved_at: Timestamp,
        target: Option<Target<'_>>,
        clock: &WorkClock<'_>,
    ) -> Self {
        let opened_at = case.opened_at();
        let answered_at = case.answered_at().unwrap_or(resolved_at);
        let first_response = clock.between(opened_at, answered_at);
        let resolution = elapsed_micros(clock, opened_at, resolved_at, case.pauses());
        let none = std::iter::empty();
        Self {
            first_response,
            resolution,
            first_response_met: target.is_some_and(|t| {
                let limit = t.first_response;
                on_time(clock, opened_at, answered_at, first_response, limit, none)
            }),
            resolution_met: target.is_some_and(|t| {
                let limit = t.resolution;
                on_time(
                    clock,
                    opened_at,
                    resolved_at,
                    resolution,
                    limit,
                    case.pauses(),
                )
            }),
        }
    }
}

/// Service-level counts of one priority.
#[derive(Debug, Clone, Copy, Default)]
struct SlaCount {
    cases: u64,
    first_response_met: u64,
    resolution_met: u64,
    met: u64,
}

/// The running totals of one window (or of one breakdown value in it).
#[derive(Debug, Default)]
pub(super) struct Tally<'a> {
    counts: CaseCounts,
    aging: BacklogAging,
    first_response: Vec<i64>,
    resolution: Vec<i64>,
    effort: Vec<f64>,
    resolved_reopened: u64,
    resolved_appealed: u64,
    sla: [SlaCount; 4],
    without_target: u64,
    team_minutes: HashMap<&'a str, f64>,
    unassigned_minutes: f64,
    effort_bookings: u64,
    money: BTreeMap<&'a str, (Decimal, u64)>,
}

impl<'a> Tally<'a> {
    pub fn add(&mut self, facts: &Facts, ctx: &Context<'_>) {
        let c = &mut self.counts;
        c.opened += u64::from(facts.opened);
        c.resolved += u64::from(facts.resolved);
        c.closed += u64::from(facts.closed);
        c.reopened += u64::from(facts.reopened);
        c.appealed += u64::from(facts.appealed);
        c.backlog_at_start += u64::from(facts.open_at_start);
        if let Some(age) = facts.backlog_age {
            c.backlog += 1;
            let a = &mut self.aging;
            *match age {
                _ if age < MICROS_PER_DAY => &mut a.up_to_1_day,
                _ if age < 3 * MICROS_PER_DAY => &mut a.from_1_to_3_days,
                _ if age < 7 * MICROS_PER_DAY => &mut a.from_3_to_7_days,
                _ if age < 14 * MICROS_PER_DAY => &mut a.from_7_to_14_days,
                _ => &mut a.over_14_days,
            } += 1;
        }
        let Some(r) = facts.resolution else { return };
        self.resolved_reopened += u64::from(r.ever_reopened);
        self.resolved_appealed += u64::from(r.ever_appealed);
        if let Some(minutes) = r.effort_minutes {
            self.effort.push(minutes);
        }
        let Some(d) = r.durations else {
            return;
        };
        self.first_response.push(d.first_response);
        self.resolution.push(d.resolution);
        match ctx.targets[r.priority as usize] {
            Some(_) => {
                let (fr, res) = (d.first_response_met, d.resolution_met);
                let s = &mut self.sla[r.priority as usize];
                s.cases += 1;
                s.first_response_met += u64::from(fr);
                s.resolution_met += u64::from(res);
                s.met += u64::from(fr && res);
            }
            None => self.without_target += 1,
        }
    }

    /// Adds bookings made in the window, all credited to `team` (one map update for the lot).
    pub fn add_bookings(&mut self, team: Option<&'a str>, bookings: &'a [Booking]) {
        let (mut minutes, mut booked) = (0.0, 0);
        for booking in bookings {
            if let Some(m) = booking.effort_minutes() {
                minutes += m;
                booked += 1;
            }
            if let Some(amount) = booking.amount() {
                let (net, count) = self.money.entry(amount.currency.as_str()).or_default();
                *net = net.saturating_add(amount.value);
                *count += 1;
            }
        }
        if booked > 0 {
            self.effort_bookings += booked;
            match team {
                Some(team) => *self.team_minutes.entry(team).or_default() += minutes,
                None => self.unassigned_minutes += minutes,
            }
        }
    }

    /// The figures, without trend (left empty) or breakdown.
    pub fn finish(mut self, kind: StatisticType, ctx: &Context<'_>) -> Statistics {
        let previous = ctx.window.previous();
        let counts = self.counts;
        let resolved = counts.resolved;
        let rate = |n: u64| (resolved > 0).then(|| n as f64 / resolved as f64);
        Statistics {
            statistic_type: kind,
            window_start: ctx.window.start(),
            window_end: ctx.window.end(),
            counts,
            first_response_hours: durations(&mut self.first_response),
            resolution_hours: durations(&mut self.resolution),
            backlog_aging: self.aging,
            service_levels: self.service_levels(ctx),
            reopen_rate: rate(self.resolved_reopened),
            appeal_rate: rate(self.resolved_appealed),
            effort_per_case: effort(&mut self.effort),
            utilization: self.utilization(ctx),
            profit_loss: self.profit_loss(),
            trend: Trend {
                previous_window_start: previous.start(),
                previous_window_end: previous.end(),
                previous: None,
                current: None,
                change: None,
                relative_change: None,
            },
            breakdown: None,
        }
    }

    fn service_levels(&self, ctx: &Context<'_>) -> ServiceLevels {
        let mut levels = ServiceLevels {
            without_target: self.without_target,
            ..ServiceLevels::default()
        };
        let (mut fr_met, mut res_met, mut goal) = (0, 0, 0.0);
        for priority in Priority::ALL.into_iter().rev() {
            let Some(t) = ctx.targets[priority as usize] else {
                continue;
            };
            let s = self.sla[priority as usize];
            levels.cases += s.cases;
            levels.met += s.met;
            fr_met += s.first_response_met;
            res_met += s.resolution_met;
            goal += s.cases as f64 * t.target.attainment_goal();
            levels.priorities.push(PriorityAttainment {
                priority: priority.as_str().to_owned(),
                first_response_hours: t.target.first_response_hours(),
                resolution_hours: t.target.resolution_hours(),
                goal: t.target.attainment_goal(),
                cases: s.cases,
                first_response_met: s.first_response_met,
                resolution_met: s.resolution_met,
                met: s.met,
                attainment: fraction(s.met, s.cases),
            });
        }
        levels.attainment = fraction(levels.met, levels.cases);
        levels.first_response_attainment = fraction(fr_met, levels.cases);
        levels.resolution_attainment = fraction(res_met, levels.cases);
        levels.goal = (levels.cases > 0).then(|| goal / levels.cases as f64);
        levels
    }

    fn utilization(&self, ctx: &Context<'_>) -> Utilization {
        let hours = |team: &str| self.team_minutes.get(team).copied().unwrap_or(0.0) / 60.0;
        let mut u = Utilization {
            working_days: ctx.capacity.working_days,
            unassigned_effort_hours: self.unassigned_minutes / 60.0,
            bookings: self.effort_bookings,
            ..Utilization::default()
        };
        for &(team, capacity) in &ctx.capacity.teams {
            let effort = hours(team.name());
            u.effort_hours += effort;
            u.capacity_hours += capacity;
            u.teams.push(TeamUtilization {
                team: team.name().to_owned(),
                agents: Some(team.agents()),
                effort_hours: effort,
                capacity_hours: Some(capacity),
                utilization: (capacity > 0.0).then(|| effort / capacity),
            });
        }
        let mut unplanned: Vec<&str> = (self.team_minutes.keys().copied())
            .filter(|name| !ctx.capacity.teams.iter().any(|(t, _)| t.name() == *name))
            .collect();
        unplanned.sort_unstable();
        for name in unplanned {
            u.teams.push(TeamUtilization {
                team: name.to_owned(),
                agents: None,
                effort_hours: hours(name),
                capacity_hours: None,
                utilization: None,
            });
        }
        u.overall = (u.capacity_hours > 0.0).then(|| u.effort_hours / u.capacity_hours);
        u
    }

    fn profit_loss(&self) -> ProfitLoss {
        let nets: Vec<CurrencyNet> = self
            .money
            .iter()
            .map(|(currency, (net, bookings))| CurrencyNet {
                currency: (*currency).to_owned(),
                net: *net,
                bookings: *bookings,
            })
            .collect();
        // The first of the currencies with the most bookings, alphabetically.
        let currency = nets
            .iter()
            .rev()
            .max_by_key(|n| n.bookings)
            .map(|n| n.currency.clone());
        ProfitLoss { currency, nets }
    }
}

fn fraction(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}
