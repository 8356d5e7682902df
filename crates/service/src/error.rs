//! The one error of the service layer. It says what went wrong in the bank's terms; each
//! surface maps it to its protocol once (HTTP: the server's `From<ServiceError> for ApiError`).

use caseload_domain::plan::PlanSettingsError;
use caseload_domain::{FieldError, IdError, IllegalTransition, PageError};
use caseload_store::StoreError;

/// Why an operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The plan or record does not exist (or is in a business unit the caller does not
    /// reach: the wording is the same). The text names what was looked for.
    #[error("{0} not found")]
    NotFound(String),
    /// An intervention's lifecycle does not allow the move; the error names the allowed ones.
    #[error(transparent)]
    Conflict(IllegalTransition),
    /// The record's current state does not allow the operation (a criterion without an
    /// expression cannot be evaluated). The text says what to do first.
    #[error("{0}")]
    StateConflict(String),
    /// The record is not at the version the caller expected (`If-Match`); `current` is its
    /// version, if it exists.
    #[error("the record is at version {current:?}, not the one expected")]
    PreconditionFailed {
        /// The record's current version, if it exists.
        current: Option<i64>,
    },
    /// The input is not acceptable. `reason` is the whole sentence for the caller;
    /// `property` names the property at fault when one is.
    #[error("{reason}")]
    Invalid {
        /// The property at fault, if the input is wrong in one property.
        property: Option<String>,
        /// What is wrong, for a person to read.
        reason: String,
    },
    /// The input is larger or costlier than an operation allows.
    #[error("{0}")]
    OverBudget(String),
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The database is overloaded or unreachable; the call may succeed later. The detail is
    /// for the log, not for the caller.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Anything else; the detail is for the log, not for the caller.
    #[error("internal: {0}")]
    Internal(String),
}

impl ServiceError {
    /// Invalid input, in the words of `reason`.
    pub fn invalid(reason: impl Into<String>) -> Self {
        Self::Invalid {
            property: None,
            reason: reason.into(),
        }
    }

    /// Invalid input in `property`, in the words of `reason`.
    pub fn invalid_property(property: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            property: Some(property.into()),
            reason: reason.into(),
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(what) => Self::NotFound(what),
            StoreError::VersionMismatch { current } => Self::PreconditionFailed { current },
            StoreError::IllegalTransition(illegal) => Self::Conflict(illegal),
            StoreError::Unavailable(detail) => Self::Unavailable(detail),
            StoreError::Config(detail) | StoreError::Internal(detail) => Self::Internal(detail),
        }
    }
}

impl From<FieldError> for ServiceError {
    fn from(err: FieldError) -> Self {
        Self::invalid(err.to_string())
    }
}

impl From<PageError> for ServiceError {
    fn from(err: PageError) -> Self {
        Self::invalid(err.to_string())
    }
}

impl From<IdError> for ServiceError {
    fn from(err: IdError) -> Self {
        Self::invalid(err.to_string())
    }
}

impl From<PlanSettingsError> for ServiceError {
    fn from(err: PlanSettingsError) -> Self {
        Self::invalid(err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_mismatch_in_the_store_is_a_failed_precondition_with_the_current_version() {
        let err = ServiceError::from(StoreError::VersionMismatch { current: Some(3) });
        assert!(matches!(
            err,
            ServiceError::PreconditionFailed { current: Some(3) }
        ));
    }

    #[test]
    fn a_store_configuration_failure_is_internal_not_unavailable() {
        let err = ServiceError::from(StoreError::Config("bad url".into()));
        assert!(matches!(err, ServiceError::Internal(detail) if detail == "bad url"));
    }
}
