//! Property-based fuzzing of expression compiling and evaluating: whatever a client sends,
//! compiling never panics (nor overflows the stack) and refuses with a position inside the
//! source or compiles; what compiles evaluates on any small facts, never panics, and
//! finishes quickly.
//!
//! The cases per property default to proptest's 256; for a longer run:
//! `PROPTEST_CASES=20000 cargo test --release -p caseload-domain --test criterion_fuzz`.

use std::time::{Duration, Instant};

use caseload_domain::criterion::expression::MAX_COST;
use caseload_domain::criterion::{EvaluationError, Expression, Parameters};
use proptest::prelude::*;
use serde_json::{Map, Value as Json, json};

/// Far above what any evaluation allowed takes, so that only a runaway fails.
const SLOW: Duration = Duration::from_secs(5);

fn parameters() -> Parameters {
    Parameters::parse(&json!({
        "limits.auto_refund": 50,
        "limits.review": 500.5,
        "allowed.countries": ["DE", "FR"],
        "patterns.id": "^[A-Z]+$",
        "vip_only": true,
    }))
    .expect("valid parameters")
}

/// Words and symbols expressions are made of, well-formed or not.
const TOKENS: &[&str] = &[
    "amount",
    "history",
    "history.disputes_12m",
    "limits",
    "limits.auto_refund",
    "limits.review",
    "allowed.countries",
    "patterns.id",
    "vip_only",
    "name",
    "items",
    "flags",
    "x",
    "y",
    "@result",
    "has",
    "all",
    "exists",
    "exists_one",
    "existsOne",
    "map",
    "filter",
    "size",
    "int",
    "uint",
    "double",
    "string",
    "bytes",
    "bool",
    "type",
    "dyn",
    "matches",
    "contains",
    "startsWith",
    "endsWith",
    "timestamp",
    "null",
    "true",
    "false",
    "in",
    "0",
    "1",
    "2",
    "-1",
    "2.5",
    "1e3",
    "1u",
    "0x1F",
    "9223372036854775807",
    "18446744073709551615u",
    "\"a\"",
    "'b'",
    "r'\\d'",
    "b\"c\"",
    "'''t'''",
    "\"\\u00e9\"",
    "'(['",
    "+",
    "-",
    "*",
    "/",
    "%",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "&&",
    "||",
    "!",
    "?",
    ":",
    ".",
    ",",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "`",
    "é",
    "\n",
    ".?",
    "[?",
    "Foo{a: 1}",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            prop::sample::select(TOKENS),
            prop::sample::select(&["", " ", "  "][..]),
        ),
        0..60,
    )
    .prop_map(|parts| parts.into_iter().map(|(t, s)| format!("{t}{s}")).collect())
}

/// Well-formed expressions, so that many compile and run.
fn expression() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        prop::sample::select(vec![
            "amount",
            "history.disputes_12m",
            "name",
            "items",
            "flags.vip",
            "x",
            "limits.auto_refund",
            "limits.review",
            "allowed.countries",
            "vip_only",
            "true",
            "false",
            "null",
            "0",
            "1",
            "2.5",
            "-3.0",
            "1u",
            "'DE'",
            "\"fraud\"",
            "[]",
            "{}",
            "[1, 2.5, 'a']",
            "{'k': 1}",
        ])
        .prop_map(str::to_owned),
        any::<i32>().prop_map(|i| i.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:?}")),
        "[a-z ]{0,8}".prop_map(|s| format!("'{s}'")),
    ];
    leaf.prop_recursive(5, 64, 4, |inner| {
        let binary = prop::sample::select(vec![
            "+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "in",
        ]);
        let unary = prop::sample::select(vec!["!", "-"]);
        let function = prop::sample::select(vec![
            "size", "int", "uint", "double", "string", "type", "dyn", "bool",
        ]);
        let method = prop::sample::select(vec![
            "contains",
            "startsWith",
            "endsWith",
            "size",
            "matches",
        ]);
        let mac = prop::sample::select(vec!["all", "exists", "exists_one", "map", "filter"]);
        prop_oneof![
            (inner.clone(), binary, inner.clone()).prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            (unary, inner.clone()).prop_map(|(op, a)| format!("{op}{a}")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(c, a, b)| format!("({c} ? {a} : {b})")),
            (function, inner.clone()).prop_map(|(f, a)| format!("{f}({a})")),
            (inner.clone(), method, inner.clone()).prop_map(|(t, m, a)| {
                if m == "size" {
                    format!("{t}.size()")
                } else {
                    format!("{t}.{m}({a})")
                }
            }),
            (inner.clone(), mac, inner.clone())
                .prop_map(|(r, m, body)| format!("{r}.{m}(x, {body})")),
            (inner.clone(), inner.clone()).prop_map(|(a, i)| format!("{a}[{i}]")),
            prop::collection::vec(inner.clone(), 0..4)
                .prop_map(|items| format!("[{}]", items.join(", "))),
            inner.clone().prop_map(|a| format!("has({a}.field)")),
        ]
    })
}

/// A number-valued expression over the typed facts below.
fn number() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        prop::sample::select(vec![
            "amount",
            "history.disputes_12m",
            "limits.auto_refund",
            "limits.review",
            "double(size(items))",
            "double(size(name))",
            "0.0",
            "1.5",
            "-2.25",
        ])
        .prop_map(str::to_owned),
        (-1000i32..1000).prop_map(|i| format!("{i}.0")),
    ];
    leaf.prop_recursive(3, 16, 2, |inner| {
        let op = prop::sample::select(vec!["+", "-", "*"]);
        prop_oneof![
            (inner.clone(), op, inner.clone()).prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            inner.clone().prop_map(|a| format!("-{a}")),
            (condition_leaf(), inner.clone(), inner)
                .prop_map(|(c, a, b)| format!("({c} ? {a} : {b})")),
        ]
    })
}

/// A simple true-or-false test over the typed facts.
fn condition_leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "flags.vip",
            "vip_only",
            "has(flags.vip)",
            "has(history.other)",
            "name in allowed.countries",
            "name.startsWith('D')",
            "name.contains('E')",
            "name.matches('^[A-Z]+$')",
            "items.exists(x, x > 2.0)",
            "items.all(x, x >= amount)",
            "items.exists_one(x, x == 1.0)",
            "size(items.filter(x, x < 3.0)) > 1",
            "items.map(x, x * 2.0).exists(y, y > limits.auto_refund)",
            "1.0 in items",
            "true",
            "false",
        ])
        .prop_map(str::to_owned),
    ]
}

/// A true-or-false expression over the typed facts: comparisons joined by `&&`, `||`, `!`.
fn typed_condition() -> impl Strategy<Value = String> {
    let comparison = (
        number(),
        prop::sample::select(vec!["==", "!=", "<", "<=", ">", ">="]),
        number(),
    )
        .prop_map(|(a, op, b)| format!("{a} {op} {b}"));
    let leaf = prop_oneof![comparison, condition_leaf()];
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (
                inner.clone(),
                prop::sample::select(vec!["&&", "||"]),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            inner.clone().prop_map(|a| format!("!({a})")),
        ]
    })
}

/// Facts of the types the typed expressions expect.
fn typed_facts() -> impl Strategy<Value = Json> {
    let number = prop_oneof![
        any::<i32>().prop_map(|i| json!(i)),
        (-1e6f64..1e6).prop_map(|f| json!(f))
    ];
    (
        number.clone(),
        number,
        prop::sample::select(vec!["DE", "FR", "US", "", "Émile"]),
        prop::collection::vec(-5.0f64..5.0, 0..20),
        any::<bool>(),
    )
        .prop_map(|(amount, disputes, name, items, vip)| {
            json!({
                "amount": amount,
                "history": { "disputes_12m": disputes },
                "name": name,
                "items": items,
                "flags": { "vip": vip },
            })
        })
}

fn json_value() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        any::<u64>().prop_map(|u| json!(u)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Json::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Json::Array),
            prop::collection::btree_map(key(), inner, 0..6)
                .prop_map(|m| Json::Object(m.into_iter().collect::<Map<String, Json>>())),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "amount",
            "history",
            "disputes_12m",
            "name",
            "items",
            "flags",
            "vip",
            "x",
            "field"
        ])
        .prop_map(str::to_owned),
        "[a-z_]{1,6}",
    ]
}

/// A facts object, often with the facts the generated expressions read.
fn facts() -> impl Strategy<Value = Json> {
    prop::collection::btree_map(key(), json_value(), 0..8)
        .prop_map(|m| Json::Object(m.into_iter().collect::<Map<String, Json>>()))
}

/// Compiles, checking what any outcome must satisfy.
fn compile(source: &str, parameters: &Parameters) -> Option<Expression> {
    match Expression::compile(source, parameters) {
        Ok(expression) => {
            assert!(expression.estimated_cost() <= MAX_COST, "{source}");
            Some(expression)
        }
        Err(error) => {
            assert!(
                !error.reason.contains("internal error"),
                "{source:?}: {error}"
            );
            if let Some(position) = error.position {
                let chars = source.chars().count();
                assert!(
                    (1..=chars + 1).contains(&position),
                    "{source:?}: {error} (of {chars} characters)"
                );
            }
            None
        }
    }
}

fn evaluate(expression: &Expression, parameters: &Parameters, facts: &Json) {
    let started = Instant::now();
    let outcome = expression.evaluate(parameters, facts);
    assert!(
        started.elapsed() < SLOW,
        "{} took {:?}",
        expression.source(),
        started.elapsed()
    );
    match &outcome {
        Err(EvaluationError::Failed(reason)) => {
            assert!(
                !reason.contains("internal error"),
                "{}: {reason}",
                expression.source()
            );
        }
        Ok(evaluation) => {
            assert!(!evaluation.conditions.is_empty());
            assert!(
                evaluation
                    .facts_used
                    .keys()
                    .all(|k| expression.fact_paths().contains(k))
            );
            // `map` and `filter` over an object list its keys in no particular order.
            let source = expression.source();
            if !source.contains(".map(") && !source.contains(".filter(") {
                assert_eq!(
                    expression.evaluate(parameters, facts),
                    outcome,
                    "deterministic"
                );
            }
        }
        Err(_) => {}
    }
}

proptest! {
    #[test]
    fn any_text_compiles_or_is_refused_without_panicking(source in any::<String>()) {
        compile(&source, &parameters());
    }

    #[test]
    fn printable_text_compiles_or_is_refused_without_panicking(source in "[ -~\n]{0,200}") {
        compile(&source, &parameters());
    }

    #[test]
    fn token_soup_compiles_or_is_refused_and_what_compiles_runs(source in token_soup(), facts in facts()) {
        let parameters = parameters();
        if let Some(expression) = compile(&source, &parameters) {
            evaluate(&expression, &parameters, &facts);
        }
    }

    #[test]
    fn well_formed_expressions_run_on_any_small_facts(
        source in expression(),
        facts in facts(),
        filler in json_value(),
    ) {
        let parameters = parameters();
        if let Some(expression) = compile(&source, &parameters) {
            evaluate(&expression, &parameters, &facts);
            // The same with every fact it reads present, so that evaluation goes deeper.
            let mut full = facts.as_object().cloned().unwrap_or_default();
            for path in expression.fact_paths() {
                let segments: Vec<&str> = path.split('.').collect();
                let mut value = filler.clone();
                for segment in segments[1..].iter().rev() {
                    value = Json::Object(Map::from_iter([((*segment).to_owned(), value)]));
                }
                full.entry(segments[0].to_owned()).or_insert(value);
            }
            evaluate(&expression, &parameters, &Json::Object(full));
        }
    }

    #[test]
    fn typed_expressions_on_complete_facts_evaluate_and_explain_consistently(
        left in typed_condition(),
        right in typed_condition(),
        and in any::<bool>(),
        facts in typed_facts(),
    ) {
        let parameters = parameters();
        let joint = if and { "&&" } else { "||" };
        let source = format!("{left} {joint} {right}");
        let expression = match Expression::compile(&source, &parameters) {
            Ok(expression) => expression,
            Err(e) => {
                // Generated expressions may exceed a limit; any other refusal is a bug.
                let limits = ["at most one 'matches'", "could cost too much", "nested more than", "characters long"];
                prop_assert!(limits.iter().any(|l| e.reason.contains(l)), "{}: {}", source, e);
                return Ok(());
            }
        };
        let evaluation = expression
            .evaluate(&parameters, &facts)
            .unwrap_or_else(|e| panic!("{source} on {facts}: {e}"));
        // Each condition is evaluated on its own; a failing one (e.g. reading
        // flags.vip where it is absent, behind has()) shows as an error, not as held.
        let held: Vec<bool> = evaluation.conditions.iter().map(|c| c.held).collect();
        let errors = evaluation.conditions.iter().any(|c| c.value.is_string());
        if !errors && !source.contains('!') {
            let only_and = !source.contains("||");
            let only_or = !source.contains("&&");
            if only_and {
                prop_assert_eq!(evaluation.result, held.iter().all(|h| *h), "{}", source);
            }
            if only_or {
                prop_assert_eq!(evaluation.result, held.iter().any(|h| *h), "{}", source);
            }
        }
    }
}
