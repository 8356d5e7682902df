//! Versions, `If-Match`, and concurrent writers.

use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::on_both_backends;

on_both_backends! {
    async fn a_stale_if_match_is_412_and_changes_nothing(app: TestApp) {
        let id = app.create_plan(&json!({"CustomerCaseTrainingPlan": "v1"})).await;
        let update = format!("/CustomerCaseManagement/{id}/Update");
        let first = app.send(Method::PUT, &update, Some(&json!({"CustomerCaseTrainingPlan": "v2"})), &[("if-match", "\"1\"")]).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.text);
        assert_eq!(first.etag(), "\"2\"");

        let stale = app.send(Method::PUT, &update, Some(&json!({"CustomerCaseTrainingPlan": "lost"})), &[("if-match", "\"1\"")]).await;
        stale.assert_error(412);
        assert_eq!(stale.etag(), "\"2\"", "the 412 tells the current version");
        for tag in ["\"abc\"", "2", "W/\"9\""] {
            app.send(Method::PUT, &update, Some(&json!({"CustomerCaseTrainingPlan": "lost"})), &[("if-match", tag)]).await.assert_error(412);
        }
        let facade = app.send(Method::PUT, &format!("/customer-case-management/{id}"), Some(&json!({})), &[("if-match", "\"1\"")]).await;
        facade.assert_error(412);

        let plan = app.get(&format!("/CustomerCaseManagement/{id}/Retrieve")).await;
        assert_eq!(plan.body["CustomerCaseManagementPlan"]["CustomerCaseTrainingPlan"], "v2");
        assert_eq!(plan.etag(), "\"2\"");
    }

    async fn if_match_guards_rules_and_performance_and_never_creates(app: TestApp) {
        let id = app.create_plan(&json!({})).await;
        let rule = format!("/CustomerCaseManagement/{id}/Rules/r1/Update");
        app.send(Method::PUT, &rule, Some(&json!({})), &[("if-match", "\"1\"")]).await.assert_error(412);
        app.get(&format!("/CustomerCaseManagement/{id}/Rules/r1/Retrieve")).await.assert_error(404);

        app.put(&rule, &json!({"CustomerCaseDecisionCriterion": "a"})).await;
        let ok = app.send(Method::PUT, &rule, Some(&json!({"CustomerCaseDecisionCriterion": "b"})), &[("if-match", "\"1\"")]).await;
        assert_eq!(ok.status, StatusCode::OK);
        app.send(Method::PUT, &rule, Some(&json!({"CustomerCaseDecisionCriterion": "c"})), &[("if-match", "\"1\"")]).await.assert_error(412);

        let perf = format!("/customer-case-management/{id}/performances/p1");
        app.put(&perf, &json!({})).await;
        app.send(Method::PUT, &perf, Some(&json!({})), &[("if-match", "\"5\"")]).await.assert_error(412);
        let ok = app.send(Method::PUT, &perf, Some(&json!({})), &[("if-match", "\"1\"")]).await;
        assert_eq!(ok.status, StatusCode::OK);
        assert_eq!(ok.etag(), "\"2\"");
    }

    async fn concurrent_conditional_updates_have_exactly_one_winner_per_version(app: TestApp) {
        let id = app.create_plan(&json!({})).await;
        let update = format!("/CustomerCaseManagement/{id}/Update");
        for version in 1..=3 {
            let tag = format!("\"{version}\"");
            let attempts = (0..16).map(|n| {
                let body = json!({"CustomerCaseTrainingPlan": format!("writer {n}")});
                let (app, update, tag) = (&app, &update, &tag);
                async move { app.send(Method::PUT, update, Some(&body), &[("if-match", tag.as_str())]).await }
            });
            let replies = join_all(attempts).await;
            let winners = replies.iter().filter(|r| r.status == StatusCode::OK).count();
            let refused = replies.iter().filter(|r| r.status == StatusCode::PRECONDITION_FAILED).count();
            assert_eq!((winners, refused), (1, 15), "version {version}");
        }
        assert_eq!(app.get(&format!("/CustomerCaseManagement/{id}/Retrieve")).await.etag(), "\"4\"");
    }

    async fn concurrent_conditional_writes_to_rules_performance_and_requests_have_one_winner_per_version(app: TestApp) {
        // Rules and Performance records and intervention requests check versions in their own
        // statements, apart from the plan's.
        let id = app.create_plan(&json!({})).await;
        let facade = format!("/customer-case-management/{id}");
        app.put(&format!("{facade}/rules/r1"), &json!({})).await;
        app.put(&format!("{facade}/performances/p1"), &json!({})).await;
        let raised = app.post(&format!("{facade}/requests"), &json!({"Reason": "check"})).await;
        let request = format!("{facade}/requests/{}", raised.body["InterventionId"].as_str().expect("id"));
        let writes = [
            (Method::PUT, format!("/CustomerCaseManagement/{id}/Rules/r1/Update"), "CustomerCaseDecisionCriterion"),
            (Method::PUT, format!("{facade}/performances/p1"), "CustomerCaseServiceStatisticValue"),
            (Method::PATCH, request.clone(), "Comment"),
        ];
        for (method, path, property) in &writes {
            for version in 1..=2 {
                let tag = format!("\"{version}\"");
                let attempts = (0..12).map(|n| {
                    let status = if version == 1 { "acknowledged" } else { "resolved" };
                    let body = if *method == Method::PATCH {
                        json!({"Status": status, "Comment": format!("writer {n}")})
                    } else {
                        json!({*property: format!("writer {n}")})
                    };
                    let (app, method, path, tag) = (&app, method.clone(), path.as_str(), tag.as_str());
                    async move { app.send(method, path, Some(&body), &[("if-match", tag)]).await.status }
                });
                let statuses = join_all(attempts).await;
                let winners = statuses.iter().filter(|s| **s == StatusCode::OK).count();
                let refused = statuses.iter().filter(|s| **s == StatusCode::PRECONDITION_FAILED).count();
                assert_eq!((winners, refused), (1, 11), "{path} at version {version}: {statuses:?}");
            }
            let read = if *method == Method::PATCH { path.clone() } else { path.replace("/Update", "/Retrieve") };
            assert_eq!(app.get(&read).await.etag(), "\"3\"", "{path}: one version per winner");
        }
        let history = app.get(&request).await.body["History"].as_array().map(Vec::len);
        assert_eq!(history, Some(2), "one move per version");
    }

    async fn concurrent_unconditional_updates_are_all_applied(app: TestApp) {
        let id = app.create_plan(&json!({})).await;
        let path = format!("/CustomerCaseManagement/{id}/Rules/shared/Update");
        let writes = (0..24).map(|n| {
            let (app, path) = (&app, &path);
            async move { app.put(path, &json!({"CustomerCaseDecisionCriterionHistory": format!("{n}")})).await.status }
        });
        let statuses = join_all(writes).await;
        assert!(statuses.iter().all(|s| *s == StatusCode::OK), "{statuses:?}");
        let got = app.get(&format!("/CustomerCaseManagement/{id}/Rules/shared/Retrieve")).await;
        assert_eq!(got.etag(), "\"24\"", "every write made exactly one version");
    }

    async fn two_instances_on_one_database_behave_as_one_service(app: TestApp) {
        let other = app.another_instance().await;
        let id = app.create_plan(&json!({"CustomerCaseTrainingPlan": "v1"})).await;
        let seen = other.get(&format!("/CustomerCaseManagement/{id}/Retrieve")).await;
        assert_eq!(seen.body["CustomerCaseManagementPlan"]["CustomerCaseTrainingPlan"], "v1");

        let update = format!("/CustomerCaseManagement/{id}/Update");
        let attempts = (0..12).map(|n| {
            let instance = if n % 2 == 0 { &app } else { &other };
            let update = &update;
            async move {
                instance
                    .send(Method::PUT, update, Some(&json!({"CustomerCaseTrainingPlan": format!("w{n}")})), &[("if-match", "\"1\"")])
                    .await
                    .status
            }
        });
        let statuses = join_all(attempts).await;
        let winners = statuses.iter().filter(|s| **s == StatusCode::OK).count();
        let refused = statuses.iter().filter(|s| **s == StatusCode::PRECONDITION_FAILED).count();
        assert_eq!((winners, refused), (1, 11), "{statuses:?}");
        assert_eq!(other.get(&format!("/CustomerCaseManagement/{id}/Retrieve")).await.etag(), "\"2\"");
    }
}
