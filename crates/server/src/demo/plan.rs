//! The demo's records, written as a client would write them and checked by the same parsers
//! as the API's: the plan (BIAN strings plus typed `ServiceLevelTargets`, `BusinessCalendar`
//! and `ResourcePlan`), one decision criterion with an expression, and one performance
//! record per statistic type.

use anyhow::Context as _;
use caseload_domain::criterion::CriterionSettings;
use caseload_domain::plan::{self, BusinessCalendar, PlanSettings};
use caseload_domain::{
    Change, ChildKind, Fields, Plan, RecordId, RecordKind, Timestamp, WriteMode,
};
use caseload_store::Database;
use serde_json::{Map, Value as Json, json};

use super::model::{CATEGORIES, TEAMS};
use super::stream::{CaseStream, StreamSpec};

/// Who the demo's records are written by.
pub(super) const ACTOR: &str = "caseload-demo";

/// The id of the demo's decision criterion.
pub const CRITERION_ID: &str = "auto-refund";

/// The statistic types of performance records, one record each, named by its type.
pub const STATISTIC_TYPES: [&str; 10] = [
    "throughput",
    "backlog",
    "first-response-time",
    "resolution-time",
    "effort-per-case",
    "sla-attainment",
    "reopen-rate",
    "appeal-rate",
    "utilization",
    "profit-loss",
];

/// The calendar of the demo: Europe/Berlin, Monday to Friday 08:00–18:00, closed on the
/// German national holidays that fall on a fixed date, in every year the history touches
/// and the next.
pub fn calendar_json(start: Timestamp, end: Timestamp) -> Json {
    let holidays: Vec<String> = (year(start)..=year(end) + 1)
        .flat_map(|y| ["01-01", "05-01", "10-03", "12-25", "12-26"].map(|d| format!("{y}-{d}")))
        .collect();
    json!({
        "TimeZone": "Europe/Berlin",
        "WorkingHours": [
            {"Days": ["mon", "tue", "wed", "thu", "fri"], "From": "08:00", "To": "18:00"}
        ],
        "Holidays": holidays,
    })
}

/// The demo calendar, parsed.
pub fn calendar(start: Timestamp, end: Timestamp) -> anyhow::Result<BusinessCalendar> {
    BusinessCalendar::from_json(&calendar_json(start, end)).context("the demo calendar")
}

fn year(at: Timestamp) -> i32 {
    at.to_rfc3339()
        .get(..4)
        .and_then(|y| y.parse().ok())
        .unwrap_or(1970)
}

fn date(at: Timestamp) -> String {
    at.to_rfc3339().chars().take(10).collect()
}

/// The plan as a `Create` body.
pub fn plan_body(spec: &StreamSpec, stream: &CaseStream) -> Map<String, Json> {
    let teams: Vec<Json> = TEAMS
        .iter()
        .zip(stream.agents())
        .enumerate()
        .map(|(t, (team, agents))| {
            let skills: Vec<&str> = CATEGORIES
                .iter()
                .filter(|c| c.team == t)
                .map(|c| c.name)
                .collect();
            json!({
                "Team": team.name,
                "Agents": agents,
                "ProductiveHoursPerDay": team.productive_hours_per_day,
                "Shrinkage": team.shrinkage,
                "Skills": skills,
            })
        })
        .collect();
    let body = json!({
        "CustomerCaseManagementPlanPeriod": format!(
            "{} to {} (demo: last {} days)", date(stream.start()), date(spec.end), spec.days
        ),
        "CustomerCasePoliciesAndGuidelines": format!(
            "Demo data from `caseload demo --seed {} --events {} --days {}`: generated cases, \
             no real customers. Chargebacks go to disputes, billing and account complaints to \
             complaints, card claims to claims, suspected fraud to fraud.",
            spec.seed, spec.events, spec.days
        ),
        "CustomerCaseServiceOperatingConfiguration":
            "Cases arrive by email, phone, chat and branch; they are assigned within minutes of \
             working time, answered within hours and resolved within days; small disputed \
             amounts are refunded automatically (criterion auto-refund).",
        "ServiceLevelTargets": {
            "low": {"FirstResponseHours": 24, "ResolutionHours": 80, "AttainmentGoal": 0.8},
            "normal": {"FirstResponseHours": 8, "ResolutionHours": 40, "AttainmentGoal": 0.9},
            "high": {"FirstResponseHours": 4, "ResolutionHours": 24, "AttainmentGoal": 0.9},
            "urgent": {"FirstResponseHours": 1, "ResolutionHours": 8, "AttainmentGoal": 0.95},
        },
        "BusinessCalendar": calendar_json(stream.start(), spec.end),
        "ResourcePlan": {"Teams": teams},
    });
    body.as_object().cloned().unwrap_or_default()
}

/// The decision criterion as an `Update` body.
pub fn criterion_body() -> Map<String, Json> {
    let body = json!({
        "CustomerCaseDecisionCriterion": "Automatic refund of small disputed amounts",
        "CustomerCaseDecisionCriterionDefinition":
            "Refund without review when the amount in dispute is at most the auto-refund limit \
             and the customer opened fewer than two disputes in the last twelve months; \
             otherwise escalate to the disputes team.",
        "Expression": "amount <= limits.auto_refund && history.disputes_12m < 2",
        "Parameters": {"limits.auto_refund": 50},
        "Decision": "auto_approve",
        "Otherwise": "escalate",
    });
    body.as_object().cloned().unwrap_or_default()
}

/// Creates the plan, its criterion and its performance records, each checked as the API
/// checks a client's.
pub async fn create(
    db: &dyn Database,
    spec: &StreamSpec,
    stream: &CaseStream,
) -> anyhow::Result<Plan> {
    let body = plan_body(spec, stream);
    let fields = Fields::parse(RecordKind::Plan, &body, &plan::PROPERTIES)?;
    let settings = PlanSettings::from_json(&body)?;
    let plan = db
        .create_plan(
            fields,
            settings.to_json(),
            crate::auth::DEFAULT_UNIT.to_owned(),
            ACTOR.to_owned(),
        )
        .await
        .context("creating the demo plan")?;

    let body = criterion_body();
    let fields = Fields::parse(RecordKind::Rules, &body, CriterionSettings::PROPERTIES)?;
    let settings = CriterionSettings::from_json(&body)?;
    settings.compile()?;
    let change = Change {
        extensions: Some(settings.to_json()),
        ..Change::fields(fields, WriteMode::Replace, None, ACTOR)
    };
    db.put_record(
        ChildKind::Rules,
        plan.id,
        RecordId::parse(CRITERION_ID)?,
        change,
    )
    .await
    .context("creating the demo criterion")?;

    for statistic in STATISTIC_TYPES {
        let body = json!({"CustomerCaseServiceStatisticType": statistic});
        let body = body.as_object().cloned().unwrap_or_default();
        let fields = Fields::parse(RecordKind::Performance, &body, &[])?;
        let change = Change::fields(fields, WriteMode::Replace, None, ACTOR);
        db.put_record(
            ChildKind::Performance,
            plan.id,
            RecordId::parse(statistic)?,
            change,
        )
        .await
        .with_context(|| format!("creating the demo performance record {statistic}"))?;
    }
    Ok(plan)
}
