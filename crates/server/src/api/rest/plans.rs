//! `/customer-case-management`: plans.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use caseload_domain::WriteMode;
use caseload_service::WriteRequest;
use utoipa_axum::routes;

use super::TAG;
use crate::api::error::ApiError;
use crate::api::extract::{Caller, Context, Principal};
use crate::api::extract::{IfMatch, JsonObject, PageQuery, Params, PlanPath};
use crate::api::policy::{Policy, RouteTable};
use crate::api::render::{self, CustomerCaseManagementPlan, PlanPage};
use crate::api::responses::{ReadErrors, WriteErrors};
use crate::api::{AppState, views};

pub(super) fn routes() -> RouteTable {
    RouteTable::new()
        .route(routes!(create_plan), Policy::write().idempotent_create())
        .route(routes!(list_plans), Policy::read())
        .route(routes!(get_plan), Policy::read())
        .route(routes!(replace_plan), Policy::write())
}

/// The facade address of a plan.
pub(super) fn location(id: impl std::fmt::Display) -> String {
    format!("/customer-case-management/{id}")
}

/// Create a plan
#[utoipa::path(
    post, path = "/customer-case-management", tag = TAG,
    request_body(content = CustomerCaseManagementPlan, content_type = "application/json"),
    responses((status = 201, description = "Created", body = CustomerCaseManagementPlan,
               headers(("ETag" = String), ("Location" = String))), WriteErrors)
)]
async fn create_plan(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Context(request): Context,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let view = state.service.create_plan(&caller, &request, &body).await?;
    Ok(render::one(
        StatusCode::CREATED,
        &view.plan.meta,
        Some(location(view.plan.id)),
        views::plan(&view),
    ))
}

/// List plans, oldest first
#[utoipa::path(
    get, path = "/customer-case-management", tag = TAG, params(PageQuery),
    responses((status = 200, description = "A page of plans", body = PlanPage), ReadErrors)
)]
async fn list_plans(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Params(query): Params<PageQuery>,
) -> Result<Response, ApiError> {
    let page = state.service.plans(&caller, query.into_request()?).await?;
    Ok(render::page(
        page.items.iter().map(views::plan).collect(),
        page.next_after,
    ))
}

/// Get a plan
#[utoipa::path(
    get, path = "/customer-case-management/{id}", tag = TAG,
    params(("id" = String, Path, description = "The plan's id")),
    responses((status = 200, description = "The plan", body = CustomerCaseManagementPlan, headers(("ETag" = String))), ReadErrors)
)]
async fn get_plan(
    State(state): State<AppState>,
    PlanPath(id): PlanPath,
) -> Result<Response, ApiError> {
    let view = state.service.plan(id).await?;
    Ok(render::one(
        StatusCode::OK,
        &view.plan.meta,
        None,
        views::plan(&view),
    ))
}

/// Replace a plan's properties
///
/// The properties given become the plan's; properties not given are cleared.
#[utoipa::path(
    put, path = "/customer-case-management/{id}", tag = TAG,
    params(("id" = String, Path, description = "The plan's id"),
           ("If-Match" = Option<String>, Header, description = "Apply only if the plan is at this ETag")),
    request_body(content = CustomerCaseManagementPlan, content_type = "application/json"),
    responses((status = 200, description = "The plan", body = CustomerCaseManagementPlan, headers(("ETag" = String))), WriteErrors)
)]
async fn replace_plan(
    State(state): State<AppState>,
    PlanPath(id): PlanPath,
    IfMatch(expected): IfMatch,
    Principal(actor): Principal,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let write = WriteRequest {
        mode: WriteMode::Replace,
        expected,
        actor,
    };
    let view = state.service.update_plan(id, &body, &write).await?;
    Ok(render::one(
        StatusCode::OK,
        &view.plan.meta,
        None,
        views::plan(&view),
    ))
}
