//! A generated event in the shape clients send: the JSON object of the case-events
//! endpoint, with PascalCase properties and absent optional properties left out.

use caseload_domain::Timestamp;
use caseload_domain::events::{EventPriority, EventType};
use serde::{Serialize, Serializer};

/// One generated event, serialised exactly as a client sends it in a batch.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DemoEvent {
    /// `C-0000042-3`: the third event of case 42.
    pub event_id: String,
    /// `C-0000042`.
    pub case_id: String,
    /// What happened.
    #[serde(serialize_with = "as_text")]
    pub event_type: EventType,
    /// When, to the second.
    #[serde(serialize_with = "as_rfc3339")]
    pub occurred_at: Timestamp,
    /// The kind of case.
    pub category: &'static str,
    /// How urgent the case is.
    #[serde(serialize_with = "as_text")]
    pub priority: EventPriority,
    /// How the case reached the bank.
    pub channel: &'static str,
    /// The team handling the case.
    pub team: &'static str,
    /// Who did it; none on opening.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// Minutes of work it took.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effort_minutes: Option<u32>,
    /// Money in dispute (on `opened`) or paid out (on `resolved`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    /// How a resolution ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<&'static str>,
}

/// An amount as events carry it: `{"Value": "12.50", "Currency": "EUR"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Money {
    /// The decimal value, as text.
    pub value: String,
    /// The currency code.
    pub currency: &'static str,
}

fn as_text<T: std::fmt::Display, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

fn as_rfc3339<S: Serializer>(at: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&at.to_rfc3339())
}
