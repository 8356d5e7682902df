//! The BIAN string `CustomerCaseLoadingProjections`.

use serde_json::json;

use super::test_support::{Labels, at, settings, weekly};
use super::*;
use crate::plan::PlanSettings;

fn monday() -> Timestamp {
    at("2026-06-01T06:00:00Z")
}

#[test]
fn a_forecast_without_a_resource_plan_reads_in_three_lines() {
    let cases = weekly(
        "r",
        "2026-05-18T00:00:00Z",
        2,
        [16, 8, 8, 8, 8, 0, 0],
        Labels::default(),
    );
    let text = readable_projections(&project(&cases, &PlanSettings::default(), monday(), 2));
    assert_eq!(
        text,
        "Forecast for 2026-06-01 to 2026-06-14 (2 weeks, UTC) by the mean per day of the week \
         (too little history for the seasonal model), from 14 days of history (96 arrivals): \
         about 48 arrivals a week.\n\
         Busiest hour: Mon 09:00–10:00, about 2 arrivals in an average week (4.2% of past \
         arrivals).\n\
         No resource plan: forecast only, no staffing by team."
    );
}

#[test]
fn teams_short_and_covered_and_the_moves_are_named() {
    let plan = settings(json!({"ResourcePlan": {"Teams": [
        {"Team": "cards", "Agents": 1, "ProductiveHoursPerDay": 8, "Shrinkage": 0},
        {"Team": "loans", "Agents": 10, "ProductiveHoursPerDay": 8, "Shrinkage": 0}
    ]}}));
    let team = |name| Labels {
        team: Some(name),
        effort: Some(30.0),
        ..Labels::default()
    };
    let mut cases = weekly(
        "c",
        "2026-05-18T00:00:00Z",
        2,
        [24, 24, 24, 24, 24, 0, 0],
        team("cards"),
    );
    cases.extend(weekly(
        "l",
        "2026-05-18T00:00:00Z",
        2,
        [8, 8, 8, 8, 8, 0, 0],
        team("loans"),
    ));
    let p = project(&cases, &plan, monday(), 1);
    let text = readable_projections(&p);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(
        lines[2].starts_with("Staffing: cards short in 40 of 40 hours, "),
        "{text}"
    );
    assert!(
        lines[2].ends_with("; 1 other team is covered in every hour."),
        "{text}"
    );
    assert!(lines[3].starts_with("Recommended: move "), "{text}");
    assert!(
        lines[3].contains(" from loans to cards; goal attainment"),
        "{text}"
    );
}

#[test]
fn a_plan_with_no_teams_says_so() {
    let plan = settings(json!({"ResourcePlan": {"Teams": []}}));
    let text = readable_projections(&project::<CaseTimeline>(&[], &plan, monday(), 1));
    assert!(
        text.ends_with("The resource plan has no teams: no staffing by team."),
        "{text}"
    );
}
