//! Back-testing: replay the cases a criterion has seen under its current settings and under
//! proposed ones, and say what would have changed.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::Value as Json;

use super::expression::{Expression, on_large_stack};
use super::settings::Parameters;
use crate::money::Amount;

/// Most example cases shown per direction of change.
pub const MAX_EXAMPLES: usize = 5;

/// One recorded case to replay.
#[derive(Debug, Clone, PartialEq)]
pub struct BacktestCase {
    /// What identifies it to people (the evaluation id or the case id).
    pub reference: String,
    /// The facts it was evaluated on.
    pub facts: Json,
    /// What actually happened afterwards, if known (e.g. `appealed`).
    pub outcome: Option<String>,
    /// The amount at stake, if known.
    pub amount: Option<Amount>,
}

/// A case whose result changes.
#[derive(Debug, Clone, PartialEq)]
pub struct Flip {
    /// The case.
    pub reference: String,
    /// Its result under the current settings.
    pub current: bool,
    /// Its result under the proposed settings.
    pub proposed: bool,
    /// What actually happened, if known.
    pub outcome: Option<String>,
}

/// What a proposed change would have done to the recorded cases.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Backtest {
    /// Cases replayed.
    pub cases: usize,
    /// Cases that could not be evaluated under one of the settings (missing facts, ...).
    pub errors: usize,
    /// Cases true under the current settings.
    pub true_now: usize,
    /// Cases true under the proposed settings.
    pub true_proposed: usize,
    /// Cases false now and true under the proposal.
    pub became_true: usize,
    /// Cases true now and false under the proposal.
    pub became_false: usize,
    /// Outcomes of the cases that became true.
    pub outcomes_became_true: BTreeMap<String, usize>,
    /// Outcomes of the cases that became false.
    pub outcomes_became_false: BTreeMap<String, usize>,
    /// Amounts moving into the true decision minus those moving out, per currency.
    pub amount_shift: BTreeMap<String, Decimal>,
    /// Examples of flipped cases.
    pub examples: Vec<Flip>,
}

impl Backtest {
    /// Replays `cases` under `current` and `proposed` settings. A case that cannot be
    /// evaluated under either (missing facts, ...) counts among the errors.
    pub fn run(
        current: (&Expression, &Parameters),
        proposed: (&Expression, &Parameters),
        cases: &[BacktestCase],
    ) -> Self {
        // One thread with a large stack for all the cases, rather than one per evaluation.
        match on_large_stack(|| Self::run_here(current, proposed, cases)) {
            Ok(report) => report,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }

    fn run_here(
        current: (&Expression, &Parameters),
        proposed: (&Expression, &Parameters),
        cases: &[BacktestCase],
    ) -> Self {
        let mut report = Self {
            cases: cases.len(),
            ..Self::default()
        };
        let (mut up, mut down) = (0, 0);
        for case in cases {
            let now = current
                .0
                .evaluate_here(current.1, &case.facts)
                .map(|e| e.result);
            let then = proposed
                .0
                .evaluate_here(proposed.1, &case.facts)
                .map(|e| e.result);
            let (Ok(now), Ok(then)) = (now, then) else {
                report.errors += 1;
                continue;
            };
            report.true_now += usize::from(now);
            report.true_proposed += usize::from(then);
            if now == then {
                continue;
            }
            let (count, outcomes, sign, shown) = if then {
                (
                    &mut report.became_true,
                    &mut report.outcomes_became_true,
                    Decimal::ONE,
                    &mut up,
                )
            } else {
                (
                    &mut report.became_false,
                    &mut report.outcomes_became_false,
                    Decimal::NEGATIVE_ONE,
                    &mut down,
                )
            };
            *count += 1;
            if let Some(outcome) = &case.outcome {
                *outcomes.entry(outcome.clone()).or_default() += 1;
            }
            if let Some(amount) = &case.amount {
                *report
                    .amount_shift
                    .entry(amount.currency.clone())
                    .or_default() += sign * amount.value;
            }
            if *shown < MAX_EXAMPLES {
                *shown += 1;
                report.examples.push(Flip {
                    reference: case.reference.clone(),
                    current: now,
                    proposed: then,
                    outcome: case.outcome.clone(),
                });
            }
        }
        report
    }

    /// The report in words, for the BIAN `CustomerCaseDecisionCriterionAnalysis` string,
    /// e.g. "Back-test on 10 recorded cases (8 evaluated): 'auto_refund' 3 → 6 (+3,
    /// +100.0%); 4 newly 'auto_refund', 1 no longer. Of the newly 'auto_refund': 1 accepted,
    /// 2 appealed. ... Amount under 'auto_refund' +EUR 290.00. 2 cases could not be evaluated."
    pub fn summary(&self, decision: &str) -> String {
        let evaluated = self.cases.saturating_sub(self.errors);
        let mut text = format!("Back-test on {} recorded cases", self.cases);
        if evaluated == 0 {
            text.push_str(": none could be evaluated.");
            return text;
        }
        if self.errors > 0 {
            text.push_str(&format!(" ({evaluated} evaluated)"));
        }
        let change = self.true_proposed as i64 - self.true_now as i64;
        let percent = if self.true_now > 0 {
            format!(", {:+.1}%", change as f64 * 100.0 / self.true_now as f64)
        } else {
            String::new()
        };
        text.push_str(&format!(
            ": '{decision}' {} → {} ({change:+}{percent}); {} newly '{decision}', {} no longer.",
            self.true_now, self.true_proposed, self.became_true, self.became_false
        ));
        let outcomes = |map: &BTreeMap<String, usize>| {
            map.iter()
                .map(|(o, n)| format!("{n} {o}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !self.outcomes_became_true.is_empty() {
            text.push_str(&format!(
                " Of the newly '{decision}': {}.",
                outcomes(&self.outcomes_became_true)
            ));
        }
        if !self.outcomes_became_false.is_empty() {
            text.push_str(&format!(
                " Of those no longer '{decision}': {}.",
                outcomes(&self.outcomes_became_false)
            ));
        }
        for (currency, shift) in &self.amount_shift {
            let sign = if *shift < Decimal::ZERO { "-" } else { "+" };
            text.push_str(&format!(
                " Amount under '{decision}' {sign}{currency} {}.",
                shift.abs()
            ));
        }
        if self.errors > 0 {
            text.push_str(&format!(" {} cases could not be evaluated.", self.errors));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use serde_json::json;

    use super::*;

    fn parameters(limit: Json) -> Parameters {
        Parameters::parse(&json!({ "limits.auto_refund": limit })).expect("valid parameters")
    }

    fn compile(source: &str, parameters: &Parameters) -> Expression {
        Expression::compile(source, parameters).expect("compiles")
    }

    fn case(
        reference: &str,
        facts: Json,
        outcome: Option<&str>,
        amount: Option<&str>,
    ) -> BacktestCase {
        BacktestCase {
            reference: reference.to_owned(),
            facts,
            outcome: outcome.map(str::to_owned),
            amount: amount.map(|v| {
                Amount::parse(&json!({"Value": v, "Currency": "EUR"})).expect("valid amount")
            }),
        }
    }

    /// Ten cases with known answers under `amount <= 50` now and `amount <= 100 && !vip`
    /// proposed.
    fn history() -> Vec<BacktestCase> {
        vec![
            case(
                "c1",
                json!({"amount": 10, "vip": false}),
                Some("accepted"),
                Some("10.00"),
            ),
            case(
                "c2",
                json!({"amount": 50, "vip": false}),
                Some("accepted"),
                Some("50.00"),
            ),
            case(
                "c3",
                json!({"amount": 50.01, "vip": false}),
                Some("appealed"),
                Some("50.01"),
            ),
            case(
                "c4",
                json!({"amount": 60, "vip": false}),
                Some("accepted"),
                Some("60.00"),
            ),
            case(
                "c5",
                json!({"amount": 99.99, "vip": false}),
                Some("appealed"),
                Some("99.99"),
            ),
            case(
                "c6",
                json!({"amount": 100, "vip": false}),
                None,
                Some("100"),
            ),
            case(
                "c7",
                json!({"amount": 100.01, "vip": false}),
                Some("accepted"),
                Some("100.01"),
            ),
            case(
                "c8",
                json!({"amount": 20, "vip": true}),
                Some("fraud"),
                Some("20.00"),
            ),
            case("c9", json!({"vip": false}), Some("accepted"), None),
            case("c10", json!({"amount": 30}), None, Some("30.00")),
        ]
    }

    fn replay() -> Backtest {
        let (now, proposed) = (parameters(json!(50)), parameters(json!(100)));
        let current = compile("amount <= limits.auto_refund", &now);
        let next = compile("amount <= limits.auto_refund && !vip", &proposed);
        Backtest::run((&current, &now), (&next, &proposed), &history())
    }

    #[test]
    fn a_replay_counts_the_decisions_that_flip_each_way() {
        let report = replay();
        assert_eq!(
            (report.cases, report.errors),
            (10, 2),
            "c9 lacks amount, c10 lacks vip"
        );
        assert_eq!((report.true_now, report.true_proposed), (3, 6));
        assert_eq!((report.became_true, report.became_false), (4, 1));
        assert_eq!(
            report.outcomes_became_true,
            BTreeMap::from([("accepted".to_owned(), 1), ("appealed".to_owned(), 2)])
        );
        assert_eq!(
            report.outcomes_became_false,
            BTreeMap::from([("fraud".to_owned(), 1)])
        );
    }

    #[test]
    fn the_amount_shift_is_exact_per_currency() {
        let report = replay();
        let expected = Decimal::from_str("290.00").expect("decimal");
        assert_eq!(
            report.amount_shift,
            BTreeMap::from([("EUR".to_owned(), expected)])
        );
        assert_eq!(report.amount_shift["EUR"].to_string(), "290.00");
    }

    #[test]
    fn examples_show_the_flipped_cases_in_order() {
        let report = replay();
        let shown: Vec<(&str, bool, bool)> = report
            .examples
            .iter()
            .map(|f| (f.reference.as_str(), f.current, f.proposed))
            .collect();
        assert_eq!(
            shown,
            [
                ("c3", false, true),
                ("c4", false, true),
                ("c5", false, true),
                ("c6", false, true),
                ("c8", true, false)
            ]
        );
        assert_eq!(report.examples[0].outcome.as_deref(), Some("appealed"));
        assert_eq!(report.examples[3].outcome, None);
    }

    #[test]
    fn the_decision_flips_exactly_at_the_threshold() {
        let cases = [case("at", json!({"amount": 50}), None, None)];
        let at_limit = parameters(json!(50));
        let just_below = parameters(json!(49.99));
        let expression = compile("amount <= limits.auto_refund", &at_limit);
        let report = Backtest::run((&expression, &at_limit), (&expression, &just_below), &cases);
        assert_eq!(
            (report.true_now, report.true_proposed, report.became_false),
            (1, 0, 1)
        );
        let unchanged = Backtest::run((&expression, &at_limit), (&expression, &at_limit), &cases);
        assert_eq!((unchanged.became_true, unchanged.became_false), (0, 0));
        assert!(unchanged.examples.is_empty());
    }

    #[test]
    fn examples_are_capped_per_direction() {
        let limit = parameters(json!(50));
        let current = compile("amount <= limits.auto_refund", &limit);
        let proposed = compile("amount > limits.auto_refund", &limit);
        let mut cases: Vec<BacktestCase> = (0..8)
            .map(|i| {
                case(
                    &format!("up{i}"),
                    json!({"amount": 60 + i}),
                    None,
                    Some("1.10"),
                )
            })
            .collect();
        cases.extend((0..7).map(|i| {
            case(
                &format!("down{i}"),
                json!({"amount": 5 + i}),
                None,
                Some("1.00"),
            )
        }));
        let report = Backtest::run((&current, &limit), (&proposed, &limit), &cases);
        assert_eq!((report.became_true, report.became_false), (8, 7));
        let ups: Vec<&str> = report
            .examples
            .iter()
            .filter(|f| f.proposed)
            .map(|f| f.reference.as_str())
            .collect();
        let downs: Vec<&str> = report
            .examples
            .iter()
            .filter(|f| !f.proposed)
            .map(|f| f.reference.as_str())
            .collect();
        assert_eq!(ups, ["up0", "up1", "up2", "up3", "up4"]);
        assert_eq!(downs, ["down0", "down1", "down2", "down3", "down4"]);
        assert_eq!(
            report.amount_shift["EUR"].to_string(),
            "1.80",
            "8 x 1.10 in, 7 x 1.00 out"
        );
    }

    #[test]
    fn the_summary_tells_the_story() {
        let summary = replay().summary("auto_refund");
        assert_eq!(
            summary,
            "Back-test on 10 recorded cases (8 evaluated): 'auto_refund' 3 → 6 (+3, +100.0%); 4 newly 'auto_refund', 1 no longer. \
             Of the newly 'auto_refund': 1 accepted, 2 appealed. Of those no longer 'auto_refund': 1 fraud. \
             Amount under 'auto_refund' +EUR 290.00. 2 cases could not be evaluated."
        );
        let nothing = Backtest {
            cases: 3,
            errors: 3,
            ..Backtest::default()
        };
        assert_eq!(
            nothing.summary("x"),
            "Back-test on 3 recorded cases: none could be evaluated."
        );
        let empty = Backtest::default();
        assert_eq!(
            empty.summary("x"),
            "Back-test on 0 recorded cases: none could be evaluated."
        );
    }

    #[test]
    fn a_loss_reads_with_a_minus_sign() {
        let report = Backtest {
            cases: 1,
            true_now: 1,
            became_false: 1,
            amount_shift: BTreeMap::from([(
                "EUR".to_owned(),
                Decimal::from_str("-12.50").expect("decimal"),
            )]),
            ..Backtest::default()
        };
        let summary = report.summary("pay");
        assert!(summary.contains("'pay' 1 → 0 (-1, -100.0%)"), "{summary}");
        assert!(
            summary.contains("Amount under 'pay' -EUR 12.50."),
            "{summary}"
        );
    }
}
