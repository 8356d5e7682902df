//! Evaluating a compiled expression on one case: the facts checked, the parameters
//! rechecked when they are not those it was compiled with, and each top-level
//! sub-condition run on its own to explain the result.

use std::sync::Arc;

use cel::{Context, Value};
use serde_json::Value as Json;

use super::cost::Estimator;
use super::expression::{
    Condition, ENV, Evaluation, EvaluationError, Expression, MAX_COST, check_facts,
};
use super::facts::lookup;
use super::settings::Parameters;
use super::value::{describe, explain, to_cel};

impl Expression {
    /// [`Expression::evaluate`] on the current thread, which must have a large stack.
    pub(super) fn evaluate_here(
        &self,
        parameters: &Parameters,
        facts: &Json,
    ) -> Result<Evaluation, EvaluationError> {
        let compiled = &*self.0;
        let object = facts
            .as_object()
            .ok_or_else(|| EvaluationError::BadFacts("facts must be a JSON object".into()))?;
        check_facts(facts)?;
        let namespaces = parameters.namespaces();
        if let Some(clash) = object.keys().find(|k| namespaces.contains(k.as_str())) {
            return Err(EvaluationError::BadFacts(format!(
                "fact '{clash}' has the name of a parameter group"
            )));
        }
        self.check_parameters(parameters)?;
        let missing: Vec<String> = compiled
            .facts
            .iter()
            .filter(|p| lookup(facts, p).is_none())
            .cloned()
            .collect();
        if !missing.is_empty() {
            return Err(EvaluationError::MissingFacts(missing));
        }

        let mut context = Context::with_env(Arc::clone(&ENV));
        for (name, value) in object {
            context.add_variable_from_value(name.as_str(), to_cel(value));
        }
        for (name, value) in parameters.nested() {
            context.add_variable_from_value(name, to_cel(&value));
        }

        let result = match Value::resolve(&compiled.expr, &context) {
            Ok(Value::Bool(b)) => b,
            Ok(other) => return Err(EvaluationError::NotBoolean(describe(&other))),
            Err(e) => return Err(EvaluationError::Failed(explain(&e))),
        };
        let conditions = compiled
            .conditions
            .iter()
            .map(|(source, node)| {
                // A lone condition is the whole expression: no need to run it twice.
                let value = if node.id == compiled.expr.id {
                    Ok(Value::Bool(result))
                } else {
                    Value::resolve(node, &context)
                };
                let (value, held) = match value {
                    Ok(Value::Bool(b)) => (Json::Bool(b), b),
                    Ok(other) => (Json::String(describe(&other)), false),
                    Err(e) => (Json::String(format!("error: {}", explain(&e))), false),
                };
                Condition {
                    source: source.clone(),
                    value,
                    held,
                }
            })
            .collect();
        let parameters_used = compiled
            .parameters
            .iter()
            .filter_map(|name| parameters.get(name).map(|v| (name.clone(), v.clone())))
            .collect();
        let facts_used = compiled
            .facts
            .iter()
            .filter_map(|p| lookup(facts, p).map(|v| (p.clone(), v.clone())))
            .collect();
        Ok(Evaluation {
            result,
            conditions,
            parameters_used,
            facts_used,
        })
    }

    /// Parameters other than those compiled with must still name what the expression reads
    /// and keep its cost under the limit.
    fn check_parameters(&self, parameters: &Parameters) -> Result<(), EvaluationError> {
        let compiled = &*self.0;
        let same = compiled
            .compiled_with
            .iter()
            .all(|(name, value)| parameters.get(name) == Some(value));
        if same {
            return Ok(());
        }
        if let Some(name) = compiled
            .parameters
            .iter()
            .find(|n| parameters.get(n).is_none())
        {
            return Err(EvaluationError::Failed(format!(
                "parameter '{name}' is not set"
            )));
        }
        let cost = Estimator::new(parameters).total(&compiled.expr);
        if cost > MAX_COST {
            return Err(EvaluationError::Failed(format!(
                "with these parameters the expression could cost {cost} steps; the limit is {MAX_COST}"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::criterion::test_support::{RULE, compile, params, refund};

    fn facts_for_rule(amount: Json, disputes: Json) -> Json {
        json!({"amount": amount, "history": {"disputes_12m": disputes, "other": "x"}, "unused": 1})
    }

    #[test]
    fn an_evaluation_explains_each_sub_condition_and_what_it_read() {
        let expression = compile(RULE).expect("compiles");
        let evaluation = expression
            .evaluate(&refund(), &facts_for_rule(json!(42.5), json!(3)))
            .expect("evaluates");
        assert!(!evaluation.result);
        let explained: Vec<(&str, &Json, bool)> = evaluation
            .conditions
            .iter()
            .map(|c| (c.source.as_str(), &c.value, c.held))
            .collect();
        assert_eq!(
            explained,
            [
                ("amount <= limits.auto_refund", &json!(true), true),
                ("history.disputes_12m < 2", &json!(false), false),
            ]
        );
        assert_eq!(
            evaluation.parameters_used,
            BTreeMap::from([("limits.auto_refund".to_owned(), json!(50))])
        );
        assert_eq!(
            evaluation.facts_used,
            BTreeMap::from([
                ("amount".to_owned(), json!(42.5)),
                ("history.disputes_12m".to_owned(), json!(3))
            ])
        );
        let passes = expression
            .evaluate(&refund(), &facts_for_rule(json!(12), json!(0)))
            .expect("evaluates");
        assert!(passes.result && passes.conditions.iter().all(|c| c.held));
    }

    #[test]
    fn missing_facts_are_named_not_taken_as_false() {
        let expression = compile(RULE).expect("compiles");
        let error = expression
            .evaluate(&refund(), &json!({"history": {}}))
            .expect_err("facts missing");
        assert_eq!(
            error,
            EvaluationError::MissingFacts(vec!["amount".into(), "history.disputes_12m".into()])
        );
        assert_eq!(
            error.to_string(),
            "missing facts: amount, history.disputes_12m"
        );
    }

    #[test]
    fn a_fact_named_like_a_parameter_group_is_refused() {
        let expression = compile(RULE).expect("compiles");
        let facts =
            json!({"amount": 1, "history": {"disputes_12m": 0}, "limits": {"auto_refund": 1000}});
        let error = expression.evaluate(&refund(), &facts).expect_err("clash");
        assert_eq!(
            error,
            EvaluationError::BadFacts("fact 'limits' has the name of a parameter group".into())
        );
    }

    #[test]
    fn a_decision_flips_exactly_at_the_threshold() {
        let expression = compile("amount <= limits.auto_refund").expect("compiles");
        let facts = json!({"amount": 50});
        assert!(
            expression
                .evaluate(&params(json!({"limits.auto_refund": 50})), &facts)
                .expect("evaluates")
                .result
        );
        assert!(
            !expression
                .evaluate(&params(json!({"limits.auto_refund": 49.99})), &facts)
                .expect("evaluates")
                .result
        );
        let exact = json!({"amount": 49.99});
        assert!(
            expression
                .evaluate(&params(json!({"limits.auto_refund": 49.99})), &exact)
                .expect("evaluates")
                .result
        );
    }

    #[test]
    fn list_parameters_and_membership_work() {
        let parameters = params(json!({"allowed.countries": ["DE", "FR"], "threshold": 3}));
        let expression = Expression::compile(
            "country in allowed.countries && score >= threshold",
            &parameters,
        )
        .expect("compiles");
        let run = |facts: Json| {
            expression
                .evaluate(&parameters, &facts)
                .expect("evaluates")
                .result
        };
        assert!(run(json!({"country": "DE", "score": 3})));
        assert!(!run(json!({"country": "US", "score": 3})));
    }

    #[test]
    fn failures_and_non_boolean_results_are_errors_not_false() {
        let expression = compile("amount > 10").expect("compiles");
        let error = expression
            .evaluate(&refund(), &json!({"amount": "ten"}))
            .expect_err("string vs number");
        assert!(matches!(error, EvaluationError::Failed(_)), "{error}");
        let flag = compile("flag").expect("compiles");
        assert_eq!(
            flag.evaluate(&refund(), &json!({"flag": 1})),
            Err(EvaluationError::NotBoolean("1".into()))
        );
        assert!(
            flag.evaluate(&refund(), &json!({"flag": true}))
                .expect("evaluates")
                .result
        );
    }

    #[test]
    fn a_sub_condition_that_fails_on_its_own_shows_the_error() {
        let expression = compile("has(x.y) && x.y > 1").expect("compiles");
        let evaluation = expression
            .evaluate(&refund(), &json!({"x": {}}))
            .expect("evaluates");
        assert!(!evaluation.result);
        assert_eq!(evaluation.conditions[0].value, json!(false));
        let second = &evaluation.conditions[1];
        assert!(!second.held);
        assert!(
            second
                .value
                .as_str()
                .is_some_and(|v| v.starts_with("error: ")),
            "{:?}",
            second.value
        );
    }

    #[test]
    fn evaluating_with_other_parameters_still_checks_them() {
        let expression = compile("amount <= limits.auto_refund").expect("compiles");
        let error = expression.evaluate(&params(json!({"limits.other": 1})), &json!({"amount": 1}));
        assert_eq!(
            error,
            Err(EvaluationError::Failed(
                "parameter 'limits.auto_refund' is not set".into()
            ))
        );
        let listed = Expression::compile(
            "items.all(x, x in allowed.ids)",
            &params(json!({"allowed.ids": [1]})),
        )
        .expect("compiles");
        let huge = params(json!({"allowed.ids": vec![1; 1000]}));
        assert!(
            listed.evaluate(&huge, &json!({"items": [1]})).is_ok(),
            "1000 x 1000 still fits"
        );
        let bigger = params(json!({"allowed.ids": vec![1; 1000], "unused": 1}));
        assert!(listed.evaluate(&bigger, &json!({"items": []})).is_ok());
    }
}
