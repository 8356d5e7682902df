//! The HTTP interface, an adapter over the service layer (`caseload_service`): each handler
//! extracts its input, calls one operation of the [`caseload_service::Service`] and renders
//! the result ([`views`], [`render`]). The exact BIAN routes ([`bian`]) and the REST facade
//! ([`rest`]) are two renderings of the same operations. Beside them: health checks and the
//! OpenAPI document generated from the handlers' annotations (served at `/openapi.json`,
//! browsable at `/docs`). Each route is registered with its [`policy::Policy`] (scope, idempotent create, body limit), which its
//! guard ([`guard`]) and the document's security section both read.

mod bian;
mod constraints;
mod context;
pub mod error;
mod extract;
mod guard;
mod health;
pub mod idempotency;
pub mod policy;
pub mod render;
mod responses;
mod rest;
mod views;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Method, Request, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use caseload_store::Database;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::config::Settings;
use error::{ApiError, HTTPError};
use policy::{PolicyTable, RouteTable};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The store.
    pub db: Arc<dyn Database>,
    /// How long a client may take to send a request body.
    pub body_timeout: std::time::Duration,
    /// The operations every surface calls.
    pub service: caseload_service::Service,
    /// Who may call, and what they may do.
    pub auth: crate::auth::Auth,
    /// Largest request body accepted, in bytes (where a route sets no other limit).
    pub body_limit: usize,
    /// How long the first response to an `Idempotency-Key` is replayed.
    pub idempotency_retention: std::time::Duration,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "caseload: Customer Case Management",
        description = "Track and assess case load and resolution activity - allocate resources as necessary to optimize case resolution performance. \
The BIAN v12 operations at their contract paths, and a REST facade over the same records.",
        version = env!("CARGO_PKG_VERSION"),
    ),
    components(schemas(HTTPError)),
    tags(
        (name = "CR - CustomerCaseManagementPlan", description = "BIAN control record"),
        (name = "BQ - Rules", description = "BIAN behaviour qualifier: case resolution criteria"),
        (name = "BQ - Performance", description = "BIAN behaviour qualifier: unit performance analysis"),
        (name = "REST facade", description = "The same records as resources"),
        (name = "Staffing", description = "Queueing models for staffing: Erlang C"),
        (name = "Operations", description = "Health checks"),
    )
)]
struct ApiDoc;

/// Every route of the service, each with its policy.
fn routes() -> RouteTable {
    RouteTable::new()
        .merge(bian::routes())
        .merge(rest::routes())
        .merge(health::routes())
}

/// The OpenAPI document (as served at `/openapi.json`) and the policy of each operation it
/// describes.
pub fn openapi_router() -> (PolicyTable, serde_json::Value) {
    let (_, openapi, policies) = routes().split_for_parts(ApiDoc::openapi(), |routes, _| routes);
    let document = document(openapi, &policies);
    (policies, document)
}

/// The served document: the operations' security and idempotency declared from their
/// policies, then the constraints JSON Schema can state.
fn document(mut openapi: utoipa::openapi::OpenApi, policies: &PolicyTable) -> serde_json::Value {
    declare_security(&mut openapi, policies);
    idempotency::document(&mut openapi, policies);
    constraints::document(&openapi)
}

/// Declares how callers authenticate: a bearer JWT or an API key, on every operation but the
/// public ones.
fn declare_security(openapi: &mut utoipa::openapi::OpenApi, policies: &PolicyTable) {
    use utoipa::openapi::security::{
        ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
    };
    let components = openapi.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearerAuth",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "A JWT (HS256, RS256 or ES256) with sub, exp, iss and aud; scopes in \
                     `scope` (read, write, intervene, ingest, admin), business units in \
                     `business_units` (`*` for all).",
                ))
                .build(),
        ),
    );
    components.add_security_scheme(
        "apiKey",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "X-API-Key",
            "A key from `caseload apikey create`, with its own scopes and business units.",
        ))),
    );
    openapi.security = Some(vec![
        SecurityRequirement::new("bearerAuth", Vec::<String>::new()),
        SecurityRequirement::new("apiKey", Vec::<String>::new()),
    ]);
    for declared in policies.iter().filter(|d| d.policy.is_public()) {
        if let Some(op) = policy::operation_mut(openapi, declared) {
            op.security = Some(vec![SecurityRequirement::default()]);
            op.responses.responses.remove("401");
            op.responses.responses.remove("403");
        }
    }
}

/// The whole service: routes, docs, and the middleware every request passes through.
pub fn router(state: AppState, settings: &Settings) -> axum::Router {
    let (routes, openapi, policies) = routes()
        .split_for_parts(ApiDoc::openapi(), |routes, policy| {
            guard::layer(routes, policy, &state)
        });
    let openapi = document(openapi, &policies);
    // Outermost, the interaction id (context.rs); inside it, the trace span that writes the
    // id on every log line of the request.
    let middleware = ServiceBuilder::new()
        .layer(axum::middleware::from_fn(context::interaction))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<Body>| {
                    let id = req
                        .headers()
                        .get(context::INTERACTION_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    // The path only: query strings may carry tokens.
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), interaction_id = %id, principal = tracing::field::Empty)
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }))
        .layer(axum::middleware::map_response(error_body));
    routes
        .merge(SwaggerUi::new("/docs").external_url_unchecked("/openapi.json", openapi))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(settings.body_limit_bytes))
        .with_state(state)
        .layer(middleware)
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    let path: String = uri.path().chars().take(200).collect();
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("method {method} is not allowed on {path}"),
    )
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    let path: String = uri.path().chars().take(200).collect();
    ApiError::not_found(format!("no resource at {method} {path}"))
}

/// Gives every error the framework or a layer produced (405, 408, 413, ...) the BIAN
/// `HTTPError` body; errors from our handlers already have it.
async fn error_body(mut response: Response) -> Response {
    let status = response.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE || status == StatusCode::REQUEST_TIMEOUT {
        // The rest of the body was not read: the connection cannot be reused.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let message = match status {
        StatusCode::METHOD_NOT_ALLOWED => "method not allowed on this path".to_owned(),
        StatusCode::REQUEST_TIMEOUT => "the request body took too long to arrive".to_owned(),
        StatusCode::PAYLOAD_TOO_LARGE => "request body is larger than the limit".to_owned(),
        other => other.canonical_reason().unwrap_or("error").to_owned(),
    };
    let body = serde_json::to_vec(&HTTPError::new(status, message)).unwrap_or_default();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}
