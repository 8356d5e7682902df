//! Intervention requests on PostgreSQL: creation under a key-share lock on what they are
//! about, filtered listing, and status moves serialised across instances by a row lock,
//! each appended to `intervention_transitions`; the open ones about a page of plans or
//! records counted in one statement. Creations and moves append their audit record in their
//! transaction.

use std::collections::HashMap;

use async_trait::async_trait;
use caseload_domain::{
    ChildKind, Intervention, InterventionId, InterventionStatus, NewIntervention, Page,
    PageRequest, PlanId, RecordId, Timestamp, Transition,
};
use sqlx::PgConnection;

use super::{PgStore, audit::append, id_texts, lock_plan, made_under_key, one_of, plan_exists};
use crate::audit::Origin;
use crate::rows::{
    InterventionRow, TransitionRow, kind_name, missing_intervention, missing_plan, missing_record,
    table,
};
use crate::{InterventionFilter, InterventionStore, StatusChange, StoreError, steps};

const TRANSITION_COLUMNS: &str = "from_status, to_status, changed_by, comment, changed_at";
const INTERVENTION_COLUMNS: &str = "id, plan_id, subject_kind, subject_id, reason, \
     requested_action, details::text AS details, requester, status, version, created_at, updated_at";

/// An intervention's lifecycle, oldest move first.
async fn transitions_of(
    conn: &mut PgConnection,
    id: InterventionId,
) -> Result<Vec<Transition>, StoreError> {
    let rows: Vec<TransitionRow> = sqlx::query_as(&format!(
        "SELECT {TRANSITION_COLUMNS} FROM intervention_transitions \
         WHERE intervention_id = $1 ORDER BY seq"
    ))
    .bind(id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter().map(Transition::try_from).collect()
}

#[async_trait]
impl InterventionStore for PgStore {
    async fn create_intervention(&self, new: NewIntervention) -> Result<Intervention, StoreError> {
        let origin = Origin::new(&new.requester);
        let mut tx = self.begin().await?;
        lock_plan(&mut tx, new.plan_id).await?;
        if let Some((kind, id)) = steps::subject_record(&new.subject) {
            let found: Option<i32> = sqlx::query_scalar(&format!(
                "SELECT 1 FROM {} WHERE plan_id = $1 AND id = $2 FOR KEY SHARE",
                table(kind)
            ))
            .bind(new.plan_id.to_string())
            .bind(id.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            if found.is_none() {
                return Err(missing_record(kind, new.plan_id, id));
            }
        }
        let key = origin.request_key.as_deref();
        if let Some(row) =
            made_under_key::<InterventionRow>(&mut tx, "interventions", INTERVENTION_COLUMNS, key)
                .await?
        {
            return Intervention::try_from(row);
        }
        let id = InterventionId::new();
        let now = Timestamp::now();
        sqlx::query(
            "INSERT INTO interventions (id, plan_id, subject_kind, subject_id, reason, \
             requested_action, details, requester, status, version, created_at, updated_at, \
             request_key) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, 1, $10, $10, $11)",
        )
        .bind(id.to_string())
        .bind(new.plan_id.to_string())
        .bind(new.subject.kind_name())
        .bind(new.subject.record_id().map(RecordId::as_str))
        .bind(new.reason.as_deref())
        .bind(new.requested_action.as_deref())
        .bind(new.details.to_json())
        .bind(&new.requester)
        .bind(InterventionStatus::Open.as_str())
        .bind(now.as_micros())
        .bind(origin.request_key.as_deref())
        .execute(&mut *tx)
        .await?;
        let (intervention, entry) = steps::intervention_created(id, new, now, &origin);
        append(&mut tx, &entry).await?;
        tx.commit().await?;
        Ok(intervention)
    }

    async fn interventions(
        &self,
        plan: PlanId,
        filter: InterventionFilter,
        page: PageRequest,
    ) -> Result<Page<Intervention>, StoreError> {
        let (kind, subject_id, status) = steps::filter_columns(&filter);
        let rows: Vec<InterventionRow> = sqlx::query_as(&format!(
            "SELECT {INTERVENTION_COLUMNS} FROM interventions WHERE plan_id = $1 \
             AND ($2::text IS NULL OR subject_kind = $2) AND ($3::text IS NULL OR subject_id = $3) \
             AND ($4::text IS NULL OR status = $4) AND ($5::text IS NULL OR id < $5) \
             ORDER BY id DESC LIMIT $6"
        ))
        .bind(plan.to_string())
        .bind(kind)
        .bind(subject_id)
        .bind(status)
        .bind(page.after.as_deref())
        .bind(steps::fetch_limit(&page))
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() && !plan_exists(&mut *self.pool.acquire().await?, plan).await? {
            return Err(missing_plan(plan));
        }
        steps::page_of(rows, &page, Intervention::try_from, |i| i.id.to_string())
    }

    async fn intervention(
        &self,
        plan: PlanId,
        id: InterventionId,
    ) -> Result<(Intervention, Vec<Transition>), StoreError> {
        // One snapshot for both reads, so the lifecycle matches the status.
        let mut tx = self.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
        let row: Option<InterventionRow> = sqlx::query_as(&format!(
            "SELECT {INTERVENTION_COLUMNS} FROM interventions WHERE id = $1 AND plan_id = $2"
        ))
        .bind(id.to_string())
        .bind(plan.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let intervention =
            Intervention::try_from(row.ok_or_else(|| missing_intervention(plan, id))?)?;
        let transitions = transitions_of(&mut tx, id).await?;
        tx.commit().await?;
        Ok((intervention, transitions))
    }

    async fn transition(
        &self,
        plan: PlanId,
        id: InterventionId,
        change: StatusChange,
    ) -> Result<(Intervention, Vec<Transition>), StoreError> {
        let origin = Origin::new(&change.by);
        let mut tx = self.begin().await?;
        // The row lock serialises moves of one intervention across instances.
        let row: Option<InterventionRow> = sqlx::query_as(&format!(
            "SELECT {INTERVENTION_COLUMNS} FROM interventions WHERE id = $1 AND plan_id = $2 \
             FOR UPDATE"
        ))
        .bind(id.to_string())
        .bind(plan.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let current = Intervention::try_from(row.ok_or_else(|| missing_intervention(plan, id))?)?;
        steps::check_move(&current, &change)?;
        let now = Timestamp::now().as_micros();
        let row: InterventionRow = sqlx::query_as(&format!(
            "UPDATE interventions SET status = $1, version = version + 1, updated_at = $2 \
             WHERE id = $3 RETURNING {INTERVENTION_COLUMNS}"
        ))
        .bind(change.to.as_str())
        .bind(now)
        .bind(id.to_string())
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO intervention_transitions (intervention_id, seq, from_status, to_status, \
             changed_by, comment, changed_at) VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 \
             FROM intervention_transitions WHERE intervention_id = $1), $2, $3, $4, $5, $6)",
        )
        .bind(id.to_string())
        .bind(current.status.as_str())
        .bind(change.to.as_str())
        .bind(&change.by)
        .bind(change.comment.as_deref())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let transitions = transitions_of(&mut tx, id).await?;
        let entry = steps::intervention_moved(plan, id, current.status, &change, &origin);
        append(&mut tx, &entry).await?;
        tx.commit().await?;
        Ok((row.try_into()?, transitions))
    }

    async fn open_plan_interventions(
        &self,
        plans: &[PlanId],
    ) -> Result<HashMap<PlanId, i64>, StoreError> {
        if plans.is_empty() {
            return Ok(HashMap::new());
        }
        let counted: Vec<(String, i64)> = sqlx::query_as(&format!(
            "SELECT plan_id, COUNT(*) FROM interventions WHERE plan_id {} \
             AND subject_kind = 'plan' AND subject_id IS NULL AND status = $2 GROUP BY plan_id",
            one_of("$1", plans.len())
        ))
        .bind(id_texts(plans))
        .bind(InterventionStatus::Open.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(steps::counts_of(plans, counted))
    }

    async fn open_record_interventions(
        &self,
        plan: PlanId,
        kind: ChildKind,
        records: &[RecordId],
    ) -> Result<HashMap<RecordId, i64>, StoreError> {
        if records.is_empty() {
            return Ok(HashMap::new());
        }
        let counted: Vec<(String, i64)> = sqlx::query_as(&format!(
            "SELECT subject_id, COUNT(*) FROM interventions WHERE plan_id = $1 \
             AND subject_kind = $2 AND subject_id {} AND status = $4 GROUP BY subject_id",
            one_of("$3", records.len())
        ))
        .bind(plan.to_string())
        .bind(kind_name(kind))
        .bind(id_texts(records))
        .bind(InterventionStatus::Open.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(steps::counts_of(records, counted))
    }
}
