//! The one error type of the HTTP layer. Every error response, whether raised by a handler,
//! an extractor or the framework, carries the BIAN `HTTPError` body:
//! `{"status_code": "404", "status": "Not Found", "message": "..."}`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use caseload_domain::{FieldError, IdError, PageError};
use caseload_service::ServiceError;
use caseload_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// The BIAN error body.
#[allow(clippy::upper_case_acronyms)]
#[derive(Debug, Serialize, ToSchema)]
#[schema(description = "Status Attributes")]
pub struct HTTPError {
    /// The HTTP status code, as text (e.g. `"404"`).
    pub status_code: String,
    /// The status' reason phrase (e.g. `"Not Found"`).
    pub status: String,
    /// What went wrong, for a person to read.
    pub message: String,
}

impl HTTPError {
    /// The body for `status` with `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status_code: status.as_str().to_owned(),
            status: status.canonical_reason().unwrap_or("Error").to_owned(),
            message: message.into(),
        }
    }
}

/// The `Retry-After` of a 503: long enough for a pool to reconnect, short enough that a
/// client does not wait on a database that is already back.
const RETRY_AFTER_SECS: &str = "1";

/// An error a handler returns; rendered once, here.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    current_version: Option<i64>,
}

impl ApiError {
    /// An error with a status and a message for the client.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            current_version: None,
        }
    }

    /// 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404 Not Found.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response =
            (self.status, Json(HTTPError::new(self.status, self.message))).into_response();
        if let Some(tag) = self
            .current_version
            .and_then(|v| HeaderValue::from_str(&format!("\"{v}\"")).ok())
        {
            response.headers_mut().insert(header::ETAG, tag);
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            // The database is busy or restarting: a client may try again in a moment.
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECS),
            );
        }
        response
    }
}

/// The one mapping of a service error to an HTTP status and `HTTPError` body.
impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::NotFound(what) => Self::not_found(format!("{what} not found")),
            ServiceError::PreconditionFailed { current } => Self {
                status: StatusCode::PRECONDITION_FAILED,
                message: match current {
                    Some(v) => format!(
                        "If-Match does not match the current version \"{v}\"; retrieve the record and retry"
                    ),
                    None => "If-Match was given but the record does not exist".to_owned(),
                },
                current_version: current,
            },
            ServiceError::Conflict(illegal) => Self::new(StatusCode::CONFLICT, illegal.to_string()),
            ServiceError::StateConflict(message) => Self::new(StatusCode::CONFLICT, message),
            ServiceError::Invalid { reason, .. } => Self::bad_request(reason),
            ServiceError::OverBudget(message) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, message)
            }
            ServiceError::Forbidden(message) => Self::new(StatusCode::FORBIDDEN, message),
            ServiceError::Unavailable(detail) => {
                tracing::warn!(%detail, "database unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the service is busy; retry shortly",
                )
            }
            ServiceError::Internal(detail) => {
                tracing::error!(%detail, "storage failure");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        ServiceError::from(err).into()
    }
}

impl From<FieldError> for ApiError {
    fn from(err: FieldError) -> Self {
        ServiceError::from(err).into()
    }
}

impl From<PageError> for ApiError {
    fn from(err: PageError) -> Self {
        ServiceError::from(err).into()
    }
}

impl From<IdError> for ApiError {
    fn from(err: IdError) -> Self {
        ServiceError::from(err).into()
    }
}
