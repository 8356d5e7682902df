//! Tests of batch parsing: positions in messages, empty and oversized batches, and speed.

use std::time::Instant;

use super::*;
use crate::events::EventType;

/// A typical event, numbered `n`, as one line of JSON.
fn event(n: usize) -> String {
    let kind = ["opened", "assigned", "first_response", "resolved", "closed"][n % 5];
    format!(
        r#"{{"EventId":"e-{n}","CaseId":"C-{case}","EventType":"{kind}","OccurredAt":"2026-03-02T09:{minute:02}:00+01:00","Category":"billing","Priority":"normal","Channel":"email","Team":"tier-1","Agent":"agent-{agent}","EffortMinutes":{effort},"Amount":{{"Value":"12.50","Currency":"EUR"}},"Outcome":"answered"}}"#,
        case = n / 5,
        minute = n % 60,
        agent = n % 40,
        effort = n % 90,
    )
}

fn ndjson(count: usize) -> String {
    (0..count).map(|n| event(n) + "\n").collect()
}

fn array(count: usize) -> String {
    format!(
        "[{}]",
        (0..count).map(event).collect::<Vec<_>>().join(",\n")
    )
}

fn refusal(body: &str, format: BatchFormat) -> String {
    parse_batch(body.as_bytes(), format)
        .map(|events| format!("accepted {}", events.len()))
        .unwrap_or_else(|e| e.to_string())
}

#[test]
fn ndjson_line_numbers_count_blank_lines_from_one() {
    let body = format!(
        "{}\n\n   \n{}\n",
        event(0),
        event(1).replace("assigned", "done")
    );
    let error = parse_batch(body.as_bytes(), BatchFormat::Ndjson).expect_err("bad type");
    assert_eq!(error.position(), Some(Position::Line(4)));
    assert_eq!(error.field(), Some("EventType"));
    assert!(
        error
            .to_string()
            .starts_with("line 4: EventType: must be one of opened, assigned,"),
        "{error}"
    );
}

#[test]
fn waits_on_the_customer_and_replies_parse_like_any_other_event() {
    let body = format!(
        "{}\n{}\n",
        event(1).replace("assigned", "waiting_on_customer"),
        event(2).replace("first_response", "customer_replied")
    );
    let events = parse_batch(body.as_bytes(), BatchFormat::Ndjson).expect("valid");
    let kinds: Vec<_> = events.iter().map(|e| e.event_type).collect();
    assert_eq!(
        kinds,
        [EventType::WaitingOnCustomer, EventType::CustomerReplied]
    );
}

#[test]
fn ndjson_accepts_a_trailing_newline_and_crlf_line_ends_in_the_order_sent() {
    let body = format!("{}\r\n{}\r\n\r\n", event(0), event(1));
    let events = parse_batch(body.as_bytes(), BatchFormat::Ndjson).expect("valid");
    let kinds: Vec<_> = events.iter().map(|e| e.event_type).collect();
    assert_eq!(kinds, [EventType::Opened, EventType::Assigned]);
}

#[test]
fn malformed_json_on_a_line_is_reported_with_that_line_only() {
    let body = format!("{}\n{{\"EventId\": \"e-2\",\n", event(0));
    assert_eq!(
        refusal(&body, BatchFormat::Ndjson),
        "line 2: not valid JSON: EOF while parsing a value at column 18"
    );
    let two_on_a_line = format!("{}{}", event(0), event(1));
    assert!(refusal(&two_on_a_line, BatchFormat::Ndjson).starts_with("line 1: not valid JSON:"));
}

#[test]
fn a_line_that_is_not_an_object_is_refused_by_line() {
    // An array sent as NDJSON breaks on its first line.
    assert!(refusal(&array(2), BatchFormat::Ndjson).starts_with("line 1: not valid JSON: "));
    assert_eq!(
        refusal("\n[]\n", BatchFormat::Ndjson),
        "line 2: an event must be a JSON object"
    );
}

#[test]
fn array_errors_name_the_element_counted_from_zero() {
    let mut events: Vec<_> = (0..20).map(event).collect();
    events[16] = events[16].replace(r#""OccurredAt":"2026-03-02T09:16:00+01:00","#, "");
    let body = format!("[{}]", events.join(","));
    let error = parse_batch(body.as_bytes(), BatchFormat::JsonArray).expect_err("missing");
    assert_eq!(error.to_string(), "index 16: OccurredAt: required");
    assert_eq!(error.position(), Some(Position::Index(16)));
}

#[test]
fn an_event_naming_a_property_twice_is_refused_where_it_is_in_both_formats() {
    let twice = event(1).replace(r#""CaseId":"C-0","#, r#""CaseId":"C-0","CaseId":"C-9","#);
    let lines = format!("{}\n{twice}\n", event(0));
    assert_eq!(
        refusal(&lines, BatchFormat::Ndjson),
        "line 2: property 'CaseId' appears more than once in one object"
    );
    let elements = format!("[{},{twice}]", event(0));
    let error = parse_batch(elements.as_bytes(), BatchFormat::JsonArray).expect_err("twice");
    assert_eq!(error.position(), Some(Position::Index(1)));
    assert!(
        error.to_string().starts_with("index 1: property 'CaseId'"),
        "{error}"
    );
}

#[test]
fn nul_in_an_event_is_refused_even_where_no_property_would_be_checked() {
    let nul = event(0).replace(
        r#""Outcome":"answered""#,
        r#""Outcome":"answered","\u0000":1"#,
    );
    assert_eq!(
        refusal(&format!("[{nul}]"), BatchFormat::JsonArray),
        "index 0: text must not contain the NUL character (\\u0000)"
    );
}

#[test]
fn malformed_arrays_and_bodies_that_are_not_arrays_are_refused() {
    let cut = &array(3)[..200];
    assert!(refusal(cut, BatchFormat::JsonArray).starts_with("not valid JSON: "));
    assert!(
        refusal(&format!("{} x", array(1)), BatchFormat::JsonArray)
            .starts_with("not valid JSON: trailing characters")
    );
    assert_eq!(
        refusal(&event(0), BatchFormat::JsonArray),
        "the body must be a JSON array of events (or NDJSON, one event a line)"
    );
    assert_eq!(
        refusal("[1]", BatchFormat::JsonArray),
        "index 0: an event must be a JSON object"
    );
}

#[test]
fn an_empty_batch_is_refused_in_either_format() {
    for (body, format) in [
        ("", BatchFormat::Ndjson),
        ("\n \r\n\n", BatchFormat::Ndjson),
        ("", BatchFormat::JsonArray),
        (" [ ] ", BatchFormat::JsonArray),
    ] {
        assert_eq!(
            parse_batch(body.as_bytes(), format),
            Err(BatchError::Empty),
            "{body:?}"
        );
    }
    assert_eq!(BatchError::Empty.to_string(), "the batch has no events");
}

#[test]
fn a_batch_over_the_limit_is_refused_before_its_events_are_checked() {
    let mut body = ndjson(MAX_BATCH_EVENTS + 1);
    body.insert_str(0, "not json\n");
    assert_eq!(
        parse_batch(body.as_bytes(), BatchFormat::Ndjson),
        Err(BatchError::TooMany)
    );
    assert_eq!(
        parse_batch(
            array(MAX_BATCH_EVENTS + 1).as_bytes(),
            BatchFormat::JsonArray
        ),
        Err(BatchError::TooMany)
    );
    assert_eq!(
        BatchError::TooMany.to_string(),
        "the batch has more than 10000 events; send at most 10000 events a batch"
    );
}

#[test]
fn repeated_event_ids_are_left_for_the_store_to_judge() {
    let body = format!("{}\n{}\n", event(7), event(7));
    let events = parse_batch(body.as_bytes(), BatchFormat::Ndjson).expect("valid");
    assert_eq!(events.len(), 2);
    assert_eq!(events[0], events[1]);
}

#[test]
fn ten_thousand_events_parse_quickly_in_either_format() {
    for (format, body) in [
        (BatchFormat::Ndjson, ndjson(MAX_BATCH_EVENTS)),
        (BatchFormat::JsonArray, array(MAX_BATCH_EVENTS)),
    ] {
        let started = Instant::now();
        let events = parse_batch(body.as_bytes(), format).expect("valid");
        let elapsed = started.elapsed();
        assert_eq!(events.len(), MAX_BATCH_EVENTS);
        let last: serde_json::Value = serde_json::from_str(&event(9_999)).expect("json");
        assert_eq!(events.last(), CaseEvent::from_json(&last).ok().as_ref());
        // Timing is reported, not asserted: debug builds and busy machines vary widely.
        println!(
            "{format:?}: {} events, {} KiB, parsed in {elapsed:?}",
            events.len(),
            body.len() / 1024
        );
    }
}
