//! The single SQLite writer, with group commit.
//!
//! SQLite allows one writer at a time and, with `synchronous=FULL`, each commit costs an
//! fsync. Rather than one transaction (and one fsync) per request, every write is sent to
//! one thread that owns the only writing connection. It takes whatever writes are waiting
//! (up to [`MAX_BATCH`]), applies them in one transaction, commits once, and only then
//! answers each caller. A caller is therefore acknowledged only after the commit holding its
//! write is durable, and concurrent writers share the fsync.
//!
//! A write that fails for a reason of its own (unknown plan, stale version) is decided by
//! reading inside the transaction before writing, so it writes nothing and does not disturb
//! its batch. If a statement fails outright, the batch is rolled back and its writes are
//! retried one transaction each, so one bad write cannot fail its neighbours.

use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::StoreError;

/// Most writes committed in one transaction.
pub(crate) const MAX_BATCH: usize = 512;
/// Writes waiting beyond this make callers get "unavailable" instead of queueing forever.
const QUEUE: usize = MAX_BATCH * 16;

type Output = Box<dyn Any + Send>;
type Work = Box<dyn Fn(&Connection) -> rusqlite::Result<Output> + Send>;
type Answer = Box<dyn FnOnce(Result<Output, StoreError>) + Send>;

/// One write: the work to run inside the batch's transaction (it may run twice if its
/// batch fails and is retried write by write), and how to answer the caller.
pub(crate) struct WriteOp {
    work: Work,
    reply: Answer,
}

impl WriteOp {
    /// A write whose work gives the caller's result, or a refusal of its own (unknown id,
    /// stale version) that wrote nothing. A `rusqlite` error fails the batch.
    pub(crate) fn new<T: Send + 'static>(
        work: impl Fn(&Connection) -> rusqlite::Result<Result<T, StoreError>> + Send + 'static,
        reply: oneshot::Sender<Result<T, StoreError>>,
    ) -> Self {
        Self {
            work: Box::new(move |conn| work(conn).map(|result| Box::new(result) as Output)),
            reply: Box::new(move |outcome| {
                let result = outcome.and_then(|output| {
                    output
                        .downcast::<Result<T, StoreError>>()
                        .map(|boxed| *boxed)
                        .unwrap_or_else(|_| {
                            Err(StoreError::Internal(
                                "writer answered with the wrong type".into(),
                            ))
                        })
                });
                // A caller that went away no longer needs the answer; its write stands, as
                // it would have had the answer arrived a moment earlier.
                let _ = reply.send(result);
            }),
        }
    }
}

/// What the writer thread is asked to do.
pub(crate) enum Message {
    /// Apply a write.
    Write(WriteOp),
    /// Answer once the writes queued before it are committed (readiness).
    Ping(oneshot::Sender<()>),
    /// Finish what is queued, close the connection, then stop.
    Shutdown(oneshot::Sender<()>),
}

/// The handle through which the store sends writes.
pub(crate) struct Writer {
    tx: mpsc::SyncSender<Message>,
    commits: Arc<AtomicU64>,
}

impl Writer {
    /// Starts the writer thread on `conn`.
    pub(crate) fn start(conn: Connection) -> Result<Self, StoreError> {
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        let commits = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&commits);
        std::thread::Builder::new()
            .name("caseload-sqlite-writer".into())
            .spawn(move || run(conn, rx, &counted))
            .map_err(|e| StoreError::Internal(format!("cannot start the writer thread: {e}")))?;
        Ok(Self { tx, commits })
    }

    /// How many transactions the writer has committed so far. It grows after a commit and
    /// before the writes in it are answered, so a value read before a read of the database
    /// counts at most the commits that read sees, and every write a caller has been told of.
    pub(crate) fn commits(&self) -> u64 {
        self.commits.load(Ordering::Acquire)
    }

    /// Queues a message; refuses at once when the queue is full (overload) or the writer
    /// is gone.
    pub(crate) fn send(&self, message: Message) -> Result<(), StoreError> {
        self.tx.try_send(message).map_err(|e| match e {
            mpsc::TrySendError::Full(_) => {
                StoreError::Unavailable("too many writes waiting".into())
            }
            mpsc::TrySendError::Disconnected(_) => {
                StoreError::Unavailable("the writer has stopped".into())
            }
        })
    }

    /// Whether the writer answers: it has committed everything queued before the probe.
    pub(crate) async fn check(&self) -> Result<(), StoreError> {
        let (done, answered) = oneshot::channel();
        self.send(Message::Ping(done))?;
        answered
            .await
            .map_err(|_| StoreError::Unavailable("the writer has stopped".into()))
    }
}

fn run(mut conn: Connection, rx: mpsc::Receiver<Message>, commits: &AtomicU64) {
    while let Ok(first) = rx.recv() {
        let mut batch = Vec::with_capacity(16);
        let mut pings = Vec::new();
        let mut stop = None;
        for message in std::iter::once(first).chain(std::iter::from_fn(|| rx.try_recv().ok())) {
            match message {
                Message::Write(op) => batch.push(op),
                Message::Ping(done) => pings.push(done),
                Message::Shutdown(done) => {
                    stop = Some(done);
                    break;
                }
            }
            if batch.len() >= MAX_BATCH {
                break;
            }
        }
        if !batch.is_empty() {
            commit(&mut conn, batch, commits);
        }
        for done in pings {
            let _ = done.send(());
        }
        if let Some(done) = stop {
            // Writes queued behind the shutdown request are still answered.
            let mut rest = Vec::new();
            for message in std::iter::from_fn(|| rx.try_recv().ok()) {
                match message {
                    Message::Write(op) => rest.push(op),
                    Message::Ping(other) | Message::Shutdown(other) => {
                        let _ = other.send(());
                    }
                }
            }
            if !rest.is_empty() {
                commit(&mut conn, rest, commits);
            }
            // Closing checkpoints the WAL into the database file.
            if let Err((_, err)) = conn.close() {
                tracing::warn!(error = %err, "closing the writer connection failed");
            }
            let _ = done.send(());
            return;
        }
    }
}

fn commit(conn: &mut Connection, batch: Vec<WriteOp>, commits: &AtomicU64) {
    tracing::trace!(size = batch.len(), "committing write batch");
    match transaction(conn, &batch, commits) {
        Ok(outputs) => {
            for (op, output) in batch.into_iter().zip(outputs) {
                (op.reply)(Ok(output));
            }
        }
        Err(err) if batch.len() > 1 => {
            tracing::warn!(error = %err, size = batch.len(), "group commit failed; retrying its writes one by one");
            for op in batch {
                let outcome = transaction(conn, std::slice::from_ref(&op), commits)
                    .map_err(StoreError::from)
                    .and_then(|mut v| {
                        v.pop()
                            .ok_or_else(|| StoreError::Internal("empty batch".into()))
                    });
                (op.reply)(outcome);
            }
        }
        Err(err) => {
            tracing::error!(error = %err, "write failed");
            let unavailable = matches!(StoreError::from(err), StoreError::Unavailable(_));
            for op in batch {
                (op.reply)(Err(if unavailable {
                    StoreError::Unavailable("the database is busy".into())
                } else {
                    StoreError::Internal("the write failed".into())
                }));
            }
        }
    }
}

fn transaction(
    conn: &mut Connection,
    ops: &[WriteOp],
    commits: &AtomicU64,
) -> rusqlite::Result<Vec<Output>> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut outputs = Vec::with_capacity(ops.len());
    for op in ops {
        // An error drops `tx`, which rolls back.
        outputs.push((op.work)(&tx)?);
    }
    tx.commit()?;
    commits.fetch_add(1, Ordering::Release);
    Ok(outputs)
}
