//! Why one event was refused: always the PascalCase property at fault and what is wrong
//! with it, so that `EventType: must be one of ...` reads the same in every message.

use std::fmt;

/// Why an event was refused. [`Display`](fmt::Display) renders `Property: problem`, e.g.
/// `OccurredAt: not an RFC 3339 date-time with offset, e.g. 2026-03-02T09:15:00+01:00`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventError {
    /// The event is not a JSON object.
    NotAnObject,
    /// A required property is missing (or `null`).
    Missing {
        /// The property, e.g. `OccurredAt`.
        field: &'static str,
    },
    /// A property is present but its value is not acceptable.
    Invalid {
        /// The property, e.g. `EventType`.
        field: &'static str,
        /// What is wrong, e.g. `must be one of opened, assigned, ...`.
        problem: String,
    },
    /// The object has a property events do not have.
    Unknown {
        /// The property as sent, cut to 64 characters.
        property: String,
    },
}

impl EventError {
    /// A present property with an unacceptable value.
    pub fn invalid(field: &'static str, problem: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            problem: problem.into(),
        }
    }

    /// An unknown property, its name cut to 64 characters to keep messages short.
    pub fn unknown(property: &str) -> Self {
        Self::Unknown {
            property: property.chars().take(64).collect(),
        }
    }

    /// The property at fault; `None` when the event is not an object at all.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::NotAnObject => None,
            Self::Missing { field } | Self::Invalid { field, .. } => Some(field),
            Self::Unknown { property } => Some(property),
        }
    }
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAnObject => f.write_str("an event must be a JSON object"),
            Self::Missing { field } => write!(f, "{field}: required"),
            Self::Invalid { field, problem } => write!(f, "{field}: {problem}"),
            Self::Unknown { property } => write!(
                f,
                "{property}: unknown property; an event has {}",
                super::PROPERTIES.join(", ")
            ),
        }
    }
}

impl std::error::Error for EventError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_start_with_the_property_at_fault() {
        let error = EventError::invalid("EventType", "must be one of opened");
        assert_eq!(error.to_string(), "EventType: must be one of opened");
        assert_eq!(error.field(), Some("EventType"));
        assert_eq!(
            EventError::Missing { field: "CaseId" }.to_string(),
            "CaseId: required"
        );
    }

    #[test]
    fn unknown_property_names_are_cut_and_the_known_ones_listed() {
        let error = EventError::unknown(&"x".repeat(500));
        assert_eq!(error.field().map(str::len), Some(64));
        assert!(
            error
                .to_string()
                .contains("unknown property; an event has EventId, CaseId")
        );
    }
}
