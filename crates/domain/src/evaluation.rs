//! Recorded evaluations of cases against a criterion (the sample set BIAN calls
//! `CustomerCaseDecisionCriterionHistory`), and back-tests run on them.

use std::fmt::Write as _;

use serde_json::Value as Json;

use crate::ids::{BacktestId, EvaluationId, PlanId, RecordId};
use crate::money::Amount;
use crate::record::{Timestamp, Version};

/// An evaluation to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvaluation {
    /// The plan.
    pub plan_id: PlanId,
    /// The criterion.
    pub rules_id: RecordId,
    /// The criterion's version that was applied.
    pub rules_version: Version,
    /// The client's case reference, if given.
    pub case_id: Option<String>,
    /// The facts evaluated (a JSON object).
    pub facts: Json,
    /// The expression's result.
    pub result: bool,
    /// The decision that result means, if the criterion names one.
    pub decision: Option<String>,
    /// The explanation returned to the client, kept as given.
    pub explanation: Json,
    /// The amount at stake, if known.
    pub amount: Option<Amount>,
    /// Who asked.
    pub evaluated_by: String,
}

/// A recorded evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluationRecord {
    /// Its id.
    pub id: EvaluationId,
    /// What was evaluated and found.
    pub evaluation: NewEvaluation,
    /// What actually happened afterwards (e.g. `upheld`, `appealed`), once known.
    pub outcome: Option<String>,
    /// When the outcome was attached.
    pub outcome_at: Option<Timestamp>,
    /// When the evaluation was recorded.
    pub evaluated_at: Timestamp,
}

/// What a criterion's recorded history holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistorySummary {
    /// Recorded evaluations.
    pub count: i64,
    /// The first one's time.
    pub first: Option<Timestamp>,
    /// The last one's time.
    pub last: Option<Timestamp>,
    /// How many ended in each outcome; those without one yet count as `pending`.
    pub outcomes: Vec<(String, i64)>,
}

impl HistorySummary {
    /// The summary in words, for the BIAN `CustomerCaseDecisionCriterionHistory` string.
    pub fn readable(&self) -> Option<String> {
        if self.count == 0 {
            return None;
        }
        let day = |t: Option<Timestamp>| {
            t.map(|t| t.to_rfc3339().chars().take(10).collect::<String>())
                .unwrap_or_default()
        };
        let mut text = format!(
            "{} recorded case{} from {} to {}",
            self.count,
            if self.count == 1 { "" } else { "s" },
            day(self.first),
            day(self.last)
        );
        if !self.outcomes.is_empty() {
            let mix: Vec<String> = self
                .outcomes
                .iter()
                .map(|(o, n)| format!("{n} {o}"))
                .collect();
            let _ = write!(text, "; outcomes: {}", mix.join(", "));
        }
        text.push('.');
        Some(text)
    }
}

/// A back-test to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewBacktest {
    /// The plan.
    pub plan_id: PlanId,
    /// The criterion.
    pub rules_id: RecordId,
    /// The criterion's version it was compared with.
    pub rules_version: Version,
    /// The proposed settings (`Expression`, `Parameters`, ...).
    pub proposal: Json,
    /// The typed report.
    pub report: Json,
    /// The report in words.
    pub summary: String,
    /// Who ran it.
    pub run_by: String,
}

/// A stored back-test.
#[derive(Debug, Clone, PartialEq)]
pub struct BacktestRecord {
    /// Its id.
    pub id: BacktestId,
    /// What was run and found.
    pub backtest: NewBacktest,
    /// When.
    pub run_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_history_has_no_summary() {
        assert_eq!(HistorySummary::default().readable(), None);
    }

    #[test]
    fn a_history_summary_gives_count_dates_and_outcome_mix() {
        let summary = HistorySummary {
            count: 3,
            first: Some(Timestamp::from_micros(0)),
            last: Some(Timestamp::from_micros(86_400_000_000)),
            outcomes: vec![("appealed".into(), 1), ("pending".into(), 2)],
        };
        assert_eq!(
            summary.readable().as_deref(),
            Some(
                "3 recorded cases from 1970-01-01 to 1970-01-02; outcomes: 1 appealed, 2 pending."
            )
        );
    }
}
