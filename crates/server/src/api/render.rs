//! How records look on the wire, in both routings: the BIAN string properties under their
//! contract names, plus read-only extension properties (ids, version, timestamps).
//!
//! Responses are built from the domain records by the functions here; the schema types
//! below document the same shapes in the OpenAPI document, and a test keeps the two in step.

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use caseload_domain::{ChildKind, ChildRecord, Fields, Intervention, Plan, RecordMeta, Subject};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::extract::encode_token;

fn put_fields(out: &mut Map<String, Value>, fields: &Fields) {
    for (name, value) in fields.iter() {
        out.insert(name.to_owned(), Value::String(value.to_owned()));
    }
}

fn put_meta(out: &mut Map<String, Value>, meta: &RecordMeta) {
    out.insert("Version".into(), meta.version.get().into());
    out.insert("CreatedAt".into(), meta.created_at.to_rfc3339().into());
    out.insert("UpdatedAt".into(), meta.updated_at.to_rfc3339().into());
}

/// A plan as a JSON object.
pub fn plan(plan: &Plan) -> Map<String, Value> {
    let mut out = Map::new();
    put_fields(&mut out, &plan.fields);
    out.insert(
        "CustomerCaseManagementId".into(),
        plan.id.to_string().into(),
    );
    put_meta(&mut out, &plan.meta);
    out
}

/// The property naming a child record's own id.
pub fn id_property(kind: ChildKind) -> &'static str {
    match kind {
        ChildKind::Rules => "RulesId",
        ChildKind::Performance => "PerformanceId",
    }
}

/// A rule or performance record as a JSON object.
pub fn record(record: &ChildRecord) -> Map<String, Value> {
    let mut out = Map::new();
    put_fields(&mut out, &record.fields);
    out.insert(
        "CustomerCaseManagementId".into(),
        record.plan_id.to_string().into(),
    );
    out.insert(id_property(record.kind).into(), record.id.as_str().into());
    put_meta(&mut out, &record.meta);
    out
}

/// An intervention request as a JSON object: its wire type is the documented schema.
pub fn intervention(item: &Intervention) -> Map<String, Value> {
    let request = &item.request;
    let mut details = Map::new();
    put_fields(&mut details, &request.details);
    let shown = InterventionRequest {
        intervention_id: item.id.to_string(),
        customer_case_management_id: request.plan_id.to_string(),
        subject_type: request.subject.kind_name().to_owned(),
        subject_id: match &request.subject {
            Subject::Rules(id) | Subject::Performance(id) => Some(id.as_str().to_owned()),
            Subject::Plan => None,
        },
        reason: request.reason.clone(),
        requested_action: request.requested_action.clone(),
        details,
        requester: request.requester.clone(),
        status: item.status.as_str().to_owned(),
        version: item.meta.version.get(),
        created_at: item.meta.created_at.to_rfc3339(),
        updated_at: item.meta.updated_at.to_rfc3339(),
    };
    match serde_json::to_value(shown) {
        Ok(Value::Object(map)) => map,
        // Not reached: a struct of strings, numbers and a map serialises to an object.
        _ => Map::new(),
    }
}

/// A page of items as `{"Items": [...], "NextPageToken": "..."}`.
pub fn page(items: Vec<Map<String, Value>>, next_after: Option<String>) -> Response {
    let mut out = Map::new();
    out.insert(
        "Items".into(),
        Value::Array(items.into_iter().map(Value::Object).collect()),
    );
    if let Some(after) = next_after {
        out.insert("NextPageToken".into(), encode_token(&after).into());
    }
    Json(Value::Object(out)).into_response()
}

/// A single record with its `ETag` (and `Location`, when given).
pub fn one(
    status: StatusCode,
    meta: &RecordMeta,
    location: Option<String>,
    body: Map<String, Value>,
) -> Response {
    let mut headers = HeaderMap::new();
    if let Ok(tag) = HeaderValue::from_str(&meta.version.etag()) {
        headers.insert(header::ETAG, tag);
    }
    if let Some(location) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        headers.insert(header::LOCATION, location);
    }
    (status, headers, Json(Value::Object(body))).into_response()
}

/// Wraps a body under one property, as the BIAN Retrieve responses do.
pub fn wrapped(name: &str, body: Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert(name.to_owned(), Value::Object(body));
    out
}

// ---- Schemas for the OpenAPI document ----------------------------------------------------

/// Schema properties are optional but never null: absent values are left out.
fn is_absent<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// BIAN `CustomerCaseManagementPlan`, with caseload's read-only extension properties.
#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
#[schema(
    description = "Oversee the working of a business unit, assign work, manage against a plan and troubleshoot issues within Customer Case Management."
)]
pub struct CustomerCaseManagementPlan {
    /// The time period addressed by the management plan.
    #[schema(max_length = 4096)]
    #[serde(skip_serializing_if = "is_absent")]
    customer_case_management_plan_period: String,
    /// The specific policies and guidelines for case resolution employees.
    #[schema(max_length = 4096)]
    #[serde(skip_serializing_if = "is_absent")]
    customer_case_policies_and_guidelines: String,
    /// The target and actual service performance goals tracked by customer case management.
    #[schema(max_length = 4096)]
    #[serde(skip_serializing_if = "is_absent")]
    customer_case_service_performance_goals: String,
    /// The target and actual customer case service schedule.
    #[schema(max_length = 4096)]
    #[serde(skip_serializing_if = "is_absent")]
    customer_case_service_schedule: String,
    /// The set-up/organization for the customer case business function.
    #[schema(max_length = 4096)]
    #[serde(skip_serializing_if = "is_absent")]
    customer_case_service_operating_configuration: String,
    /// The number and skill/qualification profile of the case handling staff.
    #[schema(max_length = 4096)]
    #[serde(skip_serializing_if = "is_absent")]
    customer_case_resource_plan: String,
    /// Staff training and certification activity (planned and actual).
    #[schema(max_length = 4096)]
    #[serde(skip_serializing_if = "is_absent")]
    customer_case_training_plan: String,
    /// Extension: service-level targets per priority (`low`, `normal`, `high`, `urgent`), each
    /// `{"FirstResponseHours", "ResolutionHours", "AttainmentGoal"}`.
    #[schema(value_type = Object, nullable)]
    #[serde(skip_serializing_if = "is_absent")]
    service_level_targets: Value,
    /// Extension: `{"TimeZone": "Europe/Berlin", "WorkingHours": [{"Days": ["mon", ...],
    /// "From": "08:00", "To": "18:00"}], "Holidays": ["2026-12-25"]}`; SLA clocks run only in
    /// working time.
    #[schema(value_type = Object, nullable)]
    #[serde(skip_serializing_if = "is_absent")]
    business_calendar: Value,
    /// Extension: `{"Teams": [{"Team", "Agents", "ProductiveHoursPerDay", "Shrinkage", "Skills"}]}`.
    #[schema(value_type = Object, nullable)]
    #[serde(skip_serializing_if = "is_absent")]
    resource_plan: Value,
    /// Extension: the plan's id, minted by the service.
    #[schema(read_only)]
    #[serde(skip_serializing_if = "is_absent")]
    customer_case_management_id: String,
    /// Extension: intervention requests about this record that are still `open`.
    #[schema(read_only)]
    #[serde(skip_serializing_if = "is_absent")]
    open_interventions: i64,
    /// Extension: the record's version (also its `ETag`); 1 when created.
    #[schema(read_only)]
    #[serde(skip_serializing_if = "is_absent")]
    version: i64,
    /// Extension: when the record was created (RFC 3339, UTC).
    #[schema(read_only, format = DateTime)]
    #[serde(skip_serializing_if = "is_absent")]
    created_at: String,
    /// Extension: when the record last changed (RFC 3339, UTC).
    #[schema(read_only, format = DateTime)]
    #[serde(skip_serializing_if = "is_absent")]
    updated_at: String,
}

/// BIAN `Rules`: a case decision criterion, with read-only extension properties.
#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
#[schema(description = "A case resolution criterion (BIAN behaviour qualifier Rules).")]
pub struct Rules {
    /// Definition of the basis for customer case evaluation.
    #[schema(max_length = 4096)]
    #[serde(skip_serializing_if = "is_absent")]
    customer_case_decision_criterion: String,
    /// The subject/criterion considered in case evaluation.
    #[schema(max_length = 4096)]
    #[serde(skip_serializing_if = "is_absent")]
    customer_case_decision_criterion_definition: String,
    /// Specific rules, thresholds and parameter values applied in case evaluation.
    #[schema(max_length = 4096)]
    #[serde(skip_serializing_if = "is_absent")]
    customer_case_decision_criterion_rules: String,
    /// Sensitivity/tuning evaluations and adjustments made to the rule settings.
    #[schema(max_length = 4096)]
    #[serde(skip_serializing_if = "is_absent")]
    customer_case_decision_criterion_analysis: String,
    /// Sample case examples used to evaluate impact and re-calibrate the rules.
    #[schema(max_length = 4096)]
    #[serde(skip_serializing_if = "is_absent")]
    customer_case_decision_criterion_history: String,
    /// Extension: the plan's id.
    #[schema(read_only)]
    #[serde(skip_serializing_if = "is_absent")]
    customer_case_management_id: String,
    /// Extension: a boolean CEL expression over the case's facts and the `Parameters`,
    /// e.g. `amount <= limits.auto_refund && history.disputes_12m < 2`.
    #[schema(max_length = 2000, nullable)]
    #[serde(skip_serializing_if = "is_absent")]
    expression: String,
    /// Extension: named thresholds and values the expression refers to, e.g.
    /// `{"limits.auto_refund": 50}`. An Update patches them name by name (`null` removes one).
    #[schema(value_type = Object, nullable)]
    #[serde(skip_serializing_if = "is_absent")]
    parameters: Map<String, Value>,
    /// Extension: what a true result means, e.g. `auto_approve` or `route:fraud-team`.
    #[schema(nullable)]
    #[serde(skip_serializing_if = "is_absent")]
    decision: String,
    /// Extension: what a false result means.
    #[schema(nullable)]
    #[serde(skip_serializing_if = "is_absent")]
    otherwise: String,
    /// Extension: order among the plan's criteria, lower first (default 100).
    #[schema(nullable)]
    #[serde(skip_serializing_if = "is_absent")]
    priority: i64,
    /// Extension: the recorded cases (count, dates, outcome mix).
    #[schema(read_only, value_type = Object)]
    #[serde(skip_serializing_if = "is_absent")]
    history: Value,
    /// Extension: the latest back-test of proposed settings.
    #[schema(read_only, value_type = Object)]
    #[serde(skip_serializing_if = "is_absent")]
    analysis: Value,
    /// Extension: the criterion's id within the plan.
    #[schema(read_only)]
    #[serde(skip_serializing_if = "is_absent")]
    rules_id: String,
    /// Extension: intervention requests about this record that are still `open`.
    #[schema(read_only)]
    #[serde(skip_serializing_if = "is_absent")]
    open_interventions: i64,
    /// Extension: the record's version (also its `ETag`); 1 when created.
    #[schema(read_only)]
    #[serde(skip_serializing_if = "is_absent")]
    version: i64,
    /// Extension: when the record was created (RFC 3339, UTC).
    #[schema(read_only, format = DateTime)]
    #[serde(skip_serializing_if = "is_absent")]
    created_at: String,
    /// Extension: when the record last changed (RFC 3339, UTC).
    #[schema(read_only, format = DateTime)]
    #[serde(skip_serializing_if = "is_absent")]
    updated_at: String,
}

/// BIAN `Performance`: a unit performance analysis, with read-only extension properties.
#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
#[schema(description = "A unit performance analysis (BIAN behaviour qualifier Performance).")]
pub struct Performance {
    /// Case resolution resource utilization (target and actual).
    #[schema(max_length = 4096)]
    #[serde(skip_serializing_if = "is_absent")]
    customer_case_resource_utilization: String,
    /// Projected case resource requirements, utilization and loading.
    #[schema(max_length = 4096)]
    #[serde(skip_serializing_if = "is_absent")]
    customer_case_loading_projections: String,
    /// Tracked activity and performance statistics.
    #[schema(max_length = 4096)]
    #[serde(skip_serializing_if = "is_absent")]
    customer_case_resolution_service_statistics: String,
    /// The type of activity tracked and analysed.
    #[schema(max_length = 4096)]
    #[serde(skip_serializing_if = "is_absent")]
    customer_case_service_statistic_type: String,
    /// The statistical analysis, historical and trended.
    #[schema(max_length = 4096)]
    #[serde(skip_serializing_if = "is_absent")]
    customer_case_service_statistic_value: String,
    /// Root cause or comparative assessment of the analysis.
    #[schema(max_length = 4096)]
    #[serde(skip_serializing_if = "is_absent")]
    customer_case_service_statistic_interpretation: String,
    /// Amendments recommended by the analysis.
    #[schema(max_length = 4096)]
    #[serde(skip_serializing_if = "is_absent")]
    customer_case_service_statistic_recommendation: String,
    /// Extension: the plan's id.
    #[schema(read_only)]
    #[serde(skip_serializing_if = "is_absent")]
    customer_case_management_id: String,
    /// Extension: the performance record's id within the plan.
    #[schema(read_only)]
    #[serde(skip_serializing_if = "is_absent")]
    performance_id: String,
    /// Extension: the first instant of the window to compute over (RFC 3339); see `Window`
    /// for the defaults.
    #[schema(format = DateTime, nullable)]
    #[serde(skip_serializing_if = "is_absent")]
    window_start: String,
    /// Extension: the first instant after the window to compute over (RFC 3339).
    #[schema(format = DateTime, nullable)]
    #[serde(skip_serializing_if = "is_absent")]
    window_end: String,
    /// Extension: break the headline figure down by `Category`, `Priority`, `Team` or
    /// `Channel`.
    #[schema(nullable)]
    #[serde(skip_serializing_if = "is_absent")]
    breakdown: String,
    /// Extension, computed when `CustomerCaseServiceStatisticType` names a statistic the
    /// service computes: the window used, `{"Start", "End"}`.
    #[schema(read_only, value_type = Object)]
    #[serde(skip_serializing_if = "is_absent")]
    window: Value,
    /// Extension, computed: every figure of the window, typed (counts, durations in
    /// business hours, backlog aging, service levels, rates, effort, utilization, profit and
    /// loss, trend, breakdown).
    #[schema(read_only, value_type = Object)]
    #[serde(skip_serializing_if = "is_absent")]
    statistics: Value,
    /// Extension: text a client wrote into a BIAN string the service computes, kept as
    /// written, by property name.
    #[schema(read_only, value_type = Object)]
    #[serde(skip_serializing_if = "is_absent")]
    annotations: Value,
    /// Extension: intervention requests about this record that are still `open`.
    #[schema(read_only)]
    #[serde(skip_serializing_if = "is_absent")]
    open_interventions: i64,
    /// Extension: the record's version (also its `ETag`); 1 when created.
    #[schema(read_only)]
    #[serde(skip_serializing_if = "is_absent")]
    version: i64,
    /// Extension: when the record was created (RFC 3339, UTC).
    #[schema(read_only, format = DateTime)]
    #[serde(skip_serializing_if = "is_absent")]
    created_at: String,
    /// Extension: when the record last changed (RFC 3339, UTC).
    #[schema(read_only, format = DateTime)]
    #[serde(skip_serializing_if = "is_absent")]
    updated_at: String,
}

/// BIAN `RetrieveCustomerCaseManagementPlanResponse`.
#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
#[schema(
    description = "Output: ReCR Retrieve details about the customer case handling management plan"
)]
pub struct RetrieveCustomerCaseManagementPlanResponse {
    customer_case_management_plan: CustomerCaseManagementPlan,
}

/// BIAN `RetrieveRulesResponse`.
#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
#[schema(description = "Output: ReBQ Retrieve details about the customer case criterion")]
pub struct RetrieveRulesResponse {
    rules: Rules,
}

/// BIAN `RetrievePerformanceResponse`.
#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
#[schema(
    description = "Output: ReBQ Retrieve details about business unit performance assessment activity"
)]
pub struct RetrievePerformanceResponse {
    performance: Performance,
}

/// The response of a BIAN `Request`: the record the intervention is about, plus the new
/// intervention's id.
#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct InterventionRef {
    /// Extension: the id of the intervention request just recorded.
    #[schema(read_only)]
    #[serde(skip_serializing_if = "is_absent")]
    intervention_id: String,
}

/// A manual intervention request (REST facade).
// What the facade's request routes return is serialised from this struct, which is also its
// schema in the document.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct InterventionRequest {
    #[schema(read_only)]
    intervention_id: String,
    #[schema(read_only)]
    customer_case_management_id: String,
    /// `plan`, `rules` or `performance`.
    #[schema(read_only)]
    subject_type: String,
    /// The rule or performance id, when the subject is one.
    #[schema(read_only, value_type = String)]
    #[serde(skip_serializing_if = "Option::is_none")]
    subject_id: Option<String>,
    /// Why intervention is needed.
    #[schema(value_type = String)]
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    /// What the requester wants done.
    #[schema(value_type = String)]
    #[serde(skip_serializing_if = "Option::is_none")]
    requested_action: Option<String>,
    /// BIAN properties of the subject that the request is about.
    #[schema(value_type = Object)]
    details: Map<String, Value>,
    /// Who asked.
    #[schema(read_only)]
    requester: String,
    /// `open`, `acknowledged`, `resolved` or `rejected`.
    #[schema(read_only)]
    status: String,
    /// Extension: the record's version (also its `ETag`); 1 when created.
    #[schema(read_only)]
    version: i64,
    /// Extension: when the record was created (RFC 3339, UTC).
    #[schema(read_only, format = DateTime)]
    created_at: String,
    /// Extension: when the record last changed (RFC 3339, UTC).
    #[schema(read_only, format = DateTime)]
    updated_at: String,
}

macro_rules! page_schema {
    ($name:ident, $item:ty, $doc:literal) => {
        #[doc = $doc]
        #[allow(dead_code)]
        #[derive(Serialize, ToSchema)]
        #[serde(rename_all = "PascalCase")]
        pub struct $name {
            /// The items of this page.
            items: Vec<$item>,
            /// Pass as `page_token` to get the next page; absent on the last page.
            #[serde(skip_serializing_if = "is_absent")]
            next_page_token: String,
        }
    };
}

page_schema!(PlanPage, CustomerCaseManagementPlan, "A page of plans.");
page_schema!(RulesPage, Rules, "A page of case decision criteria.");
page_schema!(
    PerformancePage,
    Performance,
    "A page of performance records."
);
page_schema!(
    InterventionPage,
    InterventionRequest,
    "A page of intervention requests, newest first."
);

#[cfg(test)]
mod tests {
    use caseload_domain::RecordKind;
    use utoipa::PartialSchema;
    use utoipa::openapi::{RefOr, Schema};

    use super::*;

    fn property_names<T: PartialSchema>() -> Vec<String> {
        match T::schema() {
            RefOr::T(Schema::Object(object)) => object.properties.keys().cloned().collect(),
            _ => panic!("an object schema"),
        }
    }

    fn assert_in_step(kind: RecordKind, documented: Vec<String>) {
        let read_only = RecordKind::read_only_names();
        let criterion = caseload_domain::criterion::CriterionSettings::PROPERTIES;
        let plan = caseload_domain::plan::PROPERTIES;
        let performance = caseload_domain::analytics::PerformanceSettings::PROPERTIES;
        let writable: Vec<&str> = documented
            .iter()
            .map(String::as_str)
            .filter(|name| {
                !read_only.contains(name)
                    && !criterion.contains(name)
                    && !plan.contains(name)
                    && !performance.contains(name)
            })
            .collect();
        let mut expected = kind.field_names().to_vec();
        expected.sort_unstable();
        let mut writable = writable;
        writable.sort_unstable();
        assert_eq!(
            writable, expected,
            "{kind:?}: documented properties differ from the BIAN fields"
        );
    }

    #[test]
    fn the_documented_schemas_list_exactly_the_bian_properties_each_kind_accepts() {
        assert_in_step(
            RecordKind::Plan,
            property_names::<CustomerCaseManagementPlan>(),
        );
        assert_in_step(RecordKind::Rules, property_names::<Rules>());
        assert_in_step(RecordKind::Performance, property_names::<Performance>());
    }
}
