//! What is acknowledged stays: across a graceful restart, and across `kill -9`.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::helpers::{Backend, TestDb};
use crate::on_both_backends;

on_both_backends! {
    async fn records_survive_a_restart(app: TestApp) {
        let id = app.create_plan(&json!({"CustomerCaseTrainingPlan": "kept"})).await;
        app.put(&format!("/CustomerCaseManagement/{id}/Rules/r1/Update"), &json!({"CustomerCaseDecisionCriterion": "c"})).await;
        app.put(&format!("/CustomerCaseManagement/{id}/Request"), &json!({"Reason": "r"})).await;

        let app = app.restart().await;
        let plan = app.get(&format!("/CustomerCaseManagement/{id}/Retrieve")).await;
        assert_eq!(plan.body["CustomerCaseManagementPlan"]["CustomerCaseTrainingPlan"], "kept");
        let rule = app.get(&format!("/CustomerCaseManagement/{id}/Rules/r1/Retrieve")).await;
        assert_eq!(rule.body["Rules"]["CustomerCaseDecisionCriterion"], "c");
        let requests = app.get(&format!("/customer-case-management/{id}/requests")).await;
        assert_eq!(requests.body["Items"].as_array().map(Vec::len), Some(1));
    }
}

/// Starts the real `caseload` binary; returns it and the address it logged.
async fn start_binary(database_url: &str) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_caseload"))
        .args(["--listen", "127.0.0.1:0"])
        .env("DATABASE_URL", database_url)
        .env("CASELOAD_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start caseload");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let addr = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.expect("read log") {
            let entry = serde_json::from_str::<Value>(&line).unwrap_or(Value::Null);
            if let Some(addr) = entry.get("addr").and_then(Value::as_str) {
                return addr.to_owned();
            }
        }
        panic!("caseload exited before listening");
    })
    .await
    .expect("caseload logs its address");
    // Keep draining the log so the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, addr)
}

async fn acknowledged_writes_survive_kill_9(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        eprintln!("skipped: CASELOAD_TEST_POSTGRES_URL is not set");
        return;
    };
    let client = reqwest::Client::new();
    let mut acknowledged: Vec<(String, String)> = Vec::new();
    for round in 0..3 {
        let (mut child, addr) = start_binary(&db.url()).await;
        // Concurrent writers; the server is killed while some are still in flight.
        let writers: Vec<_> = (0..8)
            .map(|w| {
                let client = client.clone();
                let base = format!("http://{addr}");
                tokio::spawn(async move {
                    let mut acked = Vec::new();
                    for n in 0..1_000 {
                        let marker = format!("round {round} writer {w} write {n}");
                        let sent = client
                            .post(format!("{base}/CustomerCaseManagement/Create"))
                            .json(&json!({"CustomerCaseTrainingPlan": marker}))
                            .send()
                            .await;
                        let Ok(resp) = sent else { break };
                        if resp.status() != StatusCode::OK {
                            break;
                        }
                        let Ok(body) = resp.json::<Value>().await else {
                            break;
                        };
                        if let Some(id) = body["CustomerCaseManagementId"].as_str() {
                            acked.push((id.to_owned(), marker));
                        }
                    }
                    acked
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(300 + 200 * round)).await;
        child.start_kill().expect("kill -9");
        child.wait().await.expect("killed");
        for writer in writers {
            acknowledged.extend(writer.await.expect("writer"));
        }
    }
    assert!(
        acknowledged.len() > 50,
        "the writers got going ({} acknowledged)",
        acknowledged.len()
    );

    let (_child, addr) = start_binary(&db.url()).await;
    for (id, marker) in &acknowledged {
        let resp = client
            .get(format!(
                "http://{addr}/CustomerCaseManagement/{id}/Retrieve"
            ))
            .send()
            .await
            .expect("retrieve");
        assert_eq!(
            resp.status(),
            StatusCode::OK,
            "acknowledged plan {id} was lost"
        );
        let body: Value = resp.json().await.expect("json");
        assert_eq!(
            body["CustomerCaseManagementPlan"]["CustomerCaseTrainingPlan"],
            marker.as_str()
        );
    }
    eprintln!(
        "{} acknowledged creates survived 3 kill -9 rounds on {backend:?}",
        acknowledged.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9_on_sqlite() {
    acknowledged_writes_survive_kill_9(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9_on_postgres() {
    acknowledged_writes_survive_kill_9(Backend::Postgres).await;
}

/// Sends one keyed create; `None` when no answer came (the server was killed).
async fn keyed_create(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    marker: &str,
) -> Option<(StatusCode, Value)> {
    let resp = client
        .post(format!("{base}/CustomerCaseManagement/Create"))
        .header("idempotency-key", key)
        .json(&json!({"CustomerCaseTrainingPlan": marker}))
        .send()
        .await
        .ok()?;
    let status = resp.status();
    Some((status, resp.json().await.ok()?))
}

/// Sends one keyed intervention request about plan `id`; `None` when no answer came.
async fn keyed_request(
    client: &reqwest::Client,
    base: &str,
    id: &str,
    key: &str,
    marker: &str,
) -> Option<(StatusCode, Value)> {
    let resp = client
        .post(format!("{base}/customer-case-management/{id}/requests"))
        .header("idempotency-key", format!("request-{key}"))
        .json(&json!({"Reason": marker}))
        .send()
        .await
        .ok()?;
    let status = resp.status();
    Some((status, resp.json().await.ok()?))
}

/// Every plan's `CustomerCaseTrainingPlan`, through the list.
async fn every_marker(client: &reqwest::Client, base: &str) -> Vec<String> {
    let mut markers = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut url = format!("{base}/customer-case-management?page_size=100");
        if let Some(t) = &token {
            url.push_str(&format!("&page_token={t}"));
        }
        let page: Value = client
            .get(url)
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("json");
        for plan in page["Items"].as_array().expect("items") {
            if let Some(m) = plan["CustomerCaseTrainingPlan"].as_str() {
                markers.push(m.to_owned());
            }
        }
        match page["NextPageToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => return markers,
        }
    }
}

/// Keyed creates of plans and of an intervention request on each, under concurrent writers,
/// `kill -9` twice, then every request retried with its key: each key made exactly one plan
/// or request, and answered creates replay the plan they answered with.
async fn idempotent_creates_are_made_once_across_kill_9(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        eprintln!("skipped: CASELOAD_TEST_POSTGRES_URL is not set");
        return;
    };
    let client = reqwest::Client::new();
    let mut answered: Vec<(String, String, String)> = Vec::new();
    let mut unanswered: Vec<(String, String)> = Vec::new();
    for round in 0..2u64 {
        let (mut child, addr) = start_binary(&db.url()).await;
        // Creates answered in this round so far: the kill waits for enough of them, so that
        // a slow (loaded) machine kills as deep into the work as a fast one.
        let made = Arc::new(AtomicUsize::new(0));
        let writers: Vec<_> = (0..6)
            .map(|w| {
                let client = client.clone();
                let base = format!("http://{addr}");
                let made = Arc::clone(&made);
                tokio::spawn(async move {
                    let (mut done, mut lost) = (Vec::new(), Vec::new());
                    for n in 0..2_000 {
                        let key = format!("key-{round}-{w}-{n}");
                        let marker = format!("idem {round}/{w}/{n}");
                        match keyed_create(&client, &base, &key, &marker).await {
                            Some((StatusCode::OK, body)) => {
                                let id = body["CustomerCaseManagementId"]
                                    .as_str()
                                    .expect("id")
                                    .to_owned();
                                // An intervention request on it, under a key of its own.
                                let request =
                                    keyed_request(&client, &base, &id, &key, &marker).await;
                                done.push((key, marker, id));
                                made.fetch_add(1, Ordering::Relaxed);
                                if request.is_none() {
                                    break;
                                }
                            }
                            Some((status, body)) => panic!("{key}: {status} {body}"),
                            None => {
                                lost.push((key, marker));
                                break;
                            }
                        }
                    }
                    (done, lost)
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(250 + 250 * round)).await;
        let waiting = Instant::now();
        while made.load(Ordering::Relaxed) < 30 && waiting.elapsed() < Duration::from_secs(60) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        child.start_kill().expect("kill -9");
        child.wait().await.expect("killed");
        for writer in writers {
            let (done, lost) = writer.await.expect("writer");
            answered.extend(done);
            unanswered.extend(lost);
        }
    }
    assert!(
        answered.len() > 50,
        "the writers got going ({})",
        answered.len()
    );

    let (_child, addr) = start_binary(&db.url()).await;
    let base = format!("http://{addr}");
    // A request whose first run was cut off: its key may still be held by that run until
    // the claim goes stale (409 meanwhile); then it runs again and finds what it created.
    let mut retried = 0;
    for (key, marker) in &unanswered {
        let started = std::time::Instant::now();
        loop {
            let (status, body) = keyed_create(&client, &base, key, marker)
                .await
                .expect("answer");
            if status == StatusCode::CONFLICT && started.elapsed() < Duration::from_secs(120) {
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
            assert_eq!(status, StatusCode::OK, "{key}: {body}");
            retried += 1;
            break;
        }
    }
    for (key, marker, id) in answered.iter().step_by(answered.len() / 20 + 1) {
        let (status, body) = keyed_create(&client, &base, key, marker)
            .await
            .expect("answer");
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body["CustomerCaseManagementId"],
            id.as_str(),
            "{key} replays its plan"
        );
    }
    // Every plan's intervention request, retried under its key, was made once.
    for (key, marker, id) in &answered {
        let started = std::time::Instant::now();
        loop {
            let (status, body) = keyed_request(&client, &base, id, key, marker)
                .await
                .expect("answer");
            if status == StatusCode::CONFLICT && started.elapsed() < Duration::from_secs(120) {
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
            assert!(status == StatusCode::CREATED, "{key}: {status} {body}");
            break;
        }
        let listed: Value = client
            .get(format!("{base}/customer-case-management/{id}/requests"))
            .send()
            .await
            .expect("requests")
            .json()
            .await
            .expect("json");
        assert_eq!(
            listed["Items"].as_array().map(Vec::len),
            Some(1),
            "{key} made one request"
        );
    }
    let markers = every_marker(&client, &base).await;
    let mut counts = std::collections::HashMap::<&str, usize>::new();
    for m in &markers {
        *counts.entry(m.as_str()).or_default() += 1;
    }
    for (key, marker, _) in &answered {
        assert_eq!(
            counts.get(marker.as_str()),
            Some(&1),
            "{key} made exactly one plan"
        );
    }
    for (key, marker) in &unanswered {
        assert_eq!(
            counts.get(marker.as_str()),
            Some(&1),
            "{key} made exactly one plan"
        );
    }
    assert_eq!(
        markers.len(),
        answered.len() + unanswered.len(),
        "no other plan was made"
    );
    eprintln!(
        "{} answered and {} cut-off keyed creates ({retried} retried) made one plan each across 2 kill -9 rounds on {backend:?}",
        answered.len(),
        unanswered.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_creates_are_made_once_across_kill_9_on_sqlite() {
    idempotent_creates_are_made_once_across_kill_9(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_creates_are_made_once_across_kill_9_on_postgres() {
    idempotent_creates_are_made_once_across_kill_9(Backend::Postgres).await;
}
