//! The REST facade over the same records.

use std::collections::HashSet;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::on_both_backends;

on_both_backends! {
    async fn a_plan_created_on_the_facade_is_the_same_record_as_on_bian(app: TestApp) {
        let created = app.post("/customer-case-management", &json!({"CustomerCaseTrainingPlan": "t"})).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let id = created.body["CustomerCaseManagementId"].as_str().expect("id").to_owned();
        assert_eq!(created.header("location"), Some(format!("/customer-case-management/{id}").as_str()));

        let via_bian = app.get(&format!("/CustomerCaseManagement/{id}/Retrieve")).await;
        assert_eq!(via_bian.body["CustomerCaseManagementPlan"]["CustomerCaseTrainingPlan"], "t");
        let via_facade = app.get(&format!("/customer-case-management/{id}")).await;
        assert_eq!(via_facade.body["CustomerCaseTrainingPlan"], "t");
        assert_eq!(via_facade.etag(), "\"1\"");
    }

    async fn put_on_the_facade_replaces_the_whole_plan(app: TestApp) {
        let id = app.create_plan(&json!({"CustomerCaseTrainingPlan": "t", "CustomerCaseResourcePlan": "r"})).await;
        let replaced = app.put(&format!("/customer-case-management/{id}"), &json!({"CustomerCaseResourcePlan": "r2"})).await;
        assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text);
        assert_eq!(replaced.body["CustomerCaseResourcePlan"], "r2");
        assert!(replaced.body.get("CustomerCaseTrainingPlan").is_none());
        assert_eq!(replaced.etag(), "\"2\"");
    }

    async fn plans_are_listed_in_pages_without_gaps_or_repeats(app: TestApp) {
        let mut created = HashSet::new();
        for _ in 0..5 {
            created.insert(app.create_plan(&json!({})).await);
        }
        let mut seen = Vec::new();
        let mut token: Option<String> = None;
        let mut pages = 0;
        loop {
            let path = match &token {
                Some(t) => format!("/customer-case-management?page_size=2&page_token={t}"),
                None => "/customer-case-management?page_size=2".to_owned(),
            };
            let page = app.get(&path).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.text);
            let items = page.body["Items"].as_array().expect("items").clone();
            assert!(items.len() <= 2);
            seen.extend(items.iter().map(|p| p["CustomerCaseManagementId"].as_str().expect("id").to_owned()));
            pages += 1;
            match page.body["NextPageToken"].as_str() {
                Some(t) => token = Some(t.to_owned()),
                None => break,
            }
            assert!(pages < 10, "pagination does not end");
        }
        assert_eq!(pages, 3);
        assert_eq!(seen.len(), 5);
        assert_eq!(seen.iter().cloned().collect::<HashSet<_>>(), created);
        let mut sorted = seen.clone();
        sorted.sort();
        assert_eq!(seen, sorted, "plans come in creation order");
    }

    async fn rules_and_performances_put_creates_201_then_replaces_200_and_list(app: TestApp) {
        let id = app.create_plan(&json!({})).await;
        for (collection, field) in [("rules", "CustomerCaseDecisionCriterion"), ("performances", "CustomerCaseServiceStatisticType")] {
            let path = format!("/customer-case-management/{id}/{collection}/a1");
            let created = app.put(&path, &json!({ field: "one" })).await;
            assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
            assert_eq!(created.header("location"), Some(path.as_str()));
            let replaced = app.put(&path, &json!({})).await;
            assert_eq!(replaced.status, StatusCode::OK);
            assert!(replaced.body.get(field).is_none(), "PUT replaces: {}", replaced.text);
            assert_eq!(replaced.etag(), "\"2\"");
            app.put(&format!("/customer-case-management/{id}/{collection}/b2"), &json!({ field: "two" })).await;

            let got = app.get(&path).await;
            assert_eq!(got.status, StatusCode::OK);
            let list = app.get(&format!("/customer-case-management/{id}/{collection}?page_size=1")).await;
            assert_eq!(list.body["Items"].as_array().map(Vec::len), Some(1));
            assert_eq!(list.body["Items"][0]["CustomerCaseManagementId"], id.as_str());
            let token = list.body["NextPageToken"].as_str().expect("second page");
            let rest = app.get(&format!("/customer-case-management/{id}/{collection}?page_size=1&page_token={token}")).await;
            assert_eq!(rest.body["Items"][0][field], "two");
            assert!(rest.body.get("NextPageToken").is_none());
        }
        let ghost = "01a2196b-0000-7000-8000-000000000000";
        app.get(&format!("/customer-case-management/{ghost}/rules")).await.assert_error(404);
        app.get(&format!("/customer-case-management/{ghost}/performances")).await.assert_error(404);
    }

    async fn requests_are_created_listed_newest_first_and_filtered_by_status(app: TestApp) {
        let id = app.create_plan(&json!({})).await;
        app.put(&format!("/customer-case-management/{id}/performances/p1"), &json!({})).await;
        let mut ids = Vec::new();
        for n in 0..3 {
            let made = app.post(&format!("/customer-case-management/{id}/requests"), &json!({
                "Reason": format!("reason {n}"),
                "RequestedAction": "review",
                "Details": {"CustomerCaseResourcePlan": "short by 2"},
            })).await;
            assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
            assert_eq!(made.body["Status"], "open");
            assert_eq!(made.body["Details"]["CustomerCaseResourcePlan"], "short by 2");
            ids.push(made.body["InterventionId"].as_str().expect("id").to_owned());
        }
        let perf = app.post(&format!("/customer-case-management/{id}/performances/p1/requests"), &json!({"Reason": "figures look off"})).await;
        assert_eq!(perf.status, StatusCode::CREATED, "{}", perf.text);
        assert_eq!(perf.body["SubjectType"], "performance");

        let page = app.get(&format!("/customer-case-management/{id}/requests?page_size=2&status=open")).await;
        let items = page.body["Items"].as_array().expect("items");
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["InterventionId"], perf.body["InterventionId"], "newest first");
        assert_eq!(items[1]["InterventionId"], ids[2].as_str());
        let none = app.get(&format!("/customer-case-management/{id}/requests?status=resolved")).await;
        assert_eq!(none.body["Items"].as_array().map(Vec::len), Some(0));
        app.get(&format!("/customer-case-management/{id}/requests?status=closed")).await.assert_error(400);

        let msg = app.post(&format!("/customer-case-management/{id}/requests"), &json!({"Details": {"CustomerCaseDecisionCriterion": "x"}})).await.assert_error(400);
        assert!(msg.contains("CustomerCaseDecisionCriterion"), "{msg}");
        let msg = app.post(&format!("/customer-case-management/{id}/requests"), &json!({"Priority": "high"})).await.assert_error(400);
        assert!(msg.contains("Priority"), "{msg}");
        app.post(&format!("/customer-case-management/{id}/rules/nope/requests"), &json!({})).await.assert_error(404);
        let count = app.get(&format!("/customer-case-management/{id}/requests")).await.body["Items"].as_array().map(Vec::len);
        assert_eq!(count, Some(4), "refused requests recorded nothing");
    }

    async fn the_facade_answers_wrong_methods_with_405(app: TestApp) {
        let id = app.create_plan(&json!({})).await;
        app.send(Method::DELETE, &format!("/customer-case-management/{id}"), None, &[]).await.assert_error(405);
        app.send(Method::POST, &format!("/customer-case-management/{id}/rules/r1"), Some(&json!({})), &[]).await.assert_error(405);
    }
}
