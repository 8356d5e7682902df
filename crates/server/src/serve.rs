//! The accept loop: HTTP/1.1 and HTTP/2 connections served by hyper, with the limits that
//! keep slow, stalled and idle clients from holding the service's file descriptors.
//!
//! - **Header timeout.** A connection must deliver a complete request line and headers
//!   within [`Limits::header_timeout`] of being accepted (whatever the protocol, including
//!   a client that sends nothing); on HTTP/1.1 hyper also bounds every later request's
//!   headers, counted from the previous response. Then the connection is closed.
//! - **Idle timeout.** A connection with no request in flight for [`Limits::idle_timeout`]
//!   is shut down gracefully (HTTP/2 gets a GOAWAY).
//! - **Connection cap.** At most [`Limits::max_connections`] connections are open; beyond
//!   that the loop stops accepting until one closes, so further clients wait in the listen
//!   backlog. Accept errors (such as running out of file descriptors) are logged and retried
//!   after a short pause; they never stop the service.
//!
//! On shutdown the loop stops accepting, asks every connection to finish its in-flight
//! requests and close, and returns when all have closed.

use std::convert::Infallible;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::response::Response;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;
use tower::Service as _;

/// How long the loop pauses after an accept error that is not about one connection.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The connection limits (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Time allowed for a request's line and headers to arrive.
    pub header_timeout: Duration,
    /// Time a connection may stay open with no request in flight.
    pub idle_timeout: Duration,
    /// Most connections open at once.
    pub max_connections: u32,
}

/// Serves `router` on `listener` until `shutdown` completes, then stops accepting and
/// returns once every connection has finished its in-flight requests and closed.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections as usize));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    let mut shutdown = pin!(shutdown);
    let mut at_cap = false;
    loop {
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => {
                at_cap = false;
                slot
            }
            Err(_) => {
                if !at_cap {
                    at_cap = true;
                    tracing::warn!(
                        max_connections = limits.max_connections,
                        "at the connection cap: new connections wait until one closes"
                    );
                }
                tokio::select! {
                    slot = slots.clone().acquire_owned() => match slot {
                        Ok(slot) => slot,
                        Err(_) => break,
                    },
                    () = &mut shutdown => break,
                }
            }
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    if !is_connection_error(&err) {
                        tracing::error!(error = %err, "accepting a connection failed; retrying");
                        tokio::select! {
                            () = tokio::time::sleep(ACCEPT_BACKOFF) => {},
                            () = &mut shutdown => break,
                        }
                    }
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        tokio::spawn(serve_connection(
            stream,
            router.clone(),
            builder.clone(),
            limits,
            stop_rx.clone(),
            slot,
        ));
        tracing::trace!(%peer, "accepted");
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Every open connection holds a slot: all slots back means all connections closed.
    let _ = slots.acquire_many(limits.max_connections).await;
}

/// Errors about one connection (the peer gave up before it was accepted), not the listener.
fn is_connection_error(err: &std::io::Error) -> bool {
    matches!(
        err.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}

/// Serves one connection until it closes, is found idle or stalled, or the service stops.
async fn serve_connection(
    stream: TcpStream,
    router: Router,
    builder: Arc<Builder<TokioExecutor>>,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) {
    let activity = Arc::new(Activity::new());
    let service = Tracked {
        router,
        activity: activity.clone(),
    };
    let mut conn = pin!(builder.serve_connection_with_upgrades(TokioIo::new(stream), service));
    let accepted = Instant::now();
    // Set once the connection has been asked to close because it stalled or idled; if it
    // is still open a header timeout later, it is dropped.
    let mut drop_at: Option<Instant> = None;
    let mut stopping = false;
    loop {
        let deadline = match drop_at {
            Some(at) => Some(at),
            None => activity.deadline(accepted, limits),
        };
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(err) = result {
                    tracing::debug!(error = %err, "connection closed with an error");
                }
                break;
            }
            // The service is stopping: finish what is in flight, then close. A connection
            // that stalls even so is still dropped by its deadlines below.
            _ = stop.wait_for(|stop| *stop), if !stopping => {
                stopping = true;
                if drop_at.is_none() {
                    conn.as_mut().graceful_shutdown();
                }
            }
            // A request finished: the idle deadline moved.
            () = activity.done.notified() => {}
            () = sleep_until(deadline), if deadline.is_some() => {
                if drop_at.is_some() {
                    tracing::debug!("connection did not close when asked; dropping it");
                    break;
                }
                // Requests may have come and gone while asleep: close only if still due.
                if activity
                    .deadline(accepted, limits)
                    .is_some_and(|due| due <= Instant::now())
                {
                    if activity.never_asked() {
                        // No request ever started (nothing sent, half a request line, or an
                        // HTTP/2 handshake left hanging): nothing to finish, so close now.
                        tracing::debug!("closing a connection that sent no request in time");
                        break;
                    }
                    tracing::debug!("closing a stalled or idle connection");
                    conn.as_mut().graceful_shutdown();
                    drop_at = Some(Instant::now() + limits.header_timeout);
                }
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// What one connection is doing: requests in flight and when the last one finished.
struct Activity {
    in_flight: AtomicUsize,
    last_done: Mutex<Option<Instant>>,
    done: Notify,
}

impl Activity {
    fn new() -> Self {
        Self {
            in_flight: AtomicUsize::new(0),
            last_done: Mutex::new(None),
            done: Notify::new(),
        }
    }

    /// Whether no request has started on the connection yet.
    fn never_asked(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0
            && self
                .last_done
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .is_none()
    }

    /// When the connection is due to close if nothing happens: none while a request is in
    /// flight; a header timeout after being accepted until a first request has been
    /// answered; then an idle timeout after the last answer.
    fn deadline(&self, accepted: Instant, limits: Limits) -> Option<Instant> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        let last_done = *self
            .last_done
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Some(match last_done {
            None => accepted + limits.header_timeout,
            Some(done) => done + limits.idle_timeout,
        })
    }
}

/// Marks a request in flight until it is answered (or abandoned).
struct InFlight(Arc<Activity>);

impl InFlight {
    fn start(activity: Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        Self(activity)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        *self
            .0
            .last_done
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Instant::now());
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.0.done.notify_one();
    }
}

/// The router as a hyper service that records the connection's activity.
#[derive(Clone)]
struct Tracked {
    router: Router,
    activity: Arc<Activity>,
}

impl hyper::service::Service<hyper::Request<Incoming>> for Tracked {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, request: hyper::Request<Incoming>) -> Self::Future {
        let in_flight = InFlight::start(self.activity.clone());
        let answer = self.router.clone().call(request);
        Box::pin(async move {
            let response = answer.await;
            drop(in_flight);
            response
        })
    }
}
