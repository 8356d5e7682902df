//! The BIAN strings from crafted figures: what a person reads in the Performance record.

use super::test_support::{With, booked, event, settings, standard_settings, week};
use super::*;
use crate::events::CaseEvent;
use crate::events::EventPriority::Urgent;
use crate::events::EventType::*;
use crate::plan::PlanSettings;

/// Five cases opened this week, three resolved (an urgent one late, in disputes, and
/// appealed); one from May still open; effort, and a refund.
fn scenario() -> Vec<CaseEvent> {
    let mut events = Vec::new();
    for (id, team) in [
        ("A", "tier-1"),
        ("B", "tier-1"),
        ("C", "disputes"),
        ("D", "disputes"),
        ("E", "tier-1"),
    ] {
        events.push(event(id, Opened, "2026-06-08T09:00:00Z").team(team));
        events.push(event(id, FirstResponse, "2026-06-08T10:00:00Z").effort(30.0));
    }
    events.push(event("A", Resolved, "2026-06-08T12:00:00Z").effort(30.0));
    events.push(
        event("B", Resolved, "2026-06-09T12:00:00Z")
            .effort(90.0)
            .amount("-25.00", "EUR"),
    );
    events.push(
        event("C", Resolved, "2026-06-10T12:00:00Z")
            .priority(Urgent)
            .effort(3000.0),
    );
    events.push(event("C", Appealed, "2026-06-11T12:00:00Z"));
    events.push(event("Z", Opened, "2026-05-20T09:00:00Z").team("disputes"));
    events
}

fn stats_with(kind: StatisticType, events: &[CaseEvent], settings: &PlanSettings) -> Statistics {
    compute(
        kind,
        &fold_cases(events),
        week(),
        settings,
        Some(Dimension::Team),
    )
}

fn stats(kind: StatisticType) -> Statistics {
    stats_with(kind, &scenario(), &standard_settings())
}

#[test]
fn each_headline_states_the_figure_in_words_and_numbers() {
    use StatisticType::*;
    let window = "from 2026-06-08 00:00 to 2026-06-15 00:00 UTC";
    for (kind, value, text) in [
        (
            Throughput,
            3.0,
            format!("3 cases resolved {window} (5 opened)"),
        ),
        (
            FirstResponseTime,
            1.0,
            format!(
                "Median first response 1 business hour (p90 1 h, p95 1 h) over 3 cases resolved {window}"
            ),
        ),
        (
            ResolutionTime,
            11.0,
            format!(
                "Median resolution time 11 business hours (p90 19 h, p95 19 h) over 3 cases resolved {window}"
            ),
        ),
        (
            EffortPerCase,
            1070.0,
            format!(
                "Mean effort 1070 minutes per case (median 120, p90 3030) over 3 cases resolved {window} that reported effort"
            ),
        ),
        (
            AppealRate,
            1.0 / 3.0,
            format!(
                "33.3% of the 3 cases resolved {window} were appealed at some point (1 appealed within the window)"
            ),
        ),
        (
            Utilization,
            54.5 / 170.0,
            format!(
                "32.1% of scheduled capacity used {window}: 54.5 h of effort against 170 h over 5 working days"
            ),
        ),
        (
            ProfitLoss,
            -25.0,
            format!("Net loss of EUR 25.00 booked {window}"),
        ),
    ] {
        assert_eq!(headline(kind, &stats(kind)), (value, text), "{kind}");
    }
    assert_eq!(
        headline(Backlog, &stats(Backlog)).1,
        "3 cases open at the end of the window from 2026-06-08 00:00 to 2026-06-15 00:00 UTC \
         (1 at its start); 1 older than 7 days"
    );
}

#[test]
fn a_figure_that_cannot_be_computed_is_nan_with_the_reason() {
    let s = stats_with(StatisticType::ResolutionTime, &[], &standard_settings());
    let (value, text) = headline(StatisticType::ResolutionTime, &s);
    assert!(value.is_nan());
    assert_eq!(
        text,
        "No cases resolved from 2026-06-08 00:00 to 2026-06-15 00:00 UTC, so no resolution \
         time to measure"
    );
}

#[test]
fn the_full_statistics_read_as_one_paragraph() {
    assert_eq!(
        readable_statistics(&stats(StatisticType::Throughput)),
        "From 2026-06-08 00:00 to 2026-06-15 00:00 UTC: opened 5, resolved 3, closed 0, \
         reopened 0, appealed 1; backlog 3 (was 1). First response in business hours: p50 1 h, \
         p90 1 h, p95 1 h over 3 cases. Resolution in business hours: p50 11 h, p90 19 h, \
         p95 19 h over 3 cases. Backlog by age: under 1 day 0, 1–3 days 0, 3–7 days 2, \
         7–14 days 0, 14 days or more 1. SLA attainment 66.7%: urgent 0% (goal 90%), normal \
         100% (goal 80%). Reopen rate 0%, appeal rate 33.3%. Effort per case: mean 1070 min, \
         p50 120 min, p90 3030 min. Throughput against the previous window: 0 cases → 3 cases \
         (up from 0)."
    );
}

#[test]
fn utilization_reads_per_team_against_capacity() {
    assert_eq!(
        readable_utilization(&stats(StatisticType::Utilization)),
        "tier-1: 3.5 h of 90 h capacity (3.9%); disputes: 51 h of 80 h capacity (63.7%); \
         overall 32.1% over 5 working days"
    );
    let none = settings(serde_json::json!({}));
    let s = stats_with(StatisticType::Utilization, &booked("A", None, 2), &none);
    assert_eq!(
        readable_utilization(&s),
        "no team: 2 h; no capacity scheduled"
    );
}

#[test]
fn a_missed_throughput_says_by_how_much_and_which_team_drives_it() {
    let kind = StatisticType::Throughput;
    let s = stats(kind);
    assert_eq!(
        interpretation(kind, &s, &standard_settings()),
        "Missed by 2 cases: 3 resolved against 5 opened; the backlog went from 1 to 3. In the \
         previous window it was 0 cases (up from 0). By Team, 'tier-1' (2 resolved) drives it \
         most."
    );
    assert_eq!(
        recommendation(kind, &s, &standard_settings()),
        "Resolve 2 more cases per window to keep up with arrivals: about 35.7 h of work, for \
         which the teams have room (90 h below 85% utilization), so resolve before starting \
         new work rather than add staff. Work the 1 case open for 14 days or more first. \
         tier-1 could spare 3 agents (3.9% used). Start with Team 'tier-1'."
    );
}

#[test]
fn a_missed_service_level_names_the_priority_and_suggests_rebalancing() {
    let kind = StatisticType::SlaAttainment;
    let s = stats(kind);
    let settings = standard_settings();
    assert_eq!(
        interpretation(kind, &s, &settings),
        "Missed: urgent at 0% against a 90% goal (90 points short, 1 of 1 missed); overall \
         66.7% met their service-level target against 83.3%. By Team, 'disputes' (0%) drives \
         it most."
    );
    assert!(recommendation(kind, &s, &settings).starts_with(
        "Rebalance priorities: serve urgent cases ahead of normal (20 points above its goal)."
    ));
    let met = StatisticType::FirstResponseTime;
    assert_eq!(
        interpretation(met, &stats(met), &settings),
        "Met: 100% of cases met their first-response target, above the 83.3% the goals ask of \
         this mix of priorities; every priority met its goal."
    );
    assert_eq!(
        recommendation(met, &stats(met), &settings),
        "No change needed: keep the current staffing and priorities."
    );
}

#[test]
fn without_targets_the_plan_is_asked_to_set_them() {
    let none = settings(serde_json::json!({}));
    let kind = StatisticType::ResolutionTime;
    let s = stats_with(kind, &scenario(), &none);
    assert_eq!(
        interpretation(kind, &s, &none),
        "The plan sets no service-level targets, so there is no goal to judge against. By \
         Team, 'disputes' (19 h) drives it most."
    );
    assert_eq!(
        recommendation(kind, &s, &none),
        "Set ServiceLevelTargets in the plan so that this figure can be judged. Start with \
         Team 'disputes'."
    );
}

#[test]
fn an_overloaded_team_gets_agents_moved_from_an_under_used_one() {
    // tier-1: 9 of 90 h (10%); disputes: 100 of 80 h (125%), needing 100 / (8 h × 5 days ×
    // 85%) = 2.9 agents where it has 2; tier-1 needs 0.5 of its 4.
    let mut events = booked("T", Some("tier-1"), 9);
    events.extend(booked("D", Some("disputes"), 40));
    events.push(event("D", Escalated, "2026-06-12T09:00:00Z").effort(3600.0));
    let kind = StatisticType::Utilization;
    let settings = standard_settings();
    let s = stats_with(kind, &events, &settings);
    assert_eq!(
        interpretation(kind, &s, &settings),
        "Met: 64.1% overall is within the 60%–85% band. Over the band: disputes 125%. Under \
         it: tier-1 10%. In the previous window it was 0% (up 64.1 points). By Team, 'tier-1' \
         (10%) drives it most."
    );
    assert_eq!(
        recommendation(kind, &s, &settings),
        "Move 1 agent from tier-1 (10% used) to disputes (125% used), where skills allow. \
         tier-1 could spare 2 agents (10% used). Start with Team 'tier-1'."
    );
    events.extend(booked("T", Some("tier-1"), 30));
    events.push(event("D", Escalated, "2026-06-12T10:00:00Z").effort(6000.0));
    let s = stats_with(kind, &events, &settings);
    // Now disputes has 200 h (250%), needing 5.9 agents; tier-1 39 h (43%) can give one.
    assert!(interpretation(kind, &s, &settings).starts_with(
        "Missed: effort was 140.6% of scheduled capacity, more work than the teams were \
             scheduled for."
    ));
    assert_eq!(
        recommendation(kind, &s, &settings),
        "Move 1 agent from tier-1 (43.3% used) to disputes (250% used), where skills allow. \
         Add 3 agents to disputes (250% of capacity) to bring it to 85%. Start with Team \
         'disputes'."
    );
}

#[test]
fn a_loss_is_reported_as_a_loss_and_reviewed() {
    let kind = StatisticType::ProfitLoss;
    let s = stats(kind);
    assert_eq!(
        interpretation(kind, &s, &standard_settings()),
        "The window booked a net loss of EUR 25.00. In the previous window it was EUR 0 (down \
         from 0). By Team, 'tier-1' (EUR -25) drives it most."
    );
    assert!(recommendation(kind, &s, &standard_settings()).starts_with("Review the refunds"));
}
