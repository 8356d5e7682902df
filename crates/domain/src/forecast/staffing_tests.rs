//! Staffing per team and interval, gaps, routing and the reallocation of agents.

use serde_json::json;

use super::test_support::{DAY, Labels, MINUTE, at, case, close, plus, settings, weekly};
use super::*;
use crate::staffing::{StaffingProblem, StaffingRequest};

/// Monday 2026-06-01, after the crafted histories.
fn monday() -> Timestamp {
    at("2026-06-01T06:00:00Z")
}

/// Two weeks from Monday 2026-05-18 with `n` cases of `labels` between 10:00 and 11:00 UTC
/// on each weekday.
fn ten_oclock(n: i64, labels: Labels) -> Vec<CaseTimeline> {
    let start = at("2026-05-18T10:00:00Z");
    let mut cases = Vec::new();
    for day in (0..14).filter(|d| d % 7 < 5) {
        for k in 0..n {
            let opened = plus(start, day * DAY + k * 60 * MINUTE / n);
            cases.push(case(&format!("t{day}-{k}"), opened, labels));
        }
    }
    cases
}

fn interval<'a>(team: &'a TeamProjection, label: &str) -> &'a TeamInterval {
    team.intervals.iter().find(|i| i.interval == label).unwrap()
}

#[test]
fn required_agents_of_an_interval_are_what_erlang_c_gives() {
    let labels = Labels {
        team: Some("tier-1"),
        effort: Some(30.0),
        ..Labels::default()
    };
    let plan = settings(json!({
        "ServiceLevelTargets": {
            "normal": {"FirstResponseHours": 1, "ResolutionHours": 8, "AttainmentGoal": 0.8}
        },
        "ResourcePlan": {"Teams": [
            {"Team": "tier-1", "Agents": 3, "ProductiveHoursPerDay": 8, "Shrinkage": 0.25}
        ]}
    }));
    let p = project(&ten_oclock(20, labels), &plan, monday(), 1);
    assert_eq!(p.method, Method::WeekdayMean);
    let team = &p.teams[0];
    assert_eq!((team.aht_minutes, team.aht_source), (30.0, "history"));
    assert_eq!(team.target_source, "plan");
    assert_eq!(
        (team.first_response_hours, team.service_level_goal),
        (1.0, 0.8)
    );

    let direct = StaffingProblem::parse(&StaffingRequest {
        arrivals: 20.0,
        interval_seconds: 3600.0,
        aht_seconds: 1800.0,
        target_answer_seconds: 3600.0,
        service_level: 0.8,
        max_occupancy: None,
        shrinkage: None,
    })
    .unwrap()
    .solve()
    .unwrap()
    .on_duty
    .agents;
    let ten = interval(team, "Mon 10:00–11:00");
    assert_eq!(ten.arrivals, 20.0);
    assert_eq!(ten.required_agents, f64::from(direct));
    assert_eq!(
        ten.available_agents,
        3.0 * 0.75,
        "8 productive hours of an 8-hour day"
    );
    assert_eq!(ten.gap, f64::from(direct) - 2.25);
    let nine = interval(team, "Mon 09:00–10:00");
    assert_eq!(
        (nine.arrivals, nine.required_agents, nine.gap),
        (0.0, 0.0, -2.25)
    );

    let gaps = &team.gaps;
    assert_eq!((gaps.intervals, gaps.intervals_short), (40, 5));
    assert_eq!(
        gaps.worst_interval.as_deref(),
        Some("2026-06-01 Mon 10:00–11:00")
    );
    assert_eq!(gaps.worst_gap, Some(f64::from(direct) - 2.25));
    assert!(close(
        gaps.agent_hours_short,
        5.0 * (f64::from(direct) - 2.25),
        1e-9
    ));
    assert!(close(gaps.agent_hours_surplus, 35.0 * 2.25, 1e-9));
    assert!(close(
        p.daily[0].required_agent_hours.unwrap(),
        f64::from(direct),
        1e-9
    ));
    assert!(close(
        p.daily[0].available_agent_hours.unwrap(),
        8.0 * 2.25,
        1e-9
    ));
}

#[test]
fn available_agents_allow_for_shrinkage_and_a_short_productive_day() {
    let plan = settings(json!({"ResourcePlan": {"Teams": [
        {"Team": "t", "Agents": 4, "ProductiveHoursPerDay": 6, "Shrinkage": 0.5}
    ]}}));
    let p = project::<CaseTimeline>(&[], &plan, monday(), 1);
    let team = &p.teams[0];
    // 4 agents × (1 − 0.5) × 6 of the day's 8 working hours.
    assert_eq!(interval(team, "Tue 14:00–15:00").available_agents, 1.5);
    assert_eq!(team.intervals.len(), 40);
    assert_eq!(team.gaps.agent_hours_short, 0.0);
    assert_eq!(
        p.reallocation.attainment_before, None,
        "nothing is required"
    );
}

#[test]
fn without_targets_or_effort_documented_defaults_are_used() {
    let plan = settings(json!({"ResourcePlan": {"Teams": [
        {"Team": "a", "Agents": 1, "ProductiveHoursPerDay": 8, "Shrinkage": 0},
        {"Team": "b", "Agents": 1, "ProductiveHoursPerDay": 8, "Shrinkage": 0}
    ]}}));
    let mut cases = ten_oclock(
        2,
        Labels {
            team: Some("a"),
            ..Labels::default()
        },
    );
    let p = project(&cases, &plan, monday(), 1);
    let a = &p.teams[0];
    assert_eq!(
        (a.aht_minutes, a.aht_source),
        (DEFAULT_AHT_MINUTES, "default")
    );
    assert_eq!(a.target_source, "default");
    assert_eq!(a.first_response_hours, DEFAULT_FIRST_RESPONSE_HOURS);
    assert_eq!(a.service_level_goal, DEFAULT_ATTAINMENT_GOAL);
    // Effort reported only on b's cases: a takes the plan's mean.
    cases.push(case(
        "b1",
        at("2026-05-20T12:00:00Z"),
        Labels {
            team: Some("b"),
            effort: Some(12.0),
            ..Labels::default()
        },
    ));
    let p = project(&cases, &plan, monday(), 1);
    assert_eq!(
        (p.teams[0].aht_minutes, p.teams[0].aht_source),
        (12.0, "plan")
    );
    assert_eq!(
        (p.teams[1].aht_minutes, p.teams[1].aht_source),
        (12.0, "history")
    );
}

#[test]
fn cases_go_to_their_team_else_by_skill_else_to_teams_that_take_any_category() {
    let both = settings(json!({"ResourcePlan": {"Teams": [
        {"Team": "disputes", "Agents": 2, "ProductiveHoursPerDay": 8, "Shrinkage": 0,
         "Skills": ["fraud", "chargeback"]},
        {"Team": "general", "Agents": 2, "ProductiveHoursPerDay": 8, "Shrinkage": 0}
    ]}}));
    let mut cases = Vec::new();
    for (prefix, team, category) in [
        ("f", None, Some("fraud")),
        ("g", Some("general"), Some("fraud")),
        ("m", None, Some("mortgage")),
    ] {
        let labels = Labels {
            team,
            category,
            ..Labels::default()
        };
        cases.extend(weekly(
            prefix,
            "2026-05-18T00:00:00Z",
            2,
            [10, 10, 10, 10, 10, 0, 0],
            labels,
        ));
    }
    let p = project(&cases, &both, monday(), 1);
    let (disputes, general) = (p.teams[0].arrivals, p.teams[1].arrivals);
    assert!(close(disputes, 50.0, 1e-9), "{disputes}");
    assert!(close(general, 100.0, 1e-9), "{general}");
    assert!(close(p.unassigned_arrivals, 0.0, 1e-9));

    let specialists = settings(json!({"ResourcePlan": {"Teams": [
        {"Team": "disputes", "Agents": 2, "ProductiveHoursPerDay": 8, "Shrinkage": 0,
         "Skills": ["fraud"]}
    ]}}));
    let p = project(&cases, &specialists, monday(), 1);
    // The general team is not in this plan, so its fraud cases go by skill; mortgages fit
    // no team.
    assert!(close(p.teams[0].arrivals, 100.0, 1e-9));
    assert!(close(p.unassigned_arrivals, 50.0, 1e-9));
    assert!(readable_projections(&p).contains("fit no team"));
}

/// `cards` (2 agents) gets 40 cases a weekday, `loans` (20 agents) 8.
fn unbalanced(cards_skills: &[&str], loans_skills: &[&str]) -> Projections {
    let plan = settings(json!({"ResourcePlan": {"Teams": [
        {"Team": "cards", "Agents": 2, "ProductiveHoursPerDay": 8, "Shrinkage": 0,
         "Skills": cards_skills},
        {"Team": "loans", "Agents": 20, "ProductiveHoursPerDay": 8, "Shrinkage": 0,
         "Skills": loans_skills}
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
        [40, 40, 40, 40, 40, 0, 0],
        team("cards"),
    );
    cases.extend(weekly(
        "l",
        "2026-05-18T00:00:00Z",
        2,
        [8, 8, 8, 8, 8, 0, 0],
        team("loans"),
    ));
    project(&cases, &plan, monday(), 1)
}

#[test]
fn agents_move_from_an_overstaffed_team_to_an_understaffed_one() {
    let p = unbalanced(&[], &[]);
    let r = &p.reallocation;
    assert!(!r.moves.is_empty());
    assert_eq!(
        (r.moves[0].from.as_str(), r.moves[0].to.as_str()),
        ("loans", "cards")
    );
    assert_eq!(r.moves.len(), 1, "{:?}", r.moves);
    let moved = f64::from(r.moves[0].agents);
    let (before, after) = (r.attainment_before.unwrap(), r.attainment_after.unwrap());
    assert!(after > before, "{before} → {after}");
    assert!(after <= 1.0);
    assert_eq!(p.teams[0].recommended_agents, 2.0 + moved);
    assert_eq!(p.teams[1].recommended_agents, 20.0 - moved);
    assert!(p.teams[0].gaps.agent_hours_short > 0.0);
    assert_eq!(p.teams[1].gaps.agent_hours_short, 0.0);
    let text = readable_projections(&p);
    assert!(text.contains("from loans to cards"), "{text}");
}

#[test]
fn agents_move_only_to_work_they_can_do() {
    // A generalist can join a team of specialists.
    let p = unbalanced(&["card"], &[]);
    assert_eq!(p.reallocation.moves[0].from, "loans");
    // A loans specialist cannot do card work, nor work of any category.
    for cards in [&["card"][..], &[]] {
        let p = unbalanced(cards, &["loan"]);
        assert!(
            p.reallocation.moves.is_empty(),
            "{:?}",
            p.reallocation.moves
        );
        assert_eq!(
            p.reallocation.attainment_before,
            p.reallocation.attainment_after
        );
    }
}

#[test]
fn without_a_resource_plan_there_is_a_forecast_only() {
    let cases = ten_oclock(5, Labels::default());
    let p = project(&cases, &crate::plan::PlanSettings::default(), monday(), 1);
    assert!(p.teams.is_empty());
    assert!(p.daily.iter().all(|d| d.required_agent_hours.is_none()));
    assert_eq!(p.reallocation.moves, []);
    assert_eq!(p.reallocation.attainment_before, None);
    assert!(close(p.unassigned_arrivals, 25.0, 1e-9));
    let text = readable_projections(&p);
    assert!(text.contains("No resource plan: forecast only"), "{text}");
}
