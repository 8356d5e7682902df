//! The audit trail on PostgreSQL: a write appends its record last in its transaction, under
//! a row lock on its chain's head, so concurrent writers to one chain (from any number of
//! instances) append one after the other; verification reads every chain in pages, in one
//! snapshot.

use async_trait::async_trait;
use caseload_domain::{Page, PlanId, Timestamp};
use serde_json::Value as Json;
use sqlx::PgConnection;

use super::PgStore;
use crate::audit::{AUDIT_COLUMNS, AuditRow, Entry, GENESIS, Origin, Verifier, page_key};
use crate::{
    AuditAction, AuditFilter, AuditRecord, AuditStore, AuditVerification, StoreError, steps,
};

/// Records checked per round trip while verifying.
const VERIFY_PAGE: i64 = 1_000;

/// Appends `entry` to its chain within the caller's transaction, and moves the chain's
/// head. Call it last, just before committing: the head stays locked until then.
pub(crate) async fn append(conn: &mut PgConnection, entry: &Entry) -> Result<AuditRow, StoreError> {
    // Creates the head of a new chain or locks the existing one (waiting for a writer that
    // holds it to finish), and takes the next seq only once the head is ours, so seqs grow
    // in chain order.
    let (prev, seq): (Vec<u8>, i64) = sqlx::query_as(
        "INSERT INTO audit_heads (chain, seq, hash) VALUES ($1, 0, $2) \
         ON CONFLICT (chain) DO UPDATE SET seq = audit_heads.seq \
         RETURNING hash, nextval('audit_records_seq')",
    )
    .bind(&entry.chain)
    .bind(GENESIS.as_slice())
    .fetch_one(&mut *conn)
    .await?;
    let row = entry.seal(seq, Timestamp::now(), &prev)?;
    sqlx::query(&format!(
        "WITH record AS (INSERT INTO audit_records ({AUDIT_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)) \
         UPDATE audit_heads SET seq = $1, hash = $11 WHERE chain = $2"
    ))
    .bind(row.seq)
    .bind(&row.chain)
    .bind(row.at)
    .bind(&row.actor)
    .bind(row.interaction_id.as_deref())
    .bind(&row.action)
    .bind(&row.subject)
    .bind(row.before.as_deref())
    .bind(row.after.as_deref())
    .bind(&row.prev_hash)
    .bind(&row.hash)
    .execute(&mut *conn)
    .await?;
    Ok(row)
}

/// A record with its chain's head, as verification reads them.
#[derive(sqlx::FromRow)]
struct CheckedRow {
    #[sqlx(flatten)]
    record: AuditRow,
    head_seq: Option<i64>,
    head_hash: Option<Vec<u8>>,
}

#[async_trait]
impl AuditStore for PgStore {
    async fn audit_records(&self, filter: AuditFilter) -> Result<Page<AuditRecord>, StoreError> {
        let before_seq = page_key(&filter.page)?;
        let narrow = "($2::bigint IS NULL OR at >= $2) AND ($3::bigint IS NULL OR at < $3) \
                      AND ($4::bigint IS NULL OR seq < $4)";
        // Two statements rather than `($1 IS NULL OR chain = $1)`, so that a plan's records
        // are read through the chain index.
        let sql = if filter.plan.is_some() {
            format!(
                "SELECT {AUDIT_COLUMNS} FROM audit_records WHERE chain = $1 AND {narrow} \
                 ORDER BY seq DESC LIMIT $5"
            )
        } else {
            // $1 (the plan, NULL here) is still bound, so the numbering stays the same.
            format!(
                "SELECT {AUDIT_COLUMNS} FROM audit_records WHERE $1::text IS NULL AND {narrow} \
                 ORDER BY seq DESC LIMIT $5"
            )
        };
        let rows: Vec<AuditRow> = sqlx::query_as(&sql)
            .bind(filter.plan.as_ref().map(PlanId::to_string))
            .bind(filter.from.map(Timestamp::as_micros))
            .bind(filter.to.map(Timestamp::as_micros))
            .bind(before_seq)
            .bind(steps::fetch_limit(&filter.page))
            .fetch_all(&self.pool)
            .await?;
        steps::page_of(rows, &filter.page, AuditRecord::try_from, |r| {
            r.seq.to_string()
        })
    }

    async fn verify_audit(&self) -> Result<AuditVerification, StoreError> {
        let mut tx = self.begin().await?;
        // One snapshot: heads and records of the same moment, however long the walk takes.
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
        let columns = AUDIT_COLUMNS
            .split(", ")
            .map(|c| format!("r.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let page_sql = format!(
            "SELECT {columns}, h.seq AS head_seq, h.hash AS head_hash FROM audit_records r \
             LEFT JOIN audit_heads h ON h.chain = r.chain \
             WHERE (r.chain, r.seq) > ($1, $2) ORDER BY r.chain, r.seq LIMIT $3"
        );
        let mut verifier = Verifier::new();
        // The empty chain name sorts first and seqs start at 1: ('', 0) is before every row.
        let mut after = (String::new(), 0_i64);
        loop {
            let page: Vec<CheckedRow> = sqlx::query_as(&page_sql)
                .bind(&after.0)
                .bind(after.1)
                .bind(VERIFY_PAGE)
                .fetch_all(&mut *tx)
                .await?;
            let Some(last) = page.last() else { break };
            after = (last.record.chain.clone(), last.record.seq);
            let full = page.len() as i64 == VERIFY_PAGE;
            for row in page {
                let head = row.head_seq.zip(row.head_hash);
                verifier.check(&row.record, head);
            }
            if !full {
                break;
            }
        }
        let empty: Vec<(String, i64, Vec<u8>)> = sqlx::query_as(
            "SELECT chain, seq, hash FROM audit_heads h \
             WHERE NOT EXISTS (SELECT 1 FROM audit_records r WHERE r.chain = h.chain)",
        )
        .fetch_all(&mut *tx)
        .await?;
        for (chain, seq, hash) in empty {
            verifier.check_empty_chain(chain, (seq, hash));
        }
        tx.commit().await?;
        Ok(verifier.finish())
    }

    async fn append_service_event(
        &self,
        action: AuditAction,
        actor: String,
        subject: String,
        after: Json,
    ) -> Result<AuditRecord, StoreError> {
        let entry = Entry::service(action, subject, &Origin::new(actor), after);
        let mut tx = self.begin().await?;
        let row = append(&mut tx, &entry).await?;
        tx.commit().await?;
        row.try_into()
    }
}
