//! The operations behind both routings. The BIAN handlers and the REST facade differ only
//! in paths, status codes and envelopes; what they do to the store is written once, here.

use caseload_domain::{
    Change, ChildKind, ChildRecord, Fields, Intervention, NewIntervention, Plan, PlanId,
    RecordKind, Subject, TEXT_MAX_CHARS, Version, WriteMode,
};
use caseload_store::Put;
use serde_json::{Map, Value};

use super::AppState;
use super::error::ApiError;

/// Extension properties a BIAN `Request` body may carry besides the record's properties.
pub const REQUEST_EXTENSIONS: &[&str] = &["Reason", "RequestedAction"];

/// Creates a plan from a client's properties.
pub async fn create_plan(state: &AppState, body: &Map<String, Value>) -> Result<Plan, ApiError> {
    let fields = Fields::parse(RecordKind::Plan, body, &[])?;
    Ok(state.db.create_plan(fields).await?)
}

/// Changes a plan.
pub async fn update_plan(
    state: &AppState,
    id: PlanId,
    body: &Map<String, Value>,
    mode: WriteMode,
    expected: Option<Version>,
) -> Result<Plan, ApiError> {
    let fields = Fields::parse(RecordKind::Plan, body, &[])?;
    Ok(state
        .db
        .update_plan(
            id,
            Change {
                fields,
                mode,
                expected,
            },
        )
        .await?)
}

/// Creates or changes a rule or performance record.
pub async fn put_record(
    state: &AppState,
    kind: ChildKind,
    plan: PlanId,
    id: caseload_domain::RecordId,
    body: &Map<String, Value>,
    mode: WriteMode,
    expected: Option<Version>,
) -> Result<Put, ApiError> {
    let fields = Fields::parse(kind.record_kind(), body, &[])?;
    Ok(state
        .db
        .put_record(
            kind,
            plan,
            id,
            Change {
                fields,
                mode,
                expected,
            },
        )
        .await?)
}

/// The record kind an intervention's details are validated against.
fn subject_kind(subject: &Subject) -> RecordKind {
    match subject {
        Subject::Plan => RecordKind::Plan,
        Subject::Rules(_) => RecordKind::Rules,
        Subject::Performance(_) => RecordKind::Performance,
    }
}

fn optional_text(body: &Map<String, Value>, name: &str) -> Result<Option<String>, ApiError> {
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

/// Records an intervention from a facade body: `Reason`, `RequestedAction` and `Details`
/// (the subject's properties the request is about).
pub async fn create_intervention(
    state: &AppState,
    plan: PlanId,
    subject: Subject,
    body: &Map<String, Value>,
    requester: String,
) -> Result<Intervention, ApiError> {
    const ALLOWED: &[&str] = &["Reason", "RequestedAction", "Details"];
    if let Some(name) = body.keys().find(|k| !ALLOWED.contains(&k.as_str())) {
        let shown: String = name.chars().filter(|c| !c.is_control()).take(64).collect();
        return Err(ApiError::bad_request(format!(
            "unknown property '{shown}'; expected Reason, RequestedAction or Details"
        )));
    }
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
    id: caseload_domain::RecordId,
) -> Result<ChildRecord, ApiError> {
    Ok(state.db.record(kind, plan, id).await?)
}
