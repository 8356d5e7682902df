//! `/customer-case-management/{id}/rules` and `/performances`: a plan's case decision
//! criteria and performance records. `PUT` creates (201) or replaces (200).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use caseload_domain::{ChildKind, PlanId, WriteMode};
use caseload_service::WriteRequest;
use serde_json::{Map, Value};
use utoipa_axum::routes;

use super::TAG;
use crate::api::error::ApiError;
use crate::api::extract::Principal;
use crate::api::extract::{IfMatch, JsonObject, PageQuery, Params, PlanPath, RecordPath};
use crate::api::policy::{Policy, RouteTable};
use crate::api::render::{self, Performance, PerformancePage, Rules, RulesPage};
use crate::api::responses::{ReadErrors, WriteErrors};
use crate::api::{AppState, views};

pub(super) fn routes() -> RouteTable {
    RouteTable::new()
        .route(routes!(list_rules), Policy::read())
        .route(routes!(get_rules), Policy::read())
        .route(routes!(put_rules), Policy::write())
        .route(routes!(list_performances), Policy::read())
        .route(routes!(get_performance), Policy::read())
        .route(routes!(put_performance), Policy::write())
}

/// The facade collection name of a kind.
pub(super) fn collection(kind: ChildKind) -> &'static str {
    match kind {
        ChildKind::Rules => "rules",
        ChildKind::Performance => "performances",
    }
}

async fn list(
    state: &AppState,
    kind: ChildKind,
    plan: PlanId,
    query: PageQuery,
) -> Result<Response, ApiError> {
    let page = state
        .service
        .records(kind, plan, query.into_request()?)
        .await?;
    Ok(render::page(
        page.items.iter().map(views::record).collect(),
        page.next_after,
    ))
}

async fn get(state: &AppState, kind: ChildKind, path: RecordPath) -> Result<Response, ApiError> {
    let RecordPath(plan, id) = path;
    let view = state.service.record(kind, plan, id).await?;
    Ok(render::one(
        StatusCode::OK,
        &view.record.meta,
        None,
        views::record(&view),
    ))
}

async fn put(
    state: &AppState,
    kind: ChildKind,
    path: RecordPath,
    expected: Option<caseload_domain::Version>,
    actor: caseload_service::Actor,
    body: &Map<String, Value>,
) -> Result<Response, ApiError> {
    let RecordPath(plan, id) = path;
    let write = WriteRequest {
        mode: WriteMode::Replace,
        expected,
        actor,
    };
    let written = state
        .service
        .put_record(kind, plan, id, body, &write)
        .await?;
    let (status, location) = if written.created {
        let record = &written.view.record;
        let location = format!(
            "/customer-case-management/{}/{}/{}",
            record.plan_id,
            collection(kind),
            record.id
        );
        (StatusCode::CREATED, Some(location))
    } else {
        (StatusCode::OK, None)
    };
    Ok(render::one(
        status,
        &written.view.record.meta,
        location,
        views::record(&written.view),
    ))
}

/// List a plan's case decision criteria
#[utoipa::path(
    get, path = "/customer-case-management/{id}/rules", tag = TAG,
    params(("id" = String, Path, description = "The plan's id"), PageQuery),
    responses((status = 200, description = "A page of criteria", body = RulesPage), ReadErrors)
)]
async fn list_rules(
    State(state): State<AppState>,
    PlanPath(plan): PlanPath,
    Params(query): Params<PageQuery>,
) -> Result<Response, ApiError> {
    list(&state, ChildKind::Rules, plan, query).await
}

/// Get a case decision criterion
#[utoipa::path(
    get, path = "/customer-case-management/{id}/rules/{rulesid}", tag = TAG,
    params(("id" = String, Path, description = "The plan's id"), ("rulesid" = String, Path, description = "The criterion's id")),
    responses((status = 200, description = "The criterion", body = Rules, headers(("ETag" = String))), ReadErrors)
)]
async fn get_rules(State(state): State<AppState>, path: RecordPath) -> Result<Response, ApiError> {
    get(&state, ChildKind::Rules, path).await
}

/// Create or replace a case decision criterion
#[utoipa::path(
    put, path = "/customer-case-management/{id}/rules/{rulesid}", tag = TAG,
    params(("id" = String, Path, description = "The plan's id"),
           ("rulesid" = String, Path, description = "The criterion's id: 1 to 64 of A-Z a-z 0-9 . _ ~ -"),
           ("If-Match" = Option<String>, Header, description = "Replace only if the criterion is at this ETag")),
    request_body(content = Rules, content_type = "application/json"),
    responses((status = 200, description = "Replaced", body = Rules), (status = 201, description = "Created", body = Rules), WriteErrors)
)]
async fn put_rules(
    State(state): State<AppState>,
    path: RecordPath,
    IfMatch(expected): IfMatch,
    Principal(actor): Principal,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    put(&state, ChildKind::Rules, path, expected, actor, &body).await
}

/// List a plan's performance records
#[utoipa::path(
    get, path = "/customer-case-management/{id}/performances", tag = TAG,
    params(("id" = String, Path, description = "The plan's id"), PageQuery),
    responses((status = 200, description = "A page of performance records", body = PerformancePage), ReadErrors)
)]
async fn list_performances(
    State(state): State<AppState>,
    PlanPath(plan): PlanPath,
    Params(query): Params<PageQuery>,
) -> Result<Response, ApiError> {
    list(&state, ChildKind::Performance, plan, query).await
}

/// Get a performance record
#[utoipa::path(
    get, path = "/customer-case-management/{id}/performances/{performanceid}", tag = TAG,
    params(("id" = String, Path, description = "The plan's id"), ("performanceid" = String, Path, description = "The record's id")),
    responses((status = 200, description = "The performance record", body = Performance, headers(("ETag" = String))), ReadErrors)
)]
async fn get_performance(
    State(state): State<AppState>,
    path: RecordPath,
) -> Result<Response, ApiError> {
    get(&state, ChildKind::Performance, path).await
}

/// Create or replace a performance record
#[utoipa::path(
    put, path = "/customer-case-management/{id}/performances/{performanceid}", tag = TAG,
    params(("id" = String, Path, description = "The plan's id"),
           ("performanceid" = String, Path, description = "The record's id: 1 to 64 of A-Z a-z 0-9 . _ ~ -"),
           ("If-Match" = Option<String>, Header, description = "Replace only if the record is at this ETag")),
    request_body(content = Performance, content_type = "application/json"),
    responses((status = 200, description = "Replaced", body = Performance), (status = 201, description = "Created", body = Performance), WriteErrors)
)]
async fn put_performance(
    State(state): State<AppState>,
    path: RecordPath,
    IfMatch(expected): IfMatch,
    Principal(actor): Principal,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    put(&state, ChildKind::Performance, path, expected, actor, &body).await
}
