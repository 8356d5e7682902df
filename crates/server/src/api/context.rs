//! The FAPI interaction id, which identifies a request end to end, and the request's context
//! that handlers hand to the service with every write. One layer does all of it, outermost, so that every answer carries the id:
//!
//! - a client's `x-fapi-interaction-id` is kept when it is one id (1 to 128 letters, digits
//!   or `-._~:+/=`); anything else (10 KB of text, bytes that are not ASCII, markup, two ids)
//!   is refused with a 400 under an id of our own, before it reaches a log or a handler;
//! - a request without one gets a new UUID;
//! - the request carries a [`RequestContext`] with the id among its extensions, which the
//!   [`super::extract::Principal`] extractor puts into the service's `Actor`, so the audit
//!   records of its writes carry the id; the trace layer inside this one writes it on every
//!   log line;
//! - the response, errors included, carries the id.

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use caseload_store::audit::RequestContext;

use super::error::ApiError;

/// The header.
pub const INTERACTION_ID: HeaderName = HeaderName::from_static("x-fapi-interaction-id");

/// The longest interaction id kept: room for a UUID (FAPI's form) and most trace ids.
const MAX_INTERACTION_ID_CHARS: usize = 128;

/// Keeps or mints the request's interaction id, runs the request in its context, and returns
/// the id on the response.
pub async fn interaction(mut req: Request<Body>, next: Next) -> Response {
    let mut given = req.headers().get_all(&INTERACTION_ID).iter();
    let id = match (given.next(), given.next()) {
        (None, _) => None,
        (Some(id), None) if is_interaction_id(id.as_bytes()) => Some(id.clone()),
        _ => {
            tracing::info!(method = %req.method(), path = %req.uri().path(), "refused a malformed x-fapi-interaction-id");
            let mut response = ApiError::bad_request(format!(
                "x-fapi-interaction-id must be one id of 1 to {MAX_INTERACTION_ID_CHARS} letters, digits or -._~:+/="
            ))
            .into_response();
            response.headers_mut().insert(INTERACTION_ID, minted());
            return response;
        }
    };
    let id = id.unwrap_or_else(|| {
        let id = minted();
        req.headers_mut().insert(INTERACTION_ID, id.clone());
        id
    });
    let context = RequestContext {
        // Checked above: visible ASCII.
        interaction_id: id.to_str().ok().map(str::to_owned),
        request_key: None,
    };
    req.extensions_mut().insert(context);
    let mut response = next.run(req).await;
    response.headers_mut().insert(INTERACTION_ID, id);
    response
}

fn minted() -> HeaderValue {
    let mut buffer = uuid::Uuid::encode_buffer();
    let text = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buffer);
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static("-"))
}

fn is_interaction_id(id: &[u8]) -> bool {
    (1..=MAX_INTERACTION_ID_CHARS).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~:+/=".contains(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interaction_ids_are_short_plain_tokens() {
        for good in [
            "trace-abc-123",
            "0190f2a4-0000-7000-8000-000000000000",
            "a:b/c+d=",
            &"i".repeat(128),
        ] {
            assert!(is_interaction_id(good.as_bytes()), "{good}");
        }
        for bad in ["", "a b", "<script>", "id\u{ff}", &"i".repeat(129)] {
            assert!(!is_interaction_id(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn minted_ids_are_uuids() {
        let id = minted();
        let text = id.to_str().expect("ascii");
        assert!(uuid::Uuid::try_parse(text).is_ok(), "{text}");
        assert!(is_interaction_id(id.as_bytes()));
    }
}
