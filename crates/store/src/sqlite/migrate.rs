//! Versioned schema migrations for the SQLite file: the `.sql` files of
//! `migrations/sqlite`, applied in order, each in its own transaction, and recorded in
//! `schema_migrations` so each is applied once.

use rusqlite::{Connection, OptionalExtension as _};

use caseload_domain::Timestamp;

/// The migrations, in order: version, description, SQL.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "records",
        include_str!("../../migrations/sqlite/0001_records.sql"),
    ),
    (
        2,
        "criteria and workflow",
        include_str!("../../migrations/sqlite/0002_criteria_and_workflow.sql"),
    ),
    (
        3,
        "case activity",
        include_str!("../../migrations/sqlite/0003_case_activity.sql"),
    ),
    (
        4,
        "case timelines",
        include_str!("../../migrations/sqlite/0004_case_timelines.sql"),
    ),
    (
        5,
        "audit trail",
        include_str!("../../migrations/sqlite/0005_audit.sql"),
    ),
    (
        6,
        "idempotency keys",
        include_str!("../../migrations/sqlite/0006_idempotency.sql"),
    ),
    (
        7,
        "access",
        include_str!("../../migrations/sqlite/0007_access.sql"),
    ),
    (
        8,
        "request keys",
        include_str!("../../migrations/sqlite/0008_request_keys.sql"),
    ),
    (
        9,
        "evaluation request keys",
        include_str!("../../migrations/sqlite/0009_evaluation_request_keys.sql"),
    ),
    (
        10,
        "timelines folded again for agents and pauses",
        include_str!("../../migrations/sqlite/0010_refold_timelines.sql"),
    ),
];

/// Applies the migrations the database has not had yet.
pub(crate) fn run(conn: &mut Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version     INTEGER PRIMARY KEY NOT NULL,
             description TEXT    NOT NULL,
             applied_at  INTEGER NOT NULL
         ) STRICT;",
    )?;
    for (version, description, sql) in MIGRATIONS {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let applied: Option<i64> = tx
            .query_row(
                "SELECT version FROM schema_migrations WHERE version = ?1",
                [version],
                |r| r.get(0),
            )
            .optional()?;
        if applied.is_none() {
            tx.execute_batch(sql)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, description, applied_at) VALUES (?1, ?2, ?3)",
                rusqlite::params![version, description, Timestamp::now().as_micros()],
            )?;
            tracing::info!(version, description, "applied migration");
        }
        tx.commit()?;
    }
    Ok(())
}
