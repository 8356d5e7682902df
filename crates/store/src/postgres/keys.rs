//! API keys on PostgreSQL.

use async_trait::async_trait;
use caseload_domain::Timestamp;

use super::PgStore;
use super::audit::append;
use crate::audit::Origin;
use crate::{ApiKey, ApiKeyStore, StoreError, steps};

const COLUMNS: &str =
    "id, name, secret_hash, scopes, business_units, created_at, created_by, revoked_at";

#[derive(sqlx::FromRow)]
struct KeyRow {
    id: String,
    name: String,
    secret_hash: Vec<u8>,
    scopes: String,
    business_units: String,
    created_at: i64,
    created_by: String,
    revoked_at: Option<i64>,
}

impl From<KeyRow> for ApiKey {
    fn from(row: KeyRow) -> Self {
        Self {
            id: row.id,
            name: row.name,
            secret_hash: row.secret_hash,
            scopes: row.scopes.split_whitespace().map(str::to_owned).collect(),
            business_units: row
                .business_units
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            created_at: Timestamp::from_micros(row.created_at),
            created_by: row.created_by,
            revoked_at: row.revoked_at.map(Timestamp::from_micros),
        }
    }
}

#[async_trait]
impl ApiKeyStore for PgStore {
    async fn create_api_key(&self, key: ApiKey) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query(&format!(
            "INSERT INTO api_keys ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)"
        ))
        .bind(&key.id)
        .bind(&key.name)
        .bind(&key.secret_hash)
        .bind(key.scopes.join(" "))
        .bind(key.business_units.join(" "))
        .bind(key.created_at.as_micros())
        .bind(&key.created_by)
        .execute(&mut *tx)
        .await?;
        let origin = Origin::new(key.created_by.clone());
        append(&mut tx, &steps::api_key_created(&key, &origin)).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn api_key(&self, id: &str) -> Result<Option<ApiKey>, StoreError> {
        let row: Option<KeyRow> =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM api_keys WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(ApiKey::from))
    }

    async fn api_keys(&self) -> Result<Vec<ApiKey>, StoreError> {
        let rows: Vec<KeyRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM api_keys ORDER BY created_at, id"
        ))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(ApiKey::from).collect())
    }

    async fn revoke_api_key(&self, id: &str, actor: String) -> Result<ApiKey, StoreError> {
        let mut tx = self.begin().await?;
        let revoked: Option<KeyRow> = sqlx::query_as(&format!(
            "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL \
             RETURNING {COLUMNS}"
        ))
        .bind(id)
        .bind(Timestamp::now().as_micros())
        .fetch_optional(&mut *tx)
        .await?;
        let key = match revoked {
            Some(row) => {
                let key = ApiKey::from(row);
                let entry = steps::api_key_revoked(&key, &Origin::new(actor));
                append(&mut tx, &entry).await?;
                key
            }
            None => {
                let row: Option<KeyRow> =
                    sqlx::query_as(&format!("SELECT {COLUMNS} FROM api_keys WHERE id = $1"))
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                row.map(ApiKey::from)
                    .ok_or_else(|| StoreError::NotFound(format!("API key {id}")))?
            }
        };
        tx.commit().await?;
        Ok(key)
    }
}
