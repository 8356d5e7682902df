//! The reads of a page at once: open intervention counts of many plans or records. Each
//! answers, item by item, what the read of one item answers, and what the arrangement says it
//! should: items with nothing included, other plans' items left out, an item named twice
//! answered once, an empty list answered with nothing.

use std::collections::HashMap;
use std::sync::Arc;

use caseload_domain::{
    Change, ChildKind, Fields, InterventionStatus, PlanId, RecordId, Subject, WriteMode,
};
use caseload_store::Database;
use serde_json::json;

use super::{change, move_to, new_plan, plan_with_rule, request, rid};

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
