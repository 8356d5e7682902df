//! The reads of a page at once: open intervention counts of many plans or records, history
//! summaries and latest back-tests of many criteria. Each answers, item by item, what the read
//! of one item answers, and what the arrangement says it should: items with nothing included,
//! other plans' items left out, an item named twice answered once, an empty list answered with
//! nothing.

use std::collections::HashMap;
use std::sync::Arc;

use caseload_domain::{
    BacktestRecord, Change, ChildKind, Fields, HistorySummary, InterventionStatus, NewBacktest,
    PlanId, RecordId, Subject, Version, WriteMode,
};
use caseload_store::Database;
use serde_json::json;

use super::{assert_not_found, change, move_to, new_plan, plan_with_rule, record, request, rid};

/// Puts a record of `kind` with id `id` under `plan`.
async fn put(db: &Arc<dyn Database>, kind: ChildKind, plan: PlanId, id: &RecordId) {
    let change = match kind {
        ChildKind::Rules => change(json!({}), None, None, "bob"),
        ChildKind::Performance => Change::fields(Fields::default(), WriteMode::Merge, None, "bob"),
    };
    db.put_record(kind, plan, id.clone(), change)
        .await
        .expect("put record");
}

/// A plan with the rules r1, r2 and r3, and another plan with rules of the same ids r1 and
/// r3 (whose records must never be counted for the first).
async fn three_rules_and_twins(db: &Arc<dyn Database>) -> ([RecordId; 3], PlanId, PlanId) {
    let (plan, r1) = plan_with_rule(db).await;
    let (r2, r3) = (rid("r2"), rid("r3"));
    put(db, ChildKind::Rules, plan, &r2).await;
    put(db, ChildKind::Rules, plan, &r3).await;
    let other = new_plan(db).await;
    put(db, ChildKind::Rules, other, &r1).await;
    put(db, ChildKind::Rules, other, &r3).await;
    ([r1, r2, r3], plan, other)
}

/// Requests `open` interventions about `subject` and moves the first `closed` of them on
/// (acknowledged, rejected, resolved in turn), so that only the rest stay open.
async fn requests(
    db: &Arc<dyn Database>,
    plan: PlanId,
    subject: Subject,
    total: usize,
    closed: usize,
) {
    let moves = [
        InterventionStatus::Acknowledged,
        InterventionStatus::Rejected,
        InterventionStatus::Resolved,
    ];
    for n in 0..total {
        let made = db
            .create_intervention(request(plan, subject.clone()))
            .await
            .expect("create intervention");
        if n < closed {
            let to = moves[n % moves.len()];
            if to == InterventionStatus::Resolved {
                db.transition(
                    plan,
                    made.id,
                    move_to(InterventionStatus::Acknowledged, None),
                )
                .await
                .expect("acknowledge");
            }
            db.transition(plan, made.id, move_to(to, None))
                .await
                .expect("move on");
        }
    }
}

pub(super) async fn open_interventions_of_a_page_equal_those_read_one_by_one(
    db: Arc<dyn Database>,
) {
    // Arrange: three plans with 2, 0 and 1 open requests about themselves (and closed ones,
    // and open ones about their records, which do not count for the plan).
    let (p1, r1) = plan_with_rule(&db).await;
    let p2 = new_plan(&db).await;
    let p3 = new_plan(&db).await;
    let (r2, r3, perf) = (rid("r2"), rid("r3"), rid("r1"));
    put(&db, ChildKind::Rules, p1, &r2).await;
    put(&db, ChildKind::Rules, p1, &r3).await;
    put(&db, ChildKind::Performance, p1, &perf).await;
    put(&db, ChildKind::Rules, p2, &r1).await;
    requests(&db, p1, Subject::Plan, 4, 2).await;
    requests(&db, p2, Subject::Plan, 2, 2).await;
    requests(&db, p3, Subject::Plan, 1, 0).await;
    // p1's rules: r1 3 open of 4, r2 none open of 3, r3 none at all; its performance record
    // `r1` 1 open; p2's rule `r1` 2 open.
    requests(&db, p1, Subject::Rules(r1.clone()), 4, 1).await;
    requests(&db, p1, Subject::Rules(r2.clone()), 3, 3).await;
    requests(&db, p1, Subject::Performance(perf.clone()), 1, 0).await;
    requests(&db, p2, Subject::Rules(r1.clone()), 2, 0).await;
    let unknown_plan = PlanId::new();
    let unknown_rule = rid("unknown");
    // A page names an item once; one named twice is counted once.
    let plans = [p1, p2, p3, unknown_plan, p1];
    let rules = [
        r1.clone(),
        r2.clone(),
        r3.clone(),
        unknown_rule.clone(),
        r1.clone(),
    ];

    // Act
    let of_plans = db.open_plan_interventions(&plans).await.expect("plans");
    let of_rules = db
        .open_record_interventions(p1, ChildKind::Rules, &rules)
        .await
        .expect("rules");
    let of_performance = db
        .open_record_interventions(p1, ChildKind::Performance, &[perf.clone(), r2.clone()])
        .await
        .expect("performance records");
    let of_other_plans_rules = db
        .open_record_interventions(p2, ChildKind::Rules, std::slice::from_ref(&r1))
        .await
        .expect("another plan's rules");
    let of_no_plans = db.open_plan_interventions(&[]).await.expect("no plans");
    let of_no_records = db
        .open_record_interventions(p1, ChildKind::Rules, &[])
        .await
        .expect("no records");

    // Assert
    assert_eq!(
        of_plans,
        HashMap::from([(p1, 2), (p2, 0), (p3, 1), (unknown_plan, 0)])
    );
    assert_eq!(
        of_rules,
        HashMap::from([
            (r1.clone(), 3),
            (r2.clone(), 0),
            (r3.clone(), 0),
            (unknown_rule, 0)
        ])
    );
    assert_eq!(
        of_performance,
        HashMap::from([(perf.clone(), 1), (r2.clone(), 0)])
    );
    assert_eq!(of_other_plans_rules, HashMap::from([(r1.clone(), 2)]));
    assert!(of_no_plans.is_empty());
    assert!(of_no_records.is_empty());
    for (plan, count) in &of_plans {
        let one = db.open_interventions(*plan, Subject::Plan).await;
        assert_eq!(one.expect("one plan"), *count, "plan {plan}");
    }
    for (rule, count) in &of_rules {
        let one = db
            .open_interventions(p1, Subject::Rules(rule.clone()))
            .await;
        assert_eq!(one.expect("one rule"), *count, "rule {rule}");
    }
    for (record, count) in &of_performance {
        let one = db
            .open_interventions(p1, Subject::Performance(record.clone()))
            .await;
        assert_eq!(one.expect("one record"), *count, "performance {record}");
    }
}

pub(super) async fn history_summaries_of_a_page_equal_those_read_one_by_one(db: Arc<dyn Database>) {
    // Arrange: r1 with outcomes of every frequency (ties ordered by name, byte-wise: `Zeta`
    // before `appealed`), r2 with pending evaluations only, r3 with none; the same ids under
    // another plan with evaluations of their own.
    let ([r1, r2, r3], plan, other) = three_rules_and_twins(&db).await;
    let outcomes = [
        Some("upheld"),
        Some("appealed"),
        None,
        Some("upheld"),
        Some("Zeta"),
        Some("upheld"),
        None,
    ];
    let mut r1_evaluations = Vec::new();
    for (n, outcome) in outcomes.iter().enumerate() {
        let made = record(&db, plan, &r1, &format!("case-{n}")).await;
        if let Some(outcome) = outcome {
            db.set_outcome(
                plan,
                r1.clone(),
                made.id,
                (*outcome).to_owned(),
                None,
                "ops".to_owned(),
            )
            .await
            .expect("outcome");
        }
        r1_evaluations.push(made);
    }
    let r2_first = record(&db, plan, &r2, "case-a").await;
    let r2_last = record(&db, plan, &r2, "case-b").await;
    record(&db, other, &r1, "elsewhere").await;
    record(&db, other, &r3, "elsewhere").await;
    let rules = [r1.clone(), r2.clone(), r3.clone(), r1.clone()];

    // Act
    let summaries = db.history_summaries(plan, &rules).await.expect("summaries");
    let none = db.history_summaries(plan, &[]).await.expect("no criteria");

    // Assert
    let counted = |outcomes: &[(&str, i64)]| {
        outcomes
            .iter()
            .map(|(o, n)| ((*o).to_owned(), *n))
            .collect::<Vec<_>>()
    };
    let expected = HashMap::from([
        (
            r1.clone(),
            HistorySummary {
                count: 7,
                first: Some(r1_evaluations[0].evaluated_at),
                last: Some(r1_evaluations[6].evaluated_at),
                outcomes: counted(&[("upheld", 3), ("pending", 2), ("Zeta", 1), ("appealed", 1)]),
            },
        ),
        (
            r2.clone(),
            HistorySummary {
                count: 2,
                first: Some(r2_first.evaluated_at),
                last: Some(r2_last.evaluated_at),
                outcomes: counted(&[("pending", 2)]),
            },
        ),
        (r3.clone(), HistorySummary::default()),
    ]);
    assert_eq!(summaries, expected);
    for (rule, summary) in &summaries {
        let one = db.history_summary(plan, rule.clone()).await;
        assert_eq!(&one.expect("one summary"), summary, "criterion {rule}");
    }
    assert!(none.is_empty());
}

pub(super) async fn latest_backtests_of_a_page_equal_those_read_one_by_one(db: Arc<dyn Database>) {
    // Arrange: r1 with three back-tests, r2 with one, r3 with none; the same ids under
    // another plan with back-tests of their own, saved last.
    let ([r1, r2, r3], plan, other) = three_rules_and_twins(&db).await;
    let save = |plan: PlanId, rule: &RecordId, limit: u32| {
        let db = Arc::clone(&db);
        let new = NewBacktest {
            plan_id: plan,
            rules_id: rule.clone(),
            rules_version: Version::FIRST,
            proposal: json!({"Expression": "amount > limit", "Parameters": {"limit": limit}}),
            report: json!({"changed": limit, "compared": 3}),
            summary: format!("{limit} of 3 decisions would change."),
            run_by: "analyst".to_owned(),
        };
        async move { db.save_backtest(new).await.expect("save backtest") }
    };
    save(plan, &r1, 1).await;
    save(plan, &r2, 2).await;
    save(plan, &r1, 3).await;
    let r2_latest = save(plan, &r2, 4).await;
    let r1_latest = save(plan, &r1, 5).await;
    save(other, &r1, 6).await;
    save(other, &r3, 7).await;
    let rules = [r1.clone(), r2.clone(), r3.clone(), r2.clone()];

    // Act
    let latest = db.latest_backtests(plan, &rules).await.expect("latest");
    let none = db.latest_backtests(plan, &[]).await.expect("no criteria");

    // Assert
    let expected: HashMap<RecordId, BacktestRecord> =
        HashMap::from([(r1.clone(), r1_latest), (r2.clone(), r2_latest)]);
    assert_eq!(latest, expected);
    for rule in &rules {
        let one = db.latest_backtest(plan, rule.clone()).await;
        assert_eq!(
            one.expect("one latest"),
            latest.get(rule).cloned(),
            "{rule}"
        );
    }
    assert!(none.is_empty());
}

pub(super) async fn a_page_naming_a_criterion_the_plan_lacks_is_not_found(db: Arc<dyn Database>) {
    // Arrange: a performance record is not a criterion, even with a criterion's id; a
    // criterion of another plan is not this plan's.
    let (plan, r1) = plan_with_rule(&db).await;
    let other = new_plan(&db).await;
    put(&db, ChildKind::Performance, plan, &rid("p1")).await;
    put(&db, ChildKind::Rules, other, &rid("r9")).await;

    for (missing, what) in [
        (rid("p1"), "a performance record"),
        (rid("r9"), "another plan's criterion"),
        (rid("unknown"), "an unknown criterion"),
    ] {
        // Act
        let rules = [r1.clone(), missing.clone()];
        let summaries = db.history_summaries(plan, &rules).await;
        let latest = db.latest_backtests(plan, &rules).await;

        // Assert: the page is refused as the read of that one criterion is.
        assert_not_found(summaries, &format!("summaries naming {what}"));
        assert_not_found(latest, &format!("back-tests naming {what}"));
        assert_not_found(
            db.history_summary(plan, missing.clone()).await,
            &format!("summary of {what}"),
        );
        assert_not_found(
            db.latest_backtest(plan, missing).await,
            &format!("back-test of {what}"),
        );
    }
    assert_not_found(
        db.history_summaries(PlanId::new(), std::slice::from_ref(&r1))
            .await,
        "summaries under an unknown plan",
    );
    assert_not_found(
        db.latest_backtests(PlanId::new(), std::slice::from_ref(&r1))
            .await,
        "back-tests under an unknown plan",
    );
}
