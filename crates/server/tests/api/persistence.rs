//! What is acknowledged stays: across a graceful restart, and across `kill -9`.

use std::process::Stdio;
use std::time::Duration;

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
