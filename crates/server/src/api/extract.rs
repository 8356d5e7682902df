//! Extractors that parse requests at the edge and refuse bad ones with our error body:
//! JSON objects, path ids, `If-Match`, paging parameters.

use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use bytes::Bytes;
use caseload_domain::events::BatchFormat;
use caseload_domain::json::{self, JsonError};
use caseload_domain::{
    EvaluationId, InterventionId, PageRequest, PageSize, PlanId, RecordId, Version,
};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::AppState;
use super::error::ApiError;

/// A request body of the REST facade that is a JSON object, sent as `application/json`.
pub struct JsonObject(pub Map<String, Value>);

impl FromRequest<AppState> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        if !is_json(req.headers().get(header::CONTENT_TYPE)) {
            // The BIAN operations take [`ContractObject`], which answers 400 as their contract
            // documents; the facade says exactly what is wrong.
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "request body must be sent as application/json",
            ));
        }
        let bytes = read_body(req, state).await?;
        object(json::parse(&bytes)).map(Self)
    }
}

fn object(parsed: Result<Value, JsonError>) -> Result<Map<String, Value>, ApiError> {
    match parsed {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad_request("request body must be a JSON object")),
        Err(JsonError::Syntax(e)) => Err(ApiError::bad_request(format!(
            "request body is not valid JSON: {e}"
        ))),
        Err(JsonError::Refused(why)) => Err(ApiError::bad_request(format!(
            "request body refused: {why}"
        ))),
    }
}

/// The body of a BIAN write: a JSON object of which the service uses the properties the
/// contract (or the service) names and ignores the rest, which the contract's schemas allow.
/// The NUL character is refused only in what is used ([`ContractObject::known`]).
pub struct ContractObject(Map<String, Value>);

impl FromRequest<AppState> for ContractObject {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        if !is_json(req.headers().get(header::CONTENT_TYPE)) {
            // The contract documents 400 (not 415) for a request its operations cannot take.
            return Err(ApiError::bad_request(
                "request body must be sent as application/json",
            ));
        }
        let bytes = read_body(req, state).await?;
        object(json::parse_keeping_nul(&bytes)).map(Self)
    }
}

impl ContractObject {
    /// The properties `known` accepts; the others are ignored, and counted in the log.
    pub fn known(self, known: impl Fn(&str) -> bool) -> Result<Map<String, Value>, ApiError> {
        let mut body = self.0;
        let before = body.len();
        body.retain(|name, _| known(name));
        if body.len() < before {
            tracing::info!(
                ignored = before - body.len(),
                "ignored properties the BIAN contract does not name"
            );
        }
        if body
            .iter()
            .any(|(name, value)| name.contains('\0') || json::contains_nul(value))
        {
            return Err(ApiError::bad_request(format!(
                "request body refused: {}",
                json::Refusal::Nul
            )));
        }
        Ok(body)
    }
}

/// Reads the whole body within the body deadline and the body limit.
async fn read_body(req: Request, state: &AppState) -> Result<Bytes, ApiError> {
    let body = tokio::time::timeout(state.body_timeout, Bytes::from_request(req, state));
    let bytes = body.await.map_err(|_| {
        ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "the request body took too long to arrive",
        )
    })?;
    bytes.map_err(|e: BytesRejection| {
        let status = e.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(status, "request body is larger than the limit")
        } else {
            ApiError::new(status, format!("request body could not be read: {e}"))
        }
    })
}

/// A batch of case events as sent: a JSON array (`application/json`) or newline-delimited
/// JSON (`application/x-ndjson`), not yet parsed.
pub struct EventBatch(pub BatchFormat, pub Bytes);

impl FromRequest<AppState> for EventBatch {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let content_type = req.headers().get(header::CONTENT_TYPE);
        let format = if is_json(content_type) {
            BatchFormat::JsonArray
        } else if content_type
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/x-ndjson"))
        {
            BatchFormat::Ndjson
        } else {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send the batch as application/json (an array) or application/x-ndjson (one event a line)",
            ));
        };
        Ok(Self(format, read_body(req, state).await?))
    }
}

fn is_json(content_type: Option<&axum::http::HeaderValue>) -> bool {
    let Some(value) = content_type.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The plan id of the path. An id this service cannot have minted is simply not found.
pub struct PlanPath(pub PlanId);

/// The plan and record ids of the path.
pub struct RecordPath(pub PlanId, pub RecordId);

fn plan_id(raw: &str) -> Result<PlanId, ApiError> {
    PlanId::parse(raw).map_err(|_| {
        let shown: String = raw.chars().filter(|c| !c.is_control()).take(64).collect();
        ApiError::not_found(format!("customer case management plan '{shown}' not found"))
    })
}

fn path_rejection(e: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!("invalid path: {e}"))
}

impl<S: Send + Sync> FromRequestParts<S> for PlanPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(path_rejection)?;
        Ok(Self(plan_id(&raw)?))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RecordPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path((plan, record)) = Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map_err(path_rejection)?;
        let plan = plan_id(&plan)?;
        let record = RecordId::parse(&record)
            .map_err(|e| ApiError::bad_request(format!("invalid record id in path: {e}")))?;
        Ok(Self(plan, record))
    }
}

/// The plan, criterion and recorded evaluation of the path.
pub struct EvaluationPath(pub PlanId, pub RecordId, pub EvaluationId);

impl<S: Send + Sync> FromRequestParts<S> for EvaluationPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path((plan, record, evaluation)) =
            Path::<(String, String, String)>::from_request_parts(parts, state)
                .await
                .map_err(path_rejection)?;
        let plan = plan_id(&plan)?;
        let record = RecordId::parse(&record)
            .map_err(|e| ApiError::bad_request(format!("invalid record id in path: {e}")))?;
        let evaluation = EvaluationId::parse(&evaluation).map_err(|_| {
            ApiError::not_found(format!("evaluation '{}' not found", shown(&evaluation)))
        })?;
        Ok(Self(plan, record, evaluation))
    }
}

/// The plan and intervention request of the path.
pub struct RequestPath(pub PlanId, pub InterventionId);

impl<S: Send + Sync> FromRequestParts<S> for RequestPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path((plan, request)) = Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map_err(path_rejection)?;
        let plan = plan_id(&plan)?;
        let request = InterventionId::parse(&request).map_err(|_| {
            ApiError::not_found(format!(
                "intervention request '{}' not found",
                shown(&request)
            ))
        })?;
        Ok(Self(plan, request))
    }
}

fn shown(raw: &str) -> String {
    raw.chars().filter(|c| !c.is_control()).take(64).collect()
}

/// The version named by `If-Match`, if any. A tag this service could not have issued
/// matches no version, so the write fails with 412 rather than going ahead unchecked.
pub struct IfMatch(pub Option<Version>);

/// Version 0 is never stored: a precondition on it always fails.
const MATCHES_NOTHING: Version = Version::FIRST_INVALID;

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(header::IF_MATCH) else {
            return Ok(Self(None));
        };
        let text = value.to_str().unwrap_or("").trim();
        if text == "*" {
            return Ok(Self(None));
        }
        Ok(Self(Some(
            Version::from_etag(text).unwrap_or(MATCHES_NOTHING),
        )))
    }
}

/// Paging parameters: `page_size` (1 to 100, default 20) and `page_token` (from the
/// previous page's `NextPageToken`). Any other parameter is refused, as a misspelt one
/// (`pagesize`) would otherwise be ignored without a word.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// How many items at most (1 to 100, default 20).
    pub page_size: Option<u32>,
    /// Where to go on, as returned in `NextPageToken`.
    pub page_token: Option<String>,
}

impl PageQuery {
    /// Validates the parameters.
    pub fn into_request(self) -> Result<PageRequest, ApiError> {
        let size = PageSize::parse(self.page_size)?;
        let after = match self.page_token {
            None => None,
            Some(token) => Some(decode_token(&token)?),
        };
        Ok(PageRequest { after, size })
    }
}

/// Query parameters parsed with our error body.
pub struct Params<T>(pub T);

impl<T: serde::de::DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(value) = Query::<T>::from_request_parts(parts, state)
            .await
            .map_err(|e| {
                ApiError::bad_request(format!("invalid query parameters: {}", e.body_text()))
            })?;
        Ok(Self(value))
    }
}

/// The token for "after this key": the key of the page's last item (a plan, record or
/// request id, or an audit sequence number), so that every token of the documented syntax
/// names a place in the list and a client can keep one as it is.
pub fn encode_token(after: &str) -> String {
    after.to_owned()
}

fn decode_token(token: &str) -> Result<String, ApiError> {
    RecordId::parse(token)
        .map(|key| key.as_str().to_owned())
        .map_err(|_| ApiError::bad_request("page_token is not valid: pass NextPageToken as given"))
}

/// Who is making the request, as recorded on what it changes (`jwt:<sub>`, `key:<id>`, or
/// `development` while authentication is off), with the request's [`Context`].
pub struct Principal(pub caseload_service::Actor);

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Caller(caller) = Caller::from_request_parts(parts, state).await?;
        let Context(request) = Context::from_request_parts(parts, state).await?;
        Ok(Self(caseload_service::Actor::through(
            caller.subject,
            request,
        )))
    }
}

/// The request's context for the service: its interaction id (set by the outermost layer,
/// [`super::context`]) and, under an `Idempotency-Key`, the key the store makes its
/// creations under (set by the idempotency guard).
pub struct Context(pub caseload_store::audit::RequestContext);

impl<S: Send + Sync> FromRequestParts<S> for Context {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        // Every request passes the context layer; a router used without it (a test of one
        // route) acts outside any request.
        Ok(Self(
            parts
                .extensions
                .get::<caseload_store::audit::RequestContext>()
                .cloned()
                .unwrap_or_default(),
        ))
    }
}

/// The authenticated caller, with its scopes and business units (set by
/// [`crate::auth::authorize`] on every route that needs one).
pub struct Caller(pub crate::auth::Principal);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<crate::auth::Principal>()
            .cloned()
            .map(Self)
            .ok_or_else(|| {
                tracing::error!("a route that needs a caller was reached without authorization");
                ApiError::new(
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error",
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_media_types_are_recognised() {
        let json = |s: &'static str| is_json(Some(&axum::http::HeaderValue::from_static(s)));
        assert!(json("application/json"));
        assert!(json("Application/JSON; charset=utf-8"));
        assert!(json("application/merge-patch+json"));
        assert!(!json("text/plain"));
        assert!(!json("application/jsonx"));
        assert!(!is_json(None));
    }

    #[test]
    fn page_tokens_round_trip_and_foreign_tokens_are_refused() {
        let token = encode_token("0190f2a4-0000-7000-8000-000000000000");
        assert_eq!(
            decode_token(&token).ok().as_deref(),
            Some("0190f2a4-0000-7000-8000-000000000000")
        );
        assert!(decode_token("not a key!").is_err());
        assert!(decode_token("..").is_err());
        assert!(decode_token(&"k".repeat(65)).is_err());
    }
}
