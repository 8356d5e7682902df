//! The static checks, in one walk of the syntax tree: size, depth, nesting of macros that
//! iterate, known functions and their number of arguments, arithmetic on numbers of one
//! kind, at most one `matches`; and, on the way, the names read and the paths tested with
//! `has`. Also the check of a regular expression known at compile time.

use std::collections::BTreeSet;
use std::sync::{Arc, LazyLock};

use cel::common::ast::{EntryExpr, Expr, IdedExpr, LiteralValue};
use cel::{Context, Value};
use serde_json::Value as Json;

use super::expression::{ENV, ExpressionError, MAX_DEPTH, MAX_NODES};
use super::names::{GLOBAL_FUNCTIONS, MEMBER_FUNCTIONS, TYPE_NAMES, qualified_name, root_id};
use super::settings::Parameters;
use super::span::Located;

/// What kind of number an expression gives, as far as can be told without running it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Number {
    Int,
    Uint,
    /// A double, or a fact or parameter (JSON numbers are doubles).
    Double,
    /// Not a number, or not known.
    Other,
}

/// The static checks, in one walk: size, depth, nesting of macros, known functions,
/// arithmetic on numbers of one kind; and the names read.
pub(super) struct Check<'a> {
    at: &'a Located<'a>,
    parameters: &'a Parameters,
    nodes: usize,
    /// Variables bound by the enclosing comprehension.
    scopes: Vec<String>,
    in_comprehension: bool,
    /// Paths tested with `has(...)`.
    pub(super) tested: BTreeSet<String>,
    /// Every qualified name read, with the id of the node reading it.
    pub(super) reads: Vec<(String, u64)>,
    /// Regular expressions known at compile time, with the id of their node.
    pub(super) patterns: Vec<(u64, String)>,
    /// Calls of `matches`.
    regexes: usize,
    /// The deepest node, counting each field of a path.
    pub(super) deepest: usize,
}

impl<'a> Check<'a> {
    /// A walk that has seen nothing yet.
    pub(super) fn new(at: &'a Located<'a>, parameters: &'a Parameters) -> Self {
        Self {
            at,
            parameters,
            nodes: 0,
            scopes: Vec::new(),
            in_comprehension: false,
            tested: BTreeSet::new(),
            reads: Vec::new(),
            patterns: Vec::new(),
            regexes: 0,
            deepest: 0,
        }
    }

    /// An error at the start of the node with this id.
    fn error(&self, id: u64, reason: impl Into<String>) -> ExpressionError {
        ExpressionError::new(self.at.start(id), reason)
    }

    /// An error at the node's own token, e.g. an operator.
    fn error_at_token(&self, id: u64, reason: impl Into<String>) -> ExpressionError {
        ExpressionError::new(self.at.token(id), reason)
    }

    /// Checks `node`, at `depth`, and what is under it; says what kind of number it gives.
    pub(super) fn visit(
        &mut self,
        node: &IdedExpr,
        depth: usize,
    ) -> Result<Number, ExpressionError> {
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
pub(super) fn check_pattern(pattern: &str) -> Result<(), String> {
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::criterion::expression::Expression;
    use crate::criterion::test_support::{compile, params, refused};

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
}
