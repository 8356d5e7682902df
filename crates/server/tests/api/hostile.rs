//! A hostile-input corpus: malformed and truncated JSON, wrong types, numbers out of range,
//! deep nesting, 10 MB bodies, invalid UTF-8, control characters, SQL and script fragments,
//! path traversal, overlong ids, wrong content types, header abuse and bad query strings,
//! sent byte for byte to every kind of endpoint. Each gets a clean 4xx in the BIAN
//! `HTTPError` shape, nothing is created or changed, and the service stays healthy.

mod corpus;
mod wire;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_backends;
use corpus::{BATCH_EVENT_IDS, Case, Targets, corpus};

/// A plan with a criterion `r1`, a performance record `p1`, an intervention request and a
/// recorded evaluation, so that hostile requests reach the checks behind the ids.
async fn targets(app: &TestApp) -> Targets {
    let plan = app
        .create_plan(&json!({"CustomerCaseTrainingPlan": "keep"}))
        .await;
    let facade = format!("/customer-case-management/{plan}");
    let rule = app
        .put(
            &format!("/CustomerCaseManagement/{plan}/Rules/r1/Update"),
            &json!({"Expression": "amount <= limit && history.disputes_12m < 2", "Parameters": {"limit": 50}, "Decision": "approve"}),
        )
        .await;
    assert_eq!(rule.status, StatusCode::OK, "{}", rule.text);
    let perf = app
        .put(
            &format!("/CustomerCaseManagement/{plan}/Performance/p1/Update"),
            &json!({"CustomerCaseServiceStatisticType": "hand-kept"}),
        )
        .await;
    assert_eq!(perf.status, StatusCode::OK, "{}", perf.text);
    let request = app
        .post(&format!("{facade}/requests"), &json!({"Reason": "check"}))
        .await;
    assert_eq!(request.status, StatusCode::CREATED, "{}", request.text);
    let evaluation = app
        .post(
            &format!("{facade}/rules/r1/evaluations"),
            &json!({"Facts": {"amount": 10, "history": {"disputes_12m": 0}}, "Record": true, "CaseId": "c-1"}),
        )
        .await;
    assert_eq!(
        evaluation.status,
        StatusCode::CREATED,
        "{}",
        evaluation.text
    );
    let id = |reply: &crate::helpers::Reply, name: &str| {
        reply.body[name]
            .as_str()
            .unwrap_or_else(|| panic!("{name} in {}", reply.text))
            .to_owned()
    };
    Targets {
        request: id(&request, "InterventionId"),
        evaluation: id(&evaluation, "EvaluationId"),
        plan,
    }
}

/// Everything a hostile request could have changed, as the service shows it.
async fn snapshot(app: &TestApp, t: &Targets) -> Vec<(String, Option<String>, Value)> {
    let p = &t.plan;
    let facade = format!("/customer-case-management/{p}");
    let paths = [
        "/customer-case-management?page_size=100".to_owned(),
        format!("/CustomerCaseManagement/{p}/Retrieve"),
        format!("{facade}/rules?page_size=100"),
        format!("{facade}/performances?page_size=100"),
        format!("{facade}/requests?page_size=100"),
        format!("{facade}/requests/{}", t.request),
        format!("{facade}/rules/r1/evaluations?page_size=100"),
        format!("{facade}/rules/r1/versions?page_size=100"),
    ];
    let mut seen = Vec::new();
    for path in paths {
        let reply = app.get(&path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text);
        seen.push((path, reply.header("etag").map(str::to_owned), reply.body));
    }
    seen
}

/// What is wrong with an answer to a hostile request, if anything.
fn problems(case: &Case, answer: &wire::Answer) -> Vec<String> {
    let mut found = Vec::new();
    if !case.expect.contains(&answer.status) {
        found.push(format!(
            "status {} (expected {:?})",
            answer.status, case.expect
        ));
    }
    if !(400..500).contains(&answer.status) {
        found.push(format!("status {} is not a 4xx", answer.status));
    }
    if case.transport {
        return found;
    }
    match answer.header("x-fapi-interaction-id") {
        None => found.push("no x-fapi-interaction-id".to_owned()),
        Some(id) if id.is_empty() || id.len() > 128 => {
            found.push(format!("x-fapi-interaction-id of {} bytes", id.len()));
        }
        Some(_) => {}
    }
    if !answer
        .header("content-type")
        .is_some_and(|v| v.starts_with(b"application/json"))
    {
        found.push("error body is not application/json".to_owned());
    }
    let body: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
    let Some(error) = body.as_object().filter(|o| o.len() == 3) else {
        let shown = String::from_utf8_lossy(&answer.body[..answer.body.len().min(200)]);
        found.push(format!("not an HTTPError body: {shown}"));
        return found;
    };
    let text = |name: &str| error.get(name).and_then(Value::as_str);
    if text("status_code") != Some(answer.status.to_string().as_str()) {
        found.push(format!("status_code {:?}", error.get("status_code")));
    }
    if text("status").is_none_or(str::is_empty) {
        found.push("no status text".to_owned());
    }
    match text("message") {
        Some(message) => found.extend(message_problems(message)),
        None => found.push("no message".to_owned()),
    }
    found
}

/// Words that would only appear in a message if internals leaked: the database, SQL the
/// service runs, source paths, Rust type names, panics.
const LEAKS: [&str; 18] = [
    "sqlx",
    "sqlite",
    "postgres",
    "SELECT ",
    "INSERT ",
    "WHERE ",
    "constraint",
    "panick",
    "/src/",
    ".rs:",
    "::",
    "std::",
    "Utf8Error",
    "ParseIntError",
    "serde",
    "String`",
    "u32",
    "i64",
];

fn message_problems(message: &str) -> Vec<String> {
    let mut found = Vec::new();
    if message.trim().is_empty() {
        found.push("empty message".to_owned());
    }
    if message.chars().count() > 600 {
        found.push(format!("message of {} characters", message.chars().count()));
    }
    if message.chars().any(char::is_control) {
        found.push(format!("control characters in message {message:?}"));
    }
    let mut run = (None, 0);
    for c in message.chars() {
        run = if run.0 == Some(c) {
            (run.0, run.1 + 1)
        } else {
            (Some(c), 1)
        };
        if run.1 > 64 {
            found.push(format!("message echoes a long run of {c:?}"));
            break;
        }
    }
    for leak in LEAKS {
        if message.contains(leak) {
            found.push(format!("message leaks {leak:?}: {message}"));
        }
    }
    found
}

fn head(case: &Case) -> Vec<u8> {
    let mut head = Vec::new();
    head.extend_from_slice(case.method.as_bytes());
    head.push(b' ');
    head.extend_from_slice(&case.target);
    head.extend_from_slice(b" HTTP/1.1\r\nhost: caseload.test\r\nconnection: close\r\n");
    for (name, value) in &case.headers {
        head.extend_from_slice(name.as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value);
        head.extend_from_slice(b"\r\n");
    }
    if !case.own_framing {
        head.extend_from_slice(format!("content-length: {}\r\n", case.body.len()).as_bytes());
    }
    head
}

on_both_backends! {
    async fn every_hostile_request_gets_a_clean_4xx_and_changes_nothing(app: TestApp) {
        let t = targets(&app).await;
        let before = snapshot(&app, &t).await;
        let cases = corpus(&t);
        assert!(cases.len() >= 60, "the corpus has {} cases", cases.len());

        let mut failures = Vec::new();
        for case in &cases {
            match wire::exchange(app.addr, &head(case), &case.body).await {
                Ok(answer) => {
                    for problem in problems(case, &answer) {
                        failures.push(format!("{}: {problem}", case.name));
                    }
                }
                Err(e) => failures.push(format!("{}: {e}", case.name)),
            }
        }
        assert!(failures.is_empty(), "{} problems:\n{}", failures.len(), failures.join("\n"));

        assert_eq!(app.get("/health/ready").await.status, StatusCode::OK);
        assert!(snapshot(&app, &t).await == before, "a hostile request changed something");
        // Batches that were refused stored none of their events, not even the good ones.
        let batch: Vec<Value> = BATCH_EVENT_IDS
            .iter()
            .map(|id| json!({"EventId": id, "CaseId": "c-1", "EventType": "opened", "OccurredAt": "2026-11-02T09:00:00Z"}))
            .collect();
        let stored = app.post(&format!("/customer-case-management/{}/case-events", t.plan), &Value::Array(batch)).await;
        assert_eq!(stored.body, json!({"Received": 3, "Accepted": 3, "Duplicates": 0}), "{}", stored.text);

        // And the service still works as usual.
        let id = app.create_plan(&json!({"CustomerCaseTrainingPlan": "after the storm"})).await;
        let plan = app.get(&format!("/CustomerCaseManagement/{id}/Retrieve")).await;
        assert_eq!(plan.body["CustomerCaseManagementPlan"]["CustomerCaseTrainingPlan"], "after the storm");
    }
}
