//! `GET /staffing/erlang-c` over HTTP: the textbook case, the occupancy cap, shrinkage,
//! large traffic, and refusals in the `HTTPError` shape naming the parameter. No database is
//! involved, so SQLite is enough.

use std::time::{Duration, Instant};

use crate::helpers::{Backend, Reply, TestApp};

/// 100 calls in 30 minutes, 3-minute handling, 80% answered within 20 seconds.
const TEXTBOOK: &str =
    "arrivals=100&interval_seconds=1800&aht_seconds=180&target_answer_seconds=20&service_level=0.8";

async fn app() -> TestApp {
    TestApp::spawn(Backend::Sqlite).await.expect("sqlite")
}

async fn staffing(app: &TestApp, query: &str) -> Reply {
    app.get(&format!("/staffing/erlang-c?{query}")).await
}

fn number(reply: &Reply, property: &str) -> f64 {
    reply.body[property]
        .as_f64()
        .unwrap_or_else(|| panic!("{property} is not a number in {}", reply.text))
}

fn close(reply: &Reply, property: &str, expected: f64, tolerance: f64) {
    let actual = number(reply, property);
    assert!(
        (actual - expected).abs() <= tolerance,
        "{property} is {actual}, expected {expected} ± {tolerance}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_textbook_case_needs_fourteen_agents() {
    let app = app().await;

    let reply = staffing(&app, TEXTBOOK).await;

    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let properties: Vec<&str> = reply
        .body
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        properties.len(),
        7,
        "exactly the documented properties: {properties:?}"
    );
    assert_eq!(reply.body["Agents"], 14);
    assert_eq!(reply.body["RosteredAgents"], 14);
    close(&reply, "TrafficErlangs", 10.0, 1e-9);
    close(&reply, "ProbabilityOfWaiting", 0.1741, 5e-5);
    close(&reply, "ServiceLevel", 0.8884, 5e-5);
    close(&reply, "AverageSpeedOfAnswerSeconds", 7.836, 5e-3);
    close(&reply, "Occupancy", 10.0 / 14.0, 1e-9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_occupancy_cap_forces_more_agents_and_shrinkage_rosters_more() {
    let app = app().await;
    let relaxed = "arrivals=100&interval_seconds=1800&aht_seconds=180&target_answer_seconds=20&service_level=0.5";

    let uncapped = staffing(&app, relaxed).await;
    let capped = staffing(&app, &format!("{relaxed}&max_occupancy=0.75")).await;
    let shrunk = staffing(
        &app,
        &format!("{TEXTBOOK}&max_occupancy=0.85&shrinkage=0.3"),
    )
    .await;
    let rounded = staffing(&app, &format!("{TEXTBOOK}&shrinkage=0.35")).await;

    assert_eq!(uncapped.body["Agents"], 12, "{}", uncapped.text);
    close(&uncapped, "Occupancy", 10.0 / 12.0, 1e-9);
    assert_eq!(
        capped.body["Agents"], 14,
        "10 / 0.75 = 13.3: {}",
        capped.text
    );
    assert!(number(&capped, "Occupancy") <= 0.75);
    assert_eq!(shrunk.body["Agents"], 14, "{}", shrunk.text);
    assert_eq!(shrunk.body["RosteredAgents"], 20, "14 / 0.7 = 20");
    assert_eq!(
        rounded.body["RosteredAgents"], 22,
        "14 / 0.65 = 21.5, rounded up"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_arrivals_need_no_agents() {
    let app = app().await;

    let reply = staffing(
        &app,
        "arrivals=0&interval_seconds=1800&aht_seconds=180&target_answer_seconds=20&service_level=0.8&shrinkage=0.3",
    )
    .await;

    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(reply.body["Agents"], 0);
    assert_eq!(reply.body["RosteredAgents"], 0);
    close(&reply, "ServiceLevel", 1.0, 0.0);
    close(&reply, "ProbabilityOfWaiting", 0.0, 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_thousand_erlangs_are_answered_quickly() {
    let app = app().await;
    let started = Instant::now();

    let reply = staffing(
        &app,
        "arrivals=100000&interval_seconds=3600&aht_seconds=180&target_answer_seconds=20&service_level=0.8",
    )
    .await;

    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    close(&reply, "TrafficErlangs", 5000.0, 1e-6);
    assert_eq!(reply.body["Agents"], 5013);
    close(&reply, "ServiceLevel", 0.81387, 5e-5);
    close(&reply, "ProbabilityOfWaiting", 0.78908, 5e-5);
    let occupancy = number(&reply, "Occupancy");
    assert!(occupancy > 0.99 && occupancy < 1.0, "{occupancy}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_queries_are_400_naming_the_parameter() {
    let app = app().await;
    let without = |name: &str| {
        TEXTBOOK
            .split('&')
            .filter(|pair| !pair.starts_with(&format!("{name}=")))
            .collect::<Vec<_>>()
            .join("&")
    };
    let cases: Vec<(String, &str)> = vec![
        (without("arrivals"), "arrivals"),
        (without("service_level"), "service_level"),
        (String::new(), "arrivals"),
        (
            TEXTBOOK.replace("arrivals=100", "arrivals=lots"),
            "arrivals",
        ),
        (
            TEXTBOOK.replace("aht_seconds=180", "aht_seconds="),
            "aht_seconds",
        ),
        (TEXTBOOK.replace("arrivals=100", "arrivals=-5"), "arrivals"),
        (TEXTBOOK.replace("arrivals=100", "arrivals=NaN"), "arrivals"),
        (TEXTBOOK.replace("arrivals=100", "arrivals=inf"), "arrivals"),
        (
            TEXTBOOK.replace("interval_seconds=1800", "interval_seconds=0"),
            "interval_seconds",
        ),
        (
            TEXTBOOK.replace("aht_seconds=180", "aht_seconds=-180"),
            "aht_seconds",
        ),
        (
            TEXTBOOK.replace("target_answer_seconds=20", "target_answer_seconds=-1"),
            "target_answer_seconds",
        ),
        (
            TEXTBOOK.replace("service_level=0.8", "service_level=80"),
            "service_level",
        ),
        (
            TEXTBOOK.replace("service_level=0.8", "service_level=1"),
            "service_level",
        ),
        (format!("{TEXTBOOK}&max_occupancy=0"), "max_occupancy"),
        (format!("{TEXTBOOK}&max_occupancy=1.2"), "max_occupancy"),
        (format!("{TEXTBOOK}&shrinkage=1"), "shrinkage"),
        (format!("{TEXTBOOK}&shrinkage=abc"), "shrinkage"),
        (
            format!("{TEXTBOOK}&shrinkage=0.3&shrinkage=0.4"),
            "shrinkage",
        ),
        (format!("{TEXTBOOK}&max_ocupancy=0.85"), "max_ocupancy"),
        (TEXTBOOK.replace("arrivals=100", "arrivals=1e9"), "arrivals"),
    ];

    for (query, parameter) in cases {
        let reply = staffing(&app, &query).await;
        let message = reply.assert_error(400);
        assert!(
            message.contains(parameter),
            "{parameter:?} not named in {message:?} for ?{query}"
        );
    }
    let limit = staffing(&app, &TEXTBOOK.replace("arrivals=100", "arrivals=1e9")).await;
    assert!(
        limit.assert_error(400).contains("100000"),
        "the limit is stated"
    );
}

#[tokio::test]
async fn the_operation_is_in_the_openapi_document() {
    let (_, doc) = caseload::api::openapi_router();
    let doc = serde_json::to_value(&doc).expect("openapi as json");

    let operation = &doc["paths"]["/staffing/erlang-c"]["get"];

    assert!(
        operation.is_object(),
        "GET /staffing/erlang-c is documented"
    );
    let names: Vec<&str> = operation["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    for name in [
        "arrivals",
        "interval_seconds",
        "aht_seconds",
        "target_answer_seconds",
        "service_level",
        "max_occupancy",
        "shrinkage",
    ] {
        assert!(names.contains(&name), "{name} is documented: {names:?}");
    }
    assert!(operation["responses"]["400"].is_object());
    let schema = &doc["components"]["schemas"]["ErlangCStaffing"]["properties"];
    for property in [
        "Agents",
        "RosteredAgents",
        "ServiceLevel",
        "ProbabilityOfWaiting",
        "AverageSpeedOfAnswerSeconds",
        "Occupancy",
        "TrafficErlangs",
    ] {
        assert!(
            schema[property].is_object(),
            "{property} in the schema: {schema}"
        );
    }
}
