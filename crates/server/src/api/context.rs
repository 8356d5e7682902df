//! Tells the store which request it works for: each request runs inside
//! [`caseload_store::audit::REQUEST`], so the audit records of its writes carry its
//! `x-fapi-interaction-id` (set by the request-id layer outside this one).

use axum::body::Body;
use axum::http::Request;
use axum::middleware::Next;
use axum::response::Response;
use caseload_store::audit::{REQUEST, RequestContext};

/// Longest interaction id kept in an audit record, in bytes; a longer one is cut short.
const MAX_INTERACTION_ID_BYTES: usize = 200;

/// Runs the rest of the request with its interaction id in scope.
pub async fn in_request_context(req: Request<Body>, next: Next) -> Response {
    let interaction_id = req
        .headers()
        .get("x-fapi-interaction-id")
        .and_then(|v| v.to_str().ok())
        .map(|id| {
            let mut end = id.len().min(MAX_INTERACTION_ID_BYTES);
            while !id.is_char_boundary(end) {
                end -= 1;
            }
            id[..end].to_owned()
        });
    REQUEST
        .scope(
            RequestContext {
                interaction_id,
                request_key: None,
            },
            next.run(req),
        )
        .await
}
