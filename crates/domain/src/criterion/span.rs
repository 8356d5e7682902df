//! Where a node is in the source: the 1-based character positions errors report, and the
//! text of a sub-condition as written (taking in a call's name and the brackets around it,
//! which the parser does not place on any node).

use cel::common::ast::{EntryExpr, Expr, IdedExpr, SourceInfo};

/// The 1-based character position of a byte offset.
fn char_position(source: &str, byte: usize) -> usize {
    source.get(..byte).map_or(byte, |s| s.chars().count()) + 1
}

/// The 1-based character position of the parser's 1-based line and column.
pub(super) fn line_column_position(
    source: &str,
    line: isize,
    column: isize,
    bytes: bool,
) -> Option<usize> {
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

/// Positions and text of nodes in the source they were parsed from.
pub(super) struct Located<'a> {
    /// The source text.
    pub(super) source: &'a str,
    /// The parser's offsets of each node's own token.
    pub(super) info: &'a SourceInfo,
    /// The whole expression.
    pub(super) root: &'a IdedExpr,
}

impl Located<'_> {
    /// The 1-based character position of the node's own token.
    pub(super) fn token(&self, id: u64) -> Option<usize> {
        self.info
            .offset_for(id)
            .map(|(start, _)| char_position(self.source, start as usize))
    }

    /// The 1-based character position where the node with this id starts.
    pub(super) fn start(&self, id: u64) -> Option<usize> {
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
    pub(super) fn text(&self, node: &IdedExpr) -> Option<String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::criterion::expression::Expression;
    use crate::criterion::test_support::{compile, refund};

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
    fn bracket_balance_ignores_brackets_in_strings() {
        assert_eq!(bracket_balance("f(')' == ']'"), (1, 0));
        assert_eq!(bracket_balance("x) + [\"(\\\"\"]"), (0, 1));
        assert_eq!(bracket_balance("'''(''' + r'\\' + ("), (1, 0));
    }
}
