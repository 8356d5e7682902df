//! Known answers for the SLA clocks of single cases, worked out by hand.
//!
//! The plan: Europe/London, Monday to Friday 09:00–17:00 local time, holidays on Good Friday
//! and Easter Monday 2026 (04-03 and 04-06). In winter London is on UTC, so local times equal
//! the instants; from Sunday 2026-03-29 01:00 UTC it is on BST (UTC+1), so a working day is
//! 08:00–16:00 UTC. Targets: `normal` 4 h / 16 h with the default at-risk ratio 0.8 (12.8 h);
//! `urgent` 1 h / 8 h with an at-risk ratio of 0.5 (4 h); `low` has none.
//!
//! 2026-01-01 is a Thursday, so 01-05, 01-12 and 01-19 are Mondays; 2026-03-27 is a Friday
//! and 2026-04-02 a Thursday.

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::analytics::test_support::{With, at, event, settings};
use crate::analytics::{StatisticType, Window, compute, fold_cases};
use crate::events::CaseEvent;
use crate::events::EventPriority::{Low, Urgent};
use crate::events::EventType::*;

fn london() -> PlanSettings {
    settings(json!({
        "BusinessCalendar": {
            "TimeZone": "Europe/London",
            "WorkingHours": [{"Days": ["mon", "tue", "wed", "thu", "fri"], "From": "09:00", "To": "17:00"}],
            "Holidays": ["2026-04-03", "2026-04-06"]
        },
        "ServiceLevelTargets": {
            "normal": {"FirstResponseHours": 4, "ResolutionHours": 16, "AttainmentGoal": 0.8},
            "urgent": {"FirstResponseHours": 1, "ResolutionHours": 8, "AttainmentGoal": 0.9,
                       "AtRiskRatio": 0.5}
        }
    }))
}

/// The clocks of the case as known at `now` (its events up to then), read at `now`.
fn read(events: &[CaseEvent], now: &str) -> CaseClockReadings {
    let now = at(now);
    let known: Vec<&CaseEvent> = events.iter().filter(|e| e.occurred_at <= now).collect();
    let case = CaseTimeline::fold(known.iter().copied()).unwrap();
    let plan = london();
    CaseClocks::of(&case, &plan).reading_at(plan.calendar(), now)
}

fn clocks(events: &[CaseEvent]) -> CaseClocks {
    CaseClocks::of(&CaseTimeline::fold(events).unwrap(), &london())
}

fn reading(
    state: ClockState,
    target_hours: Option<f64>,
    due_at: Option<&str>,
    elapsed: f64,
    paused: f64,
) -> ClockReading {
    ClockReading {
        state,
        target_hours,
        due_at: due_at.map(at),
        elapsed_business_hours: elapsed,
        paused_business_hours: paused,
    }
}

/// A normal case opened on Thursday 10:00, answered at 11:00, waiting on the customer from
/// Friday 15:00 over the weekend to Monday 11:00, resolved on Monday 14:00.
fn weekend_wait() -> Vec<CaseEvent> {
    vec![
        event("W-1", Opened, "2026-01-15T10:00:00Z"),
        event("W-1", FirstResponse, "2026-01-15T11:00:00Z"),
        event("W-1", WaitingOnCustomer, "2026-01-16T15:00:00Z"),
        event("W-1", CustomerReplied, "2026-01-19T11:00:00Z"),
        event("W-1", Resolved, "2026-01-19T14:00:00Z"),
    ]
}

#[test]
fn a_wait_over_a_weekend_moves_the_due_instant_by_the_working_time_paused() {
    let events = weekend_wait();
    // Before the wait, 16 h from Thursday 10:00: Thursday 7 h + Friday 8 h, then Monday
    // 09:00–10:00. At risk at 12.8 h: Thursday 7 h + Friday 5.8 h = Friday 14:48.
    let friday_noon = read(&events, "2026-01-16T12:00:00Z");
    assert_eq!(
        friday_noon.resolution,
        // Thursday 10–17 (7 h) + Friday 09–12 (3 h).
        reading(
            ClockState::Running,
            Some(16.0),
            Some("2026-01-19T10:00:00Z"),
            10.0,
            0.0
        )
    );
    let friday_late = read(&events, "2026-01-16T14:48:00Z");
    assert_eq!(friday_late.resolution.state, ClockState::AtRisk);
    assert!((friday_late.resolution.elapsed_business_hours - 12.8).abs() < 1e-9);

    // Waiting: the clock stands at Thursday 7 h + Friday 09–15 6 h = 13 h; Friday 15–17
    // is paused (2 h); the weekend is no working time.
    let saturday = read(&events, "2026-01-17T12:00:00Z");
    assert_eq!(
        saturday.resolution,
        reading(ClockState::Paused, Some(16.0), None, 13.0, 2.0)
    );
    // The first-response clock never pauses: answered Thursday 11:00, 1 h, due 14:00.
    assert_eq!(
        saturday.first_response,
        reading(
            ClockState::Met,
            Some(4.0),
            Some("2026-01-15T14:00:00Z"),
            1.0,
            0.0
        )
    );

    // Replied Monday 11:00: paused 2 h + Monday 09–11 2 h = 4 h; 3 h were left, so due at
    // Monday 14:00 (= 16 h + 4 h from the opening). At 12:00, 14 h elapsed: at risk.
    let monday = read(&events, "2026-01-19T12:00:00Z");
    assert_eq!(
        monday.resolution,
        reading(
            ClockState::AtRisk,
            Some(16.0),
            Some("2026-01-19T14:00:00Z"),
            14.0,
            4.0
        )
    );

    // Resolved exactly at the due instant: met, with 16 h elapsed and 4 h paused, whenever
    // it is read.
    for now in ["2026-01-19T14:00:00Z", "2026-02-01T00:00:00Z"] {
        assert_eq!(
            read(&events, now).resolution,
            reading(
                ClockState::Met,
                Some(16.0),
                Some("2026-01-19T14:00:00Z"),
                16.0,
                4.0
            ),
            "{now}"
        );
    }
}

#[test]
fn a_clock_running_past_its_due_instant_is_breached_and_stopping_late_is_missed() {
    let mut events = weekend_wait();
    events.pop();
    // Not resolved: at Monday 15:00, an hour past the due instant (17 h elapsed).
    let late = read(&events, "2026-01-19T15:00:00Z");
    assert_eq!(
        late.resolution,
        reading(
            ClockState::Breached,
            Some(16.0),
            Some("2026-01-19T14:00:00Z"),
            17.0,
            4.0
        )
    );
    // Resolved Tuesday 12:00: Monday 11–17 6 h + Tuesday 3 h after the 13 h before the
    // wait, 22 h: missed.
    events.push(event("W-1", Resolved, "2026-01-20T12:00:00Z"));
    let resolved = read(&events, "2026-01-21T00:00:00Z");
    assert_eq!(resolved.resolution.state, ClockState::Missed);
    assert_eq!(resolved.resolution.elapsed_business_hours, 22.0);
}

#[test]
fn a_wait_across_the_change_to_summer_time_counts_local_working_hours() {
    // Opened Friday 2026-03-27 13:00 GMT, waiting from 16:00 GMT, replied Monday 03-30
    // 10:00 BST (09:00 UTC), resolved Tuesday 03-31 15:30 BST (14:30 UTC).
    let events = vec![
        event("D-1", Opened, "2026-03-27T13:00:00Z"),
        event("D-1", FirstResponse, "2026-03-27T14:00:00Z"),
        event("D-1", WaitingOnCustomer, "2026-03-27T16:00:00Z"),
        event("D-1", CustomerReplied, "2026-03-30T09:00:00Z"),
        event("D-1", Resolved, "2026-03-31T14:30:00Z"),
    ];
    // Before the wait 3 h (Friday 13–16); paused Friday 16–17 GMT and Monday 09–10 BST,
    // 2 h; 13 h left from Monday 10:00 BST: Monday 10–17 7 h, Tuesday 09–15 BST 6 h, so due
    // Tuesday 15:00 BST = 14:00 UTC (on GMT it would have been 15:00 UTC).
    let clocks = clocks(&events);
    assert_eq!(clocks.resolution.due_at(), Some(at("2026-03-31T14:00:00Z")));
    assert_eq!(
        clocks
            .resolution
            .reading_at(london().calendar(), at("2026-04-01T00:00:00Z")),
        // 3 h + Monday 7 h + Tuesday 09:00–15:30 BST 6.5 h.
        reading(
            ClockState::Missed,
            Some(16.0),
            Some("2026-03-31T14:00:00Z"),
            16.5,
            2.0
        )
    );
    // While waiting over the change, the paused hours are Friday's one hour.
    let sunday = read(&events, "2026-03-29T12:00:00Z");
    assert_eq!(
        sunday.resolution,
        reading(ClockState::Paused, Some(16.0), None, 3.0, 1.0)
    );
}

#[test]
fn holidays_do_not_count_and_a_non_default_ratio_sets_the_risk() {
    // Urgent (8 h, at risk from 4 h), opened Thursday 2026-04-02 15:00 BST (14:00 UTC),
    // before Good Friday and Easter Monday. Due: Thursday 15–17 2 h + Tuesday 09–15 BST
    // 6 h = Tuesday 04-07 15:00 BST (14:00 UTC); at risk: Thursday 2 h + Tuesday 2 h =
    // Tuesday 11:00 BST (10:00 UTC).
    let events = vec![
        event("H-1", Opened, "2026-04-02T14:00:00Z").priority(Urgent),
        event("H-1", FirstResponse, "2026-04-02T14:30:00Z"),
    ];
    let due = Some("2026-04-07T14:00:00Z");
    assert_eq!(
        read(&events, "2026-04-07T09:59:00Z").resolution,
        // Thursday 2 h + Tuesday 09:00–10:59 BST 1 h 59 min = 14,340 s.
        reading(ClockState::Running, Some(8.0), due, 14_340.0 / 3_600.0, 0.0)
    );
    assert_eq!(
        read(&events, "2026-04-07T10:00:00Z").resolution,
        reading(ClockState::AtRisk, Some(8.0), due, 4.0, 0.0)
    );
    assert_eq!(
        read(&events, "2026-04-07T14:00:00Z").resolution.state,
        ClockState::AtRisk,
        "at the due instant itself the clock is not yet breached"
    );
    assert_eq!(
        read(&events, "2026-04-07T14:00:01Z").resolution.state,
        ClockState::Breached
    );
    assert_eq!(
        clocks(&events).resolution.at_risk_at(),
        Some(at("2026-04-07T10:00:00Z"))
    );
}

#[test]
fn a_wait_never_replied_to_lasts_until_the_resolution() {
    // Urgent, opened Thursday 2026-04-02 15:00 BST, waiting from 16:00 BST, never replied
    // to, resolved Tuesday 04-07 11:00 BST. Paused: Thursday 16–17 1 h + Tuesday 09–11 2 h
    // (Good Friday, the weekend and Easter Monday are no working time) = 3 h. Elapsed:
    // Thursday 15–16, 1 h. Due: 7 h left after 11:00 BST Tuesday, 6 h that day + 1 h on
    // Wednesday, so Wednesday 04-08 10:00 BST (09:00 UTC): met.
    let events = vec![
        event("H-2", Opened, "2026-04-02T14:00:00Z").priority(Urgent),
        event("H-2", WaitingOnCustomer, "2026-04-02T15:00:00Z"),
        event("H-2", Resolved, "2026-04-07T10:00:00Z"),
    ];
    let after = read(&events, "2026-04-09T00:00:00Z");
    assert_eq!(
        after.resolution,
        reading(
            ClockState::Met,
            Some(8.0),
            Some("2026-04-08T09:00:00Z"),
            1.0,
            3.0
        )
    );
    // No first response was reported: the resolution answered the customer, 1 h + 3 h of
    // working time after the opening (the first-response clock never pauses); due 1 h
    // after the opening: missed.
    assert_eq!(
        after.first_response,
        reading(
            ClockState::Missed,
            Some(1.0),
            Some("2026-04-02T15:00:00Z"),
            4.0,
            0.0
        )
    );
    // Still waiting on the Saturday: paused with no due instant.
    assert_eq!(
        read(&events, "2026-04-04T12:00:00Z").resolution,
        reading(ClockState::Paused, Some(8.0), None, 1.0, 1.0)
    );
}

/// A normal case opened Monday 2026-01-05 09:00, answered at 10:00, resolved at 12:00,
/// reopened Wednesday 09:00, waiting 10:00–13:00, resolved again Wednesday 15:00.
fn reopened() -> Vec<CaseEvent> {
    vec![
        event("R-1", Opened, "2026-01-05T09:00:00Z").agent("a.smith"),
        event("R-1", FirstResponse, "2026-01-05T10:00:00Z"),
        event("R-1", Resolved, "2026-01-05T12:00:00Z"),
        event("R-1", Reopened, "2026-01-07T09:00:00Z"),
        event("R-1", WaitingOnCustomer, "2026-01-07T10:00:00Z"),
        event("R-1", CustomerReplied, "2026-01-07T13:00:00Z"),
        event("R-1", Resolved, "2026-01-07T15:00:00Z"),
    ]
}

#[test]
fn a_reopened_case_runs_from_the_opening_to_the_resolution_that_held() {
    let events = reopened();
    // Resolved on Monday after 3 h: met, due Tuesday 17:00 (Monday 8 h + Tuesday 8 h).
    let tuesday = read(&events, "2026-01-06T12:00:00Z");
    assert_eq!(
        tuesday.resolution,
        reading(
            ClockState::Met,
            Some(16.0),
            Some("2026-01-06T17:00:00Z"),
            3.0,
            0.0
        )
    );
    // Reopened and waiting: the clock runs from the opening again, the time it stood
    // resolved included (Monday 8 h + Tuesday 8 h + Wednesday 09–10 1 h), and stands still
    // from 10:00.
    let waiting = read(&events, "2026-01-07T11:00:00Z");
    assert_eq!(
        waiting.resolution,
        reading(ClockState::Paused, Some(16.0), None, 17.0, 1.0)
    );
    // Resolved again at 15:00: 22 h from the opening minus 3 h paused = 19 h. The 16 h
    // were reached before the wait, at Tuesday 17:00: missed.
    let after = read(&events, "2026-01-08T00:00:00Z");
    assert_eq!(
        after.resolution,
        reading(
            ClockState::Missed,
            Some(16.0),
            Some("2026-01-06T17:00:00Z"),
            19.0,
            3.0
        )
    );
    // The first response stays where it was.
    assert_eq!(after.first_response.state, ClockState::Met);
    assert_eq!(after.first_response.elapsed_business_hours, 1.0);
}

#[test]
fn a_priority_without_a_target_has_no_target_but_its_hours() {
    let events = vec![
        event("L-1", Opened, "2026-01-05T09:00:00Z").priority(Low),
        event("L-1", WaitingOnCustomer, "2026-01-05T11:00:00Z"),
    ];
    let now = read(&events, "2026-01-05T12:00:00Z");
    assert_eq!(
        now.resolution,
        reading(ClockState::NoTarget, None, None, 2.0, 1.0)
    );
    assert_eq!(
        now.first_response,
        reading(ClockState::NoTarget, None, None, 3.0, 0.0)
    );
    assert_eq!(clocks(&events).next_due_at(), None);
}

#[test]
fn stopping_in_the_closed_hours_after_a_due_instant_at_a_closing_misses_it() {
    // Normal, opened Monday 2026-01-12 09:00: 16 h are up at Tuesday 17:00, the closing.
    let opened = event("E-1", Opened, "2026-01-12T09:00:00Z");
    let answered = event("E-1", FirstResponse, "2026-01-12T10:00:00Z");
    let on_the_dot = vec![
        opened.clone(),
        answered.clone(),
        event("E-1", Resolved, "2026-01-13T17:00:00Z"),
    ];
    let after_hours = vec![
        opened,
        answered,
        event("E-1", Resolved, "2026-01-13T17:30:00Z"),
    ];
    let dot = clocks(&on_the_dot);
    assert_eq!(dot.resolution.due_at(), Some(at("2026-01-13T17:00:00Z")));
    assert_eq!(dot.resolution.settled_state(), Some(ClockState::Met));
    // 17:30 adds no working time (16 h elapsed either way) but the promise was 17:00.
    let late = clocks(&after_hours);
    assert_eq!(late.resolution.settled_state(), Some(ClockState::Missed));
    let plan = london();
    let read = |c: &CaseClocks| {
        c.resolution
            .reading_at(plan.calendar(), at("2026-01-20T00:00:00Z"))
    };
    assert_eq!(read(&late).elapsed_business_hours, 16.0);

    // The statistics count the same way: one met, one missed.
    let mut events = on_the_dot.clone();
    events.extend(after_hours.into_iter().map(|mut e| {
        e.case_id = crate::events::CaseId::parse("E-2").unwrap();
        e
    }));
    let week = Window::new(at("2026-01-12T00:00:00Z"), at("2026-01-19T00:00:00Z")).unwrap();
    let s = compute(
        StatisticType::SlaAttainment,
        &fold_cases(&events),
        week,
        &plan,
        None,
    );
    let normal = (s.service_levels.priorities.iter())
        .find(|p| p.priority == "normal")
        .unwrap();
    assert_eq!((normal.cases, normal.resolution_met), (2, 1));
    assert_eq!(s.resolution_hours.p50, Some(16.0));
}

#[test]
fn the_statistics_exclude_paused_time_and_agree_with_the_clocks() {
    // The weekend wait (16 h elapsed, 4 h paused, met) and the reopened case (19 h
    // elapsed, 3 h paused, missed) in one window.
    let mut events = weekend_wait();
    events.extend(reopened());
    let window = Window::new(at("2026-01-05T00:00:00Z"), at("2026-01-26T00:00:00Z")).unwrap();
    let plan = london();
    let s = compute(
        StatisticType::ResolutionTime,
        &fold_cases(&events),
        window,
        &plan,
        None,
    );
    // p50 of [16, 19] by nearest rank is 16; p90 is 19.
    assert_eq!(s.resolution_hours.p50, Some(16.0));
    assert_eq!(s.resolution_hours.p90, Some(19.0));
    assert_eq!(s.first_response_hours.p90, Some(1.0));
    let normal = (s.service_levels.priorities.iter())
        .find(|p| p.priority == "normal")
        .unwrap();
    assert_eq!(
        (
            normal.cases,
            normal.resolution_met,
            normal.first_response_met
        ),
        (2, 1, 2)
    );
}

#[test]
fn the_next_due_instant_is_the_earliest_of_the_running_clocks() {
    // Opened Monday 09:00, not answered: first response due 13:00, resolution Tuesday 17:00.
    let mut events = vec![event("N-1", Opened, "2026-01-12T09:00:00Z")];
    assert_eq!(
        clocks(&events).next_due_at(),
        Some(at("2026-01-12T13:00:00Z"))
    );
    events.push(event("N-1", FirstResponse, "2026-01-12T10:00:00Z"));
    assert_eq!(
        clocks(&events).next_due_at(),
        Some(at("2026-01-13T17:00:00Z"))
    );
    events.push(event("N-1", WaitingOnCustomer, "2026-01-12T11:00:00Z"));
    assert_eq!(
        clocks(&events).next_due_at(),
        None,
        "paused: no due instant"
    );
}

#[test]
fn clock_states_are_the_words_of_the_api() {
    for state in ClockState::ALL {
        assert_eq!(ClockState::parse(state.as_str()), Some(state));
    }
    assert_eq!(ClockState::AtRisk.to_string(), "at_risk");
    assert_eq!(ClockState::parse("At_Risk"), None);
}

proptest! {
    #[test]
    fn any_arrival_order_gives_the_same_clocks(
        shuffled in Just([weekend_wait(), reopened()].concat()).prop_shuffle()
    ) {
        let plan = london();
        let now = at("2026-01-19T12:00:00Z");
        let cases = fold_cases(&shuffled);
        let expected = fold_cases(&[weekend_wait(), reopened()].concat());
        for (case, expected) in cases.iter().zip(&expected) {
            let (got, want) = (CaseClocks::of(case, &plan), CaseClocks::of(expected, &plan));
            prop_assert_eq!(got.reading_at(plan.calendar(), now), want.reading_at(plan.calendar(), now));
            prop_assert_eq!(got, want);
        }
    }

    /// The statistics' test of a stop against a target (elapsed working time, no due
    /// instant) agrees with the clock's (the stop against the due instant), for any stop,
    /// wait and reply within a fortnight of winter and summer time.
    #[test]
    fn the_quick_on_time_test_agrees_with_the_due_instant(
        start_day in 0i64..2,
        offsets in proptest::collection::vec(0i64..(14 * 96), 3),
        target_quarters in 1i64..80,
    ) {
        let plan = london();
        let calendar = plan.calendar();
        // Two fortnights: January, and across the change to summer time.
        let origin = [at("2026-01-12T00:00:00Z"), at("2026-03-23T00:00:00Z")][start_day as usize];
        let quarter = |n: i64| Timestamp::from_micros(origin.as_micros() + n * 900_000_000);
        let mut marks = offsets.clone();
        marks.sort_unstable();
        let (opened, wait, stop) = (quarter(marks[0]), quarter(marks[1]), quarter(marks[2]));
        let reply = quarter((marks[1] + marks[2]) / 2);
        let events = vec![
            event("P-1", Opened, &opened.to_rfc3339()),
            event("P-1", WaitingOnCustomer, &wait.to_rfc3339()),
            event("P-1", CustomerReplied, &reply.to_rfc3339()),
            event("P-1", Resolved, &stop.to_rfc3339()),
        ];
        let case = CaseTimeline::fold(&events).unwrap();
        let target = target_quarters * 900_000_000;
        let limits = Some(Limits { hours: 0.0, due: target, at_risk: target });
        let clock = SlaClock::new(calendar, limits, opened, Some(stop), case.pauses());
        let by_due = clock.due_at().is_some_and(|due| stop <= due);
        let elapsed = elapsed_micros(calendar, opened, stop, case.pauses());
        prop_assert_eq!(on_time(calendar, opened, stop, elapsed, target, case.pauses()), by_due);
    }
}
