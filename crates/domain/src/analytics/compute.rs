//! [`compute`]: the figures of a window from case timelines, the plan's goals, calendar and
//! resources; with the trend against the previous window and an optional breakdown.

use std::borrow::Borrow;
use std::collections::HashMap;

use super::readable::headline_value;
use super::statistics::{Breakdown, BreakdownValue, Statistics};
use super::tally::{Capacity, Context, Facts, Tally, Target};
use super::workclock::WorkClock;
use super::{
    Booking, CaseTimeline, Dimension, StatisticType, TARGET_UTILIZATION, UNDERUSED_UTILIZATION,
    Window, plan_priority,
};
use crate::events::Label;
use crate::plan::{BusinessCalendar, PlanSettings};
use crate::record::Timestamp;

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// The breakdown value of cases (or events) without the label.
pub const UNSPECIFIED: &str = "unspecified";

/// Computes every figure of `window` from `cases` against `settings`; `kind` chooses the
/// headline figure whose trend (against [`Window::previous`]) and breakdown (by `breakdown`,
/// if given) are computed. See the [module docs](super) for the definitions.
///
/// `cases` may hold the whole history or only the cases for which
/// [`CaseTimeline::matters_for`] holds: the result is the same. Each case must appear once.
pub fn compute<C: Borrow<CaseTimeline>>(
    kind: StatisticType,
    cases: &[C],
    window: Window,
    settings: &PlanSettings,
    breakdown: Option<Dimension>,
) -> Statistics {
    let previous_window = window.previous();
    // Cases resolved in either window and opened up to a year before it are timed from the
    // index; older ones ask the calendar directly.
    let indexed_from = previous_window
        .start()
        .as_micros()
        .saturating_sub(365 * MICROS_PER_DAY);
    let clock = WorkClock::new(
        settings.calendar(),
        Timestamp::from_micros(indexed_from),
        window.end(),
    );
    let current_ctx = context(window, settings, &clock, true);
    let previous_ctx = context(previous_window, settings, &clock, needs_durations(kind));
    let mut current = Tally::default();
    let mut previous = Tally::default();
    let mut groups: HashMap<&str, Tally<'_>> = HashMap::new();

    for case in cases {
        let case = case.borrow();
        if !case.matters_for(window) {
            continue;
        }
        let touches =
            |w: Window| case.first_seen_at() < w.end() && case.last_seen_at() >= w.start();
        let facts = Facts::of(case, &current_ctx);
        current.add(&facts, &current_ctx);
        let key = breakdown.map(|dimension| label_of(case, dimension));
        if let Some(key) = key.filter(|_| !facts.is_empty()) {
            groups.entry(key).or_default().add(&facts, &current_ctx);
        }
        if touches(window) {
            for (team, run) in by_team(case, window) {
                current.add_bookings(team, run);
                if let Some(key) = key {
                    let key = match breakdown {
                        Some(Dimension::Team) => team.unwrap_or(UNSPECIFIED),
                        _ => key,
                    };
                    groups.entry(key).or_default().add_bookings(team, run);
                }
            }
        }
        previous.add(&Facts::of(case, &previous_ctx), &previous_ctx);
        if touches(previous_window) {
            for (team, run) in by_team(case, previous_window) {
                previous.add_bookings(team, run);
            }
        }
    }

    let mut stats = current.finish(kind, &current_ctx);
    let currency = stats.profit_loss.currency.clone();
    let mut before = previous.finish(kind, &previous_ctx);
    before.profit_loss.currency = currency.clone();
    let (was, now) = (headline_value(kind, &before), headline_value(kind, &stats));
    stats.trend.previous = was;
    stats.trend.current = now;
    if let (Some(was), Some(now)) = (was, now) {
        stats.trend.change = Some(now - was);
        stats.trend.relative_change = (was != 0.0).then(|| (now - was) / was);
    }
    if let Some(dimension) = breakdown {
        let groups = groups.into_iter().map(|(value, tally)| {
            let mut group = tally.finish(kind, &current_ctx);
            group.profit_loss.currency = currency.clone();
            (value, group)
        });
        stats.breakdown = Some(breakdown_of(kind, dimension, groups, &stats));
    }
    stats
}

/// Whether the headline of `kind` needs business-hours durations.
fn needs_durations(kind: StatisticType) -> bool {
    matches!(
        kind,
        StatisticType::FirstResponseTime
            | StatisticType::ResolutionTime
            | StatisticType::SlaAttainment
    )
}

fn context<'a>(
    window: Window,
    settings: &'a PlanSettings,
    clock: &'a WorkClock<'a>,
    durations: bool,
) -> Context<'a> {
    let calendar = settings.calendar();
    let mut targets = [None; 4];
    if let Some(set) = &settings.service_level_targets {
        for (priority, target) in set.iter() {
            targets[priority as usize] = Some(Target::new(target));
        }
    }
    let working_days = working_days(calendar, window);
    let teams = settings
        .resource_plan
        .iter()
        .flat_map(|plan| plan.teams())
        .map(|team| (team, team.daily_capacity_hours() * working_days))
        .collect();
    Context {
        window,
        clock,
        targets,
        capacity: Capacity {
            working_days,
            teams,
        },
        durations,
    }
}

/// Working days of `calendar` in `window`: each local date with working time counts as the
/// fraction of its working time that falls in the window (so a window from midnight to
/// midnight counts whole days). Cost: two working-time lookups per date in the window.
fn working_days(calendar: &BusinessCalendar, window: Window) -> f64 {
    let tz = calendar.time_zone();
    let instant = |z: jiff::ZonedDateTime| Timestamp::from_micros(z.timestamp().as_microsecond());
    let Ok(start) = jiff::Timestamp::from_microsecond(window.start().as_micros()) else {
        return 0.0;
    };
    let mut date = start.to_zoned_datetime(tz.clone()).date();
    let mut total = 0.0;
    while let (Ok(from), Ok(next)) = (date.to_zoned_datetime(tz.clone()), date.tomorrow()) {
        let Ok(to) = next.to_zoned_datetime(tz.clone()) else {
            break;
        };
        let (from, to) = (instant(from), instant(to));
        if from >= window.end() {
            break;
        }
        let full = calendar.working_time_between(from, to);
        if !full.is_zero() {
            let part =
                calendar.working_time_between(from.max(window.start()), to.min(window.end()));
            total += part.as_secs_f64() / full.as_secs_f64();
        }
        date = next;
    }
    total
}

/// The bookings of `case` in `window` (bookings are sorted by instant), in runs credited to
/// one team: the event's team, or the case's when the event named none.
fn by_team(
    case: &CaseTimeline,
    window: Window,
) -> impl Iterator<Item = (Option<&str>, &[Booking])> {
    fn credited<'a>(case: &'a CaseTimeline, booking: &'a Booking) -> Option<&'a str> {
        booking.team().or(case.team()).map(Label::as_str)
    }
    let bookings = case.bookings();
    let from = bookings.partition_point(|b| b.at() < window.start());
    let to = bookings.partition_point(|b| b.at() < window.end());
    bookings[from..to]
        .chunk_by(move |a, b| credited(case, a) == credited(case, b))
        .map(move |run| (credited(case, &run[0]), run))
}

/// The value of `dimension` for a case.
fn label_of(case: &CaseTimeline, dimension: Dimension) -> &str {
    let label = match dimension {
        Dimension::Category => case.category(),
        Dimension::Team => case.team(),
        Dimension::Channel => case.channel(),
        Dimension::Agent => case.agent(),
        Dimension::Priority => return plan_priority(case.priority()).as_str(),
    };
    label.map_or(UNSPECIFIED, Label::as_str)
}

/// The headline of a breakdown group. Utilization is the team's own for a team, and the
/// group's share of all capacity for any other dimension.
fn group_headline(
    kind: StatisticType,
    dimension: Dimension,
    value: &str,
    group: &Statistics,
    overall: &Statistics,
) -> Option<f64> {
    match (kind, dimension) {
        (StatisticType::Utilization, Dimension::Team) => group
            .utilization
            .teams
            .iter()
            .find(|t| t.team == value)
            .and_then(|t| t.utilization),
        (StatisticType::Utilization, _) => {
            let capacity = overall.utilization.capacity_hours;
            (capacity > 0.0).then(|| group.utilization.effort_hours / capacity)
        }
        _ => headline_value(kind, group),
    }
}

/// The cases (or bookings) behind a group's headline.
fn population(kind: StatisticType, s: &Statistics) -> u64 {
    use StatisticType::*;
    match kind {
        Throughput | ReopenRate | AppealRate => s.counts.resolved,
        Backlog => s.counts.backlog,
        FirstResponseTime => s.first_response_hours.cases,
        ResolutionTime => s.resolution_hours.cases,
        EffortPerCase => s.effort_per_case.cases,
        SlaAttainment => s.service_levels.cases,
        Utilization => s.utilization.bookings,
        ProfitLoss => (s.profit_loss.nets.iter())
            .filter(|n| Some(&n.currency) == s.profit_loss.currency.as_ref())
            .map(|n| n.bookings)
            .sum(),
    }
}

/// How much a group contributes to the figure falling short; the driver is the group with
/// the largest positive score. Counts of shortfalls where the plan has a goal (cases not
/// resolved, targets missed), excess over the overall figure weighted by volume otherwise.
fn driver_score(kind: StatisticType, group: &Statistics, overall: &Statistics) -> Option<f64> {
    use StatisticType::*;
    let excess = |g: Option<f64>, o: Option<f64>, n: u64| Some((g? - o?) * n as f64);
    let misses = |met: fn(&super::PriorityAttainment) -> u64| {
        let levels = &group.service_levels;
        (overall.service_levels.cases > 0).then(|| {
            levels
                .priorities
                .iter()
                .map(|p| p.cases - met(p))
                .sum::<u64>() as f64
        })
    };
    let c = group.counts;
    match kind {
        Throughput => Some(c.opened as f64 - c.resolved as f64),
        Backlog => Some(c.backlog as f64 - c.backlog_at_start as f64),
        FirstResponseTime => misses(|p| p.first_response_met).or_else(|| {
            let (g, o) = (group.first_response_hours, overall.first_response_hours);
            excess(g.p50, o.p50, g.cases)
        }),
        ResolutionTime => misses(|p| p.resolution_met).or_else(|| {
            let (g, o) = (group.resolution_hours, overall.resolution_hours);
            excess(g.p50, o.p50, g.cases)
        }),
        SlaAttainment => misses(|p| p.met),
        EffortPerCase => excess(
            group.effort_per_case.mean_minutes,
            overall.effort_per_case.mean_minutes,
            group.effort_per_case.cases,
        ),
        ReopenRate => excess(group.reopen_rate, overall.reopen_rate, c.resolved),
        AppealRate => excess(group.appeal_rate, overall.appeal_rate, c.resolved),
        Utilization | ProfitLoss => None,
    }
}

fn breakdown_of<'a>(
    kind: StatisticType,
    dimension: Dimension,
    groups: impl Iterator<Item = (&'a str, Statistics)>,
    overall: &Statistics,
) -> Breakdown {
    let mut scored: Vec<(BreakdownValue, Option<f64>)> = groups
        .map(|(value, group)| {
            let headline = group_headline(kind, dimension, value, &group, overall);
            let score = match (kind, dimension) {
                // The team furthest outside the band; for other dimensions, the largest share.
                (StatisticType::Utilization, Dimension::Team) => {
                    headline.map(|u| (u - TARGET_UTILIZATION).max(UNDERUSED_UTILIZATION - u))
                }
                (StatisticType::Utilization, _) => headline,
                (StatisticType::ProfitLoss, _) => headline.map(|net| -net),
                _ => driver_score(kind, &group, overall),
            };
            let value = BreakdownValue {
                value: value.to_owned(),
                population: population(kind, &group),
                headline,
            };
            (value, score)
        })
        .collect();
    scored.sort_by(|(a, _), (b, _)| {
        (b.population.cmp(&a.population)).then_with(|| a.value.cmp(&b.value))
    });
    let driver = scored
        .iter()
        .filter_map(|(v, score)| score.filter(|s| *s > 1e-9).map(|s| (v, s)))
        .fold(
            None,
            |best: Option<(&BreakdownValue, f64)>, (v, s)| match best {
                Some((_, top)) if top >= s => best,
                _ => Some((v, s)),
            },
        )
        .map(|(v, _)| v.value.clone());
    Breakdown {
        dimension,
        driver,
        values: scored.into_iter().map(|(v, _)| v).collect(),
    }
}
