//! Criteria that run: settings validated against what is stored, cases evaluated with an
//! explanation (one criterion or all of a plan's in priority order), outcomes attached, and
//! proposed settings back-tested against the recorded cases.

use std::time::Duration;

use caseload_domain::criterion::{
    Backtest, BacktestCase, CriterionSettings, Evaluation, EvaluationError, Expression,
};
use caseload_domain::{
    Amount, BacktestRecord, ChildKind, ChildRecord, EvaluationId, EvaluationRecord, NewBacktest,
    NewEvaluation, Page, PageRequest, PageSize, PlanId, RecordId, WriteMode,
};
use serde_json::{Map, Value, json};

use crate::input::{only, optional_text};
use crate::{Actor, Service, ServiceError, stored};

/// Longest an evaluation (or a back-test) may run. Static limits already bound the cost;
/// this is the backstop that keeps a worker from ever being held.
const EVALUATION_BUDGET: Duration = Duration::from_secs(2);
const BACKTEST_BUDGET: Duration = Duration::from_secs(20);
/// Most recorded cases a back-test replays (the most recent ones).
pub const BACKTEST_CASES: u32 = 10_000;
/// Most criteria a plan-wide evaluation considers.
const PLAN_CRITERIA: usize = 500;

fn invalid(err: impl std::fmt::Display) -> ServiceError {
    ServiceError::invalid(err.to_string())
}

/// The settings a write would leave, validated: the expression must compile against the
/// parameters it will have.
pub fn settings_after(
    current: Option<&ChildRecord>,
    body: &Map<String, Value>,
    mode: WriteMode,
) -> Result<CriterionSettings, ServiceError> {
    let before = current.map(stored::criterion_settings).transpose()?;
    let next = match (mode, &before) {
        (WriteMode::Merge, Some(settings)) => settings.patched(body),
        _ => CriterionSettings::from_json(body),
    }
    .map_err(invalid)?;
    next.compile().map_err(invalid)?;
    // A name that stops being a parameter would silently become a fact the expression reads:
    // refuse removing a parameter the unchanged expression uses.
    if let Some(before) =
        before.filter(|b| b.expression.is_some() && b.expression == next.expression)
        && let Ok(Some(expression)) = before.compile()
        && let Some(gone) = expression
            .parameter_names()
            .iter()
            .find(|p| next.parameters.get(p).is_none())
    {
        return Err(ServiceError::invalid(format!(
            "property 'Parameters': '{gone}' is used by the Expression; change the Expression first"
        )));
    }
    Ok(next)
}

/// Runs CPU-bound criterion work off the async workers, within a time budget.
async fn bounded<T: Send + 'static>(
    budget: Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ServiceError> {
    match tokio::time::timeout(budget, tokio::task::spawn_blocking(work)).await {
        Ok(Ok(result)) => Ok(result),
        Ok(Err(err)) => Err(ServiceError::Internal(format!(
            "criterion work failed: {err}"
        ))),
        Err(_) => Err(ServiceError::OverBudget(format!(
            "the evaluation did not finish within {} s and was abandoned",
            budget.as_secs()
        ))),
    }
}

fn compiled(record: &ChildRecord) -> Result<(CriterionSettings, Expression), ServiceError> {
    let settings = stored::criterion_settings(record)?;
    let expression = settings.compile().map_err(invalid)?.ok_or_else(|| {
        ServiceError::StateConflict(format!(
            "rules '{}' has no Expression to evaluate; set one with an Update first",
            record.id
        ))
    })?;
    Ok((settings, expression))
}

fn evaluation_error(err: EvaluationError) -> ServiceError {
    ServiceError::invalid(err.to_string())
}

/// An evaluation as JSON, with its explanation in words.
pub fn evaluation_json(
    settings: &CriterionSettings,
    evaluation: &Evaluation,
) -> Map<String, Value> {
    let decision = if evaluation.result {
        settings.decision.clone()
    } else {
        settings.otherwise.clone()
    };
    let conditions: Vec<Value> = evaluation
        .conditions
        .iter()
        .map(|c| json!({"Condition": c.source, "Value": c.value, "Held": c.held}))
        .collect();
    let used: Vec<String> = evaluation
        .facts_used
        .iter()
        .chain(evaluation.parameters_used.iter())
        .map(|(name, value)| format!("{name} = {value}"))
        .collect();
    let mut text: Vec<String> = evaluation
        .conditions
        .iter()
        .map(|c| format!("{} is {}", c.source, c.value))
        .collect();
    text.push(format!(
        "so the criterion is {}{}",
        evaluation.result,
        decision
            .as_deref()
            .map(|d| format!(": {d}"))
            .unwrap_or_default()
    ));
    let mut out = Map::new();
    out.insert("Result".into(), evaluation.result.into());
    if let Some(decision) = decision {
        out.insert("Decision".into(), decision.into());
    }
    out.insert("Conditions".into(), Value::Array(conditions));
    out.insert(
        "FactsUsed".into(),
        Value::Object(evaluation.facts_used.clone().into_iter().collect()),
    );
    out.insert(
        "ParametersUsed".into(),
        Value::Object(evaluation.parameters_used.clone().into_iter().collect()),
    );
    out.insert(
        "Explanation".into(),
        format!(
            "{} (with {}).",
            text.join("; "),
            if used.is_empty() {
                "no inputs".to_owned()
            } else {
                used.join(", ")
            }
        )
        .into(),
    );
    out
}

/// What the client asked to evaluate.
struct CaseInput {
    facts: Value,
    record: bool,
    case_id: Option<String>,
    amount: Option<Amount>,
}

fn case_input(body: &Map<String, Value>, recordable: bool) -> Result<CaseInput, ServiceError> {
    let allowed: &[&str] = if recordable {
        &["Facts", "Record", "CaseId", "Amount"]
    } else {
        &["Facts"]
    };
    only(body, allowed)?;
    let facts = match body.get("Facts") {
        Some(Value::Object(_)) => body["Facts"].clone(),
        Some(_) => {
            return Err(ServiceError::invalid(
                "property 'Facts' must be an object of the case's facts",
            ));
        }
        None => {
            return Err(ServiceError::invalid(
                "property 'Facts' is required: the case's facts as an object",
            ));
        }
    };
    let record = match body.get("Record") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(ServiceError::invalid(
                "property 'Record' must be true or false",
            ));
        }
    };
    let case_id = optional_text(body, "CaseId")?;
    if case_id.as_ref().is_some_and(|c| c.chars().count() > 200) {
        return Err(ServiceError::invalid(
            "property 'CaseId' is longer than 200 characters",
        ));
    }
    let amount = match body.get("Amount") {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            Amount::parse(value)
                .map_err(|e| ServiceError::invalid(format!("property 'Amount': {e}")))?,
        ),
    };
    Ok(CaseInput {
        facts,
        record,
        case_id,
        amount,
    })
}

/// A case evaluated against one criterion.
#[derive(Debug, Clone)]
pub enum Evaluated {
    /// Not recorded: the result, decision, inputs used and explanation.
    Unrecorded(Map<String, Value>),
    /// Recorded in the criterion's history.
    Recorded(Box<EvaluationRecord>),
}

impl Service {
    /// A criterion's recorded evaluations, newest first.
    pub async fn evaluations(
        &self,
        plan: PlanId,
        rules: RecordId,
        page: PageRequest,
    ) -> Result<Page<EvaluationRecord>, ServiceError> {
        Ok(self.db.evaluations(plan, rules, page).await?)
    }

    /// Evaluates a case against one criterion; records it when asked (`"Record": true`).
    pub async fn evaluate(
        &self,
        plan: PlanId,
        rules: RecordId,
        body: &Map<String, Value>,
        actor: Actor,
    ) -> Result<Evaluated, ServiceError> {
        let input = case_input(body, true)?;
        let record = self
            .db
            .record(ChildKind::Rules, plan, rules.clone())
            .await?;
        let (settings, expression) = compiled(&record)?;
        let facts = input.facts.clone();
        let params = settings.parameters.clone();
        let evaluation = bounded(EVALUATION_BUDGET, move || {
            expression.evaluate(&params, &facts)
        })
        .await?
        .map_err(evaluation_error)?;
        let mut out = evaluation_json(&settings, &evaluation);
        out.insert("RulesId".into(), rules.as_str().into());
        out.insert("RulesVersion".into(), record.meta.version.get().into());
        if !input.record {
            return Ok(Evaluated::Unrecorded(out));
        }
        let stored = actor
            .scoped(
                self.db.record_evaluation(NewEvaluation {
                    plan_id: plan,
                    rules_id: rules,
                    rules_version: record.meta.version,
                    case_id: input.case_id,
                    facts: input.facts,
                    result: evaluation.result,
                    decision: out
                        .get("Decision")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    explanation: Value::Object(out.clone()),
                    amount: input.amount,
                    evaluated_by: actor.subject.clone(),
                }),
            )
            .await?;
        Ok(Evaluated::Recorded(Box::new(stored)))
    }

    /// Evaluates a case against every criterion of a plan that has an expression, in priority
    /// order (then id); the first true criterion with a decision decides.
    pub async fn evaluate_plan(
        &self,
        plan: PlanId,
        body: &Map<String, Value>,
    ) -> Result<Map<String, Value>, ServiceError> {
        let input = case_input(body, false)?;
        let mut criteria = Vec::new();
        let mut after = None;
        loop {
            let size = PageSize::parse(Some(caseload_domain::page::MAX_PAGE_SIZE))?;
            let page = self
                .db
                .records(ChildKind::Rules, plan, PageRequest { after, size })
                .await?;
            for record in page.items {
                if stored::criterion_settings(&record)?.expression.is_some() {
                    criteria.push(record);
                }
            }
            match page.next_after {
                Some(next) if criteria.len() < PLAN_CRITERIA => after = Some(next),
                _ => break,
            }
        }
        let mut compiled_criteria = Vec::new();
        for record in &criteria {
            let (settings, expression) = compiled(record)?;
            compiled_criteria.push((record.id.clone(), settings, expression));
        }
        compiled_criteria.sort_by(|a, b| {
            a.1.priority()
                .cmp(&b.1.priority())
                .then_with(|| a.0.cmp(&b.0))
        });
        let facts = input.facts;
        let results = bounded(EVALUATION_BUDGET, move || {
            compiled_criteria
                .into_iter()
                .map(|(id, settings, expression)| {
                    let result = expression.evaluate(&settings.parameters, &facts);
                    (id, settings, result)
                })
                .collect::<Vec<_>>()
        })
        .await?;
        let missing: Vec<String> = results
            .iter()
            .filter_map(|(id, _, r)| match r {
                Err(EvaluationError::MissingFacts(names)) => {
                    Some(format!("{} (rules '{id}')", names.join(", ")))
                }
                _ => None,
            })
            .collect();
        if !missing.is_empty() {
            return Err(ServiceError::invalid(format!(
                "missing facts: {}",
                missing.join("; ")
            )));
        }
        let mut decided: Option<(String, String)> = None;
        let mut rows = Vec::new();
        for (id, settings, result) in results {
            let evaluation =
                result.map_err(|e| ServiceError::invalid(format!("rules '{id}': {e}")))?;
            if decided.is_none()
                && evaluation.result
                && let Some(decision) = &settings.decision
            {
                decided = Some((decision.clone(), id.to_string()));
            }
            let mut row = evaluation_json(&settings, &evaluation);
            row.insert("RulesId".into(), id.as_str().into());
            row.insert("Priority".into(), settings.priority().into());
            rows.push(Value::Object(row));
        }
        let mut out = Map::new();
        match decided {
            Some((decision, by)) => {
                out.insert("Decision".into(), decision.into());
                out.insert("DecidedBy".into(), by.into());
            }
            None => {
                out.insert("Decision".into(), Value::Null);
            }
        }
        out.insert("Criteria".into(), Value::Array(rows));
        Ok(out)
    }

    /// Attaches what actually happened to a recorded evaluation.
    pub async fn attach_outcome(
        &self,
        plan: PlanId,
        rules: RecordId,
        id: EvaluationId,
        body: &Map<String, Value>,
        actor: Actor,
    ) -> Result<EvaluationRecord, ServiceError> {
        only(body, &["Outcome", "Amount"])?;
        let outcome = optional_text(body, "Outcome")?
            .filter(|o| !o.trim().is_empty() && o.chars().count() <= 100 && !o.chars().any(char::is_control))
            .ok_or_else(|| ServiceError::invalid("property 'Outcome' is required: 1 to 100 characters, e.g. \"upheld\" or \"appealed\""))?;
        let amount = match body.get("Amount") {
            None | Some(Value::Null) => None,
            Some(value) => Some(
                Amount::parse(value)
                    .map_err(|e| ServiceError::invalid(format!("property 'Amount': {e}")))?,
            ),
        };
        let subject = actor.subject.clone();
        Ok(actor
            .scoped(
                self.db
                    .set_outcome(plan, rules, id, outcome, amount, subject),
            )
            .await?)
    }

    /// Back-tests proposed settings against the criterion's recorded cases and stores the
    /// result as the criterion's analysis.
    pub async fn backtest(
        &self,
        plan: PlanId,
        rules: RecordId,
        body: &Map<String, Value>,
        actor: Actor,
    ) -> Result<BacktestRecord, ServiceError> {
        only(body, CriterionSettings::PROPERTIES)?;
        if !body.contains_key("Parameters") && !body.contains_key("Expression") {
            return Err(ServiceError::invalid(
                "give the proposed 'Parameters' and/or 'Expression' to back-test",
            ));
        }
        let record = self
            .db
            .record(ChildKind::Rules, plan, rules.clone())
            .await?;
        let (current, current_expression) = compiled(&record)?;
        let proposed = current.patched(body).map_err(invalid)?;
        let proposed_expression = proposed.compile().map_err(invalid)?.ok_or_else(|| {
            ServiceError::invalid("the proposal removes the Expression; nothing to back-test")
        })?;
        let samples = self.db.samples(plan, rules.clone(), BACKTEST_CASES).await?;
        let cases: Vec<BacktestCase> = samples
            .into_iter()
            .map(|s| BacktestCase {
                reference: s
                    .evaluation
                    .case_id
                    .clone()
                    .unwrap_or_else(|| s.id.to_string()),
                facts: s.evaluation.facts,
                outcome: s.outcome,
                amount: s.evaluation.amount,
            })
            .collect();
        let (current_params, proposed_params) =
            (current.parameters.clone(), proposed.parameters.clone());
        let report = bounded(BACKTEST_BUDGET, move || {
            Backtest::run(
                (&current_expression, &current_params),
                (&proposed_expression, &proposed_params),
                &cases,
            )
        })
        .await?;
        let decision = current
            .decision
            .clone()
            .unwrap_or_else(|| "true".to_owned());
        let summary = report.summary(&decision);
        let mut proposal = proposed.to_json();
        proposal.retain(|k, _| body.contains_key(k));
        let stored = actor
            .scoped(self.db.save_backtest(NewBacktest {
                plan_id: plan,
                rules_id: rules,
                rules_version: record.meta.version,
                proposal: Value::Object(proposal),
                report: report_json(&report),
                summary,
                run_by: actor.subject.clone(),
            }))
            .await?;
        Ok(stored)
    }
}

fn report_json(report: &Backtest) -> Value {
    json!({
        "Cases": report.cases,
        "Errors": report.errors,
        "TrueNow": report.true_now,
        "TrueProposed": report.true_proposed,
        "BecameTrue": report.became_true,
        "BecameFalse": report.became_false,
        "OutcomesBecameTrue": report.outcomes_became_true,
        "OutcomesBecameFalse": report.outcomes_became_false,
        "AmountShift": report.amount_shift.iter().map(|(c, v)| json!({"Currency": c, "Value": v.to_string()})).collect::<Vec<_>>(),
        "Examples": report.examples.iter().map(|f| json!({
            "Case": f.reference, "Current": f.current, "Proposed": f.proposed, "Outcome": f.outcome,
        })).collect::<Vec<_>>(),
    })
}
