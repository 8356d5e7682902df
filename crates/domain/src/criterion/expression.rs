//! A criterion's expression: CEL, compiled once with static checks, evaluated against a
//! case's facts with an explanation.
//!
//! Compiling refuses, with the 1-based character position where it can: bad syntax, names
//! that look like parameters but are not among them, functions CEL does not have here,
//! arithmetic that mixes whole and decimal numbers, results that cannot be true or false,
//! and anything too costly to run.
//!
//! Cost is bounded before anything runs. The source is at most [`MAX_SOURCE_CHARS`], the
//! syntax tree at most [`MAX_NODES`] nodes and [`MAX_DEPTH`] deep, macros that iterate
//! (`all`, `exists`, `exists_one`, `map`, `filter`) may not nest, and an estimate of the work
//! on the largest facts [`check_facts`] lets through (lists of [`MAX_FACT_LIST`] items,
//! [`MAX_FACT_VALUES`] values, [`MAX_FACT_TEXT`] characters) must stay under [`MAX_COST`].
//! Parsing, and evaluating all but shallow expressions, run on a thread of their own with
//! a large stack, so that a deeply nested expression cannot overflow the caller's stack.
//!
//! Facts are JSON, so every number in the facts and the parameters is a CEL `double`
//! (comparisons with whole-number literals such as `count < 2` work; arithmetic with them,
//! such as `amount * 2`, is refused at compile time: write `amount * 2.0`).
//!
//! This module is the front: the limits, the errors, [`Expression`] and what evaluating
//! gives. The work is done beside it: `compile` (parsing and the order of the checks),
//! `check` (the static checks), `names` (names CEL gives meaning to, and the names an
//! expression reads), `span` (where a node is in the source), `cost` and `size` (the cost
//! estimate), `evaluate` (running on a case's facts), `facts` (the limits on facts) and
//! `value` (JSON as CEL values, and CEL values and errors in a few words).

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, LazyLock};

use cel::Env;
use cel::common::ast::IdedExpr;
use serde_json::Value as Json;

use super::compile::compile_here;
use super::settings::Parameters;

pub use super::facts::check_facts;
pub(super) use super::names::RESERVED_WORDS;

/// Longest expression accepted, in characters.
pub const MAX_SOURCE_CHARS: usize = 2_000;
/// Most syntax-tree nodes an expression may have (after macro expansion).
pub const MAX_NODES: usize = 2_000;
/// Deepest nesting accepted, both as written (brackets, calls) and in the syntax tree.
pub const MAX_DEPTH: u16 = 48;
/// Most work an evaluation may need on the largest facts allowed, in steps (a step is about
/// one node evaluated, one list item compared or copied, or 64 characters of text).
pub const MAX_COST: u64 = 2_000_000;
/// Longest list, and most members of an object, accepted among a case's facts.
pub const MAX_FACT_LIST: usize = 1_000;
/// Most values (scalars, lists, objects, list items, object members) in a case's facts.
pub const MAX_FACT_VALUES: usize = 10_000;
/// Most characters in a case's facts, strings and object keys together.
pub const MAX_FACT_TEXT: usize = 100_000;
/// Deepest nesting of lists and objects accepted in a case's facts.
pub const MAX_FACT_DEPTH: usize = 32;

/// Stack for parsing and evaluating: the parser recurses deeply per nesting level,
/// especially in unoptimised builds, where a default 2 MiB stack overflows at ~20 levels.
const STACK_BYTES: usize = 64 << 20;
/// Expressions at most this deep (counting each field of a path) are evaluated on the
/// caller's thread: evaluating takes a few tens of KiB of stack per level in unoptimised
/// builds, well within the 2 MiB of any thread.
const INLINE_DEPTH: usize = 12;

/// Why an expression was refused. `position` is the 1-based character offset in the source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}{}", position.map(|p| format!(" (at character {p})")).unwrap_or_default())]
pub struct ExpressionError {
    /// Where in the expression, when known.
    pub position: Option<usize>,
    /// What is wrong.
    pub reason: String,
}

impl ExpressionError {
    /// A refusal for `reason`, at `position` when known.
    pub(super) fn new(position: Option<usize>, reason: impl Into<String>) -> Self {
        Self {
            position,
            reason: reason.into(),
        }
    }
}

/// Why an evaluation could not give a result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvaluationError {
    /// Facts the expression needs are absent.
    #[error("missing facts: {}", .0.join(", "))]
    MissingFacts(Vec<String>),
    /// The facts are not usable (not an object, too large, a name taken by parameters).
    #[error("{0}")]
    BadFacts(String),
    /// The expression failed on these facts (e.g. comparing a string with a number).
    #[error("the expression cannot be evaluated on these facts: {0}")]
    Failed(String),
    /// The expression gave something other than true or false.
    #[error("the expression gave {0}, not true or false")]
    NotBoolean(String),
}

/// A compiled expression. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Expression(pub(super) Arc<Compiled>);

/// What compiling found, kept for evaluating.
#[derive(Debug)]
pub(super) struct Compiled {
    /// The source text.
    pub(super) source: String,
    /// The syntax tree.
    pub(super) expr: IdedExpr,
    /// Fact paths the expression reads, e.g. `history.disputes_12m`, except those it tests
    /// with `has(...)` first.
    pub(super) facts: BTreeSet<String>,
    /// Parameter names it reads, e.g. `limits.auto_refund`.
    pub(super) parameters: BTreeSet<String>,
    /// The values of those parameters it was compiled with (and its cost estimated for).
    pub(super) compiled_with: BTreeMap<String, Json>,
    /// The sub-conditions joined by `&&`, `||` and `!` at the top: source text and node.
    pub(super) conditions: Vec<(String, IdedExpr)>,
    /// Estimated steps on the largest facts allowed.
    pub(super) cost: u64,
    /// How deep evaluating recurses.
    pub(super) depth: usize,
}

/// One sub-condition of an evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// Its source text.
    pub source: String,
    /// What it gave: `true`, `false`, another value, or the error.
    pub value: Json,
    /// Whether it held (gave `true`).
    pub held: bool,
}

/// The result of evaluating an expression on one case.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// The expression's result.
    pub result: bool,
    /// Each top-level sub-condition and what it gave.
    pub conditions: Vec<Condition>,
    /// The parameter values the expression read.
    pub parameters_used: BTreeMap<String, Json>,
    /// The fact values the expression read.
    pub facts_used: BTreeMap<String, Json>,
}

/// The standard CEL environment, built once: building it registers hundreds of overloads.
pub(super) static ENV: LazyLock<Arc<Env>> = LazyLock::new(|| Arc::new(Env::stdlib()));

impl Expression {
    /// Compiles `source` for `parameters`: refuses bad syntax, references to parameters that
    /// do not exist, results that cannot be boolean and expressions too costly to run.
    pub fn compile(source: &str, parameters: &Parameters) -> Result<Self, ExpressionError> {
        if source.trim().is_empty() {
            return Err(ExpressionError::new(None, "the expression is empty"));
        }
        let chars = source.chars().count();
        if chars > MAX_SOURCE_CHARS {
            return Err(ExpressionError::new(
                Some(MAX_SOURCE_CHARS + 1),
                format!(
                    "the expression is {chars} characters long; the limit is {MAX_SOURCE_CHARS}"
                ),
            ));
        }
        on_large_stack(|| compile_here(source, parameters))
            .unwrap_or_else(|panic| Err(ExpressionError::new(None, internal_error(&*panic))))
    }

    /// The source text.
    pub fn source(&self) -> &str {
        &self.0.source
    }

    /// The fact paths the expression reads (except those it only reads after testing with
    /// `has`).
    pub fn fact_paths(&self) -> &BTreeSet<String> {
        &self.0.facts
    }

    /// The parameter names the expression reads.
    pub fn parameter_names(&self) -> &BTreeSet<String> {
        &self.0.parameters
    }

    /// The estimated cost of one evaluation on the largest facts allowed, in the steps
    /// [`MAX_COST`] counts.
    pub fn estimated_cost(&self) -> u64 {
        self.0.cost
    }

    /// Evaluates on a case's `facts` (a JSON object) with `parameters`, explaining each
    /// top-level sub-condition.
    pub fn evaluate(
        &self,
        parameters: &Parameters,
        facts: &Json,
    ) -> Result<Evaluation, EvaluationError> {
        let work = || self.evaluate_here(parameters, facts);
        let outcome = if self.0.depth <= INLINE_DEPTH {
            // Shallow enough for any caller's stack: spare the thread (most of the time
            // of a simple evaluation).
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
        } else {
            on_large_stack(work)
        };
        outcome.unwrap_or_else(|panic| Err(EvaluationError::Failed(internal_error(&*panic))))
    }
}

/// Runs `work` on a thread with a stack large enough for the parser and the evaluator on
/// the deepest expression allowed, whatever the caller's stack. A panic comes back as `Err`.
pub(super) fn on_large_stack<T: Send>(
    work: impl FnOnce() -> T + Send,
) -> Result<T, Box<dyn Any + Send>> {
    std::thread::scope(|scope| {
        let thread = std::thread::Builder::new()
            .name("caseload-cel".into())
            .stack_size(STACK_BYTES)
            .spawn_scoped(scope, work);
        match thread {
            Ok(handle) => handle.join(),
            Err(e) => Err(
                Box::new(format!("could not start the evaluation thread: {e}"))
                    as Box<dyn Any + Send>,
            ),
        }
    })
}

fn internal_error(panic: &(dyn Any + Send)) -> String {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown");
    format!("internal error in the expression engine: {message}")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::criterion::test_support::{RULE, compile, names, refund, refused};

    #[test]
    fn a_threshold_rule_compiles_and_knows_the_facts_and_parameters_it_reads() {
        let expression = compile(RULE).expect("compiles");
        assert_eq!(
            names(expression.fact_paths()),
            ["amount", "history.disputes_12m"]
        );
        assert_eq!(names(expression.parameter_names()), ["limits.auto_refund"]);
        assert_eq!(expression.source(), RULE);
        assert!(
            expression.estimated_cost() < 100,
            "{}",
            expression.estimated_cost()
        );
    }

    #[test]
    fn an_expression_over_the_length_limit_is_refused() {
        let long = format!("amount < 1{}", " ".repeat(3_000));
        let error = refused(&long);
        assert_eq!(error.position, Some(MAX_SOURCE_CHARS + 1));
        assert!(error.reason.contains("3010 characters"), "{error}");
        compile(&format!("amount < 1{}", " ".repeat(MAX_SOURCE_CHARS - 10)))
            .expect("exactly at the limit");
    }

    #[test]
    fn an_empty_expression_is_refused() {
        for source in ["", "   ", "\n\t"] {
            assert_eq!(refused(source).reason, "the expression is empty");
        }
    }

    #[test]
    fn the_deepest_expressions_allowed_compile_and_run() {
        let shapes: [(&str, &str, &str); 8] = [
            ("(", ")", " == 1.0"),
            ("[", "]", " != []"),
            ("int(", ")", " == 1"),
            ("{'k': ", "}", " != {}"),
            ("[size(", ")]", " != []"),
            ("true ? ", " : false", ""),
            ("!(", ")", ""),
            ("[1.0].exists(x, x + ", ") > 0", ""),
        ];
        for (open, close, tail) in shapes {
            let build = |n: usize| format!("{}amount{}{tail}", open.repeat(n), close.repeat(n));
            let deepest = (1..=60)
                .take_while(|n| compile(&build(*n)).is_ok())
                .last()
                .expect("some nesting is fine");
            let expression = compile(&build(deepest)).expect("compiles");
            let outcome = expression.evaluate(&refund(), &json!({"amount": 1}));
            assert!(
                !matches!(&outcome, Err(EvaluationError::Failed(e)) if e.contains("internal")),
                "{outcome:?}"
            );
            assert!(deepest >= 1, "{open}");
        }
    }

    #[test]
    fn shallow_expressions_evaluate_within_half_a_default_thread_stack() {
        // Evaluated on the caller's thread: check that the deepest such expression, on the
        // deepest facts, fits comfortably in the 2 MiB a thread gets by default.
        let mut deep_facts = json!([1.0, 2.0]);
        for _ in 0..MAX_FACT_DEPTH - 2 {
            deep_facts = json!({ "a": deep_facts });
        }
        let facts = json!({"amount": 1, "deep": deep_facts, "items": [1, 2, 3]});
        let sources = [
            format!("{}amount{} == 1", "int(".repeat(10), ")".repeat(10)),
            format!(
                "{}true{}",
                "(amount > 0 ? ".repeat(5),
                " : false)".repeat(5)
            ),
            format!("[{}[amount]{}] != []", "[".repeat(8), "]".repeat(8)),
            "items.map(x, [[x * 2.0]]).exists(y, size(y) > int(amount) || y[0][0] > 1.0)"
                .to_owned(),
            "has(deep.a.a.a.a.a.a) && deep.a.a.a.a.a.a.a != {} && size(deep) == 1".to_owned(),
        ];
        for source in sources {
            let expression = compile(&source).unwrap_or_else(|e| panic!("{source}: {e}"));
            assert!(
                expression.0.depth <= INLINE_DEPTH,
                "{source}: {}",
                expression.0.depth
            );
            let facts = facts.clone();
            let run = move || expression.evaluate(&refund(), &facts).map(|e| e.result);
            let outcome = std::thread::Builder::new()
                .stack_size(1 << 20)
                .spawn(run)
                .expect("thread")
                .join()
                .expect("no overflow, no panic");
            assert!(outcome.is_ok(), "{source}: {outcome:?}");
        }
    }
}
