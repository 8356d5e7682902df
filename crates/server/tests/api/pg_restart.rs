//! PostgreSQL restarting under concurrent writers: every answer is a 2xx or a 503 with
//! `Retry-After` (never a 500), every acknowledged create is still there afterwards, and
//! writes succeed again within seconds of the database's return.
//!
//! The test runs its own PostgreSQL cluster (`initdb` and `pg_ctl` from
//! `/usr/lib/postgresql/*/bin`, as user `postgres` when the test runs as root), so that it
//! can restart it without disturbing the server other tests share. Without those programs it
//! is skipped, unless `CASELOAD_REQUIRE_POSTGRES` is set.

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use serde_json::json;
use tokio::sync::watch;

use crate::helpers::{Backend, Reply, TestApp, read};

const WRITERS: usize = 8;
/// How soon after PostgreSQL is back a write must succeed again.
const RECOVERY_LIMIT: Duration = Duration::from_secs(10);
/// How many creates are acknowledged between restarts, so each restart meets writers at work.
const ACKNOWLEDGED_BETWEEN_RESTARTS: usize = 40;

/// A PostgreSQL cluster of the test's own, stopped and removed when dropped.
struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    as_postgres: bool,
}

impl Cluster {
    /// The directory of the newest installed PostgreSQL's programs.
    fn programs() -> Option<PathBuf> {
        let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|entry| Some(entry.ok()?.path().join("bin")))
            .filter(|bin| bin.join("initdb").is_file() && bin.join("pg_ctl").is_file())
            .collect();
        // Versions are directory names ("15", "16"): the longest, then the greatest, is newest.
        found.sort_by_key(|bin| {
            let version = bin.parent().map(|v| v.as_os_str().len()).unwrap_or(0);
            (version, bin.clone())
        });
        found.pop()
    }

    /// Creates and starts a cluster, or says why it cannot.
    fn start() -> Result<Self, String> {
        let bin = Self::programs().ok_or("no PostgreSQL programs in /usr/lib/postgresql/*/bin")?;
        let as_postgres = run_text("id", &["-u"]).is_ok_and(|uid| uid.trim() == "0");
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        if as_postgres {
            // initdb refuses to run as root; the cluster's files belong to `postgres`.
            run_text("chown", &["postgres:", &dir.path().to_string_lossy()])?;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let cluster = Self {
            bin,
            dir,
            port,
            as_postgres,
        };
        cluster.pg(
            "initdb",
            &["-A", "trust", "-U", "postgres", "--no-sync", "-D"],
            true,
        )?;
        cluster.pg_ctl(&["start"])?;
        Ok(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// `pg_ctl <args>` on this cluster, waiting for it to finish.
    fn pg_ctl(&self, args: &[&str]) -> Result<(), String> {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {}",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log");
        let mut all = vec!["-w", "-t", "30", "-o", &options, "-l"];
        let log = log.to_string_lossy();
        all.push(&log);
        all.extend_from_slice(args);
        all.push("-D");
        self.pg("pg_ctl", &all, true)
    }

    /// Runs one of PostgreSQL's programs, as `postgres` when we are root, with the data
    /// directory as the last argument when `with_data`.
    fn pg(&self, program: &str, args: &[&str], with_data: bool) -> Result<(), String> {
        let program = self.bin.join(program);
        let data = self.data();
        let mut all: Vec<&str> = args.to_vec();
        let data = data.to_string_lossy();
        if with_data {
            all.push(&data);
        }
        let program = program.to_string_lossy();
        if self.as_postgres {
            let mut wrapped = vec!["-u", "postgres", "--", &*program];
            wrapped.extend(all);
            run_text("runuser", &wrapped).map(drop)
        } else {
            run_text(&program, &all).map(drop)
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.data().join("postmaster.pid").exists()
            && let Err(e) = self.pg("pg_ctl", &["-w", "-m", "immediate", "stop", "-D"], true)
        {
            eprintln!("could not stop the test's PostgreSQL: {e}");
        }
        // The temporary directory removes itself.
    }
}

/// Runs a program to the end; its standard output, or why it failed.
fn run_text(program: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{program} {args:?}: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// What the writers saw.
#[derive(Default)]
struct Seen {
    /// Acknowledged creates: the plan's id, what was written, when the answer came.
    acknowledged: Vec<(String, String, Instant)>,
    unavailable: usize,
    /// Anything other than a 2xx or a well-formed 503.
    wrong: Vec<String>,
}

/// Creates plans until told to stop, noting every answer.
async fn writer(app: Arc<TestApp>, n: usize, seen: Arc<Mutex<Seen>>, acked: watch::Sender<usize>) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    for i in 0.. {
        if acked.is_closed() {
            return;
        }
        let written = format!("writer {n}, create {i}");
        let body = json!({"CustomerCaseManagementPlanPeriod": "2027-Q1", "CustomerCaseTrainingPlan": written});
        let sent = client
            .post(app.url("/CustomerCaseManagement/Create"))
            .json(&body)
            .send()
            .await;
        let reply = match sent {
            Ok(resp) => read(resp).await,
            Err(e) => {
                seen.lock()
                    .expect("writers do not panic")
                    .wrong
                    .push(format!("no answer: {e}"));
                continue;
            }
        };
        let mut seen = seen.lock().expect("writers do not panic");
        match reply.status.as_u16() {
            200..=299 => {
                let id = reply.body["CustomerCaseManagementId"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned();
                seen.acknowledged.push((id, written, Instant::now()));
                acked.send_modify(|n| *n += 1);
            }
            503 if well_formed_unavailable(&reply) => seen.unavailable += 1,
            _ => seen.wrong.push(format!("{}: {}", reply.status, reply.text)),
        }
    }
}

/// A 503 that tells the client to retry, in the BIAN `HTTPError` shape.
fn well_formed_unavailable(reply: &Reply) -> bool {
    let retry = reply
        .header("retry-after")
        .and_then(|s| s.parse::<u64>().ok());
    let shaped = reply.body.as_object().is_some_and(|body| {
        body.len() == 3
            && body["status_code"] == "503"
            && body["status"].as_str().is_some_and(|s| !s.is_empty())
            && body["message"].as_str().is_some_and(|s| !s.is_empty())
    });
    retry.is_some_and(|s| s >= 1) && shaped
}

/// Restarts the cluster in `mode` while the writers run; how long until a write was
/// acknowledged again after PostgreSQL was back.
async fn restart_under_load(
    cluster: &Arc<Cluster>,
    mode: &'static str,
    seen: &Arc<Mutex<Seen>>,
    acked: &mut watch::Receiver<usize>,
) -> Duration {
    let before = *acked.borrow();
    acked
        .wait_for(|n| *n >= before + ACKNOWLEDGED_BETWEEN_RESTARTS)
        .await
        .expect("writers run");
    let started = Instant::now();
    let restarting = Arc::clone(cluster);
    tokio::task::spawn_blocking(move || restarting.pg_ctl(&["-m", mode, "restart"]))
        .await
        .expect("pg_ctl")
        .unwrap_or_else(|e| panic!("restart -m {mode}: {e}\n{}", cluster.log()));
    let back = Instant::now();
    let at_back = *acked.borrow();
    tokio::time::timeout(RECOVERY_LIMIT, acked.wait_for(|n| *n > at_back))
        .await
        .unwrap_or_else(|_| {
            panic!(
                "no write succeeded within {RECOVERY_LIMIT:?} of PostgreSQL's return (-m {mode})"
            )
        })
        .expect("writers run");
    let first = seen
        .lock()
        .expect("writers do not panic")
        .acknowledged
        .iter()
        .map(|(_, _, at)| *at)
        .filter(|at| *at >= back)
        .min()
        .expect("a write after the restart");
    eprintln!(
        "restart -m {mode}: PostgreSQL back after {:?}, first write acknowledged {:?} later",
        back - started,
        first - back
    );
    first - back
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_under_concurrent_writers_is_answered_with_503_and_loses_no_acknowledged_write()
 {
    // Arrange
    let cluster = match Cluster::start() {
        Ok(cluster) => Arc::new(cluster),
        Err(why) if std::env::var_os("CASELOAD_REQUIRE_POSTGRES").is_some() => {
            panic!(
                "CASELOAD_REQUIRE_POSTGRES is set but a PostgreSQL cluster could not be started: {why}"
            )
        }
        Err(why) => {
            eprintln!("skipped: {why}");
            return;
        }
    };
    let app = Arc::new(
        TestApp::on_database(Backend::Postgres, &cluster.url(), |s| {
            s.db_acquire_timeout_secs = 2;
        })
        .await,
    );
    let seen = Arc::new(Mutex::new(Seen::default()));
    let (acked_tx, mut acked) = watch::channel(0usize);
    let writers: Vec<_> = (0..WRITERS)
        .map(|n| {
            tokio::spawn(writer(
                Arc::clone(&app),
                n,
                Arc::clone(&seen),
                acked_tx.clone(),
            ))
        })
        .collect();
    drop(acked_tx);

    // Act: a fast restart (connections told to terminate, 57P01), then a crash-like one.
    let fast = restart_under_load(&cluster, "fast", &seen, &mut acked).await;
    let immediate = restart_under_load(&cluster, "immediate", &seen, &mut acked).await;
    drop(acked);
    for writer in writers {
        writer.await.expect("writer");
    }

    // Assert
    let seen = Arc::into_inner(seen)
        .expect("writers are done")
        .into_inner()
        .expect("writers do not panic");
    eprintln!(
        "{} creates acknowledged, {} answered 503, {} otherwise",
        seen.acknowledged.len(),
        seen.unavailable,
        seen.wrong.len()
    );
    assert!(
        seen.wrong.is_empty(),
        "answers other than 2xx or 503: {:#?}",
        seen.wrong
    );
    assert!(fast <= RECOVERY_LIMIT && immediate <= RECOVERY_LIMIT);
    let lost: Vec<String> = futures::stream::iter(&seen.acknowledged)
        .map(|(id, written, _)| {
            let app = Arc::clone(&app);
            async move {
                let got = app
                    .get(&format!("/CustomerCaseManagement/{id}/Retrieve"))
                    .await;
                let kept =
                    got.body["CustomerCaseManagementPlan"]["CustomerCaseTrainingPlan"] == *written;
                (!kept).then(|| format!("{id} ({written}): {} {}", got.status, got.text))
            }
        })
        .buffer_unordered(WRITERS)
        .filter_map(|lost| async move { lost })
        .collect()
        .await;
    assert!(lost.is_empty(), "acknowledged creates lost: {lost:#?}");
}
