//! Management plans on PostgreSQL: create, update (merge or replace, optionally at an
//! expected version), read and list. Creates and updates append their audit record in their
//! transaction.

use async_trait::async_trait;
use caseload_domain::{Change, Fields, Page, PageRequest, Plan, PlanId, Timestamp};

use super::{PgStore, audit::append, made_under_key, merge_sql};
use crate::audit::Origin;
use crate::rows::{PlanRow, missing_plan};
use crate::{BusinessUnits, PlanStore, StoreError, steps};

const PLAN_COLUMNS: &str = "id, fields::text AS fields, extensions::text AS extensions, version, \
     created_at, updated_at, business_unit";

#[async_trait]
impl PlanStore for PgStore {
    async fn create_plan(
        &self,
        fields: Fields,
        extensions: serde_json::Map<String, serde_json::Value>,
        business_unit: String,
        actor: String,
    ) -> Result<Plan, StoreError> {
        let origin = Origin::new(actor);
        let id = PlanId::new();
        let now = Timestamp::now();
        let mut tx = self.begin().await?;
        let key = origin.request_key.as_deref();
        if let Some(row) = made_under_key::<PlanRow>(&mut tx, "plans", PLAN_COLUMNS, key).await? {
            return row.try_into();
        }
        sqlx::query(
            "INSERT INTO plans (id, fields, extensions, version, created_at, updated_at, \
             business_unit, request_key) VALUES ($1, $2::jsonb, $3::jsonb, 1, $4, $4, $5, $6)",
        )
        .bind(id.to_string())
        .bind(fields.to_json())
        .bind(serde_json::Value::Object(extensions.clone()).to_string())
        .bind(now.as_micros())
        .bind(&business_unit)
        .bind(origin.request_key.as_deref())
        .execute(&mut *tx)
        .await?;
        let (plan, entry) =
            steps::plan_created(id, fields, extensions, business_unit, now, &origin);
        append(&mut tx, &entry).await?;
        tx.commit().await?;
        Ok(plan)
    }

    async fn update_plan(&self, id: PlanId, change: Change) -> Result<Plan, StoreError> {
        let origin = Origin::new(&change.actor);
        let mut tx = self.begin().await?;
        // Locked as the update itself would lock it: the before is the row this update changes.
        let current: Option<(i64, String, String)> = sqlx::query_as(
            "SELECT version, fields::text, extensions::text FROM plans WHERE id = $1 \
             FOR NO KEY UPDATE",
        )
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let (version, fields, extensions) = current.ok_or_else(|| missing_plan(id))?;
        steps::check_version(change.expected, version)?;
        let sql = format!(
            "UPDATE plans SET fields = {}, extensions = coalesce($4::jsonb, extensions), \
             version = version + 1, updated_at = $2 WHERE id = $3 RETURNING {PLAN_COLUMNS}",
            merge_sql(change.mode, "fields", "$1::jsonb")
        );
        let row: PlanRow = sqlx::query_as(&sql)
            .bind(change.fields.to_json())
            .bind(Timestamp::now().as_micros())
            .bind(id.to_string())
            .bind(
                change
                    .extensions
                    .as_ref()
                    .map(|e| serde_json::Value::Object(e.clone()).to_string()),
            )
            .fetch_one(&mut *tx)
            .await?;
        let (plan, entry) = steps::plan_updated(row, (&fields, &extensions), &origin)?;
        append(&mut tx, &entry).await?;
        tx.commit().await?;
        Ok(plan)
    }

    async fn plan(&self, id: PlanId) -> Result<Plan, StoreError> {
        let row: Option<PlanRow> =
            sqlx::query_as(&format!("SELECT {PLAN_COLUMNS} FROM plans WHERE id = $1"))
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await?;
        row.ok_or_else(|| missing_plan(id))?.try_into()
    }

    async fn plan_with_open_interventions(&self, id: PlanId) -> Result<(Plan, i64), StoreError> {
        let row: Option<(String, String, String, i64, i64, i64, String, i64)> = sqlx::query_as(
            "SELECT id, fields::text, extensions::text, version, created_at, updated_at, \
             business_unit, (SELECT count(*) FROM interventions i WHERE i.plan_id = plans.id \
              AND i.subject_kind = 'plan' AND i.subject_id IS NULL AND i.status = 'open') \
             FROM plans WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        let (id_text, fields, extensions, version, created_at, updated_at, business_unit, open) =
            row.ok_or_else(|| missing_plan(id))?;
        let plan = PlanRow {
            id: id_text,
            fields,
            extensions,
            version,
            created_at,
            updated_at,
            business_unit,
        }
        .try_into()?;
        Ok((plan, open))
    }

    async fn plans(
        &self,
        page: PageRequest,
        business_units: &BusinessUnits,
    ) -> Result<Page<Plan>, StoreError> {
        let rows: Vec<PlanRow> = sqlx::query_as(&format!(
            "SELECT {PLAN_COLUMNS} FROM plans WHERE ($1::text IS NULL OR id > $1) \
             AND ($3::text[] IS NULL OR business_unit = ANY($3)) ORDER BY id LIMIT $2"
        ))
        .bind(page.after.as_deref())
        .bind(steps::fetch_limit(&page))
        .bind(business_units.as_list())
        .fetch_all(&self.pool)
        .await?;
        steps::page_of(rows, &page, Plan::try_from, |p| p.id.to_string())
    }

    async fn plan_business_unit(&self, id: PlanId) -> Result<String, StoreError> {
        let unit: Option<String> =
            sqlx::query_scalar("SELECT business_unit FROM plans WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await?;
        unit.ok_or_else(|| missing_plan(id))
    }
}
