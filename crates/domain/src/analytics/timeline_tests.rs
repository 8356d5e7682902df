//! Reducing a case's events to its timeline, in any order.

use proptest::prelude::*;

use super::*;
use crate::analytics::test_support::{With, at, event, window};
use crate::events::EventType::*;

/// A case with every kind of event: opened, answered, resolved, reopened, resolved again,
/// appealed and closed, re-categorised and handed to another team on the way.
fn history() -> Vec<CaseEvent> {
    vec![
        event("C-1", Opened, "2026-06-01T09:00:00Z")
            .category("billing")
            .channel("email")
            .team("tier-1")
            .priority(EventPriority::Normal),
        event("C-1", Assigned, "2026-06-01T09:05:00Z").team("tier-1"),
        event("C-1", FirstResponse, "2026-06-01T10:00:00Z").effort(15.0),
        event("C-1", Resolved, "2026-06-02T10:00:00Z")
            .effort(30.5)
            .amount("-12.50", "EUR"),
        event("C-1", Reopened, "2026-06-03T09:00:00Z").channel("phone"),
        event("C-1", Escalated, "2026-06-03T09:30:00Z")
            .team("disputes")
            .category("fraud")
            .priority(EventPriority::Urgent),
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
    assert_eq!(case.channel().map(Label::as_str), Some("email"));
    assert_eq!(case.priority(), Some(EventPriority::Urgent));
    assert_eq!(plan_priority(case.priority()), Priority::Urgent);
    assert_eq!(case.outcome().map(Label::as_str), Some("refund granted"));
    assert_eq!(case.effort_minutes(), Some(90.5));
    assert_eq!(case.bookings().len(), 4);
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
