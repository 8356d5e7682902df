//! Who may do what, through every operation of the OpenAPI document: no credentials and bad
//! credentials are 401 with `WWW-Authenticate`, a missing scope is 403, another business
//! unit's plan is 404 worded exactly as a plan that does not exist; bearer tokens of each
//! algorithm, API keys from the command line (and their revocation), rate limits, and the
//! modes' refusals to start.

use std::process::Command;

use caseload::config::Settings;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestDb};
use crate::on_both_backends;

const SECRET: &str = "test-secret-of-at-least-32-bytes-for-hs256";
const ISSUER: &str = "https://idp.bank.test";
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn with_hs256(settings: &mut Settings) {
    settings.auth.jwt_hs256_secret = Some(SECRET.into());
    settings.auth.jwt_issuer = ISSUER.into();
}

fn with_rs256(settings: &mut Settings) {
    settings.auth.jwt_public_key_file = Some(format!("{FIXTURES}/rsa-public.pem").into());
    settings.auth.jwt_issuer = ISSUER.into();
}

fn with_es256(settings: &mut Settings) {
    settings.auth.jwt_public_key_file = Some(format!("{FIXTURES}/ec-public.pem").into());
    settings.auth.jwt_issuer = ISSUER.into();
}

fn with_rate_limit(settings: &mut Settings) {
    with_hs256(settings);
    settings.auth.rate_limit_per_second = Some(1);
    settings.auth.rate_limit_burst = Some(2);
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

fn claims(sub: &str, scope: &str, units: &[&str]) -> Value {
    json!({"sub": sub, "iss": ISSUER, "aud": "caseload", "exp": now() + 600,
           "scope": scope, "business_units": units})
}

fn sign(claims: &Value, alg: Algorithm, key: &EncodingKey) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, key).expect("token")
}

fn hs256(claims: &Value) -> String {
    sign(
        claims,
        Algorithm::HS256,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// Every operation of the service's own OpenAPI document but the health checks, with its
/// path filled in for `plan`.
async fn operations(app: &TestApp, plan: &str) -> Vec<(Method, String)> {
    let doc = app.get("/openapi.json").await;
    assert_eq!(doc.status, StatusCode::OK, "the OpenAPI document is public");
    let mut ops = Vec::new();
    for (path, item) in doc.body["paths"].as_object().expect("paths") {
        if path.starts_with("/health") {
            continue;
        }
        let concrete = path
            .replace("{id}", plan)
            .replace("{customercasemanagementid}", plan)
            .replace("{rulesid}", "r1")
            .replace("{performanceid}", "p1")
            .replace("{requestid}", "01a2196b-0000-7000-8000-000000000001")
            .replace("{evaluationid}", "01a2196b-0000-7000-8000-000000000002");
        for method in item.as_object().expect("operations").keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            ops.push((method, concrete.clone()));
        }
    }
    assert!(ops.len() >= 25, "every operation is listed: {}", ops.len());
    ops
}

async fn call(
    app: &TestApp,
    method: &Method,
    path: &str,
    headers: &[(&str, &str)],
) -> crate::helpers::Reply {
    let body = (*method != Method::GET).then(|| json!({}));
    app.send(method.clone(), path, body.as_ref(), headers).await
}

/// A plan of business unit `north`, created by an administrator of that unit.
async fn north_plan(app: &TestApp) -> String {
    let token = hs256(&claims("olga", "admin", &["north"]));
    let reply = app
        .send(
            Method::POST,
            "/CustomerCaseManagement/Create",
            Some(&json!({})),
            &[("authorization", &bearer(&token))],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["BusinessUnit"], "north");
    reply.body["CustomerCaseManagementId"]
        .as_str()
        .expect("id")
        .to_owned()
}

on_both_backends! {
    settings = with_hs256;

    async fn every_operation_needs_credentials_that_verify(app: TestApp) {
        let plan = north_plan(&app).await;
        let expired = hs256(&json!({"sub": "x", "iss": ISSUER, "aud": "caseload", "exp": now() - 3600, "scope": "admin", "business_units": ["*"]}));
        let foreign = hs256(&json!({"sub": "x", "iss": "https://evil.test", "aud": "caseload", "exp": now() + 600, "scope": "admin", "business_units": ["*"]}));
        let other_audience = hs256(&json!({"sub": "x", "iss": ISSUER, "aud": "payments", "exp": now() + 600, "scope": "admin", "business_units": ["*"]}));
        let no_exp = hs256(&json!({"sub": "x", "iss": ISSUER, "aud": "caseload", "scope": "admin", "business_units": ["*"]}));
        let other_secret = sign(&claims("x", "admin", &["*"]), Algorithm::HS256, &EncodingKey::from_secret(b"another-secret-of-at-least-32-bytes!!"));
        let good = hs256(&claims("x", "admin", &["*"]));
        let mut parts: Vec<&str> = good.split('.').collect();
        let tampered_payload = {
            use base64::Engine as _;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims("root", "admin", &["*"]).to_string())
        };
        parts[1] = &tampered_payload;
        let tampered = parts.join(".");
        let alg_none = {
            use base64::Engine as _;
            let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
            format!("{}.{}.", b64(&json!({"alg": "none", "typ": "JWT"})), b64(&claims("x", "admin", &["*"])))
        };
        let rs256 = sign(&claims("x", "admin", &["*"]), Algorithm::RS256,
            &EncodingKey::from_rsa_pem(&std::fs::read(format!("{FIXTURES}/rsa-private.pem")).expect("key")).expect("rsa key"));
        let bad: Vec<(String, String)> = vec![
            ("authorization".into(), bearer(&expired)),
            ("authorization".into(), bearer(&foreign)),
            ("authorization".into(), bearer(&other_audience)),
            ("authorization".into(), bearer(&no_exp)),
            ("authorization".into(), bearer(&other_secret)),
            ("authorization".into(), bearer(&tampered)),
            ("authorization".into(), bearer(&alg_none)),
            ("authorization".into(), bearer(&rs256)),
            ("authorization".into(), "Basic dXNlcjpwYXNz".into()),
            ("authorization".into(), "Bearer".into()),
            ("x-api-key".into(), "cl_0123456789ab_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".into()),
            ("x-api-key".into(), "not-a-key".into()),
        ];
        for (method, path) in operations(&app, &plan).await {
            let reply = call(&app, &method, &path, &[]).await;
            let msg = reply.assert_error(401);
            assert!(msg.contains("authentication required"), "{method} {path}: {msg}");
            assert!(reply.header("www-authenticate").is_some_and(|h| h.starts_with("Bearer")), "{method} {path}");
        }
        let (method, path) = (Method::GET, format!("/customer-case-management/{plan}"));
        for (name, value) in &bad {
            let reply = call(&app, &method, &path, &[(name, value)]).await;
            reply.assert_error(401);
            assert!(reply.header("www-authenticate").is_some_and(|h| h.contains("invalid_token")), "{name}: {value}");
        }
        // The good token passes, and health checks and the documents stay public.
        assert_eq!(call(&app, &method, &path, &[("authorization", &bearer(&good))]).await.status, StatusCode::OK);
        assert_eq!(app.get("/health/ready").await.status, StatusCode::OK);
    }

    async fn each_operation_needs_its_scope(app: TestApp) {
        let plan = north_plan(&app).await;
        let only = |scope: &str| bearer(&hs256(&claims("sam", scope, &["north"])));
        let (read, ingest, intervene) = (only("read"), only("ingest"), only("intervene"));
        for (method, path) in operations(&app, &plan).await {
            // The audit trail is for administrators only.
            let reading = method == Method::GET && !path.starts_with("/audit");
            let status = call(&app, &method, &path, &[("authorization", &read)]).await.status;
            assert_eq!(status == StatusCode::FORBIDDEN, !reading, "read-only token: {method} {path} gave {status}");

            let status = call(&app, &method, &path, &[("authorization", &ingest)]).await.status;
            let ingesting = path.ends_with("/case-events");
            assert_eq!(status == StatusCode::FORBIDDEN, !ingesting, "ingest-only token: {method} {path} gave {status}");

            let status = call(&app, &method, &path, &[("authorization", &intervene)]).await.status;
            let intervening = !reading && (path.contains("/requests") || path.ends_with("/Request"));
            assert_eq!(status == StatusCode::FORBIDDEN, !intervening, "intervene-only token: {method} {path} gave {status}");
        }
        let msg = call(&app, &Method::POST, "/CustomerCaseManagement/Create", &[("authorization", &read)]).await.assert_error(403);
        assert!(msg.contains("'write'"), "{msg}");
        let msg = call(&app, &Method::GET, "/audit", &[("authorization", &read)]).await.assert_error(403);
        assert!(msg.contains("'admin'"), "{msg}");
        // An administrator of some units reads the trail of one of its plans at a time.
        let admin = only("admin");
        assert_eq!(call(&app, &Method::GET, &format!("/audit?plan={plan}"), &[("authorization", &admin)]).await.status, StatusCode::OK);
        call(&app, &Method::GET, "/audit", &[("authorization", &admin)]).await.assert_error(403);
        let south_admin = bearer(&hs256(&claims("sue", "admin", &["south"])));
        call(&app, &Method::GET, &format!("/audit?plan={plan}"), &[("authorization", &south_admin)]).await.assert_error(404);
    }

    async fn another_units_plans_do_not_exist_for_a_caller(app: TestApp) {
        let plan = north_plan(&app).await;
        let ghost = "01a2196b-0000-7000-8000-00000000ffff";
        let south = bearer(&hs256(&claims("sue", "admin", &["south"])));
        for (method, path) in operations(&app, &plan).await {
            if !path.contains(&plan) {
                continue;
            }
            let hidden = call(&app, &method, &path, &[("authorization", &south)]).await;
            let missing = call(&app, &method, &path.replace(&plan, ghost), &[("authorization", &south)]).await;
            assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{method} {path}: {}", hidden.text);
            assert_eq!(hidden.body["message"].as_str().map(|m| m.replace(&plan, ghost)),
                       missing.body["message"].as_str().map(str::to_owned), "{method} {path}: no existence oracle");
        }
        // Lists show only the caller's units; creating in another unit is refused.
        let listed = call(&app, &Method::GET, "/customer-case-management", &[("authorization", &south)]).await;
        assert_eq!(listed.body["Items"], json!([]));
        let north = bearer(&hs256(&claims("nina", "read", &["north", "east"])));
        let listed = call(&app, &Method::GET, "/customer-case-management", &[("authorization", &north)]).await;
        assert_eq!(listed.body["Items"][0]["CustomerCaseManagementId"], plan.as_str());
        let create = |unit: Value| json!({"BusinessUnit": unit});
        let writer = bearer(&hs256(&claims("wes", "write", &["north", "east"])));
        let send = |body: Value| {
            let writer = writer.clone();
            let app = &app;
            async move { app.send(Method::POST, "/CustomerCaseManagement/Create", Some(&body), &[("authorization", &writer)]).await }
        };
        assert!(send(create(json!("south"))).await.assert_error(403).contains("south"));
        assert!(send(json!({})).await.assert_error(400).contains("BusinessUnit"));
        send(create(json!("../north"))).await.assert_error(400);
        assert_eq!(send(create(json!("east"))).await.body["BusinessUnit"], "east");
        // A plan's unit cannot be changed afterwards.
        let moved = app.send(Method::PUT, &format!("/CustomerCaseManagement/{plan}/Update"), Some(&create(json!("east"))),
            &[("authorization", &bearer(&hs256(&claims("olga", "admin", &["*"]))))]).await;
        moved.assert_error(400);
    }

    async fn idempotency_keys_belong_to_their_principal(app: TestApp) {
        let alice = bearer(&hs256(&claims("alice", "write", &["*"])));
        let bob = bearer(&hs256(&claims("bob", "write", &["*"])));
        let create = |token: String| {
            let app = &app;
            async move {
                app.send(Method::POST, "/CustomerCaseManagement/Create", Some(&json!({"CustomerCaseTrainingPlan": "t"})),
                    &[("authorization", &token), ("idempotency-key", "order-1")]).await
            }
        };
        let first = create(alice.clone()).await;
        let other = create(bob).await;
        let again = create(alice).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.text);
        assert_ne!(first.body["CustomerCaseManagementId"], other.body["CustomerCaseManagementId"], "another principal's key is its own");
        assert_eq!(first.text, again.text, "the same principal's retry is replayed");
        assert_eq!(again.header("idempotency-replayed"), Some("true"));
    }

    async fn changes_are_recorded_under_the_authenticated_subject(app: TestApp) {
        let plan = north_plan(&app).await;
        let token = bearer(&hs256(&claims("ivan", "intervene read", &["north"])));
        let created = app.send(Method::POST, &format!("/customer-case-management/{plan}/requests"),
            Some(&json!({"Reason": "check"})), &[("authorization", &token)]).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        assert_eq!(created.body["Requester"], "jwt:ivan");
    }

    async fn api_keys_from_the_command_line_work_until_revoked(app: TestApp) {
        let plan = north_plan(&app).await;
        let cli = |args: &[&str]| {
            let out = Command::new(env!("CARGO_BIN_EXE_caseload"))
                .args(args)
                .env("DATABASE_URL", app.database_url())
                .env("RUST_LOG", "warn")
                .output()
                .expect("caseload runs");
            assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8(out.stdout).expect("utf-8")
        };
        let key = cli(&["apikey", "create", "--name", "case desk feed", "--scopes", "read,ingest", "--business-units", "north"]);
        let key = key.trim().to_owned();
        assert!(key.starts_with("cl_"), "{key}");
        let id = &key[3..15];
        let listed = cli(&["apikey", "list"]);
        assert!(listed.contains(id) && listed.contains("case desk feed") && !listed.contains(&key[16..]), "{listed}");

        let path = format!("/customer-case-management/{plan}");
        assert_eq!(call(&app, &Method::GET, &path, &[("x-api-key", &key)]).await.status, StatusCode::OK);
        call(&app, &Method::PUT, &format!("/CustomerCaseManagement/{plan}/Update"), &[("x-api-key", &key)]).await.assert_error(403);
        let wrong_secret = format!("{}{}", &key[..16], "b".repeat(43));
        call(&app, &Method::GET, &path, &[("x-api-key", &wrong_secret)]).await.assert_error(401);

        cli(&["apikey", "revoke", id]);
        tokio::time::sleep(caseload::auth::KEY_CACHE_TTL + std::time::Duration::from_millis(500)).await;
        call(&app, &Method::GET, &path, &[("x-api-key", &key)]).await.assert_error(401);
        assert!(cli(&["apikey", "list"]).lines().any(|l| l.starts_with(id) && !l.contains(" - ")));
        // Both changes are in the audit trail's service-wide chain, without the secret.
        let admin = bearer(&hs256(&claims("ada", "admin", &["*"])));
        let trail = call(&app, &Method::GET, "/audit", &[("authorization", &admin)]).await;
        let subject = format!("apikey/{id}");
        let actions: Vec<&str> = trail.body["Items"].as_array().expect("items").iter()
            .filter(|r| r["Subject"] == subject.as_str()).filter_map(|r| r["Action"].as_str()).collect();
        assert_eq!(actions, ["apikey.revoke", "apikey.create"], "{}", trail.text);
        assert!(!trail.text.contains(&key[16..]), "the secret is never recorded");
        cli(&["audit", "verify"]);
    }
}

on_both_backends! {
    settings = with_rs256;

    async fn rs256_tokens_verify_with_the_configured_public_key(app: TestApp) {
        let key = EncodingKey::from_rsa_pem(&std::fs::read(format!("{FIXTURES}/rsa-private.pem")).expect("key")).expect("rsa");
        let token = sign(&claims("rita", "read", &["*"]), Algorithm::RS256, &key);
        assert_eq!(call(&app, &Method::GET, "/customer-case-management", &[("authorization", &bearer(&token))]).await.status, StatusCode::OK);
        // An HS256 token "signed" with the public key (algorithm confusion) is refused.
        let public = std::fs::read(format!("{FIXTURES}/rsa-public.pem")).expect("key");
        let confused = sign(&claims("rita", "admin", &["*"]), Algorithm::HS256, &EncodingKey::from_secret(&public));
        call(&app, &Method::GET, "/customer-case-management", &[("authorization", &bearer(&confused))]).await.assert_error(401);
    }
}

on_both_backends! {
    settings = with_es256;

    async fn es256_tokens_verify_with_the_configured_public_key(app: TestApp) {
        let key = EncodingKey::from_ec_pem(&std::fs::read(format!("{FIXTURES}/ec-private.pem")).expect("key")).expect("ec");
        let token = sign(&claims("eve", "read", &["*"]), Algorithm::ES256, &key);
        assert_eq!(call(&app, &Method::GET, "/customer-case-management", &[("authorization", &bearer(&token))]).await.status, StatusCode::OK);
        let hs = hs256(&claims("eve", "read", &["*"]));
        call(&app, &Method::GET, "/customer-case-management", &[("authorization", &bearer(&hs))]).await.assert_error(401);
    }
}

on_both_backends! {
    settings = with_rate_limit;

    async fn a_principal_over_its_rate_gets_429_with_retry_after(app: TestApp) {
        let alice = bearer(&hs256(&claims("alice", "read", &["*"])));
        let bob = bearer(&hs256(&claims("bob", "read", &["*"])));
        let path = "/customer-case-management";
        let mut statuses = Vec::new();
        for _ in 0..4 {
            statuses.push(call(&app, &Method::GET, path, &[("authorization", &alice)]).await);
        }
        let limited = statuses.iter().find(|r| r.status == StatusCode::TOO_MANY_REQUESTS).expect("limited after the burst");
        assert!(limited.header("retry-after").and_then(|v| v.parse::<u64>().ok()).is_some_and(|s| s >= 1));
        limited.assert_error(429);
        // Another principal has its own allowance; a spoofed header changes nothing.
        assert_eq!(call(&app, &Method::GET, path, &[("authorization", &bob)]).await.status, StatusCode::OK);
        let spoofed = call(&app, &Method::GET, path, &[("authorization", &alice), ("x-forwarded-for", "10.9.9.9")]).await;
        assert_eq!(spoofed.status, StatusCode::TOO_MANY_REQUESTS);
    }
}

#[tokio::test]
async fn production_mode_refuses_to_start_without_authentication() {
    let db = TestDb::create(Backend::Sqlite).await.expect("sqlite");
    let mut settings = TestApp::settings(&db.url(), |_| {});
    settings.auth.mode = caseload::auth::Mode::Production;
    let err = caseload::app::Application::build(&settings)
        .await
        .err()
        .expect("refused");
    assert!(
        format!("{err:#}").contains("production mode needs authentication"),
        "{err:#}"
    );

    settings.auth.jwt_hs256_secret = Some(SECRET.into());
    settings.auth.jwt_issuer = ISSUER.into();
    assert!(
        caseload::app::Application::build(&settings).await.is_ok(),
        "starts with JWT verification"
    );
}

#[tokio::test]
async fn without_authentication_only_loopback_is_served() {
    let db = TestDb::create(Backend::Sqlite).await.expect("sqlite");
    let mut settings = TestApp::settings(&db.url(), |_| {});
    settings.listen = "0.0.0.0:0".parse().expect("address");
    let err = caseload::app::Application::build(&settings)
        .await
        .err()
        .expect("refused");
    assert!(format!("{err:#}").contains("loopback"), "{err:#}");
    settings.auth.jwt_hs256_secret = Some(SECRET.into());
    settings.auth.jwt_issuer = ISSUER.into();
    assert!(
        caseload::app::Application::build(&settings).await.is_ok(),
        "any address with authentication"
    );
}
