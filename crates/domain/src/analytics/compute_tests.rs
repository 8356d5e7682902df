//! Known answers for the counts, durations, service levels, rates and effort from crafted
//! events.
//!
//! The plan is `standard_settings()`: the default calendar (UTC, Monday to Friday 09:00–17:00), targets
//! for `urgent` (1 h / 4 h, goal 90%) and `normal` (4 h / 16 h, goal 80%), teams `tier-1`
//! (18 h a day) and `disputes` (16 h a day). 2026-06-01 and 2026-06-08 are Mondays; the
//! window is the week from Monday 2026-06-08, the previous window the week before.

use super::test_support::*;
use super::*;
use crate::events::EventPriority::{Low, Urgent};
use crate::events::EventType::*;

#[test]
fn durations_count_business_hours_only_skipping_the_weekend() {
    // Friday 16:00 → Monday 09:30 is 1 h + 0.5 h; → Tuesday 10:00 is 1 h + 8 h + 1 h.
    let events = case(
        "C-1",
        "2026-06-05T16:00:00Z",
        Some("2026-06-08T09:30:00Z"),
        "2026-06-09T10:00:00Z",
    );
    let s = week_stats(StatisticType::ResolutionTime, &events, None);
    assert_eq!(s.first_response_hours.p50, Some(1.5));
    assert_eq!(s.resolution_hours.p50, Some(10.0));
    assert_eq!(s.resolution_hours.p95, Some(10.0));
    assert_eq!(s.resolution_hours.cases, 1);
    assert_eq!(
        headline_value(StatisticType::FirstResponseTime, &s),
        Some(1.5)
    );
}

#[test]
fn sla_is_met_exactly_at_the_limit_and_missed_a_microsecond_after_it() {
    let mut events = Vec::new();
    // Urgent, 1 h / 4 h: first response exactly on the limit, resolution exactly on it.
    events.extend(case(
        "U-1",
        "2026-06-08T09:00:00Z",
        Some("2026-06-08T10:00:00Z"),
        "2026-06-08T13:00:00Z",
    ));
    // Urgent: the first response a microsecond late.
    events.extend(case(
        "U-2",
        "2026-06-08T09:00:00Z",
        Some("2026-06-08T10:00:00.000001Z"),
        "2026-06-08T13:00:00Z",
    ));
    // No priority means normal, 4 h / 16 h: both on the limit (Tuesday 17:00 is 16 h).
    events.extend(case(
        "N-1",
        "2026-06-08T09:00:00Z",
        Some("2026-06-08T13:00:00Z"),
        "2026-06-09T17:00:00Z",
    ));
    // Low has no target.
    events.extend(case(
        "L-1",
        "2026-06-08T09:00:00Z",
        None,
        "2026-06-08T10:00:00Z",
    ));
    for e in &mut events {
        e.priority = match e.case_id.as_str() {
            "U-1" | "U-2" => Some(Urgent),
            "L-1" => Some(Low),
            _ => None,
        };
    }
    let s = week_stats(StatisticType::SlaAttainment, &events, None);
    let l = &s.service_levels;
    assert_eq!((l.cases, l.met, l.without_target), (3, 2, 1));
    assert!(close(l.attainment.unwrap(), 2.0 / 3.0));
    assert!(close(l.goal.unwrap(), (2.0 * 0.9 + 0.8) / 3.0));
    assert!(close(l.first_response_attainment.unwrap(), 2.0 / 3.0));
    assert_eq!(l.resolution_attainment, Some(1.0));
    let urgent = &l.priorities[0];
    assert_eq!(urgent.priority, "urgent");
    assert_eq!(
        (
            urgent.cases,
            urgent.first_response_met,
            urgent.resolution_met,
            urgent.met
        ),
        (2, 1, 2, 1)
    );
    assert_eq!(urgent.attainment, Some(0.5));
    assert_eq!(
        (l.priorities[1].priority.as_str(), l.priorities[1].met),
        ("normal", 1)
    );
    assert_eq!(l.priorities.len(), 2, "only priorities with targets");
}

#[test]
fn backlog_aging_puts_each_open_case_in_its_bucket_by_calendar_age() {
    let events = vec![
        event("A", Opened, "2026-06-14T12:00:00Z"), // half a day old at the end
        event("B", Opened, "2026-06-14T00:00:00Z"), // exactly one day: the older bucket
        event("C", Opened, "2026-06-12T00:00:00Z"), // three days
        event("D", Opened, "2026-06-05T00:00:00Z"), // ten days
        event("E", Opened, "2026-05-01T00:00:00Z"), // 45 days
        event("F", Opened, "2026-06-09T09:00:00Z"),
        event("F", Resolved, "2026-06-09T10:00:00Z"),
        event("G", Opened, "2026-06-15T00:00:00Z"), // the next window's
    ];
    let s = week_stats(StatisticType::Backlog, &events, None);
    let a = s.backlog_aging;
    assert_eq!(
        [
            a.up_to_1_day,
            a.from_1_to_3_days,
            a.from_3_to_7_days,
            a.from_7_to_14_days,
            a.over_14_days
        ],
        [1, 1, 1, 1, 1]
    );
    assert_eq!(
        (s.counts.backlog, s.counts.backlog_at_start, s.counts.opened),
        (5, 2, 4)
    );
    assert_eq!(headline_value(StatisticType::Backlog, &s), Some(5.0));
    assert_eq!(
        s.trend.previous,
        Some(2.0),
        "the backlog at the previous window's end"
    );
}

#[test]
fn throughput_counts_a_case_once_by_its_last_resolution() {
    let events = vec![
        event("R", Opened, "2026-06-02T09:00:00Z"),
        event("R", Resolved, "2026-06-03T09:00:00Z"),
        event("R", Reopened, "2026-06-08T09:00:00Z"),
        event("R", Resolved, "2026-06-09T09:00:00Z"),
        event("R", Closed, "2026-06-10T09:00:00Z"),
        event("P", Opened, "2026-06-02T09:00:00Z"),
        event("P", Resolved, "2026-06-04T09:00:00Z"),
    ];
    let s = week_stats(StatisticType::Throughput, &events, None);
    let c = s.counts;
    assert_eq!(
        (c.opened, c.resolved, c.closed, c.reopened, c.appealed),
        (0, 1, 1, 1, 0)
    );
    assert_eq!((c.backlog_at_start, c.backlog), (0, 0));
    assert_eq!(
        s.trend.previous,
        Some(1.0),
        "P only: R's last resolution is this week"
    );
    assert_eq!(headline(StatisticType::Throughput, &s).0, 1.0);
}

#[test]
fn reopen_and_appeal_rates_are_over_cases_resolved_in_the_window() {
    let mut events = Vec::new();
    for id in ["A", "B", "C", "D"] {
        events.extend(case(
            id,
            "2026-06-08T09:00:00Z",
            None,
            "2026-06-10T09:00:00Z",
        ));
    }
    events.push(event("A", Reopened, "2026-06-09T09:00:00Z"));
    events.push(event("B", Appealed, "2026-06-20T09:00:00Z")); // after the window: still counts
    events.extend(case(
        "E",
        "2026-06-01T09:00:00Z",
        None,
        "2026-06-02T09:00:00Z",
    ));
    events.push(event("E", Reopened, "2026-06-11T09:00:00Z")); // reopened, not resolved again
    let s = week_stats(StatisticType::ReopenRate, &events, None);
    assert_eq!(s.reopen_rate, Some(0.25));
    assert_eq!(s.appeal_rate, Some(0.25));
    assert_eq!((s.counts.reopened, s.counts.appealed), (2, 0));
    assert_eq!(s.counts.backlog, 1);
}

#[test]
fn effort_per_case_is_over_resolved_cases_that_reported_effort() {
    let mut events = Vec::new();
    for (id, minutes) in [("A", 10.0), ("B", 20.0), ("C", 60.0)] {
        events.extend(case(
            id,
            "2026-06-08T09:00:00Z",
            None,
            "2026-06-09T09:00:00Z",
        ));
        // Effort booked before the window still belongs to the case.
        events.push(event(id, Assigned, "2026-06-05T09:00:00Z").effort(minutes / 2.0));
        events.push(event(id, Escalated, "2026-06-08T10:00:00Z").effort(minutes / 2.0));
    }
    events.extend(case(
        "D",
        "2026-06-08T09:00:00Z",
        None,
        "2026-06-09T09:00:00Z",
    ));
    let s = week_stats(StatisticType::EffortPerCase, &events, None);
    let e = s.effort_per_case;
    assert_eq!((e.cases, e.total_minutes), (3, 90.0));
    assert_eq!(
        (e.mean_minutes, e.p50_minutes, e.p90_minutes),
        (Some(30.0), Some(20.0), Some(60.0))
    );
}

#[test]
fn figures_broken_down_by_agent_are_each_agents_own() {
    // Normal priority (4 h / 16 h) on the default calendar, Monday 2026-06-08 09:00–17:00.
    let mut events = Vec::new();
    // ana: answered after 1 h, resolved after 4 h, 30 min of effort: both targets met.
    events.extend(case(
        "A-1",
        "2026-06-08T09:00:00Z",
        Some("2026-06-08T10:00:00Z"),
        "2026-06-08T13:00:00Z",
    ));
    events.push(
        event("A-1", Assigned, "2026-06-08T09:05:00Z")
            .agent("ana")
            .effort(30.0),
    );
    // ana: answered after 6 h (first response missed), resolved Tuesday 12:00 after
    // 8 + 3 = 11 h, 90 min of effort.
    events.extend(case(
        "A-2",
        "2026-06-08T09:00:00Z",
        Some("2026-06-08T15:00:00Z"),
        "2026-06-09T12:00:00Z",
    ));
    events.push(
        event("A-2", Assigned, "2026-06-08T09:05:00Z")
            .agent("ana")
            .effort(90.0),
    );
    // Handed from ana to ben (the latest agent counts): answered after 30 min, waiting on
    // the customer from Monday 10:00 to Tuesday 10:00 (7 h + 1 h paused), resolved Tuesday
    // 14:00: 8 h + 5 h - 8 h = 5 h; 45 min of effort.
    events.extend(case(
        "B-1",
        "2026-06-08T09:00:00Z",
        Some("2026-06-08T09:30:00Z"),
        "2026-06-09T14:00:00Z",
    ));
    events.push(event("B-1", Assigned, "2026-06-08T09:05:00Z").agent("ana"));
    events.push(event("B-1", WaitingOnCustomer, "2026-06-08T10:00:00Z").agent("ben"));
    events.push(event("B-1", CustomerReplied, "2026-06-09T10:00:00Z").effort(45.0));
    // No agent: resolved after 2 h without a first response (the resolution answered).
    events.extend(case(
        "C-1",
        "2026-06-08T09:00:00Z",
        None,
        "2026-06-08T11:00:00Z",
    ));

    let by_agent = |kind| {
        let s = week_stats(kind, &events, Some(Dimension::Agent));
        let b = s.breakdown.expect("a breakdown");
        assert_eq!(b.dimension, Dimension::Agent);
        let mut values: Vec<(String, u64, Option<f64>)> = (b.values.into_iter())
            .map(|v| (v.value, v.population, v.headline))
            .collect();
        values.sort_by(|a, b| a.0.cmp(&b.0));
        values
    };
    let row = |agent: &str, population: u64, headline: Option<f64>| {
        (agent.to_owned(), population, headline)
    };
    assert_eq!(
        by_agent(StatisticType::Throughput),
        [
            row("ana", 2, Some(2.0)),
            row("ben", 1, Some(1.0)),
            row(UNSPECIFIED, 1, Some(1.0))
        ]
    );
    // p50 by nearest rank: ana's [1, 6] h is 1 h.
    assert_eq!(
        by_agent(StatisticType::FirstResponseTime),
        [
            row("ana", 2, Some(1.0)),
            row("ben", 1, Some(0.5)),
            row(UNSPECIFIED, 1, Some(2.0))
        ]
    );
    // ana's [4, 11] h is 4 h; ben's 5 h excludes the 8 h paused.
    assert_eq!(
        by_agent(StatisticType::ResolutionTime),
        [
            row("ana", 2, Some(4.0)),
            row("ben", 1, Some(5.0)),
            row(UNSPECIFIED, 1, Some(2.0))
        ]
    );
    assert_eq!(
        by_agent(StatisticType::SlaAttainment),
        [
            row("ana", 2, Some(0.5)),
            row("ben", 1, Some(1.0)),
            row(UNSPECIFIED, 1, Some(1.0))
        ]
    );
    // Mean minutes of the resolved cases that reported effort: ana (30 + 90) / 2.
    assert_eq!(
        by_agent(StatisticType::EffortPerCase),
        [
            row("ana", 2, Some(60.0)),
            row("ben", 1, Some(45.0)),
            row(UNSPECIFIED, 0, None)
        ]
    );
}
