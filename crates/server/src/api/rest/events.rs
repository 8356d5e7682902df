//! `/customer-case-management/{id}/case-events`: the case activity feed.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::routes;

use super::TAG;
use crate::api::AppState;
use crate::api::error::ApiError;
use crate::api::extract::{EventBatch, PlanPath, Principal};
use crate::api::policy::{Policy, RouteTable};
use crate::api::responses::WriteErrors;

/// Largest batch body accepted: 10,000 events of up to about 1.6 KB each.
const MAX_BATCH_BYTES: usize = 16 * 1024 * 1024;

pub(super) fn routes() -> RouteTable {
    let batch = Policy::ingest().idempotent_create();
    RouteTable::new().route(routes!(ingest), batch.body_limit(MAX_BATCH_BYTES))
}

/// What a batch did.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
struct IngestReport {
    /// Events in the batch.
    received: u64,
    /// Events stored.
    accepted: u64,
    /// Events skipped because the plan already had their `EventId`.
    duplicates: u64,
}

/// Ingest a batch of case events
///
/// A JSON array (`application/json`) or one event a line (`application/x-ndjson`), at most
/// 10,000 events and 16 MiB. An event: `EventId` (unique in the plan; re-sending is
/// harmless), `CaseId`, `EventType` (`opened`, `assigned`, `first_response`, `escalated`,
/// `waiting_on_customer`, `customer_replied`, `reopened`, `resolved`, `appealed`, `closed`),
/// `OccurredAt` (RFC 3339), and optional
/// `Category`, `Priority` (`low`, `normal`, `high`, `urgent`), `Channel`, `Team`, `Agent`,
/// `EffortMinutes`, `Amount` (`{"Value": "12.50", "Currency": "EUR"}`), `Outcome`. Events may
/// arrive in any order. A batch is all or nothing: the first bad event is a 400 naming its
/// line (NDJSON, from 1) or index (array, from 0) and the property, and nothing is stored.
#[utoipa::path(
    post, path = "/customer-case-management/{id}/case-events", tag = TAG,
    params(("id" = String, Path, description = "The plan's id")),
    request_body(content = Object, content_type = "application/x-ndjson"),
    responses((status = 200, description = "Stored", body = IngestReport), WriteErrors)
)]
async fn ingest(
    State(state): State<AppState>,
    PlanPath(plan): PlanPath,
    Principal(who): Principal,
    EventBatch(format, body): EventBatch,
) -> Result<Response, ApiError> {
    let report = state.service.ingest(plan, body, format, who).await?;
    Ok(Json(IngestReport {
        received: report.received,
        accepted: report.accepted,
        duplicates: report.duplicates,
    })
    .into_response())
}
