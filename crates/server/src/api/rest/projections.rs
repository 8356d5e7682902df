//! `GET /customer-case-management/{id}/projections`: a plan's loading projections — arrivals
//! forecast per day and per hour of the working week, the staff each team needs per interval
//! against its resource plan, and a recommended reallocation — the same figures a computed
//! Performance record shows under `Projections`, for a horizon of the caller's choosing.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use caseload_domain::forecast::{DEFAULT_WEEKS, readable_projections};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;
use utoipa_axum::routes;

use crate::api::AppState;
use crate::api::error::ApiError;
use crate::api::extract::{Params, PlanPath};
use crate::api::policy::{Policy, RouteTable};
use crate::api::responses::ReadErrors;

pub(super) fn routes() -> RouteTable {
    RouteTable::new().route(routes!(projections), Policy::read())
}

/// How far ahead to project.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ProjectionsQuery {
    /// Weeks ahead, 1 to 52 (default 4).
    weeks: Option<u32>,
}

/// A plan's loading projections
///
/// `Projections` (typed: `Method`, `Daily`, `HourOfWeek`, `Teams` with required and available
/// agents and gaps per interval, `Reallocation`) and `CustomerCaseLoadingProjections` (the
/// same in words). Computed from the plan's case events, goals, calendar and resource plan;
/// reused until new events arrive or the plan changes.
#[utoipa::path(
    get, path = "/customer-case-management/{id}/projections", tag = "REST facade",
    params(("id" = String, Path, description = "The plan's id"), ProjectionsQuery),
    responses((status = 200, description = "The plan's loading projections", body = Object), ReadErrors)
)]
async fn projections(
    State(state): State<AppState>,
    PlanPath(plan): PlanPath,
    Params(query): Params<ProjectionsQuery>,
) -> Result<Response, ApiError> {
    let weeks = query.weeks.unwrap_or(DEFAULT_WEEKS);
    let projections = state.service.projections(plan, weeks).await?;
    Ok(Json(json!({
        "CustomerCaseManagementId": plan.to_string(),
        "CustomerCaseLoadingProjections": readable_projections(&projections),
        "Projections": &*projections,
    }))
    .into_response())
}
