//! The load client of `bench/ingest.sh`: measures how fast `caseload` ingests case events.
//!
//! 1. Creates a plan (and a second one for a warm-up batch) with
//!    `POST /CustomerCaseManagement/Create`.
//! 2. Builds all batches before the clock starts: `--batches` bodies of `--batch-size` events
//!    each, as NDJSON (or a JSON array with `--format array`). The events come from a small
//!    simulation of a case desk: a pool of open cases, each going through its life
//!    (opened, assigned, first_response, sometimes escalated, resolved, sometimes reopened or
//!    appealed, closed), the pool's events interleaved at random, so a batch touches thousands
//!    of cases. Each event type carries the optional properties a real feed would give it,
//!    and one event in ten carries all of them. `EventId`s are unique: random UUIDs (`v4`,
//!    the default), time-ordered UUIDs (`v7`) or a counter (`seq`).
//! 3. Sends the batches to `POST /customer-case-management/{id}/case-events` with `--senders`
//!    concurrent senders, each taking the next unsent batch, and times the whole phase from
//!    the first send to the last answer, plus each batch from send to answer. Every answer
//!    must be 200 with all events accepted.
//! 4. Sends the same batches again: now every event must be counted as a duplicate.
//!
//! It prints a summary and, for the script, `RESULT key=value` lines. With `--server-pid`
//! it also reads the server's CPU time, bytes written and memory from `/proc` around each
//! phase. `--dump FILE` only writes the first batch to FILE (to send with curl, or to time
//! the parser alone).
//!
//! Usage: `cargo run --release --example ingest_load -- --url http://127.0.0.1:8080`
//! (`--help` lists the options).

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use bytes::Bytes;
use clap::{Parser, ValueEnum};
use serde::Serialize;

/// How `EventId`s are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum IdKind {
    /// Random UUIDs: inserts land all over the primary-key index.
    V4,
    /// Time-ordered UUIDs: inserts land near the end of the index.
    V7,
    /// `evt-000000001`, ...: strictly increasing.
    Seq,
}

/// How a batch is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// One event a line, `application/x-ndjson`.
    Ndjson,
    /// A JSON array, `application/json`.
    Array,
}

/// Options.
#[derive(Debug, Parser)]
#[command(about = "Case event ingest load client for bench/ingest.sh")]
struct Args {
    /// Base URL of the running caseload service.
    #[arg(long, default_value = "http://127.0.0.1:18183")]
    url: String,
    /// Batches to send in each phase.
    #[arg(long, default_value_t = 50)]
    batches: usize,
    /// Events per batch (the service takes at most 10,000).
    #[arg(long, default_value_t = 10_000)]
    batch_size: usize,
    /// Concurrent senders.
    #[arg(long, default_value_t = 2)]
    senders: usize,
    /// Cases open at once in the simulated desk: how widely a batch's events are spread.
    #[arg(long, default_value_t = 5_000)]
    open_cases: usize,
    /// How `EventId`s are made.
    #[arg(long, value_enum, default_value_t = IdKind::V4)]
    ids: IdKind,
    /// Batch layout.
    #[arg(long, value_enum, default_value_t = Format::Ndjson)]
    format: Format,
    /// Warm-up batches sent to a separate plan before the measured phases.
    #[arg(long, default_value_t = 1)]
    warmup: usize,
    /// Seed of the event generator.
    #[arg(long, default_value_t = 20_261_102)]
    seed: u64,
    /// The server's process id, to read its CPU time and memory from /proc.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Clock ticks per second of /proc/PID/stat (`getconf CLK_TCK`).
    #[arg(long, default_value_t = 100)]
    clk_tck: u64,
    /// Write the first batch to this file and stop, sending nothing (for curl or profiling
    /// the parser alone).
    #[arg(long)]
    dump: Option<std::path::PathBuf>,
}

// --- event generation --------------------------------------------------------------------

/// splitmix64: small, fast, and good enough to make test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0; N];
        for chunk in out.chunks_mut(8) {
            let word = self.next().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        out
    }
}

const CATEGORIES: [&str; 8] = [
    "billing",
    "card",
    "fraud",
    "loan",
    "account",
    "mortgage",
    "payments",
    "complaint",
];
const CHANNELS: [&str; 6] = ["email", "phone", "chat", "branch", "web", "letter"];
const TEAMS: [&str; 6] = [
    "disputes",
    "tier-1",
    "tier-2",
    "fraud-ops",
    "collections",
    "complaints",
];
const OUTCOMES: [&str; 6] = [
    "refunded",
    "explained",
    "fee waived",
    "no action",
    "compensated",
    "rejected",
];
const CURRENCIES: [&str; 3] = ["EUR", "GBP", "USD"];
/// Weighted: mostly normal.
const PRIORITIES: [&str; 10] = [
    "low", "low", "normal", "normal", "normal", "normal", "normal", "high", "high", "urgent",
];

#[derive(Serialize)]
struct Money {
    #[serde(rename = "Value")]
    value: String,
    #[serde(rename = "Currency")]
    currency: &'static str,
}

/// One event as sent; absent optional properties are left out.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Event {
    event_id: String,
    case_id: String,
    event_type: &'static str,
    occurred_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    category: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    priority: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    channel: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    team: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    effort_minutes: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<&'static str>,
}

/// A case on the simulated desk: its attributes and the steps it has still to go through.
struct Case {
    id: String,
    category: &'static str,
    priority: &'static str,
    channel: &'static str,
    team: &'static str,
    agent: String,
    steps: Vec<&'static str>,
}

impl Case {
    fn new(number: u64, rng: &mut Rng) -> Self {
        // Built in order, then reversed so that `pop` gives the next step.
        let mut steps = vec!["opened", "assigned", "first_response"];
        if rng.chance(20) {
            steps.push("escalated");
        }
        steps.push("resolved");
        if rng.chance(10) {
            steps.extend(["reopened", "resolved"]);
        }
        if rng.chance(5) {
            steps.extend(["appealed", "resolved"]);
        }
        steps.push("closed");
        steps.reverse();
        Self {
            id: format!("C-{number:07}"),
            category: rng.pick(&CATEGORIES),
            priority: rng.pick(&PRIORITIES),
            channel: rng.pick(&CHANNELS),
            team: rng.pick(&TEAMS),
            agent: format!("a{:04}", rng.below(400)),
            steps,
        }
    }
}

/// Makes the stream of events of the simulated desk.
struct Desk {
    rng: Rng,
    open: Vec<Case>,
    next_case: u64,
    next_event: u64,
    /// Milliseconds since the epoch of the latest event.
    clock_ms: u64,
    ids: IdKind,
}

impl Desk {
    fn new(seed: u64, open_cases: usize, ids: IdKind) -> Self {
        let mut rng = Rng(seed);
        // A desk already at work: each case has gone through some of its steps, so the
        // first batch is no more full of `opened` events than the rest.
        let open = (0..open_cases as u64)
            .map(|n| {
                let mut case = Case::new(n + 1, &mut rng);
                let done = rng.below(case.steps.len() as u64) as usize;
                case.steps.truncate(case.steps.len() - done);
                case
            })
            .collect();
        Self {
            rng,
            open,
            next_case: open_cases as u64 + 1,
            next_event: 1,
            // 2026-11-02T09:00:00Z
            clock_ms: 1_793_610_000_000,
            ids,
        }
    }

    fn event_id(&mut self) -> String {
        let n = self.next_event;
        self.next_event += 1;
        match self.ids {
            IdKind::V4 => uuid::Builder::from_random_bytes(self.rng.bytes())
                .into_uuid()
                .to_string(),
            IdKind::V7 => {
                uuid::Builder::from_unix_timestamp_millis(self.clock_ms, &self.rng.bytes())
                    .into_uuid()
                    .to_string()
            }
            IdKind::Seq => format!("evt-{n:09}"),
        }
    }

    fn next_event(&mut self) -> Event {
        // About 100 events a minute across the desk.
        self.clock_ms += self.rng.below(1_200);
        let slot = self.rng.below(self.open.len() as u64) as usize;
        let step = self.open[slot].steps.pop().unwrap_or("closed");
        let event_id = self.event_id();
        let rng = &mut self.rng;
        let case = &self.open[slot];
        let all = rng.chance(10);
        let has = |wanted: bool| wanted || all;
        let effort = (rng.below(1_200) as f64) / 10.0 + 0.5;
        let amount = Money {
            value: format!("{}.{:02}", rng.below(2_000), rng.below(100)),
            currency: rng.pick(&CURRENCIES),
        };
        let outcome = rng.pick(&OUTCOMES);
        let occurred_at = rfc3339(self.clock_ms, rng.chance(10));
        let event = Event {
            event_id,
            case_id: case.id.clone(),
            event_type: step,
            occurred_at,
            category: has(step == "opened").then_some(case.category),
            priority: has(matches!(step, "opened" | "escalated")).then_some(case.priority),
            channel: has(matches!(step, "opened" | "appealed")).then_some(case.channel),
            team: has(matches!(step, "assigned" | "escalated")).then_some(case.team),
            agent: has(matches!(step, "assigned" | "first_response" | "resolved"))
                .then(|| case.agent.clone()),
            effort_minutes: has(matches!(step, "first_response" | "resolved" | "escalated"))
                .then_some(effort),
            amount: has(step == "resolved" && rng.chance(30)).then_some(amount),
            outcome: has(matches!(step, "resolved" | "closed")).then_some(outcome),
        };
        if self.open[slot].steps.is_empty() {
            let number = self.next_case;
            self.next_case += 1;
            self.open[slot] = Case::new(number, &mut self.rng);
        }
        event
    }

    fn batch(&mut self, size: usize, format: Format) -> anyhow::Result<Bytes> {
        let mut body = Vec::with_capacity(size * 320);
        if format == Format::Array {
            body.push(b'[');
        }
        for i in 0..size {
            if i > 0 && format == Format::Array {
                body.push(b',');
            }
            serde_json::to_writer(&mut body, &self.next_event())?;
            if format == Format::Ndjson {
                body.push(b'\n');
            }
        }
        if format == Format::Array {
            body.push(b']');
        }
        Ok(Bytes::from(body))
    }
}

/// RFC 3339 text of a moment, in UTC (`...Z`) or, when `offset`, at +01:00.
fn rfc3339(ms: u64, offset: bool) -> String {
    let shift = if offset { 3_600_000 } else { 0 };
    let local = ms + shift;
    let (secs, millis) = (local / 1_000, local % 1_000);
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    let mut out = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rest / 3_600,
        rest / 60 % 60,
        rest % 60
    );
    if millis != 0 {
        let _ = write!(out, ".{millis:03}");
    }
    out.push_str(if offset { "+01:00" } else { "Z" });
    out
}

/// Howard Hinnant's `civil_from_days`: the proleptic Gregorian date of a day number.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

// --- sending -----------------------------------------------------------------------------

/// What one batch got back.
struct Sent {
    latency: Duration,
    received: u64,
    accepted: u64,
    duplicates: u64,
}

async fn create_plan(client: &reqwest::Client, url: &str) -> anyhow::Result<String> {
    let response = client
        .post(format!("{url}/CustomerCaseManagement/Create"))
        .json(&serde_json::json!({}))
        .send()
        .await
        .context("creating a plan")?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.context("reading the created plan")?;
    ensure!(status.is_success(), "creating a plan: {status}: {body}");
    body["CustomerCaseManagementId"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no CustomerCaseManagementId in {body}"))
}

async fn send_one(
    client: &reqwest::Client,
    endpoint: &str,
    content_type: &'static str,
    body: Bytes,
) -> anyhow::Result<Sent> {
    let started = Instant::now();
    let response = client
        .post(endpoint)
        .header(reqwest::header::CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await?;
    let status = response.status();
    let text = response.bytes().await?;
    let latency = started.elapsed();
    if !status.is_success() {
        bail!(
            "{status}: {}",
            String::from_utf8_lossy(&text[..text.len().min(500)])
        );
    }
    let report: serde_json::Value = serde_json::from_slice(&text)?;
    let count = |key: &str| {
        report[key]
            .as_u64()
            .with_context(|| format!("no {key} in {report}"))
    };
    Ok(Sent {
        latency,
        received: count("Received")?,
        accepted: count("Accepted")?,
        duplicates: count("Duplicates")?,
    })
}

/// Sends every batch with `senders` concurrent senders; returns the wall time from the
/// first send to the last answer and what each batch got back.
async fn phase(
    client: &reqwest::Client,
    endpoint: &str,
    content_type: &'static str,
    batches: &Arc<Vec<Bytes>>,
    senders: usize,
) -> anyhow::Result<(Duration, Vec<Sent>)> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(senders);
    for _ in 0..senders {
        let (client, endpoint) = (client.clone(), endpoint.to_owned());
        let (batches, next) = (Arc::clone(batches), Arc::clone(&next));
        tasks.push(tokio::spawn(async move {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = batches.get(i) else {
                    return anyhow::Ok(done);
                };
                let sent = send_one(&client, &endpoint, content_type, body.clone())
                    .await
                    .with_context(|| format!("batch {i}"))?;
                done.push(sent);
            }
        }));
    }
    let mut all = Vec::with_capacity(batches.len());
    for task in tasks {
        all.extend(task.await??);
    }
    Ok((started.elapsed(), all))
}

// --- measuring ---------------------------------------------------------------------------

/// CPU seconds (user + system) a process has used so far, all threads.
fn cpu_seconds(pid: &str, clk_tck: u64) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; the fields after it are plain.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / clk_tck as f64)
}

/// Bytes a process has asked to write (`wchar`, any file or socket) and has had written to
/// storage (`write_bytes`), from /proc/PID/io.
fn io_bytes(pid: &str) -> Option<(u64, u64)> {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    let field = |key: &str| {
        io.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    Some((field("wchar:")?, field("write_bytes:")?))
}

/// A `VmXxx:` line of /proc/PID/status, in KiB.
fn vm_kib(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

/// Prints and returns the summary of a phase, with `RESULT` lines prefixed by `key`.
fn report(
    key: &str,
    wall: Duration,
    sent: &[Sent],
    bytes: usize,
    server_cpu: Option<f64>,
    client_cpu: Option<f64>,
    server_io: Option<(u64, u64)>,
) {
    let events: u64 = sent.iter().map(|s| s.received).sum();
    let accepted: u64 = sent.iter().map(|s| s.accepted).sum();
    let duplicates: u64 = sent.iter().map(|s| s.duplicates).sum();
    let mut latencies: Vec<Duration> = sent.iter().map(|s| s.latency).collect();
    latencies.sort();
    let secs = wall.as_secs_f64();
    let eps = events as f64 / secs;
    let bps = sent.len() as f64 / secs;
    let (p50, p99, max) = (
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        latencies.last().copied().unwrap_or_default(),
    );
    println!(
        "{key}: {events} events in {} batches, {secs:.3} s: {eps:.0} events/s, {bps:.2} batches/s, \
         {:.1} MB/s; batch latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; accepted {accepted}, \
         duplicates {duplicates}",
        sent.len(),
        bytes as f64 / secs / 1e6,
        ms(p50),
        ms(p99),
        ms(max),
    );
    if let Some(cpu) = server_cpu {
        println!(
            "{key}: server CPU {cpu:.2} s ({:.0}% of one core, {:.2} us per event)",
            cpu / secs * 100.0,
            cpu / events as f64 * 1e6
        );
    }
    if let Some((wchar, written)) = server_io {
        println!(
            "{key}: server wrote {:.1} MB to files and sockets, {:.1} MB reached storage \
             ({:.0} bytes an event)",
            wchar as f64 / 1e6,
            written as f64 / 1e6,
            written as f64 / events as f64
        );
    }
    if let Some(cpu) = client_cpu {
        println!(
            "{key}: client CPU {cpu:.2} s ({:.0}% of one core)",
            cpu / secs * 100.0
        );
    }
    println!("RESULT {key}_events={events}");
    println!("RESULT {key}_batches={}", sent.len());
    println!("RESULT {key}_seconds={secs:.3}");
    println!("RESULT {key}_events_per_sec={eps:.0}");
    println!("RESULT {key}_batches_per_sec={bps:.2}");
    println!("RESULT {key}_mb_per_sec={:.1}", bytes as f64 / secs / 1e6);
    println!("RESULT {key}_p50_ms={:.1}", ms(p50));
    println!("RESULT {key}_p99_ms={:.1}", ms(p99));
    println!("RESULT {key}_max_ms={:.1}", ms(max));
    println!("RESULT {key}_accepted={accepted}");
    println!("RESULT {key}_duplicates={duplicates}");
    if let Some(cpu) = server_cpu {
        println!("RESULT {key}_server_cpu_pct={:.0}", cpu / secs * 100.0);
        println!(
            "RESULT {key}_server_us_per_event={:.2}",
            cpu / events as f64 * 1e6
        );
    }
    if let Some((wchar, written)) = server_io {
        println!("RESULT {key}_server_wchar_mb={:.1}", wchar as f64 / 1e6);
        println!("RESULT {key}_server_write_mb={:.1}", written as f64 / 1e6);
    }
    if let Some(cpu) = client_cpu {
        println!("RESULT {key}_client_cpu_pct={:.0}", cpu / secs * 100.0);
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    ensure!(
        args.batches > 0 && args.batch_size > 0 && args.senders > 0,
        "--batches, --batch-size and --senders must be positive"
    );
    ensure!(args.open_cases > 0, "--open-cases must be positive");
    if let Some(path) = &args.dump {
        let batch =
            Desk::new(args.seed, args.open_cases, args.ids).batch(args.batch_size, args.format)?;
        std::fs::write(path, &batch).with_context(|| format!("writing {}", path.display()))?;
        println!(
            "wrote {} events ({} bytes) to {}",
            args.batch_size,
            batch.len(),
            path.display()
        );
        return Ok(());
    }
    let url = args.url.trim_end_matches('/').to_owned();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .pool_max_idle_per_host(args.senders.max(2))
        .build()?;

    // Everything the clock must not see: plans, and every byte of every batch.
    let plan = create_plan(&client, &url).await?;
    let warmup_plan = create_plan(&client, &url).await?;
    let built = Instant::now();
    let mut desk = Desk::new(args.seed, args.open_cases, args.ids);
    let batches = (0..args.batches)
        .map(|_| desk.batch(args.batch_size, args.format))
        .collect::<anyhow::Result<Vec<_>>>()?;
    // The warm-up events come from another desk so that they are no duplicates of the
    // measured ones (they go to another plan anyway).
    let mut warm_desk = Desk::new(args.seed ^ 0x5EED, args.open_cases, args.ids);
    let warmup = (0..args.warmup)
        .map(|_| warm_desk.batch(args.batch_size, args.format))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let bytes: usize = batches.iter().map(Bytes::len).sum();
    println!(
        "built {} batches of {} events ({:.1} MB, {:.0} bytes an event, {} cases) in {:.2} s",
        batches.len(),
        args.batch_size,
        bytes as f64 / 1e6,
        bytes as f64 / (args.batches * args.batch_size) as f64,
        desk.next_case - 1,
        built.elapsed().as_secs_f64()
    );
    let batches = Arc::new(batches);
    let content_type = match args.format {
        Format::Ndjson => "application/x-ndjson",
        Format::Array => "application/json",
    };
    let endpoint = format!("{url}/customer-case-management/{plan}/case-events");

    if !warmup.is_empty() {
        let warm_endpoint = format!("{url}/customer-case-management/{warmup_plan}/case-events");
        let (wall, _) = phase(
            &client,
            &warm_endpoint,
            content_type,
            &Arc::new(warmup),
            args.senders,
        )
        .await
        .context("warm-up")?;
        println!(
            "warm-up: {} batch(es) in {:.3} s",
            args.warmup,
            wall.as_secs_f64()
        );
    }

    let pid = args.server_pid.map(|p| p.to_string());
    let server_cpu = || pid.as_deref().and_then(|p| cpu_seconds(p, args.clk_tck));
    let client_cpu = || cpu_seconds("self", args.clk_tck);
    let expected = (args.batches * args.batch_size) as u64;
    let mut failed = Vec::new();

    for (key, new) in [("new", true), ("dup", false)] {
        let (server_before, client_before) = (server_cpu(), client_cpu());
        let io_before = pid.as_deref().and_then(io_bytes);
        let (wall, sent) = phase(&client, &endpoint, content_type, &batches, args.senders)
            .await
            .with_context(|| format!("{key} phase"))?;
        let server_used = server_cpu().zip(server_before).map(|(a, b)| a - b);
        let client_used = client_cpu().zip(client_before).map(|(a, b)| a - b);
        let io_used = pid
            .as_deref()
            .and_then(io_bytes)
            .zip(io_before)
            .map(|(a, b)| (a.0 - b.0, a.1 - b.1));
        report(key, wall, &sent, bytes, server_used, client_used, io_used);
        let accepted: u64 = sent.iter().map(|s| s.accepted).sum();
        let duplicates: u64 = sent.iter().map(|s| s.duplicates).sum();
        let want = if new { (expected, 0) } else { (0, expected) };
        if (accepted, duplicates) != want {
            failed.push(format!(
                "{key}: accepted {accepted} and duplicates {duplicates}, expected {} and {}",
                want.0, want.1
            ));
        }
        if let Some(pid) = args.server_pid
            && let (Some(rss), Some(hwm)) = (vm_kib(pid, "VmRSS:"), vm_kib(pid, "VmHWM:"))
        {
            println!("{key}: server RSS {rss} KiB, peak {hwm} KiB");
            println!("RESULT {key}_server_rss_kib={rss}");
            println!("RESULT {key}_server_hwm_kib={hwm}");
        }
    }
    if !failed.is_empty() {
        bail!("{}", failed.join("; "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_formatted_in_rfc_3339() {
        assert_eq!(rfc3339(0, false), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_793_610_000_000, false), "2026-11-02T09:00:00Z");
        assert_eq!(
            rfc3339(1_793_610_000_250, true),
            "2026-11-02T10:00:00.250+01:00"
        );
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }
}
