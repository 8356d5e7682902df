//! The connection loop: accepts TCP connections and serves HTTP/1.1 and h2 on them with the
//! limits that keep slow or idle clients from holding the service's file descriptors.
//!
//! - **Header deadline.** An HTTP/1 request's headers must be complete within
//!   [`ConnectionLimits::header_timeout`] of the connection being ready for a request;
//!   otherwise the connection is closed. hyper starts this clock again after every
//!   response, so a keep-alive connection that sends nothing is closed after it too.
//! - **Idle deadline.** A connection with no request in flight is closed (gracefully)
//!   once it has been quiet for [`ConnectionLimits::idle_timeout`]; each request resets
//!   the clock. This is what bounds h2 connections, which have no header deadline.
//! - **Connection cap.** At most [`ConnectionLimits::max_connections`] connections are
//!   open at once. Beyond it the accept loop waits for one to close (new clients queue in
//!   the kernel's backlog); it never refuses with an error and never fails the process.
//!   Accept errors (out of file descriptors, say) are logged and retried after a pause.
//!
//! Shutdown: when `shutdown` completes, the loop stops accepting, asks every connection
//! to finish its in-flight requests and close, and returns once all have closed.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt as _;

/// How long the accept loop pauses after an accept error such as running out of file
/// descriptors, so that it does not spin while connections close.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// The limits applied to every connection of a listener.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Time allowed for an HTTP/1 request's headers to arrive.
    pub header_timeout: Duration,
    /// Time a connection with no request in flight stays open.
    pub idle_timeout: Duration,
    /// Most connections open at once.
    pub max_connections: u32,
}

/// Serves `router` on `listener` until `shutdown` completes, then lets open connections
/// finish their in-flight requests and returns when the last has closed.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    let slots = Arc::new(Semaphore::new(limits.max_connections as usize));
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let mut stopping = stop_rx.clone();
    let mut at_cap_logged = false;
    loop {
        let permit = match slots.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if !at_cap_logged {
                    tracing::warn!(
                        max_connections = limits.max_connections,
                        "connection cap reached; new connections wait until one closes"
                    );
                    at_cap_logged = true;
                }
                tokio::select! {
                    permit = slots.clone().acquire_owned() => match permit {
                        Ok(permit) => permit,
                        Err(_) => break,
                    },
                    () = stopped(&mut stopping) => break,
                }
            }
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    drop(permit);
                    accept_failed(&err).await;
                    continue;
                }
            },
            () = stopped(&mut stopping) => break,
        };
        if slots.available_permits() > 0 {
            at_cap_logged = false;
        }
        let _ = stream.set_nodelay(true);
        let (builder, router, stop) = (builder.clone(), router.clone(), stop_rx.clone());
        tokio::spawn(async move {
            serve_connection(&builder, stream, peer, router, limits.idle_timeout, stop).await;
            drop(permit);
        });
    }
    drop(listener);
    // Every open connection holds a slot; when all slots are back, all have closed.
    let _ = slots.acquire_many(limits.max_connections).await;
}

/// Logs an accept error and, unless it concerned only the one connection, pauses.
async fn accept_failed(err: &std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        err.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        tracing::debug!(error = %err, "a connection failed before it was accepted");
        return;
    }
    tracing::warn!(error = %err, "accepting a connection failed; retrying shortly");
    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
}

/// Serves one connection until it closes, closing it gracefully when it has been idle too
/// long or the service is stopping.
async fn serve_connection(
    builder: &auto::Builder<TokioExecutor>,
    stream: TcpStream,
    peer: SocketAddr,
    router: axum::Router,
    idle_timeout: Duration,
    mut stop: watch::Receiver<bool>,
) {
    // The number of requests in flight; every change restarts the idle clock.
    let (busy_tx, busy_rx) = watch::channel(0usize);
    let busy_tx = Arc::new(busy_tx);
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let in_flight = InFlight::enter(busy_tx.clone());
        let router = router.clone();
        async move {
            let response = router.oneshot(request.map(Body::new)).await;
            drop(in_flight);
            response
        }
    });
    let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let idle = idle_for(busy_rx, idle_timeout);
    tokio::pin!(idle);
    let mut closing = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(err) = result {
                    tracing::debug!(%peer, error = %err, "connection ended with an error");
                }
                return;
            }
            () = &mut idle, if !closing => {
                tracing::debug!(%peer, "closing an idle connection");
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
            () = stopped(&mut stop), if !closing => {
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
        }
    }
}

/// Completes once the service is stopping.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    // An error means the sender is gone, which only happens once stopping has begun.
    let _ = stop.wait_for(|stop| *stop).await;
}

/// Completes once no request has been in flight for `timeout`.
async fn idle_for(mut busy: watch::Receiver<usize>, timeout: Duration) {
    loop {
        let idle = *busy.borrow_and_update() == 0;
        let changed = if idle {
            match tokio::time::timeout(timeout, busy.changed()).await {
                Err(_elapsed) => return,
                Ok(changed) => changed,
            }
        } else {
            busy.changed().await
        };
        if changed.is_err() {
            // The connection's service is gone, so the connection is ending by itself.
            std::future::pending::<()>().await;
        }
    }
}

/// Counts a request as in flight from its start until its response is ready (or the
/// request is dropped).
struct InFlight(Arc<watch::Sender<usize>>);

impl InFlight {
    fn enter(busy: Arc<watch::Sender<usize>>) -> Self {
        busy.send_modify(|n| *n += 1);
        Self(busy)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n -= 1);
    }
}
