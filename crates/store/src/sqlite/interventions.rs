//! Intervention requests on SQLite and their lifecycle: create, list, read with their
//! history of moves, move (optionally at an expected version), count the open ones about a
//! page of plans or records. Creates and moves append their audit record in their write.

use std::collections::HashMap;

use async_trait::async_trait;
use caseload_domain::{
    ChildKind, Intervention, InterventionId, InterventionStatus, NewIntervention, Page,
    PageRequest, PlanId, RecordId, Timestamp, Transition,
};
use rusqlite::{Connection, OptionalExtension as _, Row, params};

use super::audit::{append, failed};
use super::{Refusable, SqliteStore, made_under_key, one_of, plan_exists, subject_exists};
use crate::audit::Origin;
use crate::rows::{InterventionRow, TransitionRow, kind_name, missing_intervention, missing_plan};
use crate::{InterventionFilter, InterventionStore, StatusChange, StoreError, steps};

pub(crate) const INTERVENTION_COLUMNS: &str = "id, plan_id, subject_kind, subject_id, reason, \
     requested_action, details, requester, status, version, created_at, updated_at";

pub(crate) fn intervention_row(row: &Row<'_>) -> rusqlite::Result<InterventionRow> {
    Ok(InterventionRow {
        id: row.get(0)?,
        plan_id: row.get(1)?,
        subject_kind: row.get(2)?,
        subject_id: row.get(3)?,
        reason: row.get(4)?,
        requested_action: row.get(5)?,
        details: row.get(6)?,
        requester: row.get(7)?,
        status: row.get(8)?,
        version: row.get(9)?,
        created_at: row.get(10)?,
        updated_at: row.get(11)?,
    })
}

fn transition_row(row: &Row<'_>) -> rusqlite::Result<TransitionRow> {
    Ok(TransitionRow {
        from_status: row.get(0)?,
        to_status: row.get(1)?,
        changed_by: row.get(2)?,
        comment: row.get(3)?,
        changed_at: row.get(4)?,
    })
}

#[async_trait]
impl InterventionStore for SqliteStore {
    async fn create_intervention(&self, new: NewIntervention) -> Result<Intervention, StoreError> {
        let origin = Origin::new(&new.requester);
        self.write(move |conn| create_intervention(conn, &new, &origin))
            .await
    }

    async fn interventions(
        &self,
        plan: PlanId,
        filter: InterventionFilter,
        page: PageRequest,
    ) -> Result<Page<Intervention>, StoreError> {
        let (kind, subject_id, status) = steps::filter_columns(&filter);
        let (rows, plan_exists) = self.read(|conn| {
            let rows = conn
                .prepare_cached(&format!(
                    "SELECT {INTERVENTION_COLUMNS} FROM interventions \
                     WHERE plan_id = ?1 AND (?2 IS NULL OR subject_kind = ?2) \
                     AND (?3 IS NULL OR subject_id = ?3) AND (?4 IS NULL OR status = ?4) \
                     AND (?5 IS NULL OR id < ?5) ORDER BY id DESC LIMIT ?6"
                ))?
                .query_map(
                    params![
                        plan.to_string(),
                        kind,
                        subject_id,
                        status,
                        page.after,
                        steps::fetch_limit(&page)
                    ],
                    intervention_row,
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let exists = !rows.is_empty() || plan_exists(conn, plan)?;
            Ok((rows, exists))
        })?;
        if !plan_exists {
            return Err(missing_plan(plan));
        }
        steps::page_of(rows, &page, Intervention::try_from, |i| i.id.to_string())
    }

    async fn intervention(
        &self,
        plan: PlanId,
        id: InterventionId,
    ) -> Result<(Intervention, Vec<Transition>), StoreError> {
        self.read(|conn| intervention_with_history(conn, plan, id))?
    }

    async fn transition(
        &self,
        plan: PlanId,
        id: InterventionId,
        change: StatusChange,
    ) -> Result<(Intervention, Vec<Transition>), StoreError> {
        let origin = Origin::new(&change.by);
        self.write(move |conn| transition(conn, plan, id, &change, &origin))
            .await
    }

    async fn open_plan_interventions(
        &self,
        plans: &[PlanId],
    ) -> Result<HashMap<PlanId, i64>, StoreError> {
        if plans.is_empty() {
            return Ok(HashMap::new());
        }
        let (asked, ids) = one_of("?1", plans);
        let counted = self.read(|conn| {
            conn.prepare_cached(&format!(
                "SELECT plan_id, count(*) FROM interventions WHERE plan_id {asked} \
                 AND subject_kind = 'plan' AND subject_id IS NULL AND status = 'open' \
                 GROUP BY plan_id"
            ))?
            .query_map([ids], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()
        })?;
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
        let (asked, ids) = one_of("?3", records);
        let counted = self.read(|conn| {
            conn.prepare_cached(&format!(
                "SELECT subject_id, count(*) FROM interventions WHERE plan_id = ?1 \
                 AND subject_kind = ?2 AND subject_id {asked} AND status = 'open' \
                 GROUP BY subject_id"
            ))?
            .query_map(params![plan.to_string(), kind_name(kind), ids], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
        })?;
        Ok(steps::counts_of(records, counted))
    }
}

pub(crate) fn create_intervention(
    conn: &Connection,
    new: &NewIntervention,
    origin: &Origin,
) -> Refusable<Intervention> {
    if let Err(missing) = subject_exists(conn, new.plan_id, &new.subject)? {
        return Ok(Err(missing));
    }
    let made = made_under_key(conn, "interventions", "id", origin, |r| {
        r.get::<_, String>(0)
    })?;
    if let Some(id) = made.and_then(|id| InterventionId::parse(&id).ok()) {
        return Ok(intervention_with_history(conn, new.plan_id, id)?.map(|(i, _)| i));
    }
    let id = InterventionId::new();
    let now = Timestamp::now();
    conn.prepare_cached(
        "INSERT INTO interventions (id, plan_id, subject_kind, subject_id, reason, \
         requested_action, details, requester, status, version, created_at, updated_at, \
         request_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1, ?10, ?10, ?11)",
    )?
    .execute(params![
        id.to_string(),
        new.plan_id.to_string(),
        new.subject.kind_name(),
        new.subject.record_id().map(RecordId::as_str),
        new.reason,
        new.requested_action,
        new.details.to_json(),
        new.requester,
        InterventionStatus::Open.as_str(),
        now.as_micros(),
        origin.request_key,
    ])?;
    let (intervention, entry) = steps::intervention_created(id, new.clone(), now, origin);
    append(conn, &entry)?;
    Ok(Ok(intervention))
}

pub(crate) fn transition(
    conn: &Connection,
    plan: PlanId,
    id: InterventionId,
    change: &StatusChange,
    origin: &Origin,
) -> Refusable<(Intervention, Vec<Transition>)> {
    let Some(current) = intervention(conn, plan, id)? else {
        return Ok(Err(missing_intervention(plan, id)));
    };
    let current = match Intervention::try_from(current) {
        Ok(current) => current,
        Err(err) => return Ok(Err(err)),
    };
    if let Err(refused) = steps::check_move(&current, change) {
        return Ok(Err(refused));
    }
    let now = Timestamp::now().as_micros();
    conn.prepare_cached(
        "UPDATE interventions SET status = ?1, version = version + 1, updated_at = ?2 WHERE id = ?3",
    )?
    .execute(params![change.to.as_str(), now, id.to_string()])?;
    conn.prepare_cached(
        "INSERT INTO intervention_transitions (intervention_id, seq, from_status, to_status, changed_by, comment, changed_at) \
         SELECT ?1, coalesce(max(seq), 0) + 1, ?2, ?3, ?4, ?5, ?6 FROM intervention_transitions WHERE intervention_id = ?1",
    )?
    .execute(params![id.to_string(), current.status.as_str(), change.to.as_str(), change.by, change.comment, now])?;
    let entry = steps::intervention_moved(plan, id, current.status, change, origin);
    append(conn, &entry)?;
    let moved = intervention_with_history(conn, plan, id)?;
    Ok(Ok(moved.map_err(failed)?))
}

pub(crate) fn intervention(
    conn: &Connection,
    plan: PlanId,
    id: InterventionId,
) -> rusqlite::Result<Option<InterventionRow>> {
    conn.prepare_cached(&format!(
        "SELECT {INTERVENTION_COLUMNS} FROM interventions WHERE plan_id = ?1 AND id = ?2"
    ))?
    .query_row(params![plan.to_string(), id.to_string()], intervention_row)
    .optional()
}

pub(crate) fn intervention_with_history(
    conn: &Connection,
    plan: PlanId,
    id: InterventionId,
) -> rusqlite::Result<Result<(Intervention, Vec<Transition>), StoreError>> {
    let Some(row) = intervention(conn, plan, id)? else {
        return Ok(Err(missing_intervention(plan, id)));
    };
    let rows = conn
        .prepare_cached(
            "SELECT from_status, to_status, changed_by, comment, changed_at FROM intervention_transitions \
             WHERE intervention_id = ?1 ORDER BY seq",
        )?
        .query_map([id.to_string()], transition_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((|| {
        let intervention = Intervention::try_from(row)?;
        let history = rows
            .into_iter()
            .map(Transition::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((intervention, history))
    })())
}
