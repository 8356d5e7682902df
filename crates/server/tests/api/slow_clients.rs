//! Slow and idle clients: connections whose headers never finish are closed after the
//! header timeout, idle keep-alive connections after the idle timeout, and with more
//! half-open connections than the cap a normal client is still served.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::helpers::{Backend, TestApp};

/// Slack on top of a timeout before a test calls a close late: generous, because the
/// suite runs on loaded two-core machines.
const SLACK: Duration = Duration::from_secs(5);

/// Opens a connection and sends half a request: a request line and a header, without the
/// blank line that ends the headers.
async fn half_open(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(b"GET /health/live HTTP/1.1\r\nHost: x")
        .await
        .expect("send half a request");
    stream
}

/// Reads until the server closes the connection (end of stream or reset) or `limit`
/// passes; returns when that was, or `None` if the connection was still open.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Instant> {
    let mut buf = [0u8; 4096];
    tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return Instant::now(),
                Ok(_) => {}
            }
        }
    })
    .await
    .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_requests_beyond_the_cap_are_closed_and_a_normal_client_is_served() {
    // Arrange: a cap of 50 and a one-second header timeout, then 60 half-sent requests
    // (the last 10 wait in the listen backlog for a slot).
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.header_timeout_secs = 1;
        s.max_connections = 50;
    })
    .await
    .expect("sqlite");
    let header_timeout = Duration::from_secs(1);
    let started = Instant::now();
    let mut slow = Vec::new();
    for _ in 0..60 {
        slow.push(half_open(app.addr).await);
    }

    // Act: a normal client asks while the cap is full.
    let reply = tokio::time::timeout(2 * header_timeout + SLACK, app.get("/health/live"))
        .await
        .expect("a normal client is served once the slow ones are closed");

    // Assert
    assert_eq!(reply.status, 200, "{}", reply.text);
    for (i, stream) in slow.iter_mut().enumerate() {
        let limit =
            (started + 2 * header_timeout + SLACK).saturating_duration_since(Instant::now());
        assert!(
            closed_within(stream, limit).await.is_some(),
            "half-open connection {i} still open {:?} after it was opened",
            started.elapsed()
        );
    }
    // And the service goes on serving.
    assert_eq!(app.get("/health/live").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_request_is_closed_after_the_header_timeout_not_before() {
    // Arrange
    let app = TestApp::spawn_with(Backend::Sqlite, |s| s.header_timeout_secs = 2)
        .await
        .expect("sqlite");
    let opened = Instant::now();

    // Act
    let mut stream = half_open(app.addr).await;
    let closed = closed_within(&mut stream, Duration::from_secs(2) + SLACK).await;

    // Assert
    let closed = closed.expect("closed by the server");
    let after = closed - opened;
    assert!(
        after >= Duration::from_millis(1500),
        "closed after {after:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    // Arrange: the header timeout far longer than the idle timeout, so that only the idle
    // timer can close the connection within the test's bound.
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.header_timeout_secs = 120;
        s.idle_timeout_secs = 1;
    })
    .await
    .expect("sqlite");
    let mut stream = TcpStream::connect(app.addr).await.expect("connect");
    stream
        .write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("send a request");
    let mut buf = [0u8; 4096];
    let n = stream.read(&mut buf).await.expect("a response");
    let answered = Instant::now();
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&buf[..n])
    );

    // Act: send nothing more.
    let closed = closed_within(&mut stream, Duration::from_secs(1) + SLACK).await;

    // Assert
    let closed = closed.expect("the idle connection is closed by the server");
    let after = closed - answered;
    assert!(
        after >= Duration::from_millis(500),
        "closed after {after:?}"
    );
}
