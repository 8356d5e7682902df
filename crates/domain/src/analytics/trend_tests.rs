//! The trend against the previous window, breakdowns, empty and unconfigured plans, arrival
//! order and the JSON form of the statistics.
//!
//! The plan is `standard_settings()`: the default calendar (UTC, Monday to Friday 09:00–17:00), targets
//! for `urgent` (1 h / 4 h, goal 90%) and `normal` (4 h / 16 h, goal 80%), teams `tier-1`
//! (18 h a day) and `disputes` (16 h a day). 2026-06-01 and 2026-06-08 are Mondays; the
//! window is the week from Monday 2026-06-08, the previous window the week before.

use serde_json::json;

use super::test_support::*;
use super::*;
use crate::events::EventPriority::High;
use crate::events::EventType::*;

#[test]
fn the_trend_compares_the_headline_with_the_previous_window() {
    let mut events = Vec::new();
    for (id, day) in [("A", 2), ("B", 3), ("C", 8), ("D", 9), ("E", 10)] {
        let when = format!("2026-06-{day:02}T12:00:00Z");
        events.extend(case(id, "2026-06-01T09:00:00Z", None, &when));
    }
    let s = week_stats(StatisticType::Throughput, &events, None);
    let t = s.trend;
    assert_eq!(
        (t.previous, t.current, t.change, t.relative_change),
        (Some(2.0), Some(3.0), Some(1.0), Some(0.5))
    );
    assert_eq!(t.previous_window_start, at("2026-06-01T00:00:00Z"));
    assert_eq!(t.previous_window_end, at("2026-06-08T00:00:00Z"));
}

#[test]
fn a_breakdown_by_team_gives_each_team_its_figure_and_names_the_driver() {
    let mut events = Vec::new();
    for id in ["A", "B", "C", "D"] {
        events.extend(case(
            id,
            "2026-06-08T09:00:00Z",
            Some("2026-06-08T10:00:00Z"),
            "2026-06-08T12:00:00Z",
        ));
        events.push(event(id, Assigned, "2026-06-08T09:01:00Z").team("tier-1"));
    }
    for id in ["E", "F"] {
        events.extend(case(
            id,
            "2026-06-08T09:00:00Z",
            Some("2026-06-10T10:00:00Z"),
            "2026-06-12T12:00:00Z",
        ));
        events.push(event(id, Assigned, "2026-06-08T09:01:00Z").team("disputes"));
    }
    let s = week_stats(StatisticType::SlaAttainment, &events, Some(Dimension::Team));
    let b = s.breakdown.unwrap();
    assert_eq!(b.dimension, Dimension::Team);
    let values: Vec<(&str, u64, Option<f64>)> = b
        .values
        .iter()
        .map(|v| (v.value.as_str(), v.population, v.headline))
        .collect();
    assert_eq!(
        values,
        [("tier-1", 4, Some(1.0)), ("disputes", 2, Some(0.0))]
    );
    assert_eq!(b.driver.as_deref(), Some("disputes"));
}

#[test]
fn a_plan_without_settings_uses_the_default_calendar_and_has_no_goals_or_capacity() {
    let events = case("A", "2026-06-08T09:00:00Z", None, "2026-06-08T11:00:00Z");
    let none = settings(json!({}));
    let s = compute(
        StatisticType::SlaAttainment,
        &fold_cases(&events),
        week(),
        &none,
        None,
    );
    assert_eq!(s.resolution_hours.p50, Some(2.0));
    assert_eq!(
        (s.service_levels.cases, s.service_levels.without_target),
        (0, 1)
    );
    assert_eq!(
        (s.service_levels.attainment, s.utilization.overall),
        (None, None)
    );
}

#[test]
fn with_no_cases_every_undefined_figure_is_none_not_zero() {
    let s = week_stats(
        StatisticType::ResolutionTime,
        &[],
        Some(Dimension::Category),
    );
    assert_eq!(s.resolution_hours, Durations::default());
    assert_eq!(
        (s.reopen_rate, s.appeal_rate, s.effort_per_case.mean_minutes),
        (None, None, None)
    );
    assert!(s.breakdown.as_ref().unwrap().values.is_empty());
    assert!(headline(StatisticType::ResolutionTime, &s).0.is_nan());
}

#[test]
fn out_of_order_events_give_the_same_statistics() {
    let mut events = case(
        "A",
        "2026-06-05T16:00:00Z",
        Some("2026-06-08T09:30:00Z"),
        "2026-06-09T10:00:00Z",
    );
    events.push(
        event("A", Reopened, "2026-06-10T10:00:00Z")
            .priority(High)
            .team("tier-1")
            .effort(5.0),
    );
    events.extend(case(
        "B",
        "2026-06-08T16:00:00Z",
        None,
        "2026-06-09T10:00:00Z",
    ));
    let mut reversed = events.clone();
    reversed.reverse();
    for kind in StatisticType::ALL {
        assert_eq!(
            week_stats(kind, &reversed, Some(Dimension::Team)),
            week_stats(kind, &events, Some(Dimension::Team))
        );
    }
}

#[test]
fn statistics_serialise_in_pascal_case_and_read_back() {
    let events = vec![
        event("A", Opened, "2026-06-08T09:00:00Z").amount("12.50", "EUR"),
        event("A", Resolved, "2026-06-08T10:00:00Z")
            .team("tier-1")
            .effort(30.0),
    ];
    let s = week_stats(StatisticType::ProfitLoss, &events, Some(Dimension::Team));
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["StatisticType"], "profit-loss");
    assert_eq!(json["WindowStart"], "2026-06-08T00:00:00Z");
    assert_eq!(json["Counts"]["BacklogAtStart"], 0);
    assert_eq!(json["BacklogAging"]["UpTo1Day"], 0);
    assert_eq!(json["ProfitLoss"]["Nets"][0]["Net"], "12.50");
    assert_eq!(json["Trend"]["Previous"], 0.0);
    assert_eq!(json["Breakdown"]["Dimension"], "Team");
    assert_eq!(json["ResolutionHours"]["P50"], 1.0);
    assert_eq!(json["ReopenRate"], 0.0);
    let back: Statistics = serde_json::from_value(json).unwrap();
    assert_eq!(back, s);
}
