//! The audit trail: every change appends one record in its transaction, refused writes
//! append none, the chains verify, and tampering is found where it happened.

use std::sync::Arc;

use caseload_domain::{
    ChildKind, InterventionStatus, NewBacktest, PageRequest, PageSize, PlanId, Subject, Timestamp,
    Version,
};
use caseload_store::audit::{REQUEST, RequestContext};
use caseload_store::{AuditAction, AuditFilter, AuditRecord, Database, StoreError};
use serde_json::{Value as Json, json};

use super::{
    Raw, amount, change, evaluation, event, extensions, history, move_to, new_plan, plan_with_rule,
    record, request, rid,
};

/// Every record of a plan's chain (or of all chains), oldest first.
async fn trail(db: &Arc<dyn Database>, plan: Option<PlanId>) -> Vec<AuditRecord> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = db
            .audit_records(AuditFilter {
                plan,
                from: None,
                to: None,
                page: PageRequest {
                    after,
                    size: PageSize::parse(Some(100)).expect("size"),
                },
            })
            .await
            .expect("audit records");
        all.extend(page.items);
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    all.reverse();
    all
}

/// The records a step appended, checked to be exactly one.
async fn only_new(db: &Arc<dyn Database>, plan: PlanId, seen: &mut usize) -> AuditRecord {
    let records = trail(db, Some(plan)).await;
    assert_eq!(records.len(), *seen + 1, "one new record: {records:#?}");
    *seen += 1;
    records.into_iter().last().expect("a record")
}

fn assert_record(
    record: &AuditRecord,
    (action, subject, actor): (AuditAction, &str, &str),
    before: Option<Json>,
    after: Json,
) {
    assert_eq!(record.action, action.as_str());
    assert_eq!(record.subject, subject, "{record:#?}");
    assert_eq!(record.actor, actor);
    assert_eq!(record.before, before, "before of {action}");
    assert_eq!(record.after.as_ref(), Some(&after), "after of {action}");
}

async fn assert_intact(db: &Arc<dyn Database>) {
    let verdict = db.verify_audit().await.expect("verify");
    assert!(verdict.is_intact(), "{verdict:?}");
}

pub(super) async fn every_change_appends_one_audit_record_saying_what_changed(
    db: Arc<dyn Database>,
) {
    // A plan and its creation.
    let plan = new_plan(&db).await;
    let mut seen = 0;
    let created = only_new(&db, plan, &mut seen).await;
    assert_record(
        &created,
        (AuditAction::PlanCreate, "plan", "alice"),
        None,
        json!({"CustomerCaseManagementPlanPeriod": "2026"}),
    );
    assert_eq!(created.chain, plan.to_string());
    assert_eq!(created.plan(), Some(plan));
    assert_eq!(created.prev_hash, caseload_store::audit::GENESIS);

    // A plan update: only what changed.
    let mut update = change(
        json!({}),
        Some(extensions(json!({"BusinessCalendar": {"TimeZone": "UTC"}}))),
        Some(1),
        "bob",
    );
    update.fields = super::fields(
        caseload_domain::RecordKind::Plan,
        json!({"CustomerCaseTrainingPlan": "coaching"}),
    );
    db.update_plan(plan, update).await.expect("update plan");
    let updated = only_new(&db, plan, &mut seen).await;
    assert_record(
        &updated,
        (AuditAction::PlanUpdate, "plan", "bob"),
        Some(json!({"CustomerCaseTrainingPlan": null, "BusinessCalendar": null})),
        json!({"CustomerCaseTrainingPlan": "coaching", "BusinessCalendar": {"TimeZone": "UTC"}}),
    );
    assert_eq!(updated.prev_hash, created.hash, "chained to the previous");
    assert!(updated.seq > created.seq);

    // A criterion created, then its settings changed.
    let rule = rid("r1");
    let put = |properties: Json, settings: Option<Json>, actor: &str| {
        let db = db.clone();
        let rule = rule.clone();
        let change = change(properties, settings.map(extensions), None, actor);
        async move { db.put_record(ChildKind::Rules, plan, rule, change).await }
    };
    let first = put(
        json!({"CustomerCaseDecisionCriterion": "refund limit"}),
        Some(json!({"Expression": "amount > 10"})),
        "alice",
    )
    .await
    .expect("create rule");
    assert!(first.created);
    assert_record(
        &only_new(&db, plan, &mut seen).await,
        (AuditAction::RulesPut, "rules/r1", "alice"),
        None,
        json!({"CustomerCaseDecisionCriterion": "refund limit", "Expression": "amount > 10"}),
    );
    put(
        json!({}),
        Some(json!({"Expression": "amount > 20", "Parameters": {"limit": 5}})),
        "carol",
    )
    .await
    .expect("change settings");
    assert_record(
        &only_new(&db, plan, &mut seen).await,
        (AuditAction::RulesPut, "rules/r1", "carol"),
        Some(json!({"Expression": "amount > 10", "Parameters": null})),
        json!({"Expression": "amount > 20", "Parameters": {"limit": 5}}),
    );

    // A performance record.
    db.put_record(
        ChildKind::Performance,
        plan,
        rid("p1"),
        change(json!({}), None, None, "dave"),
    )
    .await
    .expect("performance");
    assert_record(
        &only_new(&db, plan, &mut seen).await,
        (AuditAction::PerformancePut, "performance/p1", "dave"),
        None,
        json!({}),
    );

    // An intervention request and a move.
    let raised = db
        .create_intervention(request(plan, Subject::Rules(rule.clone())))
        .await
        .expect("request");
    let subject = format!("intervention/{}", raised.id);
    assert_record(
        &only_new(&db, plan, &mut seen).await,
        (AuditAction::InterventionCreate, &subject, "carol"),
        None,
        json!({"Subject": "rules/r1", "Reason": "limit looks wrong", "RequestedAction": "review",
               "Details": {}, "Requester": "carol", "Status": "open"}),
    );
    db.transition(
        plan,
        raised.id,
        move_to(InterventionStatus::Acknowledged, Some(1)),
    )
    .await
    .expect("move");
    assert_record(
        &only_new(&db, plan, &mut seen).await,
        (AuditAction::InterventionTransition, &subject, "ops"),
        Some(json!({"Status": "open"})),
        json!({"Status": "acknowledged", "Comment": "moving to acknowledged"}),
    );

    // A recorded evaluation, its outcome, a back-test.
    let evaluated = record(&db, plan, &rule, "case-1").await;
    let subject = format!("evaluation/{}", evaluated.id);
    assert_record(
        &only_new(&db, plan, &mut seen).await,
        (AuditAction::EvaluationRecord, &subject, "scorer"),
        None,
        json!({"RulesId": "r1", "RulesVersion": 1, "CaseId": "case-1", "Result": true,
               "Decision": "refer", "Amount": {"Value": "12.50", "Currency": "EUR"}}),
    );
    db.set_outcome(
        plan,
        rule.clone(),
        evaluated.id,
        "appealed".to_owned(),
        Some(amount("30", "EUR")),
        "eve".to_owned(),
    )
    .await
    .expect("outcome");
    assert_record(
        &only_new(&db, plan, &mut seen).await,
        (AuditAction::EvaluationOutcome, &subject, "eve"),
        Some(json!({"Outcome": null, "Amount": {"Value": "12.50", "Currency": "EUR"}})),
        json!({"Outcome": "appealed", "Amount": {"Value": "30", "Currency": "EUR"}}),
    );
    let backtest = db
        .save_backtest(NewBacktest {
            plan_id: plan,
            rules_id: rule.clone(),
            rules_version: Version::new(2),
            proposal: json!({"Expression": "amount > 50"}),
            report: json!({"Flips": 1}),
            summary: "1 decision flips".to_owned(),
            run_by: "frank".to_owned(),
        })
        .await
        .expect("back-test");
    assert_record(
        &only_new(&db, plan, &mut seen).await,
        (
            AuditAction::BacktestSave,
            &format!("backtest/{}", backtest.id),
            "frank",
        ),
        None,
        json!({"RulesId": "r1", "RulesVersion": 2, "Proposal": {"Expression": "amount > 50"},
               "Summary": "1 decision flips"}),
    );

    // A batch of case events: one record with counts; a batch of duplicates and folding
    // the timelines change nothing the trail records.
    let mut batch = history();
    batch.push(event("e1", "C-1", "opened", 0));
    db.ingest(plan, batch, "feed".to_owned())
        .await
        .expect("batch");
    assert_record(
        &only_new(&db, plan, &mut seen).await,
        (AuditAction::EventsIngest, "case-events", "feed"),
        None,
        json!({"Received": 9, "Accepted": 8, "Duplicates": 1, "Generation": 1}),
    );
    db.ingest(plan, history(), "feed".to_owned())
        .await
        .expect("duplicates");
    db.fold_timelines(plan).await.expect("fold");
    assert_eq!(trail(&db, Some(plan)).await.len(), seen);

    let verdict = db.verify_audit().await.expect("verify");
    assert!(verdict.is_intact(), "{verdict:?}");
    assert_eq!((verdict.chains, verdict.records), (1, seen as u64));
}

pub(super) async fn writes_name_the_interaction_id_of_their_request(db: Arc<dyn Database>) {
    let plan = new_plan(&db).await;
    let context = RequestContext {
        interaction_id: Some("req-42".to_owned()),
        ..RequestContext::default()
    };
    REQUEST
        .scope(
            context,
            db.put_record(
                ChildKind::Rules,
                plan,
                rid("r1"),
                change(json!({}), None, None, "alice"),
            ),
        )
        .await
        .expect("put in a request");
    let event = db
        .append_service_event(
            AuditAction::ApiKeyCreate,
            "root".to_owned(),
            "apikey/k1".to_owned(),
            json!({"Name": "ops", "Scopes": ["admin"]}),
        )
        .await
        .expect("service event");

    let records = trail(&db, Some(plan)).await;
    assert_eq!(records[0].interaction_id, None, "outside any request");
    assert_eq!(records[1].interaction_id.as_deref(), Some("req-42"));
    assert_eq!(event.chain, "");
    assert_eq!(event.action, "apikey.create");
    assert_eq!(event.prev_hash, caseload_store::audit::GENESIS);
    let everything = trail(&db, None).await;
    assert_eq!(everything.len(), 3);
    assert_eq!(everything.last(), Some(&event));
    let verdict = db.verify_audit().await.expect("verify");
    assert!(verdict.is_intact(), "{verdict:?}");
    assert_eq!((verdict.chains, verdict.records), (2, 3));
}

pub(super) async fn refused_writes_append_no_audit_record(db: Arc<dyn Database>) {
    let (plan, rule) = plan_with_rule(&db).await;
    let before = trail(&db, None).await;
    let unknown = PlanId::new();
    let refused = |result: Result<(), StoreError>, what: &str| {
        assert!(result.is_err(), "{what} should be refused");
    };

    let stale = change(
        json!({"CustomerCaseDecisionCriterion": "x"}),
        None,
        Some(9),
        "a",
    );
    let mut plan_change = stale.clone();
    plan_change.fields = caseload_domain::Fields::default();
    refused(
        db.update_plan(unknown, plan_change.clone()).await.map(drop),
        "update of an unknown plan",
    );
    refused(
        db.update_plan(plan, plan_change).await.map(drop),
        "update at a stale version",
    );
    refused(
        db.put_record(ChildKind::Rules, plan, rule.clone(), stale.clone())
            .await
            .map(drop),
        "put at a stale version",
    );
    refused(
        db.put_record(ChildKind::Rules, plan, rid("nope"), stale.clone())
            .await
            .map(drop),
        "conditional put of a missing record",
    );
    refused(
        db.put_record(ChildKind::Rules, unknown, rule.clone(), stale)
            .await
            .map(drop),
        "put under an unknown plan",
    );
    refused(
        db.create_intervention(request(plan, Subject::Performance(rid("nope"))))
            .await
            .map(drop),
        "request about a missing record",
    );
    let raised = db
        .create_intervention(request(plan, Subject::Plan))
        .await
        .expect("request");
    let after_request = trail(&db, None).await.len();
    refused(
        db.transition(plan, raised.id, move_to(InterventionStatus::Open, None))
            .await
            .map(drop),
        "illegal move",
    );
    refused(
        db.transition(
            plan,
            raised.id,
            move_to(InterventionStatus::Resolved, Some(7)),
        )
        .await
        .map(drop),
        "move at a stale version",
    );
    refused(
        db.record_evaluation(evaluation(plan, &rid("nope"), "c"))
            .await
            .map(drop),
        "evaluation of a missing criterion",
    );
    refused(
        db.set_outcome(
            plan,
            rule.clone(),
            caseload_domain::EvaluationId::new(),
            "upheld".to_owned(),
            None,
            "ops".to_owned(),
        )
        .await
        .map(drop),
        "outcome of a missing evaluation",
    );
    refused(
        db.ingest(unknown, history(), "feed".to_owned())
            .await
            .map(drop),
        "events of an unknown plan",
    );

    let after = trail(&db, None).await;
    assert_eq!(before.len() + 1, after_request, "the accepted request");
    assert_eq!(after.len(), after_request, "refusals appended nothing");
    assert_intact(&db).await;
}

pub(super) async fn audit_records_are_listed_newest_first_by_plan_and_time(db: Arc<dyn Database>) {
    let (one, _) = plan_with_rule(&db).await;
    let two = new_plan(&db).await;
    for n in 0..3 {
        db.put_record(
            ChildKind::Performance,
            two,
            rid(&format!("p{n}")),
            change(json!({}), None, None, "bob"),
        )
        .await
        .expect("performance");
    }
    let all = trail(&db, None).await;
    assert_eq!(all.len(), 6);
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));

    let filter =
        |plan: Option<PlanId>, from: Option<Timestamp>, to: Option<Timestamp>, size| AuditFilter {
            plan,
            from,
            to,
            page: PageRequest {
                after: None,
                size: PageSize::parse(Some(size)).expect("size"),
            },
        };
    let of_two = db
        .audit_records(filter(Some(two), None, None, 2))
        .await
        .expect("plan two");
    let newest: Vec<i64> = all.iter().rev().take(2).map(|r| r.seq).collect();
    assert_eq!(
        of_two.items.iter().map(|r| r.seq).collect::<Vec<_>>(),
        newest
    );
    let next = db
        .audit_records(AuditFilter {
            page: PageRequest {
                after: of_two.next_after.clone(),
                size: PageSize::parse(Some(2)).expect("size"),
            },
            ..filter(Some(two), None, None, 2)
        })
        .await
        .expect("next page");
    assert_eq!(next.items.len(), 2);
    assert_eq!(next.next_after, None);
    assert!(next.items.iter().all(|r| r.plan() == Some(two)));
    assert_eq!(trail(&db, Some(one)).await.len(), 2);

    // [from, to): the time of the third record up to, not including, the fifth's.
    let (from, to) = (all[2].at, all[4].at);
    let window = db
        .audit_records(filter(None, Some(from), Some(to), 100))
        .await
        .expect("window");
    let expected: Vec<i64> = all
        .iter()
        .rev()
        .filter(|r| r.at >= from && r.at < to)
        .map(|r| r.seq)
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(
        window.items.iter().map(|r| r.seq).collect::<Vec<_>>(),
        expected
    );
    let none = db
        .audit_records(filter(Some(PlanId::new()), None, None, 10))
        .await
        .expect("unknown plan");
    assert!(none.items.is_empty());
}

pub(super) async fn concurrent_writers_to_one_plan_keep_one_valid_chain(db: Arc<dyn Database>) {
    let plan = new_plan(&db).await;
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let db = db.clone();
            tokio::spawn(async move {
                for n in 0..10 {
                    db.put_record(
                        ChildKind::Rules,
                        plan,
                        rid(&format!("r{}", n % 3)),
                        change(
                            json!({"CustomerCaseDecisionCriterion": format!("{w}-{n}")}),
                            None,
                            None,
                            "w",
                        ),
                    )
                    .await
                    .expect("put");
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.expect("writer");
    }
    let records = trail(&db, Some(plan)).await;
    assert_eq!(records.len(), 81);
    for pair in records.windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash, "seq {}", pair[1].seq);
    }
    let verdict = db.verify_audit().await.expect("verify");
    assert!(verdict.is_intact(), "{verdict:?}");
    assert_eq!(verdict.records, 81);
}

/// Runs `sql` as someone with write access to the database would: with the append-only
/// triggers out of the way.
async fn tamper(raw: &Raw, sql: &str) {
    if raw.is_sqlite() {
        raw.execute(&format!(
            "DROP TRIGGER IF EXISTS audit_records_no_update; \
             DROP TRIGGER IF EXISTS audit_records_no_delete; {sql}"
        ))
        .await;
    } else {
        raw.execute(&format!(
            "ALTER TABLE audit_records DISABLE TRIGGER USER; {sql}"
        ))
        .await;
    }
}

pub(super) async fn audit_records_cannot_be_changed_or_removed(db: Arc<dyn Database>, raw: Raw) {
    new_plan(&db).await;
    for sql in [
        "UPDATE audit_records SET actor = 'mallory'",
        "DELETE FROM audit_records",
    ] {
        let refused = raw.try_execute(sql).await.expect_err(sql);
        assert!(refused.contains("append-only"), "{sql}: {refused}");
    }
    if !raw.is_sqlite() {
        let refused = raw
            .try_execute("TRUNCATE audit_records")
            .await
            .expect_err("truncate");
        assert!(refused.contains("append-only"), "{refused}");
    }
    assert_eq!(trail(&db, None).await.len(), 1);
    assert_intact(&db).await;
}

/// A plan with a criterion changed a few times: a chain of `1 + n` records.
async fn plan_with_history(db: &Arc<dyn Database>, n: usize) -> (PlanId, Vec<AuditRecord>) {
    let plan = new_plan(db).await;
    for v in 0..n {
        db.put_record(
            ChildKind::Rules,
            plan,
            rid("r1"),
            change(
                json!({"CustomerCaseDecisionCriterion": format!("v{v}")}),
                None,
                None,
                "a",
            ),
        )
        .await
        .expect("put");
    }
    (plan, trail(db, Some(plan)).await)
}

pub(super) async fn a_changed_audit_record_breaks_the_chain_at_its_seq(
    db: Arc<dyn Database>,
    raw: Raw,
) {
    let (_, intact) = plan_with_history(&db, 2).await;
    let (plan, records) = plan_with_history(&db, 4).await;
    assert_intact(&db).await;
    let target = &records[2];

    tamper(
        &raw,
        &format!(
            "UPDATE audit_records SET after = '{{\"CustomerCaseDecisionCriterion\": \"forged\"}}' \
             WHERE seq = {}",
            target.seq
        ),
    )
    .await;

    let verdict = db.verify_audit().await.expect("verify");
    let found = verdict.first_break.expect("the change is found");
    assert_eq!(found.chain, plan.to_string());
    assert_eq!(found.seq, target.seq);
    assert!(found.reason.contains("hash"), "{}", found.reason);
    assert_eq!(verdict.chains, 2);
    assert_eq!(verdict.records as usize, records.len() + intact.len());
}

pub(super) async fn removed_audit_records_are_found(db: Arc<dyn Database>, raw: Raw) {
    let (plan, records) = plan_with_history(&db, 4).await;

    // A record in the middle: the next one no longer links.
    tamper(
        &raw,
        &format!("DELETE FROM audit_records WHERE seq = {}", records[1].seq),
    )
    .await;
    let found = db.verify_audit().await.expect("verify").first_break;
    assert_eq!(found.as_ref().map(|b| b.seq), Some(records[2].seq));
    assert_eq!(found.map(|b| b.chain), Some(plan.to_string()));

    // Only the newest record, in another plan: its head still names it.
    let (other, more) = plan_with_history(&db, 2).await;
    let last = more.last().expect("a record");
    tamper(
        &raw,
        &format!("DELETE FROM audit_records WHERE seq = {}", last.seq),
    )
    .await;
    let verdict = db.verify_audit().await.expect("verify");
    let found = verdict.first_break.expect("a break");
    assert_eq!(
        found.chain,
        plan.to_string(),
        "the earliest break is reported"
    );
    tamper(
        &raw,
        &format!("DELETE FROM audit_records WHERE chain = '{plan}'"),
    )
    .await;
    let found = db
        .verify_audit()
        .await
        .expect("verify")
        .first_break
        .expect("a break");
    assert_eq!((found.chain, found.seq), (plan.to_string(), records[4].seq));
    assert!(found.reason.contains("no records"), "{}", found.reason);
    let mut verifier_sees = db.verify_audit().await.expect("verify");
    verifier_sees.first_break = None;
    assert_eq!(verifier_sees.chains, 2, "both chains were checked");
    let _ = other;
}

pub(super) async fn verification_pages_through_a_long_chain(db: Arc<dyn Database>, raw: Raw) {
    const EVENTS: usize = 1_500;
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let db = db.clone();
            tokio::spawn(async move {
                for n in (w..EVENTS).step_by(8) {
                    db.append_service_event(
                        AuditAction::ApiKeyRevoke,
                        "root".to_owned(),
                        format!("apikey/k{n}"),
                        json!({"Revoked": true}),
                    )
                    .await
                    .expect("append");
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.expect("writer");
    }
    let (_, records) = plan_with_history(&db, 1).await;
    let verdict = db.verify_audit().await.expect("verify");
    assert!(verdict.is_intact(), "{verdict:?}");
    assert_eq!(verdict.records as usize, EVENTS + records.len());
    assert_eq!(verdict.chains, 2);

    let service = trail(&db, None).await;
    let target = service
        .iter()
        .filter(|r| r.chain.is_empty())
        .nth(1_200)
        .expect("record 1,200");
    tamper(
        &raw,
        &format!(
            "UPDATE audit_records SET actor = 'mallory' WHERE seq = {}",
            target.seq
        ),
    )
    .await;
    let found = db
        .verify_audit()
        .await
        .expect("verify")
        .first_break
        .expect("a break");
    assert_eq!((found.chain.as_str(), found.seq), ("", target.seq));
}
