//! How the service's views are shown over HTTP: a plan or record with what the service
//! computes about it (open intervention requests and, for a criterion, its settings, readable
//! rules, recorded-case history and latest back-test; for a Performance record its figures),
//! recorded evaluations and back-tests.
//!
//! A BIAN string the client wrote is shown as written; where the client wrote none, the
//! service's rendering of the typed data fills it.

use caseload_domain::{BacktestRecord, EvaluationRecord};
use caseload_service::{PlanView, RecordDetails, RecordView, Shown};
use serde_json::{Map, Value, json};

use super::render;

/// A plan as shown: with its goals, calendar and resource plan, rendered into the BIAN
/// strings the client left empty.
pub fn plan(view: &PlanView) -> Map<String, Value> {
    let plan = &view.plan;
    let settings = &view.settings;
    let mut out = render::plan(plan);
    out.insert("OpenInterventions".into(), view.open_interventions.into());
    out.insert("BusinessUnit".into(), plan.business_unit.clone().into());
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

/// A rule or performance record as shown.
pub fn record(view: &RecordView) -> Map<String, Value> {
    let mut out = render::record(&view.record);
    out.insert("OpenInterventions".into(), view.open_interventions.into());
    match &view.details {
        RecordDetails::Performance { settings, figures } => {
            out.extend(settings.to_json());
            if let Some(figures) = figures {
                show_figures(&mut out, figures);
            }
        }
        RecordDetails::Rules {
            settings,
            history,
            latest_backtest,
        } => {
            out.extend(settings.to_json());
            fill(
                &mut out,
                "CustomerCaseDecisionCriterionRules",
                settings.readable(),
            );
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
            if let Some(latest) = latest_backtest {
                fill(
                    &mut out,
                    "CustomerCaseDecisionCriterionAnalysis",
                    Some(latest.backtest.summary.clone()),
                );
                out.insert("Analysis".into(), Value::Object(backtest(latest)));
            }
        }
    }
    out
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

fn fill(out: &mut Map<String, Value>, name: &str, computed: Option<String>) {
    if !out.contains_key(name)
        && let Some(text) = computed
    {
        out.insert(name.to_owned(), text.into());
    }
}

/// A recorded evaluation as JSON.
pub fn evaluation(record: &EvaluationRecord) -> Map<String, Value> {
    let e = &record.evaluation;
    let mut out = match &e.explanation {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    out.insert("EvaluationId".into(), record.id.to_string().into());
    out.insert(
        "CustomerCaseManagementId".into(),
        e.plan_id.to_string().into(),
    );
    out.insert("RulesId".into(), e.rules_id.as_str().into());
    out.insert("RulesVersion".into(), e.rules_version.get().into());
    if let Some(case) = &e.case_id {
        out.insert("CaseId".into(), case.as_str().into());
    }
    out.insert("Facts".into(), e.facts.clone());
    if let Some(amount) = &e.amount {
        out.insert("Amount".into(), amount.to_json());
    }
    if let Some(outcome) = &record.outcome {
        out.insert("Outcome".into(), outcome.as_str().into());
    }
    if let Some(at) = record.outcome_at {
        out.insert("OutcomeAt".into(), at.to_rfc3339().into());
    }
    out.insert("EvaluatedBy".into(), e.evaluated_by.as_str().into());
    out.insert(
        "EvaluatedAt".into(),
        record.evaluated_at.to_rfc3339().into(),
    );
    out
}

/// A stored back-test as JSON.
pub fn backtest(record: &BacktestRecord) -> Map<String, Value> {
    let b = &record.backtest;
    let mut out = Map::new();
    out.insert("BacktestId".into(), record.id.to_string().into());
    out.insert("RulesId".into(), b.rules_id.as_str().into());
    out.insert("RulesVersion".into(), b.rules_version.get().into());
    out.insert("Proposal".into(), b.proposal.clone());
    out.insert("Report".into(), b.report.clone());
    out.insert("Summary".into(), b.summary.as_str().into());
    out.insert("RunBy".into(), b.run_by.as_str().into());
    out.insert("RunAt".into(), record.run_at.to_rfc3339().into());
    out
}
