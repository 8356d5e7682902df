//! A deliberately expensive expression cannot be built: for each shape of costly work, the
//! largest expression that still compiles runs on the largest facts allowed in well under
//! a second (and expressions one step larger are refused at compile time).

use std::time::{Duration, Instant};

use caseload_domain::criterion::expression::{
    MAX_COST, MAX_FACT_LIST, MAX_FACT_TEXT, MAX_FACT_VALUES,
};
use caseload_domain::criterion::{Expression, Parameters};
use serde_json::{Value as Json, json};

/// Generous, so that slow CI machines and unoptimised builds do not make it flaky.
const BOUND: Duration = Duration::from_secs(2);

/// Lists as long as allowed, of numbers: membership tests scan them whole.
fn long_lists() -> Json {
    let items: Vec<f64> = (0..MAX_FACT_LIST).map(|i| i as f64).collect();
    // Never in `items`.
    let others: Vec<f64> = (0..MAX_FACT_LIST).map(|i| -1.0 - i as f64).collect();
    json!({ "items": items, "others": others })
}

/// As many values as allowed, in lists as long as allowed: copies are as heavy as they get.
fn heavy_lists() -> Json {
    let per_item = (MAX_FACT_VALUES - 2 - MAX_FACT_LIST) / MAX_FACT_LIST;
    let items: Vec<Vec<f64>> = (0..MAX_FACT_LIST).map(|_| vec![1.0; per_item]).collect();
    json!({ "items": items })
}

/// Two equal lists but for their last item, sharing the values allowed.
fn nearly_equal_lists() -> Json {
    let per_item = (MAX_FACT_VALUES - 3 - 2 * MAX_FACT_LIST) / (2 * MAX_FACT_LIST);
    let items: Vec<Vec<f64>> = (0..MAX_FACT_LIST).map(|_| vec![1.0; per_item]).collect();
    let mut others = items.clone();
    others[MAX_FACT_LIST - 1] = vec![2.0; per_item];
    json!({ "items": items, "others": others })
}

/// As much text as allowed.
fn long_text() -> Json {
    json!({ "notes": "n".repeat(MAX_FACT_TEXT - 2_000), "name": "a".repeat(1_000) })
}

/// A pattern the regex engine gives up on only after a lot of work.
fn hard_pattern() -> Json {
    json!({ "name": "a".repeat(1_000), "pattern": "\\w{300}" })
}

fn parameters() -> Parameters {
    let allowed: Vec<f64> = (0..1_000).map(|i| -1.0 - f64::from(i)).collect();
    Parameters::parse(&json!({ "allowed.ids": allowed })).expect("valid parameters")
}

/// The largest `k` for which `shape(k)` compiles, and that expression.
fn largest_allowed(
    shape: &dyn Fn(usize) -> String,
    parameters: &Parameters,
) -> (usize, Expression) {
    let mut best = None;
    for k in 1..=400 {
        match Expression::compile(&shape(k), parameters) {
            Ok(expression) => best = Some((k, expression)),
            Err(error) => {
                // Whichever limit comes first: cost, nesting, length or size.
                let limits = [
                    "could cost too much",
                    "nested more than",
                    "characters long",
                    "too complex",
                ];
                assert!(
                    limits.iter().any(|l| error.reason.contains(l)),
                    "{}: {error}",
                    shape(k)
                );
                break;
            }
        }
    }
    best.unwrap_or_else(|| panic!("even the smallest is refused: {}", shape(1)))
}

fn repeat(k: usize, part: &str, separator: &str) -> String {
    vec![part; k].join(separator)
}

type Shape = (&'static str, fn() -> Json, Box<dyn Fn(usize) -> String>);

#[test]
fn the_costliest_expressions_allowed_finish_well_under_a_second() {
    let parameters = parameters();
    let shapes: Vec<Shape> = vec![
        (
            "membership scans",
            long_lists,
            Box::new(|k| format!("items.exists(x, {})", repeat(k, "x in others", " || "))),
        ),
        (
            "parameter scans",
            long_lists,
            Box::new(|k| format!("items.exists(x, {})", repeat(k, "x in allowed.ids", " || "))),
        ),
        (
            "copies in map",
            heavy_lists,
            Box::new(|k| format!("size(items.map(x, [{}])) > 0", repeat(k, "x", ", "))),
        ),
        (
            "copies of lists",
            heavy_lists,
            Box::new(|k| format!("size({}) > 0", repeat(k, "items", " + "))),
        ),
        (
            "list equality",
            nearly_equal_lists,
            Box::new(|k| repeat(k, "others == items", " || ")),
        ),
        (
            "text concatenation",
            long_text,
            Box::new(|k| format!("size({}) > 0", repeat(k, "notes", " + "))),
        ),
        (
            "text search",
            long_text,
            Box::new(|k| repeat(k, "notes.contains(name)", " || ")),
        ),
        // One at most: each compiles its pattern.
        (
            "regular expression",
            hard_pattern,
            Box::new(|k| format!("name.matches(pattern){}", " || true".repeat(k))),
        ),
        (
            "filter then scan",
            long_lists,
            Box::new(|k| {
                format!(
                    "items.filter(x, x > 0.0).exists(y, {})",
                    repeat(k, "y in others", " || ")
                )
            }),
        ),
    ];
    for (name, facts, shape) in &shapes {
        let facts = facts();
        let (k, expression) = largest_allowed(shape.as_ref(), &parameters);
        assert!(expression.estimated_cost() <= MAX_COST);
        let started = Instant::now();
        let outcome = expression.evaluate(&parameters, &facts);
        let elapsed = started.elapsed();
        println!(
            "{name:>20}: k = {k:>3}, estimated {:>9} steps, ran in {elapsed:>10.2?}: {:?}",
            expression.estimated_cost(),
            outcome
                .as_ref()
                .map(|e| e.result)
                .map_err(ToString::to_string)
        );
        assert!(elapsed < BOUND, "{name} (k = {k}) took {elapsed:?}");
    }
}

#[test]
fn one_membership_scan_per_item_of_the_longest_list_is_allowed() {
    let facts = long_lists();
    let expression =
        Expression::compile("items.all(x, x in items)", &Parameters::default()).expect("allowed");
    let started = Instant::now();
    let evaluation = expression
        .evaluate(&Parameters::default(), &facts)
        .expect("evaluates");
    assert!(evaluation.result);
    assert!(started.elapsed() < BOUND, "took {:?}", started.elapsed());
    let twice = Expression::compile(
        "items.all(x, x in items && x in items)",
        &Parameters::default(),
    );
    assert!(
        twice
            .expect_err("refused")
            .reason
            .contains("could cost too much")
    );
}
