//! The kinds of statistic a Performance record can ask for, and how BIAN's phrases for them
//! are recognised.
//!
//! The canonical names are kebab-case (`resolution-time`). [`StatisticType::parse`] also takes
//! the phrases clients copy from the BIAN service domain description, ignoring case,
//! punctuation and a leading `customer`, `case`, `case resolution` or `service`:
//!
//! - "case resolution throughput", "cases resolved" → `throughput`;
//! - "open cases", "case load" → `backlog`;
//! - "first response time", "time to first response" → `first-response-time`;
//! - "resolution time", "time to resolve" → `resolution-time` (elapsed business time);
//! - "time/effort per case", "time per case", "handling time" → `effort-per-case`: BIAN's
//!   "time/effort per case" is the work spent on a case, which is what `EffortMinutes`
//!   measures, not how long the customer waited (that is `resolution-time`);
//! - "SLA attainment", "service level" → `sla-attainment`;
//! - "reopen rate" → `reopen-rate`;
//! - "customer acceptance/appeal rate", "appeal rate", "acceptance rate" → `appeal-rate`
//!   (acceptance is its complement, so one figure answers both);
//! - "resource utilisation", "utilization" → `utilization`;
//! - "case resolution profit/loss", "P&L" → `profit-loss`.
//!
//! Anything else is `None`: the caller keeps the client's text as written.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A statistic computed from case activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StatisticType {
    /// Cases resolved in the window.
    Throughput,
    /// Cases open at the end of the window.
    Backlog,
    /// Median business hours to the first response.
    FirstResponseTime,
    /// Median business hours to resolution.
    ResolutionTime,
    /// Mean minutes of effort per resolved case.
    EffortPerCase,
    /// Fraction of resolved cases that met their priority's service-level target.
    SlaAttainment,
    /// Fraction of resolved cases that were ever reopened.
    ReopenRate,
    /// Fraction of resolved cases that were ever appealed.
    AppealRate,
    /// Effort booked against the teams' scheduled capacity.
    Utilization,
    /// Net amounts booked, per currency.
    ProfitLoss,
}

/// Phrases (normalised: lower case, words separated by one space) and what they name.
const PHRASES: &[(&str, StatisticType)] = {
    use StatisticType::*;
    &[
        ("throughput", Throughput),
        ("resolution throughput", Throughput),
        ("cases resolved", Throughput),
        ("resolved cases", Throughput),
        ("resolutions", Throughput),
        ("backlog", Backlog),
        ("open cases", Backlog),
        ("open backlog", Backlog),
        ("load", Backlog),
        ("caseload", Backlog),
        ("work in progress", Backlog),
        ("first response time", FirstResponseTime),
        ("first response", FirstResponseTime),
        ("time to first response", FirstResponseTime),
        ("response time", FirstResponseTime),
        ("initial response time", FirstResponseTime),
        ("resolution time", ResolutionTime),
        ("time to resolution", ResolutionTime),
        ("time to resolve", ResolutionTime),
        ("resolution duration", ResolutionTime),
        ("effort per case", EffortPerCase),
        ("time effort per case", EffortPerCase),
        ("time and effort per case", EffortPerCase),
        ("time per case", EffortPerCase),
        ("effort", EffortPerCase),
        ("handling time", EffortPerCase),
        ("handle time", EffortPerCase),
        ("average handling time", EffortPerCase),
        ("aht", EffortPerCase),
        ("sla attainment", SlaAttainment),
        ("sla", SlaAttainment),
        ("sla compliance", SlaAttainment),
        ("service level", SlaAttainment),
        ("service level attainment", SlaAttainment),
        ("service level agreement attainment", SlaAttainment),
        ("reopen rate", ReopenRate),
        ("re open rate", ReopenRate),
        ("reopened rate", ReopenRate),
        ("reopens", ReopenRate),
        ("appeal rate", AppealRate),
        ("acceptance appeal rate", AppealRate),
        ("acceptance rate", AppealRate),
        ("appeals", AppealRate),
        ("utilization", Utilization),
        ("utilisation", Utilization),
        ("resource utilization", Utilization),
        ("resource utilisation", Utilization),
        ("capacity utilization", Utilization),
        ("capacity utilisation", Utilization),
        ("profit loss", ProfitLoss),
        ("profit and loss", ProfitLoss),
        ("p l", ProfitLoss),
        ("pnl", ProfitLoss),
    ]
};

/// Leading words a phrase may carry, longest first; at most one is dropped.
const PREFIXES: &[&str] = &[
    "customer case resolution ",
    "customer case service ",
    "customer case ",
    "case resolution ",
    "customer ",
    "service ",
    "case ",
];

impl StatisticType {
    /// Every statistic type, in the order listed in the API.
    pub const ALL: [Self; 10] = [
        Self::Throughput,
        Self::Backlog,
        Self::FirstResponseTime,
        Self::ResolutionTime,
        Self::EffortPerCase,
        Self::SlaAttainment,
        Self::ReopenRate,
        Self::AppealRate,
        Self::Utilization,
        Self::ProfitLoss,
    ];

    /// The canonical kebab-case name, e.g. `first-response-time`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Throughput => "throughput",
            Self::Backlog => "backlog",
            Self::FirstResponseTime => "first-response-time",
            Self::ResolutionTime => "resolution-time",
            Self::EffortPerCase => "effort-per-case",
            Self::SlaAttainment => "sla-attainment",
            Self::ReopenRate => "reopen-rate",
            Self::AppealRate => "appeal-rate",
            Self::Utilization => "utilization",
            Self::ProfitLoss => "profit-loss",
        }
    }

    /// A name for people, capitalised: `First response time`.
    pub fn title(self) -> &'static str {
        match self {
            Self::Throughput => "Throughput",
            Self::Backlog => "Backlog",
            Self::FirstResponseTime => "First response time",
            Self::ResolutionTime => "Resolution time",
            Self::EffortPerCase => "Effort per case",
            Self::SlaAttainment => "SLA attainment",
            Self::ReopenRate => "Reopen rate",
            Self::AppealRate => "Appeal rate",
            Self::Utilization => "Utilization",
            Self::ProfitLoss => "Profit/loss",
        }
    }

    /// Recognises a canonical name or a BIAN phrase (see the module docs), ignoring case and
    /// punctuation; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let normal = normalise(text);
        let lookup = |phrase: &str| {
            PHRASES
                .iter()
                .find(|(known, _)| *known == phrase)
                .map(|(_, kind)| *kind)
        };
        lookup(&normal).or_else(|| {
            PREFIXES
                .iter()
                .filter_map(|prefix| normal.strip_prefix(prefix))
                .find_map(lookup)
        })
    }
}

impl fmt::Display for StatisticType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Lower case, every run of characters other than letters and digits made one space.
fn normalise(text: &str) -> String {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_canonical_name_parses_back() {
        for kind in StatisticType::ALL {
            assert_eq!(StatisticType::parse(kind.as_str()), Some(kind));
            assert_eq!(
                StatisticType::parse(&kind.as_str().to_uppercase()),
                Some(kind)
            );
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(json, serde_json::json!(kind.as_str()));
        }
    }

    #[test]
    fn bian_phrases_are_recognised_ignoring_case_and_punctuation() {
        use StatisticType::*;
        for (phrase, kind) in [
            ("case resolution throughput", Throughput),
            ("Case Resolution Throughput", Throughput),
            ("backlog", Backlog),
            ("Open cases", Backlog),
            ("First response time", FirstResponseTime),
            ("resolution time", ResolutionTime),
            ("Case resolution time", ResolutionTime),
            ("time/effort per case", EffortPerCase),
            ("Time per case", EffortPerCase),
            ("SLA attainment", SlaAttainment),
            ("service-level attainment", SlaAttainment),
            ("reopen rate", ReopenRate),
            ("Re-open rate", ReopenRate),
            ("customer acceptance/appeal rate", AppealRate),
            ("Appeal rate", AppealRate),
            ("utilisation", Utilization),
            ("Customer case resource utilization", Utilization),
            ("case resolution profit/loss", ProfitLoss),
            ("P&L", ProfitLoss),
            ("  profit / loss  ", ProfitLoss),
        ] {
            assert_eq!(StatisticType::parse(phrase), Some(kind), "{phrase}");
        }
    }

    #[test]
    fn unknown_text_is_left_to_the_caller() {
        for text in [
            "",
            "customer satisfaction",
            "case",
            "resolution",
            "throughput please",
        ] {
            assert_eq!(StatisticType::parse(text), None, "{text}");
        }
    }
}
