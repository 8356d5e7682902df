//! A criterion's recorded evaluations, their outcomes and its back-tests on PostgreSQL.
//! New evaluations and back-tests key-share-lock the plan and the criterion, so neither can
//! be deleted under them; reads that find nothing check that the criterion exists (the
//! reads of a page of criteria find them in the same statement). Every write appends its
//! audit record in its transaction.

use std::collections::HashMap;

use async_trait::async_trait;
use caseload_domain::{
    Amount, BacktestId, BacktestRecord, EvaluationId, EvaluationRecord, HistorySummary,
    NewBacktest, NewEvaluation, Page, PageRequest, PlanId, RecordId, Timestamp,
};
use sqlx::{FromRow as _, Row as _};

use super::{PgStore, audit::append, id_texts, lock_plan, made_under_key, one_of, require_rules};
use crate::audit::Origin;
use crate::rows::{BacktestRow, EvaluationRow, missing_evaluation};
use crate::{EvaluationStore, StoreError, steps};

// `rows::EVALUATION_COLUMNS` and `rows::BACKTEST_COLUMNS` name the JSON columns bare, which
// SQLite returns as text; here JSONB must be cast to be read as text.
const EVALUATION_COLUMNS: &str = "id, plan_id, rules_id, rules_version, case_id, \
     facts::text AS facts, result, decision, explanation::text AS explanation, amount_value, \
     amount_currency, outcome, outcome_at, evaluated_by, evaluated_at";
const BACKTEST_COLUMNS: &str = "id, plan_id, rules_id, rules_version, \
     proposal::text AS proposal, report::text AS report, summary, run_by, run_at";

#[async_trait]
impl EvaluationStore for PgStore {
    async fn record_evaluation(&self, new: NewEvaluation) -> Result<EvaluationRecord, StoreError> {
        let origin = Origin::new(&new.evaluated_by);
        let mut tx = self.begin().await?;
        lock_plan(&mut tx, new.plan_id).await?;
        require_rules(&mut tx, new.plan_id, &new.rules_id, true).await?;
        let key = origin.request_key.as_deref();
        if let Some(row) =
            made_under_key::<EvaluationRow>(&mut tx, "evaluations", EVALUATION_COLUMNS, key).await?
        {
            return row.try_into();
        }
        let row: EvaluationRow = sqlx::query_as(&format!(
            "INSERT INTO evaluations (id, plan_id, rules_id, rules_version, case_id, facts, \
             result, decision, explanation, amount_value, amount_currency, evaluated_by, \
             evaluated_at, request_key) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9::jsonb, \
             $10, $11, $12, $13, $14) RETURNING {EVALUATION_COLUMNS}"
        ))
        .bind(EvaluationId::new().to_string())
        .bind(new.plan_id.to_string())
        .bind(new.rules_id.as_str())
        .bind(new.rules_version.get())
        .bind(new.case_id.as_deref())
        .bind(new.facts.to_string())
        .bind(new.result)
        .bind(new.decision.as_deref())
        .bind(new.explanation.to_string())
        .bind(new.amount.as_ref().map(|a| a.value.to_string()))
        .bind(new.amount.as_ref().map(|a| a.currency.as_str()))
        .bind(&new.evaluated_by)
        .bind(Timestamp::now().as_micros())
        .bind(origin.request_key.as_deref())
        .fetch_one(&mut *tx)
        .await?;
        let entry = steps::evaluation_recorded(&row.id, &new, &origin);
        append(&mut tx, &entry).await?;
        tx.commit().await?;
        row.try_into()
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
        let mut tx = self.begin().await?;
        let current: Option<(Option<String>, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT outcome, amount_value, amount_currency FROM evaluations \
             WHERE id = $1 AND plan_id = $2 AND rules_id = $3 FOR NO KEY UPDATE",
        )
        .bind(id.to_string())
        .bind(plan.to_string())
        .bind(rules.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let (old_outcome, old_value, old_currency) =
            current.ok_or_else(|| missing_evaluation(plan, &rules, id))?;
        let row: EvaluationRow = sqlx::query_as(&format!(
            "UPDATE evaluations SET outcome = $1, outcome_at = $2, \
             amount_value = COALESCE($3, amount_value), \
             amount_currency = COALESCE($4, amount_currency) \
             WHERE id = $5 AND plan_id = $6 AND rules_id = $7 RETURNING {EVALUATION_COLUMNS}"
        ))
        .bind(&outcome)
        .bind(Timestamp::now().as_micros())
        .bind(amount.as_ref().map(|a| a.value.to_string()))
        .bind(amount.as_ref().map(|a| a.currency.as_str()))
        .bind(id.to_string())
        .bind(plan.to_string())
        .bind(rules.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let before = (
            old_outcome.as_deref(),
            old_value.as_deref(),
            old_currency.as_deref(),
        );
        let entry = steps::outcome_set(plan, id, before, &outcome, amount.as_ref(), &origin);
        append(&mut tx, &entry).await?;
        tx.commit().await?;
        row.try_into()
    }

    async fn evaluations(
        &self,
        plan: PlanId,
        rules: RecordId,
        page: PageRequest,
    ) -> Result<Page<EvaluationRecord>, StoreError> {
        let rows: Vec<EvaluationRow> = sqlx::query_as(&format!(
            "SELECT {EVALUATION_COLUMNS} FROM evaluations WHERE plan_id = $1 AND rules_id = $2 \
             AND ($3::text IS NULL OR id < $3) ORDER BY id DESC LIMIT $4"
        ))
        .bind(plan.to_string())
        .bind(rules.as_str())
        .bind(page.after.as_deref())
        .bind(steps::fetch_limit(&page))
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() {
            require_rules(&mut *self.pool.acquire().await?, plan, &rules, false).await?;
        }
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
        let rows: Vec<EvaluationRow> = sqlx::query_as(&format!(
            "SELECT {EVALUATION_COLUMNS} FROM evaluations WHERE plan_id = $1 AND rules_id = $2 \
             ORDER BY id DESC LIMIT $3"
        ))
        .bind(plan.to_string())
        .bind(rules.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() {
            require_rules(&mut *self.pool.acquire().await?, plan, &rules, false).await?;
        }
        rows.into_iter().map(EvaluationRecord::try_from).collect()
    }

    async fn save_backtest(&self, new: NewBacktest) -> Result<BacktestRecord, StoreError> {
        let origin = Origin::new(&new.run_by);
        let mut tx = self.begin().await?;
        lock_plan(&mut tx, new.plan_id).await?;
        require_rules(&mut tx, new.plan_id, &new.rules_id, true).await?;
        let key = origin.request_key.as_deref();
        if let Some(row) =
            made_under_key::<BacktestRow>(&mut tx, "backtests", BACKTEST_COLUMNS, key).await?
        {
            return row.try_into();
        }
        let row: BacktestRow = sqlx::query_as(&format!(
            "INSERT INTO backtests (id, plan_id, rules_id, rules_version, proposal, report, \
             summary, run_by, run_at, request_key) VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, \
             $7, $8, $9, $10) RETURNING {BACKTEST_COLUMNS}"
        ))
        .bind(BacktestId::new().to_string())
        .bind(new.plan_id.to_string())
        .bind(new.rules_id.as_str())
        .bind(new.rules_version.get())
        .bind(new.proposal.to_string())
        .bind(new.report.to_string())
        .bind(&new.summary)
        .bind(&new.run_by)
        .bind(Timestamp::now().as_micros())
        .bind(origin.request_key.as_deref())
        .fetch_one(&mut *tx)
        .await?;
        let entry = steps::backtest_saved(&row.id, &new, &origin);
        append(&mut tx, &entry).await?;
        tx.commit().await?;
        row.try_into()
    }

    async fn history_summaries(
        &self,
        plan: PlanId,
        rules: &[RecordId],
    ) -> Result<HashMap<RecordId, HistorySummary>, StoreError> {
        if rules.is_empty() {
            return Ok(HashMap::new());
        }
        // One statement, so that the counts and the dates come from one snapshot, and the
        // criteria are seen to exist in it; each criterion's groups read on
        // `evaluations_by_rule`.
        let groups: Vec<steps::OutcomeGroup> = sqlx::query_as(&format!(
            "SELECT r.id, COALESCE(g.name, 'pending'), COALESCE(g.n, 0), g.first, g.last \
             FROM rules r LEFT JOIN LATERAL (SELECT COALESCE(e.outcome, 'pending') AS name, \
             COUNT(*) AS n, MIN(e.evaluated_at) AS first, MAX(e.evaluated_at) AS last \
             FROM evaluations e WHERE e.plan_id = r.plan_id AND e.rules_id = r.id GROUP BY 1) g \
             ON true WHERE r.plan_id = $1 AND r.id {}",
            one_of("$2", rules.len())
        ))
        .bind(plan.to_string())
        .bind(id_texts(rules))
        .fetch_all(&self.pool)
        .await?;
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
        // Each criterion's latest back-test is its first on `backtests_by_rule`, backwards.
        let rows = sqlx::query(&format!(
            "SELECT r.id AS rule, b.* FROM rules r LEFT JOIN LATERAL (SELECT {BACKTEST_COLUMNS} \
             FROM backtests WHERE plan_id = r.plan_id AND rules_id = r.id \
             ORDER BY id DESC LIMIT 1) b ON true WHERE r.plan_id = $1 AND r.id {}",
            one_of("$2", rules.len())
        ))
        .bind(plan.to_string())
        .bind(id_texts(rules))
        .fetch_all(&self.pool)
        .await?;
        let rows = rows
            .iter()
            .map(|row| {
                let rule: String = row.try_get("rule")?;
                let found: Option<String> = row.try_get("id")?;
                let latest = found.map(|_| BacktestRow::from_row(row)).transpose()?;
                Ok((rule, latest))
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        steps::latest_backtests(plan, rules, rows)
    }
}
