//! The store contract: the same checks run against SQLite (a temporary file) always, and
//! against PostgreSQL (a fresh database per test, dropped afterwards) when
//! `CASELOAD_TEST_POSTGRES_URL` names a server to create it on. With
//! `CASELOAD_REQUIRE_POSTGRES` set, a missing URL fails the PostgreSQL tests instead of
//! skipping them.

use std::sync::Arc;

use caseload_domain::analytics::{CaseTimeline, Window, fold_cases};
use caseload_domain::events::CaseEvent;
use caseload_domain::{
    Amount, Change, ChildKind, EvaluationId, EvaluationRecord, Fields, Intervention,
    InterventionId, InterventionStatus, NewBacktest, NewEvaluation, NewIntervention, Page,
    PageRequest, PageSize, PlanId, RecordId, RecordKind, Subject, Timestamp, Version, WriteMode,
};
use caseload_store::audit::{REQUEST, RequestContext};
use caseload_store::{
    Begin, ConnectOptions, Database, IN_FLIGHT_LIMIT, InterventionFilter, StatusChange, StoreError,
    StoredResponse,
};
use serde_json::{Map, Value as Json, json};
use sqlx::Connection as _;

// The audit trail's checks, in a file of their own beside this one.
#[path = "contract/audit.rs"]
mod audit;
use audit::*;
// The reads of a page at once, likewise.
#[path = "contract/batch.rs"]
mod batch;
use batch::*;

// ---------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy)]
enum Backend {
    Sqlite,
    Postgres,
}

/// A database of one test, removed when dropped (also when the test panics).
enum TestDb {
    Sqlite(tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    /// A fresh database, or `None` when PostgreSQL is not configured.
    async fn create(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => Some(Self::Sqlite(tempfile::tempdir().expect("temp dir"))),
            Backend::Postgres => {
                let admin_url = match std::env::var("CASELOAD_TEST_POSTGRES_URL") {
                    Ok(url) if !url.is_empty() => url,
                    _ => {
                        assert!(
                            std::env::var_os("CASELOAD_REQUIRE_POSTGRES").is_none(),
                            "CASELOAD_REQUIRE_POSTGRES is set but CASELOAD_TEST_POSTGRES_URL is not"
                        );
                        return None;
                    }
                };
                let name = format!("caseload_test_{}", uuid::Uuid::now_v7().simple());
                let mut admin = sqlx::PgConnection::connect(&admin_url)
                    .await
                    .expect("connect to PostgreSQL");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                Some(Self::Postgres { admin_url, name })
            }
        }
    }

    fn url(&self) -> String {
        match self {
            Self::Sqlite(dir) => format!("sqlite://{}", dir.path().join("caseload.db").display()),
            Self::Postgres { admin_url, name } => {
                let mut url = url::Url::parse(admin_url).expect("PostgreSQL URL");
                url.set_path(name);
                url.to_string()
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Self::Postgres { admin_url, name } = self else {
            return;
        };
        let (admin_url, db) = (admin_url.clone(), name.clone());
        // Drop may run inside the test's runtime; use a runtime of our own on a thread.
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(async {
                    let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
                    sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
                        .execute(&mut admin)
                        .await?;
                    admin.close().await
                })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {name}");
        }
    }
}

/// Direct access to a test's database, behind the store's back, to arrange states the store
/// cannot produce (such as rows written before a migration).
struct Raw(String);

impl Raw {
    async fn execute(&self, sql: &str) {
        if let Err(err) = self.try_execute(sql).await {
            panic!("raw statement failed: {err}");
        }
    }

    /// Runs `sql`, answering the database's error instead of failing the test.
    async fn try_execute(&self, sql: &str) -> Result<(), String> {
        if let Some(path) = self.0.strip_prefix("sqlite://") {
            rusqlite::Connection::open(path)
                .and_then(|conn| conn.execute_batch(sql))
                .map_err(|e| e.to_string())
        } else {
            let mut conn = sqlx::PgConnection::connect(&self.0)
                .await
                .expect("connect to PostgreSQL");
            let result = sqlx::raw_sql(sql).execute(&mut conn).await;
            conn.close().await.ok();
            result.map(|_| ()).map_err(|e| e.to_string())
        }
    }

    fn is_sqlite(&self) -> bool {
        self.0.starts_with("sqlite://")
    }
}

/// Runs one contract check on a fresh database of `backend`.
async fn run<F, Fut>(backend: Backend, check: F)
where
    F: FnOnce(Arc<dyn Database>, Raw) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(db) = TestDb::create(backend).await else {
        eprintln!("skipped: CASELOAD_TEST_POSTGRES_URL is not set");
        return;
    };
    let store = caseload_store::connect(&db.url(), &ConnectOptions::default())
        .await
        .expect("connect to the test database");
    check(Arc::clone(&store), Raw(db.url())).await;
    store.close().await;
}

/// One `#[tokio::test]` per check and backend: `sqlite::name` and `postgres::name`. Checks
/// listed after `raw:` also get direct access to the database.
macro_rules! contract {
    ($($check:ident),* $(,)? ; raw: $($raw:ident),* $(,)?) => {
        contract!(@backend sqlite, Sqlite; $($check),*; $($raw),*);
        contract!(@backend postgres, Postgres; $($check),*; $($raw),*);
    };
    (@backend $module:ident, $backend:ident; $($check:ident),*; $($raw:ident),*) => {
        mod $module {
            $(
                #[tokio::test]
                async fn $check() {
                    super::run(super::Backend::$backend, |db, _| super::$check(db)).await;
                }
            )*
            $(
                #[tokio::test]
                async fn $raw() {
                    super::run(super::Backend::$backend, super::$raw).await;
                }
            )*
        }
    };
}

contract!(
    a_record_keeps_its_extensions_and_every_version_newest_first,
    a_refused_conditional_put_adds_no_version,
    versions_of_an_unknown_record_are_not_found,
    evaluations_are_listed_newest_first_a_page_at_a_time,
    outcomes_are_attached_and_summarised,
    samples_are_the_most_recent_evaluations,
    the_latest_backtest_is_the_last_saved,
    evaluations_and_backtests_need_an_existing_criterion,
    an_intervention_moves_through_its_lifecycle,
    an_illegal_move_changes_nothing,
    a_move_at_a_stale_version_is_refused,
    open_interventions_are_counted_per_subject,
    unknown_interventions_are_not_found,
    interventions_are_listed_newest_first_by_subject_and_status,
    concurrent_moves_of_one_intervention_let_one_through,
    timelines_follow_events_in_any_order_and_batching,
    duplicates_do_not_move_timelines_or_the_generation,
    only_the_cases_that_matter_for_a_window_are_read,
    concurrent_batches_of_one_case_lose_no_event,
    timelines_changed_since_a_generation_are_the_ones_new_events_touched,
    every_change_appends_one_audit_record_saying_what_changed,
    writes_name_the_interaction_id_of_their_request,
    refused_writes_append_no_audit_record,
    audit_records_are_listed_newest_first_by_plan_and_time,
    concurrent_writers_to_one_plan_keep_one_valid_chain,
    an_idempotency_key_is_claimed_once_and_its_response_replayed,
    idempotency_keys_are_scoped_per_principal,
    an_abandoned_key_can_be_claimed_again,
    a_claim_held_past_the_in_flight_limit_is_taken_over,
    an_expired_response_frees_its_key_and_is_purged,
    concurrent_claims_of_one_key_let_one_through,
    a_create_under_a_request_key_is_made_once,
    open_interventions_of_a_page_equal_those_read_one_by_one,
    history_summaries_of_a_page_equal_those_read_one_by_one,
    latest_backtests_of_a_page_equal_those_read_one_by_one,
    a_page_naming_a_criterion_the_plan_lacks_is_not_found;
    raw: a_record_written_before_versions_were_kept_has_an_empty_history,
    audit_records_cannot_be_changed_or_removed,
    a_changed_audit_record_breaks_the_chain_at_its_seq,
    removed_audit_records_are_found,
    verification_pages_through_a_long_chain,
);

// ---------------------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------------------

fn page(size: u32, after: Option<String>) -> PageRequest {
    PageRequest {
        after,
        size: PageSize::parse(Some(size)).expect("page size"),
    }
}

fn fields(kind: RecordKind, properties: Json) -> Fields {
    let object = properties.as_object().expect("an object").clone();
    Fields::parse(kind, &object, &[]).expect("valid properties")
}

fn extensions(value: Json) -> Map<String, Json> {
    value.as_object().expect("an object").clone()
}

fn rid(id: &str) -> RecordId {
    RecordId::parse(id).expect("record id")
}

fn change(
    properties: Json,
    extensions: Option<Map<String, Json>>,
    expected: Option<i64>,
    actor: &str,
) -> Change {
    Change {
        fields: fields(RecordKind::Rules, properties),
        mode: WriteMode::Merge,
        expected: expected.map(Version::new),
        extensions,
        actor: actor.to_owned(),
    }
}

fn amount(value: &str, currency: &str) -> Amount {
    Amount::parse(&json!({"Value": value, "Currency": currency})).expect("amount")
}

fn assert_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    assert!(
        matches!(result, Err(StoreError::NotFound(_))),
        "{what}: expected not found, got {result:?}"
    );
}

async fn new_plan(db: &Arc<dyn Database>) -> PlanId {
    let plan = fields(
        RecordKind::Plan,
        json!({"CustomerCaseManagementPlanPeriod": "2026"}),
    );
    db.create_plan(
        plan,
        serde_json::Map::new(),
        "default".to_owned(),
        "alice".to_owned(),
    )
    .await
    .expect("create plan")
    .id
}

/// A plan with one criterion, `r1`.
async fn plan_with_rule(db: &Arc<dyn Database>) -> (PlanId, RecordId) {
    let plan = new_plan(db).await;
    let rule = rid("r1");
    db.put_record(
        ChildKind::Rules,
        plan,
        rule.clone(),
        change(
            json!({"CustomerCaseDecisionCriterion": "refund limit"}),
            Some(extensions(json!({"Expression": "amount > 10"}))),
            None,
            "alice",
        ),
    )
    .await
    .expect("put rule");
    (plan, rule)
}

fn evaluation(plan: PlanId, rules: &RecordId, case: &str) -> NewEvaluation {
    NewEvaluation {
        plan_id: plan,
        rules_id: rules.clone(),
        rules_version: Version::FIRST,
        case_id: Some(case.to_owned()),
        facts: json!({"amount": 12.5, "channel": "web"}),
        result: true,
        decision: Some("refer".to_owned()),
        explanation: json!({"matched": ["amount > 10"]}),
        amount: Some(amount("12.50", "EUR")),
        evaluated_by: "scorer".to_owned(),
    }
}

async fn record(
    db: &Arc<dyn Database>,
    plan: PlanId,
    rules: &RecordId,
    case: &str,
) -> EvaluationRecord {
    db.record_evaluation(evaluation(plan, rules, case))
        .await
        .expect("record evaluation")
}

fn request(plan: PlanId, subject: Subject) -> NewIntervention {
    NewIntervention {
        plan_id: plan,
        subject,
        reason: Some("limit looks wrong".to_owned()),
        requested_action: Some("review".to_owned()),
        details: Fields::default(),
        requester: "carol".to_owned(),
    }
}

fn move_to(to: InterventionStatus, expected: Option<i64>) -> StatusChange {
    StatusChange {
        to,
        by: "ops".to_owned(),
        comment: Some(format!("moving to {to}")),
        expected: expected.map(Version::new),
    }
}

// ---------------------------------------------------------------------------------------
// Records and their versions
// ---------------------------------------------------------------------------------------

async fn a_record_keeps_its_extensions_and_every_version_newest_first(db: Arc<dyn Database>) {
    // Arrange
    let (plan, rule) = plan_with_rule(&db).await;
    let first = extensions(json!({"Expression": "amount > 10"}));
    let replaced = extensions(json!({"Parameters": {"limit": "25.00"}}));

    // Act: keep the extensions, then replace them whole.
    let kept = db
        .put_record(
            ChildKind::Rules,
            plan,
            rule.clone(),
            change(
                json!({"CustomerCaseDecisionCriterionDefinition": "v2"}),
                None,
                None,
                "bob",
            ),
        )
        .await
        .expect("second put");
    let third = db
        .put_record(
            ChildKind::Rules,
            plan,
            rule.clone(),
            change(json!({}), Some(replaced.clone()), Some(2), "dave"),
        )
        .await
        .expect("third put");

    // Assert
    assert!(!kept.created);
    assert_eq!(kept.record.extensions, first);
    assert_eq!(third.record.meta.version, Version::new(3));
    assert_eq!(third.record.extensions, replaced);
    let stored = db
        .record(ChildKind::Rules, plan, rule.clone())
        .await
        .expect("read");
    assert_eq!(stored, third.record);
    let listed = db
        .records(ChildKind::Rules, plan, page(10, None))
        .await
        .expect("list");
    assert_eq!(listed.items, vec![third.record.clone()]);

    let newest = db
        .record_versions(ChildKind::Rules, plan, rule.clone(), page(2, None))
        .await
        .expect("versions");
    let summary: Vec<(i64, &str)> = newest
        .items
        .iter()
        .map(|v| (v.version.get(), v.changed_by.as_str()))
        .collect();
    assert_eq!(summary, vec![(3, "dave"), (2, "bob")]);
    assert_eq!(newest.next_after.as_deref(), Some("2"));
    assert_eq!(newest.items[0].extensions, replaced);
    assert_eq!(newest.items[0].fields, third.record.fields);
    assert_eq!(newest.items[0].changed_at, third.record.meta.updated_at);
    assert_eq!(newest.items[1].extensions, first);
    assert_eq!(
        newest.items[1]
            .fields
            .get("CustomerCaseDecisionCriterionDefinition"),
        Some("v2")
    );

    let oldest = db
        .record_versions(
            ChildKind::Rules,
            plan,
            rule.clone(),
            page(2, newest.next_after),
        )
        .await
        .expect("versions, second page");
    assert_eq!(oldest.items.len(), 1);
    assert_eq!(oldest.items[0].version, Version::FIRST);
    assert_eq!(oldest.items[0].changed_by, "alice");
    assert_eq!(oldest.items[0].extensions, first);
    assert_eq!(oldest.next_after, None);

    // A performance record with the same id has a history of its own.
    db.put_record(
        ChildKind::Performance,
        plan,
        rule.clone(),
        Change::fields(Fields::default(), WriteMode::Merge, None, "erin"),
    )
    .await
    .expect("put performance");
    let performance = db
        .record_versions(ChildKind::Performance, plan, rule, page(10, None))
        .await
        .expect("performance versions");
    assert_eq!(performance.items.len(), 1);
    assert_eq!(performance.items[0].changed_by, "erin");
    assert!(performance.items[0].extensions.is_empty());
}

async fn a_refused_conditional_put_adds_no_version(db: Arc<dyn Database>) {
    // Arrange
    let (plan, rule) = plan_with_rule(&db).await;
    let before = db
        .record(ChildKind::Rules, plan, rule.clone())
        .await
        .expect("read");

    // Act
    let stale = db
        .put_record(
            ChildKind::Rules,
            plan,
            rule.clone(),
            change(
                json!({"CustomerCaseDecisionCriterion": "changed"}),
                Some(extensions(json!({"Expression": "false"}))),
                Some(5),
                "mallory",
            ),
        )
        .await;
    let absent = db
        .put_record(
            ChildKind::Rules,
            plan,
            rid("r2"),
            change(json!({}), None, Some(1), "mallory"),
        )
        .await;

    // Assert
    assert!(
        matches!(stale, Err(StoreError::VersionMismatch { current: Some(1) })),
        "{stale:?}"
    );
    assert!(
        matches!(absent, Err(StoreError::VersionMismatch { current: None })),
        "{absent:?}"
    );
    let after = db
        .record(ChildKind::Rules, plan, rule.clone())
        .await
        .expect("read");
    assert_eq!(after, before);
    let versions = db
        .record_versions(ChildKind::Rules, plan, rule.clone(), page(10, None))
        .await
        .expect("versions");
    assert_eq!(versions.items.len(), 1);
    assert_not_found(
        db.record_versions(ChildKind::Rules, plan, rid("r2"), page(10, None))
            .await,
        "versions of a record a refused put did not create",
    );

    // The right version goes through and is kept.
    db.put_record(
        ChildKind::Rules,
        plan,
        rule.clone(),
        change(json!({}), None, Some(1), "bob"),
    )
    .await
    .expect("conditional put at the current version");
    let versions = db
        .record_versions(ChildKind::Rules, plan, rule, page(10, None))
        .await
        .expect("versions");
    assert_eq!(versions.items.len(), 2);
}

async fn versions_of_an_unknown_record_are_not_found(db: Arc<dyn Database>) {
    let (plan, rule) = plan_with_rule(&db).await;
    assert_not_found(
        db.record_versions(ChildKind::Rules, plan, rid("nope"), page(10, None))
            .await,
        "unknown record",
    );
    assert_not_found(
        db.record_versions(ChildKind::Performance, plan, rule.clone(), page(10, None))
            .await,
        "a rule's id asked as performance",
    );
    assert_not_found(
        db.record_versions(
            ChildKind::Rules,
            PlanId::new(),
            rule.clone(),
            page(10, None),
        )
        .await,
        "unknown plan",
    );
    assert_not_found(
        db.record_versions(
            ChildKind::Rules,
            plan,
            rule.clone(),
            page(10, Some("x".into())),
        )
        .await,
        "a page key that is not a version number",
    );
    assert_not_found(
        db.put_record(
            ChildKind::Rules,
            PlanId::new(),
            rule,
            change(json!({}), None, None, "bob"),
        )
        .await,
        "put under an unknown plan",
    );
}

async fn a_record_written_before_versions_were_kept_has_an_empty_history(
    db: Arc<dyn Database>,
    raw: Raw,
) {
    // Arrange: a rule at version 4 with no history, as migration 0002 leaves older rules.
    let plan = new_plan(&db).await;
    raw.execute(&format!(
        "INSERT INTO rules (plan_id, id, fields, version, created_at, updated_at) \
         VALUES ('{plan}', 'legacy', '{{}}', 4, 1, 1)"
    ))
    .await;
    let legacy = rid("legacy");

    // Act
    let before = db
        .record_versions(ChildKind::Rules, plan, legacy.clone(), page(10, None))
        .await
        .expect("versions of a legacy record");
    let put = db
        .put_record(
            ChildKind::Rules,
            plan,
            legacy.clone(),
            change(json!({}), None, None, "bob"),
        )
        .await
        .expect("update a legacy record");
    let after = db
        .record_versions(ChildKind::Rules, plan, legacy, page(10, None))
        .await
        .expect("versions after an update");

    // Assert
    assert!(before.items.is_empty());
    assert_eq!(before.next_after, None);
    assert!(put.record.extensions.is_empty());
    assert_eq!(put.record.meta.version, Version::new(5));
    let versions: Vec<_> = after
        .items
        .iter()
        .map(|v| (v.version.get(), v.changed_by.as_str()))
        .collect();
    assert_eq!(versions, vec![(5, "bob")]);
}

// ---------------------------------------------------------------------------------------
// Evaluations and back-tests
// ---------------------------------------------------------------------------------------

async fn evaluations_are_listed_newest_first_a_page_at_a_time(db: Arc<dyn Database>) {
    // Arrange
    let (plan, rule) = plan_with_rule(&db).await;
    let e1 = record(&db, plan, &rule, "case-1").await;
    let e2 = record(&db, plan, &rule, "case-2").await;
    let e3 = record(&db, plan, &rule, "case-3").await;

    // Act
    let first = db
        .evaluations(plan, rule.clone(), page(2, None))
        .await
        .expect("page 1");
    let second = db
        .evaluations(plan, rule.clone(), page(2, first.next_after.clone()))
        .await
        .expect("page 2");

    // Assert
    assert_eq!(first.items, vec![e3.clone(), e2.clone()]);
    assert_eq!(first.next_after, Some(e2.id.to_string()));
    assert_eq!(second.items, vec![e1.clone()]);
    assert_eq!(second.next_after, None);
    assert_eq!(e1.evaluation, evaluation(plan, &rule, "case-1"));
    assert_eq!(e1.outcome, None);
    assert_eq!(e1.outcome_at, None);
    assert!(e1.evaluated_at <= e3.evaluated_at);

    // Another criterion's list is its own, and empty.
    db.put_record(
        ChildKind::Rules,
        plan,
        rid("r2"),
        change(json!({}), None, None, "bob"),
    )
    .await
    .expect("second rule");
    let other = db
        .evaluations(plan, rid("r2"), page(10, None))
        .await
        .expect("other");
    assert!(other.items.is_empty());
    assert_eq!(other.next_after, None);
}

async fn outcomes_are_attached_and_summarised(db: Arc<dyn Database>) {
    // Arrange
    let (plan, rule) = plan_with_rule(&db).await;
    let empty = db
        .history_summary(plan, rule.clone())
        .await
        .expect("empty summary");
    let e1 = record(&db, plan, &rule, "case-1").await;
    let e2 = record(&db, plan, &rule, "case-2").await;
    let e3 = record(&db, plan, &rule, "case-3").await;
    let e4 = record(&db, plan, &rule, "case-4").await;

    // Act
    let upheld = db
        .set_outcome(
            plan,
            rule.clone(),
            e1.id,
            "upheld".to_owned(),
            None,
            "ops".to_owned(),
        )
        .await
        .expect("outcome without amount");
    db.set_outcome(
        plan,
        rule.clone(),
        e2.id,
        "upheld".to_owned(),
        None,
        "ops".to_owned(),
    )
    .await
    .expect("first outcome");
    let appealed = db
        .set_outcome(
            plan,
            rule.clone(),
            e2.id,
            "appealed".to_owned(),
            Some(amount("99.95", "USD")),
            "ops".to_owned(),
        )
        .await
        .expect("replacing outcome with amount");
    db.set_outcome(
        plan,
        rule.clone(),
        e4.id,
        "upheld".to_owned(),
        None,
        "ops".to_owned(),
    )
    .await
    .expect("third outcome");
    let summary = db
        .history_summary(plan, rule.clone())
        .await
        .expect("summary");

    // Assert
    assert_eq!(empty.count, 0);
    assert_eq!((empty.first, empty.last), (None, None));
    assert!(empty.outcomes.is_empty());

    assert_eq!(upheld.outcome.as_deref(), Some("upheld"));
    assert!(upheld.outcome_at.is_some());
    assert_eq!(
        upheld.evaluation, e1.evaluation,
        "an outcome alone keeps the amount"
    );
    assert_eq!(appealed.outcome.as_deref(), Some("appealed"));
    assert_eq!(appealed.evaluation.amount, Some(amount("99.95", "USD")));
    let listed = db
        .evaluations(plan, rule.clone(), page(10, None))
        .await
        .expect("list");
    assert_eq!(listed.items.iter().find(|e| e.id == e2.id), Some(&appealed));

    assert_eq!(summary.count, 4);
    assert_eq!(summary.first, Some(e1.evaluated_at));
    assert_eq!(summary.last, Some(e4.evaluated_at));
    assert_eq!(
        summary.outcomes,
        vec![
            ("upheld".to_owned(), 2),
            ("appealed".to_owned(), 1),
            ("pending".to_owned(), 1),
        ]
    );
    let pending = listed
        .items
        .iter()
        .find(|e| e.id == e3.id)
        .expect("e3 listed");
    assert_eq!(
        (pending.outcome.as_deref(), pending.outcome_at),
        (None, None)
    );

    // An evaluation is found only under its own plan and criterion.
    assert_not_found(
        db.set_outcome(
            plan,
            rule.clone(),
            EvaluationId::new(),
            "upheld".to_owned(),
            None,
            "ops".to_owned(),
        )
        .await,
        "unknown evaluation",
    );
    db.put_record(
        ChildKind::Rules,
        plan,
        rid("r2"),
        change(json!({}), None, None, "bob"),
    )
    .await
    .expect("second rule");
    assert_not_found(
        db.set_outcome(
            plan,
            rid("r2"),
            e1.id,
            "upheld".to_owned(),
            None,
            "ops".to_owned(),
        )
        .await,
        "evaluation under another criterion",
    );
    assert_not_found(
        db.set_outcome(
            PlanId::new(),
            rule,
            e1.id,
            "upheld".to_owned(),
            None,
            "ops".to_owned(),
        )
        .await,
        "evaluation under another plan",
    );
}

async fn samples_are_the_most_recent_evaluations(db: Arc<dyn Database>) {
    let (plan, rule) = plan_with_rule(&db).await;
    let _e1 = record(&db, plan, &rule, "case-1").await;
    let e2 = record(&db, plan, &rule, "case-2").await;
    let e3 = record(&db, plan, &rule, "case-3").await;

    let two = db
        .samples(plan, rule.clone(), 2)
        .await
        .expect("two samples");
    let all = db.samples(plan, rule, 10).await.expect("all samples");

    assert_eq!(two, vec![e3, e2]);
    assert_eq!(all.len(), 3);
}

async fn the_latest_backtest_is_the_last_saved(db: Arc<dyn Database>) {
    let (plan, rule) = plan_with_rule(&db).await;
    let none = db
        .latest_backtest(plan, rule.clone())
        .await
        .expect("no backtest yet");
    let proposal = |limit: &str| NewBacktest {
        plan_id: plan,
        rules_id: rule.clone(),
        rules_version: Version::FIRST,
        proposal: json!({"Expression": "amount > limit", "Parameters": {"limit": limit}}),
        report: json!({"changed": 1, "compared": 3}),
        summary: "1 of 3 decisions would change.".to_owned(),
        run_by: "analyst".to_owned(),
    };

    let first = db
        .save_backtest(proposal("20"))
        .await
        .expect("first backtest");
    let second = db
        .save_backtest(proposal("30"))
        .await
        .expect("second backtest");
    let latest = db
        .latest_backtest(plan, rule.clone())
        .await
        .expect("latest");

    assert_eq!(none, None);
    assert_eq!(first.backtest, proposal("20"));
    assert_ne!(first.id, second.id);
    assert_eq!(latest, Some(second.clone()));
    assert_eq!(second.backtest, proposal("30"));
}

async fn evaluations_and_backtests_need_an_existing_criterion(db: Arc<dyn Database>) {
    let (plan, rule) = plan_with_rule(&db).await;
    // A performance record is not a criterion, even with a criterion's id.
    db.put_record(
        ChildKind::Performance,
        plan,
        rid("p1"),
        Change::fields(Fields::default(), WriteMode::Merge, None, "bob"),
    )
    .await
    .expect("performance record");
    let unknown_rule = rid("p1");
    let backtest = |plan: PlanId, rules: RecordId| NewBacktest {
        plan_id: plan,
        rules_id: rules,
        rules_version: Version::FIRST,
        proposal: json!({}),
        report: json!({}),
        summary: String::new(),
        run_by: "analyst".to_owned(),
    };

    assert_not_found(
        db.record_evaluation(evaluation(plan, &unknown_rule, "c"))
            .await,
        "evaluation of an unknown criterion",
    );
    assert_not_found(
        db.record_evaluation(evaluation(PlanId::new(), &rule, "c"))
            .await,
        "evaluation under an unknown plan",
    );
    assert_not_found(
        db.evaluations(plan, unknown_rule.clone(), page(10, None))
            .await,
        "evaluations of an unknown criterion",
    );
    assert_not_found(
        db.evaluations(PlanId::new(), rule.clone(), page(10, None))
            .await,
        "evaluations under an unknown plan",
    );
    assert_not_found(
        db.history_summary(plan, unknown_rule.clone()).await,
        "summary of an unknown criterion",
    );
    assert_not_found(
        db.samples(plan, unknown_rule.clone(), 10).await,
        "samples of an unknown criterion",
    );
    assert_not_found(
        db.latest_backtest(plan, unknown_rule.clone()).await,
        "latest backtest of an unknown criterion",
    );
    assert_not_found(
        db.save_backtest(backtest(plan, unknown_rule)).await,
        "backtest of an unknown criterion",
    );
    assert_not_found(
        db.save_backtest(backtest(PlanId::new(), rule.clone()))
            .await,
        "backtest under an unknown plan",
    );
    // Nothing was recorded for the real criterion along the way.
    let summary = db
        .history_summary(plan, rule.clone())
        .await
        .expect("summary");
    assert_eq!(summary.count, 0);
    assert_eq!(db.latest_backtest(plan, rule).await.expect("latest"), None);
}

// ---------------------------------------------------------------------------------------
// Intervention lifecycle
// ---------------------------------------------------------------------------------------

async fn an_intervention_moves_through_its_lifecycle(db: Arc<dyn Database>) {
    // Arrange
    let plan = new_plan(&db).await;
    let created = db
        .create_intervention(request(plan, Subject::Plan))
        .await
        .expect("create intervention");
    let (fresh, none) = db.intervention(plan, created.id).await.expect("read");

    // Act
    let (acknowledged, after_one) = db
        .transition(
            plan,
            created.id,
            move_to(InterventionStatus::Acknowledged, Some(1)),
        )
        .await
        .expect("acknowledge");
    let (resolved, after_two) = db
        .transition(
            plan,
            created.id,
            move_to(InterventionStatus::Resolved, None),
        )
        .await
        .expect("resolve");

    // Assert
    assert_eq!(fresh, created);
    assert!(none.is_empty());
    assert_eq!(acknowledged.status, InterventionStatus::Acknowledged);
    assert_eq!(acknowledged.meta.version, Version::new(2));
    assert_eq!(after_one.len(), 1);
    assert_eq!(resolved.status, InterventionStatus::Resolved);
    assert_eq!(resolved.meta.version, Version::new(3));
    assert_eq!(resolved.meta.created_at, created.meta.created_at);
    assert_eq!(resolved.request, created.request);
    let moves: Vec<_> = after_two.iter().map(|t| (t.from, t.to)).collect();
    assert_eq!(
        moves,
        vec![
            (InterventionStatus::Open, InterventionStatus::Acknowledged),
            (
                InterventionStatus::Acknowledged,
                InterventionStatus::Resolved
            ),
        ]
    );
    assert_eq!(after_two[0], after_one[0]);
    assert_eq!(after_two[1].by, "ops");
    assert_eq!(after_two[1].comment.as_deref(), Some("moving to resolved"));
    assert_eq!(after_two[1].at, resolved.meta.updated_at);
    let read = db.intervention(plan, created.id).await.expect("read again");
    assert_eq!(read, (resolved, after_two));
}

async fn an_illegal_move_changes_nothing(db: Arc<dyn Database>) {
    let plan = new_plan(&db).await;
    let created = db
        .create_intervention(request(plan, Subject::Plan))
        .await
        .expect("create intervention");
    let reopen = db
        .transition(plan, created.id, move_to(InterventionStatus::Open, None))
        .await;
    assert!(
        matches!(
            reopen,
            Err(StoreError::IllegalTransition(e))
                if e.from == InterventionStatus::Open && e.to == InterventionStatus::Open
        ),
        "{reopen:?}"
    );
    let rejected = db
        .transition(
            plan,
            created.id,
            move_to(InterventionStatus::Rejected, None),
        )
        .await
        .expect("reject");

    let after_close = db
        .transition(
            plan,
            created.id,
            move_to(InterventionStatus::Acknowledged, Some(2)),
        )
        .await;

    assert!(
        matches!(
            after_close,
            Err(StoreError::IllegalTransition(e))
                if e.from == InterventionStatus::Rejected
                    && e.to == InterventionStatus::Acknowledged
        ),
        "{after_close:?}"
    );
    let read = db.intervention(plan, created.id).await.expect("read");
    assert_eq!(read, rejected);
    assert_eq!(read.1.len(), 1);
}

async fn a_move_at_a_stale_version_is_refused(db: Arc<dyn Database>) {
    let plan = new_plan(&db).await;
    let created = db
        .create_intervention(request(plan, Subject::Plan))
        .await
        .expect("create intervention");
    let acknowledged = db
        .transition(
            plan,
            created.id,
            move_to(InterventionStatus::Acknowledged, Some(1)),
        )
        .await
        .expect("acknowledge");

    let stale = db
        .transition(
            plan,
            created.id,
            move_to(InterventionStatus::Resolved, Some(1)),
        )
        .await;

    assert!(
        matches!(stale, Err(StoreError::VersionMismatch { current: Some(2) })),
        "{stale:?}"
    );
    let read = db.intervention(plan, created.id).await.expect("read");
    assert_eq!(read, acknowledged);
}

async fn open_interventions_are_counted_per_subject(db: Arc<dyn Database>) {
    // Arrange
    let (plan, r1) = plan_with_rule(&db).await;
    let r2 = rid("r2");
    db.put_record(
        ChildKind::Rules,
        plan,
        r2.clone(),
        change(json!({}), None, None, "bob"),
    )
    .await
    .expect("second rule");
    db.put_record(
        ChildKind::Performance,
        plan,
        r1.clone(),
        Change::fields(Fields::default(), WriteMode::Merge, None, "bob"),
    )
    .await
    .expect("performance record");
    let other_plan = new_plan(&db).await;
    let subjects = [
        (plan, Subject::Rules(r1.clone())),
        (plan, Subject::Rules(r1.clone())),
        (plan, Subject::Rules(r1.clone())),
        (plan, Subject::Rules(r2.clone())),
        (plan, Subject::Performance(r1.clone())),
        (plan, Subject::Plan),
        (other_plan, Subject::Plan),
    ];
    let mut created = Vec::new();
    for (p, subject) in subjects {
        created.push(
            db.create_intervention(request(p, subject))
                .await
                .expect("create intervention"),
        );
    }

    // Act: two of r1's three leave `open`.
    db.transition(
        plan,
        created[0].id,
        move_to(InterventionStatus::Acknowledged, None),
    )
    .await
    .expect("acknowledge");
    db.transition(
        plan,
        created[1].id,
        move_to(InterventionStatus::Rejected, None),
    )
    .await
    .expect("reject");

    // Assert
    let count = |subject: Subject| {
        let db = Arc::clone(&db);
        async move { db.open_interventions(plan, subject).await.expect("count") }
    };
    assert_eq!(count(Subject::Rules(r1.clone())).await, 1);
    assert_eq!(count(Subject::Rules(r2)).await, 1);
    assert_eq!(count(Subject::Performance(r1)).await, 1);
    assert_eq!(count(Subject::Plan).await, 1);
    assert_eq!(count(Subject::Rules(rid("none"))).await, 0);
    assert_eq!(count(Subject::Performance(rid("none"))).await, 0);
}

async fn interventions_are_listed_newest_first_by_subject_and_status(db: Arc<dyn Database>) {
    // Arrange: one request about the plan, two about a rule, the newest acknowledged.
    let (plan, rule) = plan_with_rule(&db).await;
    let about_plan = db
        .create_intervention(request(plan, Subject::Plan))
        .await
        .expect("create about the plan")
        .id;
    let open_on_rule = db
        .create_intervention(request(plan, Subject::Rules(rule.clone())))
        .await
        .expect("create about the rule")
        .id;
    let moved_on_rule = db
        .create_intervention(request(plan, Subject::Rules(rule.clone())))
        .await
        .expect("create about the rule again")
        .id;
    db.transition(
        plan,
        moved_on_rule,
        move_to(InterventionStatus::Acknowledged, None),
    )
    .await
    .expect("acknowledge");
    let list = |subject: Option<Subject>, status: Option<InterventionStatus>, page| {
        let db = db.clone();
        async move {
            db.interventions(plan, InterventionFilter { subject, status }, page)
                .await
                .expect("list")
        }
    };
    let ids = |page: &Page<Intervention>| page.items.iter().map(|i| i.id).collect::<Vec<_>>();

    // Act
    let first = list(None, None, page(2, None)).await;
    let second = list(None, None, page(2, first.next_after.clone())).await;
    let on_rule = list(Some(Subject::Rules(rule.clone())), None, page(10, None)).await;
    let open_on_rule_only = list(
        Some(Subject::Rules(rule.clone())),
        Some(InterventionStatus::Open),
        page(10, None),
    )
    .await;
    let on_plan = list(Some(Subject::Plan), None, page(10, None)).await;
    let acknowledged = list(None, Some(InterventionStatus::Acknowledged), page(10, None)).await;
    let on_other_rule = list(Some(Subject::Rules(rid("r2"))), None, page(10, None)).await;

    // Assert
    assert_eq!(ids(&first), vec![moved_on_rule, open_on_rule]);
    assert_eq!(first.next_after, Some(open_on_rule.to_string()));
    assert_eq!(ids(&second), vec![about_plan]);
    assert_eq!(second.next_after, None);
    assert_eq!(ids(&on_rule), vec![moved_on_rule, open_on_rule]);
    assert_eq!(ids(&open_on_rule_only), vec![open_on_rule]);
    assert_eq!(ids(&on_plan), vec![about_plan]);
    assert_eq!(ids(&acknowledged), vec![moved_on_rule]);
    assert!(on_other_rule.items.is_empty());
    assert_not_found(
        db.interventions(PlanId::new(), InterventionFilter::default(), page(10, None))
            .await,
        "requests of an unknown plan",
    );
}

async fn unknown_interventions_are_not_found(db: Arc<dyn Database>) {
    let plan = new_plan(&db).await;
    let other_plan = new_plan(&db).await;
    let created = db
        .create_intervention(request(plan, Subject::Plan))
        .await
        .expect("create intervention");
    let unknown = InterventionId::new();

    assert_not_found(db.intervention(plan, unknown).await, "unknown intervention");
    assert_not_found(
        db.transition(plan, unknown, move_to(InterventionStatus::Resolved, None))
            .await,
        "move of an unknown intervention",
    );
    assert_not_found(
        db.intervention(other_plan, created.id).await,
        "intervention under another plan",
    );
    assert_not_found(
        db.transition(
            other_plan,
            created.id,
            move_to(InterventionStatus::Resolved, None),
        )
        .await,
        "move under another plan",
    );
    let (still, moves) = db.intervention(plan, created.id).await.expect("read");
    assert_eq!(still, created);
    assert!(moves.is_empty());
}

async fn concurrent_moves_of_one_intervention_let_one_through(db: Arc<dyn Database>) {
    // Arrange
    let plan = new_plan(&db).await;
    let created = db
        .create_intervention(request(plan, Subject::Plan))
        .await
        .expect("create intervention");

    // Act: eight callers acknowledge it at once, without a version.
    let mut moves = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let db = Arc::clone(&db);
        moves.spawn(async move {
            db.transition(
                plan,
                created.id,
                move_to(InterventionStatus::Acknowledged, None),
            )
            .await
        });
    }
    let results = moves.join_all().await;

    // Assert: the row lock lets one through; the others see it acknowledged already.
    let through = results.iter().filter(|r| r.is_ok()).count();
    let refused = results
        .iter()
        .filter(|r| matches!(r, Err(StoreError::IllegalTransition(_))))
        .count();
    assert_eq!((through, refused), (1, 7), "{results:?}");
    let (read, transitions) = db.intervention(plan, created.id).await.expect("read");
    assert_eq!(read.meta.version, Version::new(2));
    assert_eq!(transitions.len(), 1);
}

// ---------------------------------------------------------------------------------------
// Case activity: timelines and generation
// ---------------------------------------------------------------------------------------

const HOUR: i64 = 3_600_000_000;
/// 2026-06-01T00:00:00Z.
const JUNE: i64 = 1_780_272_000_000_000;

fn event(id: &str, case: &str, kind: &str, hours: i64) -> CaseEvent {
    CaseEvent::from_json(&json!({
        "EventId": id,
        "CaseId": case,
        "EventType": kind,
        "OccurredAt": Timestamp::from_micros(JUNE + hours * HOUR).to_rfc3339(),
        "Team": "tier-1",
        "EffortMinutes": 10,
    }))
    .expect("valid event")
}

/// Every event of a small history: three cases, one still open.
fn history() -> Vec<CaseEvent> {
    vec![
        event("e1", "C-1", "opened", 0),
        event("e2", "C-1", "first_response", 2),
        event("e3", "C-1", "resolved", 30),
        event("e4", "C-2", "opened", 5),
        event("e5", "C-2", "resolved", 6),
        event("e6", "C-2", "reopened", 50),
        event("e7", "C-3", "opened", 10),
        event("e8", "C-3", "resolved", 12),
    ]
}

fn window(from_hours: i64, to_hours: i64) -> Window {
    Window::new(
        Timestamp::from_micros(JUNE + from_hours * HOUR),
        Timestamp::from_micros(JUNE + to_hours * HOUR),
    )
    .expect("window")
}

async fn timelines_of(db: &Arc<dyn Database>, plan: PlanId, window: Window) -> Vec<CaseTimeline> {
    let mut cases: Vec<CaseTimeline> = (db.case_timelines(plan, window).await)
        .expect("timelines")
        .into_iter()
        .map(Arc::unwrap_or_clone)
        .collect();
    cases.sort_by(|a, b| a.case_id().as_str().cmp(b.case_id().as_str()));
    cases
}

async fn timelines_follow_events_in_any_order_and_batching(db: Arc<dyn Database>) {
    let plan = new_plan(&db).await;
    assert_eq!(db.activity_generation(plan).await.expect("generation"), 0);
    let mut events = history();
    events.reverse();
    let late = events.split_off(5);
    db.ingest(plan, events, "feed".to_owned())
        .await
        .expect("first batch");
    db.ingest(plan, late, "feed".to_owned())
        .await
        .expect("second batch");

    let everything = window(-1000, 1000);
    let stored = timelines_of(&db, plan, everything).await;
    let expected = fold_cases(&history());
    assert_eq!(stored, expected);
    assert_eq!(db.activity_generation(plan).await.expect("generation"), 2);
    assert_eq!(db.case_event_count(plan).await.expect("count"), 8);
    assert_not_found(
        db.case_timelines(PlanId::new(), everything).await,
        "unknown plan",
    );
    assert_not_found(db.activity_generation(PlanId::new()).await, "unknown plan");
}

async fn duplicates_do_not_move_timelines_or_the_generation(db: Arc<dyn Database>) {
    let plan = new_plan(&db).await;
    db.ingest(plan, history(), "feed".to_owned())
        .await
        .expect("batch");
    let before = timelines_of(&db, plan, window(-1000, 1000)).await;

    let again = db
        .ingest(plan, history(), "feed".to_owned())
        .await
        .expect("re-sent batch");
    assert_eq!((again.accepted, again.duplicates), (0, 8));
    assert_eq!(db.activity_generation(plan).await.expect("generation"), 1);
    assert_eq!(timelines_of(&db, plan, window(-1000, 1000)).await, before);

    // Within one batch, the first event with an id is the one kept.
    let mut batch = vec![event("e9", "C-4", "opened", 100)];
    batch.push(event("e9", "C-4", "resolved", 101));
    let twice = db
        .ingest(plan, batch, "feed".to_owned())
        .await
        .expect("batch with a repeat");
    assert_eq!((twice.accepted, twice.duplicates), (1, 1));
    let c4 = timelines_of(&db, plan, window(90, 110)).await;
    let c4 = c4
        .iter()
        .find(|t| t.case_id().as_str() == "C-4")
        .expect("C-4");
    assert!(c4.is_open(), "the repeated id's second event was skipped");
}

async fn only_the_cases_that_matter_for_a_window_are_read(db: Arc<dyn Database>) {
    let plan = new_plan(&db).await;
    db.ingest(plan, history(), "feed".to_owned())
        .await
        .expect("batch");
    let ids = |cases: Vec<CaseTimeline>| -> Vec<String> {
        cases
            .iter()
            .map(|t| t.case_id().as_str().to_owned())
            .collect()
    };
    // [100, 200) and the window before it, [0, 100): every case was seen then.
    assert_eq!(
        ids(timelines_of(&db, plan, window(100, 200)).await),
        ["C-1", "C-2", "C-3"]
    );
    // [300, 400), before it [200, 300): nothing was seen; only C-2 (reopened) is open.
    assert_eq!(
        ids(timelines_of(&db, plan, window(300, 400)).await),
        ["C-2"]
    );
    // [-100, -50): nothing had been seen before its end.
    assert!(timelines_of(&db, plan, window(-100, -50)).await.is_empty());
}

async fn concurrent_batches_of_one_case_lose_no_event(db: Arc<dyn Database>) {
    let plan = new_plan(&db).await;
    let batches = (0..8).map(|i| {
        let db = Arc::clone(&db);
        let events = vec![
            event(&format!("o{i}"), "C-1", "opened", i),
            event(&format!("r{i}"), "C-1", "reopened", 100 + i),
        ];
        tokio::spawn(async move { db.ingest(plan, events, "feed".to_owned()).await })
    });
    for batch in batches.collect::<Vec<_>>() {
        batch.await.expect("task").expect("batch");
    }
    let cases = timelines_of(&db, plan, window(-1000, 1000)).await;
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].reopened(), 8, "every batch's reopening is kept");
    assert_eq!(cases[0].effort_minutes(), Some(160.0));
    assert_eq!(db.activity_generation(plan).await.expect("generation"), 8);
}

async fn timelines_changed_since_a_generation_are_the_ones_new_events_touched(
    db: Arc<dyn Database>,
) {
    let plan = new_plan(&db).await;
    db.ingest(plan, history(), "feed".to_owned())
        .await
        .expect("batch");
    assert_eq!(db.fold_timelines(plan).await.expect("fold"), 1);
    let generation = db.activity_generation(plan).await.expect("generation");
    db.ingest(
        plan,
        vec![
            event("e20", "C-2", "resolved", 60),
            event("e21", "C-9", "opened", 61),
        ],
        "feed".to_owned(),
    )
    .await
    .expect("second batch");
    // Read without folding first: the read folds what is pending.
    let mut changed = db
        .case_timelines_changed(plan, generation)
        .await
        .expect("changed");
    changed.sort_by(|a, b| a.case_id().as_str().cmp(b.case_id().as_str()));
    let ids: Vec<&str> = changed.iter().map(|t| t.case_id().as_str()).collect();
    assert_eq!(ids, ["C-2", "C-9"]);
    assert!(!changed[0].is_open(), "C-2 is resolved again");
    assert_eq!(db.fold_timelines(plan).await.expect("fold"), 2);
    assert!(
        db.case_timelines_changed(plan, 2)
            .await
            .expect("changed")
            .is_empty()
    );
}

// ---------------------------------------------------------------------------------------
// Idempotency keys
// ---------------------------------------------------------------------------------------

const DAY: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

fn at(micros: i64) -> Timestamp {
    Timestamp::from_micros(JUNE + micros)
}

fn created(body: &str) -> StoredResponse {
    StoredResponse {
        status: 201,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("location".into(), "/customer-case-management/x".into()),
        ],
        body: body.as_bytes().to_vec(),
    }
}

async fn an_idempotency_key_is_claimed_once_and_its_response_replayed(db: Arc<dyn Database>) {
    // Arrange: a request claims the key.
    let first = db.begin("alice", "k-1", b"same", at(0), DAY).await;
    assert_eq!(first.expect("claim"), Begin::Started);

    // Act & assert: while it runs, a retry waits and another request is refused.
    let retry = db.begin("alice", "k-1", b"same", at(1_000_000), DAY).await;
    assert_eq!(retry.expect("retry"), Begin::InFlight);
    let other = db.begin("alice", "k-1", b"other", at(1_000_000), DAY).await;
    assert_eq!(other.expect("other"), Begin::Mismatch);

    // Once it completes, a retry gets its response, however often.
    db.complete("alice", "k-1", created(r#"{"Id":1}"#))
        .await
        .expect("complete");
    for _ in 0..2 {
        let replay = db.begin("alice", "k-1", b"same", at(2 * HOUR), DAY).await;
        assert_eq!(
            replay.expect("replay"),
            Begin::Replay(created(r#"{"Id":1}"#))
        );
    }
    let other = db.begin("alice", "k-1", b"other", at(2 * HOUR), DAY).await;
    assert_eq!(other.expect("other"), Begin::Mismatch);

    // Neither abandoning nor completing again changes a kept response.
    db.abandon("alice", "k-1").await.expect("abandon");
    db.complete("alice", "k-1", created("changed"))
        .await
        .expect("complete again");
    let replay = db.begin("alice", "k-1", b"same", at(3 * HOUR), DAY).await;
    assert_eq!(
        replay.expect("replay"),
        Begin::Replay(created(r#"{"Id":1}"#))
    );
}

async fn idempotency_keys_are_scoped_per_principal(db: Arc<dyn Database>) {
    // Arrange
    assert_eq!(
        db.begin("alice", "shared", b"a", at(0), DAY)
            .await
            .expect("alice"),
        Begin::Started
    );

    // Act: another principal uses the same key for another request.
    let bob = db.begin("bob", "shared", b"b", at(0), DAY).await;

    // Assert: each has a key of their own.
    assert_eq!(bob.expect("bob"), Begin::Started);
    db.complete("bob", "shared", created("bob"))
        .await
        .expect("bob completes");
    assert_eq!(
        db.begin("alice", "shared", b"a", at(1), DAY)
            .await
            .expect("alice again"),
        Begin::InFlight
    );
    assert_eq!(
        db.begin("bob", "shared", b"b", at(1), DAY)
            .await
            .expect("bob again"),
        Begin::Replay(created("bob"))
    );
}

async fn an_abandoned_key_can_be_claimed_again(db: Arc<dyn Database>) {
    // Arrange
    assert_eq!(
        db.begin("alice", "k", b"x", at(0), DAY)
            .await
            .expect("claim"),
        Begin::Started
    );

    // Act: the request fails in a way worth retrying.
    db.abandon("alice", "k").await.expect("abandon");

    // Assert: the retry runs, with any body, and its response is kept.
    assert_eq!(
        db.begin("alice", "k", b"y", at(1), DAY)
            .await
            .expect("retry"),
        Begin::Started
    );
    db.complete("alice", "k", created("y"))
        .await
        .expect("complete");
    assert_eq!(
        db.begin("alice", "k", b"y", at(2), DAY)
            .await
            .expect("replay"),
        Begin::Replay(created("y"))
    );
}

async fn a_claim_held_past_the_in_flight_limit_is_taken_over(db: Arc<dyn Database>) {
    // Arrange: a request claims the key, and its process dies.
    let limit = IN_FLIGHT_LIMIT.as_micros() as i64;
    assert_eq!(
        db.begin("alice", "k", b"x", at(0), DAY)
            .await
            .expect("claim"),
        Begin::Started
    );

    // Act & assert: up to the limit a retry waits; after it, the retry runs.
    assert_eq!(
        db.begin("alice", "k", b"x", at(limit - 1), DAY)
            .await
            .expect("early retry"),
        Begin::InFlight
    );
    assert_eq!(
        db.begin("alice", "k", b"x", at(limit), DAY)
            .await
            .expect("late retry"),
        Begin::Started
    );
    // The new claim holds the key for a full limit of its own.
    assert_eq!(
        db.begin("alice", "k", b"x", at(2 * limit - 1), DAY)
            .await
            .expect("retry"),
        Begin::InFlight
    );
}

async fn an_expired_response_frees_its_key_and_is_purged(db: Arc<dyn Database>) {
    // Arrange: at 0, a response kept for an hour, one kept for a day and a claim abandoned
    // by a crash (an hour's retention); just before the purge, a claim with no retention
    // that is still running.
    let hour = std::time::Duration::from_secs(3600);
    for (key, ttl) in [("short", hour), ("long", DAY), ("crashed", hour)] {
        assert_eq!(
            db.begin("alice", key, b"x", at(0), ttl)
                .await
                .expect("claim"),
            Begin::Started
        );
    }
    db.complete("alice", "short", created("short"))
        .await
        .expect("complete");
    db.complete("alice", "long", created("long"))
        .await
        .expect("complete");
    let later = 2 * HOUR;
    let no_retention = std::time::Duration::ZERO;
    assert_eq!(
        db.begin(
            "alice",
            "running",
            b"x",
            at(later - 1_000_000),
            no_retention
        )
        .await
        .expect("claim"),
        Begin::Started
    );

    // Act: two hours later, the expired and the abandoned go.
    let purged = db.purge_expired(at(later)).await.expect("purge");

    // Assert
    assert_eq!(purged, 2, "the expired response and the crashed claim");
    assert_eq!(
        db.begin("alice", "long", b"x", at(later), DAY)
            .await
            .expect("long"),
        Begin::Replay(created("long"))
    );
    assert_eq!(
        db.begin("alice", "running", b"x", at(later), DAY)
            .await
            .expect("running"),
        Begin::InFlight
    );
    assert_eq!(
        db.begin("alice", "short", b"new body", at(later), DAY)
            .await
            .expect("short"),
        Begin::Started
    );
    // An expired response frees its key even before it is purged.
    assert_eq!(
        db.begin("alice", "long", b"new body", at(later + 25 * HOUR), DAY)
            .await
            .expect("long, expired"),
        Begin::Started
    );
}

async fn concurrent_claims_of_one_key_let_one_through(db: Arc<dyn Database>) {
    // Act: eight requests with one key at once.
    let mut claims = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let db = Arc::clone(&db);
        claims.spawn(async move { db.begin("alice", "k", b"x", at(0), DAY).await });
    }
    let results = claims.join_all().await;

    // Assert
    let started = results
        .iter()
        .filter(|r| matches!(r, Ok(Begin::Started)))
        .count();
    let waiting = results
        .iter()
        .filter(|r| matches!(r, Ok(Begin::InFlight)))
        .count();
    assert_eq!((started, waiting), (1, 7), "{results:?}");
}

/// A create that runs again under the same request key (its first response was lost, or
/// the idempotency key expired) finds what the first run made instead of making another:
/// plans, intervention requests, recorded evaluations and saved back-tests alike.
async fn a_create_under_a_request_key_is_made_once(db: Arc<dyn Database>) {
    let keyed = |key: &str| RequestContext {
        interaction_id: None,
        request_key: Some(key.to_owned()),
    };
    let (plan, rule) = plan_with_rule(&db).await;
    let backtest = NewBacktest {
        plan_id: plan,
        rules_id: rule.clone(),
        rules_version: Version::FIRST,
        proposal: json!({"Expression": "amount > 20"}),
        report: json!({"changed": 0, "compared": 0}),
        summary: "nothing would change".to_owned(),
        run_by: "analyst".to_owned(),
    };
    let new_plan = || {
        db.create_plan(
            fields(RecordKind::Plan, json!({})),
            Map::new(),
            "default".to_owned(),
            "alice".to_owned(),
        )
    };

    let mut made = Vec::new();
    for run in 0..2 {
        let plan_id = REQUEST
            .scope(keyed("plan"), new_plan())
            .await
            .expect("keyed plan")
            .id;
        let intervention = REQUEST
            .scope(
                keyed("request"),
                db.create_intervention(request(plan, Subject::Plan)),
            )
            .await
            .expect("keyed request")
            .id;
        let evaluation = REQUEST
            .scope(
                keyed("evaluation"),
                db.record_evaluation(evaluation(plan, &rule, &format!("case-{run}"))),
            )
            .await
            .expect("keyed evaluation")
            .id;
        let saved = REQUEST
            .scope(keyed("backtest"), db.save_backtest(backtest.clone()))
            .await
            .expect("keyed backtest")
            .id;
        made.push((plan_id, intervention, evaluation, saved));
    }
    // Without a key, each run makes a record of its own.
    let unkeyed = record(&db, plan, &rule, "case-x").await.id;

    assert_eq!(made[0], made[1], "the second run found what the first made");
    let evaluations = db
        .evaluations(plan, rule.clone(), page(10, None))
        .await
        .expect("evaluations");
    let ids: Vec<EvaluationId> = evaluations.items.iter().map(|e| e.id).collect();
    assert_eq!(ids, vec![unkeyed, made[0].2]);
    let requests = db
        .interventions(plan, InterventionFilter::default(), page(10, None))
        .await
        .expect("requests");
    assert_eq!(requests.items.len(), 1);
    let latest = db.latest_backtest(plan, rule).await.expect("latest");
    assert_eq!(latest.map(|b| b.id), Some(made[0].3));
}
