//! Every operation of `/openapi.json` is guarded as its declared policy says: with an API key
//! configured, an operation the document does not mark public answers 401 without
//! credentials and a public one does not; an administrator's key passes every scope; the
//! operations that declare `Idempotency-Key` check it and the others ignore it.

use std::process::Command;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, Reply, TestApp};

/// A plan id that is well formed but names no plan.
const GHOST: &str = "01a2196b-0000-7000-8000-00000000ffff";

/// Every operation of the served document: its method, its path filled in, and the
/// operation's description in the document.
async fn operations(app: &TestApp) -> Vec<(Method, String, Value)> {
    let doc = app.get("/openapi.json").await;
    assert_eq!(doc.status, StatusCode::OK, "the OpenAPI document is public");
    let mut ops = Vec::new();
    for (path, item) in doc.body["paths"].as_object().expect("paths") {
        let concrete = path
            .replace("{id}", GHOST)
            .replace("{customercasemanagementid}", GHOST)
            .replace("{rulesid}", "r1")
            .replace("{performanceid}", "p1")
            .replace("{requestid}", "01a2196b-0000-7000-8000-000000000001")
            .replace("{evaluationid}", "01a2196b-0000-7000-8000-000000000002");
        for (method, operation) in item.as_object().expect("operations") {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            ops.push((method, concrete.clone(), operation.clone()));
        }
    }
    assert!(ops.len() >= 25, "every operation is listed: {}", ops.len());
    ops
}

/// Whether the document says the operation needs no credentials.
fn public(operation: &Value) -> bool {
    operation["security"] == json!([{}])
}

/// Whether the document declares the `Idempotency-Key` header on the operation.
fn takes_idempotency_key(operation: &Value) -> bool {
    operation["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|p| p["name"] == "Idempotency-Key")
}

async fn call(app: &TestApp, method: &Method, path: &str, headers: &[(&str, &str)]) -> Reply {
    let body = (*method != Method::GET).then(|| json!({}));
    app.send(method.clone(), path, body.as_ref(), headers).await
}

/// Creates an administrator's API key for every business unit through the command line.
fn admin_key(app: &TestApp) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_caseload"))
        .args([
            "apikey",
            "create",
            "--name",
            "policy walk",
            "--scopes",
            "admin",
            "--business-units",
            "*",
        ])
        .env("DATABASE_URL", app.database_url())
        .env("RUST_LOG", "warn")
        .output()
        .expect("caseload runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}

// The guard of each route is built from its policy the same way on either backend: SQLite
// is enough.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_is_guarded_as_its_declared_policy_says() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite");
    let key = admin_key(&app);
    // Authentication is on from the next start, as an API key now exists.
    let app = app.restart().await;
    let ops = operations(&app).await;
    assert!(
        ops.iter().any(|(_, _, op)| public(op)),
        "the health checks are public"
    );

    for (method, path, operation) in &ops {
        let reply = call(&app, method, path, &[]).await;
        if public(operation) {
            assert_ne!(
                reply.status,
                StatusCode::UNAUTHORIZED,
                "{method} {path} is public: {}",
                reply.text
            );
        } else {
            let msg = reply.assert_error(401);
            assert!(
                msg.contains("authentication required"),
                "{method} {path}: {msg}"
            );
            assert!(
                reply.header("www-authenticate").is_some(),
                "{method} {path}"
            );
        }
        let reply = call(&app, method, path, &[("x-api-key", &key)]).await;
        assert!(
            ![StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN].contains(&reply.status),
            "an administrator may call {method} {path}: {} {}",
            reply.status,
            reply.text
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_the_operations_that_declare_idempotency_key_check_it() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite");
    let mut checked = 0;
    for (method, path, operation) in operations(&app).await {
        let reply = call(&app, &method, &path, &[("idempotency-key", "not a key")]).await;
        let mentions_key = reply.text.contains("Idempotency-Key");
        if takes_idempotency_key(&operation) {
            assert_eq!(method, Method::POST, "{path}");
            let msg = reply.assert_error(400);
            assert!(mentions_key, "{method} {path}: {msg}");
            checked += 1;
        } else {
            assert!(
                !mentions_key,
                "{method} {path} ignores Idempotency-Key: {}",
                reply.text
            );
        }
    }
    assert!(checked >= 8, "every create is checked: {checked}");
}
