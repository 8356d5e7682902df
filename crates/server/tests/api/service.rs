//! Health, documentation, request ids.

use reqwest::StatusCode;

use crate::on_both_backends;

on_both_backends! {
    async fn health_endpoints_answer(app: TestApp) {
        let live = app.get("/health/live").await;
        assert_eq!(live.status, StatusCode::OK);
        let ready = app.get("/health/ready").await;
        assert_eq!(ready.status, StatusCode::OK, "{}", ready.text);
        let expected = match app.backend {
            crate::helpers::Backend::Sqlite => "sqlite",
            crate::helpers::Backend::Postgres => "postgres",
        };
        assert_eq!(ready.body["Backend"], expected);
    }

    async fn every_response_carries_a_request_id_and_a_given_one_is_echoed(app: TestApp) {
        let ok = app.get("/health/live").await;
        assert!(ok.header("x-fapi-interaction-id").is_some_and(|id| id.len() >= 16));
        let err = app.get("/CustomerCaseManagement/nope/Retrieve").await;
        assert!(err.header("x-fapi-interaction-id").is_some());
        let echoed = app.send(reqwest::Method::GET, "/health/live", None, &[("x-fapi-interaction-id", "trace-abc-123")]).await;
        assert_eq!(echoed.header("x-fapi-interaction-id"), Some("trace-abc-123"));
        let failed = app.send(reqwest::Method::GET, "/nope", None, &[("x-fapi-interaction-id", "trace-err-9")]).await;
        assert_eq!(failed.header("x-fapi-interaction-id"), Some("trace-err-9"));
    }

    async fn the_openapi_document_and_the_docs_page_are_served_from_the_binary(app: TestApp) {
        let doc = app.get("/openapi.json").await;
        assert_eq!(doc.status, StatusCode::OK);
        assert!(doc.body["paths"]["/CustomerCaseManagement/Create"]["post"].is_object());
        assert!(doc.body["paths"]["/customer-case-management/{id}/rules/{rulesid}"]["put"].is_object());
        let page = app.client.get(app.url("/docs/")).send().await.expect("docs");
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.expect("html");
        assert!(html.contains("swagger"), "Swagger UI page");
        assert!(!html.contains("http://") && !html.contains("https://"), "no assets from elsewhere: {html}");
    }
}
