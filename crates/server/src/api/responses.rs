//! The error responses each kind of operation declares in the OpenAPI document, all with
//! the BIAN `HTTPError` body. BIAN's own list (400, 401, 403, 404, 429, 500) is always
//! there; writes add the statuses that only writes can produce.

use std::collections::BTreeMap;

use utoipa::IntoResponses;
use utoipa::openapi::{ContentBuilder, RefOr, Response, ResponseBuilder};

/// An error response with the `HTTPError` body.
pub(super) fn error(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                    "HTTPError",
                ))))
                .build(),
        )
        .build()
}

fn responses(list: &[(&str, &str)]) -> BTreeMap<String, RefOr<Response>> {
    list.iter()
        .map(|(code, description)| ((*code).to_owned(), RefOr::T(error(description))))
        .collect()
}

const BIAN: &[(&str, &str)] = &[
    ("400", "BadRequest"),
    ("401", "Unauthorized"),
    ("403", "Forbidden"),
    ("404", "NotFound"),
    ("429", "TooManyRequests"),
    ("500", "InternalServerError"),
    (
        "503",
        "ServiceUnavailable: the database is overloaded or unreachable; retry later",
    ),
];

const WRITE: &[(&str, &str)] = &[
    (
        "412",
        "PreconditionFailed: If-Match does not match the record's current version",
    ),
    (
        "413",
        "PayloadTooLarge: the body is larger than the configured limit",
    ),
    (
        "415",
        "UnsupportedMediaType: the body is not application/json",
    ),
];

/// The errors only a request with an `Idempotency-Key` can meet: status, name, when.
pub(super) const IDEMPOTENCY: &[(&str, &str, &str)] = &[
    (
        "409",
        "Conflict",
        "a request with the same Idempotency-Key is still in progress",
    ),
    (
        "422",
        "UnprocessableEntity",
        "the Idempotency-Key was used for a different request",
    ),
];

/// Errors of operations that only read.
pub struct ReadErrors;

impl IntoResponses for ReadErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(BIAN)
    }
}

/// Errors of operations that write.
pub struct WriteErrors;

impl IntoResponses for WriteErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut all = responses(BIAN);
        all.extend(responses(WRITE));
        all
    }
}
