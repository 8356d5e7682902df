//! Between JSON and CEL: facts and parameters as CEL values (every number a double), and
//! CEL values and errors told in a few words.

use std::collections::HashMap;
use std::sync::Arc;

use cel::Value;
use serde_json::Value as Json;

/// A JSON value as CEL sees it. Every number is a double, so that a fact compares and
/// computes the same way whether a client sent `50` or `50.0`.
pub(super) fn to_cel(value: &Json) -> Value {
    match value {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => n.as_f64().map_or(Value::Null, Value::Float),
        Json::String(s) => Value::String(Arc::new(s.clone())),
        Json::Array(items) => Value::List(Arc::new(items.iter().map(to_cel).collect())),
        Json::Object(map) => {
            let entries: HashMap<String, Value> =
                map.iter().map(|(k, v)| (k.clone(), to_cel(v))).collect();
            Value::from(entries)
        }
    }
}

/// A value in a few words: never the whole of a list or map, nor of a long string.
pub(super) fn describe(value: &Value) -> String {
    match value {
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(f) => f.to_string(),
        Value::String(s) => format!("\"{}\"", truncated(s, 40)),
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::List(_) => "a list".to_owned(),
        Value::Map(_) => "a map".to_owned(),
        _ => "a value of another type".to_owned(),
    }
}

/// What went wrong, in a sentence of bounded length: CEL's own messages print whole values
/// (a list of a thousand facts, a map in no particular order).
pub(super) fn explain(error: &cel::ExecutionError) -> String {
    use cel::ExecutionError as E;
    let d = describe;
    match error {
        E::UnsupportedTargetType { target } => format!("{} is not supported here", d(target)),
        E::NotSupportedAsMethod { method, target } => {
            format!("'{method}' cannot be called on {}", d(target))
        }
        E::UnsupportedKeyType(key) => format!("{} cannot be a map key", d(key)),
        E::ValuesNotComparable(a, b) => format!("{} cannot be compared with {}", d(a), d(b)),
        E::UnsupportedBinaryOperator(op, a, b) => {
            format!("'{op}' does not apply to {} and {}", d(a), d(b))
        }
        E::UnsupportedIndex(index, target) => format!("{} cannot index {}", d(index), d(target)),
        E::DivisionByZero(_) => "division by zero".to_owned(),
        E::RemainderByZero(_) => "remainder by zero".to_owned(),
        E::Overflow(op, a, b) => format!("'{op}' overflows on {} and {}", d(a), d(b)),
        E::IndexOutOfBounds(index) => format!("index {} is out of bounds", d(index)),
        E::DuplicateKey(key) => format!("the key {} is repeated", d(key)),
        other => truncated(&other.to_string().replace('\n', " "), 300),
    }
}

/// At most `max` characters of `text`, with an ellipsis if cut.
fn truncated(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::criterion::expression::{EvaluationError, Expression};
    use crate::criterion::test_support::{compile, refund};

    #[test]
    fn whole_and_decimal_numbers_compare_and_compute_alike() {
        let expression = compile("amount <= limits.auto_refund").expect("compiles");
        let at = |amount: Json| {
            expression
                .evaluate(&refund(), &json!({"amount": amount}))
                .expect("evaluates")
                .result
        };
        assert!(at(json!(42.5)));
        assert!(at(json!(50)));
        assert!(at(json!(50.0)));
        assert!(!at(json!(50.01)));
        let scaled =
            Expression::compile("amount * 1.5 > limits.auto_refund", &refund()).expect("compiles");
        for amount in [json!(40), json!(40.0), json!(40.5)] {
            let evaluation = scaled
                .evaluate(&refund(), &json!({ "amount": amount }))
                .expect("evaluates");
            assert!(evaluation.result, "{amount}");
        }
        let counted = compile("size(tags) == count && count < 2").expect("compiles");
        let facts = json!({"tags": ["a"], "count": 1});
        assert!(
            counted
                .evaluate(&refund(), &facts)
                .expect("evaluates")
                .result
        );
    }

    #[test]
    fn failures_are_told_briefly_and_the_same_way_each_time() {
        let expression = compile("items[0.5] == 1").expect("compiles");
        let many: Vec<Json> = (0..1000).map(|i| json!({"n": i, "m": i})).collect();
        let facts = json!({ "items": many });
        let first = expression.evaluate(&refund(), &facts).expect_err("fails");
        assert_eq!(
            first,
            EvaluationError::Failed("0.5 cannot index a list".into())
        );
        assert_eq!(expression.evaluate(&refund(), &facts), Err(first));
        let long = compile("name > 1").expect("compiles");
        let error = long
            .evaluate(&refund(), &json!({"name": "x".repeat(500)}))
            .expect_err("fails");
        assert!(error.to_string().len() < 200, "{error}");
    }
}
