//! Slow, stalled and idle clients cannot hold the service's connections: headers must
//! arrive within the header timeout, idle keep-alive connections close after the idle
//! timeout, and connections beyond the cap wait without harming anyone already served.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::helpers::{Backend, TestApp};

/// Slack for a loaded two-core machine, added to every upper bound.
const SLACK: Duration = Duration::from_secs(5);

/// Reads until the server closes the connection (end of stream or reset) and returns when
/// that happened, or `None` if it was still open after `limit`.
async fn closed_by_server(stream: &mut TcpStream, limit: Duration) -> Option<Instant> {
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(Instant::now()),
            Ok(Ok(_)) => {}
        }
    }
}

/// Sends one complete request on a keep-alive connection and reads its whole response;
/// returns the status line.
async fn request(stream: &mut TcpStream) -> String {
    stream
        .write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("request sent");
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(SLACK, stream.read(&mut buf))
            .await
            .expect("a response in time")
            .expect("readable");
        assert!(n > 0, "closed before the response was complete");
        response.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&response).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length: usize = text[..end]
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .expect("a content-length");
            if response.len() >= end + 4 + length {
                return text.lines().next().unwrap_or_default().to_owned();
            }
        }
    }
}

/// A normal client's `GET /health/live` on a new connection (a pooled one may meet the
/// server's timeouts); returns the status.
async fn served(app: &TestApp) -> u16 {
    let client = reqwest::Client::new();
    let reply = client
        .get(app.url("/health/live"))
        .send()
        .await
        .expect("request answered");
    reply.status().as_u16()
}

async fn connect(addr: SocketAddr) -> TcpStream {
    TcpStream::connect(addr).await.expect("connects")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_connections_beyond_the_cap_are_closed_in_time_and_others_are_served() {
    // Arrange: a 1 s header timeout and room for 50 connections.
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.header_timeout_secs = 1;
        s.max_connections = 50;
    })
    .await
    .expect("sqlite");
    let header_timeout = Duration::from_secs(1);

    // Act: 60 connections that never finish their headers: most send half a request, some
    // send nothing at all.
    let mut slow = Vec::new();
    for i in 0..60 {
        let mut stream = connect(app.addr).await;
        if i % 4 != 0 {
            stream
                .write_all(b"GET / HTTP/1.1\r\nHost: x")
                .await
                .expect("half a request sent");
        }
        slow.push((Instant::now(), stream));
    }
    // A normal client arrives while the cap is full of stalled connections.
    let asked = Instant::now();
    let status = tokio::time::timeout(2 * header_timeout + SLACK, served(&app))
        .await
        .expect("a normal client is served while slow clients fill the cap");
    let waited = asked.elapsed();

    // Assert: it was served, within the time it takes the stalled connections to time out.
    assert_eq!(status, 200);
    assert!(waited <= 2 * header_timeout + SLACK, "waited {waited:?}");
    // Every stalled connection is closed by the server, not before the header timeout and
    // not long after it (the last ten are accepted only once the first fifty have closed).
    for (i, (opened, stream)) in slow.iter_mut().enumerate() {
        let closed = closed_by_server(stream, 2 * header_timeout + SLACK)
            .await
            .unwrap_or_else(|| panic!("stalled connection {i} still open"));
        let lived = closed - *opened;
        assert!(
            lived >= header_timeout - Duration::from_millis(100),
            "connection {i} closed after {lived:?}, before the header timeout"
        );
        assert!(
            lived <= 2 * header_timeout + SLACK,
            "connection {i} lived {lived:?}"
        );
    }
    // And with the stalled connections gone, clients are served at once.
    let asked = Instant::now();
    assert_eq!(served(&app).await, 200);
    assert!(asked.elapsed() <= SLACK, "waited {:?}", asked.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    // Arrange: a 2 s idle timeout, far below the header timeout, so the idle timeout is
    // what closes the connection.
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.header_timeout_secs = 60;
        s.idle_timeout_secs = 2;
    })
    .await
    .expect("sqlite");
    let idle_timeout = Duration::from_secs(2);
    let mut stream = connect(app.addr).await;

    // Act: requests every half second keep the connection open for longer than the idle
    // timeout; then the client goes quiet.
    let started = Instant::now();
    for _ in 0..6 {
        let status = request(&mut stream).await;
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let kept = started.elapsed();
    let last = Instant::now();
    let status = request(&mut stream).await;
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    let closed = closed_by_server(&mut stream, idle_timeout + SLACK).await;

    // Assert: a connection in use outlives the idle timeout; once idle it is closed after
    // about the idle timeout.
    assert!(kept > idle_timeout, "only {kept:?} in use");
    let closed = closed.expect("the idle connection is closed");
    let idle = closed - last;
    assert!(
        idle >= idle_timeout - Duration::from_millis(100),
        "closed {idle:?} after the last request, before the idle timeout"
    );
    assert!(idle <= idle_timeout + SLACK, "closed after {idle:?}");
}
