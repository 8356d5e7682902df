//! `GET /staffing/erlang-c`: how many agents an interval's arrivals need, by Erlang C. Pure
//! calculation, no stored state; the figures come from [`caseload_domain::staffing`].

use axum::Json;
use caseload_domain::staffing::{StaffingError, StaffingProblem, StaffingRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use crate::api::error::ApiError;
use crate::api::extract::Params;
use crate::api::policy::{Policy, RouteTable};
use crate::api::responses::ReadErrors;

pub(super) fn routes() -> RouteTable {
    RouteTable::new().route(routes!(erlang_c), Policy::read())
}

/// The question: the load of one interval and the targets to staff it for.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ErlangCQuery {
    /// Cases (calls, contacts) arriving in the interval; 0 or more.
    arrivals: f64,
    /// The length of the interval in seconds, e.g. 1800 for half an hour.
    interval_seconds: f64,
    /// Average handling time of a case in seconds.
    aht_seconds: f64,
    /// The answer time the service level counts against, in seconds; 0 or more.
    target_answer_seconds: f64,
    /// The fraction to answer within the target, strictly between 0 and 1 (e.g. 0.8).
    service_level: f64,
    /// The highest fraction of their time agents may be busy, above 0 and at most 1
    /// (e.g. 0.85). Default 1: no cap.
    max_occupancy: Option<f64>,
    /// The fraction of rostered time agents are unavailable (breaks, training, absence),
    /// from 0 up to but not including 1 (e.g. 0.3). Default 0.
    shrinkage: Option<f64>,
}

impl From<ErlangCQuery> for StaffingRequest {
    fn from(q: ErlangCQuery) -> Self {
        Self {
            arrivals: q.arrivals,
            interval_seconds: q.interval_seconds,
            aht_seconds: q.aht_seconds,
            target_answer_seconds: q.target_answer_seconds,
            service_level: q.service_level,
            max_occupancy: q.max_occupancy,
            shrinkage: q.shrinkage,
        }
    }
}

/// The agents an interval needs, and how the queue performs with them.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
#[schema(as = ErlangCStaffing)]
struct StaffingView {
    /// The fewest agents on duty meeting both the service level and the occupancy cap.
    agents: u32,
    /// Agents to roster so that `Agents` remain after shrinkage: `ceil(Agents / (1 - shrinkage))`.
    rostered_agents: u64,
    /// The fraction of arrivals answered within the target with `Agents` on duty.
    service_level: f64,
    /// The fraction of arrivals that wait at all (Erlang C).
    probability_of_waiting: f64,
    /// The mean wait before an answer over all arrivals, in seconds.
    average_speed_of_answer_seconds: f64,
    /// The fraction of the agents' time spent handling cases.
    occupancy: f64,
    /// Offered traffic in erlangs: `arrivals × aht_seconds ÷ interval_seconds`.
    traffic_erlangs: f64,
}

fn bad_request(err: StaffingError) -> ApiError {
    ApiError::bad_request(err.to_string())
}

/// Agents needed for an interval, by Erlang C
///
/// Finds the smallest number of agents on duty that answers `service_level` of the
/// `arrivals` within `target_answer_seconds` and keeps occupancy at or below
/// `max_occupancy`, then the number to roster after `shrinkage`. Assumes Poisson arrivals,
/// exponential handling times and no abandonment. No arrivals need no agents. Traffic above
/// 100,000 erlangs, or answers above 1,000,000 agents on duty or 10,000,000 rostered, are
/// refused; every refusal is a 400 naming the parameter.
#[utoipa::path(
    get, path = "/staffing/erlang-c", tag = "Staffing",
    params(ErlangCQuery),
    responses((status = 200, description = "The agents needed and the queue's performance with them", body = StaffingView), ReadErrors)
)]
async fn erlang_c(Params(query): Params<ErlangCQuery>) -> Result<Json<StaffingView>, ApiError> {
    let problem = StaffingProblem::parse(&query.into()).map_err(bad_request)?;
    let staffing = problem.solve().map_err(bad_request)?;
    let on_duty = staffing.on_duty;
    Ok(Json(StaffingView {
        agents: on_duty.agents,
        rostered_agents: staffing.rostered_agents,
        service_level: on_duty.service_level,
        probability_of_waiting: on_duty.probability_of_waiting,
        average_speed_of_answer_seconds: on_duty.average_speed_of_answer_seconds,
        occupancy: on_duty.occupancy,
        traffic_erlangs: staffing.traffic_erlangs,
    }))
}
