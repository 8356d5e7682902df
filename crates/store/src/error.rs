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
        if is_unavailable(&err) {
            Self::Unavailable(err.to_string())
        } else {
            Self::Internal(err.to_string())
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(err: sqlx::migrate::MigrateError) -> Self {
        Self::Internal(format!("migration failed: {err}"))
    }
}

/// Whether a PostgreSQL call failed because the database is busy, going away or away, so
/// that the same call may succeed once it is back. A transaction cut by any of these was not
/// committed, or its outcome is unknown: either way it was not acknowledged.
fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        // No connection free in time, the pool shut, or the connection's socket failed
        // (reset, refused, closed mid-answer).
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::WorkerCrashed => true,
        // The conversation on the connection broke (the server vanished mid-message, or its
        // TLS session ended): sqlx discards the connection, and a fresh one may succeed.
        sqlx::Error::Protocol(_) | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => is_busy(db.code().as_deref()) || is_gone(db.code().as_deref()),
        _ => false,
    }
}

/// SQLite busy/locked, PostgreSQL serialization failure, deadlock or too many connections.
fn is_busy(code: Option<&str>) -> bool {
    matches!(code, Some("5" | "6" | "40001" | "40P01" | "53300"))
}

/// PostgreSQL's SQLSTATEs for a server going away or away: class 08 (connection exceptions:
/// 08000, 08001, 08003, 08004, 08006, ...), 57P01 admin shutdown (`pg_ctl stop -m fast`),
/// 57P02 crash shutdown (another backend crashed or `-m immediate`), 57P03 cannot connect
/// now (starting up or shutting down).
fn is_gone(code: Option<&str>) -> bool {
    code.is_some_and(|code| code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03"))
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

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::error::Error as StdError;

    use super::StoreError;

    /// A PostgreSQL error answer with only a SQLSTATE, as the server sends it.
    #[derive(Debug)]
    struct Answer(&'static str);

    impl std::fmt::Display for Answer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "SQLSTATE {}", self.0)
        }
    }

    impl StdError for Answer {}

    impl sqlx::error::DatabaseError for Answer {
        fn message(&self) -> &str {
            self.0
        }
        fn code(&self) -> Option<Cow<'_, str>> {
            Some(Cow::Borrowed(self.0))
        }
        fn as_error(&self) -> &(dyn StdError + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn StdError + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn StdError + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sqlx::error::ErrorKind {
            sqlx::error::ErrorKind::Other
        }
    }

    fn from_sqlstate(code: &'static str) -> StoreError {
        sqlx::Error::Database(Box::new(Answer(code))).into()
    }

    fn is_unavailable(err: &StoreError) -> bool {
        matches!(err, StoreError::Unavailable(_))
    }

    #[test]
    fn a_server_shutting_down_or_restarting_is_unavailable() {
        for code in ["57P01", "57P02", "57P03"] {
            assert!(is_unavailable(&from_sqlstate(code)), "{code}");
        }
    }

    #[test]
    fn every_connection_exception_is_unavailable() {
        for code in [
            "08000", "08001", "08003", "08004", "08006", "08007", "08P01",
        ] {
            assert!(is_unavailable(&from_sqlstate(code)), "{code}");
        }
    }

    #[test]
    fn too_many_connections_serialization_failures_and_deadlocks_are_unavailable() {
        for code in ["53300", "40001", "40P01"] {
            assert!(is_unavailable(&from_sqlstate(code)), "{code}");
        }
    }

    #[test]
    fn a_lost_socket_an_exhausted_or_closed_pool_and_a_broken_conversation_are_unavailable() {
        let lost = [
            sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset)),
            sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::UnexpectedEof)),
            sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
            sqlx::Error::WorkerCrashed,
            sqlx::Error::Protocol("unexpected end of stream".into()),
            sqlx::Error::Tls("close_notify".into()),
        ];
        for err in lost {
            let shown = err.to_string();
            assert!(is_unavailable(&err.into()), "{shown}");
        }
    }

    #[test]
    fn data_and_programming_errors_stay_internal() {
        // Unique violation, undefined table, syntax error, division by zero, and a SQLSTATE
        // of class 57 that is not a shutdown (57014 query cancelled by a statement timeout).
        for code in ["23505", "42P01", "42601", "22012", "57014", "58030"] {
            assert!(
                matches!(from_sqlstate(code), StoreError::Internal(_)),
                "{code}"
            );
        }
        let decode = sqlx::Error::ColumnNotFound("id".into());
        assert!(matches!(StoreError::from(decode), StoreError::Internal(_)));
        assert!(matches!(
            StoreError::from(sqlx::Error::RowNotFound),
            StoreError::Internal(_)
        ));
    }
}
