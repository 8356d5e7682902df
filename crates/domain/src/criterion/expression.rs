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

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, LazyLock};

use cel::common::ast::{EntryExpr, Expr, IdedExpr, LiteralValue, SourceInfo};
use cel::{Context, Env, Value};
use serde_json::Value as Json;

use super::settings::Parameters;

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

/// Characters of text that count as one step.
const TEXT_PER_STEP: u64 = 64;
/// What one `matches` may cost: CEL compiles the pattern on every call, and a pathological
/// pattern takes up to about a tenth of a second before the regex engine gives up. (There
/// may be one, outside the macros that iterate.)
const REGEX_COST: u64 = MAX_COST / 4;
/// Weight of any value taken from the facts, in steps: the most [`check_facts`] allows.
const FACT_WEIGHT: u64 = MAX_FACT_VALUES as u64 + MAX_FACT_TEXT as u64 / TEXT_PER_STEP;
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
    fn new(position: Option<usize>, reason: impl Into<String>) -> Self {
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
pub struct Expression(Arc<Compiled>);

#[derive(Debug)]
struct Compiled {
    source: String,
    expr: IdedExpr,
    /// Fact paths the expression reads, e.g. `history.disputes_12m`, except those it tests
    /// with `has(...)` first.
    facts: BTreeSet<String>,
    /// Parameter names it reads, e.g. `limits.auto_refund`.
    parameters: BTreeSet<String>,
    /// The values of those parameters it was compiled with (and its cost estimated for).
    compiled_with: BTreeMap<String, Json>,
    /// The sub-conditions joined by `&&`, `||` and `!` at the top: source text and node.
    conditions: Vec<(String, IdedExpr)>,
    /// Estimated steps on the largest facts allowed.
    cost: u64,
    /// How deep evaluating recurses.
    depth: usize,
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
static ENV: LazyLock<Arc<Env>> = LazyLock::new(|| Arc::new(Env::stdlib()));

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

fn compile_here(source: &str, parameters: &Parameters) -> Result<Expression, ExpressionError> {
    let (expr, info) = parse(source)?;
    let at = Located {
        source,
        info: &info,
        root: &expr,
    };

    if !may_be_boolean(&expr) {
        return Err(ExpressionError::new(
            at.start(expr.id),
            "the expression must give true or false (a comparison, a logical combination, or a test such as in, has, contains, exists)",
        ));
    }

    let mut check = Check {
        at: &at,
        parameters,
        nodes: 0,
        scopes: Vec::new(),
        in_comprehension: false,
        tested: BTreeSet::new(),
        reads: Vec::new(),
        patterns: Vec::new(),
        regexes: 0,
        deepest: 0,
    };
    check.visit(&expr, 1)?;

    let mut facts = BTreeSet::new();
    let mut used = BTreeSet::new();
    let namespaces = parameters.namespaces();
    for (path, id) in &check.reads {
        let root = path.split('.').next().unwrap_or(path);
        if !namespaces.contains(root) {
            if !check
                .tested
                .iter()
                .any(|t| path == t || path.starts_with(&format!("{t}.")))
            {
                facts.insert(path.clone());
            }
            continue;
        }
        if parameters.get(path).is_some() {
            used.insert(path.clone());
            continue;
        }
        let members: Vec<String> = parameters
            .names()
            .into_iter()
            .filter(|n| n.starts_with(&format!("{path}.")))
            .collect();
        let reason = if members.is_empty() {
            format!(
                "unknown parameter '{path}'; the parameters are {}",
                list(&parameters.names())
            )
        } else {
            format!(
                "'{path}' is a group of parameters; name one of them: {}",
                list(&members)
            )
        };
        return Err(ExpressionError::new(at.start(*id), reason));
    }

    let mut estimator = Estimator::new(parameters);
    let cost = estimator.total(&expr);
    if cost > MAX_COST {
        let costliest = estimator.costliest.map_or(expr.id, |(_, id)| id);
        return Err(ExpressionError::new(
            at.start(costliest),
            format!(
                "the expression could cost too much to evaluate: about {cost} steps on the largest facts allowed (lists of {MAX_FACT_LIST} items), the limit is {MAX_COST}; iterate over shorter lists or do less for each item"
            ),
        ));
    }

    for (id, pattern) in &check.patterns {
        check_pattern(pattern).map_err(|reason| ExpressionError::new(at.start(*id), reason))?;
    }

    let mut conditions = Vec::new();
    collect_conditions(&expr, &mut |node| {
        let text = at.text(node).unwrap_or_else(|| source.trim().to_owned());
        conditions.push((text, node.clone()));
    });

    let depth = check.deepest;
    let compiled_with = used
        .iter()
        .filter_map(|n| parameters.get(n).map(|v| (n.clone(), v.clone())))
        .collect();
    Ok(Expression(Arc::new(Compiled {
        source: source.to_owned(),
        expr,
        facts,
        parameters: used,
        compiled_with,
        conditions,
        cost,
        depth,
    })))
}

/// Parses with the nesting limit, turning the parser's first error into ours.
fn parse(source: &str) -> Result<(IdedExpr, SourceInfo), ExpressionError> {
    cel::parser::Parser::new()
        .max_recursion_depth(MAX_DEPTH)
        .parse_with_source_info(source)
        .map_err(|errors| {
            let Some(first) = errors.errors.first() else {
                return ExpressionError::new(None, "syntax error");
            };
            // The grammar's errors count columns in characters; those of macro expansion
            // (e.g. `has(1)`) in bytes.
            let grammar = first.msg.strip_prefix("Syntax error: ");
            let position =
                line_column_position(source, first.pos.0, first.pos.1, grammar.is_none());
            let message = grammar.unwrap_or(&first.msg);
            let reason = if message.contains("Recursion limit") {
                format!("the expression is nested more than {MAX_DEPTH} levels deep")
            } else {
                format!("syntax error: {}", message.replace('\n', " "))
            };
            ExpressionError::new(position, reason)
        })
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

/// A JSON value as CEL sees it. Every number is a double, so that a fact compares and
/// computes the same way whether a client sent `50` or `50.0`.
fn to_cel(value: &Json) -> Value {
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
fn describe(value: &Value) -> String {
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
fn explain(error: &cel::ExecutionError) -> String {
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

/// The JSON value at a dotted path.
fn lookup<'a>(facts: &'a Json, path: &str) -> Option<&'a Json> {
    path.split('.')
        .try_fold(facts, |value, segment| value.as_object()?.get(segment))
}

/// At most the first 20 names, for error messages.
fn list(names: &[String]) -> String {
    match names.len() {
        0 => "none".to_owned(),
        n if n > 20 => format!("{}, ...", names[..20].join(", ")),
        _ => names.join(", "),
    }
}

/// The 1-based character position of a byte offset.
fn char_position(source: &str, byte: usize) -> usize {
    source.get(..byte).map_or(byte, |s| s.chars().count()) + 1
}

/// The 1-based character position of the parser's 1-based line and column.
fn line_column_position(source: &str, line: isize, column: isize, bytes: bool) -> Option<usize> {
    let (line, column) = (usize::try_from(line).ok()?, usize::try_from(column).ok()?);
    if line == 0 || column == 0 {
        return None;
    }
    let lines: Vec<&str> = source.split('\n').collect();
    let before: usize = lines
        .iter()
        .take(line - 1)
        .map(|l| l.chars().count() + 1)
        .sum();
    let column = match (bytes, lines.get(line - 1)) {
        (true, Some(text)) => text
            .get(..column - 1)
            .map_or(column, |s| s.chars().count() + 1),
        _ => column,
    };
    Some((before + column).min(source.chars().count() + 1))
}

/// Names CEL gives types; a fact of the same name would hide the type.
const TYPE_NAMES: &[&str] = &[
    "bool",
    "bytes",
    "double",
    "int",
    "list",
    "map",
    "null_type",
    "string",
    "type",
    "uint",
];
/// Functions called as `f(x)`, besides operators, with their number of arguments.
const GLOBAL_FUNCTIONS: &[(&str, usize)] = &[
    ("bool", 1),
    ("bytes", 1),
    ("double", 1),
    ("dyn", 1),
    ("int", 1),
    ("matches", 2),
    ("size", 1),
    ("string", 1),
    ("type", 1),
    ("uint", 1),
];
/// Functions called as `x.f(y)`, with their number of arguments.
const MEMBER_FUNCTIONS: &[(&str, usize)] = &[
    ("contains", 1),
    ("endsWith", 1),
    ("matches", 1),
    ("size", 0),
    ("startsWith", 1),
];
/// Reserved by CEL: not usable as names.
pub(super) const RESERVED_WORDS: &[&str] = &[
    "as",
    "break",
    "const",
    "continue",
    "else",
    "false",
    "for",
    "function",
    "if",
    "import",
    "in",
    "let",
    "loop",
    "package",
    "namespace",
    "null",
    "return",
    "true",
    "var",
    "void",
    "while",
];

/// What kind of number an expression gives, as far as can be told without running it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Number {
    Int,
    Uint,
    /// A double, or a fact or parameter (JSON numbers are doubles).
    Double,
    /// Not a number, or not known.
    Other,
}

/// The static checks, in one walk: size, depth, nesting of macros, known functions,
/// arithmetic on numbers of one kind; and the names read.
struct Check<'a> {
    at: &'a Located<'a>,
    parameters: &'a Parameters,
    nodes: usize,
    /// Variables bound by the enclosing comprehension.
    scopes: Vec<String>,
    in_comprehension: bool,
    /// Paths tested with `has(...)`.
    tested: BTreeSet<String>,
    /// Every qualified name read, with the id of the node reading it.
    reads: Vec<(String, u64)>,
    /// Regular expressions known at compile time, with the id of their node.
    patterns: Vec<(u64, String)>,
    /// Calls of `matches`.
    regexes: usize,
    /// The deepest node, counting each field of a path.
    deepest: usize,
}

impl Check<'_> {
    /// An error at the start of the node with this id.
    fn error(&self, id: u64, reason: impl Into<String>) -> ExpressionError {
        ExpressionError::new(self.at.start(id), reason)
    }

    /// An error at the node's own token, e.g. an operator.
    fn error_at_token(&self, id: u64, reason: impl Into<String>) -> ExpressionError {
        ExpressionError::new(self.at.token(id), reason)
    }

    fn visit(&mut self, node: &IdedExpr, depth: usize) -> Result<Number, ExpressionError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(ExpressionError::new(
                None,
                format!("the expression is too complex (more than {MAX_NODES} parts)"),
            ));
        }
        if depth > usize::from(MAX_DEPTH) {
            return Err(self.error(
                node.id,
                format!("the expression is nested more than {MAX_DEPTH} levels deep"),
            ));
        }
        self.deepest = self.deepest.max(depth);
        if let Some(path) = qualified_name(node) {
            self.nodes += path.matches('.').count();
            self.deepest = self.deepest.max(depth + path.matches('.').count());
            let root = path.split('.').next().unwrap_or(&path);
            if self.scopes.iter().any(|s| s == root) || root.starts_with('@') {
                return Ok(Number::Other);
            }
            if TYPE_NAMES.contains(&path.as_str()) {
                return Ok(Number::Other);
            }
            let number = match self.parameters.get(&path) {
                Some(value) if !value.is_number() => Number::Other,
                _ => Number::Double,
            };
            self.reads.push((path, root_id(node)));
            return Ok(number);
        }
        match &node.expr {
            Expr::Select(select) => {
                if let Some(path) = qualified_name(&select.operand).filter(|_| select.test) {
                    let full = format!("{path}.{}", select.field);
                    let root = path.split('.').next().unwrap_or(&path);
                    if self.parameters.namespaces().contains(root)
                        && !self.scopes.iter().any(|s| s == root)
                    {
                        // `has(limits.x)` asks about a parameter, known now: it must exist.
                        self.reads.push((full, root_id(&select.operand)));
                        return Ok(Number::Other);
                    }
                    self.tested.insert(full);
                }
                self.visit(&select.operand, depth + 1)?;
                Ok(Number::Other)
            }
            Expr::Call(call) => self.visit_call(node.id, call, depth),
            Expr::Comprehension(c) => {
                if self.in_comprehension {
                    return Err(self.error(
                        node.id,
                        "macros that iterate (all, exists, exists_one, map, filter) may not be nested",
                    ));
                }
                self.visit(&c.iter_range, depth + 1)?;
                self.in_comprehension = true;
                let outer = self.scopes.len();
                self.scopes.push(c.iter_var.clone());
                self.scopes.extend(c.iter_var2.clone());
                self.scopes.push(c.accu_var.clone());
                for part in [&c.accu_init, &c.loop_cond, &c.loop_step, &c.result] {
                    self.visit(part, depth + 1)?;
                }
                self.scopes.truncate(outer);
                self.in_comprehension = false;
                Ok(Number::Other)
            }
            Expr::List(list) => {
                for element in &list.elements {
                    self.visit(element, depth + 1)?;
                }
                Ok(Number::Other)
            }
            Expr::Map(map) => {
                for entry in &map.entries {
                    self.nodes += 1;
                    if let EntryExpr::MapEntry(e) = &entry.expr {
                        self.visit(&e.key, depth + 1)?;
                        self.visit(&e.value, depth + 1)?;
                    }
                }
                Ok(Number::Other)
            }
            Expr::Struct(_) => Err(self.error(node.id, "message literals are not supported")),
            Expr::Literal(LiteralValue::Int(_)) => Ok(Number::Int),
            Expr::Literal(LiteralValue::UInt(_)) => Ok(Number::Uint),
            Expr::Literal(LiteralValue::Double(_)) => Ok(Number::Double),
            Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => Ok(Number::Other),
        }
    }

    fn visit_call(
        &mut self,
        id: u64,
        call: &cel::common::ast::CallExpr,
        depth: usize,
    ) -> Result<Number, ExpressionError> {
        let name = call.func_name.as_str();
        let operator =
            name.starts_with('_') || name.starts_with('@') || name == "!_" || name == "-_";
        if !operator {
            let (functions, how) = match &call.target {
                Some(_) => (MEMBER_FUNCTIONS, format!("x.{name}(...)")),
                None => (GLOBAL_FUNCTIONS, format!("{name}(...)")),
            };
            let Some((_, arity)) = functions.iter().find(|(f, _)| *f == name) else {
                let names = |fs: &[(&str, usize)], prefix: &str| {
                    fs.iter()
                        .map(|(f, _)| format!("{prefix}{f}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                return Err(self.error(
                    id,
                    format!(
                        "unknown function '{how}'; the functions are {}, {} and the macros has, all, exists, exists_one, map, filter",
                        names(GLOBAL_FUNCTIONS, ""),
                        names(MEMBER_FUNCTIONS, "x.")
                    ),
                ));
            };
            if call.args.len() != *arity {
                let plural = if *arity == 1 { "" } else { "s" };
                return Err(self.error(id, format!("'{how}' takes {arity} argument{plural}")));
            }
        }
        let mut kinds = Vec::with_capacity(call.args.len() + 1);
        if let Some(target) = &call.target {
            kinds.push(self.visit(target, depth + 1)?);
        }
        for arg in &call.args {
            kinds.push(self.visit(arg, depth + 1)?);
        }
        if name == "matches" {
            // CEL compiles the pattern on every call, which can take a tenth of a second.
            if self.in_comprehension {
                return Err(self.error(
                    id,
                    "'matches' may not be used inside all, exists, exists_one, map or filter: it compiles its pattern for every item",
                ));
            }
            if self.regexes > 0 {
                return Err(self.error(
                    id,
                    "at most one 'matches' per expression: it compiles its pattern on every call; combine patterns with '|'",
                ));
            }
            self.regexes += 1;
            let pattern = call.args.last();
            let known = pattern.and_then(|p| match &p.expr {
                Expr::Literal(LiteralValue::String(s)) => Some(s.inner().to_owned()),
                _ => qualified_name(p)
                    .and_then(|path| self.parameters.get(&path))
                    .and_then(Json::as_str)
                    .map(str::to_owned),
            });
            if let (Some(p), Some(pattern)) = (pattern, known) {
                self.patterns.push((p.id, pattern));
            }
        }
        Ok(match (name, kinds.as_slice()) {
            ("_+_" | "_-_" | "_*_" | "_/_" | "_%_", [a, b]) => self.arithmetic(id, name, *a, *b)?,
            ("-_", [a]) => *a,
            ("size" | "int", _) => Number::Int,
            ("uint", _) => Number::Uint,
            ("double", _) => Number::Double,
            _ => Number::Other,
        })
    }

    /// Refuses arithmetic CEL would refuse at run time for any facts.
    fn arithmetic(
        &self,
        id: u64,
        name: &str,
        a: Number,
        b: Number,
    ) -> Result<Number, ExpressionError> {
        let symbol = name.trim_matches('_');
        if name == "_%_" && (a == Number::Double || b == Number::Double) {
            return Err(self.error_at_token(
                id,
                "'%' needs whole numbers, and facts, parameters and decimals are not: convert with int(...)",
            ));
        }
        match (a, b) {
            (Number::Other, _) | (_, Number::Other) => Ok(Number::Other),
            (a, b) if a == b => Ok(a),
            _ => Err(self.error_at_token(
                id,
                format!(
                    "'{symbol}' mixes a whole number with a decimal; facts and parameters are decimals (JSON numbers), so write 2.0 rather than 2, or convert with double(...) or int(...)"
                ),
            )),
        }
    }
}

/// Checks a regular expression known at compile time, the way `matches` will compile it.
fn check_pattern(pattern: &str) -> Result<(), String> {
    static PROBE: LazyLock<Option<IdedExpr>> =
        LazyLock::new(|| cel::parser::Parser::new().parse("''.matches(pattern)").ok());
    let Some(probe) = PROBE.as_ref() else {
        return Ok(());
    };
    let mut context = Context::with_env(Arc::clone(&ENV));
    context.add_variable_from_value("pattern", pattern.to_owned());
    match Value::resolve(probe, &context) {
        Ok(_) => Ok(()),
        Err(e) => Err(format!(
            "invalid regular expression: {}",
            e.to_string().replace('\n', " ")
        )),
    }
}

/// The id of the identifier a chain of selections starts from, where its text starts.
fn root_id(node: &IdedExpr) -> u64 {
    match &node.expr {
        Expr::Select(select) => root_id(&select.operand),
        _ => node.id,
    }
}

/// `a`, `a.b.c` as text, for identifiers and plain field selections.
fn qualified_name(node: &IdedExpr) -> Option<String> {
    match &node.expr {
        Expr::Ident(name) => Some(name.clone()),
        Expr::Select(select) if !select.test => {
            qualified_name(&select.operand).map(|p| format!("{p}.{}", select.field))
        }
        _ => None,
    }
}

/// Whether the node may give a boolean; `false` only when it surely cannot.
fn may_be_boolean(node: &IdedExpr) -> bool {
    match &node.expr {
        Expr::Literal(LiteralValue::Boolean(_)) => true,
        Expr::Literal(_) | Expr::List(_) | Expr::Map(_) | Expr::Struct(_) | Expr::Unspecified => {
            false
        }
        // A fact may itself be a boolean; that is checked when it runs.
        Expr::Ident(_) | Expr::Select(_) => true,
        Expr::Call(call) => match call.func_name.as_str() {
            "_?_:_" => call.args.iter().skip(1).all(may_be_boolean),
            "_+_" | "_-_" | "_*_" | "_/_" | "_%_" | "-_" => false,
            "size" | "int" | "uint" | "double" | "string" | "bytes" | "type" => false,
            _ => true,
        },
        // `map` and `filter` build a list; `all`, `exists` and `exists_one` give a boolean.
        Expr::Comprehension(c) => !matches!(c.accu_init.expr, Expr::List(_)),
    }
}

/// Calls `emit` for each leaf under the top-level `&&`, `||` and `!`.
fn collect_conditions<'a>(node: &'a IdedExpr, emit: &mut dyn FnMut(&'a IdedExpr)) {
    match &node.expr {
        Expr::Call(call)
            if matches!(call.func_name.as_str(), "_&&_" | "_||_" | "!_")
                && call.target.is_none() =>
        {
            call.args.iter().for_each(|a| collect_conditions(a, emit));
        }
        _ => emit(node),
    }
}

/// Positions and text of nodes in the source they were parsed from.
struct Located<'a> {
    source: &'a str,
    info: &'a SourceInfo,
    root: &'a IdedExpr,
}

impl Located<'_> {
    /// The 1-based character position of the node's own token.
    fn token(&self, id: u64) -> Option<usize> {
        self.info
            .offset_for(id)
            .map(|(start, _)| char_position(self.source, start as usize))
    }

    /// The 1-based character position where the node with this id starts.
    fn start(&self, id: u64) -> Option<usize> {
        let mut found = None;
        visit_all(self.root, &mut |n| {
            if n.id == id && found.is_none() {
                found = Some(n.clone());
            }
        });
        let (start, _) = self.span(&found?)?;
        Some(char_position(self.source, start))
    }

    /// The bytes from the first token of the node to its last. A selection's own token is
    /// its dot, so the field name after the dot is taken in here.
    fn extent(&self, node: &IdedExpr) -> Option<(usize, usize)> {
        let mut extent = self
            .info
            .offset_for(node.id)
            .map(|(s, e)| (s as usize, e as usize + 1));
        let mut merge = |other: Option<(usize, usize)>| {
            extent = match (extent, other) {
                (Some((s1, e1)), Some((s2, e2))) => Some((s1.min(s2), e1.max(e2))),
                (one, other) => one.or(other),
            };
        };
        match &node.expr {
            Expr::Select(select) => {
                let operand = self.extent(&select.operand);
                merge(operand);
                if let Some((_, end)) = operand {
                    let rest = self.source.get(end..).unwrap_or_default().trim_start();
                    let field = rest.strip_prefix('.').map(str::trim_start);
                    if let Some(field) = field.filter(|f| f.starts_with(select.field.as_str())) {
                        let field_start = self.source.len() - field.len();
                        merge(Some((field_start, field_start + select.field.len())));
                    }
                }
            }
            Expr::Call(call) => {
                call.target.iter().for_each(|t| merge(self.extent(t)));
                call.args.iter().for_each(|a| merge(self.extent(a)));
            }
            Expr::List(list) => list.elements.iter().for_each(|e| merge(self.extent(e))),
            Expr::Map(map) => {
                for entry in &map.entries {
                    if let EntryExpr::MapEntry(e) = &entry.expr {
                        merge(self.extent(&e.key));
                        merge(self.extent(&e.value));
                    }
                }
            }
            Expr::Comprehension(c) => {
                for part in [
                    &c.iter_range,
                    &c.accu_init,
                    &c.loop_cond,
                    &c.loop_step,
                    &c.result,
                ] {
                    merge(self.extent(part));
                }
            }
            Expr::Struct(_) | Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
        }
        extent
    }

    /// The node's source text.
    fn text(&self, node: &IdedExpr) -> Option<String> {
        let (start, end) = self.span(node)?;
        Some(self.source[start..end].trim().to_owned())
    }

    /// The bytes of a node's text: from its first token to its last, widened to take in the
    /// name of a call and the brackets it opens or closes.
    fn span(&self, node: &IdedExpr) -> Option<(usize, usize)> {
        let source = self.source;
        let (mut start, mut end) = self.extent(node)?;
        if start >= end
            || end > source.len()
            || !source.is_char_boundary(start)
            || !source.is_char_boundary(end)
        {
            return None;
        }
        let bytes = source.as_bytes();
        // A global call's node sits on its '(': take in the function's name.
        if bytes[start] == b'(' {
            let mut s = start;
            while s > 0 && (bytes[s - 1] == b' ' || bytes[s - 1] == b'\t') {
                s -= 1;
            }
            let name_end = s;
            while s > 0 && (bytes[s - 1].is_ascii_alphanumeric() || bytes[s - 1] == b'_') {
                s -= 1;
            }
            if s < name_end {
                start = s;
            }
        }
        let (mut unclosed, mut unopened) = bracket_balance(&source[start..end]);
        while unclosed > 0 {
            let rest = &source[end..];
            let trimmed = rest.trim_start();
            match trimmed.chars().next() {
                Some(')' | ']' | '}') => {
                    end += rest.len() - trimmed.len() + 1;
                    unclosed -= 1;
                }
                _ => break,
            }
        }
        while unopened > 0 {
            let trimmed = source[..start].trim_end();
            match trimmed.chars().last() {
                Some('(' | '[' | '{') => {
                    start = trimmed.len() - 1;
                    unopened -= 1;
                }
                _ => break,
            }
        }
        Some((start, end))
    }
}

/// Brackets opened and not closed, and closed and not opened, outside string literals.
fn bracket_balance(text: &str) -> (usize, usize) {
    let (mut open, mut unopened) = (0usize, 0usize);
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\'' | '"' => {
                let raw = i > 0 && matches!(chars[i - 1], 'r' | 'R');
                let triple = chars.get(i + 1) == Some(&c) && chars.get(i + 2) == Some(&c);
                i += if triple { 3 } else { 1 };
                while i < chars.len() {
                    if chars[i] == '\\' && !raw {
                        i += 2;
                        continue;
                    }
                    if chars[i] == c
                        && (!triple
                            || (chars.get(i + 1) == Some(&c) && chars.get(i + 2) == Some(&c)))
                    {
                        i += if triple { 2 } else { 0 };
                        break;
                    }
                    i += 1;
                }
            }
            '(' | '[' | '{' => open += 1,
            ')' | ']' | '}' if open > 0 => open -= 1,
            ')' | ']' | '}' => unopened += 1,
            _ => {}
        }
        i += 1;
    }
    (open, unopened)
}

/// Calls `f` on every node under `node`, itself included.
fn visit_all(node: &IdedExpr, f: &mut dyn FnMut(&IdedExpr)) {
    f(node);
    match &node.expr {
        Expr::Call(call) => {
            call.target.iter().for_each(|t| visit_all(t, f));
            call.args.iter().for_each(|a| visit_all(a, f));
        }
        Expr::Select(select) => visit_all(&select.operand, f),
        Expr::List(list) => list.elements.iter().for_each(|e| visit_all(e, f)),
        Expr::Map(map) => {
            for entry in &map.entries {
                if let EntryExpr::MapEntry(e) = &entry.expr {
                    visit_all(&e.key, f);
                    visit_all(&e.value, f);
                }
            }
        }
        Expr::Comprehension(c) => {
            for part in [
                &c.iter_range,
                &c.accu_init,
                &c.loop_cond,
                &c.loop_step,
                &c.result,
            ] {
                visit_all(part, f);
            }
        }
        Expr::Struct(_) | Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
    }
}

/// `fixed + per * w`, where `w` is the weight of the item a comprehension is at: within one
/// comprehension the items' weights add up to at most the weight of the whole range, so a
/// cost linear in `w` sums over the iterations without multiplying by the number of items.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Linear {
    fixed: u64,
    per: u64,
}

impl Linear {
    const ONE: Self = Self::fixed(1);

    const fn fixed(fixed: u64) -> Self {
        Self { fixed, per: 0 }
    }

    fn plus(self, other: Self) -> Self {
        Self {
            fixed: self.fixed.saturating_add(other.fixed),
            per: self.per.saturating_add(other.per),
        }
    }

    /// An upper bound of both.
    fn max(self, other: Self) -> Self {
        Self {
            fixed: self.fixed.max(other.fixed),
            per: self.per.max(other.per),
        }
    }

    /// The value when the item weighs `w`.
    fn at(self, w: u64) -> u64 {
        self.fixed.saturating_add(self.per.saturating_mul(w))
    }

    /// The one of the two that is smaller on a large item: an upper bound of their minimum.
    fn smaller(self, other: Self) -> Self {
        if self.at(FACT_WEIGHT) <= other.at(FACT_WEIGHT) {
            self
        } else {
            other
        }
    }
}

/// Upper bounds for one value: how many items it has (if a list or map), and its weight
/// (steps to copy or scan it whole).
#[derive(Debug, Clone, Copy)]
struct Size {
    items: Linear,
    weight: Linear,
    /// Taken from the facts: bounded by what [`check_facts`] lets through.
    fact: bool,
}

impl Size {
    const SCALAR: Self = Self {
        items: Linear::fixed(0),
        weight: Linear::ONE,
        fact: false,
    };
    const FACTS: Self = Self {
        items: Linear::fixed(MAX_FACT_LIST as u64),
        weight: Linear::fixed(FACT_WEIGHT),
        fact: true,
    };

    fn text(chars: usize) -> Self {
        Self {
            items: Linear::fixed(0),
            weight: Linear::fixed(1 + chars as u64 / TEXT_PER_STEP),
            fact: false,
        }
    }

    /// Its weight as text, for functions that only take strings (or scalars): a fact given
    /// to them is a string, or they fail at once.
    fn text_weight(self) -> Linear {
        if self.fact {
            Linear::fixed(1 + MAX_FACT_TEXT as u64 / TEXT_PER_STEP)
        } else {
            self.weight
        }
    }

    /// A part of this value: a list item, a map value or a field.
    fn part(self) -> Self {
        if self.fact {
            Self::FACTS
        } else {
            Self {
                items: self.weight,
                weight: self.weight,
                fact: false,
            }
        }
    }

    fn of_json(value: &Json) -> Self {
        match value {
            Json::String(s) => Self::text(s.chars().count()),
            Json::Array(items) => Self {
                items: Linear::fixed(items.len() as u64),
                weight: items
                    .iter()
                    .map(|i| Self::of_json(i).weight)
                    .fold(Linear::ONE, Linear::plus),
                fact: false,
            },
            Json::Object(map) => Self {
                items: Linear::fixed(map.len() as u64),
                weight: map
                    .iter()
                    .map(|(k, v)| {
                        Self::text(k.chars().count())
                            .weight
                            .plus(Self::of_json(v).weight)
                    })
                    .fold(Linear::ONE, Linear::plus),
                fact: false,
            },
            _ => Self::SCALAR,
        }
    }
}

/// A value's size and the cost of computing it.
#[derive(Debug, Clone, Copy)]
struct Estimate {
    size: Size,
    cost: Linear,
}

/// Estimates the cost of an expression on the largest facts allowed (see the module doc).
/// Comparing two values counts one step per item; copying (`+`, list literals, `map`)
/// counts their whole weight.
struct Estimator<'a> {
    parameters: &'a Parameters,
    /// Names bound by the comprehension being estimated, with their size.
    bound: Vec<(String, Size)>,
    /// The costliest comprehension: its cost and node id.
    costliest: Option<(u64, u64)>,
}

impl<'a> Estimator<'a> {
    fn new(parameters: &'a Parameters) -> Self {
        Self {
            parameters,
            bound: Vec::new(),
            costliest: None,
        }
    }

    fn total(&mut self, expr: &IdedExpr) -> u64 {
        self.estimate(expr).cost.at(FACT_WEIGHT)
    }

    fn name(&self, path: &str) -> Size {
        let root = path.split('.').next().unwrap_or(path);
        if let Some((_, size)) = self.bound.iter().rev().find(|(name, _)| name == root) {
            return if root == path { *size } else { size.part() };
        }
        if TYPE_NAMES.contains(&path) {
            return Size::SCALAR;
        }
        match self.parameters.get(path) {
            Some(value) => Size::of_json(value),
            None => Size::FACTS,
        }
    }

    fn estimate(&mut self, node: &IdedExpr) -> Estimate {
        if let Some(path) = qualified_name(node) {
            let steps = 1 + path.matches('.').count() as u64;
            return Estimate {
                size: self.name(&path),
                cost: Linear::fixed(steps),
            };
        }
        match &node.expr {
            Expr::Literal(LiteralValue::String(s)) => Estimate {
                size: Size::text(s.inner().chars().count()),
                cost: Linear::ONE,
            },
            Expr::Literal(LiteralValue::Bytes(b)) => Estimate {
                size: Size::text(b.inner().len()),
                cost: Linear::ONE,
            },
            Expr::Literal(_) | Expr::Ident(_) | Expr::Unspecified | Expr::Struct(_) => Estimate {
                size: Size::SCALAR,
                cost: Linear::ONE,
            },
            Expr::Select(select) => {
                let operand = self.estimate(&select.operand);
                let size = if select.test {
                    Size::SCALAR
                } else {
                    operand.size.part()
                };
                Estimate {
                    size,
                    cost: operand.cost.plus(Linear::ONE),
                }
            }
            Expr::List(list) => {
                let mut weight = Linear::ONE;
                let mut cost = Linear::ONE;
                for element in &list.elements {
                    let e = self.estimate(element);
                    weight = weight.plus(e.size.weight);
                    cost = cost.plus(e.cost).plus(e.size.weight);
                }
                let items = Linear::fixed(list.elements.len() as u64);
                Estimate {
                    size: Size {
                        items,
                        weight,
                        fact: false,
                    },
                    cost,
                }
            }
            Expr::Map(map) => {
                let mut weight = Linear::ONE;
                let mut cost = Linear::ONE;
                for entry in &map.entries {
                    if let EntryExpr::MapEntry(e) = &entry.expr {
                        for part in [&e.key, &e.value] {
                            let p = self.estimate(part);
                            weight = weight.plus(p.size.weight);
                            cost = cost.plus(p.cost).plus(p.size.weight);
                        }
                    }
                }
                let items = Linear::fixed(map.entries.len() as u64);
                Estimate {
                    size: Size {
                        items,
                        weight,
                        fact: false,
                    },
                    cost,
                }
            }
            Expr::Call(call) => self.call(call),
            Expr::Comprehension(c) => {
                let range = self.estimate(&c.iter_range);
                let init = self.estimate(&c.accu_init);
                let (n, w) = (
                    range.size.items.at(FACT_WEIGHT),
                    range.size.weight.at(FACT_WEIGHT),
                );
                let item = Size {
                    items: Linear { fixed: 0, per: 1 },
                    weight: Linear { fixed: 0, per: 1 },
                    fact: false,
                };
                // `map` and `filter` append to a list the evaluator grows in place; the
                // others keep a boolean or a count.
                let appends = matches!(c.accu_init.expr, Expr::List(_));
                let accumulator = if appends {
                    Size {
                        weight: Linear::default(),
                        ..Size::SCALAR
                    }
                } else {
                    Size::SCALAR
                };
                let outer = self.bound.len();
                self.bound.push((c.iter_var.clone(), item));
                if let Some(second) = &c.iter_var2 {
                    self.bound.push((second.clone(), item));
                }
                self.bound.push((c.accu_var.clone(), accumulator));
                let condition = self.estimate(&c.loop_cond);
                let step = self.estimate(&c.loop_step);
                let result = self.estimate(&c.result);
                self.bound.truncate(outer);
                let per_item = condition.cost.plus(step.cost).plus(Linear::ONE);
                // Summed over the items: `fixed` once per item, `per` once per unit of the
                // range's weight.
                let iterations = n
                    .saturating_mul(per_item.fixed)
                    .saturating_add(per_item.per.saturating_mul(w));
                let cost = range
                    .cost
                    .plus(init.cost)
                    .plus(result.cost)
                    .plus(Linear::fixed(iterations));
                let size = if appends {
                    let grown = n
                        .saturating_mul(step.size.weight.fixed)
                        .saturating_add(step.size.weight.per.saturating_mul(w));
                    Size {
                        items: Linear::fixed(n),
                        weight: Linear::fixed(grown.saturating_add(1)),
                        fact: false,
                    }
                } else {
                    Size::SCALAR
                };
                let total = cost.at(FACT_WEIGHT);
                if self.costliest.is_none_or(|(worst, _)| total > worst) {
                    self.costliest = Some((total, node.id));
                }
                Estimate { size, cost }
            }
        }
    }

    fn call(&mut self, call: &cel::common::ast::CallExpr) -> Estimate {
        let mut parts = Vec::with_capacity(call.args.len() + 1);
        if let Some(target) = &call.target {
            parts.push(self.estimate(target));
        }
        for arg in &call.args {
            parts.push(self.estimate(arg));
        }
        let mut cost = parts.iter().map(|p| p.cost).fold(Linear::ONE, Linear::plus);
        let texts: Vec<Linear> = parts.iter().map(|p| p.size.text_weight()).collect();
        let scalar = |cost| Estimate {
            size: Size::SCALAR,
            cost,
        };
        match (call.func_name.as_str(), parts.as_slice()) {
            ("_?_:_", [_, yes, no]) => Estimate {
                size: Size {
                    items: yes.size.items.max(no.size.items),
                    weight: yes.size.weight.max(no.size.weight),
                    fact: yes.size.fact && no.size.fact,
                },
                cost,
            },
            ("_==_" | "_!=_" | "_<_" | "_<=_" | "_>_" | "_>=_", [a, b]) => {
                scalar(cost.plus(a.size.weight.smaller(b.size.weight)))
            }
            ("@in", [needle, haystack]) => {
                scalar(cost.plus(haystack.size.items).plus(needle.size.weight))
            }
            ("_+_", [a, b]) => {
                let weight = a.size.weight.plus(b.size.weight);
                cost = cost.plus(weight);
                Estimate {
                    size: Size {
                        items: a.size.items.plus(b.size.items),
                        weight,
                        fact: false,
                    },
                    cost,
                }
            }
            ("_[_]", [container, _]) => Estimate {
                size: container.size.part(),
                cost: cost.plus(Linear::ONE),
            },
            ("matches", _) => scalar(
                cost.plus(Linear::fixed(REGEX_COST))
                    .plus(texts.into_iter().fold(Linear::ONE, Linear::plus)),
            ),
            ("dyn", [a]) => Estimate { size: a.size, cost },
            ("string" | "bytes", [a]) => Estimate {
                size: Size {
                    items: Linear::fixed(0),
                    weight: a.size.text_weight(),
                    fact: false,
                },
                cost: cost.plus(a.size.text_weight()),
            },
            (
                "size" | "contains" | "startsWith" | "endsWith" | "int" | "uint" | "double"
                | "bool" | "type",
                _,
            ) => scalar(cost.plus(texts.into_iter().fold(Linear::fixed(0), Linear::plus))),
            _ => scalar(cost),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn params(value: Json) -> Parameters {
        Parameters::parse(&value).expect("valid parameters")
    }

    fn refund() -> Parameters {
        params(json!({"limits.auto_refund": 50}))
    }

    fn compile(source: &str) -> Result<Expression, ExpressionError> {
        Expression::compile(source, &refund())
    }

    fn refused(source: &str) -> ExpressionError {
        compile(source).expect_err(source)
    }

    fn names(set: &BTreeSet<String>) -> Vec<&str> {
        set.iter().map(String::as_str).collect()
    }

    const RULE: &str = "amount <= limits.auto_refund && history.disputes_12m < 2";

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
    fn a_syntax_error_names_its_one_based_character_position() {
        let error = refused("amount <= ");
        assert_eq!(error.position, Some(11), "{error}");
        assert!(error.reason.starts_with("syntax error"), "{error}");
        assert_eq!(refused("amount <= * 2").position, Some(11));
        assert_eq!(refused("amount ^ 2").position, Some(8));
        // Characters, not bytes, and counted across lines.
        assert_eq!(refused("name == 'é' &&").position, Some(15));
        assert_eq!(refused("amount < 1 &&\n  vip ==").position, Some(23));
        // Errors found while expanding macros too.
        assert_eq!(refused("'é' == x && has(1)").position, Some(17));
        assert_eq!(refused("x.all(1, true)").position, Some(7));
        assert!(
            refused("amount <= ")
                .to_string()
                .ends_with("(at character 11)")
        );
    }

    #[test]
    fn an_unknown_parameter_is_refused_at_its_position() {
        let error = refused("amount <= limits.auto_refnd");
        assert_eq!(error.position, Some(11), "{error}");
        assert!(
            error
                .reason
                .contains("unknown parameter 'limits.auto_refnd'"),
            "{error}"
        );
        assert!(error.reason.contains("limits.auto_refund"), "{error}");
        assert!(
            refused("has(limits.other)")
                .reason
                .contains("unknown parameter 'limits.other'")
        );
    }

    #[test]
    fn a_group_of_parameters_is_not_a_value() {
        let error = refused("size(limits) > 0");
        assert!(
            error.reason.contains("'limits' is a group of parameters"),
            "{error}"
        );
        assert_eq!(error.position, Some(6));
    }

    #[test]
    fn expressions_that_cannot_give_true_or_false_are_refused() {
        for source in [
            "amount + 1",
            "\"x\"",
            "[1]",
            "{'a': true}",
            "1",
            "size(tags)",
            "tags.map(t, t == 'x')",
            "true ? 1 : 2",
        ] {
            let error = refused(source);
            assert!(
                error.reason.contains("must give true or false"),
                "{source}: {error}"
            );
            assert_eq!(error.position, Some(1), "{source}");
        }
        for source in [
            "vip",
            "flags['vip']",
            "tags.exists(t, t == 'x')",
            "tags.filter(t, t == 'x') == []",
            "!vip",
        ] {
            compile(source).unwrap_or_else(|e| panic!("{source}: {e}"));
        }
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
    fn macros_that_iterate_may_not_nest() {
        let source = "[1,2].all(x, [1,2].exists(y, x == y))";
        let error = refused(source);
        assert!(error.reason.contains("may not be nested"), "{error}");
        assert_eq!(error.position, Some(14));
        // One after the other is fine.
        compile("tags.map(t, t + '!').all(t, t != '') && tags.exists(t, t == 'x')")
            .expect("sequential macros");
    }

    #[test]
    fn functions_cel_does_not_have_here_are_refused_by_name() {
        let error = refused("foo(amount) > 1");
        assert!(
            error.reason.contains("unknown function 'foo(...)'"),
            "{error}"
        );
        assert_eq!(error.position, Some(1));
        assert!(refused("amount.bar()").reason.contains("'x.bar(...)'"));
        assert!(
            refused("timestamp(when) > now")
                .reason
                .contains("timestamp")
        );
        assert_eq!(
            refused("name.contains()").reason,
            "'x.contains(...)' takes 1 argument"
        );
        assert_eq!(
            refused("size(a, b) > 1").reason,
            "'size(...)' takes 1 argument"
        );
        assert!(
            refused("items.all(x) ")
                .reason
                .contains("unknown function 'x.all(...)'")
        );
        assert!(
            refused("Refund{amount: 1}.amount > 0")
                .reason
                .contains("message literals")
        );
    }

    #[test]
    fn arithmetic_mixing_whole_numbers_with_facts_is_refused_at_the_operator() {
        let error = refused("amount * 2 > limits.auto_refund");
        assert_eq!(error.position, Some(8), "{error}");
        assert!(error.reason.contains("write 2.0 rather than 2"), "{error}");
        assert!(
            refused("count % 2 == 0")
                .reason
                .contains("'%' needs whole numbers")
        );
        assert!(
            refused("limits.auto_refund + 1 > amount")
                .reason
                .contains("mixes")
        );
        for fine in [
            "amount * 2.0 > limits.auto_refund",
            "int(count) % 2 == 0",
            "size(tags) + 1 > 2",
            "name + '!' == 'a!'",
        ] {
            compile(fine).unwrap_or_else(|e| panic!("{fine}: {e}"));
        }
    }

    #[test]
    fn nesting_past_the_limit_is_refused_without_overflowing_the_stack() {
        for (open, close) in [("(", ")"), ("[", "]"), ("int(", ")"), ("{1: ", "}")] {
            let levels = (MAX_SOURCE_CHARS - 10) / (open.len() + close.len());
            let source = format!("{}1{} == 1", open.repeat(levels), close.repeat(levels));
            let error = refused(&source);
            assert!(
                error.reason.contains("nested more than 48 levels"),
                "{open}: {error}"
            );
        }
        let chain = format!("1{} > 0", " + 1".repeat(60));
        assert!(
            refused(&chain)
                .reason
                .contains("nested more than 48 levels")
        );
        let selects = format!("facts{} == 1", ".a".repeat(900));
        compile(&selects).expect("a long path is not deep nesting");
        compile(&format!("{}true", "!".repeat(1_500))).expect("negations");
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
    fn sub_conditions_are_shown_as_written() {
        let expression = Expression::compile(
            "(amount <= limits.auto_refund || vip) && !(size(tags) > 3) && tags.exists(t, t.startsWith(\"fraud\")) && has(history.x)",
            &refund(),
        )
        .expect("compiles");
        let texts: Vec<&str> = expression
            .0
            .conditions
            .iter()
            .map(|(t, _)| t.as_str())
            .collect();
        assert_eq!(
            texts,
            [
                "amount <= limits.auto_refund",
                "vip",
                "size(tags) > 3",
                "tags.exists(t, t.startsWith(\"fraud\"))",
                "has(history.x)"
            ]
        );
        let lone = compile("  [1, 2][0] == amount ").expect("compiles");
        assert_eq!(lone.0.conditions[0].0, "[1, 2][0] == amount");
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
    fn a_fact_tested_with_has_is_not_required() {
        let expression = compile("has(x.y) ? x.y > 1 : false").expect("compiles");
        assert_eq!(names(expression.fact_paths()), ["x"]);
        let run = |facts: Json| expression.evaluate(&refund(), &facts).map(|e| e.result);
        assert_eq!(run(json!({"x": {}})), Ok(false));
        assert_eq!(run(json!({"x": {"y": 2}})), Ok(true));
        assert_eq!(
            run(json!({})),
            Err(EvaluationError::MissingFacts(vec!["x".into()]))
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
    fn type_names_are_not_facts() {
        let expression =
            compile("type(amount) == double && type(name) == string").expect("compiles");
        assert_eq!(names(expression.fact_paths()), ["amount", "name"]);
        let evaluation = expression
            .evaluate(&refund(), &json!({"amount": 3, "name": "n"}))
            .expect("evaluates");
        assert!(evaluation.result);
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

    #[test]
    fn expressions_that_could_cost_too_much_are_refused_at_compile_time() {
        let one = compile("items.all(x, x in items)").expect("one scan per item fits");
        assert!(one.estimated_cost() <= MAX_COST);
        let error = refused("size(tags) > 0 && items.all(x, x in items && x in items)");
        assert!(error.reason.contains("could cost too much"), "{error}");
        assert_eq!(error.position, Some(19), "points at the costly macro");
        assert!(
            refused("size(items.map(x, items)) > 0")
                .reason
                .contains("could cost too much")
        );
        assert!(
            refused("size(items.map(x, items + items)) > 0")
                .reason
                .contains("could cost too much")
        );
        let concatenations = format!("size({}) > 0", vec!["notes"; 40].join(" + "));
        assert!(
            refused(&concatenations)
                .reason
                .contains("could cost too much")
        );
        assert!(
            refused("name.matches(p) || id.matches(p)")
                .reason
                .starts_with("at most one 'matches'")
        );
        assert!(
            refused("items.exists(x, x.matches('a+'))")
                .reason
                .contains("may not be used inside")
        );
        compile("name.matches('^[A-Z]{2}[0-9]+$') && items.map(x, x).size() > 0")
            .expect("cheap enough");
    }

    #[test]
    fn a_regular_expression_known_in_advance_must_be_valid() {
        let error = refused("name.matches('(unclosed')");
        assert!(
            error.reason.starts_with("invalid regular expression"),
            "{error}"
        );
        assert_eq!(error.position, Some(14));
        let parameters = params(json!({"patterns.id": "[a-"}));
        let error =
            Expression::compile("id.matches(patterns.id)", &parameters).expect_err("invalid");
        assert!(
            error.reason.starts_with("invalid regular expression"),
            "{error}"
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

    #[test]
    fn bracket_balance_ignores_brackets_in_strings() {
        assert_eq!(bracket_balance("f(')' == ']'"), (1, 0));
        assert_eq!(bracket_balance("x) + [\"(\\\"\"]"), (0, 1));
        assert_eq!(bracket_balance("'''(''' + r'\\' + ("), (1, 0));
    }
}
