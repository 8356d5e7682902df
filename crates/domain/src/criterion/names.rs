//! Names in an expression: the words CEL gives a meaning of its own (type names, the
//! functions available here, reserved words), and the dotted names an expression reads.

use cel::common::ast::{Expr, IdedExpr};

/// Names CEL gives types; a fact of the same name would hide the type.
pub(super) const TYPE_NAMES: &[&str] = &[
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
pub(super) const GLOBAL_FUNCTIONS: &[(&str, usize)] = &[
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
pub(super) const MEMBER_FUNCTIONS: &[(&str, usize)] = &[
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

/// The id of the identifier a chain of selections starts from, where its text starts.
pub(super) fn root_id(node: &IdedExpr) -> u64 {
    match &node.expr {
        Expr::Select(select) => root_id(&select.operand),
        _ => node.id,
    }
}

/// `a`, `a.b.c` as text, for identifiers and plain field selections.
pub(super) fn qualified_name(node: &IdedExpr) -> Option<String> {
    match &node.expr {
        Expr::Ident(name) => Some(name.clone()),
        Expr::Select(select) if !select.test => {
            qualified_name(&select.operand).map(|p| format!("{p}.{}", select.field))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::criterion::test_support::{compile, names, refund};

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
}
