//! API keys on SQLite.

use async_trait::async_trait;
use caseload_domain::Timestamp;
use rusqlite::{OptionalExtension as _, Row, params};

use super::SqliteStore;
use super::audit::append;
use crate::audit::Origin;
use crate::{ApiKey, ApiKeyStore, StoreError, steps};

const COLUMNS: &str =
    "id, name, secret_hash, scopes, business_units, created_at, created_by, revoked_at";

fn key_row(row: &Row<'_>) -> rusqlite::Result<ApiKey> {
    let scopes: String = row.get(3)?;
    let units: String = row.get(4)?;
    Ok(ApiKey {
        id: row.get(0)?,
        name: row.get(1)?,
        secret_hash: row.get(2)?,
        scopes: scopes.split_whitespace().map(str::to_owned).collect(),
        business_units: units.split_whitespace().map(str::to_owned).collect(),
        created_at: Timestamp::from_micros(row.get(5)?),
        created_by: row.get(6)?,
        revoked_at: row.get::<_, Option<i64>>(7)?.map(Timestamp::from_micros),
    })
}

#[async_trait]
impl ApiKeyStore for SqliteStore {
    async fn create_api_key(&self, key: ApiKey) -> Result<(), StoreError> {
        let origin = Origin::new(key.created_by.clone());
        self.write(move |conn| {
            conn.prepare_cached(&format!(
                "INSERT INTO api_keys ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL)"
            ))?
            .execute(params![
                key.id,
                key.name,
                key.secret_hash,
                key.scopes.join(" "),
                key.business_units.join(" "),
                key.created_at.as_micros(),
                key.created_by,
            ])?;
            append(conn, &steps::api_key_created(&key, &origin))?;
            Ok(Ok(()))
        })
        .await
    }

    async fn api_key(&self, id: &str) -> Result<Option<ApiKey>, StoreError> {
        self.read(|conn| {
            conn.prepare_cached(&format!("SELECT {COLUMNS} FROM api_keys WHERE id = ?1"))?
                .query_row([id], key_row)
                .optional()
        })
    }

    async fn api_keys(&self) -> Result<Vec<ApiKey>, StoreError> {
        self.read(|conn| {
            conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM api_keys ORDER BY created_at, id"
            ))?
            .query_map([], key_row)?
            .collect()
        })
    }

    async fn revoke_api_key(&self, id: &str, actor: String) -> Result<ApiKey, StoreError> {
        let id = id.to_owned();
        let origin = Origin::new(actor);
        self.write(move |conn| {
            let revoked = conn
                .prepare_cached(
                    "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                )?
                .execute(params![id, Timestamp::now().as_micros()])?;
            let key = conn
                .prepare_cached(&format!("SELECT {COLUMNS} FROM api_keys WHERE id = ?1"))?
                .query_row([&id], key_row)
                .optional()?;
            let Some(key) = key else {
                return Ok(Err(StoreError::NotFound(format!("API key {id}"))));
            };
            if revoked > 0 {
                append(conn, &steps::api_key_revoked(&key, &origin))?;
            }
            Ok(Ok(key))
        })
        .await
    }
}
