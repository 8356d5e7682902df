//! Reducing a case's events to its timeline, in any order.

use proptest::prelude::*;

use super::*;
use crate::analytics::test_support::{With, at, event, window};
use crate::events::EventType::*;

/// A case with every kind of event: opened, answered, waiting on the customer and replied
/// to, resolved, reopened, waiting again (twice, never replied to) and resolved again,
/// appealed and closed, re-categorised and handed to another team and agent on the way.
fn history() -> Vec<CaseEvent> {
    vec![
        event("C-1", Opened, "2026-06-01T09:00:00Z")
            .category("billing")
            .channel("email")
            .team("tier-1")
            .priority(EventPriority::Normal),
        event("C-1", Assigned, "2026-06-01T09:05:00Z")
            .team("tier-1")
            .agent("a.smith"),
        event("C-1", FirstResponse, "2026-06-01T10:00:00Z").effort(15.0),
        event("C-1", WaitingOnCustomer, "2026-06-01T11:00:00Z"),
        event("C-1", CustomerReplied, "2026-06-01T15:00:00Z"),
        event("C-1", Resolved, "2026-06-02T10:00:00Z")
            .effort(30.5)
            .amount("-12.50", "EUR"),
        // A reply while not waiting changes nothing.
        event("C-1", CustomerReplied, "2026-06-02T12:00:00Z"),
        event("C-1", Reopened, "2026-06-03T09:00:00Z").channel("phone"),
        event("C-1", Escalated, "2026-06-03T09:30:00Z")
            .team("disputes")
            .agent("b.jones")
            .category("fraud")
            .priority(EventPriority::Urgent),
        event("C-1", WaitingOnCustomer, "2026-06-03T10:00:00Z"),
        // Asking again while waiting is the same wait.
        event("C-1", WaitingOnCustomer, "2026-06-03T11:00:00Z"),
        event("C-1", Resolved, "2026-06-04T12:00:00Z")
            .effort(45.0)
            .amount("20.10", "EUR")
            .outcome("refund granted"),
        event("C-1", Appealed, "2026-06-05T08:00:00Z"),
        event("C-1", Closed, "2026-06-08T08:00:00Z").amount("5", "USD"),
    ]
}

fn timeline(events: &[CaseEvent]) -> CaseTimeline {
    CaseTimeline::fold(events).unwrap()
}

#[test]
fn a_history_reduces_to_its_instants_counts_and_labels() {
    let case = timeline(&history());
    assert_eq!(case.case_id().as_str(), "C-1");
    assert_eq!(case.opened_at(), at("2026-06-01T09:00:00Z"));
    assert_eq!(case.first_response_at(), Some(at("2026-06-01T10:00:00Z")));
    assert_eq!(case.resolved_at(), Some(at("2026-06-04T12:00:00Z")));
    assert_eq!(case.closed_at(), Some(at("2026-06-08T08:00:00Z")));
    assert_eq!((case.reopened(), case.appealed()), (1, 1));
    assert_eq!(case.category().map(Label::as_str), Some("fraud"));
    assert_eq!(case.team().map(Label::as_str), Some("disputes"));
    assert_eq!(case.agent().map(Label::as_str), Some("b.jones"));
    assert_eq!(case.channel().map(Label::as_str), Some("email"));
    assert_eq!(case.priority(), Some(EventPriority::Urgent));
    assert_eq!(plan_priority(case.priority()), Priority::Urgent);
    assert_eq!(case.outcome().map(Label::as_str), Some("refund granted"));
    assert_eq!(case.effort_minutes(), Some(90.5));
    assert_eq!(case.bookings().len(), 4);
}

#[test]
fn waits_run_to_the_reply_or_else_to_the_resolution() {
    let case = timeline(&history());
    let pauses: Vec<Pause> = case.pauses().collect();
    let pause = |from: &str, to: &str| Pause {
        from: at(from),
        to: Some(at(to)),
    };
    assert_eq!(
        pauses,
        [
            pause("2026-06-01T11:00:00Z", "2026-06-01T15:00:00Z"),
            // Never replied to: the wait lasts until the case was resolved again.
            pause("2026-06-03T10:00:00Z", "2026-06-04T12:00:00Z"),
        ]
    );
    assert!(case.was_paused());
    assert_eq!(case.answered_at(), Some(at("2026-06-01T10:00:00Z")));
    assert_eq!(
        case.resolution_stopped_at(),
        Some(at("2026-06-04T12:00:00Z"))
    );
}

#[test]
fn an_open_case_still_waiting_has_an_open_pause() {
    let case = timeline(&[
        event("C-7", Opened, "2026-06-01T09:00:00Z"),
        event("C-7", WaitingOnCustomer, "2026-06-01T10:00:00Z"),
    ]);
    let pauses: Vec<Pause> = case.pauses().collect();
    assert_eq!(
        pauses,
        [Pause {
            from: at("2026-06-01T10:00:00Z"),
            to: None
        }]
    );
    assert_eq!(case.resolution_stopped_at(), None);
    assert_eq!(case.answered_at(), None);
}

#[test]
fn a_wait_at_the_instant_of_a_resolution_or_while_resolved_is_no_pause() {
    let case = timeline(&[
        event("C-8", Opened, "2026-06-01T09:00:00Z"),
        event("C-8", WaitingOnCustomer, "2026-06-02T10:00:00Z"),
        event("C-8", Resolved, "2026-06-02T10:00:00Z"),
        event("C-8", WaitingOnCustomer, "2026-06-02T11:00:00Z"),
        // The reopening finds no wait; the wait with it at one instant begins one.
        event("C-8", Reopened, "2026-06-03T09:00:00Z"),
        event("C-8", WaitingOnCustomer, "2026-06-03T09:00:00Z"),
        // A wait and a reply at one instant: the reply wins, the clock runs.
        event("C-8", CustomerReplied, "2026-06-03T10:00:00Z"),
        event("C-8", WaitingOnCustomer, "2026-06-03T12:00:00Z"),
        event("C-8", CustomerReplied, "2026-06-03T12:00:00Z"),
    ]);
    let pauses: Vec<(Timestamp, Option<Timestamp>)> =
        case.pauses().map(|p| (p.from, p.to)).collect();
    assert_eq!(
        pauses,
        [
            (at("2026-06-03T09:00:00Z"), Some(at("2026-06-03T10:00:00Z"))),
            (at("2026-06-03T12:00:00Z"), Some(at("2026-06-03T12:00:00Z"))),
        ]
    );
    assert!(case.is_open(), "pause marks do not end a case");
}

#[test]
fn amounts_are_netted_exactly_per_currency() {
    let mut events = history();
    events.push(event("C-1", Closed, "2026-06-09T08:00:00Z").amount("0.1", "EUR"));
    events.push(event("C-1", Closed, "2026-06-09T08:00:00Z").amount("0.2", "EUR"));
    let case = timeline(&events);
    let nets = case.net_amounts();
    assert_eq!(nets["EUR"].to_string(), "7.90");
    assert_eq!(nets["USD"].to_string(), "5");
    assert_eq!(nets.len(), 2);
}

#[test]
fn the_case_is_open_until_resolved_again_after_a_reopening() {
    let case = timeline(&history());
    assert!(
        !case.is_open_at(at("2026-06-01T09:00:00Z")),
        "events at t count after t"
    );
    assert!(case.is_open_at(at("2026-06-01T09:00:01Z")));
    assert!(case.is_open_at(at("2026-06-02T10:00:00Z")));
    assert!(!case.is_open_at(at("2026-06-02T10:00:01Z")));
    assert!(case.is_open_at(at("2026-06-03T10:00:00Z")), "reopened");
    assert!(
        !case.is_open_at(at("2026-06-05T00:00:00Z")),
        "resolved again"
    );
    assert!(
        !case.is_open_at(at("2026-06-06T00:00:00Z")),
        "an appeal does not reopen"
    );
    assert!(!case.is_open());
}

#[test]
fn a_reopening_and_a_resolution_at_one_instant_leave_the_case_resolved() {
    let same = "2026-06-02T10:00:00Z";
    let case = timeline(&[
        event("C-2", Opened, "2026-06-01T09:00:00Z"),
        event("C-2", Resolved, same),
        event("C-2", Reopened, same),
    ]);
    assert!(!case.is_open());
}

#[test]
fn a_case_without_an_opened_event_opens_at_its_first_event() {
    let case = timeline(&[
        event("C-3", Resolved, "2026-06-02T10:00:00Z"),
        event("C-3", Assigned, "2026-06-01T11:00:00Z"),
    ]);
    assert_eq!(case.opened_at(), at("2026-06-01T11:00:00Z"));
    assert_eq!(case.first_response_at(), None);
    assert!(case.is_open_at(at("2026-06-01T12:00:00Z")));
    assert_eq!(case.effort_minutes(), None);
}

#[test]
fn events_of_another_case_change_nothing() {
    let mut case = timeline(&history());
    let before = case.clone();
    assert!(!case.apply(&event("C-9", Reopened, "2026-06-10T08:00:00Z")));
    assert_eq!(case, before);
}

#[test]
fn cases_are_folded_apart_and_sorted_by_id() {
    let mut events = history();
    events.insert(2, event("A-7", Opened, "2026-06-01T09:00:00Z"));
    let cases = fold_cases(&events);
    let ids: Vec<&str> = cases.iter().map(|c| c.case_id().as_str()).collect();
    assert_eq!(ids, ["A-7", "C-1"]);
    assert_eq!(cases[1], timeline(&history()));
}

#[test]
fn only_cases_active_in_the_window_or_still_open_matter() {
    let june = window("2026-06-15T00:00:00Z", "2026-07-15T00:00:00Z");
    let finished_in_may = timeline(&[
        event("C-4", Opened, "2026-04-01T09:00:00Z"),
        event("C-4", Closed, "2026-05-10T09:00:00Z"),
    ]);
    let open_since_april = timeline(&[event("C-5", Opened, "2026-04-01T09:00:00Z")]);
    let opened_after = timeline(&[event("C-6", Opened, "2026-07-15T00:00:00Z")]);
    // The previous window starts on 2026-05-16, so a case finished on 05-10 cannot matter.
    assert!(!finished_in_may.matters_for(june));
    assert!(open_since_april.matters_for(june));
    assert!(!opened_after.matters_for(june));
    assert!(timeline(&history()).matters_for(june));
}

proptest! {
    #[test]
    fn any_arrival_order_gives_the_same_timeline(
        shuffled in Just(history()).prop_shuffle()
    ) {
        prop_assert_eq!(timeline(&shuffled), timeline(&history()));
    }
}

#[test]
fn a_timeline_is_stored_as_json_and_read_back_equal() {
    let case = timeline(&history());
    let stored = serde_json::to_value(&case).unwrap();
    assert_eq!(stored["CaseId"], "C-1");
    assert_eq!(stored["OpenedAt"], at("2026-06-01T09:00:00Z").as_micros());
    assert_eq!(stored["Marks"][0][1], "resolved");
    assert_eq!(stored["Bookings"][1]["Amount"]["Value"], "-12.50");
    assert_eq!(stored["Channel"][1], "email");
    assert_eq!(stored["Agent"][1], "b.jones");
    assert_eq!(stored["PauseMarks"][0][1], "waiting_on_customer");
    assert_eq!(stored["PauseMarks"].as_array().unwrap().len(), 5);
    let back: CaseTimeline = serde_json::from_value(stored).unwrap();
    assert_eq!(back, case);
    assert!(!back.is_open() && back.reopened() == 1 && back.appealed() == 1);
}

#[test]
fn a_stored_timeline_is_validated_and_its_order_restored() {
    let mut stored = serde_json::to_value(timeline(&history())).unwrap();
    let marks = stored["Marks"].as_array_mut().unwrap();
    marks.reverse();
    let back: CaseTimeline = serde_json::from_value(stored.clone()).unwrap();
    assert_eq!(back, timeline(&history()));

    stored["Team"][1] = "".into();
    let error = serde_json::from_value::<CaseTimeline>(stored.clone()).unwrap_err();
    assert_eq!(error.to_string(), "Team: must be 1 to 100 characters");
    stored["Team"][1] = "disputes".into();
    stored["Marks"][0][1] = "assigned".into();
    let error = serde_json::from_value::<CaseTimeline>(stored).unwrap_err();
    assert_eq!(
        error.to_string(),
        "Marks: 'assigned' is not a lifecycle mark"
    );
}

#[test]
fn a_timeline_stored_before_pauses_and_agents_reads_as_a_case_without_them() {
    // A document exactly as the release before clock pauses wrote it: no `Agent`, no
    // `PauseMarks`.
    let stored = serde_json::json!({
        "CaseId": "C-1", "FirstSeenAt": 1780304400000000i64, "LastSeenAt": 1780905600000000i64,
        "OpenedAt": 1780304400000000i64, "FirstResponseAt": 1780308000000000i64,
        "ResolvedAt": 1780574400000000i64, "ClosedAt": 1780905600000000i64,
        "Marks": [[1780394400000000i64, "resolved"], [1780477200000000i64, "reopened"],
                  [1780574400000000i64, "resolved"], [1780905600000000i64, "closed"]],
        "Bookings": [{"At": 1780308000000000i64, "EffortMinutes": 15.5, "Team": "tier-1",
                      "Amount": {"Value": "-12.50", "Currency": "EUR"}}],
        "Category": [1780304400000000i64, "billing"],
        "Priority": [1780304400000000i64, "high"],
        "Channel": [1780304400000000i64, "email"],
        "Team": [1780304400000000i64, "tier-1"],
        "Outcome": [1780574400000000i64, "refund granted"]
    });
    let case: CaseTimeline = serde_json::from_value(stored.clone()).unwrap();
    assert_eq!(case.agent(), None);
    assert_eq!(case.pauses().count(), 0);
    assert!(!case.was_paused());
    assert_eq!(case.reopened(), 1);
    assert_eq!(case.resolution_stopped_at(), case.resolved_at());
    assert_eq!(
        serde_json::to_value(&case).unwrap(),
        stored,
        "written back unchanged"
    );
}

#[test]
fn a_stored_pause_mark_must_be_a_wait_or_a_reply() {
    let mut stored = serde_json::to_value(timeline(&history())).unwrap();
    stored["PauseMarks"][0][1] = "resolved".into();
    let error = serde_json::from_value::<CaseTimeline>(stored).unwrap_err();
    assert_eq!(
        error.to_string(),
        "PauseMarks: 'resolved' is not a pause mark"
    );
}
