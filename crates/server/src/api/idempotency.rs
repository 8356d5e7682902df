//! `Idempotency-Key` on the POSTs that create something (declared with
//! [`Policy::idempotent_create`](super::policy::Policy::idempotent_create) where their route
//! is registered), so that a client may retry one safely.
//!
//! The first request with a key runs; its response (status, `Content-Type`, `Location`,
//! `ETag` and body, byte for byte) is kept for the configured retention and replayed, with
//! `Idempotency-Replayed: true`, to every later request from the same principal with the same
//! key and the same request (method, path, content type and body). The interaction id is
//! always the new request's. Meanwhile:
//! - the same key with a different request is 422;
//! - the same key while the first request is still running is 409;
//! - a first request that fails with a 5xx keeps nothing, so a retry runs again; any other
//!   outcome, 4xx included, is kept and replayed;
//! - a request, once begun, runs to the end even if its client goes away, so that a retry
//!   finds its outcome instead of repeating it;
//! - a key that is not 1 to 255 visible ASCII characters is 400.
//!
//! Requests without the header pass through untouched; other routes have no such guard.

use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use caseload_domain::Timestamp;
use caseload_store::audit::RequestContext;
use caseload_store::{Begin, StoredResponse};
use http_body_util::LengthLimitError;
use tracing::Instrument as _;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::{ObjectBuilder, OpenApi, RefOr, Required, Type};

use super::AppState;
use super::error::ApiError;
use super::policy::{PolicyTable, operation_mut};
use super::responses;

/// The request header naming a key.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// The response header marking a replay.
pub const IDEMPOTENCY_REPLAYED: HeaderName = HeaderName::from_static("idempotency-replayed");

/// The response headers worth replaying; the rest (the interaction id first of all) are the
/// new request's.
const REPLAYED_HEADERS: [HeaderName; 3] = [header::CONTENT_TYPE, header::LOCATION, header::ETAG];

/// Longest key accepted.
const MAX_KEY_LEN: usize = 255;

/// Who the request is from, as authenticated (see [`crate::auth::authorize`], which runs
/// before this on every route that is not public): keys are scoped per principal.
fn principal_of(req: &Request) -> String {
    req.extensions()
        .get::<crate::auth::Principal>()
        .map(|p| p.subject.clone())
        .unwrap_or_default()
}

/// A valid key: 1 to 255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
struct IdempotencyKey(String);

impl IdempotencyKey {
    /// The key of the request, if it sends one: one header, of visible ASCII.
    fn from_headers(headers: &HeaderMap) -> Result<Option<Self>, ApiError> {
        let mut values = headers.get_all(&IDEMPOTENCY_KEY).iter();
        let Some(value) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(ApiError::bad_request(
                "send one Idempotency-Key header, not several",
            ));
        }
        Self::parse(value.as_bytes()).map(Some)
    }

    fn parse(raw: &[u8]) -> Result<Self, ApiError> {
        let visible = |b: &u8| (0x21..=0x7e).contains(b);
        if raw.is_empty() || raw.len() > MAX_KEY_LEN || !raw.iter().all(visible) {
            return Err(ApiError::bad_request(format!(
                "Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters (no spaces)"
            )));
        }
        // Visible ASCII is UTF-8.
        Ok(Self(String::from_utf8_lossy(raw).into_owned()))
    }
}

/// Answers a keyed request to an idempotent create from its key when it can, else runs it and
/// keeps its response; `limit` is the route's body limit. Run by the route's guard
/// ([`super::guard`]) once the caller is known.
pub async fn guard(state: AppState, limit: usize, req: Request, next: Next) -> Response {
    match IdempotencyKey::from_headers(req.headers()) {
        Ok(None) => next.run(req).await,
        Ok(Some(key)) => keyed(state, key, limit, req, next)
            .await
            .unwrap_or_else(IntoResponse::into_response),
        Err(err) => err.into_response(),
    }
}

async fn keyed(
    state: AppState,
    key: IdempotencyKey,
    limit: usize,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let principal = principal_of(&req);
    let (parts, body) = req.into_parts();
    let body = read_body(body, limit, state.body_timeout).await?;
    let fingerprint = fingerprint(&parts, &body);
    let begun = state
        .db
        .begin(
            &principal,
            &key.0,
            &fingerprint,
            Timestamp::now(),
            state.idempotency_retention,
        )
        .await?;
    match begun {
        Begin::Replay(stored) => Ok(replay(stored)),
        Begin::InFlight => Err(ApiError::new(
            StatusCode::CONFLICT,
            "a request with this Idempotency-Key is still in progress; retry later",
        )),
        Begin::Mismatch => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "this Idempotency-Key was used for a different request (method, path or body); \
             send a new key for a new request",
        )),
        Begin::Started => {
            let mut req = Request::from_parts(parts, Body::from(body));
            // The store makes what this request creates once under the key (the record
            // carries it), so that a run after a crash that lost the first run's response
            // finds what the first run created. The handler hands the key to the service
            // with the request's context.
            let key_of_request = request_key(&principal, &key, &fingerprint);
            match req.extensions_mut().get_mut::<RequestContext>() {
                Some(context) => context.request_key = Some(key_of_request),
                None => {
                    req.extensions_mut().insert(RequestContext {
                        interaction_id: None,
                        request_key: Some(key_of_request),
                    });
                }
            }
            // Spawned, so that the request runs to the end and its outcome is kept even if
            // the client goes away meanwhile.
            let run =
                tokio::spawn(run_and_keep(state, principal, key, req, next).in_current_span());
            run.await.map_err(|err| {
                tracing::error!(error = %err, "an idempotent request failed");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
            })
        }
    }
}

/// The key under which the store makes a request's creations once: SHA-256 of the principal,
/// the idempotency key and the request's fingerprint. The same request (after a crash, or
/// once its kept response has expired) finds what it created; a different request under an
/// expired key creates anew.
fn request_key(principal: &str, key: &IdempotencyKey, fingerprint: &[u8; 32]) -> String {
    use sha2::{Digest as _, Sha256};
    let digest = Sha256::new()
        .chain_update(principal.as_bytes())
        .chain_update([0u8])
        .chain_update(key.0.as_bytes())
        .chain_update([0u8])
        .chain_update(fingerprint)
        .finalize();
    caseload_store::audit::hex(&digest)
}

/// Runs the request holding the key, then keeps its response or, after a 5xx (or a panic,
/// when the task ends without answering), frees the key.
async fn run_and_keep(
    state: AppState,
    principal: String,
    key: IdempotencyKey,
    req: Request,
    next: Next,
) -> Response {
    let mut claim = Claim {
        state,
        principal,
        key,
        settled: false,
    };
    let response = next.run(req).await;
    let (parts, body) = response.into_parts();
    // Our handlers answer from memory; their bodies are small.
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(err) => {
            tracing::error!(error = %err, "reading a response to keep it failed");
            claim.abandon().await;
            return ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
                .into_response();
        }
    };
    if parts.status.is_server_error() {
        claim.abandon().await;
    } else {
        let headers = REPLAYED_HEADERS
            .iter()
            .filter_map(|name| {
                let value = parts.headers.get(name)?.to_str().ok()?;
                Some((name.as_str().to_owned(), value.to_owned()))
            })
            .collect();
        claim
            .complete(StoredResponse {
                status: parts.status.as_u16(),
                headers,
                body: body.to_vec(),
            })
            .await;
    }
    Response::from_parts(parts, Body::from(body))
}

/// A key held by a running request; freed when dropped unsettled (the request panicked).
struct Claim {
    state: AppState,
    principal: String,
    key: IdempotencyKey,
    settled: bool,
}

impl Claim {
    async fn complete(&mut self, response: StoredResponse) {
        self.settled = true;
        let kept = self
            .state
            .db
            .complete(&self.principal, &self.key.0, response)
            .await;
        if let Err(err) = kept {
            // The client has its answer; a retry will run again once the key is free.
            tracing::warn!(error = %err, "keeping a response for its Idempotency-Key failed");
            self.abandon().await;
        }
    }

    async fn abandon(&mut self) {
        self.settled = true;
        if let Err(err) = self.state.db.abandon(&self.principal, &self.key.0).await {
            tracing::warn!(error = %err, "freeing an Idempotency-Key failed; it frees itself shortly");
        }
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if !self.settled {
            let db = self.state.db.clone();
            let (principal, key) = (std::mem::take(&mut self.principal), self.key.0.clone());
            tokio::spawn(async move {
                let _ = db.abandon(&principal, &key).await;
            });
        }
    }
}

/// Reads the whole body within the body deadline and `limit`.
async fn read_body(body: Body, limit: usize, deadline: Duration) -> Result<Bytes, ApiError> {
    let read = tokio::time::timeout(deadline, axum::body::to_bytes(body, limit));
    match read.await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(err))
            if std::error::Error::source(&err).is_some_and(|s| s.is::<LengthLimitError>()) =>
        {
            Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request body is larger than the limit",
            ))
        }
        Ok(Err(err)) => Err(ApiError::bad_request(format!(
            "request body could not be read: {err}"
        ))),
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "the request body took too long to arrive",
        )),
    }
}

/// What makes two requests the same: method, path with query, content type and body.
fn fingerprint(parts: &axum::http::request::Parts, body: &[u8]) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .map_or(&b""[..], HeaderValue::as_bytes);
    let target = parts
        .uri
        .path_and_query()
        .map_or(parts.uri.path(), |p| p.as_str());
    for field in [
        parts.method.as_str().as_bytes(),
        target.as_bytes(),
        content_type,
        body,
    ] {
        // Length-prefixed, so no two different requests hash the same bytes.
        hasher.update(&(field.len() as u64).to_le_bytes());
        hasher.update(field);
    }
    *hasher.finalize().as_bytes()
}

/// The kept response, marked as a replay.
fn replay(stored: StoredResponse) -> Response {
    let mut response = Response::new(Body::from(stored.body));
    *response.status_mut() =
        StatusCode::from_u16(stored.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    for (name, value) in stored.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            headers.append(name, value);
        }
    }
    headers.insert(IDEMPOTENCY_REPLAYED, HeaderValue::from_static("true"));
    response
}

/// Declares the `Idempotency-Key` header and its 409 and 422 on the idempotent creates of
/// `policies` in the OpenAPI document.
pub fn document(openapi: &mut OpenApi, policies: &PolicyTable) {
    for declared in policies.iter().filter(|d| d.policy.idempotent_create) {
        if let Some(operation) = operation_mut(openapi, declared) {
            declare(operation);
        }
    }
}

fn declare(operation: &mut Operation) {
    let key = ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Makes the request safe to retry: the first response to this key (1 to 255 visible \
             ASCII characters, scoped to the caller) is kept for the configured retention \
             (24 h by default) and replayed, with `Idempotency-Replayed: true`, to a retry \
             with the same method, path and body; nothing is created again.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(MAX_KEY_LEN))
                .pattern(Some("^[!-~]+$")),
        ))
        .build();
    operation.parameters.get_or_insert_with(Vec::new).push(key);
    for (status, name, when) in responses::IDEMPOTENCY {
        let declared = &mut operation.responses.responses;
        match declared.get_mut(*status) {
            Some(RefOr::T(existing)) => {
                existing.description = format!("{}; or {when}", existing.description);
            }
            _ => {
                declared.insert(
                    (*status).to_owned(),
                    RefOr::T(responses::error(&format!("{name}: {when}"))),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_one_to_255_visible_ascii_characters() {
        assert!(IdempotencyKey::parse(b"a").is_ok());
        assert!(IdempotencyKey::parse(b"3f1c-4a_b.9~!").is_ok());
        assert!(IdempotencyKey::parse(&[b'k'; 255]).is_ok());
        assert!(IdempotencyKey::parse(b"").is_err());
        assert!(IdempotencyKey::parse(&[b'k'; 256]).is_err());
        assert!(IdempotencyKey::parse(b"with space").is_err());
        assert!(IdempotencyKey::parse(b"tab\t").is_err());
        assert!(IdempotencyKey::parse("caf\u{e9}".as_bytes()).is_err());
    }

    #[test]
    fn requests_differing_in_method_path_type_or_body_have_different_fingerprints() {
        let print = |method: &str, uri: &str, content_type: &str, body: &[u8]| {
            let (parts, ()) = Request::builder()
                .method(method)
                .uri(uri)
                .header(header::CONTENT_TYPE, content_type)
                .body(())
                .expect("request")
                .into_parts();
            fingerprint(&parts, body)
        };
        let base = print("POST", "/a", "application/json", b"{}");
        assert_eq!(base, print("POST", "/a", "application/json", b"{}"));
        assert_ne!(base, print("PUT", "/a", "application/json", b"{}"));
        assert_ne!(base, print("POST", "/b", "application/json", b"{}"));
        assert_ne!(base, print("POST", "/a?x=1", "application/json", b"{}"));
        assert_ne!(base, print("POST", "/a", "application/x-ndjson", b"{}"));
        assert_ne!(base, print("POST", "/a", "application/json", b"{ }"));
    }

    #[test]
    fn every_route_is_a_post_of_the_document_and_declares_the_header() {
        let (policies, doc) = super::super::openapi_router();
        let creates: Vec<_> = policies
            .iter()
            .filter(|d| d.policy.idempotent_create)
            .collect();
        assert!(!creates.is_empty(), "some routes are idempotent creates");
        for declared in creates {
            let route = &declared.path;
            assert_eq!(declared.method, axum::http::Method::POST, "{route}");
            let operation = &doc["paths"][route]["post"];
            assert!(operation.is_object(), "POST {route} is not in the document");
            let declared = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|p| p["name"] == "Idempotency-Key");
            assert!(declared, "POST {route} does not declare Idempotency-Key");
            for status in ["409", "422"] {
                assert!(
                    operation["responses"].get(status).is_some(),
                    "POST {route} does not declare {status}"
                );
            }
        }
    }
}
