//! Case decision criteria that run: settings validated, evaluations explained, history
//! recorded, proposals back-tested, versions kept.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_backends;

const EXPRESSION: &str = "amount <= limits.auto_refund && history.disputes_12m < 2";

/// A plan with the refund criterion `r1`; returns the plan id.
async fn plan_with_criterion(app: &TestApp) -> String {
    let id = app.create_plan(&json!({})).await;
    let made = app
        .put(
            &format!("/CustomerCaseManagement/{id}/Rules/r1/Update"),
            &json!({
                "CustomerCaseDecisionCriterion": "refund without review",
                "Expression": EXPRESSION,
                "Parameters": {"limits.auto_refund": 50},
                "Decision": "auto_approve",
                "Otherwise": "escalate",
                "Priority": 10,
            }),
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.text);
    id
}

fn facts(amount: f64, disputes: i64) -> Value {
    json!({"Facts": {"amount": amount, "history": {"disputes_12m": disputes}}})
}

on_both_backends! {
    async fn criterion_settings_are_stored_shown_and_rendered_into_the_bian_rules_text(app: TestApp) {
        let id = plan_with_criterion(&app).await;
        let got = app.get(&format!("/CustomerCaseManagement/{id}/Rules/r1/Retrieve")).await;
        let rules = &got.body["Rules"];
        assert_eq!(rules["Expression"], EXPRESSION);
        assert_eq!(rules["Parameters"]["limits.auto_refund"], 50);
        assert_eq!(rules["Decision"], "auto_approve");
        assert_eq!(rules["Priority"], 10);
        assert_eq!(rules["OpenInterventions"], 0);
        let text = rules["CustomerCaseDecisionCriterionRules"].as_str().expect("rendered rules");
        assert!(text.contains(EXPRESSION) && text.contains("limits.auto_refund = 50") && text.contains("auto_approve"), "{text}");

        // A client's own text is shown as written.
        app.put(&format!("/CustomerCaseManagement/{id}/Rules/r1/Update"), &json!({"CustomerCaseDecisionCriterionRules": "Refunds up to EUR 50"})).await;
        let got = app.get(&format!("/customer-case-management/{id}/rules/r1")).await;
        assert_eq!(got.body["CustomerCaseDecisionCriterionRules"], "Refunds up to EUR 50");
        assert_eq!(got.body["Expression"], EXPRESSION, "a fields-only update keeps the settings");
    }

    async fn invalid_settings_are_400_with_position_and_reason_and_change_nothing(app: TestApp) {
        let id = plan_with_criterion(&app).await;
        let path = format!("/CustomerCaseManagement/{id}/Rules/r1/Update");
        let cases = [
            (json!({"Expression": "amount <= "}), "syntax"),
            (json!({"Expression": "amount <= limits.auto_refnd"}), "limits.auto_refnd"),
            (json!({"Expression": "amount + 1"}), "true or false"),
            (json!({"Parameters": {"limits.auto_refund": null}}), "limits.auto_refund"),
            (json!({"Parameters": {"limits.auto_refund": {"deep": 1}}}), "Parameters"),
            (json!({"Priority": "high"}), "Priority"),
            (json!({"Decision": 5}), "Decision"),
            (json!({"Expression": "[1, 2].all(x, [1, 2].exists(y, x == y))"}), "nested"),
            (json!({"Expression": "x".repeat(3000)}), "limit"),
        ];
        for (body, expected) in cases {
            let msg = app.put(&path, &body).await.assert_error(400);
            assert!(msg.contains(expected), "{expected:?} not in {msg:?} for {body}");
        }
        let msg = app.put(&path, &json!({"Expression": "amount <= limits.auto_refnd"})).await.assert_error(400);
        assert!(msg.contains("at character 11"), "position of the unknown parameter: {msg}");
        let got = app.get(&format!("/CustomerCaseManagement/{id}/Rules/r1/Retrieve")).await;
        assert_eq!(got.etag(), "\"1\"", "nothing changed");
        assert_eq!(got.body["Rules"]["Expression"], EXPRESSION);
    }

    async fn an_evaluation_gives_the_decision_and_explains_each_sub_condition(app: TestApp) {
        let id = plan_with_criterion(&app).await;
        let path = format!("/customer-case-management/{id}/rules/r1/evaluations");
        let yes = app.post(&path, &facts(42.5, 0)).await;
        assert_eq!(yes.status, StatusCode::OK, "{}", yes.text);
        assert_eq!(yes.body["Result"], true);
        assert_eq!(yes.body["Decision"], "auto_approve");
        assert_eq!(yes.body["ParametersUsed"]["limits.auto_refund"], 50);
        assert_eq!(yes.body["FactsUsed"]["history.disputes_12m"], 0);
        let conditions = yes.body["Conditions"].as_array().expect("conditions");
        assert_eq!(conditions.len(), 2);
        assert!(conditions.iter().all(|c| c["Held"] == true));
        assert_eq!(conditions[0]["Condition"], "amount <= limits.auto_refund");

        let no = app.post(&path, &facts(42.5, 3)).await;
        assert_eq!(no.body["Result"], false);
        assert_eq!(no.body["Decision"], "escalate");
        assert_eq!(no.body["Conditions"][1]["Held"], false);
        assert!(no.body["Explanation"].as_str().is_some_and(|e| e.contains("history.disputes_12m < 2 is false")), "{}", no.text);
    }

    async fn decisions_flip_exactly_at_the_threshold(app: TestApp) {
        let id = plan_with_criterion(&app).await;
        let path = format!("/customer-case-management/{id}/rules/r1/evaluations");
        assert_eq!(app.post(&path, &facts(50.0, 1)).await.body["Result"], true);
        assert_eq!(app.post(&path, &json!({"Facts": {"amount": 50, "history": {"disputes_12m": 1}}})).await.body["Result"], true);
        assert_eq!(app.post(&path, &facts(50.01, 1)).await.body["Result"], false);
        assert_eq!(app.post(&path, &facts(10.0, 2)).await.body["Result"], false);
    }

    async fn missing_or_malformed_facts_are_400_naming_them(app: TestApp) {
        let id = plan_with_criterion(&app).await;
        let path = format!("/customer-case-management/{id}/rules/r1/evaluations");
        let msg = app.post(&path, &json!({"Facts": {"amount": 10}})).await.assert_error(400);
        assert!(msg.contains("history.disputes_12m"), "{msg}");
        app.post(&path, &json!({})).await.assert_error(400);
        app.post(&path, &json!({"Facts": [1]})).await.assert_error(400);
        app.post(&path, &json!({"Facts": {}, "Surprise": 1})).await.assert_error(400);
        app.post(&path, &json!({"Facts": {"amount": "ten", "history": {"disputes_12m": 0}}})).await.assert_error(400);
        let big: Vec<i64> = (0..5_000).collect();
        let msg = app.post(&path, &json!({"Facts": {"amount": 1, "history": {"disputes_12m": 0}, "list": big}})).await.assert_error(400);
        assert!(msg.contains("limit"), "{msg}");
        app.put(&format!("/CustomerCaseManagement/{id}/Rules/plain/Update"), &json!({"CustomerCaseDecisionCriterion": "text only"})).await;
        app.post(&format!("/customer-case-management/{id}/rules/plain/evaluations"), &facts(1.0, 0)).await.assert_error(409);
        app.post(&format!("/customer-case-management/{id}/rules/none/evaluations"), &facts(1.0, 0)).await.assert_error(404);
    }

    async fn an_expensive_expression_never_stalls_the_server(app: TestApp) {
        let id = app.create_plan(&json!({})).await;
        let path = format!("/CustomerCaseManagement/{id}/Rules/heavy/Update");
        let made = app.put(&path, &json!({"Expression": "items.all(x, x in items)"})).await;
        assert_eq!(made.status, StatusCode::OK, "{}", made.text);
        let items: Vec<i64> = (0..1_000).collect();
        let started = std::time::Instant::now();
        let reply = tokio::time::timeout(
            Duration::from_secs(10),
            app.post(&format!("/customer-case-management/{id}/rules/heavy/evaluations"), &json!({"Facts": {"items": items}})),
        )
        .await
        .expect("the evaluation answers promptly");
        assert!(reply.status == StatusCode::OK || reply.status == StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text);
        eprintln!("largest allowed quadratic evaluation took {:?}", started.elapsed());
        let live = tokio::time::timeout(Duration::from_secs(2), app.get("/health/live")).await.expect("still serving");
        assert_eq!(live.status, StatusCode::OK);
    }

    async fn recorded_evaluations_build_the_history_and_outcomes_can_be_attached(app: TestApp) {
        let id = plan_with_criterion(&app).await;
        let path = format!("/customer-case-management/{id}/rules/r1/evaluations");
        let mut ids = Vec::new();
        for (n, amount) in [10.0, 40.0, 55.0, 60.0, 70.0, 90.0].into_iter().enumerate() {
            let mut body = facts(amount, 0);
            body["Record"] = json!(true);
            body["CaseId"] = json!(format!("case-{n}"));
            body["Amount"] = json!({"Value": format!("{amount:.2}"), "Currency": "EUR"});
            let recorded = app.post(&path, &body).await;
            assert_eq!(recorded.status, StatusCode::CREATED, "{}", recorded.text);
            assert_eq!(recorded.body["RulesVersion"], 1);
            ids.push(recorded.body["EvaluationId"].as_str().expect("id").to_owned());
        }
        for (n, outcome) in [(2, "appealed"), (3, "upheld"), (0, "upheld")] {
            let done = app.send(Method::PATCH, &format!("{path}/{}", ids[n]), Some(&json!({"Outcome": outcome})), &[]).await;
            assert_eq!(done.status, StatusCode::OK, "{}", done.text);
            assert_eq!(done.body["Outcome"], outcome);
        }
        app.send(Method::PATCH, &format!("{path}/{}", ids[0]), Some(&json!({})), &[]).await.assert_error(400);
        app.send(Method::PATCH, &format!("{path}/01a2196b-0000-7000-8000-000000000000"), Some(&json!({"Outcome": "x"})), &[]).await.assert_error(404);

        let list = app.get(&format!("{path}?page_size=4")).await;
        assert_eq!(list.body["Items"].as_array().map(Vec::len), Some(4));
        assert_eq!(list.body["Items"][0]["CaseId"], "case-5", "newest first");
        assert!(list.body["NextPageToken"].is_string());

        let rule = app.get(&format!("/CustomerCaseManagement/{id}/Rules/r1/Retrieve")).await.body["Rules"].clone();
        assert_eq!(rule["History"]["RecordedCases"], 6);
        let text = rule["CustomerCaseDecisionCriterionHistory"].as_str().expect("history text");
        assert!(text.starts_with("6 recorded cases from "), "{text}");
        assert!(text.contains("3 pending") && text.contains("2 upheld") && text.contains("1 appealed"), "{text}");
    }

    async fn a_backtest_reports_what_a_proposed_threshold_would_change(app: TestApp) {
        let id = plan_with_criterion(&app).await;
        let path = format!("/customer-case-management/{id}/rules/r1/evaluations");
        let cases = [(10.0, 0, Some("upheld")), (55.0, 0, Some("appealed")), (60.0, 1, None), (70.0, 0, Some("upheld")), (75.0, 0, None), (90.0, 0, None), (30.0, 3, None)];
        for (n, (amount, disputes, outcome)) in cases.into_iter().enumerate() {
            let mut body = facts(amount, disputes);
            body["Record"] = json!(true);
            body["CaseId"] = json!(format!("case-{n}"));
            body["Amount"] = json!({"Value": format!("{amount:.2}"), "Currency": "EUR"});
            let recorded = app.post(&path, &body).await;
            if let Some(outcome) = outcome {
                let eval = recorded.body["EvaluationId"].as_str().expect("id").to_owned();
                app.send(Method::PATCH, &format!("{path}/{eval}"), Some(&json!({"Outcome": outcome})), &[]).await;
            }
        }
        let backtests = format!("/customer-case-management/{id}/rules/r1/backtests");
        let run = app.post(&backtests, &json!({"Parameters": {"limits.auto_refund": 75}})).await;
        assert_eq!(run.status, StatusCode::CREATED, "{}", run.text);
        let report = &run.body["Report"];
        assert_eq!(report["Cases"], 7);
        assert_eq!(report["TrueNow"], 1, "only the EUR 10 case is auto-approved today");
        assert_eq!(report["BecameTrue"], 4, "55, 60, 70 and 75 would be");
        assert_eq!(report["BecameFalse"], 0);
        assert_eq!(report["OutcomesBecameTrue"]["appealed"], 1);
        assert_eq!(report["OutcomesBecameTrue"]["upheld"], 1);
        assert_eq!(report["AmountShift"][0]["Currency"], "EUR");
        assert_eq!(report["AmountShift"][0]["Value"], "260.00");
        assert_eq!(report["Examples"].as_array().map(Vec::len), Some(4));
        assert_eq!(run.body["Proposal"], json!({"Parameters": {"limits.auto_refund": 75}}));
        let summary = run.body["Summary"].as_str().expect("summary");
        assert!(summary.contains("+EUR 260.00"), "{summary}");

        let rule = app.get(&format!("/customer-case-management/{id}/rules/r1")).await;
        assert_eq!(rule.body["Analysis"]["BacktestId"], run.body["BacktestId"]);
        assert_eq!(rule.body["CustomerCaseDecisionCriterionAnalysis"].as_str(), Some(summary));
        assert_eq!(rule.body["Parameters"]["limits.auto_refund"], 50, "a back-test changes nothing");
        assert_eq!(rule.etag(), "\"1\"");

        app.post(&backtests, &json!({})).await.assert_error(400);
        app.post(&backtests, &json!({"Expression": "amount <="})).await.assert_error(400);
        app.post(&backtests, &json!({"Colour": 1})).await.assert_error(400);
    }

    async fn a_plan_evaluates_its_criteria_in_priority_order(app: TestApp) {
        let id = plan_with_criterion(&app).await;
        let fraud = app.put(&format!("/customer-case-management/{id}/rules/fraud"), &json!({
            "Expression": "amount > limits.review",
            "Parameters": {"limits.review": 500},
            "Decision": "route:fraud-team",
            "Priority": 1,
        })).await;
        assert_eq!(fraud.status, StatusCode::CREATED, "{}", fraud.text);
        let path = format!("/customer-case-management/{id}/evaluations");
        let big = app.post(&path, &facts(1000.0, 0)).await;
        assert_eq!(big.status, StatusCode::OK, "{}", big.text);
        assert_eq!(big.body["Decision"], "route:fraud-team");
        assert_eq!(big.body["DecidedBy"], "fraud");
        assert_eq!(big.body["Criteria"][0]["RulesId"], "fraud", "priority 1 first");
        let small = app.post(&path, &facts(20.0, 0)).await;
        assert_eq!(small.body["Decision"], "auto_approve");
        assert_eq!(small.body["DecidedBy"], "r1");
        let none = app.post(&path, &facts(100.0, 0)).await;
        assert_eq!(none.body["Decision"], Value::Null);
        let msg = app.post(&path, &json!({"Facts": {"amount": 5}})).await.assert_error(400);
        assert!(msg.contains("history.disputes_12m") && msg.contains("r1"), "{msg}");
    }

    async fn every_settings_change_is_a_version_with_who_when_and_what(app: TestApp) {
        let id = plan_with_criterion(&app).await;
        let path = format!("/CustomerCaseManagement/{id}/Rules/r1/Update");
        app.put(&path, &json!({"Parameters": {"limits.auto_refund": 75}})).await;
        app.put(&path, &json!({"Decision": "approve", "CustomerCaseDecisionCriterionDefinition": "refund size"})).await;
        let versions = app.get(&format!("/customer-case-management/{id}/rules/r1/versions")).await;
        assert_eq!(versions.status, StatusCode::OK, "{}", versions.text);
        let items = versions.body["Items"].as_array().expect("items");
        assert_eq!(items.len(), 3);
        assert_eq!(items[0]["Version"], 3);
        assert_eq!(items[0]["Changed"], json!(["Decision", "CustomerCaseDecisionCriterionDefinition"]));
        assert_eq!(items[1]["Changed"], json!(["Parameters"]));
        assert_eq!(items[1]["Settings"]["Parameters"]["limits.auto_refund"], 75);
        assert_eq!(items[2]["Changed"], json!(["created"]));
        assert!(items.iter().all(|v| v["ChangedBy"] == "development" && v["ChangedAt"].is_string()));
        let page = app.get(&format!("/customer-case-management/{id}/rules/r1/versions?page_size=1")).await;
        assert_eq!(page.body["Items"][0]["Changed"], json!(["Decision", "CustomerCaseDecisionCriterionDefinition"]));
        app.get(&format!("/customer-case-management/{id}/rules/none/versions")).await.assert_error(404);
    }
}

/// Runs `sql` on the service's database behind its back, as someone with write access to it
/// (or an older release's data) could.
async fn behind_the_back(app: &TestApp, sql: &str) {
    use sqlx::Connection as _;
    let url = app.database_url();
    if let Some(path) = url.strip_prefix("sqlite://") {
        rusqlite::Connection::open(path)
            .and_then(|conn| conn.execute_batch(sql))
            .expect("change SQLite");
    } else {
        let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
        sqlx::raw_sql(sql)
            .execute(&mut conn)
            .await
            .expect("change PostgreSQL");
        conn.close().await.ok();
    }
}

on_both_backends! {
    async fn stored_settings_that_do_not_parse_are_an_internal_error_not_an_empty_setting(app: TestApp) {
        // Arrange: a criterion whose stored settings are then broken in the database.
        let plan = plan_with_criterion(&app).await;
        let rules = format!("/customer-case-management/{plan}/rules/r1");
        assert_eq!(app.get(&rules).await.body["Expression"], EXPRESSION);
        behind_the_back(&app, r#"UPDATE rules SET extensions = '{"Expression": 42}'"#).await;

        // Act
        let read = app.get(&rules).await;
        let evaluated = app
            .post(&format!("{rules}/evaluations"), &json!({"Facts": {"amount": 10}}))
            .await;
        let listed = app.get(&format!("/customer-case-management/{plan}/rules")).await;

        // Assert: each refuses as internal, in the HTTPError shape, without the detail.
        for reply in [&read, &evaluated, &listed] {
            let message = reply.assert_error(500);
            assert_eq!(message, "internal error", "{}", reply.text);
        }
    }
}

on_both_backends! {
    async fn each_item_of_a_list_page_is_shown_as_its_own_read_shows_it(app: TestApp) {
        // Arrange: criteria that differ in recorded cases, outcomes, back-tests and open
        // requests; performance records computed and not; plans with and without requests.
        let plan = plan_with_criterion(&app).await;
        for id in ["r2", "r3"] {
            let made = app.put(&format!("/customer-case-management/{plan}/rules/{id}"), &json!({
                "Expression": EXPRESSION, "Parameters": {"limits.auto_refund": 20},
            })).await;
            assert!(made.status.is_success(), "{}", made.text);
        }
        for (rules, amount, outcome) in [("r1", 10.0, Some("upheld")), ("r1", 90.0, Some("appealed")), ("r1", 30.0, None), ("r3", 5.0, Some("upheld"))] {
            let mut body = facts(amount, 0);
            body["Record"] = json!(true);
            let made = app.post(&format!("/customer-case-management/{plan}/rules/{rules}/evaluations"), &body).await;
            assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
            if let Some(outcome) = outcome {
                let id = made.body["EvaluationId"].as_str().expect("id");
                let attached = app.send(Method::PATCH, &format!("/customer-case-management/{plan}/rules/{rules}/evaluations/{id}"),
                    Some(&json!({"Outcome": outcome})), &[]).await;
                assert_eq!(attached.status, StatusCode::OK, "{}", attached.text);
            }
        }
        let tested = app.post(&format!("/customer-case-management/{plan}/rules/r1/backtests"), &json!({"Parameters": {"limits.auto_refund": 100}})).await;
        assert_eq!(tested.status, StatusCode::CREATED, "{}", tested.text);
        for path in [format!("/customer-case-management/{plan}/rules/r2/requests"), format!("/customer-case-management/{plan}/rules/r2/requests"), format!("/customer-case-management/{plan}/requests")] {
            let raised = app.post(&path, &json!({"Reason": "check"})).await;
            assert_eq!(raised.status, StatusCode::CREATED, "{}", raised.text);
        }
        for (id, kind) in [("p1", "backlog"), ("p2", "custom"), ("p3", "throughput")] {
            let made = app.put(&format!("/customer-case-management/{plan}/performances/{id}"), &json!({"CustomerCaseServiceStatisticType": kind})).await;
            assert!(made.status.is_success(), "{}", made.text);
        }
        app.create_plan(&json!({})).await;

        // Act and assert: every item of each page equals the record's own read.
        for (list, id_property, path_of) in [
            (format!("/customer-case-management/{plan}/rules?page_size=100"), "RulesId", format!("/customer-case-management/{plan}/rules/")),
            (format!("/customer-case-management/{plan}/performances?page_size=100"), "PerformanceId", format!("/customer-case-management/{plan}/performances/")),
            ("/customer-case-management?page_size=100".to_owned(), "CustomerCaseManagementId", "/customer-case-management/".to_owned()),
        ] {
            let page = app.get(&list).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.text);
            let items = page.body["Items"].as_array().expect("items");
            assert!(items.len() >= 2, "{list}: {}", page.text);
            for item in items {
                let id = item[id_property].as_str().expect("id");
                let own = app.get(&format!("{path_of}{id}")).await;
                assert_eq!(&own.body, item, "{list}: item {id}");
            }
        }
        let rules = app.get(&format!("/customer-case-management/{plan}/rules?page_size=100")).await;
        let r1 = &rules.body["Items"][0];
        assert_eq!((r1["History"]["RecordedCases"].as_i64(), r1["Analysis"]["RulesId"].as_str()), (Some(3), Some("r1")));
        assert_eq!(rules.body["Items"][1]["OpenInterventions"], 2);
        let plans = app.get("/customer-case-management?page_size=100").await;
        let ours = plans.body["Items"].as_array().expect("items").iter()
            .find(|p| p["CustomerCaseManagementId"] == plan.as_str()).expect("the plan is listed");
        assert_eq!(ours["OpenInterventions"], 1);
    }
}
