//! Compiling an expression: parse it, then run the checks in order (a possible boolean
//! result, the walk of [`Check`], names read resolved against the parameters, the cost
//! estimate, regular expressions known in advance) and collect its top-level
//! sub-conditions with their source text.

use std::collections::BTreeSet;
use std::sync::Arc;

use cel::common::ast::{Expr, IdedExpr, LiteralValue, SourceInfo};

use super::check::{Check, check_pattern};
use super::cost::Estimator;
use super::expression::{
    Compiled, Expression, ExpressionError, MAX_COST, MAX_DEPTH, MAX_FACT_LIST,
};
use super::settings::Parameters;
use super::span::{Located, line_column_position};

/// Compiles `source` on the current thread, which must have a large stack.
pub(super) fn compile_here(
    source: &str,
    parameters: &Parameters,
) -> Result<Expression, ExpressionError> {
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

    let mut check = Check::new(&at, parameters);
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

/// At most the first 20 names, for error messages.
fn list(names: &[String]) -> String {
    match names.len() {
        0 => "none".to_owned(),
        n if n > 20 => format!("{}, ...", names[..20].join(", ")),
        _ => names.join(", "),
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

#[cfg(test)]
mod tests {
    use serde_json::{Value as Json, json};

    use crate::criterion::expression::{EvaluationError, MAX_SOURCE_CHARS};
    use crate::criterion::test_support::{compile, names, refund, refused};

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
}
