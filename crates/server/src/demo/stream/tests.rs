use std::collections::{BTreeMap, HashSet};

use caseload_domain::events::{BatchFormat, parse_batch};

use super::*;
use crate::demo::plan;

/// Thursday 2026-11-26 12:00 UTC.
const END: i64 = 1_795_694_400;

fn spec(seed: u64, days: u32, events: u64) -> StreamSpec {
    StreamSpec {
        seed,
        end: Timestamp::from_micros(END * 1_000_000),
        days,
        events,
    }
}

fn stream(spec: &StreamSpec) -> CaseStream {
    let start = Timestamp::from_micros((END - i64::from(spec.days) * 86_400) * 1_000_000);
    let calendar = plan::calendar(start, spec.end).expect("the demo calendar is valid");
    CaseStream::plan(spec, calendar)
}

fn by_case(events: &[DemoEvent]) -> BTreeMap<&str, Vec<&DemoEvent>> {
    let mut cases: BTreeMap<&str, Vec<&DemoEvent>> = BTreeMap::new();
    for event in events {
        cases.entry(&event.case_id).or_default().push(event);
    }
    cases
}

#[test]
fn the_same_seed_gives_the_same_events_and_another_seed_others() {
    let first: Vec<DemoEvent> = stream(&spec(7, 30, 3_000)).events().collect();
    let again: Vec<DemoEvent> = stream(&spec(7, 30, 3_000)).events().collect();
    let other: Vec<DemoEvent> = stream(&spec(8, 30, 3_000)).events().collect();
    assert_eq!(first, again);
    assert_ne!(first, other);
}

#[test]
fn the_stream_has_about_the_events_asked_for_with_unique_ids() {
    for events in [1, 500, 3_000] {
        let stream = stream(&spec(42, 30, events));
        let generated: Vec<DemoEvent> = stream.events().collect();
        assert_eq!(generated.len() as u64, stream.event_count());
        assert!(
            (events..events + 20).contains(&stream.event_count()),
            "{events} asked, {} generated",
            stream.event_count()
        );
        let ids: HashSet<&str> = generated.iter().map(|e| e.event_id.as_str()).collect();
        assert_eq!(ids.len(), generated.len(), "event ids are unique");
        assert_eq!(by_case(&generated).len(), stream.case_count());
    }
}

#[test]
fn every_case_opens_first_and_its_events_are_in_order_inside_the_history() {
    let spec = spec(3, 60, 10_000);
    let events: Vec<DemoEvent> = stream(&spec).events().collect();
    let start = (END - 60 * 86_400) * 1_000_000;
    for (case, events) in by_case(&events) {
        assert_eq!(events[0].event_type, EventType::Opened, "{case}");
        assert!(
            events[1..]
                .iter()
                .all(|e| e.event_type != EventType::Opened),
            "{case}"
        );
        assert!(
            events
                .windows(2)
                .all(|w| w[0].occurred_at < w[1].occurred_at),
            "{case}"
        );
        assert!(events[0].occurred_at.as_micros() >= start);
        assert!(events.last().is_some_and(|e| e.occurred_at <= spec.end));
        let first = events[0];
        assert!(events.iter().all(|e| e.category == first.category
            && e.priority == first.priority
            && e.team == first.team));
    }
}

#[test]
fn reopen_appeal_escalation_and_backlog_rates_are_plausible() {
    let events: Vec<DemoEvent> = stream(&spec(11, 90, 30_000)).events().collect();
    let cases = by_case(&events);
    let share = |kind: EventType| {
        let with = cases
            .values()
            .filter(|c| c.iter().any(|e| e.event_type == kind))
            .count();
        with as f64 / cases.len() as f64
    };
    let resolved = share(EventType::Resolved);
    let (reopened, appealed) = (
        share(EventType::Reopened) / resolved,
        share(EventType::Appealed) / resolved,
    );
    assert!((0.05..0.11).contains(&reopened), "reopened {reopened}");
    assert!((0.02..0.06).contains(&appealed), "appealed {appealed}");
    assert!((0.02..0.12).contains(&share(EventType::Escalated)));
    let open = cases
        .values()
        .filter(|c| c.last().is_some_and(|e| e.event_type != EventType::Closed))
        .count();
    assert!(open > 0 && open < cases.len() / 5, "{open} open cases");
}

#[test]
fn more_cases_open_on_monday_mornings_than_at_weekends_or_at_night() {
    let stream = stream(&spec(5, 90, 30_000));
    let mut per_hour = [0u32; 168];
    for event in stream.events() {
        if event.event_type == EventType::Opened {
            per_hour[usize::from(stream.calendar.hour_of_week(event.occurred_at))] += 1;
        }
    }
    let monday_morning: u32 = per_hour[9..12].iter().sum();
    let sunday_morning: u32 = per_hour[6 * 24 + 9..6 * 24 + 12].iter().sum();
    let wednesday_night: u32 = per_hour[2 * 24 + 1..2 * 24 + 4].iter().sum();
    assert!(monday_morning > 3 * sunday_morning, "{per_hour:?}");
    assert!(monday_morning > 10 * wednesday_night, "{per_hour:?}");
}

#[test]
fn every_category_priority_and_channel_occurs_and_money_cases_carry_amounts() {
    let events: Vec<DemoEvent> = stream(&spec(9, 30, 10_000)).events().collect();
    let seen = |f: fn(&DemoEvent) -> String| -> HashSet<String> { events.iter().map(f).collect() };
    assert_eq!(seen(|e| e.category.to_owned()).len(), CATEGORIES.len());
    assert_eq!(seen(|e| e.priority.to_string()).len(), 4);
    assert_eq!(seen(|e| e.channel.to_owned()).len(), CHANNELS.len());
    assert_eq!(seen(|e| e.team.to_owned()).len(), TEAMS.len());
    let opened_with_amount = |category: &str| {
        events
            .iter()
            .filter(|e| e.category == category && e.event_type == EventType::Opened)
            .all(|e| e.amount.is_some())
    };
    assert!(opened_with_amount("chargeback") && opened_with_amount("fraud"));
    assert!(
        events
            .iter()
            .filter(|e| e.category == "account")
            .all(|e| e.amount.is_none())
    );
    let outcomes = seen(|e| e.outcome.unwrap_or("-").to_owned());
    for outcome in ["refunded", "partially_refunded", "rejected", "upheld"] {
        assert!(outcomes.contains(outcome), "{outcome}");
    }
}

#[test]
fn generated_events_pass_the_batch_parser_unchanged() {
    let events: Vec<DemoEvent> = stream(&spec(1, 30, 2_000)).events().collect();
    let mut body = Vec::new();
    for event in &events {
        serde_json::to_writer(&mut body, event).expect("serialises");
        body.push(b'\n');
    }
    let parsed = parse_batch(&body, BatchFormat::Ndjson).expect("a valid batch");
    assert_eq!(parsed.len(), events.len());
    for (sent, got) in events.iter().zip(&parsed) {
        assert_eq!(got.event_id.as_str(), sent.event_id);
        assert_eq!(got.occurred_at, sent.occurred_at);
        assert_eq!(
            got.effort_minutes.map(|m| m.as_f64()),
            sent.effort_minutes.map(f64::from)
        );
        assert_eq!(
            got.amount.as_ref().map(|a| a.value.to_string()),
            sent.amount.as_ref().map(|a| a.value.clone())
        );
    }
}

#[test]
fn teams_are_staffed_for_their_effort_and_the_disputes_team_is_short() {
    let stream = stream(&spec(2, 90, 50_000));
    assert!(stream.agents().iter().all(|a| *a >= 1));
    let per_agent = |t: usize| stream.effort_minutes[t] as f64 / f64::from(stream.agents()[t]);
    // Disputes (0) carries more work per agent than complaints (1).
    assert!(per_agent(0) > 1.2 * per_agent(1), "{:?}", stream.agents());
}
