//! Every error in the BIAN `HTTPError` shape with the right status, and nothing changed.

use reqwest::Method;
use serde_json::json;

use crate::on_both_backends;

const LIMIT: usize = caseload_domain::MAX_FIELD_CHARS;

on_both_backends! {
    async fn bad_bodies_are_400_name_the_problem_and_change_nothing(app: TestApp) {
        let id = app.create_plan(&json!({"CustomerCaseTrainingPlan": "keep"})).await;
        let update = format!("/CustomerCaseManagement/{id}/Update");
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"{\"CustomerCaseTrainingPlan\": ".to_vec(), "not valid JSON"),
            (b"[1, 2]".to_vec(), "JSON object"),
            (b"\"text\"".to_vec(), "JSON object"),
            (br#"{"CustomerCaseTrainingPlan": 5}"#.to_vec(), "CustomerCaseTrainingPlan"),
            (br#"{"CustomerCaseTrainingPlan": {"a": 1}}"#.to_vec(), "CustomerCaseTrainingPlan"),
            (br#"{"CustomerCaseManagementId": "mine"}"#.to_vec(), "read-only"),
            (br#"{"Version": 9}"#.to_vec(), "read-only"),
            (format!(r#"{{"CustomerCaseTrainingPlan": "{}"}}"#, "x".repeat(LIMIT + 1)).into_bytes(), "CustomerCaseTrainingPlan"),
            (b"{\"CustomerCaseTrainingPlan\": \"\xff\xfe\"}".to_vec(), "not valid JSON"),
            (format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes(), "not valid JSON"),
        ];
        for (body, expected) in cases {
            let reply = app.raw(Method::PUT, &update, Some("application/json"), body.clone()).await;
            let msg = reply.assert_error(400);
            assert!(msg.contains(expected), "{expected:?} not in {msg:?} for {}", String::from_utf8_lossy(&body[..body.len().min(80)]));
        }
        // The facade refuses a property it does not know (the BIAN operations ignore one, as
        // their contract allows: tests/api/bian.rs).
        for (body, name) in [(r#"{"Colour": "blue"}"#, "Colour"), (r#"{"CustomerCaseDecisionCriterion": "belongs to Rules"}"#, "CustomerCaseDecisionCriterion")] {
            let msg = app.raw(Method::PUT, &format!("/customer-case-management/{id}"), Some("application/json"), body.as_bytes().to_vec()).await.assert_error(400);
            assert!(msg.contains(name), "{msg}");
        }
        let creates_before = app.get("/customer-case-management?page_size=100").await.body["Items"].as_array().map(Vec::len);
        app.raw(Method::POST, "/customer-case-management", Some("application/json"), br#"{"Colour": 1}"#.to_vec()).await.assert_error(400);
        app.raw(Method::POST, "/customer-case-management", Some("application/json"), b"{".to_vec()).await.assert_error(400);
        let creates_after = app.get("/customer-case-management?page_size=100").await.body["Items"].as_array().map(Vec::len);
        assert_eq!(creates_before, creates_after);

        let plan = app.get(&format!("/CustomerCaseManagement/{id}/Retrieve")).await;
        assert_eq!(plan.body["CustomerCaseManagementPlan"]["CustomerCaseTrainingPlan"], "keep");
        assert_eq!(plan.etag(), "\"1\"", "no refused request changed the plan");
    }

    async fn a_value_at_the_length_limit_is_accepted(app: TestApp) {
        let id = app.create_plan(&json!({})).await;
        let ok = app.put(&format!("/CustomerCaseManagement/{id}/Update"), &json!({"CustomerCaseTrainingPlan": "é".repeat(LIMIT)})).await;
        assert_eq!(ok.status.as_u16(), 200, "{}", &ok.text[..200.min(ok.text.len())]);
    }

    async fn bodies_that_are_not_json_are_refused_and_oversized_bodies_413(app: TestApp) {
        let id = app.create_plan(&json!({})).await;
        // The BIAN operations document 400 for what they cannot take; the facade says 415.
        let update = format!("/CustomerCaseManagement/{id}/Update");
        app.raw(Method::PUT, &update, Some("text/plain"), b"{}".to_vec()).await.assert_error(400);
        app.raw(Method::PUT, &update, None, b"{}".to_vec()).await.assert_error(400);
        app.raw(Method::POST, "/CustomerCaseManagement/Create", Some("application/xml"), b"<plan/>".to_vec()).await.assert_error(400);
        let facade = format!("/customer-case-management/{id}");
        app.raw(Method::PUT, &facade, Some("text/plain"), b"{}".to_vec()).await.assert_error(415);
        app.raw(Method::POST, "/customer-case-management", None, b"{}".to_vec()).await.assert_error(415);
        let huge = format!(r#"{{"CustomerCaseTrainingPlan": "{}"}}"#, "x".repeat(2 * 1024 * 1024));
        app.raw(Method::PUT, &update, Some("application/json"), huge.into_bytes()).await.assert_error(413);
        assert_eq!(app.get(&format!("/CustomerCaseManagement/{id}/Retrieve")).await.etag(), "\"1\"");
    }

    async fn unknown_and_malformed_ids_are_404_or_400(app: TestApp) {
        let id = app.create_plan(&json!({})).await;
        app.get("/CustomerCaseManagement/not-a-plan/Retrieve").await.assert_error(404);
        app.get(&format!("/CustomerCaseManagement/{}/Retrieve", "9".repeat(5000))).await.assert_error(404);
        app.get("/customer-case-management/01a2196b-0000-7000-8000-000000000000").await.assert_error(404);
        let msg = app.put(&format!("/CustomerCaseManagement/{id}/Rules/bad%20id/Update"), &json!({})).await.assert_error(400);
        assert!(msg.contains("record id"), "{msg}");
        app.put(&format!("/CustomerCaseManagement/{id}/Rules/{}/Update", "r".repeat(65)), &json!({})).await.assert_error(400);
        app.get(&format!("/CustomerCaseManagement/{id}/Rules/..%2F..%2Fetc/Retrieve")).await.assert_error(400);
        app.get(&format!("/CustomerCaseManagement/{id}/Rules/never/Retrieve")).await.assert_error(404);
        let rules = app.get(&format!("/customer-case-management/{id}/rules")).await;
        assert_eq!(rules.body["Items"].as_array().map(Vec::len), Some(0), "nothing was created");
    }

    async fn wrong_methods_are_405_and_unknown_paths_404(app: TestApp) {
        let id = app.create_plan(&json!({})).await;
        let msg = app.get("/CustomerCaseManagement/Create").await.assert_error(405);
        assert!(msg.contains("GET"), "{msg}");
        app.send(Method::POST, &format!("/CustomerCaseManagement/{id}/Retrieve"), Some(&json!({})), &[]).await.assert_error(405);
        app.send(Method::DELETE, &format!("/CustomerCaseManagement/{id}/Update"), None, &[]).await.assert_error(405);
        app.get(&format!("/CustomerCaseManagement/{id}/Update")).await.assert_error(405);
        app.get("/CustomerCaseManagement").await.assert_error(404);
        app.get("/no/such/path").await.assert_error(404);
    }

    async fn bad_paging_parameters_are_400(app: TestApp) {
        for query in ["page_size=0", "page_size=101", "page_size=abc", "page_size=-1", "page_token=%%%", "page_token=not%20an%20id", "page_token=.."] {
            let msg = app.get(&format!("/customer-case-management?{query}")).await.assert_error(400);
            assert!(msg.contains("page"), "{query}: {msg}");
        }
    }

    async fn a_body_that_arrives_too_slowly_is_408_and_changes_nothing(app: TestApp) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let id = app.create_plan(&json!({})).await;
        let mut stream = tokio::net::TcpStream::connect(app.addr).await.expect("connect");
        let head = format!(
            "PUT /CustomerCaseManagement/{id}/Update HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"Cust"
        );
        stream.write_all(head.as_bytes()).await.expect("send part of the request");
        let mut answer = Vec::new();
        let read = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            let mut chunk = [0u8; 1024];
            while !String::from_utf8_lossy(&answer).contains("}") {
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => answer.extend_from_slice(&chunk[..n]),
                }
            }
        })
        .await;
        let text = String::from_utf8_lossy(&answer);
        assert!(read.is_ok(), "the server answers a stalled body within its deadline: {text}");
        assert!(text.starts_with("HTTP/1.1 408"), "{text}");
        assert!(text.contains("\"status_code\":\"408\""), "{text}");
        assert_eq!(app.get(&format!("/CustomerCaseManagement/{id}/Retrieve")).await.etag(), "\"1\"");
    }
}
