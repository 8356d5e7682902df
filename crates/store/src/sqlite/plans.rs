//! Management plans on SQLite: create, update (merge or replace, optionally at an
//! expected version), read and list. Creates and updates append their audit record in their
//! write.

use async_trait::async_trait;
use caseload_domain::{Change, Fields, Page, PageRequest, Plan, PlanId, Timestamp};
use rusqlite::{Connection, OptionalExtension as _, Row, params};

use super::audit::{append, failed};
use super::{Refusable, SqliteStore, made_under_key, merge_sql};
use crate::audit::Origin;
use crate::rows::{PlanRow, missing_plan};
use crate::{BusinessUnits, PlanStore, StoreError, steps};

/// A query on plans, its columns in [`plan_row`] order, spelled out for `concat!`.
macro_rules! plan_select {
    ($rest:literal) => {
        concat!(
            "SELECT id, fields, version, created_at, updated_at, extensions, business_unit \
             FROM plans ",
            $rest
        )
    };
}

/// Reads a plan from `id, fields, version, created_at, updated_at, extensions,
/// business_unit`.
pub(crate) fn plan_row(row: &Row<'_>) -> rusqlite::Result<PlanRow> {
    Ok(PlanRow {
        id: row.get(0)?,
        fields: row.get(1)?,
        version: row.get(2)?,
        created_at: row.get(3)?,
        updated_at: row.get(4)?,
        extensions: row.get(5)?,
        business_unit: row.get(6)?,
    })
}

#[async_trait]
impl PlanStore for SqliteStore {
    async fn create_plan(
        &self,
        fields: Fields,
        extensions: serde_json::Map<String, serde_json::Value>,
        business_unit: String,
        actor: String,
    ) -> Result<Plan, StoreError> {
        let origin = Origin::new(actor);
        self.write(move |conn| create_plan(conn, &fields, &extensions, &business_unit, &origin))
            .await
    }

    async fn update_plan(&self, id: PlanId, change: Change) -> Result<Plan, StoreError> {
        let origin = Origin::new(&change.actor);
        self.write(move |conn| update_plan(conn, id, &change, &origin))
            .await
    }

    async fn plan(&self, id: PlanId) -> Result<Plan, StoreError> {
        let row = self.read(|conn| {
            conn.prepare_cached(plan_select!("WHERE id = ?1"))?
                .query_row([id.to_string()], plan_row)
                .optional()
        })?;
        row.ok_or_else(|| missing_plan(id))?.try_into()
    }

    async fn plan_with_open_interventions(&self, id: PlanId) -> Result<(Plan, i64), StoreError> {
        // Read the count first: the row read below sees at least the commits it counts.
        let commits = self.writer.commits();
        if let Some(cached) = self.plans.get(id, commits) {
            return Ok(cached);
        }
        let row = self.read(|conn| {
            conn.prepare_cached(
                "SELECT id, fields, version, created_at, updated_at, extensions, business_unit, \
                 (SELECT count(*) FROM interventions i WHERE i.plan_id = plans.id \
                  AND i.subject_kind = 'plan' AND i.subject_id IS NULL AND i.status = 'open') \
                 FROM plans WHERE id = ?1",
            )?
            .query_row([id.to_string()], |r| {
                Ok((plan_row(r)?, r.get::<_, i64>(7)?))
            })
            .optional()
        })?;
        let (row, open) = row.ok_or_else(|| missing_plan(id))?;
        let plan: Plan = row.try_into()?;
        self.plans.put(commits, &plan, open);
        Ok((plan, open))
    }

    async fn plans(
        &self,
        page: PageRequest,
        business_units: &BusinessUnits,
    ) -> Result<Page<Plan>, StoreError> {
        // The units as a JSON array, matched with json_each; NULL for all.
        let units = business_units
            .as_list()
            .map(|u| serde_json::Value::from(u.to_vec()).to_string());
        let rows = self.read(|conn| {
            conn.prepare_cached(plan_select!(
                "WHERE (?1 IS NULL OR id > ?1) AND (?3 IS NULL OR business_unit IN \
                 (SELECT value FROM json_each(?3))) ORDER BY id LIMIT ?2"
            ))?
            .query_map(
                params![page.after, steps::fetch_limit(&page), units],
                plan_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()
        })?;
        steps::page_of(rows, &page, Plan::try_from, |p| p.id.to_string())
    }

    async fn plan_business_unit(&self, id: PlanId) -> Result<String, StoreError> {
        let unit: Option<String> = self.read(|conn| {
            conn.prepare_cached("SELECT business_unit FROM plans WHERE id = ?1")?
                .query_row([id.to_string()], |r| r.get(0))
                .optional()
        })?;
        unit.ok_or_else(|| missing_plan(id))
    }
}

pub(crate) fn create_plan(
    conn: &Connection,
    fields: &Fields,
    extensions: &serde_json::Map<String, serde_json::Value>,
    business_unit: &str,
    origin: &Origin,
) -> Refusable<Plan> {
    let columns = "id, fields, version, created_at, updated_at, extensions, business_unit";
    if let Some(row) = made_under_key(conn, "plans", columns, origin, plan_row)? {
        return Ok(Plan::try_from(row));
    }
    let id = PlanId::new();
    let now = Timestamp::now();
    conn.prepare_cached(
        "INSERT INTO plans (id, fields, extensions, version, created_at, updated_at, \
         business_unit, request_key) VALUES (?1, ?2, ?3, 1, ?4, ?4, ?5, ?6)",
    )?
    .execute(params![
        id.to_string(),
        fields.to_json(),
        serde_json::Value::Object(extensions.clone()).to_string(),
        now.as_micros(),
        business_unit,
        origin.request_key
    ])?;
    let (plan, entry) = steps::plan_created(
        id,
        fields.clone(),
        extensions.clone(),
        business_unit.to_owned(),
        now,
        origin,
    );
    append(conn, &entry)?;
    Ok(Ok(plan))
}

pub(crate) fn update_plan(
    conn: &Connection,
    id: PlanId,
    change: &Change,
    origin: &Origin,
) -> Refusable<Plan> {
    let current: Option<(i64, String, String)> = conn
        .prepare_cached("SELECT version, fields, extensions FROM plans WHERE id = ?1")?
        .query_row([id.to_string()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((version, fields, extensions)) = current else {
        return Ok(Err(missing_plan(id)));
    };
    if let Err(refused) = steps::check_version(change.expected, version) {
        return Ok(Err(refused));
    }
    let sql = format!(
        "UPDATE plans SET fields = {}, extensions = coalesce(?4, extensions), version = version + 1, \
         updated_at = ?2 WHERE id = ?3 \
         RETURNING id, fields, version, created_at, updated_at, extensions, business_unit",
        merge_sql(change.mode, "fields", "?1")
    );
    let row = conn.prepare_cached(&sql)?.query_row(
        params![
            change.fields.to_json(),
            Timestamp::now().as_micros(),
            id.to_string(),
            change
                .extensions
                .as_ref()
                .map(|e| serde_json::Value::Object(e.clone()).to_string())
        ],
        plan_row,
    )?;
    let (plan, entry) = steps::plan_updated(row, (&fields, &extensions), origin).map_err(failed)?;
    append(conn, &entry)?;
    Ok(Ok(plan))
}
