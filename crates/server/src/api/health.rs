//! Liveness and readiness, for orchestrators and load balancers.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::routes;

use super::AppState;
use super::error::ApiError;
use super::policy::{Policy, RouteTable};
use super::responses::ReadErrors;

pub(super) fn routes() -> RouteTable {
    RouteTable::new()
        .route(routes!(live), Policy::public())
        .route(routes!(ready), Policy::public())
}

/// Health status.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
struct Health {
    /// `ok` or `ready`.
    status: &'static str,
    /// The database backend, for readiness.
    #[serde(skip_serializing_if = "Option::is_none")]
    backend: Option<String>,
}

/// The process is up
#[utoipa::path(get, path = "/health/live", tag = "Operations", responses((status = 200, body = Health)))]
async fn live() -> Json<Health> {
    Json(Health {
        status: "ok",
        backend: None,
    })
}

/// The process can serve: its database answers
#[utoipa::path(get, path = "/health/ready", tag = "Operations", responses((status = 200, body = Health), ReadErrors))]
async fn ready(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    state.db.ready().await?;
    Ok(Json(Health {
        status: "ready",
        backend: Some(format!("{:?}", state.db.backend()).to_lowercase()),
    }))
}
