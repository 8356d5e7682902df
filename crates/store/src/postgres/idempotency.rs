//! Idempotency keys on PostgreSQL. A claim is one upsert that takes the key only when it is
//! absent or free, so concurrent claims from any number of instances let one through; a
//! claim that did not take the key reads what holds it.

use std::time::Duration;

use async_trait::async_trait;
use caseload_domain::Timestamp;

use super::PgStore;
use crate::idempotency::{self, DONE, IN_FLIGHT, KeyRow};
use crate::{Begin, IdempotencyStore, StoreError, StoredResponse};

/// How often a claim is tried again when the key it lost to was freed before it could be
/// read (a rare race with `abandon` or a purge).
const CLAIM_ATTEMPTS: usize = 3;

type RawRow = (
    Vec<u8>,
    String,
    Option<i32>,
    Option<String>,
    Option<Vec<u8>>,
    i64,
    i64,
);

#[async_trait]
impl IdempotencyStore for PgStore {
    async fn begin(
        &self,
        principal: &str,
        key: &str,
        fingerprint: &[u8],
        now: Timestamp,
        ttl: Duration,
    ) -> Result<Begin, StoreError> {
        for _ in 0..CLAIM_ATTEMPTS {
            let claimed: Option<i32> = sqlx::query_scalar(
                "INSERT INTO idempotency_keys AS k (principal, idempotency_key, fingerprint, \
                 state, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (principal, idempotency_key) DO UPDATE SET \
                 fingerprint = EXCLUDED.fingerprint, state = EXCLUDED.state, status = NULL, \
                 headers = NULL, body = NULL, created_at = EXCLUDED.created_at, \
                 expires_at = EXCLUDED.expires_at \
                 WHERE (k.state = $7 AND k.expires_at <= $5) OR (k.state = $4 AND k.created_at <= $8) \
                 RETURNING 1",
            )
            .bind(principal)
            .bind(key)
            .bind(fingerprint)
            .bind(IN_FLIGHT)
            .bind(now.as_micros())
            .bind(idempotency::expiry(now, ttl))
            .bind(DONE)
            .bind(idempotency::stale_before(now))
            .fetch_optional(&self.pool)
            .await?;
            if claimed.is_some() {
                return Ok(Begin::Started);
            }
            let found: Option<RawRow> = sqlx::query_as(
                "SELECT fingerprint, state, status, headers, body, created_at, expires_at \
                 FROM idempotency_keys WHERE principal = $1 AND idempotency_key = $2",
            )
            .bind(principal)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
            if let Some((fingerprint_found, state, status, headers, body, created, expires)) = found
            {
                let row = KeyRow::from_columns(
                    fingerprint_found,
                    &state,
                    status.map(i64::from),
                    headers,
                    body,
                    created,
                    expires,
                )?;
                if !row.is_free(now) {
                    return Ok(row.answer(fingerprint));
                }
            }
        }
        Err(StoreError::Unavailable(
            "an idempotency key kept changing while it was claimed".into(),
        ))
    }

    async fn complete(
        &self,
        principal: &str,
        key: &str,
        response: StoredResponse,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE idempotency_keys SET state = $1, status = $2, headers = $3, body = $4 \
             WHERE principal = $5 AND idempotency_key = $6 AND state = $7",
        )
        .bind(DONE)
        .bind(i32::from(response.status))
        .bind(idempotency::headers_json(&response.headers))
        .bind(&response.body)
        .bind(principal)
        .bind(key)
        .bind(IN_FLIGHT)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn abandon(&self, principal: &str, key: &str) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM idempotency_keys \
             WHERE principal = $1 AND idempotency_key = $2 AND state = $3",
        )
        .bind(principal)
        .bind(key)
        .bind(IN_FLIGHT)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM idempotency_keys WHERE expires_at <= $1 \
             AND (state = $2 OR created_at <= $3)",
        )
        .bind(now.as_micros())
        .bind(DONE)
        .bind(idempotency::stale_before(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}
