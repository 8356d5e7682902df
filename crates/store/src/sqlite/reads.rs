//! Row mapping and the reads shared by the store's read path and the writer.

use caseload_domain::{
    ChildKind, EvaluationId, Intervention, InterventionId, PlanId, RecordId, Transition,
};
use rusqlite::{Connection, OptionalExtension as _, Row, params};

use crate::StoreError;
use crate::rows::{
    BacktestRow, ChildRow, EvaluationRow, InterventionRow, PlanRow, TransitionRow, VersionRow,
    missing_intervention, missing_plan, table,
};
use crate::timelines;
use caseload_domain::analytics::{CaseTimeline, Window};

pub(crate) const CHILD_COLUMNS: &str =
    "plan_id, id, fields, extensions, version, created_at, updated_at";
/// The columns of `evaluations`, in [`EvaluationRow`] order (JSON columns are text here).
pub(crate) const EVALUATION_COLUMNS: &str = "id, plan_id, rules_id, rules_version, case_id, facts, result, decision, \
     explanation, amount_value, amount_currency, outcome, outcome_at, evaluated_by, evaluated_at";
/// The columns of `backtests`, in [`BacktestRow`] order.
pub(crate) const BACKTEST_COLUMNS: &str =
    "id, plan_id, rules_id, rules_version, proposal, report, summary, run_by, run_at";
pub(crate) const INTERVENTION_COLUMNS: &str = "id, plan_id, subject_kind, subject_id, reason, \
     requested_action, details, requester, status, version, created_at, updated_at";

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

pub(crate) fn child_row(row: &Row<'_>) -> rusqlite::Result<ChildRow> {
    Ok(ChildRow {
        plan_id: row.get(0)?,
        id: row.get(1)?,
        fields: row.get(2)?,
        extensions: row.get(3)?,
        version: row.get(4)?,
        created_at: row.get(5)?,
        updated_at: row.get(6)?,
    })
}

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

pub(crate) fn version_row(row: &Row<'_>) -> rusqlite::Result<VersionRow> {
    Ok(VersionRow {
        version: row.get(0)?,
        fields: row.get(1)?,
        extensions: row.get(2)?,
        changed_by: row.get(3)?,
        changed_at: row.get(4)?,
    })
}

pub(crate) fn evaluation_row(row: &Row<'_>) -> rusqlite::Result<EvaluationRow> {
    Ok(EvaluationRow {
        id: row.get(0)?,
        plan_id: row.get(1)?,
        rules_id: row.get(2)?,
        rules_version: row.get(3)?,
        case_id: row.get(4)?,
        facts: row.get(5)?,
        result: row.get(6)?,
        decision: row.get(7)?,
        explanation: row.get(8)?,
        amount_value: row.get(9)?,
        amount_currency: row.get(10)?,
        outcome: row.get(11)?,
        outcome_at: row.get(12)?,
        evaluated_by: row.get(13)?,
        evaluated_at: row.get(14)?,
    })
}

pub(crate) fn backtest_row(row: &Row<'_>) -> rusqlite::Result<BacktestRow> {
    Ok(BacktestRow {
        id: row.get(0)?,
        plan_id: row.get(1)?,
        rules_id: row.get(2)?,
        rules_version: row.get(3)?,
        proposal: row.get(4)?,
        report: row.get(5)?,
        summary: row.get(6)?,
        run_by: row.get(7)?,
        run_at: row.get(8)?,
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

pub(crate) fn plan_exists(conn: &Connection, id: PlanId) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM plans WHERE id = ?1")?
        .query_row([id.to_string()], |_| Ok(()))
        .optional()
        .map(|found| found.is_some())
}

pub(crate) fn record_exists(
    conn: &Connection,
    kind: ChildKind,
    plan: PlanId,
    id: &RecordId,
) -> rusqlite::Result<bool> {
    conn.prepare_cached(&format!(
        "SELECT 1 FROM {} WHERE plan_id = ?1 AND id = ?2",
        table(kind)
    ))?
    .query_row(params![plan.to_string(), id.as_str()], |_| Ok(()))
    .optional()
    .map(|found| found.is_some())
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

pub(crate) fn evaluation(
    conn: &Connection,
    plan: PlanId,
    rules: &RecordId,
    id: EvaluationId,
) -> rusqlite::Result<Option<EvaluationRow>> {
    conn.prepare_cached(&format!(
        "SELECT {} FROM evaluations WHERE plan_id = ?1 AND rules_id = ?2 AND id = ?3",
        EVALUATION_COLUMNS
    ))?
    .query_row(
        params![plan.to_string(), rules.as_str(), id.to_string()],
        evaluation_row,
    )
    .optional()
}

/// The timelines of a plan's cases that matter for `window`: seen in it or the window before
/// it, or still open (two index ranges, one per reason).
pub(crate) fn case_timelines(
    conn: &Connection,
    plan: PlanId,
    window: Window,
) -> Result<Vec<CaseTimeline>, StoreError> {
    if !plan_exists(conn, plan)? {
        return Err(missing_plan(plan));
    }
    let mut select = conn.prepare_cached(
        "SELECT timeline FROM case_timelines \
         WHERE plan_id = ?1 AND last_seen_at >= ?2 AND first_seen_at < ?3 \
         UNION ALL \
         SELECT timeline FROM case_timelines \
         WHERE plan_id = ?1 AND is_open = 1 AND first_seen_at < ?3 AND last_seen_at < ?2",
    )?;
    let rows = select.query(params![
        plan.to_string(),
        window.previous().start().as_micros(),
        window.end().as_micros()
    ])?;
    parsed_timelines(rows)
}

/// How far a plan's activity has got: the generation of its last batch, the generation its
/// timelines include, and its event count (all 0 before the first batch).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Activity {
    pub generation: i64,
    pub folded: i64,
    pub events: i64,
}

pub(crate) fn activity(conn: &Connection, plan: &str) -> rusqlite::Result<Activity> {
    Ok(conn
        .prepare_cached("SELECT generation, folded, events FROM plan_activity WHERE plan_id = ?1")?
        .query_row([plan], |r| {
            Ok(Activity {
                generation: r.get(0)?,
                folded: r.get(1)?,
                events: r.get(2)?,
            })
        })
        .optional()?
        .unwrap_or_default())
}

/// The timelines of a plan's cases changed by folds after generation `after`.
pub(crate) fn case_timelines_changed(
    conn: &Connection,
    plan: PlanId,
    after: u64,
) -> Result<Vec<CaseTimeline>, StoreError> {
    let mut select = conn.prepare_cached(
        "SELECT timeline FROM case_timelines WHERE plan_id = ?1 AND generation > ?2",
    )?;
    let rows = select.query(params![plan.to_string(), after as i64])?;
    parsed_timelines(rows)
}

/// Reads back the timelines of rows whose first column is a timeline document.
fn parsed_timelines(mut rows: rusqlite::Rows<'_>) -> Result<Vec<CaseTimeline>, StoreError> {
    let mut cases = Vec::new();
    while let Some(row) = rows.next()? {
        let document = row
            .get_ref(0)?
            .as_str()
            .map_err(|e| StoreError::Internal(format!("stored case timeline: {e}")))?;
        cases.push(timelines::parse(document)?);
    }
    Ok(cases)
}
