//! Judging the figures against the plan (`CustomerCaseServiceStatisticInterpretation`) and
//! saying what to change (`CustomerCaseServiceStatisticRecommendation`).
//!
//! The goals judged against: for throughput, resolving at least as many cases as opened; for
//! the backlog, not growing; for response and resolution times and SLA attainment, the
//! plan's `ServiceLevelTargets` (per priority, and weighted by the window's mix of
//! priorities overall); for utilization, the band from [`UNDERUSED_UTILIZATION`] to
//! [`TARGET_UTILIZATION`]. Effort per case, reopen and appeal rates and profit/loss have no
//! goal in the plan and are judged against the previous window. When a breakdown was asked
//! for, the value that drives the figure is named.

use super::StatisticType;
use super::readable::{figure, headline_net, is_fraction};
use super::staffing_advice::{keep_up, staffing};
use super::statistics::{PriorityAttainment, Statistics};
use super::text::{cases, change, count, percent, points};
use crate::plan::PlanSettings;

/// The utilization staffing aims for: above it queues grow and service suffers.
pub const TARGET_UTILIZATION: f64 = 0.85;

/// Below this utilization a team's capacity counts as under-used.
pub const UNDERUSED_UTILIZATION: f64 = 0.6;

/// Whether the figure met its goal and by how much, how it moved against the previous window,
/// and which breakdown value drives it.
pub fn interpretation(kind: StatisticType, s: &Statistics, settings: &PlanSettings) -> String {
    use StatisticType::*;
    let c = s.counts;
    let mut text = match kind {
        Throughput if c.resolved >= c.opened => format!(
            "Met: {} resolved against {} opened, so the backlog went from {} to {}.",
            cases(c.resolved),
            count(c.opened),
            count(c.backlog_at_start),
            count(c.backlog)
        ),
        Throughput => format!(
            "Missed by {}: {} resolved against {} opened; the backlog went from {} to {}.",
            cases(c.opened - c.resolved),
            count(c.resolved),
            count(c.opened),
            count(c.backlog_at_start),
            count(c.backlog)
        ),
        Backlog => {
            let old = s.backlog_aging.from_7_to_14_days + s.backlog_aging.over_14_days;
            let (verdict, moved) = match c.backlog.cmp(&c.backlog_at_start) {
                std::cmp::Ordering::Greater => ("Missed", "grew"),
                std::cmp::Ordering::Less => ("Met", "fell"),
                std::cmp::Ordering::Equal => ("Met", "held"),
            };
            format!(
                "{verdict}: the backlog {moved} from {} to {}; {} older than 7 days.",
                count(c.backlog_at_start),
                count(c.backlog),
                count(old)
            )
        }
        FirstResponseTime => {
            against_targets(s, settings, "first-response", |p| p.first_response_met)
        }
        ResolutionTime => against_targets(s, settings, "resolution", |p| p.resolution_met),
        SlaAttainment => against_targets(s, settings, "service-level", |p| p.met),
        EffortPerCase | ReopenRate | AppealRate => match super::headline_value(kind, s) {
            Some(value) => format!(
                "The plan sets no goal for {}; it was {}.",
                kind.title().to_lowercase(),
                figure(kind, value, s)
            ),
            None => {
                "No cases were resolved in the window, so there is nothing to judge.".to_owned()
            }
        },
        Utilization => utilization_judgement(s),
        ProfitLoss => match headline_net(s) {
            Some((currency, net)) if net.is_sign_negative() && !net.is_zero() => {
                format!("The window booked a net loss of {currency} {}.", net.abs())
            }
            Some((currency, net)) => format!("The window booked a net profit of {currency} {net}."),
            None => "No amounts were booked in the window.".to_owned(),
        },
    };
    if let (Some(was), Some(now)) = (s.trend.previous, s.trend.current) {
        text.push_str(&format!(
            " In the previous window it was {} ({}).",
            figure(kind, was, s),
            change(was, now, is_fraction(kind))
        ));
    }
    if let Some((dimension, value)) = driver(s) {
        let detail = match (kind, value.headline) {
            (Throughput, Some(h)) => format!(" ({} resolved)", count(h as u64)),
            (Backlog, Some(h)) => format!(" ({} open)", count(h as u64)),
            (_, Some(h)) => format!(" ({})", figure(kind, h, s)),
            (_, None) => String::new(),
        };
        text.push_str(&format!(
            " By {dimension}, '{}'{detail} drives it most.",
            value.value
        ));
    }
    text
}

/// What to change: staff per team from utilization, priorities to rebalance, where to look.
pub fn recommendation(kind: StatisticType, s: &Statistics, settings: &PlanSettings) -> String {
    use StatisticType::*;
    let mut advice = Vec::new();
    let focus = driver(s).map(|(dimension, v)| format!("Start with {dimension} '{}'.", v.value));
    let c = s.counts;
    match kind {
        Throughput | Backlog => {
            if c.opened > c.resolved {
                advice.push(keep_up(s, c.opened - c.resolved));
            }
            let old = s.backlog_aging.over_14_days;
            if old > 0 {
                advice.push(format!(
                    "Work the {} open for 14 days or more first.",
                    cases(old)
                ));
            }
            advice.extend(staffing(s, settings));
        }
        FirstResponseTime | ResolutionTime | SlaAttainment => {
            if settings.service_level_targets.is_none() {
                advice.push(
                    "Set ServiceLevelTargets in the plan so that this figure can be judged."
                        .to_owned(),
                );
            } else {
                advice.extend(rebalance(kind, s));
                if kind == FirstResponseTime && !advice.is_empty() {
                    advice.push(
                        "Triage new cases on arrival so the first answer goes out within target."
                            .to_owned(),
                    );
                }
                if !advice.is_empty() {
                    advice.extend(staffing(s, settings));
                }
            }
        }
        EffortPerCase | ReopenRate | AppealRate => {
            if s.trend.relative_change.is_some_and(|r| r > 0.1) {
                let what = kind.title().to_lowercase();
                advice.push(format!(
                    "The {what} rose against the previous window: review how cases are worked \
                     and resolved, sampling the cases behind it."
                ));
            }
        }
        Utilization => advice.extend(staffing(s, settings)),
        ProfitLoss => {
            if headline_net(s).is_some_and(|(_, net)| net.is_sign_negative() && !net.is_zero()) {
                advice.push(
                    "Review the refunds and fees behind the loss before changing policy."
                        .to_owned(),
                );
            }
        }
    }
    if advice.is_empty() {
        return "No change needed: keep the current staffing and priorities.".to_owned();
    }
    advice.extend(focus);
    advice.join(" ")
}

/// The judgement against the service-level targets, with `met` choosing what is counted.
fn against_targets(
    s: &Statistics,
    settings: &PlanSettings,
    what: &str,
    met: fn(&PriorityAttainment) -> u64,
) -> String {
    let l = &s.service_levels;
    if settings.service_level_targets.is_none() {
        return "The plan sets no service-level targets, so there is no goal to judge against."
            .to_owned();
    }
    let (Some(goal), true) = (l.goal, l.cases > 0) else {
        return "No cases with a service-level target were resolved in the window, so there \
                is nothing to judge."
            .to_owned();
    };
    let overall = l.priorities.iter().map(met).sum::<u64>() as f64 / l.cases as f64;
    let short: Vec<String> = (l.priorities.iter())
        .filter(|p| p.cases > 0 && (met(p) as f64) < p.goal * p.cases as f64)
        .map(|p| {
            let a = met(p) as f64 / p.cases as f64;
            format!(
                "{} at {} against a {} goal ({} short, {} of {} missed)",
                p.priority,
                percent(a),
                percent(p.goal),
                points(p.goal - a),
                count(p.cases - met(p)),
                count(p.cases)
            )
        })
        .collect();
    if short.is_empty() {
        format!(
            "Met: {} of cases met their {what} target, {} the {} the goals ask of this mix of \
             priorities; every priority met its goal.",
            percent(overall),
            if overall > goal { "above" } else { "at" },
            percent(goal)
        )
    } else {
        format!(
            "Missed: {}; overall {} met their {what} target against {}.",
            short.join("; "),
            percent(overall),
            percent(goal)
        )
    }
}

fn utilization_judgement(s: &Statistics) -> String {
    let u = &s.utilization;
    let Some(overall) = u.overall else {
        return "The plan schedules no capacity for the window, so utilization cannot be judged."
            .to_owned();
    };
    let band = format!(
        "{}–{}",
        percent(UNDERUSED_UTILIZATION),
        percent(TARGET_UTILIZATION)
    );
    let mut text = if overall > 1.0 {
        format!(
            "Missed: effort was {} of scheduled capacity, more work than the teams were \
             scheduled for.",
            percent(overall)
        )
    } else if overall > TARGET_UTILIZATION {
        format!("Missed: {} is above the {band} band.", percent(overall))
    } else if overall < UNDERUSED_UTILIZATION {
        format!(
            "Missed: {} is below the {band} band; capacity is under-used.",
            percent(overall)
        )
    } else {
        format!(
            "Met: {} overall is within the {band} band.",
            percent(overall)
        )
    };
    let listed = |keep: fn(f64) -> bool| -> Vec<String> {
        (u.teams.iter())
            .filter_map(|t| Some((t, t.utilization?)))
            .filter(|(_, used)| keep(*used))
            .map(|(t, used)| format!("{} {}", t.team, percent(used)))
            .collect()
    };
    let over = listed(|u| u > TARGET_UTILIZATION);
    let under = listed(|u| u < UNDERUSED_UTILIZATION);
    if !over.is_empty() {
        text.push_str(&format!(" Over the band: {}.", over.join(", ")));
    }
    if !under.is_empty() {
        text.push_str(&format!(" Under it: {}.", under.join(", ")));
    }
    text
}

fn driver(s: &Statistics) -> Option<(super::Dimension, &super::BreakdownValue)> {
    let b = s.breakdown.as_ref()?;
    let name = b.driver.as_ref()?;
    Some((b.dimension, b.values.iter().find(|v| &v.value == name)?))
}

/// Priorities to serve first: those short of their goal ahead of those well above theirs.
fn rebalance(kind: StatisticType, s: &Statistics) -> Vec<String> {
    let met = |p: &PriorityAttainment| match kind {
        StatisticType::FirstResponseTime => p.first_response_met,
        StatisticType::ResolutionTime => p.resolution_met,
        _ => p.met,
    };
    let margin = |p: &PriorityAttainment| met(p) as f64 / p.cases as f64 - p.goal;
    let with_cases = || s.service_levels.priorities.iter().filter(|p| p.cases > 0);
    let short: Vec<&str> = with_cases()
        .filter(|p| margin(p) < 0.0)
        .map(|p| p.priority.as_str())
        .collect();
    if short.is_empty() {
        return Vec::new();
    }
    let ahead: Vec<String> = with_cases()
        .filter(|p| margin(p) >= 0.05)
        .map(|p| format!("{} ({} above its goal)", p.priority, points(margin(p))))
        .collect();
    if ahead.is_empty() {
        vec![format!(
            "Every priority with cases is at or below its goal, so rebalancing will not help; \
             add capacity for {} cases.",
            short.join(" and ")
        )]
    } else {
        vec![format!(
            "Rebalance priorities: serve {} cases ahead of {}.",
            short.join(" and "),
            ahead.join(", ")
        )]
    }
}
