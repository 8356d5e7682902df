//! Rows as both backends return them, and their conversion into domain records. Both
//! backends select properties as JSON text so one conversion serves both.

use caseload_domain::{
    ChildKind, ChildRecord, Fields, Intervention, InterventionId, InterventionStatus,
    NewIntervention, Plan, PlanId, RecordId, RecordKind, RecordMeta, Subject, Timestamp, Version,
};

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
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl TryFrom<PlanRow> for Plan {
    type Error = StoreError;

    fn try_from(row: PlanRow) -> Result<Self, StoreError> {
        Ok(Plan {
            id: PlanId::parse(&row.id).map_err(|e| corrupt("plan id", e))?,
            fields: Fields::from_stored(RecordKind::Plan, &row.fields)
                .map_err(|e| corrupt("plan", e))?,
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
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ChildRow {
    pub fn into_record(self, kind: ChildKind) -> Result<ChildRecord, StoreError> {
        Ok(ChildRecord {
            kind,
            plan_id: PlanId::parse(&self.plan_id).map_err(|e| corrupt("plan id", e))?,
            id: RecordId::parse(&self.id).map_err(|e| corrupt("record id", e))?,
            fields: Fields::from_stored(kind.record_kind(), &self.fields)
                .map_err(|e| corrupt("record", e))?,
            meta: meta(self.version, self.created_at, self.updated_at),
        })
    }
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
    StoreError::NotFound(format!("customer case management plan '{plan}'"))
}
