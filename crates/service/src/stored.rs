//! Settings as stored, loaded as typed values. What is stored was validated when it was
//! written, so a stored value that does not parse means the data was changed behind the
//! service's back or a release cannot read what an earlier one wrote: that is logged with
//! the record it concerns and refused as internal, never read as an empty setting (an empty
//! setting would silently change decisions and figures).

use std::fmt::Display;

use caseload_domain::analytics::PerformanceSettings;
use caseload_domain::criterion::CriterionSettings;
use caseload_domain::plan::PlanSettings;
use caseload_domain::{ChildRecord, Plan, RecordVersion};
use serde_json::{Map, Value};

use crate::ServiceError;

/// A plan's goals, calendar and resource plan.
pub fn plan_settings(plan: &Plan) -> Result<PlanSettings, ServiceError> {
    loaded(PlanSettings::from_json(&plan.extensions), || {
        format!("plan {}", plan.id)
    })
}

/// A criterion's expression, parameters and decisions.
pub fn criterion_settings(record: &ChildRecord) -> Result<CriterionSettings, ServiceError> {
    criterion_settings_in(&record.extensions, || {
        format!("rules {} of plan {}", record.id, record.plan_id)
    })
}

/// A criterion's settings as one of its earlier versions stored them.
pub fn criterion_settings_of_version(
    version: &RecordVersion,
) -> Result<CriterionSettings, ServiceError> {
    criterion_settings_in(&version.extensions, || {
        format!("version {} of a rules record", version.version)
    })
}

fn criterion_settings_in(
    extensions: &Map<String, Value>,
    what: impl FnOnce() -> String,
) -> Result<CriterionSettings, ServiceError> {
    loaded(CriterionSettings::from_json(extensions), what)
}

/// A Performance record's window and breakdown.
pub fn performance_settings(record: &ChildRecord) -> Result<PerformanceSettings, ServiceError> {
    loaded(PerformanceSettings::from_json(&record.extensions), || {
        format!("performance {} of plan {}", record.id, record.plan_id)
    })
}

fn loaded<T, E: Display>(
    parsed: Result<T, E>,
    what: impl FnOnce() -> String,
) -> Result<T, ServiceError> {
    parsed.map_err(|err| {
        let what = what();
        tracing::error!(record = %what, error = %err, "stored settings do not parse");
        ServiceError::Internal(format!("the stored settings of {what} do not parse: {err}"))
    })
}
