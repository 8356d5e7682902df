//! Rows as both backends return them, and their conversion into domain records. Both
//! backends select properties as JSON text so one conversion serves both.

use caseload_domain::{
    Amount, BacktestId, BacktestRecord, ChildKind, ChildRecord, EvaluationId, EvaluationRecord,
    Fields, Intervention, InterventionId, InterventionStatus, NewBacktest, NewEvaluation,
    NewIntervention, Plan, PlanId, RecordId, RecordKind, RecordMeta, RecordVersion, Subject,
    Timestamp, Transition, Version,
};
use serde_json::{Map, Value as Json};

use crate::StoreError;

fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(format!("stored {what} is unreadable: {detail}"))
}

fn meta(version: i64, created_at: i64, updated_at: i64) -> RecordMeta {
    RecordMeta {
        version: Version::new(version),
        created_at: Timestamp::from_micros(created_at),
        updated_at: Timestamp::from_micros(updated_at),
    }
}

/// A row of `plans`.
#[derive(sqlx::FromRow)]
pub(crate) struct PlanRow {
    pub id: String,
    pub fields: String,
    pub extensions: String,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub business_unit: String,
}

impl TryFrom<PlanRow> for Plan {
    type Error = StoreError;

    fn try_from(row: PlanRow) -> Result<Self, StoreError> {
        Ok(Plan {
            id: PlanId::parse(&row.id).map_err(|e| corrupt("plan id", e))?,
            fields: Fields::from_stored(RecordKind::Plan, &row.fields)
                .map_err(|e| corrupt("plan", e))?,
            extensions: json_object("plan extensions", &row.extensions)?,
            business_unit: row.business_unit,
            meta: meta(row.version, row.created_at, row.updated_at),
        })
    }
}

/// A row of `rules` or `performances`.
#[derive(sqlx::FromRow)]
pub(crate) struct ChildRow {
    pub plan_id: String,
    pub id: String,
    pub fields: String,
    pub extensions: String,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

fn json_object(what: &str, text: &str) -> Result<Map<String, Json>, StoreError> {
    serde_json::from_str(text).map_err(|e| corrupt(what, e))
}

fn json_value(what: &str, text: &str) -> Result<Json, StoreError> {
    serde_json::from_str(text).map_err(|e| corrupt(what, e))
}

impl ChildRow {
    pub fn into_record(self, kind: ChildKind) -> Result<ChildRecord, StoreError> {
        Ok(ChildRecord {
            kind,
            plan_id: PlanId::parse(&self.plan_id).map_err(|e| corrupt("plan id", e))?,
            id: RecordId::parse(&self.id).map_err(|e| corrupt("record id", e))?,
            fields: Fields::from_stored(kind.record_kind(), &self.fields)
                .map_err(|e| corrupt("record", e))?,
            extensions: json_object("record extensions", &self.extensions)?,
            meta: meta(self.version, self.created_at, self.updated_at),
        })
    }
}

/// A row of `record_versions`.
#[derive(sqlx::FromRow)]
pub(crate) struct VersionRow {
    pub version: i64,
    pub fields: String,
    pub extensions: String,
    pub changed_by: String,
    pub changed_at: i64,
}

impl VersionRow {
    pub fn into_version(self, kind: ChildKind) -> Result<RecordVersion, StoreError> {
        Ok(RecordVersion {
            version: Version::new(self.version),
            fields: Fields::from_stored(kind.record_kind(), &self.fields)
                .map_err(|e| corrupt("record version", e))?,
            extensions: json_object("record version", &self.extensions)?,
            changed_by: self.changed_by,
            changed_at: Timestamp::from_micros(self.changed_at),
        })
    }
}

/// The name of a child kind in `record_versions`, and as the kind of an intervention's
/// subject.
pub(crate) fn kind_name(kind: ChildKind) -> &'static str {
    match kind {
        ChildKind::Rules => "rules",
        ChildKind::Performance => "performance",
    }
}

/// A row of `evaluations`.
#[derive(sqlx::FromRow)]
pub(crate) struct EvaluationRow {
    pub id: String,
    pub plan_id: String,
    pub rules_id: String,
    pub rules_version: i64,
    pub case_id: Option<String>,
    pub facts: String,
    pub result: bool,
    pub decision: Option<String>,
    pub explanation: String,
    pub amount_value: Option<String>,
    pub amount_currency: Option<String>,
    pub outcome: Option<String>,
    pub outcome_at: Option<i64>,
    pub evaluated_by: String,
    pub evaluated_at: i64,
}

impl TryFrom<EvaluationRow> for EvaluationRecord {
    type Error = StoreError;

    fn try_from(row: EvaluationRow) -> Result<Self, StoreError> {
        let amount = match (row.amount_value, row.amount_currency) {
            (Some(value), Some(currency)) => Some(
                Amount::parse(&serde_json::json!({"Value": value, "Currency": currency}))
                    .map_err(|e| corrupt("evaluation amount", e))?,
            ),
            _ => None,
        };
        Ok(EvaluationRecord {
            id: EvaluationId::parse(&row.id).map_err(|e| corrupt("evaluation id", e))?,
            evaluation: NewEvaluation {
                plan_id: PlanId::parse(&row.plan_id).map_err(|e| corrupt("plan id", e))?,
                rules_id: RecordId::parse(&row.rules_id).map_err(|e| corrupt("rules id", e))?,
                rules_version: Version::new(row.rules_version),
                case_id: row.case_id,
                facts: json_value("evaluation facts", &row.facts)?,
                result: row.result,
                decision: row.decision,
                explanation: json_value("evaluation explanation", &row.explanation)?,
                amount,
                evaluated_by: row.evaluated_by,
            },
            outcome: row.outcome,
            outcome_at: row.outcome_at.map(Timestamp::from_micros),
            evaluated_at: Timestamp::from_micros(row.evaluated_at),
        })
    }
}

/// A row of `backtests`.
#[derive(sqlx::FromRow)]
pub(crate) struct BacktestRow {
    pub id: String,
    pub plan_id: String,
    pub rules_id: String,
    pub rules_version: i64,
    pub proposal: String,
    pub report: String,
    pub summary: String,
    pub run_by: String,
    pub run_at: i64,
}

impl TryFrom<BacktestRow> for BacktestRecord {
    type Error = StoreError;

    fn try_from(row: BacktestRow) -> Result<Self, StoreError> {
        Ok(BacktestRecord {
            id: BacktestId::parse(&row.id).map_err(|e| corrupt("backtest id", e))?,
            backtest: NewBacktest {
                plan_id: PlanId::parse(&row.plan_id).map_err(|e| corrupt("plan id", e))?,
                rules_id: RecordId::parse(&row.rules_id).map_err(|e| corrupt("rules id", e))?,
                rules_version: Version::new(row.rules_version),
                proposal: json_value("backtest proposal", &row.proposal)?,
                report: json_value("backtest report", &row.report)?,
                summary: row.summary,
                run_by: row.run_by,
            },
            run_at: Timestamp::from_micros(row.run_at),
        })
    }
}

/// A row of `intervention_transitions`.
#[derive(sqlx::FromRow)]
pub(crate) struct TransitionRow {
    pub from_status: String,
    pub to_status: String,
    pub changed_by: String,
    pub comment: Option<String>,
    pub changed_at: i64,
}

impl TryFrom<TransitionRow> for Transition {
    type Error = StoreError;

    fn try_from(row: TransitionRow) -> Result<Self, StoreError> {
        let status = |s: &str| {
            s.parse::<InterventionStatus>()
                .map_err(|e| corrupt("transition", e))
        };
        Ok(Transition {
            from: status(&row.from_status)?,
            to: status(&row.to_status)?,
            by: row.changed_by,
            at: Timestamp::from_micros(row.changed_at),
            comment: row.comment,
        })
    }
}

/// A missing recorded evaluation.
pub(crate) fn missing_evaluation(plan: PlanId, rules: &RecordId, id: EvaluationId) -> StoreError {
    StoreError::NotFound(format!(
        "evaluation '{id}' of rules '{rules}' of plan '{plan}'"
    ))
}

/// A missing intervention.
pub(crate) fn missing_intervention(plan: PlanId, id: InterventionId) -> StoreError {
    StoreError::NotFound(format!("intervention request '{id}' of plan '{plan}'"))
}

/// A row of `interventions`.
#[derive(sqlx::FromRow)]
pub(crate) struct InterventionRow {
    pub id: String,
    pub plan_id: String,
    pub subject_kind: String,
    pub subject_id: Option<String>,
    pub reason: Option<String>,
    pub requested_action: Option<String>,
    pub details: String,
    pub requester: String,
    pub status: String,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl TryFrom<InterventionRow> for Intervention {
    type Error = StoreError;

    fn try_from(row: InterventionRow) -> Result<Self, StoreError> {
        let subject = Subject::from_parts(&row.subject_kind, row.subject_id.as_deref())
            .ok_or_else(|| corrupt("intervention subject", &row.subject_kind))?;
        let details_kind = match subject {
            Subject::Plan => RecordKind::Plan,
            Subject::Rules(_) => RecordKind::Rules,
            Subject::Performance(_) => RecordKind::Performance,
        };
        Ok(Intervention {
            id: InterventionId::parse(&row.id).map_err(|e| corrupt("intervention id", e))?,
            request: NewIntervention {
                plan_id: PlanId::parse(&row.plan_id).map_err(|e| corrupt("plan id", e))?,
                subject,
                reason: row.reason,
                requested_action: row.requested_action,
                details: Fields::from_stored(details_kind, &row.details)
                    .map_err(|e| corrupt("intervention details", e))?,
                requester: row.requester,
            },
            status: row
                .status
                .parse::<InterventionStatus>()
                .map_err(|e| corrupt("intervention status", e))?,
            meta: meta(row.version, row.created_at, row.updated_at),
        })
    }
}

/// The table holding records of a kind. A fixed name per kind: never built from input.
pub(crate) fn table(kind: ChildKind) -> &'static str {
    match kind {
        ChildKind::Rules => "rules",
        ChildKind::Performance => "performances",
    }
}

/// How a missing record is named in messages.
pub(crate) fn missing_record(kind: ChildKind, plan: PlanId, id: &RecordId) -> StoreError {
    StoreError::NotFound(format!(
        "{} '{id}' of plan '{plan}'",
        kind.record_kind().label()
    ))
}

/// How a missing plan is named in messages.
pub(crate) fn missing_plan(plan: PlanId) -> StoreError {
    StoreError::plan_not_found(plan)
}
