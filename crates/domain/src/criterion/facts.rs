//! The limits on a case's facts, which bound what any expression can cost on them, and
//! reading a fact by its dotted path.

use serde_json::Value as Json;

use super::expression::{
    EvaluationError, MAX_FACT_DEPTH, MAX_FACT_LIST, MAX_FACT_TEXT, MAX_FACT_VALUES,
};

/// Refuses facts too large to evaluate within bounded cost.
pub fn check_facts(facts: &Json) -> Result<(), EvaluationError> {
    struct Tally<'a> {
        values: usize,
        text: usize,
        path: Vec<&'a str>,
    }
    fn walk<'a>(value: &'a Json, tally: &mut Tally<'a>) -> Result<(), EvaluationError> {
        let bad = |reason: String| Err(EvaluationError::BadFacts(reason));
        tally.values += 1;
        if tally.values > MAX_FACT_VALUES {
            return bad(format!("facts may hold at most {MAX_FACT_VALUES} values"));
        }
        if tally.path.len() > MAX_FACT_DEPTH {
            return bad(format!(
                "facts may be nested at most {MAX_FACT_DEPTH} levels deep"
            ));
        }
        let count = match value {
            Json::String(s) => {
                tally.text += s.chars().count();
                0
            }
            Json::Array(items) => items.len(),
            Json::Object(map) => map.len(),
            _ => 0,
        };
        if count > MAX_FACT_LIST {
            let what = if value.is_array() { "list" } else { "object" };
            let at = if tally.path.is_empty() {
                "the facts".to_owned()
            } else {
                format!("'{}'", tally.path.join("."))
            };
            return bad(format!(
                "{at} is a {what} of {count} items; the limit is {MAX_FACT_LIST}"
            ));
        }
        match value {
            Json::Array(items) => {
                for item in items {
                    tally.path.push("[]");
                    walk(item, tally)?;
                    tally.path.pop();
                }
            }
            Json::Object(map) => {
                for (key, item) in map {
                    tally.text += key.chars().count();
                    tally.path.push(key);
                    walk(item, tally)?;
                    tally.path.pop();
                }
            }
            _ => {}
        }
        if tally.text > MAX_FACT_TEXT {
            return bad(format!(
                "facts may hold at most {MAX_FACT_TEXT} characters of text"
            ));
        }
        Ok(())
    }
    walk(
        facts,
        &mut Tally {
            values: 0,
            text: 0,
            path: Vec::new(),
        },
    )
}

/// The JSON value at a dotted path.
pub(super) fn lookup<'a>(facts: &'a Json, path: &str) -> Option<&'a Json> {
    path.split('.')
        .try_fold(facts, |value, segment| value.as_object()?.get(segment))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::criterion::test_support::{compile, refund};

    #[test]
    fn facts_must_be_an_object_within_the_limits() {
        let expression = compile("true").expect("compiles");
        let run = |facts: Json| expression.evaluate(&refund(), &facts);
        assert!(matches!(run(json!([1])), Err(EvaluationError::BadFacts(_))));
        let long = json!({"items": vec![0; MAX_FACT_LIST + 1]});
        let Err(EvaluationError::BadFacts(reason)) = run(long) else {
            panic!("a long list is refused")
        };
        assert_eq!(reason, "'items' is a list of 1001 items; the limit is 1000");
        assert!(run(json!({"items": vec![0; MAX_FACT_LIST]})).is_ok());
        let many: serde_json::Map<String, Json> = (0..20)
            .map(|i| (format!("f{i}"), json!(vec![0; MAX_FACT_VALUES / 20])))
            .collect();
        let Err(EvaluationError::BadFacts(reason)) = run(Json::Object(many)) else {
            panic!("too many values")
        };
        assert!(reason.contains("at most 10000 values"), "{reason}");
        let text = json!({"notes": "x".repeat(MAX_FACT_TEXT + 1)});
        assert!(matches!(run(text), Err(EvaluationError::BadFacts(r)) if r.contains("characters")));
        let mut deep = json!(1);
        for _ in 0..=MAX_FACT_DEPTH {
            deep = json!({ "a": deep });
        }
        assert!(matches!(run(deep), Err(EvaluationError::BadFacts(r)) if r.contains("nested")));
        let wide: serde_json::Map<String, Json> = (0..=MAX_FACT_LIST)
            .map(|i| (format!("f{i}"), json!(i)))
            .collect();
        assert!(
            matches!(run(Json::Object(wide)), Err(EvaluationError::BadFacts(r)) if r.contains("object"))
        );
    }
}
