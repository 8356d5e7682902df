//! The audit trail on SQLite: appends run inside the writer's transaction (one writer, so
//! the chain heads need no lock), reads and verification on a reading connection.

use async_trait::async_trait;
use caseload_domain::{Page, PlanId, Timestamp};
use rusqlite::{Connection, OptionalExtension as _, params};
use serde_json::Value as Json;

use super::SqliteStore;
use crate::audit::{AUDIT_COLUMNS, AuditRow, Entry, GENESIS, Head, Origin, Verifier};
use crate::{
    AuditAction, AuditFilter, AuditRecord, AuditStore, AuditVerification, StoreError, steps,
};

#[async_trait]
impl AuditStore for SqliteStore {
    async fn audit_records(&self, filter: AuditFilter) -> Result<Page<AuditRecord>, StoreError> {
        let before_seq = crate::audit::page_key(&filter.page)?;
        let rows = self.read(|conn| records(conn, &filter, before_seq))?;
        steps::page_of(rows, &filter.page, AuditRecord::try_from, |r| {
            r.seq.to_string()
        })
    }

    async fn verify_audit(&self) -> Result<AuditVerification, StoreError> {
        self.read_long(verify).await
    }

    async fn append_service_event(
        &self,
        action: AuditAction,
        actor: String,
        subject: String,
        after: Json,
    ) -> Result<AuditRecord, StoreError> {
        let entry = Entry::service(action, subject, &Origin::new(actor), after);
        let row = self.write(move |conn| append(conn, &entry).map(Ok)).await?;
        row.try_into()
    }
}

/// A store error carried through a `rusqlite` result: it fails the write, as a failed
/// statement would.
pub(crate) fn failed(err: StoreError) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(Box::new(err))
}

fn audit_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditRow> {
    Ok(AuditRow {
        seq: r.get(0)?,
        chain: r.get(1)?,
        at: r.get(2)?,
        actor: r.get(3)?,
        interaction_id: r.get(4)?,
        action: r.get(5)?,
        subject: r.get(6)?,
        before: r.get(7)?,
        after: r.get(8)?,
        prev_hash: r.get(9)?,
        hash: r.get(10)?,
    })
}

/// Appends `entry` to its chain, in the caller's transaction, and moves the chain's head.
pub(crate) fn append(conn: &Connection, entry: &Entry) -> rusqlite::Result<AuditRow> {
    let prev: Option<Vec<u8>> = conn
        .prepare_cached("SELECT hash FROM audit_heads WHERE chain = ?1")?
        .query_row([&entry.chain], |r| r.get(0))
        .optional()?;
    let seq: i64 = conn
        .prepare_cached("SELECT coalesce(max(seq), 0) + 1 FROM audit_records")?
        .query_row([], |r| r.get(0))?;
    let row = entry
        .seal(seq, Timestamp::now(), prev.as_deref().unwrap_or(&GENESIS))
        .map_err(failed)?;
    conn.prepare_cached(&format!(
        "INSERT INTO audit_records ({AUDIT_COLUMNS}) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
    ))?
    .execute(params![
        row.seq,
        row.chain,
        row.at,
        row.actor,
        row.interaction_id,
        row.action,
        row.subject,
        row.before,
        row.after,
        row.prev_hash,
        row.hash
    ])?;
    conn.prepare_cached(
        "INSERT INTO audit_heads (chain, seq, hash) VALUES (?1, ?2, ?3) \
         ON CONFLICT (chain) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
    )?
    .execute(params![row.chain, row.seq, row.hash])?;
    Ok(row)
}

/// Records newest first, narrowed by `filter`; the page key is the seq.
pub(crate) fn records(
    conn: &Connection,
    filter: &AuditFilter,
    before_seq: Option<i64>,
) -> rusqlite::Result<Vec<AuditRow>> {
    let limit = steps::fetch_limit(&filter.page);
    let (from, to) = (
        filter.from.map(Timestamp::as_micros),
        filter.to.map(Timestamp::as_micros),
    );
    let narrow =
        "(?2 IS NULL OR at >= ?2) AND (?3 IS NULL OR at < ?3) AND (?4 IS NULL OR seq < ?4)";
    // Two statements rather than `(?1 IS NULL OR chain = ?1)`, so that a plan's records are
    // read through the chain index.
    match filter.plan.as_ref().map(PlanId::to_string) {
        Some(plan) => conn
            .prepare_cached(&format!(
                "SELECT {AUDIT_COLUMNS} FROM audit_records WHERE chain = ?1 AND {narrow} \
                 ORDER BY seq DESC LIMIT ?5"
            ))?
            .query_map(params![plan, from, to, before_seq, limit], audit_row)?
            .collect(),
        None => conn
            .prepare_cached(&format!(
                "SELECT {AUDIT_COLUMNS} FROM audit_records WHERE {narrow} \
                 ORDER BY seq DESC LIMIT ?5"
            ))?
            // ?1 (the plan) is unused here; it is bound so the numbering stays the same.
            .query_map(
                params![None::<String>, from, to, before_seq, limit],
                audit_row,
            )?
            .collect(),
    }
}

/// Checks every chain, streaming the records in chain order in one read transaction (so the
/// heads and the records are of one moment).
pub(crate) fn verify(conn: &Connection) -> Result<AuditVerification, StoreError> {
    let tx = conn.unchecked_transaction()?;
    let mut verifier = Verifier::new();
    {
        let mut statement = tx.prepare(&format!(
            "SELECT {}, h.seq, h.hash FROM audit_records r \
             LEFT JOIN audit_heads h ON h.chain = r.chain ORDER BY r.chain, r.seq",
            AUDIT_COLUMNS
                .split(", ")
                .map(|c| format!("r.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))?;
        let mut rows = statement.query([])?;
        while let Some(r) = rows.next()? {
            let head: Option<Head> = match (r.get::<_, Option<i64>>(11)?, r.get(12)?) {
                (Some(seq), Some(hash)) => Some((seq, hash)),
                _ => None,
            };
            verifier.check(&audit_row(r)?, head);
        }
    }
    let mut empty = tx.prepare(
        "SELECT chain, seq, hash FROM audit_heads h \
         WHERE NOT EXISTS (SELECT 1 FROM audit_records r WHERE r.chain = h.chain)",
    )?;
    let mut rows = empty.query([])?;
    while let Some(r) = rows.next()? {
        verifier.check_empty_chain(r.get(0)?, (r.get(1)?, r.get(2)?));
    }
    Ok(verifier.finish())
}
