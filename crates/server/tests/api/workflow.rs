//! The manual intervention workflow: open → acknowledged → resolved | rejected.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::on_both_backends;

on_both_backends! {
    async fn a_request_moves_through_its_lifecycle_and_keeps_each_move(app: TestApp) {
        let id = app.create_plan(&json!({})).await;
        let made = app.post(&format!("/customer-case-management/{id}/requests"), &json!({"Reason": "backlog"})).await;
        let request = format!("/customer-case-management/{id}/requests/{}", made.body["InterventionId"].as_str().expect("id"));

        let ack = app.send(Method::PATCH, &request, Some(&json!({"Status": "acknowledged", "Comment": "looking"})), &[]).await;
        assert_eq!(ack.status, StatusCode::OK, "{}", ack.text);
        assert_eq!(ack.body["Status"], "acknowledged");
        assert_eq!(ack.etag(), "\"2\"");

        let back = app.send(Method::PATCH, &request, Some(&json!({"Status": "open"})), &[]).await;
        let msg = back.assert_error(409);
        assert!(msg.contains("resolved, rejected"), "{msg}");
        app.send(Method::PATCH, &request, Some(&json!({"Status": "resolved"})), &[("if-match", "\"1\"")]).await.assert_error(412);

        let done = app.send(Method::PATCH, &request, Some(&json!({"Status": "resolved", "Comment": "overtime approved"})), &[("if-match", "\"2\"")]).await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.text);
        let history = done.body["History"].as_array().expect("history");
        assert_eq!(history.len(), 2);
        assert_eq!(history[0]["From"], "open");
        assert_eq!(history[0]["To"], "acknowledged");
        assert_eq!(history[0]["Comment"], "looking");
        assert_eq!(history[1]["To"], "resolved");
        assert!(history.iter().all(|m| m["By"] == "development" && m["At"].is_string()));

        let closed = app.send(Method::PATCH, &request, Some(&json!({"Status": "rejected"})), &[]).await;
        assert!(closed.assert_error(409).contains("none"));
        let got = app.get(&request).await;
        assert_eq!(got.body["Status"], "resolved");
        assert_eq!(got.body["History"].as_array().map(Vec::len), Some(2));
    }

    async fn bad_moves_are_refused_clearly(app: TestApp) {
        let id = app.create_plan(&json!({})).await;
        let made = app.post(&format!("/customer-case-management/{id}/requests"), &json!({})).await;
        let request = format!("/customer-case-management/{id}/requests/{}", made.body["InterventionId"].as_str().expect("id"));
        app.send(Method::PATCH, &request, Some(&json!({"Status": "closed"})), &[]).await.assert_error(400);
        app.send(Method::PATCH, &request, Some(&json!({})), &[]).await.assert_error(400);
        app.send(Method::PATCH, &request, Some(&json!({"Status": "resolved", "Extra": 1})), &[]).await.assert_error(400);
        app.send(Method::PATCH, &format!("/customer-case-management/{id}/requests/nope"), Some(&json!({"Status": "resolved"})), &[]).await.assert_error(404);
        let other = app.create_plan(&json!({})).await;
        let foreign = request.replace(&id, &other);
        app.send(Method::PATCH, &foreign, Some(&json!({"Status": "resolved"})), &[]).await.assert_error(404);
        app.get(&foreign).await.assert_error(404);
        assert_eq!(app.get(&request).await.body["Status"], "open", "nothing changed");
    }

    async fn a_retrieve_sees_every_write_answered_before_it(app: TestApp) {
        // Retrieves of a plan may be answered from what an earlier one read; each write in
        // between must show at once, whatever it changed.
        let id = app.create_plan(&json!({"CustomerCaseTrainingPlan": "v1"})).await;
        let retrieve = format!("/CustomerCaseManagement/{id}/Retrieve");
        for round in 1..=3 {
            let plan = app.get(&retrieve).await;
            assert_eq!(plan.body["CustomerCaseManagementPlan"]["OpenInterventions"], round - 1);
            assert_eq!(app.get(&retrieve).await.body, plan.body, "nothing changed in between");
            app.put(&format!("/CustomerCaseManagement/{id}/Request"), &json!({"Reason": "r"})).await;
            let after = app.get(&retrieve).await;
            assert_eq!(after.body["CustomerCaseManagementPlan"]["OpenInterventions"], round);
            let text = format!("v{}", round + 1);
            app.put(&format!("/CustomerCaseManagement/{id}/Update"), &json!({"CustomerCaseTrainingPlan": text})).await;
            let updated = app.get(&retrieve).await;
            assert_eq!(updated.body["CustomerCaseManagementPlan"]["CustomerCaseTrainingPlan"], text.as_str());
            assert_eq!(updated.body["CustomerCaseManagementPlan"]["Version"], round + 1);
        }
    }

    async fn retrieve_counts_the_open_requests_of_each_record(app: TestApp) {
        let id = app.create_plan(&json!({})).await;
        app.put(&format!("/CustomerCaseManagement/{id}/Rules/r1/Update"), &json!({})).await;
        app.put(&format!("/CustomerCaseManagement/{id}/Performance/p1/Update"), &json!({})).await;
        let first = app.put(&format!("/CustomerCaseManagement/{id}/Request"), &json!({"Reason": "a"})).await;
        app.put(&format!("/CustomerCaseManagement/{id}/Request"), &json!({"Reason": "b"})).await;
        app.put(&format!("/CustomerCaseManagement/{id}/Rules/r1/Request"), &json!({})).await;

        let plan = app.get(&format!("/CustomerCaseManagement/{id}/Retrieve")).await;
        assert_eq!(plan.body["CustomerCaseManagementPlan"]["OpenInterventions"], 2);
        let rule = app.get(&format!("/CustomerCaseManagement/{id}/Rules/r1/Retrieve")).await;
        assert_eq!(rule.body["Rules"]["OpenInterventions"], 1);
        let perf = app.get(&format!("/CustomerCaseManagement/{id}/Performance/p1/Retrieve")).await;
        assert_eq!(perf.body["Performance"]["OpenInterventions"], 0);

        let request = format!("/customer-case-management/{id}/requests/{}", first.body["InterventionId"].as_str().expect("id"));
        app.send(Method::PATCH, &request, Some(&json!({"Status": "acknowledged"})), &[]).await;
        let plan = app.get(&format!("/customer-case-management/{id}")).await;
        assert_eq!(plan.body["OpenInterventions"], 1);
        let open = app.get(&format!("/customer-case-management/{id}/requests?status=open")).await;
        assert_eq!(open.body["Items"].as_array().map(Vec::len), Some(2));
    }
}
