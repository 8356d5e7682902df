//! Idempotency keys on SQLite. A claim is decided and written by the writer thread in one
//! transaction, so two claims of one key cannot both start; a key already held or answered
//! is found by an inline read first, so a replay costs no write.

use std::time::Duration;

use async_trait::async_trait;
use caseload_domain::Timestamp;
use rusqlite::{Connection, OptionalExtension as _, params};

use super::SqliteStore;
use crate::idempotency::{self, DONE, IN_FLIGHT, KeyRow};
use crate::{Begin, IdempotencyStore, StoreError, StoredResponse};

/// Most keys one purge transaction deletes.
const PURGE_STEP: u64 = 5_000;

/// The stored key, if any.
fn find(conn: &Connection, principal: &str, key: &str) -> rusqlite::Result<Option<RawRow>> {
    conn.prepare_cached(
        "SELECT fingerprint, state, status, headers, body, created_at, expires_at \
         FROM idempotency_keys WHERE principal = ?1 AND idempotency_key = ?2",
    )?
    .query_row(params![principal, key], |r| {
        Ok(RawRow {
            fingerprint: r.get(0)?,
            state: r.get(1)?,
            status: r.get(2)?,
            headers: r.get(3)?,
            body: r.get(4)?,
            created_at: r.get(5)?,
            expires_at: r.get(6)?,
        })
    })
    .optional()
}

/// A key's columns as read, converted outside the closure that reads them.
struct RawRow {
    fingerprint: Vec<u8>,
    state: String,
    status: Option<i64>,
    headers: Option<String>,
    body: Option<Vec<u8>>,
    created_at: i64,
    expires_at: i64,
}

impl TryFrom<RawRow> for KeyRow {
    type Error = StoreError;

    fn try_from(row: RawRow) -> Result<Self, StoreError> {
        KeyRow::from_columns(
            row.fingerprint,
            &row.state,
            row.status,
            row.headers,
            row.body,
            row.created_at,
            row.expires_at,
        )
    }
}

/// The answer for a key that is not free, or `None` when a new request may claim it.
fn decided(
    found: Option<RawRow>,
    fingerprint: &[u8],
    now: Timestamp,
) -> Result<Option<Begin>, StoreError> {
    match found.map(KeyRow::try_from).transpose()? {
        Some(row) if !row.is_free(now) => Ok(Some(row.answer(fingerprint))),
        _ => Ok(None),
    }
}

#[async_trait]
impl IdempotencyStore for SqliteStore {
    async fn begin(
        &self,
        principal: &str,
        key: &str,
        fingerprint: &[u8],
        now: Timestamp,
        ttl: Duration,
    ) -> Result<Begin, StoreError> {
        let found = self.read(|conn| find(conn, principal, key))?;
        if let Some(answer) = decided(found, fingerprint, now)? {
            return Ok(answer);
        }
        let (principal, key, fingerprint) =
            (principal.to_owned(), key.to_owned(), fingerprint.to_vec());
        let expires_at = idempotency::expiry(now, ttl);
        self.write(move |conn| {
            // Decided again inside the transaction: another claim may have been written
            // since the read.
            let found = find(conn, &principal, &key)?;
            match decided(found, &fingerprint, now) {
                Ok(Some(answer)) => return Ok(Ok(answer)),
                Ok(None) => {}
                Err(err) => return Ok(Err(err)),
            }
            conn.prepare_cached(
                "INSERT OR REPLACE INTO idempotency_keys (principal, idempotency_key, fingerprint, \
                 state, status, headers, body, created_at, expires_at) \
                 VALUES (?1, ?2, ?3, ?4, NULL, NULL, NULL, ?5, ?6)",
            )?
            .execute(params![
                principal,
                key,
                fingerprint,
                IN_FLIGHT,
                now.as_micros(),
                expires_at
            ])?;
            Ok(Ok(Begin::Started))
        })
        .await
    }

    async fn complete(
        &self,
        principal: &str,
        key: &str,
        response: StoredResponse,
    ) -> Result<(), StoreError> {
        let (principal, key) = (principal.to_owned(), key.to_owned());
        let headers = idempotency::headers_json(&response.headers);
        self.write(move |conn| {
            conn.prepare_cached(
                "UPDATE idempotency_keys SET state = ?1, status = ?2, headers = ?3, body = ?4 \
                 WHERE principal = ?5 AND idempotency_key = ?6 AND state = ?7",
            )?
            .execute(params![
                DONE,
                response.status,
                headers,
                response.body,
                principal,
                key,
                IN_FLIGHT
            ])?;
            Ok(Ok(()))
        })
        .await
    }

    async fn abandon(&self, principal: &str, key: &str) -> Result<(), StoreError> {
        let (principal, key) = (principal.to_owned(), key.to_owned());
        self.write(move |conn| {
            conn.prepare_cached(
                "DELETE FROM idempotency_keys \
                 WHERE principal = ?1 AND idempotency_key = ?2 AND state = ?3",
            )?
            .execute(params![principal, key, IN_FLIGHT])?;
            Ok(Ok(()))
        })
        .await
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        // In bounded steps, so that the writer is never held up long by a purge.
        let mut total = 0;
        loop {
            let purged = self
                .write(move |conn| {
                    let purged = conn
                        .prepare_cached(
                            "DELETE FROM idempotency_keys WHERE rowid IN (SELECT rowid \
                             FROM idempotency_keys WHERE expires_at <= ?1 \
                             AND (state = ?2 OR created_at <= ?3) LIMIT ?4)",
                        )?
                        .execute(params![
                            now.as_micros(),
                            DONE,
                            idempotency::stale_before(now),
                            PURGE_STEP
                        ])?;
                    Ok(Ok(purged as u64))
                })
                .await?;
            total += purged;
            if purged < PURGE_STEP {
                return Ok(total);
            }
        }
    }
}
