//! `caseload demo`: the real binary creates a plan with typed goals, calendar and resources,
//! a criterion and performance records, and a case history of about the size asked for;
//! every run makes a plan of its own; without `--no-serve` it serves what it made.

use std::process::Stdio;
use std::time::Duration;

use caseload::config::Settings;
use caseload_domain::plan::{PlanSettings, Priority};
use caseload_domain::{ChildKind, PageRequest, PageSize, PlanId, RecordId};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::helpers::{Backend, TestDb};

const EVENTS: u64 = 5_000;

fn demo(database_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_caseload"));
    command
        .args(["demo", "--events", &EVENTS.to_string()])
        .args(["--database-url", database_url])
        .env("CASELOAD_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

/// The JSON log lines of a run.
fn log(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// Runs `caseload demo --no-serve`; returns the plan it logged.
async fn run_demo(database_url: &str) -> PlanId {
    let output = demo(database_url)
        .arg("--no-serve")
        .output()
        .await
        .expect("run caseload demo");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "caseload demo failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let done = log(&output.stdout)
        .into_iter()
        .find(|entry| entry["message"] == "demo: case history ingested")
        .unwrap_or_else(|| panic!("no summary logged: {stdout}"));
    let plan = done["plan"].as_str().expect("the plan is logged");
    PlanId::parse(plan).expect("a plan id")
}

async fn each_run_creates_a_plan_with_settings_and_history(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        eprintln!("skipped: CASELOAD_TEST_POSTGRES_URL is not set");
        return;
    };
    let url = test_db.url();

    let first = run_demo(&url).await;
    let second = run_demo(&url).await;

    let db = caseload::app::connect(&Settings::for_database(url.as_str()))
        .await
        .expect("open the demo database");
    let page = PageRequest {
        after: None,
        size: PageSize::parse(Some(10)).expect("page size"),
    };
    let plans = db
        .plans(page.clone(), &caseload_store::BusinessUnits::All)
        .await
        .expect("plans");
    let ids: Vec<PlanId> = plans.items.iter().map(|p| p.id).collect();
    assert_eq!(ids, vec![first, second], "one new plan per run");

    for plan in &plans.items {
        let settings = PlanSettings::from_json(&plan.extensions).expect("typed settings");
        let targets = settings.service_level_targets.expect("targets");
        assert!(Priority::ALL.iter().all(|p| targets.get(*p).is_some()));
        let calendar = settings.business_calendar.expect("calendar");
        assert_eq!(calendar.time_zone_name(), "Europe/Berlin");
        assert!(!calendar.holidays().is_empty());
        let teams = settings.resource_plan.expect("resource plan");
        let names: Vec<&str> = teams.teams().iter().map(|t| t.name()).collect();
        assert_eq!(names, ["disputes", "complaints", "claims", "fraud"]);
        assert!(
            teams
                .teams()
                .iter()
                .all(|t| t.agents() >= 1.0 && !t.skills().is_empty())
        );
        assert!(
            plan.fields
                .get("CustomerCaseManagementPlanPeriod")
                .is_some_and(|p| p.contains("(demo: last 90 days)"))
        );

        let events = db.case_event_count(plan.id).await.expect("count");
        assert!(
            (EVENTS..EVENTS + 20).contains(&events),
            "{events} events stored for {EVENTS} asked"
        );
        let criterion = db
            .record(
                ChildKind::Rules,
                plan.id,
                RecordId::parse("auto-refund").expect("id"),
            )
            .await
            .expect("the criterion");
        assert_eq!(
            criterion.extensions["Expression"],
            "amount <= limits.auto_refund && history.disputes_12m < 2"
        );
        let performance = db
            .records(ChildKind::Performance, plan.id, page.clone())
            .await
            .expect("performance records");
        assert_eq!(performance.items.len(), 10);
    }
    db.close().await;
}

#[tokio::test]
async fn each_demo_run_creates_a_plan_with_settings_and_history_on_sqlite() {
    each_run_creates_a_plan_with_settings_and_history(Backend::Sqlite).await;
}

#[tokio::test]
async fn each_demo_run_creates_a_plan_with_settings_and_history_on_postgres() {
    each_run_creates_a_plan_with_settings_and_history(Backend::Postgres).await;
}

#[tokio::test]
async fn the_demo_serves_the_plan_it_created() {
    let test_db = TestDb::create(Backend::Sqlite)
        .await
        .expect("a SQLite database");
    let mut child = demo(&test_db.url())
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start caseload demo");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let (mut plan, mut addr) = (None, None);
    tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.expect("read log") {
            let entry = serde_json::from_str::<Value>(&line).unwrap_or(Value::Null);
            if let Some(id) = entry["plan"].as_str() {
                plan = Some(id.to_owned());
            }
            if let Some(bound) = entry["addr"].as_str() {
                addr = Some(bound.to_owned());
                return;
            }
        }
        panic!("caseload demo exited before listening");
    })
    .await
    .expect("caseload demo logs its address");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let (plan, addr) = (plan.expect("plan logged"), addr.expect("address"));

    let body: Value = reqwest::get(format!(
        "http://{addr}/CustomerCaseManagement/{plan}/Retrieve"
    ))
    .await
    .expect("retrieve")
    .json()
    .await
    .expect("json");
    let record = &body["CustomerCaseManagementPlan"];
    assert_eq!(record["CustomerCaseManagementId"], plan.as_str());
    assert!(
        record["CustomerCaseServicePerformanceGoals"]
            .as_str()
            .is_some_and(|goals| goals.starts_with("urgent: first response within 1 h")),
        "{body}"
    );
    child.start_kill().expect("stop the demo");
    child.wait().await.expect("stopped");
}
