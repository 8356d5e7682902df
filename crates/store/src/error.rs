//! The store's error: a few outcomes callers act on, and everything else.

/// Why a store call failed. A failed call changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record, or the plan it belongs to, does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The record is not at the version the caller expected (`If-Match`).
    #[error("the record is at version {current:?}, not the one expected")]
    VersionMismatch {
        /// Its current version, if it exists.
        current: Option<i64>,
    },
    /// An intervention's lifecycle does not allow the move.
    #[error(transparent)]
    IllegalTransition(#[from] caseload_domain::IllegalTransition),
    /// The database is overloaded or unreachable; the call may succeed later.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The database URL or options are wrong.
    #[error("invalid database configuration: {0}")]
    Config(String),
    /// Anything else; details are logged, not shown to clients.
    #[error("storage failure: {0}")]
    Internal(String),
}

impl StoreError {
    /// The error for a plan that does not exist, worded the same wherever it arises, so that
    /// a plan hidden from a caller cannot be told apart from one that does not exist.
    pub fn plan_not_found(plan: caseload_domain::PlanId) -> Self {
        Self::NotFound(format!("customer case management plan '{plan}'"))
    }

    /// This error as its own value, for each of several callers that waited on one shared
    /// computation: not found and unavailable keep their meaning, anything else becomes an
    /// internal error with the same text.
    pub fn copied(&self) -> Self {
        match self {
            Self::NotFound(what) => Self::NotFound(what.clone()),
            Self::Unavailable(why) => Self::Unavailable(why.clone()),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                Self::Unavailable(err.to_string())
            }
            sqlx::Error::Database(ref db) if is_busy(db.code().as_deref()) => {
                Self::Unavailable(err.to_string())
            }
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(err: sqlx::migrate::MigrateError) -> Self {
        Self::Internal(format!("migration failed: {err}"))
    }
}

/// SQLite busy/locked, PostgreSQL serialization failure, deadlock or too many connections.
fn is_busy(code: Option<&str>) -> bool {
    matches!(code, Some("5" | "6" | "40001" | "40P01" | "53300"))
}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode::{DatabaseBusy, DatabaseLocked};
        match &err {
            rusqlite::Error::SqliteFailure(failure, _)
                if matches!(failure.code, DatabaseBusy | DatabaseLocked) =>
            {
                Self::Unavailable(err.to_string())
            }
            _ => Self::Internal(err.to_string()),
        }
    }
}
