//! The operations behind both routings. The BIAN handlers and the REST facade differ only
//! in paths, status codes and envelopes; what they do to the store is written once, here.

pub mod criteria;
pub mod performance;
pub mod views;

use caseload_domain::analytics::PerformanceSettings;
use caseload_domain::criterion::CriterionSettings;
use caseload_domain::plan::PlanSettings;
use caseload_domain::{
    Change, ChildKind, ChildRecord, Fields, Intervention, NewIntervention, Plan, PlanId, RecordId,
    RecordKind, Subject, TEXT_MAX_CHARS, Version, WriteMode,
};
use caseload_service::UnitChoice;
use caseload_store::{Put, StoreError};
use serde_json::{Map, Value};

use super::AppState;
use super::error::ApiError;

/// Extension properties a BIAN `Request` body may carry besides the record's properties.
pub const REQUEST_EXTENSIONS: &[&str] = &["Reason", "RequestedAction"];

/// How a write applies: merge (BIAN Update) or replace (REST PUT), under which `If-Match`,
/// by whom.
#[derive(Debug, Clone)]
pub struct WriteRequest {
    /// Merge into or replace what is stored.
    pub mode: WriteMode,
    /// The version the client expects (`If-Match`).
    pub expected: Option<Version>,
    /// Who writes.
    pub actor: String,
}

/// A plan's stored goals, calendar and resource plan.
pub fn plan_settings(plan: &Plan) -> PlanSettings {
    // What is stored was validated before it was written.
    PlanSettings::from_json(&plan.extensions).unwrap_or_default()
}

fn settings_error(err: caseload_domain::plan::PlanSettingsError) -> ApiError {
    ApiError::bad_request(err.to_string())
}

/// Creates a plan from a client's properties, with its goals, calendar and resource plan,
/// in the business unit named by the extension property `BusinessUnit` — one the caller
/// reaches; by default its only unit, or `default` for a caller that reaches all.
pub async fn create_plan(
    state: &AppState,
    caller: &crate::auth::Principal,
    body: &Map<String, Value>,
) -> Result<Plan, ApiError> {
    let unit = business_unit(caller, body.get("BusinessUnit"))?;
    let mut body = body.clone();
    body.remove("BusinessUnit");
    let fields = Fields::parse(RecordKind::Plan, &body, &caseload_domain::plan::PROPERTIES)?;
    let settings = PlanSettings::from_json(&body).map_err(settings_error)?;
    Ok(state
        .db
        .create_plan(fields, settings.to_json(), unit, caller.subject.clone())
        .await?)
}

/// The business unit a new plan goes to, as the extension property `BusinessUnit` chooses.
fn business_unit(
    caller: &crate::auth::Principal,
    given: Option<&Value>,
) -> Result<String, ApiError> {
    let choice = match given {
        None | Some(Value::Null) => UnitChoice::Unnamed,
        Some(Value::String(unit)) => UnitChoice::Named(unit),
        Some(_) => UnitChoice::Malformed,
    };
    Ok(caller.unit_for_new_plan(choice)?)
}

/// Changes a plan. Goals, calendar and resource plan given replace the stored ones (merge) or
/// become the whole set (replace); the result is written only at the version it was computed
/// from.
pub async fn update_plan(
    state: &AppState,
    id: PlanId,
    body: &Map<String, Value>,
    write: &WriteRequest,
) -> Result<Plan, ApiError> {
    let fields = Fields::parse(RecordKind::Plan, body, &caseload_domain::plan::PROPERTIES)?;
    let touches_settings = body
        .keys()
        .any(|k| caseload_domain::plan::PROPERTIES.contains(&k.as_str()));
    if write.mode == WriteMode::Replace || !touches_settings {
        let mut change = Change::fields(fields, write.mode, write.expected, write.actor.clone());
        if write.mode == WriteMode::Replace {
            change.extensions = Some(
                PlanSettings::from_json(body)
                    .map_err(settings_error)?
                    .to_json(),
            );
        }
        return Ok(state.db.update_plan(id, change).await?);
    }
    retry_on_race(write, || async {
        let current = state.db.plan(id).await?;
        let settings = plan_settings(&current)
            .patched(body)
            .map_err(settings_error)?;
        let change = Change {
            fields: fields.clone(),
            mode: write.mode,
            expected: Some(write.expected.unwrap_or(current.meta.version)),
            extensions: Some(settings.to_json()),
            actor: write.actor.clone(),
        };
        Ok(state.db.update_plan(id, change).await)
    })
    .await
}

/// How often a settings write is tried when another writer gets in between reading the
/// stored settings and writing the validated result.
const SETTINGS_ATTEMPTS: usize = 3;

/// Runs a read-validate-write `attempt` (validation errors in the outer result, the write's
/// own result inside) and runs it again when the record changed in between. With `If-Match`
/// the client named the version, so a conflict is the client's to see and is not retried.
async fn retry_on_race<T, F, Fut>(write: &WriteRequest, mut attempt: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Result<T, StoreError>, ApiError>>,
{
    let mut tries = 0;
    loop {
        tries += 1;
        match attempt().await? {
            Err(StoreError::VersionMismatch { .. })
                if write.expected.is_none() && tries < SETTINGS_ATTEMPTS => {}
            result => return Ok(result?),
        }
    }
}

/// The extension properties a rule's or performance record's settings are read from.
pub fn settings_properties(kind: ChildKind) -> &'static [&'static str] {
    match kind {
        ChildKind::Rules => CriterionSettings::PROPERTIES,
        ChildKind::Performance => PerformanceSettings::PROPERTIES,
    }
}

/// Creates or changes a rule or performance record. A criterion's machine settings
/// (`Expression`, `Parameters`, ...) are validated together with what is stored, and written
/// only if the record is still at the version they were validated against.
pub async fn put_record(
    state: &AppState,
    kind: ChildKind,
    plan: PlanId,
    id: RecordId,
    body: &Map<String, Value>,
    write: &WriteRequest,
) -> Result<Put, ApiError> {
    let extensions = settings_properties(kind);
    let fields = Fields::parse(kind.record_kind(), body, extensions)?;
    let touches_settings = body.keys().any(|k| extensions.contains(&k.as_str()));
    if !touches_settings {
        let mut change = Change::fields(fields, write.mode, write.expected, write.actor.clone());
        if write.mode == WriteMode::Replace {
            change.extensions = Some(Map::new());
        }
        return Ok(state.db.put_record(kind, plan, id, change).await?);
    }
    retry_on_race(write, || async {
        let current = match state.db.record(kind, plan, id.clone()).await {
            Ok(record) => Some(record),
            Err(StoreError::NotFound(_)) => {
                // Refuse a write under an unknown plan as such, not as a settings problem.
                state.db.plan(plan).await?;
                None
            }
            Err(err) => return Err(err.into()),
        };
        let settings = match kind {
            ChildKind::Rules => {
                criteria::settings_after(current.as_ref(), body, write.mode)?.to_json()
            }
            ChildKind::Performance => {
                performance_settings_after(current.as_ref(), body, write.mode)?
            }
        };
        let expected = write.expected.or(current.as_ref().map(|r| r.meta.version));
        let change = Change {
            fields: fields.clone(),
            mode: write.mode,
            expected,
            extensions: Some(settings),
            actor: write.actor.clone(),
        };
        Ok(state.db.put_record(kind, plan, id.clone(), change).await)
    })
    .await
}

/// A Performance record's window and breakdown after a write: patched into the stored ones
/// (merge) or as given (replace, or a new record).
fn performance_settings_after(
    current: Option<&ChildRecord>,
    body: &Map<String, Value>,
    mode: WriteMode,
) -> Result<Map<String, Value>, ApiError> {
    let next = match (mode, current) {
        (WriteMode::Merge, Some(record)) => performance::stored_settings(record).patched(body),
        _ => PerformanceSettings::from_json(body),
    };
    next.map(|s| s.to_json())
        .map_err(|e| ApiError::bad_request(e.to_string()))
}

/// The record kind an intervention's details are validated against.
fn subject_kind(subject: &Subject) -> RecordKind {
    match subject {
        Subject::Plan => RecordKind::Plan,
        Subject::Rules(_) => RecordKind::Rules,
        Subject::Performance(_) => RecordKind::Performance,
    }
}

/// An optional text property of at most [`TEXT_MAX_CHARS`].
pub fn optional_text(body: &Map<String, Value>, name: &str) -> Result<Option<String>, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.chars().count() <= TEXT_MAX_CHARS => {
            Ok(Some(text.clone()))
        }
        Some(Value::String(_)) => Err(ApiError::bad_request(format!(
            "property '{name}' is longer than {TEXT_MAX_CHARS} characters"
        ))),
        Some(_) => Err(ApiError::bad_request(format!(
            "property '{name}' must be a string"
        ))),
    }
}

/// Refuses properties other than `allowed`, naming the first.
pub fn only(body: &Map<String, Value>, allowed: &[&str]) -> Result<(), ApiError> {
    match body.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(name) => {
            let shown: String = name.chars().filter(|c| !c.is_control()).take(64).collect();
            Err(ApiError::bad_request(format!(
                "unknown property '{shown}'; expected {}",
                allowed.join(", ")
            )))
        }
        None => Ok(()),
    }
}

/// Records an intervention from a BIAN `Request` body: the subject's properties the request
/// is about, plus the optional extensions `Reason` and `RequestedAction`.
pub async fn request_intervention(
    state: &AppState,
    plan: PlanId,
    subject: Subject,
    body: &Map<String, Value>,
    requester: String,
) -> Result<Intervention, ApiError> {
    let details = Fields::parse(subject_kind(&subject), body, REQUEST_EXTENSIONS)?;
    record_intervention(state, plan, subject, details, body, requester).await
}

/// Records an intervention from a facade body: `Reason`, `RequestedAction` and `Details`
/// (the subject's properties the request is about).
pub async fn create_intervention(
    state: &AppState,
    plan: PlanId,
    subject: Subject,
    body: &Map<String, Value>,
    requester: String,
) -> Result<Intervention, ApiError> {
    only(body, &["Reason", "RequestedAction", "Details"])?;
    let details = match body.get("Details") {
        None | Some(Value::Null) => Fields::default(),
        Some(Value::Object(map)) => Fields::parse(subject_kind(&subject), map, &[])
            .map_err(|e| ApiError::bad_request(format!("Details: {e}")))?,
        Some(_) => {
            return Err(ApiError::bad_request(
                "property 'Details' must be an object",
            ));
        }
    };
    record_intervention(state, plan, subject, details, body, requester).await
}

/// Stores an intervention with the `Reason` and `RequestedAction` of `body`.
async fn record_intervention(
    state: &AppState,
    plan: PlanId,
    subject: Subject,
    details: Fields,
    body: &Map<String, Value>,
    requester: String,
) -> Result<Intervention, ApiError> {
    let new = NewIntervention {
        plan_id: plan,
        reason: optional_text(body, "Reason")?,
        requested_action: optional_text(body, "RequestedAction")?,
        subject,
        details,
        requester,
    };
    Ok(state.db.create_intervention(new).await?)
}

/// Reads a rule or performance record.
pub async fn record(
    state: &AppState,
    kind: ChildKind,
    plan: PlanId,
    id: RecordId,
) -> Result<ChildRecord, ApiError> {
    Ok(state.db.record(kind, plan, id).await?)
}
