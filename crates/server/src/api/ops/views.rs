//! How records are shown: the stored record, plus what the service computes about it — open
//! intervention requests and, for a criterion, its settings, readable rules, recorded-case
//! history and latest back-test.
//!
//! A BIAN string the client wrote is shown as written; where the client wrote none, the
//! service's rendering of the typed data fills it.

use caseload_domain::analytics::{
    StatisticType, Statistics, Window, headline, interpretation, readable_statistics,
    readable_utilization, recommendation,
};
use caseload_domain::forecast::{Projections, readable_projections};
use caseload_domain::plan::PlanSettings;
use caseload_domain::{ChildKind, ChildRecord, Plan, Subject, Timestamp};
use serde_json::{Map, Value, json};

use super::AppState;
use super::criteria::{backtest_json, stored_settings};
use super::performance::{self, Shown};
use crate::api::error::ApiError;
use crate::api::render;

/// A plan as shown.
pub async fn plan(state: &AppState, plan: &Plan) -> Result<Map<String, Value>, ApiError> {
    let open = state.db.open_interventions(plan.id, Subject::Plan).await?;
    Ok(plan_with(plan, open))
}

/// A plan as shown, given its count of open intervention requests: with its goals, calendar
/// and resource plan, rendered into the BIAN strings the client left empty.
pub fn plan_with(plan: &Plan, open_interventions: i64) -> Map<String, Value> {
    let mut out = render::plan(plan);
    out.insert("OpenInterventions".into(), open_interventions.into());
    out.insert("BusinessUnit".into(), plan.business_unit.clone().into());
    let settings = super::plan_settings(plan);
    fill(
        &mut out,
        "CustomerCaseServicePerformanceGoals",
        settings.readable_performance_goals(),
    );
    fill(
        &mut out,
        "CustomerCaseServiceSchedule",
        settings.readable_schedule(),
    );
    fill(
        &mut out,
        "CustomerCaseResourcePlan",
        settings.readable_resource_plan(),
    );
    out.extend(settings.to_json());
    out
}

/// Reads a plan as shown, in one read.
pub async fn read_plan(
    state: &AppState,
    id: caseload_domain::PlanId,
) -> Result<(Plan, Map<String, Value>), ApiError> {
    let (plan, open) = state.db.plan_with_open_interventions(id).await?;
    let shown = plan_with(&plan, open);
    Ok((plan, shown))
}

/// Renders computed figures as a record shows them: the BIAN strings, the typed `Window` and
/// `Statistics`. The typed projections (a team's 168 hourly intervals each, most of a record's
/// size) are served by `/projections` only; the record carries them in words
/// (`CustomerCaseLoadingProjections`).
pub(super) fn shown(
    kind: StatisticType,
    window: Window,
    s: &Statistics,
    settings: &PlanSettings,
    projections: &Projections,
) -> performance::Shown {
    let strings = vec![
        ("CustomerCaseServiceStatisticValue", headline(kind, s).1),
        (
            "CustomerCaseResolutionServiceStatistics",
            readable_statistics(s),
        ),
        ("CustomerCaseResourceUtilization", readable_utilization(s)),
        (
            "CustomerCaseServiceStatisticInterpretation",
            interpretation(kind, s, settings),
        ),
        (
            "CustomerCaseServiceStatisticRecommendation",
            recommendation(kind, s, settings),
        ),
        (
            "CustomerCaseLoadingProjections",
            readable_projections(projections),
        ),
    ];
    performance::Shown {
        strings,
        window: json!({
            "Start": window.start().to_rfc3339(),
            "End": window.end().to_rfc3339(),
        }),
        statistics: to_json(s),
    }
}

/// Shows computed figures: the BIAN strings rendered from them, a client's own text for any of
/// those strings kept under `Annotations`, and the typed `Window` and `Statistics`.
fn show_figures(out: &mut Map<String, Value>, shown: &Shown) {
    let mut annotations = Map::new();
    for (name, text) in &shown.strings {
        if let Some(written) = out.insert((*name).to_owned(), text.clone().into()) {
            annotations.insert((*name).to_owned(), written);
        }
    }
    if !annotations.is_empty() {
        out.insert("Annotations".into(), Value::Object(annotations));
    }
    out.insert("Window".into(), shown.window.clone());
    out.insert("Statistics".into(), shown.statistics.clone());
}

fn to_json(value: &impl serde::Serialize) -> Value {
    // Plain structs of numbers, strings and maps with string keys always serialise.
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn fill(out: &mut Map<String, Value>, name: &str, computed: Option<String>) {
    if !out.contains_key(name)
        && let Some(text) = computed
    {
        out.insert(name.to_owned(), text.into());
    }
}

/// A rule or performance record as shown.
pub async fn record(
    state: &AppState,
    record: &ChildRecord,
) -> Result<Map<String, Value>, ApiError> {
    let mut out = render::record(record);
    let subject = match record.kind {
        ChildKind::Rules => Subject::Rules(record.id.clone()),
        ChildKind::Performance => Subject::Performance(record.id.clone()),
    };
    let open = state.db.open_interventions(record.plan_id, subject).await?;
    out.insert("OpenInterventions".into(), open.into());
    if record.kind == ChildKind::Performance {
        out.extend(performance::stored_settings(record).to_json());
        if let Some(figures) = state
            .analyst
            .figures(state, record, Timestamp::now())
            .await?
        {
            show_figures(&mut out, &figures);
        }
    }
    if record.kind == ChildKind::Rules {
        let settings = stored_settings(record);
        out.extend(settings.to_json());
        fill(
            &mut out,
            "CustomerCaseDecisionCriterionRules",
            settings.readable(),
        );

        let history = state
            .db
            .history_summary(record.plan_id, record.id.clone())
            .await?;
        fill(
            &mut out,
            "CustomerCaseDecisionCriterionHistory",
            history.readable(),
        );
        out.insert(
            "History".into(),
            json!({
                "RecordedCases": history.count,
                "From": history.first.map(|t| t.to_rfc3339()),
                "To": history.last.map(|t| t.to_rfc3339()),
                "Outcomes": history.outcomes.iter().map(|(o, n)| json!({"Outcome": o, "Cases": n})).collect::<Vec<_>>(),
            }),
        );

        if let Some(latest) = state
            .db
            .latest_backtest(record.plan_id, record.id.clone())
            .await?
        {
            fill(
                &mut out,
                "CustomerCaseDecisionCriterionAnalysis",
                Some(latest.backtest.summary.clone()),
            );
            out.insert("Analysis".into(), Value::Object(backtest_json(&latest)));
        }
    }
    Ok(out)
}
