//! The cost estimate: an upper bound, in steps, of the work one evaluation may need on the
//! largest facts [`check_facts`](super::facts::check_facts) lets through, so that an
//! expression too costly to run is refused before it ever runs.

use cel::common::ast::{EntryExpr, Expr, IdedExpr, LiteralValue};

use super::expression::MAX_COST;
use super::names::{TYPE_NAMES, qualified_name};
use super::settings::Parameters;
use super::size::{FACT_WEIGHT, Linear, Size};

/// What one `matches` may cost: CEL compiles the pattern on every call, and a pathological
/// pattern takes up to about a tenth of a second before the regex engine gives up. (There
/// may be one, outside the macros that iterate.)
const REGEX_COST: u64 = MAX_COST / 4;

/// A value's size and the cost of computing it.
#[derive(Debug, Clone, Copy)]
struct Estimate {
    size: Size,
    cost: Linear,
}

/// Estimates the cost of an expression on the largest facts allowed.
/// Comparing two values counts one step per item; copying (`+`, list literals, `map`)
/// counts their whole weight.
pub(super) struct Estimator<'a> {
    parameters: &'a Parameters,
    /// Names bound by the comprehension being estimated, with their size.
    bound: Vec<(String, Size)>,
    /// The costliest comprehension: its cost and node id.
    pub(super) costliest: Option<(u64, u64)>,
}

impl<'a> Estimator<'a> {
    /// An estimator for these parameters.
    pub(super) fn new(parameters: &'a Parameters) -> Self {
        Self {
            parameters,
            bound: Vec::new(),
            costliest: None,
        }
    }

    /// The steps evaluating `expr` may take on the largest facts.
    pub(super) fn total(&mut self, expr: &IdedExpr) -> u64 {
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
    use super::*;
    use crate::criterion::test_support::{compile, refused};

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
}
