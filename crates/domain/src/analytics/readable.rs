//! The figures in words: the headline (`CustomerCaseServiceStatisticValue`), the full set
//! (`CustomerCaseResolutionServiceStatistics`) and the utilization
//! (`CustomerCaseResourceUtilization`). Plain English, numbers rounded for people (one
//! decimal, thousands separators); the exact numbers are in [`Statistics`].

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::text::{cases, count, number, percent};
use super::window::describe;
use super::{StatisticType, Statistics};

/// The headline figure of `kind`, `None` when it cannot be computed (no cases resolved for a
/// duration or a rate, no targets, no capacity, no amounts):
///
/// throughput: cases resolved; backlog: cases open at the end; first-response-time and
/// resolution-time: median business hours; effort-per-case: mean minutes; sla-attainment,
/// reopen-rate, appeal-rate, utilization: a fraction; profit-loss: the net of the headline
/// currency.
pub fn headline_value(kind: StatisticType, s: &Statistics) -> Option<f64> {
    use StatisticType::*;
    match kind {
        Throughput => Some(s.counts.resolved as f64),
        Backlog => Some(s.counts.backlog as f64),
        FirstResponseTime => s.first_response_hours.p50,
        ResolutionTime => s.resolution_hours.p50,
        EffortPerCase => s.effort_per_case.mean_minutes,
        SlaAttainment => s.service_levels.attainment,
        ReopenRate => s.reopen_rate,
        AppealRate => s.appeal_rate,
        Utilization => s.utilization.overall,
        ProfitLoss => headline_net(s).and_then(|(_, net)| net.to_f64()),
    }
}

/// The net of the headline currency (zero when a group booked none of it).
pub(super) fn headline_net(s: &Statistics) -> Option<(&str, Decimal)> {
    let currency = s.profit_loss.currency.as_deref()?;
    let net = (s.profit_loss.nets.iter())
        .find(|n| n.currency == currency)
        .map_or(Decimal::ZERO, |n| n.net);
    Some((currency, net))
}

/// The headline figure and a sentence for `CustomerCaseServiceStatisticValue`, e.g.
/// `(6.5, "Median resolution time 6.5 business hours (p90 30.2 h, p95 41 h) over 1,234 cases
/// resolved from 2026-03-01 00:00 to 2026-03-31 00:00 UTC")`. The number is NaN when the
/// figure cannot be computed (see [`headline_value`]); the sentence then says why.
pub fn headline(kind: StatisticType, s: &Statistics) -> (f64, String) {
    use StatisticType::*;
    let window = window_of(s);
    let c = s.counts;
    let text = match kind {
        Throughput => format!(
            "{} resolved from {window} ({} opened)",
            cases(c.resolved),
            count(c.opened)
        ),
        Backlog => {
            let old = s.backlog_aging.from_7_to_14_days + s.backlog_aging.over_14_days;
            format!(
                "{} open at the end of the window from {window} ({} at its start); {} older \
                 than 7 days",
                cases(c.backlog),
                count(c.backlog_at_start),
                count(old)
            )
        }
        FirstResponseTime | ResolutionTime => {
            let (what, d) = match kind {
                FirstResponseTime => ("first response", s.first_response_hours),
                _ => ("resolution time", s.resolution_hours),
            };
            match (d.p50, d.p90, d.p95) {
                (Some(p50), Some(p90), Some(p95)) => format!(
                    "Median {what} {} (p90 {} h, p95 {} h) over {} resolved from {window}",
                    business_hours(p50),
                    number(p90),
                    number(p95),
                    cases(d.cases)
                ),
                _ => format!("No cases resolved from {window}, so no {what} to measure"),
            }
        }
        EffortPerCase => {
            let e = s.effort_per_case;
            match (e.mean_minutes, e.p50_minutes, e.p90_minutes) {
                (Some(mean), Some(p50), Some(p90)) => format!(
                    "Mean effort {} minutes per case (median {}, p90 {}) over {} resolved \
                     from {window} that reported effort",
                    number(mean),
                    number(p50),
                    number(p90),
                    cases(e.cases)
                ),
                _ => format!("No case resolved from {window} reported effort"),
            }
        }
        SlaAttainment => {
            let l = &s.service_levels;
            match l.attainment {
                Some(a) => format!(
                    "{} of {} resolved from {window} met their service-level target ({} met)",
                    percent(a),
                    cases(l.cases),
                    count(l.met)
                ),
                None if l.without_target > 0 => format!(
                    "None of the {} resolved from {window} has a service-level target",
                    cases(l.without_target)
                ),
                None => format!("No cases with a service-level target resolved from {window}"),
            }
        }
        ReopenRate | AppealRate => {
            let (rate, n, verb) = match kind {
                ReopenRate => (s.reopen_rate, c.reopened, "reopened"),
                _ => (s.appeal_rate, c.appealed, "appealed"),
            };
            match rate {
                Some(rate) => format!(
                    "{} of the {} resolved from {window} were {verb} at some point \
                     ({} {verb} within the window)",
                    percent(rate),
                    cases(c.resolved),
                    count(n)
                ),
                None => format!("No cases resolved from {window}, so no {verb} rate"),
            }
        }
        Utilization => {
            let u = &s.utilization;
            match u.overall {
                Some(o) => format!(
                    "{} of scheduled capacity used from {window}: {} h of effort against {} h \
                     over {} working days",
                    percent(o),
                    number(u.effort_hours),
                    number(u.capacity_hours),
                    number(u.working_days)
                ),
                None => format!(
                    "No scheduled capacity to measure {} h of effort against from {window}",
                    number(u.effort_hours + u.unassigned_effort_hours)
                ),
            }
        }
        ProfitLoss => match headline_net(s) {
            Some((currency, net)) => {
                let others: Vec<String> = (s.profit_loss.nets.iter())
                    .filter(|n| n.currency != currency)
                    .map(|n| format!("{} {}", n.currency, n.net))
                    .collect();
                let word = if net.is_sign_negative() && !net.is_zero() {
                    "loss"
                } else {
                    "profit"
                };
                let mut text = format!(
                    "Net {word} of {currency} {} booked from {window}",
                    net.abs()
                );
                if !others.is_empty() {
                    text.push_str(&format!(" (also {})", others.join(", ")));
                }
                text
            }
            None => format!("No amounts booked from {window}"),
        },
    };
    (headline_value(kind, s).unwrap_or(f64::NAN), text)
}

/// The full set for `CustomerCaseResolutionServiceStatistics`: counts, business-hour
/// percentiles, backlog aging, service levels, rates, effort, and the trend.
pub fn readable_statistics(s: &Statistics) -> String {
    let c = s.counts;
    let mut parts = vec![format!(
        "From {}: opened {}, resolved {}, closed {}, reopened {}, appealed {}; backlog {} \
         (was {})",
        window_of(s),
        count(c.opened),
        count(c.resolved),
        count(c.closed),
        count(c.reopened),
        count(c.appealed),
        count(c.backlog),
        count(c.backlog_at_start)
    )];
    for (what, d) in [
        ("First response", s.first_response_hours),
        ("Resolution", s.resolution_hours),
    ] {
        if let (Some(p50), Some(p90), Some(p95)) = (d.p50, d.p90, d.p95) {
            parts.push(format!(
                "{what} in business hours: p50 {} h, p90 {} h, p95 {} h over {}",
                number(p50),
                number(p90),
                number(p95),
                cases(d.cases)
            ));
        }
    }
    let a = s.backlog_aging;
    parts.push(format!(
        "Backlog by age: under 1 day {}, 1–3 days {}, 3–7 days {}, 7–14 days {}, \
         14 days or more {}",
        count(a.up_to_1_day),
        count(a.from_1_to_3_days),
        count(a.from_3_to_7_days),
        count(a.from_7_to_14_days),
        count(a.over_14_days)
    ));
    let l = &s.service_levels;
    if let Some(attainment) = l.attainment {
        let each: Vec<String> = (l.priorities.iter())
            .filter_map(|p| {
                let a = p.attainment?;
                Some(format!(
                    "{} {} (goal {})",
                    p.priority,
                    percent(a),
                    percent(p.goal)
                ))
            })
            .collect();
        parts.push(format!(
            "SLA attainment {}: {}",
            percent(attainment),
            each.join(", ")
        ));
    }
    if let (Some(reopen), Some(appeal)) = (s.reopen_rate, s.appeal_rate) {
        parts.push(format!(
            "Reopen rate {}, appeal rate {}",
            percent(reopen),
            percent(appeal)
        ));
    }
    let e = s.effort_per_case;
    if let (Some(mean), Some(p50), Some(p90)) = (e.mean_minutes, e.p50_minutes, e.p90_minutes) {
        parts.push(format!(
            "Effort per case: mean {} min, p50 {} min, p90 {} min",
            number(mean),
            number(p50),
            number(p90)
        ));
    }
    if let (Some(was), Some(now)) = (s.trend.previous, s.trend.current) {
        let kind = s.statistic_type;
        parts.push(format!(
            "{} against the previous window: {} → {} ({})",
            kind.title(),
            figure(kind, was, s),
            figure(kind, now, s),
            super::text::change(was, now, is_fraction(kind))
        ));
    }
    let mut text = parts.join(". ");
    text.push('.');
    text
}

/// Effort against scheduled capacity per team, for `CustomerCaseResourceUtilization`.
pub fn readable_utilization(s: &Statistics) -> String {
    let u = &s.utilization;
    let mut parts: Vec<String> = (u.teams.iter())
        .map(|t| match (t.capacity_hours, t.utilization) {
            (Some(cap), Some(used)) => format!(
                "{}: {} h of {} h capacity ({})",
                t.team,
                number(t.effort_hours),
                number(cap),
                percent(used)
            ),
            (Some(_), None) => format!(
                "{}: {} h with no capacity scheduled",
                t.team,
                number(t.effort_hours)
            ),
            _ => format!("{} (not in the plan): {} h", t.team, number(t.effort_hours)),
        })
        .collect();
    if u.unassigned_effort_hours > 0.0 {
        parts.push(format!("no team: {} h", number(u.unassigned_effort_hours)));
    }
    let overall = match u.overall {
        Some(o) => format!(
            "overall {} over {} working days",
            percent(o),
            number(u.working_days)
        ),
        None => "no capacity scheduled".to_owned(),
    };
    if parts.is_empty() {
        return format!("No effort booked from {}; {overall}", window_of(s));
    }
    format!("{}; {overall}", parts.join("; "))
}

/// A figure of `kind` for people: `1,234 cases`, `6.5 h`, `42 min`, `91.3%`, `EUR 12.5`.
pub(super) fn figure(kind: StatisticType, value: f64, s: &Statistics) -> String {
    use StatisticType::*;
    match kind {
        Throughput | Backlog => cases(value.round() as u64),
        FirstResponseTime | ResolutionTime => format!("{} h", number(value)),
        EffortPerCase => format!("{} min", number(value)),
        SlaAttainment | ReopenRate | AppealRate | Utilization => percent(value),
        ProfitLoss => {
            let currency = s.profit_loss.currency.as_deref().unwrap_or("");
            format!("{currency} {}", number(value)).trim().to_owned()
        }
    }
}

/// `1 business hour`, `6.5 business hours`.
fn business_hours(hours: f64) -> String {
    let n = number(hours);
    if n == "1" {
        "1 business hour".to_owned()
    } else {
        format!("{n} business hours")
    }
}

/// Whether the figure of `kind` is a fraction (its changes are told in points).
pub(super) fn is_fraction(kind: StatisticType) -> bool {
    use StatisticType::*;
    matches!(kind, SlaAttainment | ReopenRate | AppealRate | Utilization)
}

pub(super) fn window_of(s: &Statistics) -> String {
    describe(s.window_start, s.window_end)
}
