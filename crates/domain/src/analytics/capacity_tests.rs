//! Known answers for utilization (effort against scheduled capacity, working days) and
//! profit/loss (exact decimal sums) from crafted events.
//!
//! The plan is `standard_settings()`: the default calendar (UTC, Monday to Friday 09:00–17:00), targets
//! for `urgent` (1 h / 4 h, goal 90%) and `normal` (4 h / 16 h, goal 80%), teams `tier-1`
//! (18 h a day) and `disputes` (16 h a day). 2026-06-01 and 2026-06-08 are Mondays; the
//! window is the week from Monday 2026-06-08, the previous window the week before.

use super::test_support::*;
use super::*;
use crate::events::EventType::*;

#[test]
fn utilization_is_effort_in_the_window_over_scheduled_capacity() {
    let mut events = booked("T", Some("tier-1"), 18); // 18 of 90 h
    events.extend(booked("D", Some("disputes"), 40)); // 40 of 80 h…
    events.push(event("D", Opened, "2026-06-01T09:00:00Z").team("disputes"));
    events.push(event("D", Escalated, "2026-06-12T09:00:00Z").effort(3600.0)); // …+60 h, the case's team
    events.push(event("D", Escalated, "2026-06-05T09:00:00Z").effort(600.0)); // before the window
    events.extend(booked("X", Some("vendor"), 2)); // not in the plan
    events.extend(booked("N", None, 3)); // no team anywhere
    let s = week_stats(StatisticType::Utilization, &events, None);
    let u = &s.utilization;
    assert_eq!(u.working_days, 5.0);
    assert_eq!((u.effort_hours, u.capacity_hours), (118.0, 170.0));
    assert!(close(u.overall.unwrap(), 118.0 / 170.0));
    assert_eq!((u.unassigned_effort_hours, u.bookings), (3.0, 64));
    let teams: Vec<(&str, Option<f64>, f64)> = u
        .teams
        .iter()
        .map(|t| (t.team.as_str(), t.utilization, t.effort_hours))
        .collect();
    assert_eq!(
        teams,
        [
            ("tier-1", Some(0.2), 18.0),
            ("disputes", Some(1.25), 100.0),
            ("vendor", None, 2.0)
        ]
    );
}

#[test]
fn working_days_count_partial_days_in_part_and_weekends_not_at_all() {
    let settings = standard_settings();
    let partial = window("2026-06-08T13:00:00Z", "2026-06-10T00:00:00Z");
    let s = compute::<CaseTimeline>(StatisticType::Utilization, &[], partial, &settings, None);
    assert_eq!(s.utilization.working_days, 1.5);
    assert_eq!(s.utilization.capacity_hours, 1.5 * 34.0);
    let weekend = window("2026-06-13T00:00:00Z", "2026-06-15T00:00:00Z");
    let s = compute::<CaseTimeline>(StatisticType::Utilization, &[], weekend, &settings, None);
    assert_eq!(
        (s.utilization.working_days, s.utilization.overall),
        (0.0, None)
    );
}

#[test]
fn a_breakdown_of_utilization_by_team_uses_each_event_team() {
    let mut events = booked("A", Some("tier-1"), 9);
    events.extend(booked("A", Some("disputes"), 8));
    let s = week_stats(StatisticType::Utilization, &events, Some(Dimension::Team));
    let b = s.breakdown.unwrap();
    let values: Vec<(&str, Option<f64>)> = b
        .values
        .iter()
        .map(|v| (v.value.as_str(), v.headline))
        .collect();
    assert_eq!(values, [("tier-1", Some(0.1)), ("disputes", Some(0.1))]);
    let by_priority = week_stats(
        StatisticType::Utilization,
        &events,
        Some(Dimension::Priority),
    );
    let normal = &by_priority.breakdown.unwrap().values[0];
    assert_eq!(
        (normal.value.as_str(), normal.headline),
        ("normal", Some(17.0 / 170.0))
    );
}

#[test]
fn profit_and_loss_are_exact_decimal_sums_per_currency() {
    let events = vec![
        event("A", Opened, "2026-06-08T09:00:00Z").amount("0.1", "EUR"),
        event("A", Resolved, "2026-06-08T10:00:00Z").amount("0.2", "EUR"),
        event("B", Resolved, "2026-06-09T10:00:00Z").amount("-5.55", "EUR"),
        event("B", Closed, "2026-06-09T11:00:00Z").amount("10", "USD"),
        event("B", Opened, "2026-06-01T09:00:00Z").amount("1000", "EUR"), // last week
    ];
    let s = week_stats(StatisticType::ProfitLoss, &events, None);
    let p = &s.profit_loss;
    assert_eq!(p.currency.as_deref(), Some("EUR"));
    let nets: Vec<(String, String, u64)> = (p.nets.iter())
        .map(|n| (n.currency.clone(), n.net.to_string(), n.bookings))
        .collect();
    assert_eq!(
        nets,
        [
            ("EUR".into(), "-5.25".into(), 3),
            ("USD".into(), "10".into(), 1)
        ]
    );
    assert_eq!(headline_value(StatisticType::ProfitLoss, &s), Some(-5.25));
    assert_eq!(s.trend.previous, Some(1000.0));
}
