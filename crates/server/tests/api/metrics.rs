//! `GET /metrics` on its own listener: requests counted and timed by route template, method
//! and status, never by the path as sent.

use std::net::SocketAddr;

use serde_json::json;

use crate::helpers::{Backend, TestApp};

async fn scrape(app: &TestApp) -> String {
    let addr = app.metrics_addr.expect("a metrics listener");
    let reply = app
        .client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .expect("scrape");
    assert!(reply.status().is_success());
    let content_type = reply.headers()["content-type"].to_str().unwrap_or("");
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    reply.text().await.expect("body")
}

/// The value of the sample with exactly these labels, if it is there.
fn sample(text: &str, metric: &str, labels: &str) -> Option<f64> {
    let prefix = format!("{metric}{{{labels}}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|value| value.parse().ok())
}

fn requests(method: &str, route: &str, status: u16) -> String {
    format!(r#"method="{method}",route="{route}",status="{status}""#)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_counted_by_route_template_and_status() {
    // Arrange
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.metrics_listen = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    })
    .await
    .expect("sqlite");
    let before = scrape(&app).await;
    let plan = "/customer-case-management/{id}";
    assert_eq!(
        sample(
            &before,
            "caseload_http_requests_total",
            &requests("GET", plan, 200)
        ),
        None
    );

    // Act
    let id = app.create_plan(&json!({})).await;
    for _ in 0..2 {
        app.get(&format!("/customer-case-management/{id}")).await;
    }
    let unknown = "0190f2a4-0000-7000-8000-000000000000";
    app.get(&format!("/customer-case-management/{unknown}"))
        .await;
    app.get("/no/such/route/4242").await;
    let after = scrape(&app).await;

    // Assert
    let count = |method, route, status| {
        sample(
            &after,
            "caseload_http_requests_total",
            &requests(method, route, status),
        )
    };
    assert_eq!(
        count("POST", "/CustomerCaseManagement/Create", 200),
        Some(1.0),
        "{after}"
    );
    assert_eq!(count("GET", plan, 200), Some(2.0), "{after}");
    assert_eq!(count("GET", plan, 404), Some(1.0), "{after}");
    assert_eq!(count("GET", "unmatched", 404), Some(1.0), "{after}");
    let timed = sample(
        &after,
        "caseload_http_request_duration_seconds_count",
        &requests("GET", plan, 200),
    );
    assert_eq!(timed, Some(2.0), "{after}");
    assert!(
        !after.contains(&id) && !after.contains(unknown) && !after.contains("4242"),
        "raw paths leaked: {after}"
    );

    // The API's own listener does not serve them.
    app.get("/metrics").await.assert_error(404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_metrics_listener_unless_asked_for() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite");
    assert_eq!(app.metrics_addr, None);
}
