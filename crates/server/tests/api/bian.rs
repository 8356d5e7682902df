//! The ten BIAN operations at their contract paths.

use reqwest::StatusCode;
use serde_json::json;

use crate::on_both_backends;

on_both_backends! {
    async fn create_then_retrieve_returns_the_plan_wrapped_as_the_contract_says(app: TestApp) {
        let created = app
            .post("/CustomerCaseManagement/Create", &json!({
                "CustomerCaseManagementPlanPeriod": "2027-Q1",
                "CustomerCaseTrainingPlan": "Dispute handling refresher",
            }))
            .await;
        assert_eq!(created.status, StatusCode::OK, "{}", created.text);
        let id = created.body["CustomerCaseManagementId"].as_str().expect("id").to_owned();
        assert_eq!(created.header("location"), Some(format!("/CustomerCaseManagement/{id}/Retrieve").as_str()));
        assert_eq!(created.etag(), "\"1\"");
        assert_eq!(created.body["CustomerCaseManagementPlanPeriod"], "2027-Q1");

        let got = app.get(&format!("/CustomerCaseManagement/{id}/Retrieve")).await;
        assert_eq!(got.status, StatusCode::OK);
        let plan = &got.body["CustomerCaseManagementPlan"];
        assert_eq!(plan["CustomerCaseManagementPlanPeriod"], "2027-Q1");
        assert_eq!(plan["CustomerCaseTrainingPlan"], "Dispute handling refresher");
        assert_eq!(plan["CustomerCaseManagementId"], id.as_str());
        assert_eq!(plan["Version"], 1);
        assert!(plan["CreatedAt"].as_str().is_some_and(|t| t.ends_with('Z')));
        assert_eq!(got.etag(), "\"1\"");
    }

    async fn bian_bodies_ignore_properties_the_contract_does_not_name_and_the_facade_refuses_them(app: TestApp) {
        // The contract's schemas leave additionalProperties open: a property it does not name
        // (even one holding NUL, which the service could not keep) is ignored, not refused.
        let created = app
            .post("/CustomerCaseManagement/Create", &json!({
                "CustomerCaseManagementPlanPeriod": "2027",
                "CustomerCaseFutureProperty": {"added": "in a later BIAN version"},
                "": ["x\u{0}y"],
            }))
            .await;
        assert_eq!(created.status, StatusCode::OK, "{}", created.text);
        let id = created.body["CustomerCaseManagementId"].as_str().expect("id").to_owned();
        assert!(created.body.get("CustomerCaseFutureProperty").is_none());
        let updated = app.put(&format!("/CustomerCaseManagement/{id}/Rules/r1/Update"), &json!({
            "CustomerCaseDecisionCriterion": "refund", "Colour": "red",
            // Owned by Performance records, so as unknown on a criterion as any other name.
            "Window": {"From": "2026-01-01"},
        })).await;
        assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
        assert!(updated.body.get("Colour").is_none());

        // What the service keeps is still checked: NUL, read-only properties, types.
        let nul = app.put(&format!("/CustomerCaseManagement/{id}/Update"), &json!({"CustomerCaseTrainingPlan": "a\u{0}b"})).await;
        assert!(nul.assert_error(400).contains("NUL"));
        let owned = app.put(&format!("/CustomerCaseManagement/{id}/Update"), &json!({"Version": 7})).await;
        assert!(owned.assert_error(400).contains("read-only"));

        // The facade refuses an unknown property, naming it.
        let facade = app.put(&format!("/customer-case-management/{id}"), &json!({"Colour": "red"})).await;
        assert!(facade.assert_error(400).contains("Colour"));
        let plan = app.get(&format!("/CustomerCaseManagement/{id}/Retrieve")).await;
        assert_eq!(plan.body["CustomerCaseManagementPlan"]["Version"], 1, "nothing refused changed it");
    }

    async fn update_changes_the_properties_given_and_keeps_the_others(app: TestApp) {
        let id = app.create_plan(&json!({"CustomerCaseManagementPlanPeriod": "2027", "CustomerCaseResourcePlan": "12 agents"})).await;
        let updated = app.put(&format!("/CustomerCaseManagement/{id}/Update"), &json!({"CustomerCaseResourcePlan": "14 agents"})).await;
        assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
        assert_eq!(updated.etag(), "\"2\"");
        assert_eq!(updated.body["CustomerCaseManagementPlanPeriod"], "2027");
        assert_eq!(updated.body["CustomerCaseResourcePlan"], "14 agents");

        let plan = app.get(&format!("/CustomerCaseManagement/{id}/Retrieve")).await.body["CustomerCaseManagementPlan"].clone();
        assert_eq!(plan["CustomerCaseManagementPlanPeriod"], "2027");
        assert_eq!(plan["CustomerCaseResourcePlan"], "14 agents");
        assert_eq!(plan["Version"], 2);
        assert!(plan["UpdatedAt"].as_str() >= plan["CreatedAt"].as_str());
    }

    async fn rules_update_creates_then_updates_and_retrieve_wraps_them(app: TestApp) {
        let id = app.create_plan(&json!({})).await;
        let base = format!("/CustomerCaseManagement/{id}/Rules/auto-refund");
        let created = app.put(&format!("{base}/Update"), &json!({
            "CustomerCaseDecisionCriterion": "refund amount",
            "CustomerCaseDecisionCriterionRules": "amount <= 50 EUR",
        })).await;
        assert_eq!(created.status, StatusCode::OK, "{}", created.text);
        assert_eq!(created.etag(), "\"1\"");
        assert_eq!(created.body["RulesId"], "auto-refund");

        let updated = app.put(&format!("{base}/Update"), &json!({"CustomerCaseDecisionCriterionRules": "amount <= 75 EUR"})).await;
        assert_eq!(updated.etag(), "\"2\"");

        let got = app.get(&format!("{base}/Retrieve")).await;
        assert_eq!(got.status, StatusCode::OK);
        assert_eq!(got.body["Rules"]["CustomerCaseDecisionCriterion"], "refund amount");
        assert_eq!(got.body["Rules"]["CustomerCaseDecisionCriterionRules"], "amount <= 75 EUR");
        assert_eq!(got.body["Rules"]["Version"], 2);
    }

    async fn performance_update_creates_then_updates_and_retrieve_wraps_them(app: TestApp) {
        let id = app.create_plan(&json!({})).await;
        let base = format!("/CustomerCaseManagement/{id}/Performance/throughput-q1");
        let created = app.put(&format!("{base}/Update"), &json!({"CustomerCaseServiceStatisticType": "throughput"})).await;
        assert_eq!(created.status, StatusCode::OK, "{}", created.text);
        assert_eq!(created.body["PerformanceId"], "throughput-q1");
        app.put(&format!("{base}/Update"), &json!({"CustomerCaseServiceStatisticValue": "412 cases/week"})).await;

        let got = app.get(&format!("{base}/Retrieve")).await;
        let perf = &got.body["Performance"];
        assert_eq!(perf["CustomerCaseServiceStatisticType"], "throughput");
        // A statistic the service computes: the figure comes from the (empty) case activity,
        // and the client's text is kept beside it.
        let value = perf["CustomerCaseServiceStatisticValue"].as_str().expect("computed");
        assert!(value.starts_with("0 cases resolved"), "{value}");
        assert_eq!(perf["Annotations"]["CustomerCaseServiceStatisticValue"], "412 cases/week");
        assert_eq!(got.etag(), "\"2\"");

        // A statistic it does not compute is the client's alone.
        let free = format!("/CustomerCaseManagement/{id}/Performance/mood");
        app.put(&format!("{free}/Update"), &json!({"CustomerCaseServiceStatisticType": "staff mood",
            "CustomerCaseServiceStatisticValue": "good"})).await;
        let got = app.get(&format!("{free}/Retrieve")).await;
        assert_eq!(got.body["Performance"]["CustomerCaseServiceStatisticValue"], "good");
    }

    async fn a_rule_of_another_plan_is_not_found(app: TestApp) {
        let first = app.create_plan(&json!({})).await;
        let second = app.create_plan(&json!({})).await;
        app.put(&format!("/CustomerCaseManagement/{first}/Rules/r1/Update"), &json!({})).await;
        app.get(&format!("/CustomerCaseManagement/{second}/Rules/r1/Retrieve")).await.assert_error(404);
        app.get(&format!("/CustomerCaseManagement/{second}/Performance/r1/Retrieve")).await.assert_error(404);
        app.put(&format!("/CustomerCaseManagement/{second}/Rules/r1/Request"), &json!({})).await.assert_error(404);
    }

    async fn records_under_an_unknown_plan_are_not_found_and_not_created(app: TestApp) {
        let ghost = "01a2196b-0000-7000-8000-000000000000";
        let msg = app.put(&format!("/CustomerCaseManagement/{ghost}/Rules/r1/Update"), &json!({})).await.assert_error(404);
        assert!(msg.contains(ghost), "{msg}");
        app.put(&format!("/CustomerCaseManagement/{ghost}/Performance/p1/Update"), &json!({})).await.assert_error(404);
        app.get(&format!("/CustomerCaseManagement/{ghost}/Retrieve")).await.assert_error(404);
        app.put(&format!("/CustomerCaseManagement/{ghost}/Update"), &json!({})).await.assert_error(404);
        app.put(&format!("/CustomerCaseManagement/{ghost}/Request"), &json!({})).await.assert_error(404);
        app.get(&format!("/CustomerCaseManagement/{ghost}/Rules/r1/Retrieve")).await.assert_error(404);
    }

    async fn request_records_an_open_intervention_and_returns_the_record(app: TestApp) {
        let id = app.create_plan(&json!({"CustomerCaseServiceSchedule": "Mon-Fri 8-18"})).await;
        app.put(&format!("/CustomerCaseManagement/{id}/Rules/r1/Update"), &json!({"CustomerCaseDecisionCriterion": "c"})).await;
        app.put(&format!("/CustomerCaseManagement/{id}/Performance/p1/Update"), &json!({})).await;

        let on_plan = app.put(&format!("/CustomerCaseManagement/{id}/Request"), &json!({
            "CustomerCaseServiceSchedule": "needs weekend cover",
            "Reason": "backlog over 14 days",
            "RequestedAction": "approve overtime",
        })).await;
        assert_eq!(on_plan.status, StatusCode::OK, "{}", on_plan.text);
        // The plan itself is unchanged: a request asks, it does not write.
        assert_eq!(on_plan.body["CustomerCaseServiceSchedule"], "Mon-Fri 8-18");
        assert_eq!(on_plan.body["Version"], 1);
        let plan_request = on_plan.body["InterventionId"].as_str().expect("InterventionId").to_owned();

        let on_rule = app.put(&format!("/CustomerCaseManagement/{id}/Rules/r1/Request"), &json!({"Reason": "threshold too low"})).await;
        assert_eq!(on_rule.body["CustomerCaseDecisionCriterion"], "c");
        assert!(on_rule.body["InterventionId"].is_string());
        let on_perf = app.put(&format!("/CustomerCaseManagement/{id}/Performance/p1/Request"), &json!({})).await;
        assert_eq!(on_perf.status, StatusCode::OK, "{}", on_perf.text);

        let listed = app.get(&format!("/customer-case-management/{id}/requests")).await;
        let items = listed.body["Items"].as_array().expect("items");
        assert_eq!(items.len(), 3);
        let first = items.iter().find(|i| i["InterventionId"] == plan_request.as_str()).expect("plan request listed");
        assert_eq!(first["Status"], "open");
        assert_eq!(first["SubjectType"], "plan");
        assert_eq!(first["Reason"], "backlog over 14 days");
        assert_eq!(first["RequestedAction"], "approve overtime");
        assert_eq!(first["Details"]["CustomerCaseServiceSchedule"], "needs weekend cover");
        assert_eq!(first["Requester"], "development");

        let rule_only = app.get(&format!("/customer-case-management/{id}/rules/r1/requests")).await;
        assert_eq!(rule_only.body["Items"].as_array().map(Vec::len), Some(1));
        assert_eq!(rule_only.body["Items"][0]["SubjectId"], "r1");
    }
}
