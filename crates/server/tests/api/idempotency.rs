//! `Idempotency-Key` on the creating POSTs: a retry replays the first response byte for
//! byte and creates nothing; another request under the same key is 422; a duplicate sent
//! while the first runs is 409; failures other than 5xx are replayed too; expired keys run
//! again; malformed keys are 400.

use std::time::Duration;

use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp};
use crate::on_both_backends;

const REPLAYED: &str = "idempotency-replayed";

async fn post_keyed(app: &TestApp, path: &str, body: &Value, key: &str) -> Reply {
    app.send(Method::POST, path, Some(body), &[("idempotency-key", key)])
        .await
}

/// Asserts that `again` is `first` replayed: the same status, body bytes and headers worth
/// replaying, marked as a replay, under its own interaction id.
fn assert_replayed(first: &Reply, again: &Reply) {
    assert_eq!(again.status, first.status, "{}", again.text);
    assert_eq!(again.text, first.text, "the body, byte for byte");
    for name in ["content-type", "location", "etag"] {
        assert_eq!(again.header(name), first.header(name), "{name}");
    }
    assert_eq!(
        first.header(REPLAYED),
        None,
        "the first response is not a replay"
    );
    assert_eq!(again.header(REPLAYED), Some("true"));
    let id = |r: &Reply| r.header("x-fapi-interaction-id").map(str::to_owned);
    assert!(id(again).is_some());
    assert_ne!(id(again), id(first), "the retry's own interaction id");
}

/// How many items the first page of a list holds.
async fn count(app: &TestApp, path: &str) -> usize {
    let list = app.get(&format!("{path}?page_size=100")).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    list.body["Items"].as_array().map_or(0, Vec::len)
}

/// A plan with the criterion `r1`; returns the plan id.
async fn plan_with_criterion(app: &TestApp) -> String {
    let id = app.create_plan(&json!({})).await;
    let made = app
        .put(
            &format!("/customer-case-management/{id}/rules/r1"),
            &json!({
                "Expression": "amount <= limits.auto_refund",
                "Parameters": {"limits.auto_refund": 50},
                "Decision": "auto_approve",
            }),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    id
}

on_both_backends! {
    async fn a_retried_plan_create_replays_the_first_response_and_creates_nothing(app: TestApp) {
        let body = json!({"CustomerCaseManagementPlanPeriod": "retail disputes"});
        for (n, path) in ["/CustomerCaseManagement/Create", "/customer-case-management"].iter().enumerate() {
            // Act
            let key = format!("create-{n}");
            let first = post_keyed(&app, path, &body, &key).await;
            let again = post_keyed(&app, path, &body, &key).await;
            let third = app
                .send(Method::POST, path, Some(&body), &[("idempotency-key", &key), ("x-fapi-interaction-id", "retry-3")])
                .await;

            // Assert
            assert!(first.status.is_success(), "{}", first.text);
            assert!(first.header("location").is_some() && first.header("etag").is_some());
            assert_replayed(&first, &again);
            assert_replayed(&first, &third);
            assert_eq!(third.header("x-fapi-interaction-id"), Some("retry-3"));
        }
        assert_eq!(count(&app, "/customer-case-management").await, 2, "one plan per key");
    }

    async fn retried_requests_batches_evaluations_and_backtests_create_nothing(app: TestApp) {
        // Arrange
        let id = plan_with_criterion(&app).await;
        let performance = app.put(&format!("/customer-case-management/{id}/performances/p1"), &json!({})).await;
        assert_eq!(performance.status, StatusCode::CREATED, "{}", performance.text);
        let request = json!({"Reason": "check the thresholds"});
        let evaluation = json!({"Facts": {"amount": 20}, "Record": true, "CaseId": "case-1"});
        let calls = [
            (format!("/customer-case-management/{id}/requests"), request.clone()),
            (format!("/customer-case-management/{id}/rules/r1/requests"), request.clone()),
            (format!("/customer-case-management/{id}/performances/p1/requests"), request),
            (format!("/customer-case-management/{id}/rules/r1/evaluations"), evaluation),
            (format!("/customer-case-management/{id}/rules/r1/backtests"), json!({"Parameters": {"limits.auto_refund": 75}})),
        ];

        // Act & assert: each call twice under one key.
        for (n, (path, body)) in calls.iter().enumerate() {
            let key = format!("call-{n}");
            let first = post_keyed(&app, path, body, &key).await;
            assert_eq!(first.status, StatusCode::CREATED, "{path}: {}", first.text);
            let again = post_keyed(&app, path, body, &key).await;
            assert_replayed(&first, &again);
        }
        let plan = format!("/customer-case-management/{id}");
        assert_eq!(count(&app, &format!("{plan}/requests")).await, 3, "one request per key");
        assert_eq!(count(&app, &format!("{plan}/rules/r1/evaluations")).await, 1, "one recorded evaluation");

        // A batch of case events: a second run would have counted duplicates.
        let batch = b"{\"EventId\":\"e1\",\"CaseId\":\"c1\",\"EventType\":\"opened\",\"OccurredAt\":\"2026-11-02T09:00:00Z\"}\n".to_vec();
        let send = || {
            app.client
                .post(app.url(&format!("{plan}/case-events")))
                .header("content-type", "application/x-ndjson")
                .header("idempotency-key", "batch-1")
                .body(batch.clone())
                .send()
        };
        let first = crate::helpers::read(send().await.expect("sent")).await;
        let again = crate::helpers::read(send().await.expect("sent")).await;
        assert_eq!(first.body, json!({"Received": 1, "Accepted": 1, "Duplicates": 0}), "{}", first.text);
        assert_replayed(&first, &again);
    }

    async fn the_same_key_with_a_different_request_is_422_and_changes_nothing(app: TestApp) {
        // Arrange
        let path = "/customer-case-management";
        let first = post_keyed(&app, path, &json!({"CustomerCaseManagementPlanPeriod": "a"}), "k").await;
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);

        // Act: another body, then another route, under the same key.
        let other_body = post_keyed(&app, path, &json!({"CustomerCaseManagementPlanPeriod": "b"}), "k").await;
        let other_route = post_keyed(&app, "/CustomerCaseManagement/Create", &json!({"CustomerCaseManagementPlanPeriod": "a"}), "k").await;

        // Assert
        let msg = other_body.assert_error(422);
        assert!(msg.contains("Idempotency-Key"), "{msg}");
        other_route.assert_error(422);
        assert_eq!(count(&app, path).await, 1);
        let again = post_keyed(&app, path, &json!({"CustomerCaseManagementPlanPeriod": "a"}), "k").await;
        assert_replayed(&first, &again);
    }

    async fn concurrent_duplicates_create_once(app: TestApp) {
        // Act: eight identical requests at once.
        let body = json!({"CustomerCaseManagementPlanPeriod": "burst"});
        let replies = join_all((0..8).map(|_| post_keyed(&app, "/customer-case-management", &body, "burst-1"))).await;

        // Assert: one ran; the others got its response or were told it is still running.
        let ran: Vec<&Reply> = replies.iter().filter(|r| r.status == StatusCode::CREATED && r.header(REPLAYED).is_none()).collect();
        assert_eq!(ran.len(), 1, "{:?}", replies.iter().map(|r| (r.status, r.header(REPLAYED))).collect::<Vec<_>>());
        for reply in &replies {
            match reply.status {
                StatusCode::CREATED => assert_eq!(reply.text, ran[0].text),
                _ => {
                    let msg = reply.assert_error(409);
                    assert!(msg.contains("in progress"), "{msg}");
                }
            }
        }
        assert_eq!(count(&app, "/customer-case-management").await, 1);
        let later = post_keyed(&app, "/customer-case-management", &body, "burst-1").await;
        assert_replayed(ran[0], &later);
    }

    async fn a_refused_request_is_replayed_as_the_same_refusal(app: TestApp) {
        // Arrange: a plan that does not exist.
        let missing = "/customer-case-management/0190f2a4-0000-7000-8000-000000000000/requests";

        // Act
        let first = post_keyed(&app, missing, &json!({"Reason": "x"}), "missing-1").await;
        let again = post_keyed(&app, missing, &json!({"Reason": "x"}), "missing-1").await;

        // Assert
        first.assert_error(404);
        assert_replayed(&first, &again);
    }

    async fn malformed_keys_are_400_and_create_nothing(app: TestApp) {
        let path = "/customer-case-management";
        let body = json!({});
        let too_long = "k".repeat(256);
        for key in ["", "two words", too_long.as_str(), "tab\tkey"] {
            let reply = post_keyed(&app, path, &body, key).await;
            let msg = reply.assert_error(400);
            assert!(msg.contains("Idempotency-Key"), "{key:?}: {msg}");
        }
        let non_ascii = reqwest::header::HeaderValue::from_bytes("caf\u{e9}".as_bytes()).expect("obs-text");
        let reply = crate::helpers::read(app.client.post(app.url(path)).json(&body).header("idempotency-key", non_ascii).send().await.expect("sent")).await;
        reply.assert_error(400);
        let twice = crate::helpers::read(app.client.post(app.url(path)).json(&body)
            .header("idempotency-key", "a").header("idempotency-key", "b").send().await.expect("sent")).await;
        twice.assert_error(400);
        assert!(post_keyed(&app, path, &body, &"k".repeat(255)).await.status.is_success(), "255 characters are fine");
        assert_eq!(count(&app, path).await, 1);
    }

    async fn requests_without_a_key_and_other_operations_are_not_replayed(app: TestApp) {
        // Without a key, each create creates.
        app.post("/customer-case-management", &json!({})).await;
        app.post("/customer-case-management", &json!({})).await;
        assert_eq!(count(&app, "/customer-case-management").await, 2);

        // A key on an operation that creates nothing is ignored.
        let id = app.create_plan(&json!({})).await;
        let update = format!("/CustomerCaseManagement/{id}/Update");
        for expected in ["\"2\"", "\"3\""] {
            let reply = app.send(Method::PUT, &update, Some(&json!({"CustomerCaseManagementPlanPeriod": "x"})), &[("idempotency-key", "put-1")]).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
            assert_eq!(reply.etag(), expected, "the update ran again");
            assert_eq!(reply.header(REPLAYED), None);
        }
    }

    async fn an_expired_key_runs_again(app: TestApp) {
        // Arrange: an instance that keeps responses for no time at all.
        let forgetful = app.another_instance_with(|s| s.idempotency_retention = Duration::ZERO).await;
        let body = json!({"CustomerCaseManagementPlanPeriod": "again"});
        let first = post_keyed(&forgetful, "/customer-case-management", &body, "short-lived").await;

        // Act
        let again = post_keyed(&forgetful, "/customer-case-management", &body, "short-lived").await;
        let other = json!({"CustomerCaseManagementPlanPeriod": "something else"});
        let different = post_keyed(&forgetful, "/customer-case-management", &other, "short-lived").await;

        // Assert: the same request runs again (no replay) but finds the plan it created; a
        // different one under the expired key creates anew.
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
        assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
        assert_eq!(again.header(REPLAYED), None);
        assert_eq!(again.header("location"), first.header("location"));
        assert_eq!(different.status, StatusCode::CREATED, "{}", different.text);
        assert_ne!(different.header("location"), first.header("location"));
        assert_eq!(count(&app, "/customer-case-management").await, 2);
    }
}

// That one principal's key does not replay for another is tested with authentication on, in
// auth.rs (`idempotency_keys_belong_to_their_principal`).
