//! The PostgreSQL backend, for many stateless caseload instances sharing one database.
//! Every write is one transaction; version checks and merges happen in SQL, so concurrent
//! instances never lose an update.

use async_trait::async_trait;
use caseload_domain::{
    Amount, BacktestId, BacktestRecord, Change, ChildKind, ChildRecord, EvaluationId,
    EvaluationRecord, Fields, HistorySummary, Intervention, InterventionId, InterventionStatus,
    NewBacktest, NewEvaluation, NewIntervention, Page, PageRequest, Plan, PlanId, RecordId,
    RecordMeta, RecordVersion, Subject, Timestamp, Transition, Version, WriteMode,
};
use serde_json::Value as Json;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{PgConnection, Postgres, Transaction};

use crate::rows::{
    BacktestRow, ChildRow, EvaluationRow, InterventionRow, PlanRow, TransitionRow, VersionRow,
    kind_name, missing_evaluation, missing_intervention, missing_plan, missing_record, table,
};
use crate::{
    Backend, ConnectOptions, Database, EvaluationStore, InterventionFilter, InterventionStore,
    PlanStore, Put, RecordStore, StatusChange, StoreError, paginate,
};

const PLAN_COLUMNS: &str = "id, fields::text AS fields, version, created_at, updated_at";
const CHILD_COLUMNS: &str = "plan_id, id, fields::text AS fields, extensions::text AS extensions, \
     version, created_at, updated_at";
const VERSION_COLUMNS: &str =
    "version, fields::text AS fields, extensions::text AS extensions, changed_by, changed_at";
// `rows::EVALUATION_COLUMNS` and `rows::BACKTEST_COLUMNS` name the JSON columns bare, which
// SQLite returns as text; here JSONB must be cast to be read as text.
const EVALUATION_COLUMNS: &str = "id, plan_id, rules_id, rules_version, case_id, \
     facts::text AS facts, result, decision, explanation::text AS explanation, amount_value, \
     amount_currency, outcome, outcome_at, evaluated_by, evaluated_at";
const BACKTEST_COLUMNS: &str = "id, plan_id, rules_id, rules_version, \
     proposal::text AS proposal, report::text AS report, summary, run_by, run_at";
const TRANSITION_COLUMNS: &str = "from_status, to_status, changed_by, comment, changed_at";
const INTERVENTION_COLUMNS: &str = "id, plan_id, subject_kind, subject_id, reason, \
     requested_action, details::text AS details, requester, status, version, created_at, updated_at";

/// The PostgreSQL store.
pub(crate) struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects and applies pending migrations (serialised across instances by an advisory
    /// lock).
    pub(crate) async fn open(url: &str, options: &ConnectOptions) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.acquire_timeout)
            .connect(url)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Self { pool })
    }

    async fn begin(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        Ok(self.pool.begin().await?)
    }
}

fn merge_sql(mode: WriteMode, column: &str, value: &str) -> String {
    match mode {
        WriteMode::Merge => format!("{column} || {value}"),
        WriteMode::Replace => value.to_owned(),
    }
}

async fn plan_exists(conn: &mut PgConnection, id: PlanId) -> Result<bool, StoreError> {
    let found: Option<i32> = sqlx::query_scalar("SELECT 1 FROM plans WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(found.is_some())
}

/// Fails with "not found" unless the plan exists; share-locks it so it keeps existing until
/// the transaction ends.
async fn lock_plan(conn: &mut PgConnection, plan: PlanId) -> Result<(), StoreError> {
    let found: Option<i32> = sqlx::query_scalar("SELECT 1 FROM plans WHERE id = $1 FOR KEY SHARE")
        .bind(plan.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    found.map(|_| ()).ok_or_else(|| missing_plan(plan))
}

/// Whether a record exists; with `lock`, share-locks it so it keeps existing until the
/// transaction ends.
async fn record_exists(
    conn: &mut PgConnection,
    kind: ChildKind,
    plan: PlanId,
    id: &RecordId,
    lock: bool,
) -> Result<bool, StoreError> {
    let found: Option<i32> = sqlx::query_scalar(&format!(
        "SELECT 1 FROM {} WHERE plan_id = $1 AND id = $2{}",
        table(kind),
        if lock { " FOR KEY SHARE" } else { "" }
    ))
    .bind(plan.to_string())
    .bind(id.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(found.is_some())
}

/// Fails with "not found" unless the criterion exists.
async fn require_rules(
    conn: &mut PgConnection,
    plan: PlanId,
    rules: &RecordId,
    lock: bool,
) -> Result<(), StoreError> {
    if record_exists(conn, ChildKind::Rules, plan, rules, lock).await? {
        Ok(())
    } else {
        Err(missing_record(ChildKind::Rules, plan, rules))
    }
}

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
impl PlanStore for PgStore {
    async fn create_plan(&self, fields: Fields) -> Result<Plan, StoreError> {
        let id = PlanId::new();
        let now = Timestamp::now();
        sqlx::query(
            "INSERT INTO plans (id, fields, version, created_at, updated_at) \
             VALUES ($1, $2::jsonb, 1, $3, $3)",
        )
        .bind(id.to_string())
        .bind(fields.to_json())
        .bind(now.as_micros())
        .execute(&self.pool)
        .await?;
        Ok(Plan {
            id,
            fields,
            meta: RecordMeta {
                version: Version::FIRST,
                created_at: now,
                updated_at: now,
            },
        })
    }

    async fn update_plan(&self, id: PlanId, change: Change) -> Result<Plan, StoreError> {
        let mut tx = self.begin().await?;
        let sql = format!(
            "UPDATE plans SET fields = {}, version = version + 1, updated_at = $2 \
             WHERE id = $3 AND ($4::bigint IS NULL OR version = $4) RETURNING {PLAN_COLUMNS}",
            merge_sql(change.mode, "fields", "$1::jsonb")
        );
        let row: Option<PlanRow> = sqlx::query_as(&sql)
            .bind(change.fields.to_json())
            .bind(Timestamp::now().as_micros())
            .bind(id.to_string())
            .bind(change.expected.map(Version::get))
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = row {
            tx.commit().await?;
            return row.try_into();
        }
        let current: Option<i64> = sqlx::query_scalar("SELECT version FROM plans WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        Err(match current {
            None => missing_plan(id),
            Some(v) => StoreError::VersionMismatch { current: Some(v) },
        })
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
        let row: Option<(String, String, i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT id, fields::text, version, created_at, updated_at, \
             (SELECT count(*) FROM interventions i WHERE i.plan_id = plans.id \
              AND i.subject_kind = 'plan' AND i.subject_id IS NULL AND i.status = 'open') \
             FROM plans WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        let (id_text, fields, version, created_at, updated_at, open) =
            row.ok_or_else(|| missing_plan(id))?;
        let plan = PlanRow {
            id: id_text,
            fields,
            version,
            created_at,
            updated_at,
        }
        .try_into()?;
        Ok((plan, open))
    }

    async fn plans(&self, page: PageRequest) -> Result<Page<Plan>, StoreError> {
        let rows: Vec<PlanRow> = sqlx::query_as(&format!(
            "SELECT {PLAN_COLUMNS} FROM plans WHERE ($1::text IS NULL OR id > $1) \
             ORDER BY id LIMIT $2"
        ))
        .bind(page.after.as_deref())
        .bind(i64::from(page.size.get()) + 1)
        .fetch_all(&self.pool)
        .await?;
        let plans = rows
            .into_iter()
            .map(Plan::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(paginate(plans, &page, |p| p.id.to_string()))
    }
}

#[async_trait]
impl RecordStore for PgStore {
    async fn put_record(
        &self,
        kind: ChildKind,
        plan: PlanId,
        id: RecordId,
        change: Change,
    ) -> Result<Put, StoreError> {
        let mut tx = self.begin().await?;
        lock_plan(&mut tx, plan).await?;
        let t = table(kind);
        let now = Timestamp::now().as_micros();
        // Extensions given replace the stored ones whole; NULL keeps them.
        let extensions = change.extensions.map(|map| Json::Object(map).to_string());
        let row: Option<ChildRow> = match change.expected {
            // Unconditional: one upsert. A new record is at version 1; an updated one never is.
            None => {
                let sql = format!(
                    "INSERT INTO {t} (plan_id, id, fields, extensions, version, created_at, \
                     updated_at) VALUES ($1, $2, $3::jsonb, COALESCE($4::jsonb, '{{}}'::jsonb), 1, \
                     $5, $5) ON CONFLICT (plan_id, id) DO UPDATE SET fields = {}, \
                     extensions = COALESCE($4::jsonb, {t}.extensions), version = {t}.version + 1, \
                     updated_at = excluded.updated_at RETURNING {CHILD_COLUMNS}",
                    merge_sql(change.mode, &format!("{t}.fields"), "excluded.fields")
                );
                sqlx::query_as(&sql)
                    .bind(plan.to_string())
                    .bind(id.as_str())
                    .bind(change.fields.to_json())
                    .bind(extensions.as_deref())
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await?
            }
            Some(expected) => {
                let sql = format!(
                    "UPDATE {t} SET fields = {}, extensions = COALESCE($2::jsonb, extensions), \
                     version = version + 1, updated_at = $3 \
                     WHERE plan_id = $4 AND id = $5 AND version = $6 RETURNING {CHILD_COLUMNS}",
                    merge_sql(change.mode, "fields", "$1::jsonb")
                );
                sqlx::query_as(&sql)
                    .bind(change.fields.to_json())
                    .bind(extensions.as_deref())
                    .bind(now)
                    .bind(plan.to_string())
                    .bind(id.as_str())
                    .bind(expected.get())
                    .fetch_optional(&mut *tx)
                    .await?
            }
        };
        let Some(row) = row else {
            let current: Option<i64> = sqlx::query_scalar(&format!(
                "SELECT version FROM {t} WHERE plan_id = $1 AND id = $2"
            ))
            .bind(plan.to_string())
            .bind(id.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            return Err(StoreError::VersionMismatch { current });
        };
        // The history keeps the record exactly as this write left it.
        sqlx::query(
            "INSERT INTO record_versions (kind, plan_id, record_id, version, fields, extensions, \
             changed_by, changed_at) VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8)",
        )
        .bind(kind_name(kind))
        .bind(&row.plan_id)
        .bind(&row.id)
        .bind(row.version)
        .bind(&row.fields)
        .bind(&row.extensions)
        .bind(&change.actor)
        .bind(row.updated_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        let record = row.into_record(kind)?;
        Ok(Put {
            created: record.meta.version == Version::FIRST,
            record,
        })
    }

    async fn record(
        &self,
        kind: ChildKind,
        plan: PlanId,
        id: RecordId,
    ) -> Result<ChildRecord, StoreError> {
        let row: Option<ChildRow> = sqlx::query_as(&format!(
            "SELECT {CHILD_COLUMNS} FROM {} WHERE plan_id = $1 AND id = $2",
            table(kind)
        ))
        .bind(plan.to_string())
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.ok_or_else(|| missing_record(kind, plan, &id))?
            .into_record(kind)
    }

    async fn records(
        &self,
        kind: ChildKind,
        plan: PlanId,
        page: PageRequest,
    ) -> Result<Page<ChildRecord>, StoreError> {
        let rows: Vec<ChildRow> = sqlx::query_as(&format!(
            "SELECT {CHILD_COLUMNS} FROM {} WHERE plan_id = $1 AND ($2::text IS NULL OR id > $2) \
             ORDER BY id LIMIT $3",
            table(kind)
        ))
        .bind(plan.to_string())
        .bind(page.after.as_deref())
        .bind(i64::from(page.size.get()) + 1)
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() && !plan_exists(&mut *self.pool.acquire().await?, plan).await? {
            return Err(missing_plan(plan));
        }
        let records = rows
            .into_iter()
            .map(|row| row.into_record(kind))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(paginate(records, &page, |r| r.id.to_string()))
    }

    async fn record_versions(
        &self,
        kind: ChildKind,
        plan: PlanId,
        id: RecordId,
        page: PageRequest,
    ) -> Result<Page<RecordVersion>, StoreError> {
        // The key is a version number; any other (forged) key names no page.
        let after = match page.after.as_deref() {
            None => None,
            Some(key) => Some(
                key.parse::<i64>()
                    .map_err(|_| StoreError::NotFound(format!("version page '{key}'")))?,
            ),
        };
        let rows: Vec<VersionRow> = sqlx::query_as(&format!(
            "SELECT {VERSION_COLUMNS} FROM record_versions WHERE kind = $1 AND plan_id = $2 \
             AND record_id = $3 AND ($4::bigint IS NULL OR version < $4) \
             ORDER BY version DESC LIMIT $5"
        ))
        .bind(kind_name(kind))
        .bind(plan.to_string())
        .bind(id.as_str())
        .bind(after)
        .bind(i64::from(page.size.get()) + 1)
        .fetch_all(&self.pool)
        .await?;
        // Records written before versions were kept have no history, hence the check.
        if rows.is_empty()
            && !record_exists(&mut *self.pool.acquire().await?, kind, plan, &id, false).await?
        {
            return Err(missing_record(kind, plan, &id));
        }
        let versions = rows
            .into_iter()
            .map(|row| row.into_version(kind))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(paginate(versions, &page, |v| v.version.to_string()))
    }
}

#[async_trait]
impl EvaluationStore for PgStore {
    async fn record_evaluation(&self, new: NewEvaluation) -> Result<EvaluationRecord, StoreError> {
        let mut tx = self.begin().await?;
        lock_plan(&mut tx, new.plan_id).await?;
        require_rules(&mut tx, new.plan_id, &new.rules_id, true).await?;
        let row: EvaluationRow = sqlx::query_as(&format!(
            "INSERT INTO evaluations (id, plan_id, rules_id, rules_version, case_id, facts, \
             result, decision, explanation, amount_value, amount_currency, evaluated_by, \
             evaluated_at) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9::jsonb, $10, $11, \
             $12, $13) RETURNING {EVALUATION_COLUMNS}"
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
        .fetch_one(&mut *tx)
        .await?;
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
    ) -> Result<EvaluationRecord, StoreError> {
        let row: Option<EvaluationRow> = sqlx::query_as(&format!(
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
        .fetch_optional(&self.pool)
        .await?;
        row.ok_or_else(|| missing_evaluation(plan, &rules, id))?
            .try_into()
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
        .bind(i64::from(page.size.get()) + 1)
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() {
            require_rules(&mut *self.pool.acquire().await?, plan, &rules, false).await?;
        }
        let items = rows
            .into_iter()
            .map(EvaluationRecord::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(paginate(items, &page, |e| e.id.to_string()))
    }

    async fn history_summary(
        &self,
        plan: PlanId,
        rules: RecordId,
    ) -> Result<HistorySummary, StoreError> {
        // One statement, so counts and dates come from the same snapshot. Outcome names
        // sort byte-wise (`COLLATE "C"`), as SQLite sorts them.
        let mix: Vec<(String, i64, i64, i64)> = sqlx::query_as(
            "SELECT COALESCE(outcome, 'pending') AS name, COUNT(*), MIN(evaluated_at), \
             MAX(evaluated_at) FROM evaluations WHERE plan_id = $1 AND rules_id = $2 \
             GROUP BY 1 ORDER BY 2 DESC, COALESCE(outcome, 'pending') COLLATE \"C\"",
        )
        .bind(plan.to_string())
        .bind(rules.as_str())
        .fetch_all(&self.pool)
        .await?;
        if mix.is_empty() {
            require_rules(&mut *self.pool.acquire().await?, plan, &rules, false).await?;
        }
        Ok(HistorySummary {
            count: mix.iter().map(|(_, n, _, _)| n).sum(),
            first: mix.iter().map(|m| m.2).min().map(Timestamp::from_micros),
            last: mix.iter().map(|m| m.3).max().map(Timestamp::from_micros),
            outcomes: mix.into_iter().map(|(name, n, _, _)| (name, n)).collect(),
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
        let mut tx = self.begin().await?;
        lock_plan(&mut tx, new.plan_id).await?;
        require_rules(&mut tx, new.plan_id, &new.rules_id, true).await?;
        let row: BacktestRow = sqlx::query_as(&format!(
            "INSERT INTO backtests (id, plan_id, rules_id, rules_version, proposal, report, \
             summary, run_by, run_at) VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8, $9) \
             RETURNING {BACKTEST_COLUMNS}"
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
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        row.try_into()
    }

    async fn latest_backtest(
        &self,
        plan: PlanId,
        rules: RecordId,
    ) -> Result<Option<BacktestRecord>, StoreError> {
        let row: Option<BacktestRow> = sqlx::query_as(&format!(
            "SELECT {BACKTEST_COLUMNS} FROM backtests WHERE plan_id = $1 AND rules_id = $2 \
             ORDER BY id DESC LIMIT 1"
        ))
        .bind(plan.to_string())
        .bind(rules.as_str())
        .fetch_optional(&self.pool)
        .await?;
        if row.is_none() {
            require_rules(&mut *self.pool.acquire().await?, plan, &rules, false).await?;
        }
        row.map(BacktestRecord::try_from).transpose()
    }
}

#[async_trait]
impl InterventionStore for PgStore {
    async fn create_intervention(&self, new: NewIntervention) -> Result<Intervention, StoreError> {
        let mut tx = self.begin().await?;
        lock_plan(&mut tx, new.plan_id).await?;
        if let Some((kind, id)) = match &new.subject {
            Subject::Plan => None,
            Subject::Rules(id) => Some((ChildKind::Rules, id)),
            Subject::Performance(id) => Some((ChildKind::Performance, id)),
        } {
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
        let id = InterventionId::new();
        let now = Timestamp::now();
        sqlx::query(
            "INSERT INTO interventions (id, plan_id, subject_kind, subject_id, reason, \
             requested_action, details, requester, status, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, 1, $10, $10)",
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
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Intervention {
            id,
            request: new,
            status: InterventionStatus::Open,
            meta: RecordMeta {
                version: Version::FIRST,
                created_at: now,
                updated_at: now,
            },
        })
    }

    async fn interventions(
        &self,
        plan: PlanId,
        filter: InterventionFilter,
        page: PageRequest,
    ) -> Result<Page<Intervention>, StoreError> {
        let kind = filter.subject.as_ref().map(|s| s.kind_name());
        let subject_id = filter
            .subject
            .as_ref()
            .and_then(|s| s.record_id())
            .map(RecordId::as_str);
        let rows: Vec<InterventionRow> = sqlx::query_as(&format!(
            "SELECT {INTERVENTION_COLUMNS} FROM interventions WHERE plan_id = $1 \
             AND ($2::text IS NULL OR subject_kind = $2) AND ($3::text IS NULL OR subject_id = $3) \
             AND ($4::text IS NULL OR status = $4) AND ($5::text IS NULL OR id < $5) \
             ORDER BY id DESC LIMIT $6"
        ))
        .bind(plan.to_string())
        .bind(kind)
        .bind(subject_id)
        .bind(filter.status.map(|s| s.as_str()))
        .bind(page.after.as_deref())
        .bind(i64::from(page.size.get()) + 1)
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() && !plan_exists(&mut *self.pool.acquire().await?, plan).await? {
            return Err(missing_plan(plan));
        }
        let items = rows
            .into_iter()
            .map(Intervention::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(paginate(items, &page, |i| i.id.to_string()))
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
        if change.expected.is_some_and(|v| v != current.meta.version) {
            return Err(StoreError::VersionMismatch {
                current: Some(current.meta.version.get()),
            });
        }
        current.status.check_move(change.to)?;
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
        tx.commit().await?;
        Ok((row.try_into()?, transitions))
    }

    async fn open_interventions(&self, plan: PlanId, subject: Subject) -> Result<i64, StoreError> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM interventions WHERE plan_id = $1 AND subject_kind = $2 \
             AND ($3::text IS NULL OR subject_id = $3) AND status = $4",
        )
        .bind(plan.to_string())
        .bind(subject.kind_name())
        .bind(subject.record_id().map(RecordId::as_str))
        .bind(InterventionStatus::Open.as_str())
        .fetch_one(&self.pool)
        .await?;
        Ok(count)
    }
}

#[async_trait]
impl Database for PgStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn ready(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
