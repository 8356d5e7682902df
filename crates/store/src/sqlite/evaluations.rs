//! Recorded evaluations, their outcomes and back-tests on SQLite. Each write appends its
//! audit record in its write.

use std::collections::HashMap;

use async_trait::async_trait;
use caseload_domain::{
    Amount, BacktestId, BacktestRecord, EvaluationId, EvaluationRecord, HistorySummary,
    NewBacktest, NewEvaluation, Page, PageRequest, PlanId, RecordId, Subject, Timestamp,
};
use rusqlite::{Connection, OptionalExtension as _, Row, params};

use super::audit::{append, failed};
use super::{Refusable, SqliteStore, made_under_key, one_of, subject_exists};
use crate::audit::Origin;
use crate::rows::{BacktestRow, EvaluationRow, missing_evaluation};
use crate::{EvaluationStore, StoreError, steps};

/// The columns of `evaluations`, in [`EvaluationRow`] order (JSON columns are text here).
pub(crate) const EVALUATION_COLUMNS: &str = "id, plan_id, rules_id, rules_version, case_id, facts, result, decision, \
     explanation, amount_value, amount_currency, outcome, outcome_at, evaluated_by, evaluated_at";
/// The columns of `backtests`, in [`BacktestRow`] order.
pub(crate) const BACKTEST_COLUMNS: &str =
    "id, plan_id, rules_id, rules_version, proposal, report, summary, run_by, run_at";

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

#[async_trait]
impl EvaluationStore for SqliteStore {
    async fn record_evaluation(&self, new: NewEvaluation) -> Result<EvaluationRecord, StoreError> {
        let origin = Origin::new(&new.evaluated_by);
        self.write(move |conn| record_evaluation(conn, &new, &origin))
            .await
    }

    async fn set_outcome(
        &self,
        plan: PlanId,
        rules: RecordId,
        id: EvaluationId,
        outcome: String,
        amount: Option<Amount>,
        actor: String,
    ) -> Result<EvaluationRecord, StoreError> {
        let origin = Origin::new(actor);
        self.write(move |conn| {
            set_outcome(conn, plan, &rules, id, &outcome, amount.as_ref(), &origin)
        })
        .await
    }

    async fn evaluations(
        &self,
        plan: PlanId,
        rules: RecordId,
        page: PageRequest,
    ) -> Result<Page<EvaluationRecord>, StoreError> {
        self.require_rule(plan, &rules)?;
        let rows = self.read(|conn| {
            conn.prepare_cached(&format!(
                "SELECT {EVALUATION_COLUMNS} FROM evaluations WHERE plan_id = ?1 AND rules_id = ?2 \
                 AND (?3 IS NULL OR id < ?3) ORDER BY id DESC LIMIT ?4"
            ))?
            .query_map(
                params![
                    plan.to_string(),
                    rules.as_str(),
                    page.after,
                    steps::fetch_limit(&page)
                ],
                evaluation_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()
        })?;
        steps::page_of(rows, &page, EvaluationRecord::try_from, |e| {
            e.id.to_string()
        })
    }

    async fn samples(
        &self,
        plan: PlanId,
        rules: RecordId,
        limit: u32,
    ) -> Result<Vec<EvaluationRecord>, StoreError> {
        self.require_rule(plan, &rules)?;
        let rows = self.read(|conn| {
            conn.prepare_cached(&format!(
                "SELECT {EVALUATION_COLUMNS} FROM evaluations WHERE plan_id = ?1 AND rules_id = ?2 \
                 ORDER BY id DESC LIMIT ?3"
            ))?
            .query_map(
                params![plan.to_string(), rules.as_str(), i64::from(limit)],
                evaluation_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()
        })?;
        rows.into_iter().map(EvaluationRecord::try_from).collect()
    }

    async fn save_backtest(&self, new: NewBacktest) -> Result<BacktestRecord, StoreError> {
        let origin = Origin::new(&new.run_by);
        self.write(move |conn| save_backtest(conn, &new, &origin))
            .await
    }

    async fn history_summaries(
        &self,
        plan: PlanId,
        rules: &[RecordId],
    ) -> Result<HashMap<RecordId, HistorySummary>, StoreError> {
        if rules.is_empty() {
            return Ok(HashMap::new());
        }
        let read = summary_groups(plan, rules);
        // A page's summaries can read many evaluations: off the caller's thread.
        let groups = if rules.len() == 1 {
            self.read(read)?
        } else {
            self.read_long(move |conn| Ok(read(conn)?)).await?
        };
        steps::history_summaries(plan, rules, groups)
    }

    async fn latest_backtests(
        &self,
        plan: PlanId,
        rules: &[RecordId],
    ) -> Result<HashMap<RecordId, BacktestRecord>, StoreError> {
        if rules.is_empty() {
            return Ok(HashMap::new());
        }
        // Each criterion's latest back-test: its id the first on `backtests_by_rule`,
        // backwards, then its row by id.
        let (asked, ids) = one_of("?2", rules);
        let rows = self.read(|conn| {
            conn.prepare_cached(&format!(
                "WITH latest AS (SELECT r.id AS rule, (SELECT b.id FROM backtests b \
                 WHERE b.plan_id = r.plan_id AND b.rules_id = r.id ORDER BY b.id DESC LIMIT 1) \
                 AS backtest FROM rules r WHERE r.plan_id = ?1 AND r.id {asked}) \
                 SELECT {BACKTEST_COLUMNS}, latest.rule FROM latest \
                 LEFT JOIN backtests ON backtests.id = latest.backtest"
            ))?
            .query_map(params![plan.to_string(), ids], |r| {
                let found: Option<String> = r.get(0)?;
                Ok((r.get(9)?, found.map(|_| backtest_row(r)).transpose()?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
        })?;
        steps::latest_backtests(plan, rules, rows)
    }
}

/// Reads the [`OutcomeGroup`](steps::OutcomeGroup)s of those of `rules` that the plan has,
/// in one statement, so that the counts and the dates come from one snapshot, and the
/// criteria are seen to exist in it.
fn summary_groups(
    plan: PlanId,
    rules: &[RecordId],
) -> impl FnOnce(&Connection) -> rusqlite::Result<Vec<steps::OutcomeGroup>> + Send + 'static {
    let (asked, ids) = one_of("?2", rules);
    move |conn| {
        conn.prepare_cached(&format!(
            "SELECT r.id, coalesce(e.outcome, 'pending') AS o, count(e.id), \
             min(e.evaluated_at), max(e.evaluated_at) \
             FROM rules r LEFT JOIN evaluations e ON e.plan_id = r.plan_id AND e.rules_id = r.id \
             WHERE r.plan_id = ?1 AND r.id {asked} GROUP BY r.id, o"
        ))?
        .query_map(params![plan.to_string(), ids], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect()
    }
}

pub(crate) fn record_evaluation(
    conn: &Connection,
    new: &NewEvaluation,
    origin: &Origin,
) -> Refusable<EvaluationRecord> {
    if let Err(missing) = subject_exists(conn, new.plan_id, &Subject::Rules(new.rules_id.clone()))?
    {
        return Ok(Err(missing));
    }
    let made = made_under_key(
        conn,
        "evaluations",
        EVALUATION_COLUMNS,
        origin,
        evaluation_row,
    )?;
    if let Some(row) = made {
        return Ok(EvaluationRecord::try_from(row));
    }
    let id = EvaluationId::new();
    let now = Timestamp::now();
    conn.prepare_cached(
        "INSERT INTO evaluations (id, plan_id, rules_id, rules_version, case_id, facts, result, decision, \
         explanation, amount_value, amount_currency, outcome, outcome_at, evaluated_by, evaluated_at, \
         request_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, NULL, NULL, ?12, ?13, ?14)",
    )?
    .execute(params![
        id.to_string(),
        new.plan_id.to_string(),
        new.rules_id.as_str(),
        new.rules_version.get(),
        new.case_id,
        new.facts.to_string(),
        new.result,
        new.decision,
        new.explanation.to_string(),
        new.amount.as_ref().map(|a| a.value.to_string()),
        new.amount.as_ref().map(|a| a.currency.clone()),
        new.evaluated_by,
        now.as_micros(),
        origin.request_key,
    ])?;
    append(conn, &steps::evaluation_recorded(id, new, origin))?;
    Ok(Ok(EvaluationRecord {
        id,
        evaluation: new.clone(),
        outcome: None,
        outcome_at: None,
        evaluated_at: now,
    }))
}

pub(crate) fn set_outcome(
    conn: &Connection,
    plan: PlanId,
    rules: &RecordId,
    id: EvaluationId,
    outcome: &str,
    amount: Option<&caseload_domain::Amount>,
    origin: &Origin,
) -> Refusable<EvaluationRecord> {
    let current: Option<(Option<String>, Option<String>, Option<String>)> = conn
        .prepare_cached(
            "SELECT outcome, amount_value, amount_currency FROM evaluations \
             WHERE plan_id = ?1 AND rules_id = ?2 AND id = ?3",
        )?
        .query_row(
            params![plan.to_string(), rules.as_str(), id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((old_outcome, old_value, old_currency)) = current else {
        return Ok(Err(missing_evaluation(plan, rules, id)));
    };
    conn.prepare_cached(
        "UPDATE evaluations SET outcome = ?1, outcome_at = ?2, \
         amount_value = coalesce(?3, amount_value), amount_currency = coalesce(?4, amount_currency) \
         WHERE plan_id = ?5 AND rules_id = ?6 AND id = ?7",
    )?
    .execute(params![
        outcome,
        Timestamp::now().as_micros(),
        amount.map(|a| a.value.to_string()),
        amount.map(|a| a.currency.clone()),
        plan.to_string(),
        rules.as_str(),
        id.to_string()
    ])?;
    let before = (
        old_outcome.as_deref(),
        old_value.as_deref(),
        old_currency.as_deref(),
    );
    append(
        conn,
        &steps::outcome_set(plan, id, before, outcome, amount, origin),
    )?;
    match evaluation(conn, plan, rules, id)? {
        Some(row) => Ok(Ok(EvaluationRecord::try_from(row).map_err(failed)?)),
        None => Err(failed(missing_evaluation(plan, rules, id))),
    }
}

pub(crate) fn save_backtest(
    conn: &Connection,
    new: &NewBacktest,
    origin: &Origin,
) -> Refusable<BacktestRecord> {
    if let Err(missing) = subject_exists(conn, new.plan_id, &Subject::Rules(new.rules_id.clone()))?
    {
        return Ok(Err(missing));
    }
    let made = made_under_key(conn, "backtests", BACKTEST_COLUMNS, origin, backtest_row)?;
    if let Some(row) = made {
        return Ok(BacktestRecord::try_from(row));
    }
    let id = BacktestId::new();
    let now = Timestamp::now();
    conn.prepare_cached(
        "INSERT INTO backtests (id, plan_id, rules_id, rules_version, proposal, report, summary, run_by, run_at, \
         request_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        id.to_string(),
        new.plan_id.to_string(),
        new.rules_id.as_str(),
        new.rules_version.get(),
        new.proposal.to_string(),
        new.report.to_string(),
        new.summary,
        new.run_by,
        now.as_micros(),
        origin.request_key,
    ])?;
    append(conn, &steps::backtest_saved(id, new, origin))?;
    Ok(Ok(BacktestRecord {
        id,
        backtest: new.clone(),
        run_at: now,
    }))
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
