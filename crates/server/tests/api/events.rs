//! The case activity feed: batches as JSON arrays or NDJSON, duplicates counted, bad batches
//! refused whole.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_backends;

fn event(id: &str, case: &str, kind: &str, at: &str) -> Value {
    json!({"EventId": id, "CaseId": case, "EventType": kind, "OccurredAt": at})
}

fn ndjson(events: &[Value]) -> Vec<u8> {
    let mut out = String::new();
    for e in events {
        out.push_str(&e.to_string());
        out.push('\n');
    }
    out.into_bytes()
}

async fn send(
    app: &TestApp,
    plan: &str,
    content_type: &str,
    body: Vec<u8>,
) -> crate::helpers::Reply {
    app.raw(
        Method::POST,
        &format!("/customer-case-management/{plan}/case-events"),
        Some(content_type),
        body,
    )
    .await
}

on_both_backends! {
    async fn a_batch_is_stored_once_and_resending_it_only_counts_duplicates(app: TestApp) {
        let plan = app.create_plan(&json!({})).await;
        let batch = json!([
            {"EventId": "e1", "CaseId": "c1", "EventType": "opened", "OccurredAt": "2026-11-02T09:00:00+01:00",
             "Category": "chargeback", "Priority": "high", "Channel": "email", "Team": "disputes"},
            {"EventId": "e3", "CaseId": "c1", "EventType": "resolved", "OccurredAt": "2026-11-03T10:00:00Z",
             "Agent": "a.smith", "EffortMinutes": 35, "Amount": {"Value": "120.50", "Currency": "EUR"}, "Outcome": "refunded"},
            {"EventId": "e2", "CaseId": "c1", "EventType": "first_response", "OccurredAt": "2026-11-02T11:30:00Z"},
        ]);
        let first = send(&app, &plan, "application/json", batch.to_string().into_bytes()).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.text);
        assert_eq!(first.body, json!({"Received": 3, "Accepted": 3, "Duplicates": 0}));
        let again = send(&app, &plan, "application/json", batch.to_string().into_bytes()).await;
        assert_eq!(again.body, json!({"Received": 3, "Accepted": 0, "Duplicates": 3}));
    }

    async fn ndjson_batches_count_duplicates_within_and_across_batches(app: TestApp) {
        let plan = app.create_plan(&json!({})).await;
        let body = ndjson(&[
            event("n1", "c9", "opened", "2026-11-05T08:00:00Z"),
            event("n1", "c9", "opened", "2026-11-05T08:00:00Z"),
            event("n2", "c9", "assigned", "2026-11-05T08:05:00Z"),
        ]);
        let reply = send(&app, &plan, "application/x-ndjson", body).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert_eq!(reply.body, json!({"Received": 3, "Accepted": 2, "Duplicates": 1}));
        let mut with_blank_lines = b"\n".to_vec();
        with_blank_lines.extend(ndjson(&[event("n3", "c9", "closed", "2026-11-06T08:00:00Z")]));
        let reply = send(&app, &plan, "application/x-ndjson; charset=utf-8", with_blank_lines).await;
        assert_eq!(reply.body["Accepted"], 1);
    }

    async fn a_bad_event_refuses_the_whole_batch_naming_its_place_and_field(app: TestApp) {
        let plan = app.create_plan(&json!({})).await;
        let good = event("g1", "c1", "opened", "2026-11-02T09:00:00Z");
        let body = ndjson(&[good.clone(), event("g2", "c1", "exploded", "2026-11-02T09:00:00Z")]);
        let msg = send(&app, &plan, "application/x-ndjson", body).await.assert_error(400);
        assert!(msg.contains("line 2") && msg.contains("EventType"), "{msg}");

        let array = json!([good, {"EventId": "g3", "CaseId": "c1", "EventType": "opened", "OccurredAt": "yesterday"}]);
        let msg = send(&app, &plan, "application/json", array.to_string().into_bytes()).await.assert_error(400);
        assert!(msg.contains("index 1") && msg.contains("OccurredAt"), "{msg}");

        let unknown = json!([{"EventId": "g4", "CaseId": "c1", "EventType": "opened", "OccurredAt": "2026-11-02T09:00:00Z", "Colour": "red"}]);
        let msg = send(&app, &plan, "application/json", unknown.to_string().into_bytes()).await.assert_error(400);
        assert!(msg.contains("Colour"), "{msg}");

        // Nothing of the refused batches was stored: the good event is still new.
        let reply = send(&app, &plan, "application/json", json!([event("g1", "c1", "opened", "2026-11-02T09:00:00Z")]).to_string().into_bytes()).await;
        assert_eq!(reply.body["Accepted"], 1, "{}", reply.text);
    }

    async fn batches_that_are_empty_oversized_misnamed_or_for_no_plan_are_refused(app: TestApp) {
        let plan = app.create_plan(&json!({})).await;
        send(&app, &plan, "application/json", b"[]".to_vec()).await.assert_error(400);
        send(&app, &plan, "application/x-ndjson", b"\n\n".to_vec()).await.assert_error(400);
        send(&app, &plan, "application/json", b"{\"EventId\": 1}".to_vec()).await.assert_error(400);
        send(&app, &plan, "text/csv", b"a,b".to_vec()).await.assert_error(415);
        let ghost = "01a2196b-0000-7000-8000-000000000000";
        let one = json!([event("x", "c", "opened", "2026-11-02T09:00:00Z")]).to_string().into_bytes();
        send(&app, ghost, "application/json", one).await.assert_error(404);
        let too_many: Vec<Value> = (0..10_001).map(|n| event(&format!("o{n}"), "c", "opened", "2026-11-02T09:00:00Z")).collect();
        let msg = send(&app, &plan, "application/x-ndjson", ndjson(&too_many)).await.assert_error(400);
        assert!(msg.contains("10000") || msg.contains("10,000"), "{msg}");
    }

    async fn ten_thousand_events_in_one_batch_are_accepted_in_any_order(app: TestApp) {
        let plan = app.create_plan(&json!({})).await;
        let events: Vec<Value> = (0..10_000)
            .rev()
            .map(|n| {
                let kind = ["opened", "assigned", "first_response", "resolved"][n % 4];
                json!({"EventId": format!("b{n}"), "CaseId": format!("case-{}", n / 4), "EventType": kind,
                       "OccurredAt": format!("2026-10-{:02}T{:02}:{:02}:00Z", 1 + n % 28, n % 24, n % 60), "Category": "billing", "Priority": "normal",
                       "Team": "disputes", "EffortMinutes": 12.5, "Amount": {"Value": "10.00", "Currency": "EUR"}})
            })
            .collect();
        let body = ndjson(&events);
        assert!(body.len() > 1024 * 1024, "the batch is larger than the default body limit");
        let reply = send(&app, &plan, "application/x-ndjson", body).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", &reply.text[..reply.text.len().min(300)]);
        assert_eq!(reply.body["Accepted"], 10_000);
    }
}
