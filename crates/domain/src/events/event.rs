//! One case event and its JSON form.
//!
//! The JSON form is an object with PascalCase properties, like the BIAN fields:
//!
//! ```text
//! {"EventId": "e-1041", "CaseId": "C-77", "EventType": "resolved",
//!  "OccurredAt": "2026-03-02T10:15:00+01:00", "Category": "billing", "Priority": "high",
//!  "Channel": "email", "Team": "tier-1", "Agent": "a.smith", "EffortMinutes": 12.5,
//!  "Amount": {"Value": "12.50", "Currency": "EUR"}, "Outcome": "refund granted"}
//! ```
//!
//! `EventId`, `CaseId`, `EventType` and `OccurredAt` are required; the rest are optional, and
//! an optional property sent as `null` counts as absent. Any other property is refused.
//! Problems are reported one at a time: an unknown property first, then the properties in
//! the order above.

use serde_json::{Map, Value as Json};

use super::{
    EffortMinutes, EventError, EventPriority, EventType, parse_occurred_at,
    text::{CaseId, EventId, Label},
};
use crate::money::Amount;
use crate::record::Timestamp;

/// Every property an event may have, in the order documented and checked.
pub const PROPERTIES: [&str; 12] = [
    "EventId",
    "CaseId",
    "EventType",
    "OccurredAt",
    "Category",
    "Priority",
    "Channel",
    "Team",
    "Agent",
    "EffortMinutes",
    "Amount",
    "Outcome",
];

/// Something that happened to a case. Built by [`CaseEvent::from_json`] (or from parsed
/// parts), so every value in it is valid.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseEvent {
    /// The client's id for the event; the store ignores an id it has seen before in the plan.
    pub event_id: EventId,
    /// The case it happened to.
    pub case_id: CaseId,
    /// What happened.
    pub event_type: EventType,
    /// When it happened, in UTC.
    pub occurred_at: Timestamp,
    /// The kind of case, e.g. `billing`.
    pub category: Option<Label>,
    /// How urgent the case is.
    pub priority: Option<EventPriority>,
    /// How the case reached the bank, e.g. `email`.
    pub channel: Option<Label>,
    /// The team handling the case.
    pub team: Option<Label>,
    /// The agent handling the case.
    pub agent: Option<Label>,
    /// Working time this step took.
    pub effort_minutes: Option<EffortMinutes>,
    /// Money involved, e.g. a refund or a fee.
    pub amount: Option<Amount>,
    /// How the case (or this step) ended, in the client's words.
    pub outcome: Option<Label>,
}

/// The properties of an event as sent, each still unparsed; `null` already counts as absent.
#[derive(Default)]
struct Sent<'a> {
    event_id: Option<&'a Json>,
    case_id: Option<&'a Json>,
    event_type: Option<&'a Json>,
    occurred_at: Option<&'a Json>,
    category: Option<&'a Json>,
    priority: Option<&'a Json>,
    channel: Option<&'a Json>,
    team: Option<&'a Json>,
    agent: Option<&'a Json>,
    effort_minutes: Option<&'a Json>,
    amount: Option<&'a Json>,
    outcome: Option<&'a Json>,
}

impl<'a> Sent<'a> {
    /// Sorts an object's properties into their slots, refusing unknown ones.
    fn sort(object: &'a Map<String, Json>) -> Result<Self, EventError> {
        let mut sent = Self::default();
        for (key, value) in object {
            let slot = match key.as_str() {
                "EventId" => &mut sent.event_id,
                "CaseId" => &mut sent.case_id,
                "EventType" => &mut sent.event_type,
                "OccurredAt" => &mut sent.occurred_at,
                "Category" => &mut sent.category,
                "Priority" => &mut sent.priority,
                "Channel" => &mut sent.channel,
                "Team" => &mut sent.team,
                "Agent" => &mut sent.agent,
                "EffortMinutes" => &mut sent.effort_minutes,
                "Amount" => &mut sent.amount,
                "Outcome" => &mut sent.outcome,
                _ => return Err(EventError::unknown(key)),
            };
            *slot = Some(value).filter(|v| !v.is_null());
        }
        Ok(sent)
    }
}

impl CaseEvent {
    /// Parses one event from its JSON object; the error names the property at fault.
    pub fn from_json(value: &Json) -> Result<Self, EventError> {
        let object = value.as_object().ok_or(EventError::NotAnObject)?;
        let sent = Sent::sort(object)?;
        Ok(Self {
            event_id: EventId::parse(text("EventId", required("EventId", sent.event_id)?)?)?,
            case_id: CaseId::parse(text("CaseId", required("CaseId", sent.case_id)?)?)?,
            event_type: EventType::parse(text(
                "EventType",
                required("EventType", sent.event_type)?,
            )?)?,
            occurred_at: parse_occurred_at(text(
                "OccurredAt",
                required("OccurredAt", sent.occurred_at)?,
            )?)?,
            category: label("Category", sent.category)?,
            priority: sent
                .priority
                .map(|v| text("Priority", v).and_then(EventPriority::parse))
                .transpose()?,
            channel: label("Channel", sent.channel)?,
            team: label("Team", sent.team)?,
            agent: label("Agent", sent.agent)?,
            effort_minutes: sent
                .effort_minutes
                .map(EffortMinutes::from_json)
                .transpose()?,
            amount: sent
                .amount
                .map(|v| Amount::parse(v).map_err(|e| EventError::invalid("Amount", e.to_string())))
                .transpose()?,
            outcome: label("Outcome", sent.outcome)?,
        })
    }

    /// The event as JSON, in the shape [`from_json`](Self::from_json) reads; absent optional
    /// properties are left out and `OccurredAt` is written in UTC.
    pub fn to_json(&self) -> Json {
        let mut object = Map::new();
        let mut put = |key: &str, value: Option<Json>| {
            if let Some(value) = value {
                object.insert(key.to_owned(), value);
            }
        };
        let label = |label: &Option<Label>| label.as_ref().map(|l| Json::from(l.as_str()));
        put("EventId", Some(self.event_id.as_str().into()));
        put("CaseId", Some(self.case_id.as_str().into()));
        put("EventType", Some(self.event_type.as_str().into()));
        put("OccurredAt", Some(self.occurred_at.to_rfc3339().into()));
        put("Category", label(&self.category));
        put("Priority", self.priority.map(|p| p.as_str().into()));
        put("Channel", label(&self.channel));
        put("Team", label(&self.team));
        put("Agent", label(&self.agent));
        put(
            "EffortMinutes",
            self.effort_minutes.map(EffortMinutes::to_json),
        );
        put("Amount", self.amount.as_ref().map(Amount::to_json));
        put("Outcome", label(&self.outcome));
        Json::Object(object)
    }
}

/// A required property's value, or `Missing`.
fn required<'a>(field: &'static str, value: Option<&'a Json>) -> Result<&'a Json, EventError> {
    value.ok_or(EventError::Missing { field })
}

/// A value that must be a JSON string.
fn text<'a>(field: &'static str, value: &'a Json) -> Result<&'a str, EventError> {
    value
        .as_str()
        .ok_or_else(|| EventError::invalid(field, "must be a string"))
}

/// An optional label property.
fn label(field: &'static str, value: Option<&Json>) -> Result<Option<Label>, EventError> {
    value
        .map(|v| text(field, v).and_then(|t| Label::parse(field, t)))
        .transpose()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn full() -> Json {
        json!({
            "EventId": "e-1041", "CaseId": "C-77", "EventType": "resolved",
            "OccurredAt": "2026-03-02T09:15:00.25Z", "Category": "billing",
            "Priority": "high", "Channel": "email", "Team": "tier-1", "Agent": "a.smith",
            "EffortMinutes": 12.5, "Amount": {"Value": "12.50", "Currency": "EUR"},
            "Outcome": "refund granted"
        })
    }

    fn error_with(property: &str, value: Json) -> String {
        let mut event = full();
        event[property] = value;
        CaseEvent::from_json(&event)
            .map(|_| String::from("accepted"))
            .unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn a_full_valid_event_round_trips() {
        let event = CaseEvent::from_json(&full()).expect("valid");
        assert_eq!(event.event_type, EventType::Resolved);
        assert_eq!(event.priority, Some(EventPriority::High));
        assert_eq!(event.team.as_ref().map(Label::as_str), Some("tier-1"));
        assert_eq!(event.to_json(), full());
        assert_eq!(CaseEvent::from_json(&event.to_json()), Ok(event));
    }

    #[test]
    fn only_the_four_required_properties_are_needed_and_null_counts_as_absent() {
        let sent = json!({"EventId": "e", "CaseId": "c", "EventType": "opened",
            "OccurredAt": "2026-03-02T10:15:00+01:00", "Team": null, "Amount": null});
        let event = CaseEvent::from_json(&sent).expect("valid");
        assert!(event.team.is_none() && event.amount.is_none() && event.category.is_none());
        assert_eq!(
            event.to_json(),
            json!({"EventId": "e", "CaseId": "c", "EventType": "opened",
                "OccurredAt": "2026-03-02T09:15:00Z"})
        );
    }

    #[test]
    fn each_missing_required_property_is_named() {
        for field in ["EventId", "CaseId", "EventType", "OccurredAt"] {
            let mut event = full();
            event.as_object_mut().map(|o| o.remove(field));
            let error = CaseEvent::from_json(&event).expect_err(field);
            assert_eq!(error, EventError::Missing { field });
            assert_eq!(error_with(field, Json::Null), format!("{field}: required"));
        }
    }

    #[test]
    fn each_invalid_property_is_named() {
        let long = "x".repeat(101);
        for (property, value, message) in [
            ("EventId", json!(17), "EventId: must be a string"),
            (
                "EventId",
                json!("x".repeat(129)),
                "EventId: must be 1 to 128 characters",
            ),
            ("CaseId", json!(""), "CaseId: must be 1 to 128 characters"),
            (
                "CaseId",
                json!("C\t1"),
                "CaseId: must not contain control characters",
            ),
            (
                "EventType",
                json!("done"),
                "EventType: must be one of opened, assigned, \
                first_response, escalated, reopened, resolved, appealed, closed, \
                waiting_on_customer, customer_replied",
            ),
            (
                "OccurredAt",
                json!("2026-03-02"),
                "OccurredAt: not an RFC 3339 date-time with \
                offset, e.g. 2026-03-02T09:15:00+01:00",
            ),
            (
                "OccurredAt",
                json!(1_772_442_900),
                "OccurredAt: must be a string",
            ),
            (
                "OccurredAt",
                json!("1960-01-01T00:00:00Z"),
                "OccurredAt: must fall in the years 1970 to 9999 (UTC)",
            ),
            (
                "Category",
                json!(long),
                "Category: must be 1 to 100 characters",
            ),
            (
                "Priority",
                json!("p1"),
                "Priority: must be one of low, normal, high, urgent",
            ),
            ("Channel", json!(["email"]), "Channel: must be a string"),
            ("Team", json!("  "), "Team: must not be blank"),
            (
                "Agent",
                json!("a\u{1b}[31m"),
                "Agent: must not contain control characters",
            ),
            (
                "EffortMinutes",
                json!(-5),
                "EffortMinutes: must be a number of minutes from 0 to 100000",
            ),
            (
                "Amount",
                json!({"Value": 12.5, "Currency": "EUR"}),
                "Amount: Value must be a decimal number written as a string, e.g. \"12.50\"",
            ),
            (
                "Amount",
                json!("12.50 EUR"),
                "Amount: must be an object with Value and Currency",
            ),
            (
                "Outcome",
                json!(long),
                "Outcome: must be 1 to 100 characters",
            ),
        ] {
            assert_eq!(error_with(property, value), message, "{property}");
        }
    }

    #[test]
    fn unknown_properties_are_refused_by_name() {
        let error = CaseEvent::from_json(&json!({"eventId": "e"})).expect_err("unknown");
        assert_eq!(error.field(), Some("eventId"));
        assert!(
            error
                .to_string()
                .starts_with("eventId: unknown property; an event has ")
        );
        assert_eq!(
            error_with("Severity", json!("high")).split(';').next(),
            Some("Severity: unknown property")
        );
    }

    #[test]
    fn an_event_that_is_not_an_object_is_refused() {
        for bad in [json!([]), json!("e-1"), json!(null)] {
            assert_eq!(CaseEvent::from_json(&bad), Err(EventError::NotAnObject));
        }
    }
}
