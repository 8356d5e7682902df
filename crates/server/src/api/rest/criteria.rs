//! Criteria that run: evaluations (one criterion, or all of a plan's), outcomes, back-tests
//! and the version history of a criterion's settings.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use utoipa_axum::routes;

use super::TAG;
use crate::api::AppState;
use crate::api::error::ApiError;
use crate::api::extract::{
    EvaluationPath, JsonObject, PageQuery, Params, PlanPath, Principal, RecordPath,
};
use crate::api::policy::{Policy, RouteTable};
use crate::api::responses::{ReadErrors, WriteErrors};
use crate::api::{render, views};
use caseload_service::criteria::Evaluated;

pub(super) fn routes() -> RouteTable {
    RouteTable::new()
        .route(routes!(evaluate), Policy::write().idempotent_create())
        .route(routes!(list_evaluations), Policy::read())
        .route(routes!(attach_outcome), Policy::write())
        .route(routes!(evaluate_plan), Policy::write())
        .route(routes!(backtest), Policy::write().idempotent_create())
        .route(routes!(versions), Policy::read())
}

fn object(body: serde_json::Map<String, Value>) -> Response {
    Json(Value::Object(body)).into_response()
}

/// Evaluate a case against a criterion
///
/// Body: `{"Facts": {...}, "Record": false, "CaseId": "...", "Amount": {"Value": "12.50", "Currency": "EUR"}}`.
/// Returns the result, the decision, the facts and parameter values used and each
/// sub-condition's value. With `"Record": true` the evaluation joins the criterion's history
/// (201, with its `EvaluationId`). Facts the expression needs but the body lacks are a 400
/// naming them.
#[utoipa::path(
    post, path = "/customer-case-management/{id}/rules/{rulesid}/evaluations", tag = TAG,
    params(("id" = String, Path, description = "The plan's id"), ("rulesid" = String, Path, description = "The criterion's id")),
    request_body(content = Object, content_type = "application/json"),
    responses((status = 200, description = "Evaluated", body = Object), (status = 201, description = "Evaluated and recorded", body = Object),
              (status = 409, description = "The criterion has no expression", body = crate::api::error::HTTPError),
              (status = 422, description = "The evaluation ran out of time", body = crate::api::error::HTTPError), WriteErrors)
)]
async fn evaluate(
    State(state): State<AppState>,
    RecordPath(plan, rules): RecordPath,
    Principal(actor): Principal,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let (status, out) = match state.service.evaluate(plan, rules, &body, actor).await? {
        Evaluated::Unrecorded(out) => (StatusCode::OK, out),
        Evaluated::Recorded(record) => (StatusCode::CREATED, views::evaluation(&record)),
    };
    Ok((status, Json(Value::Object(out))).into_response())
}

/// List a criterion's recorded evaluations, newest first
#[utoipa::path(
    get, path = "/customer-case-management/{id}/rules/{rulesid}/evaluations", tag = TAG,
    params(("id" = String, Path, description = "The plan's id"), ("rulesid" = String, Path, description = "The criterion's id"), PageQuery),
    responses((status = 200, description = "A page of evaluations", body = Object), ReadErrors)
)]
async fn list_evaluations(
    State(state): State<AppState>,
    RecordPath(plan, rules): RecordPath,
    Params(query): Params<PageQuery>,
) -> Result<Response, ApiError> {
    let page = state
        .service
        .evaluations(plan, rules, query.into_request()?)
        .await?;
    Ok(render::page(
        page.items.iter().map(views::evaluation).collect(),
        page.next_after,
    ))
}

/// Attach what actually happened to a recorded evaluation
///
/// Body: `{"Outcome": "appealed", "Amount": {"Value": "120.00", "Currency": "EUR"}}`.
#[utoipa::path(
    patch, path = "/customer-case-management/{id}/rules/{rulesid}/evaluations/{evaluationid}", tag = TAG,
    params(("id" = String, Path, description = "The plan's id"), ("rulesid" = String, Path, description = "The criterion's id"),
           ("evaluationid" = String, Path, description = "The evaluation's id")),
    request_body(content = Object, content_type = "application/json"),
    responses((status = 200, description = "The evaluation with its outcome", body = Object), WriteErrors)
)]
async fn attach_outcome(
    State(state): State<AppState>,
    EvaluationPath(plan, rules, id): EvaluationPath,
    Principal(who): Principal,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let record = state
        .service
        .attach_outcome(plan, rules, id, &body, who)
        .await?;
    Ok(object(views::evaluation(&record)))
}

/// Evaluate a case against all of a plan's criteria
///
/// Body: `{"Facts": {...}}`. Criteria with an expression run in priority order (then id);
/// the first that holds and names a `Decision` decides. Each criterion's result is listed.
#[utoipa::path(
    post, path = "/customer-case-management/{id}/evaluations", tag = TAG,
    params(("id" = String, Path, description = "The plan's id")),
    request_body(content = Object, content_type = "application/json"),
    responses((status = 200, description = "The decision and each criterion's result", body = Object), WriteErrors)
)]
async fn evaluate_plan(
    State(state): State<AppState>,
    PlanPath(plan): PlanPath,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    Ok(object(state.service.evaluate_plan(plan, &body).await?))
}

/// Back-test proposed settings of a criterion
///
/// Body: the proposed `Parameters` (patched name by name) and/or `Expression`. Replays the
/// most recent recorded evaluations (up to 10,000) under the current and the proposed
/// settings and reports what would change; the result becomes the criterion's `Analysis`.
/// Applying the proposal is an ordinary Update.
#[utoipa::path(
    post, path = "/customer-case-management/{id}/rules/{rulesid}/backtests", tag = TAG,
    params(("id" = String, Path, description = "The plan's id"), ("rulesid" = String, Path, description = "The criterion's id")),
    request_body(content = Object, content_type = "application/json"),
    responses((status = 201, description = "The back-test", body = Object),
              (status = 409, description = "The criterion has no expression", body = crate::api::error::HTTPError), WriteErrors)
)]
async fn backtest(
    State(state): State<AppState>,
    RecordPath(plan, rules): RecordPath,
    Principal(actor): Principal,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let stored = state.service.backtest(plan, rules, &body, actor).await?;
    Ok((
        StatusCode::CREATED,
        Json(Value::Object(views::backtest(&stored))),
    )
        .into_response())
}

/// List the versions of a criterion, newest first, with what changed in each
#[utoipa::path(
    get, path = "/customer-case-management/{id}/rules/{rulesid}/versions", tag = TAG,
    params(("id" = String, Path, description = "The plan's id"), ("rulesid" = String, Path, description = "The criterion's id"), PageQuery),
    responses((status = 200, description = "A page of versions", body = Object), ReadErrors)
)]
async fn versions(
    State(state): State<AppState>,
    RecordPath(plan, rules): RecordPath,
    Params(query): Params<PageQuery>,
) -> Result<Response, ApiError> {
    let page = state
        .service
        .criterion_versions(plan, rules, query.into_request()?)
        .await?;
    let items = page
        .items
        .iter()
        .map(|v| {
            let version = &v.version;
            let mut out = serde_json::Map::new();
            out.insert("Version".into(), version.version.get().into());
            out.insert("ChangedBy".into(), version.changed_by.as_str().into());
            out.insert("ChangedAt".into(), version.changed_at.to_rfc3339().into());
            out.insert("Changed".into(), json!(v.changed));
            let mut record = serde_json::Map::new();
            for (name, value) in version.fields.iter() {
                record.insert(name.to_owned(), value.into());
            }
            record.extend(v.settings.to_json());
            out.insert("Settings".into(), Value::Object(record));
            out
        })
        .collect();
    Ok(render::page(items, page.next_after))
}
