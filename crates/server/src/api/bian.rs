//! The ten BIAN v12 operations at exactly the contract's paths, methods and operation ids.
//! Each handler parses, calls the service's operation, and renders.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use caseload_domain::{ChildKind, RecordKind, Subject, WriteMode};
use caseload_service::interventions::REQUEST_EXTENSIONS;
use caseload_service::records::settings_properties;
use caseload_service::{Actor, PlanView, RecordView, WriteRequest};
use utoipa_axum::routes;

use super::error::ApiError;
use super::extract::{Caller, Context, ContractObject, IfMatch, PlanPath, Principal, RecordPath};
use super::policy::{Policy, RouteTable};
use super::render::{self, CustomerCaseManagementPlan, Performance, Rules};
use super::render::{
    RetrieveCustomerCaseManagementPlanResponse, RetrievePerformanceResponse, RetrieveRulesResponse,
};
use super::responses::{ReadErrors, WriteErrors};
use super::{AppState, views};

const PLAN_TAG: &str = "CR - CustomerCaseManagementPlan";
const RULES_TAG: &str = "BQ - Rules";
const PERFORMANCE_TAG: &str = "BQ - Performance";

/// The BIAN routes.
pub fn routes() -> RouteTable {
    RouteTable::new()
        .route(routes!(create), Policy::write().idempotent_create())
        .route(routes!(update), Policy::write())
        .route(routes!(request), Policy::intervene())
        .route(routes!(retrieve), Policy::read())
        .route(routes!(update_rules), Policy::write())
        .route(routes!(request_rules), Policy::intervene())
        .route(routes!(retrieve_rules), Policy::read())
        .route(routes!(update_performance), Policy::write())
        .route(routes!(request_performance), Policy::intervene())
        .route(routes!(retrieve_performance), Policy::read())
}

/// The properties of a BIAN body that the contract or the service names. The contract's
/// schemas leave `additionalProperties` open, so a client built from them (or from a later
/// BIAN version) may send properties this service does not know: the BIAN operations ignore
/// those rather than refuse the request. Properties the service owns stay, so that writing
/// one is still refused; the REST facade refuses unknown properties.
fn contract_body(
    kind: RecordKind,
    extensions: &[&str],
    body: ContractObject,
) -> Result<JsonMap, ApiError> {
    body.known(|name| {
        kind.field_names().contains(&name)
            || extensions.contains(&name)
            || owned_names(kind).contains(&name)
    })
}

/// The properties the service owns on each kind's records (all read-only; a plan's
/// `BusinessUnit` is named once, at creation); another kind's are as unknown here as any
/// other name.
pub(super) fn owned_names(kind: RecordKind) -> &'static [&'static str] {
    match kind {
        RecordKind::Plan => &[
            "CustomerCaseManagementId",
            "Version",
            "CreatedAt",
            "UpdatedAt",
            "OpenInterventions",
            "BusinessUnit",
        ],
        RecordKind::Rules => &[
            "CustomerCaseManagementId",
            "Version",
            "CreatedAt",
            "UpdatedAt",
            "OpenInterventions",
            "RulesId",
            "History",
            "Analysis",
        ],
        RecordKind::Performance => &[
            "CustomerCaseManagementId",
            "Version",
            "CreatedAt",
            "UpdatedAt",
            "OpenInterventions",
            "PerformanceId",
            "Annotations",
            "Window",
            "Statistics",
            "Projections",
        ],
    }
}

type JsonMap = serde_json::Map<String, serde_json::Value>;

fn plan_location(id: impl std::fmt::Display) -> String {
    format!("/CustomerCaseManagement/{id}/Retrieve")
}

fn ok_plan(view: &PlanView) -> Response {
    render::one(StatusCode::OK, &view.plan.meta, None, views::plan(view))
}

fn ok_record(view: &RecordView) -> Response {
    render::one(StatusCode::OK, &view.record.meta, None, views::record(view))
}

/// CrCR Create the management plan for customer case handling
#[utoipa::path(
    post, path = "/CustomerCaseManagement/Create", operation_id = "Create", tag = PLAN_TAG,
    request_body(content = CustomerCaseManagementPlan, content_type = "application/json"),
    responses(
        (status = 200, description = "CustomerCaseManagementPlan", body = CustomerCaseManagementPlan,
         headers(("ETag" = String, description = "The plan's version"), ("Location" = String, description = "Where to retrieve the plan"))),
        WriteErrors,
    )
)]
async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Context(request): Context,
    body: ContractObject,
) -> Result<Response, ApiError> {
    let body = contract_body(RecordKind::Plan, &caseload_domain::plan::PROPERTIES, body)?;
    let view = state.service.create_plan(&caller, &request, &body).await?;
    Ok(render::one(
        StatusCode::OK,
        &view.plan.meta,
        Some(plan_location(view.plan.id)),
        views::plan(&view),
    ))
}

/// UpCR Update aspects of the customer case handling management plan
///
/// Properties given replace the stored ones; properties not given are kept.
#[utoipa::path(
    put, path = "/CustomerCaseManagement/{customercasemanagementid}/Update", operation_id = "Update", tag = PLAN_TAG,
    params(("customercasemanagementid" = String, Path, description = "The plan's id"),
           ("If-Match" = Option<String>, Header, description = "Apply only if the plan is at this ETag")),
    request_body(content = CustomerCaseManagementPlan, content_type = "application/json"),
    responses((status = 200, description = "CustomerCaseManagementPlan", body = CustomerCaseManagementPlan), WriteErrors)
)]
async fn update(
    State(state): State<AppState>,
    PlanPath(id): PlanPath,
    IfMatch(expected): IfMatch,
    Principal(actor): Principal,
    body: ContractObject,
) -> Result<Response, ApiError> {
    let write = WriteRequest {
        mode: WriteMode::Merge,
        expected,
        actor,
    };
    let body = contract_body(RecordKind::Plan, &caseload_domain::plan::PROPERTIES, body)?;
    Ok(ok_plan(
        &state.service.update_plan(id, &body, &write).await?,
    ))
}

/// RqCR Request manual intervention with the plan
///
/// Records a manual intervention request about the plan. The body's BIAN properties say which
/// aspects it is about; the extension properties `Reason` and `RequestedAction` (strings) say
/// why and what is wanted. Returns the plan and the new request's `InterventionId`.
#[utoipa::path(
    put, path = "/CustomerCaseManagement/{customercasemanagementid}/Request", operation_id = "Request", tag = PLAN_TAG,
    params(("customercasemanagementid" = String, Path, description = "The plan's id")),
    request_body(content = CustomerCaseManagementPlan, content_type = "application/json"),
    responses((status = 200, description = "CustomerCaseManagementPlan", body = CustomerCaseManagementPlan), WriteErrors)
)]
async fn request(
    State(state): State<AppState>,
    PlanPath(id): PlanPath,
    Principal(who): Principal,
    body: ContractObject,
) -> Result<Response, ApiError> {
    let body = contract_body(RecordKind::Plan, REQUEST_EXTENSIONS, body)?;
    let intervention = state
        .service
        .request_intervention(id, Subject::Plan, &body, who)
        .await?;
    let view = state.service.plan(id).await?;
    let mut out = views::plan(&view);
    out.insert("InterventionId".into(), intervention.id.to_string().into());
    Ok(render::one(StatusCode::OK, &view.plan.meta, None, out))
}

/// ReCR Retrieve details about the customer case handling management plan
#[utoipa::path(
    get, path = "/CustomerCaseManagement/{customercasemanagementid}/Retrieve", operation_id = "Retrieve", tag = PLAN_TAG,
    params(("customercasemanagementid" = String, Path, description = "The plan's id")),
    responses((status = 200, description = "RetrieveCustomerCaseManagementPlanResponse", body = RetrieveCustomerCaseManagementPlanResponse), ReadErrors)
)]
async fn retrieve(
    State(state): State<AppState>,
    PlanPath(id): PlanPath,
) -> Result<Response, ApiError> {
    let view = state.service.plan(id).await?;
    let body = render::wrapped("CustomerCaseManagementPlan", views::plan(&view));
    Ok(render::one(StatusCode::OK, &view.plan.meta, None, body))
}

async fn put_child(
    state: &AppState,
    kind: ChildKind,
    RecordPath(plan, id): RecordPath,
    write: WriteRequest,
    body: ContractObject,
) -> Result<Response, ApiError> {
    let body = contract_body(kind.record_kind(), settings_properties(kind), body)?;
    let written = state
        .service
        .put_record(kind, plan, id, &body, &write)
        .await?;
    Ok(ok_record(&written.view))
}

async fn request_child(
    state: &AppState,
    kind: ChildKind,
    RecordPath(plan, id): RecordPath,
    who: Actor,
    body: ContractObject,
) -> Result<Response, ApiError> {
    let body = contract_body(kind.record_kind(), REQUEST_EXTENSIONS, body)?;
    let subject = Subject::of_record(kind, id.clone());
    let intervention = state
        .service
        .request_intervention(plan, subject, &body, who)
        .await?;
    let view = state.service.record(kind, plan, id).await?;
    let mut out = views::record(&view);
    out.insert("InterventionId".into(), intervention.id.to_string().into());
    Ok(render::one(StatusCode::OK, &view.record.meta, None, out))
}

async fn retrieve_child(
    state: &AppState,
    kind: ChildKind,
    RecordPath(plan, id): RecordPath,
    envelope: &str,
) -> Result<Response, ApiError> {
    let view = state.service.record(kind, plan, id).await?;
    let body = render::wrapped(envelope, views::record(&view));
    Ok(render::one(StatusCode::OK, &view.record.meta, None, body))
}

/// UpBQ Update details of the case resolution criterion
///
/// Creates the criterion under the plan if it has none with this id, else updates the
/// properties given and keeps the others.
#[utoipa::path(
    put, path = "/CustomerCaseManagement/{customercasemanagementid}/Rules/{rulesid}/Update", operation_id = "UpdateRules", tag = RULES_TAG,
    params(("customercasemanagementid" = String, Path, description = "The plan's id"),
           ("rulesid" = String, Path, description = "The criterion's id: 1 to 64 of A-Z a-z 0-9 . _ ~ -"),
           ("If-Match" = Option<String>, Header, description = "Apply only if the criterion is at this ETag")),
    request_body(content = Rules, content_type = "application/json"),
    responses((status = 200, description = "Rules", body = Rules), WriteErrors)
)]
async fn update_rules(
    State(state): State<AppState>,
    path: RecordPath,
    IfMatch(expected): IfMatch,
    Principal(actor): Principal,
    body: ContractObject,
) -> Result<Response, ApiError> {
    let write = WriteRequest {
        mode: WriteMode::Merge,
        expected,
        actor,
    };
    put_child(&state, ChildKind::Rules, path, write, body).await
}

/// RqBQ Request manual intervention in the case resolution rules
#[utoipa::path(
    put, path = "/CustomerCaseManagement/{customercasemanagementid}/Rules/{rulesid}/Request", operation_id = "RequestRules", tag = RULES_TAG,
    params(("customercasemanagementid" = String, Path, description = "The plan's id"),
           ("rulesid" = String, Path, description = "The criterion's id")),
    request_body(content = Rules, content_type = "application/json"),
    responses((status = 200, description = "Rules", body = Rules), WriteErrors)
)]
async fn request_rules(
    State(state): State<AppState>,
    path: RecordPath,
    Principal(who): Principal,
    body: ContractObject,
) -> Result<Response, ApiError> {
    request_child(&state, ChildKind::Rules, path, who, body).await
}

/// ReBQ Retrieve details about the customer case criterion
#[utoipa::path(
    get, path = "/CustomerCaseManagement/{customercasemanagementid}/Rules/{rulesid}/Retrieve", operation_id = "RetrieveRules", tag = RULES_TAG,
    params(("customercasemanagementid" = String, Path, description = "The plan's id"),
           ("rulesid" = String, Path, description = "The criterion's id")),
    responses((status = 200, description = "RetrieveRulesResponse", body = RetrieveRulesResponse), ReadErrors)
)]
async fn retrieve_rules(
    State(state): State<AppState>,
    path: RecordPath,
) -> Result<Response, ApiError> {
    retrieve_child(&state, ChildKind::Rules, path, "Rules").await
}

/// UpBQ Update performance analysis related information
///
/// Creates the performance record under the plan if it has none with this id, else updates
/// the properties given and keeps the others.
#[utoipa::path(
    put, path = "/CustomerCaseManagement/{customercasemanagementid}/Performance/{performanceid}/Update", operation_id = "UpdatePerformance", tag = PERFORMANCE_TAG,
    params(("customercasemanagementid" = String, Path, description = "The plan's id"),
           ("performanceid" = String, Path, description = "The performance record's id: 1 to 64 of A-Z a-z 0-9 . _ ~ -"),
           ("If-Match" = Option<String>, Header, description = "Apply only if the record is at this ETag")),
    request_body(content = Performance, content_type = "application/json"),
    responses((status = 200, description = "Performance", body = Performance), WriteErrors)
)]
async fn update_performance(
    State(state): State<AppState>,
    path: RecordPath,
    IfMatch(expected): IfMatch,
    Principal(actor): Principal,
    body: ContractObject,
) -> Result<Response, ApiError> {
    let write = WriteRequest {
        mode: WriteMode::Merge,
        expected,
        actor,
    };
    put_child(&state, ChildKind::Performance, path, write, body).await
}

/// RqBQ Request manual intervention in unit performance analysis
#[utoipa::path(
    put, path = "/CustomerCaseManagement/{customercasemanagementid}/Performance/{performanceid}/Request", operation_id = "RequestPerformance", tag = PERFORMANCE_TAG,
    params(("customercasemanagementid" = String, Path, description = "The plan's id"),
           ("performanceid" = String, Path, description = "The performance record's id")),
    request_body(content = Performance, content_type = "application/json"),
    responses((status = 200, description = "Performance", body = Performance), WriteErrors)
)]
async fn request_performance(
    State(state): State<AppState>,
    path: RecordPath,
    Principal(who): Principal,
    body: ContractObject,
) -> Result<Response, ApiError> {
    request_child(&state, ChildKind::Performance, path, who, body).await
}

/// ReBQ Retrieve details about business unit performance assessment activity
#[utoipa::path(
    get, path = "/CustomerCaseManagement/{customercasemanagementid}/Performance/{performanceid}/Retrieve", operation_id = "RetrievePerformance", tag = PERFORMANCE_TAG,
    params(("customercasemanagementid" = String, Path, description = "The plan's id"),
           ("performanceid" = String, Path, description = "The performance record's id")),
    responses((status = 200, description = "RetrievePerformanceResponse", body = RetrievePerformanceResponse), ReadErrors)
)]
async fn retrieve_performance(
    State(state): State<AppState>,
    path: RecordPath,
) -> Result<Response, ApiError> {
    retrieve_child(&state, ChildKind::Performance, path, "Performance").await
}
