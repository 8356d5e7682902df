//! The audit trail over HTTP: what requests change appears in `GET /audit` with the
//! request's interaction id, narrowed by plan and time; `caseload audit verify` (the real
//! binary) reports the trail intact, then the first break after tampering.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection as _;

use crate::helpers::{Reply, TestApp, TestDb};
use crate::on_both_backends;

async fn with_id(app: &TestApp, method: Method, path: &str, body: &Value, id: &str) -> Reply {
    let reply = app
        .send(method, path, Some(body), &[("x-fapi-interaction-id", id)])
        .await;
    assert!(reply.status.is_success(), "{path}: {}", reply.text);
    assert_eq!(reply.header("x-fapi-interaction-id"), Some(id));
    reply
}

/// The items of `GET /audit?{query}`, checked to be a page.
async fn audit(app: &TestApp, query: &str) -> Vec<Value> {
    let reply = app.get(&format!("/audit?{query}")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.body["Items"].as_array().expect("items").clone()
}

fn actions(items: &[Value]) -> Vec<&str> {
    items
        .iter()
        .map(|i| i["Action"].as_str().expect("action"))
        .collect()
}

on_both_backends! {
    async fn changes_made_through_the_api_are_in_the_trail_with_their_interaction_ids(app: TestApp) {
        // Arrange: a plan with a history of changes, each request with its own id.
        let created = with_id(&app, Method::POST, "/CustomerCaseManagement/Create",
            &json!({"CustomerCaseManagementPlanPeriod": "2027-Q1"}), "it-create").await;
        let plan = created.body["CustomerCaseManagementId"].as_str().expect("id").to_owned();
        with_id(&app, Method::PUT, &format!("/CustomerCaseManagement/{plan}/Update"),
            &json!({"CustomerCaseTrainingPlan": "coaching"}), "it-update").await;
        with_id(&app, Method::PUT, &format!("/customer-case-management/{plan}/rules/r1"),
            &json!({"CustomerCaseDecisionCriterion": "refunds", "Expression": "amount < 50"}), "it-rule").await;
        with_id(&app, Method::POST, &format!("/customer-case-management/{plan}/requests"),
            &json!({"Reason": "too strict"}), "it-request").await;
        let batch = app.raw(Method::POST, &format!("/customer-case-management/{plan}/case-events"),
            Some("application/json"),
            json!([{"EventId": "e1", "CaseId": "c1", "EventType": "opened", "OccurredAt": "2026-11-02T09:00:00Z"}])
                .to_string().into_bytes()).await;
        assert_eq!(batch.status, StatusCode::OK, "{}", batch.text);
        let minted = batch.header("x-fapi-interaction-id").expect("minted id").to_owned();
        // A refused write leaves no trace.
        app.send(Method::PUT, &format!("/CustomerCaseManagement/{plan}/Update"),
            Some(&json!({"CustomerCaseTrainingPlan": "x"})), &[("if-match", "\"9\"")]).await.assert_error(412);
        let other = app.create_plan(&json!({})).await;

        // Act
        let items = audit(&app, &format!("plan={plan}")).await;

        // Assert: newest first, one record per change, with the request's id.
        assert_eq!(actions(&items), ["events.ingest", "intervention.create", "rules.put", "plan.update", "plan.create"]);
        let ids: Vec<&str> = items.iter().map(|i| i["InteractionId"].as_str().expect("id")).collect();
        assert_eq!(ids, [minted.as_str(), "it-request", "it-rule", "it-update", "it-create"]);
        assert!(items.iter().all(|i| i["Chain"] == plan.as_str() && i["Actor"] == "development"));
        let update = &items[3];
        assert_eq!(update["Subject"], "plan");
        assert_eq!(update["Before"], json!({"CustomerCaseTrainingPlan": null}));
        assert_eq!(update["After"], json!({"CustomerCaseTrainingPlan": "coaching"}));
        assert_eq!(items[4]["Before"], Value::Null);
        assert_eq!(items[4]["After"], json!({"CustomerCaseManagementPlanPeriod": "2027-Q1"}));
        assert_eq!(items[2]["Subject"], "rules/r1");
        assert_eq!(items[2]["After"]["Expression"], "amount < 50");
        assert_eq!(items[0]["After"], json!({"Received": 1, "Accepted": 1, "Duplicates": 0, "Generation": 1}));
        assert_eq!(items[4]["PrevHash"], "0".repeat(64));
        for pair in items.windows(2) {
            assert_eq!(pair[0]["PrevHash"], pair[1]["Hash"], "chained");
        }

        // Narrowed by plan: the other plan's creation is not among them, but is in the whole trail.
        let everything = audit(&app, "page_size=100").await;
        assert_eq!(everything.len(), 6);
        assert_eq!(everything[0]["Chain"], other.as_str());
        assert_eq!(actions(&audit(&app, &format!("plan={other}")).await), ["plan.create"]);

        // Narrowed by time: [from, to).
        let at = |i: &Value| i["At"].as_str().expect("at").to_owned();
        let query = format!("plan={plan}&from={}&to={}", at(&items[3]), at(&items[1]));
        assert_eq!(actions(&audit(&app, &query).await), ["rules.put", "plan.update"]);

        // Paged like every list.
        let first = app.get(&format!("/audit?plan={plan}&page_size=2")).await;
        let token = first.body["NextPageToken"].as_str().expect("more");
        let next = audit(&app, &format!("plan={plan}&page_size=2&page_token={token}")).await;
        assert_eq!(actions(&next), ["rules.put", "plan.update"]);

        // Bad parameters are refused.
        for bad in ["plan=nope", "from=yesterday", "page_size=0"] {
            app.get(&format!("/audit?{bad}")).await.assert_error(400);
        }
        // An interval that ends before it starts holds nothing.
        let empty = audit(&app, &format!("plan={plan}&from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z")).await;
        assert!(actions(&empty).is_empty());
    }

    async fn the_verify_command_reports_ok_then_the_first_break(app: TestApp) {
        let plan = app.create_plan(&json!({})).await;
        for n in 0..3 {
            app.put(&format!("/CustomerCaseManagement/{plan}/Update"),
                &json!({"CustomerCaseTrainingPlan": format!("v{n}")})).await;
        }
        let items = audit(&app, &format!("plan={plan}")).await;
        let target = items[1]["Seq"].as_i64().expect("seq");
        let db = app.stop().await;

        let (ok, out) = verify(&db).await;
        assert!(ok, "{out}");
        assert!(out.contains("audit trail OK: 1 chain, 4 records verified"), "{out}");

        tamper(&db, &format!(
            "UPDATE audit_records SET after = '{{\"CustomerCaseTrainingPlan\":\"forged\"}}' WHERE seq = {target}"
        )).await;
        let (ok, out) = verify(&db).await;
        assert!(!ok, "{out}");
        assert!(out.contains(&format!("BROKEN: first break in chain plan {plan} at seq {target}")), "{out}");
    }
}

/// Runs `caseload audit verify` on the database; whether it exited 0, and what it printed.
async fn verify(db: &TestDb) -> (bool, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_caseload"))
        .args(["audit", "verify"])
        .env("DATABASE_URL", db.url())
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("run caseload audit verify");
    let code = output.status.code();
    assert!(matches!(code, Some(0 | 1)), "exit status {code:?}");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

/// Changes the trail behind the service's back, as someone with write access to the
/// database could: with the append-only triggers out of the way.
async fn tamper(db: &TestDb, sql: &str) {
    let url = db.url();
    if let Some(path) = url.strip_prefix("sqlite://") {
        rusqlite::Connection::open(path)
            .and_then(|conn| {
                conn.execute_batch(&format!("DROP TRIGGER audit_records_no_update; {sql}"))
            })
            .expect("tamper with SQLite");
    } else {
        let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
        sqlx::raw_sql(&format!(
            "ALTER TABLE audit_records DISABLE TRIGGER USER; {sql}"
        ))
        .execute(&mut conn)
        .await
        .expect("tamper with PostgreSQL");
        conn.close().await.ok();
    }
}
