//! `.../requests`: manual intervention requests on a plan, a criterion or a performance
//! record. The BIAN `Request` operations record the same requests.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use caseload_domain::{Intervention, Transition};
use caseload_domain::{InterventionStatus, PlanId, Subject};
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use super::TAG;
use crate::api::AppState;
use crate::api::error::ApiError;
use crate::api::extract::{
    IfMatch, JsonObject, PageQuery, Params, PlanPath, Principal, RecordPath, RequestPath,
};
use crate::api::policy::{Policy, RouteTable};
use crate::api::render::{self, InterventionPage, InterventionRequest};
use crate::api::responses::{ReadErrors, WriteErrors};

pub(super) fn routes() -> RouteTable {
    let create = Policy::intervene().idempotent_create();
    RouteTable::new()
        .route(routes!(create_plan_request), create)
        .route(routes!(list_plan_requests), Policy::read())
        .route(routes!(get_request), Policy::read())
        .route(routes!(move_request), Policy::intervene())
        .route(routes!(create_rules_request), create)
        .route(routes!(list_rules_requests), Policy::read())
        .route(routes!(create_performance_request), create)
        .route(routes!(list_performance_requests), Policy::read())
}

/// A new manual intervention request.
#[allow(dead_code)]
#[derive(ToSchema)]
#[schema(as = NewInterventionRequest)]
struct NewRequestBody {
    /// Why intervention is needed.
    #[schema(rename = "Reason")]
    reason: Option<String>,
    /// What the requester wants done.
    #[schema(rename = "RequestedAction")]
    requested_action: Option<String>,
    /// BIAN properties of the subject that the request is about.
    #[schema(rename = "Details", value_type = Option<Object>)]
    details: Option<Map<String, Value>>,
}

/// Filters and paging for request lists; any other parameter is refused.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct RequestQuery {
    /// Only requests in this status: `open`, `acknowledged`, `resolved` or `rejected`.
    status: Option<String>,
    /// How many items at most (1 to 100, default 20).
    page_size: Option<u32>,
    /// Where to go on, as returned in `NextPageToken`.
    page_token: Option<String>,
}

impl RequestQuery {
    fn split(self) -> Result<(Option<InterventionStatus>, PageQuery), ApiError> {
        let status = self
            .status
            .map(|s| s.parse::<InterventionStatus>())
            .transpose()
            .map_err(ApiError::bad_request)?;
        Ok((
            status,
            PageQuery {
                page_size: self.page_size,
                page_token: self.page_token,
            },
        ))
    }
}

async fn create(
    state: &AppState,
    plan: PlanId,
    subject: Subject,
    who: caseload_service::Actor,
    body: &Map<String, Value>,
) -> Result<Response, ApiError> {
    let item = state
        .service
        .create_intervention(plan, subject, body, who)
        .await?;
    Ok(render::one(
        StatusCode::CREATED,
        &item.meta,
        None,
        render::intervention(&item),
    ))
}

async fn list(
    state: &AppState,
    plan: PlanId,
    subject: Option<Subject>,
    query: RequestQuery,
) -> Result<Response, ApiError> {
    let (status, page) = query.split()?;
    let page = state
        .service
        .interventions(plan, subject, status, page.into_request()?)
        .await?;
    Ok(render::page(
        page.items.iter().map(render::intervention).collect(),
        page.next_after,
    ))
}

/// Request manual intervention with a plan
#[utoipa::path(
    post, path = "/customer-case-management/{id}/requests", tag = TAG,
    params(("id" = String, Path, description = "The plan's id")),
    request_body(content = NewRequestBody, content_type = "application/json"),
    responses((status = 201, description = "Recorded, status open", body = InterventionRequest), WriteErrors)
)]
async fn create_plan_request(
    State(state): State<AppState>,
    PlanPath(plan): PlanPath,
    Principal(who): Principal,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    create(&state, plan, Subject::Plan, who, &body).await
}

/// List all intervention requests of a plan (about the plan, its criteria and its performance records), newest first
#[utoipa::path(
    get, path = "/customer-case-management/{id}/requests", tag = TAG,
    params(("id" = String, Path, description = "The plan's id"), RequestQuery),
    responses((status = 200, description = "A page of requests", body = InterventionPage), ReadErrors)
)]
async fn list_plan_requests(
    State(state): State<AppState>,
    PlanPath(plan): PlanPath,
    Params(query): Params<RequestQuery>,
) -> Result<Response, ApiError> {
    list(&state, plan, None, query).await
}

/// Request manual intervention in a case decision criterion
#[utoipa::path(
    post, path = "/customer-case-management/{id}/rules/{rulesid}/requests", tag = TAG,
    params(("id" = String, Path, description = "The plan's id"), ("rulesid" = String, Path, description = "The criterion's id")),
    request_body(content = NewRequestBody, content_type = "application/json"),
    responses((status = 201, description = "Recorded, status open", body = InterventionRequest), WriteErrors)
)]
async fn create_rules_request(
    State(state): State<AppState>,
    RecordPath(plan, id): RecordPath,
    Principal(who): Principal,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    create(&state, plan, Subject::Rules(id), who, &body).await
}

/// List the intervention requests about a case decision criterion, newest first
#[utoipa::path(
    get, path = "/customer-case-management/{id}/rules/{rulesid}/requests", tag = TAG,
    params(("id" = String, Path, description = "The plan's id"), ("rulesid" = String, Path, description = "The criterion's id"), RequestQuery),
    responses((status = 200, description = "A page of requests", body = InterventionPage), ReadErrors)
)]
async fn list_rules_requests(
    State(state): State<AppState>,
    RecordPath(plan, id): RecordPath,
    Params(query): Params<RequestQuery>,
) -> Result<Response, ApiError> {
    list(&state, plan, Some(Subject::Rules(id)), query).await
}

/// Request manual intervention in a performance record
#[utoipa::path(
    post, path = "/customer-case-management/{id}/performances/{performanceid}/requests", tag = TAG,
    params(("id" = String, Path, description = "The plan's id"), ("performanceid" = String, Path, description = "The record's id")),
    request_body(content = NewRequestBody, content_type = "application/json"),
    responses((status = 201, description = "Recorded, status open", body = InterventionRequest), WriteErrors)
)]
async fn create_performance_request(
    State(state): State<AppState>,
    RecordPath(plan, id): RecordPath,
    Principal(who): Principal,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    create(&state, plan, Subject::Performance(id), who, &body).await
}

/// List the intervention requests about a performance record, newest first
#[utoipa::path(
    get, path = "/customer-case-management/{id}/performances/{performanceid}/requests", tag = TAG,
    params(("id" = String, Path, description = "The plan's id"), ("performanceid" = String, Path, description = "The record's id"), RequestQuery),
    responses((status = 200, description = "A page of requests", body = InterventionPage), ReadErrors)
)]
async fn list_performance_requests(
    State(state): State<AppState>,
    RecordPath(plan, id): RecordPath,
    Params(query): Params<RequestQuery>,
) -> Result<Response, ApiError> {
    list(&state, plan, Some(Subject::Performance(id)), query).await
}

fn with_history(item: &Intervention, history: &[Transition]) -> Map<String, Value> {
    let mut out = render::intervention(item);
    let moves: Vec<Value> = history
        .iter()
        .map(|t| {
            serde_json::json!({
                "From": t.from.as_str(), "To": t.to.as_str(), "By": t.by,
                "At": t.at.to_rfc3339(), "Comment": t.comment,
            })
        })
        .collect();
    out.insert("History".into(), Value::Array(moves));
    out
}

/// Get an intervention request, with its lifecycle so far
#[utoipa::path(
    get, path = "/customer-case-management/{id}/requests/{requestid}", tag = TAG,
    params(("id" = String, Path, description = "The plan's id"), ("requestid" = String, Path, description = "The request's id")),
    responses((status = 200, description = "The request", body = InterventionRequest, headers(("ETag" = String))), ReadErrors)
)]
async fn get_request(
    State(state): State<AppState>,
    RequestPath(plan, id): RequestPath,
) -> Result<Response, ApiError> {
    let (item, history) = state.service.intervention(plan, id).await?;
    Ok(render::one(
        StatusCode::OK,
        &item.meta,
        None,
        with_history(&item, &history),
    ))
}

/// Move an intervention request through its lifecycle
///
/// Body: `{"Status": "acknowledged" | "resolved" | "rejected", "Comment": "..."}`. Allowed moves:
/// open → acknowledged, resolved or rejected; acknowledged → resolved or rejected. Any other
/// move is 409 naming the allowed ones. Each move is kept with who made it, when and why.
#[utoipa::path(
    patch, path = "/customer-case-management/{id}/requests/{requestid}", tag = TAG,
    params(("id" = String, Path, description = "The plan's id"), ("requestid" = String, Path, description = "The request's id"),
           ("If-Match" = Option<String>, Header, description = "Move only if the request is at this ETag")),
    request_body(content = Object, content_type = "application/json"),
    responses((status = 200, description = "The request after the move", body = InterventionRequest, headers(("ETag" = String))),
              (status = 409, description = "The lifecycle does not allow the move", body = crate::api::error::HTTPError), WriteErrors)
)]
async fn move_request(
    State(state): State<AppState>,
    RequestPath(plan, id): RequestPath,
    IfMatch(expected): IfMatch,
    Principal(by): Principal,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let (item, history) = state
        .service
        .move_intervention(plan, id, &body, expected, by)
        .await?;
    Ok(render::one(
        StatusCode::OK,
        &item.meta,
        None,
        with_history(&item, &history),
    ))
}
