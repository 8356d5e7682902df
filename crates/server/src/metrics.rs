//! Prometheus metrics: how many requests each route answered with each status, and how long
//! they took, served at `GET /metrics` on a listener of their own (`--metrics-listen`).
//!
//! Requests are labelled with the route's template as routed (`/customer-case-management/{id}`),
//! never the path as sent, so that ids cannot multiply the series; a request that matched no
//! route is `unmatched`, and a method the service does not know is `other`.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus::{Encoder as _, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

/// Latency buckets, in seconds: from a cached read (well under a millisecond) to a large
/// batch or a cold Performance computation (seconds).
const BUCKETS: &[f64] = &[
    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The HTTP metrics of one service instance.
#[derive(Clone)]
pub struct HttpMetrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
}

impl HttpMetrics {
    /// A registry with the request counter and latency histogram.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("caseload".into()), None)?;
        let labels = &["method", "route", "status"];
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered"),
            labels,
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time from receiving a request to its response's head",
            )
            .buckets(BUCKETS.to_vec()),
            labels,
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
        })
    }

    /// Counts one answered request and its latency.
    pub fn record(&self, method: &Method, route: &str, status: StatusCode, seconds: f64) {
        let labels = [method_label(method), route, status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.latency.with_label_values(&labels).observe(seconds);
    }

    /// Every metric, in the Prometheus text format.
    pub fn render(&self) -> Result<Vec<u8>, prometheus::Error> {
        let mut out = Vec::new();
        prometheus::TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        Ok(out)
    }

    /// The router of the metrics listener: `GET /metrics`.
    pub fn router(self: Arc<Self>) -> axum::Router {
        axum::Router::new()
            .route("/metrics", get(scrape))
            .with_state(self)
    }
}

/// The standard methods as themselves; any other as `other`, so that made-up methods add no
/// series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The middleware: times each request and records it under its route template.
pub async fn track(State(metrics): State<Arc<HttpMetrics>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let response = next.run(req).await;
    metrics.record(
        &method,
        route.as_ref().map_or("unmatched", MatchedPath::as_str),
        response.status(),
        started.elapsed().as_secs_f64(),
    );
    response
}

async fn scrape(State(metrics): State<Arc<HttpMetrics>>) -> Response {
    match metrics.render() {
        Ok(body) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(prometheus::TEXT_FORMAT),
            )],
            body,
        )
            .into_response(),
        Err(err) => {
            tracing::error!(error = %err, "rendering metrics failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_method_route_and_status() {
        let metrics = HttpMetrics::new().expect("metrics");
        let route = "/customer-case-management/{id}";
        metrics.record(&Method::GET, route, StatusCode::OK, 0.002);
        metrics.record(&Method::GET, route, StatusCode::OK, 0.003);
        metrics.record(&Method::GET, route, StatusCode::NOT_FOUND, 0.001);
        metrics.record(
            &Method::from_bytes(b"BREW").expect("method"),
            "unmatched",
            StatusCode::NOT_FOUND,
            0.0001,
        );
        let text = String::from_utf8(metrics.render().expect("render")).expect("utf-8");
        assert!(text.contains(
            r#"caseload_http_requests_total{method="GET",route="/customer-case-management/{id}",status="200"} 2"#
        ), "{text}");
        assert!(text.contains(
            r#"caseload_http_requests_total{method="GET",route="/customer-case-management/{id}",status="404"} 1"#
        ), "{text}");
        assert!(
            text.contains(
                r#"caseload_http_requests_total{method="other",route="unmatched",status="404"} 1"#
            ),
            "{text}"
        );
        assert!(text.contains(
            r#"caseload_http_request_duration_seconds_bucket{method="GET",route="/customer-case-management/{id}",status="200",le="0.0025"} 1"#
        ), "{text}");
    }
}
