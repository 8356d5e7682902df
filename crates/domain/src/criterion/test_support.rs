//! What the criterion unit tests share: parameters and a rule to compile against.

use std::collections::BTreeSet;

use serde_json::{Value as Json, json};

use super::expression::{Expression, ExpressionError};
use super::settings::Parameters;

/// Parameters from their JSON form, which must be valid.
pub(super) fn params(value: Json) -> Parameters {
    Parameters::parse(&value).expect("valid parameters")
}

/// The one parameter of [`RULE`]: `limits.auto_refund` at 50.
pub(super) fn refund() -> Parameters {
    params(json!({"limits.auto_refund": 50}))
}

/// Compiles with [`refund`] parameters.
pub(super) fn compile(source: &str) -> Result<Expression, ExpressionError> {
    Expression::compile(source, &refund())
}

/// The error compiling `source` must give.
pub(super) fn refused(source: &str) -> ExpressionError {
    compile(source).expect_err(source)
}

/// The names in a set, for comparing with a list.
pub(super) fn names(set: &BTreeSet<String>) -> Vec<&str> {
    set.iter().map(String::as_str).collect()
}

/// A threshold rule reading one parameter and two facts.
pub(super) const RULE: &str = "amount <= limits.auto_refund && history.disputes_12m < 2";
