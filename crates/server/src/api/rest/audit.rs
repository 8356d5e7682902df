//! `/audit`: the audit trail, newest first, narrowed by plan and time. For administrators:
//! it shows who changed what across every plan.

use axum::extract::State;
use axum::response::Response;
use caseload_domain::events::parse_instant;
use caseload_domain::{PlanId, Timestamp};
use caseload_store::audit::hex;
use caseload_store::{AuditFilter, AuditRecord};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use super::TAG;
use crate::api::AppState;
use crate::api::error::ApiError;
use crate::api::extract::{Caller, PageQuery, Params};
use crate::api::policy::{Policy, RouteTable};
use crate::api::render;
use crate::api::responses::ReadErrors;

pub(super) fn routes() -> RouteTable {
    RouteTable::new().route(routes!(list_audit_records), Policy::admin())
}

/// Which records, and which page.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    /// Only the records of this plan.
    plan: Option<String>,
    /// Only records written at or after this time (RFC 3339 with offset).
    from: Option<String>,
    /// Only records written before this time (RFC 3339 with offset).
    to: Option<String>,
    /// How many items at most (1 to 100, default 20).
    page_size: Option<u32>,
    /// Where to go on, as returned in `NextPageToken`.
    page_token: Option<String>,
}

impl AuditQuery {
    fn into_filter(self) -> Result<AuditFilter, ApiError> {
        let plan = self
            .plan
            .map(|p| {
                PlanId::parse(&p)
                    .map_err(|_| ApiError::bad_request("query parameter 'plan' is not a plan id"))
            })
            .transpose()?;
        let instant = |name: &str, text: Option<String>| -> Result<Option<Timestamp>, ApiError> {
            text.map(|t| {
                parse_instant(&t).map_err(|problem| {
                    ApiError::bad_request(format!("query parameter '{name}': {problem}"))
                })
            })
            .transpose()
        };
        let from = instant("from", self.from)?;
        // `to` at or before `from` is an empty interval: an empty page, not an error.
        let to = instant("to", self.to)?;
        let page = PageQuery {
            page_size: self.page_size,
            page_token: self.page_token,
        }
        .into_request()?;
        Ok(AuditFilter {
            plan,
            from,
            to,
            page,
        })
    }
}

/// One audit record: who changed what, when, through which request.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
struct AuditEntry {
    /// Position among all records; grows with every record.
    seq: i64,
    /// The plan id whose hash chain the record is on; empty for service-wide events (API
    /// keys).
    chain: String,
    /// When (RFC 3339, UTC).
    #[schema(format = DateTime)]
    at: String,
    /// Who made the change.
    actor: String,
    /// The `x-fapi-interaction-id` of the request that made it.
    interaction_id: Option<String>,
    /// What was done: `plan.create`, `plan.update`, `rules.put`, `performance.put`,
    /// `intervention.create`, `intervention.transition`, `evaluation.record`,
    /// `evaluation.outcome`, `backtest.save`, `events.ingest`, `apikey.create`, `apikey.revoke`.
    action: String,
    /// What it was done to: `plan`, `rules/{id}`, `performance/{id}`, `intervention/{id}`,
    /// `evaluation/{id}`, `backtest/{id}`, `case-events`, ...
    subject: String,
    /// The properties that changed, before; null for a creation.
    #[schema(value_type = Option<Object>)]
    before: Option<Value>,
    /// The properties that changed, after (for a creation, all given).
    #[schema(value_type = Option<Object>)]
    after: Option<Value>,
    /// The hash of the chain's previous record (hex; zeros for the first).
    prev_hash: String,
    /// This record's BLAKE3 hash (hex), over the layout documented in the README.
    hash: String,
}

impl From<AuditRecord> for AuditEntry {
    fn from(r: AuditRecord) -> Self {
        Self {
            seq: r.seq,
            at: r.at.to_rfc3339(),
            prev_hash: hex(&r.prev_hash),
            hash: hex(&r.hash),
            chain: r.chain,
            actor: r.actor,
            interaction_id: r.interaction_id,
            action: r.action,
            subject: r.subject,
            before: r.before,
            after: r.after,
        }
    }
}

/// A page of audit records, newest first.
#[allow(dead_code)]
#[derive(ToSchema)]
#[schema(as = AuditPage)]
struct AuditPageSchema {
    /// The items of this page.
    #[schema(rename = "Items")]
    items: Vec<AuditEntry>,
    /// Pass as `page_token` to get the next page; absent on the last page.
    #[schema(rename = "NextPageToken")]
    next_page_token: Option<String>,
}

/// List the audit trail, newest first (administrators)
///
/// Every change (plans, criteria, performance records, intervention requests and their moves,
/// recorded evaluations and outcomes, back-tests, case-event batches, API keys) with who made
/// it, when, through which request, and the before/after of what changed.
#[utoipa::path(
    get, path = "/audit", tag = TAG,
    params(AuditQuery),
    responses((status = 200, description = "A page of audit records", body = AuditPageSchema), ReadErrors)
)]
// Needs the `admin` scope (declared in `routes`); which records the caller may see is the
// service's rule (`Service::audit_records`).
async fn list_audit_records(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Params(query): Params<AuditQuery>,
) -> Result<Response, ApiError> {
    let filter = query.into_filter()?;
    let page = state.service.audit_records(&caller, filter).await?;
    let items = page
        .items
        .into_iter()
        .map(
            |record| match serde_json::to_value(AuditEntry::from(record)) {
                Ok(Value::Object(map)) => map,
                _ => Map::new(),
            },
        )
        .collect();
    Ok(render::page(items, page.next_after))
}
