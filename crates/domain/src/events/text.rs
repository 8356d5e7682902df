//! The textual values of an event: its identifier, the case it is about, and free labels
//! (`Category`, `Channel`, `Team`, `Agent`, `Outcome`).
//!
//! All are non-blank text without control characters, limited in length (counted in
//! characters, not bytes). They are kept exactly as sent — no trimming, no case folding —
//! so that `"Billing"` and `"billing"` are different categories, as the client wrote them.

use std::fmt;

use super::EventError;

/// Longest `EventId` or `CaseId`, in characters.
pub const MAX_ID_CHARS: usize = 128;

/// Longest label (`Category`, `Channel`, `Team`, `Agent`, `Outcome`), in characters.
pub const MAX_LABEL_CHARS: usize = 100;

/// Checks text from a client: 1 to `max` characters, not only whitespace, no control
/// characters. `field` names the property in the error.
fn checked(field: &'static str, text: &str, max: usize) -> Result<(), EventError> {
    let mut chars = 0;
    let mut blank = true;
    for c in text.chars() {
        if c.is_control() {
            return Err(EventError::invalid(
                field,
                "must not contain control characters",
            ));
        }
        chars += 1;
        blank &= c.is_whitespace();
    }
    if chars == 0 || chars > max {
        return Err(EventError::invalid(
            field,
            format!("must be 1 to {max} characters"),
        ));
    }
    if blank {
        return Err(EventError::invalid(field, "must not be blank"));
    }
    Ok(())
}

macro_rules! text_value {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Parses the value as sent; the error names the property.
            pub fn parse(text: impl Into<String>) -> Result<Self, EventError> {
                let text = text.into();
                checked($field, &text, $max)?;
                Ok(Self(text))
            }

            /// The value as sent.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_value!(
    /// Identifies an event, chosen by the client; unique within a plan, so that sending the
    /// same event again is recognised (by the store) and does no harm.
    EventId,
    "EventId",
    MAX_ID_CHARS
);
text_value!(
    /// Identifies the case an event is about, in the client's own numbering.
    CaseId,
    "CaseId",
    MAX_ID_CHARS
);

/// A free label on an event: one of `Category`, `Channel`, `Team`, `Agent`, `Outcome`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label(String);

impl Label {
    /// Parses a label; `field` names the property in the error.
    pub fn parse(field: &'static str, text: impl Into<String>) -> Result<Self, EventError> {
        let text = text.into();
        checked(field, &text, MAX_LABEL_CHARS)?;
        Ok(Self(text))
    }

    /// The label as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_up_to_the_limit_in_characters_are_kept_as_sent() {
        let id = "é".repeat(MAX_ID_CHARS);
        assert_eq!(EventId::parse(id.clone()).map(|e| e.to_string()), Ok(id));
        assert_eq!(
            CaseId::parse(" case 1 ").map(|c| c.as_str().to_owned()),
            Ok(" case 1 ".to_owned())
        );
    }

    #[test]
    fn empty_overlong_blank_and_control_character_ids_are_refused_by_name() {
        for (bad, problem) in [
            (String::new(), "EventId: must be 1 to 128 characters"),
            ("x".repeat(129), "EventId: must be 1 to 128 characters"),
            ("   ".to_owned(), "EventId: must not be blank"),
            (
                "a\nb".to_owned(),
                "EventId: must not contain control characters",
            ),
            (
                "a\u{7f}".to_owned(),
                "EventId: must not contain control characters",
            ),
        ] {
            assert_eq!(
                EventId::parse(bad).map_err(|e| e.to_string()),
                Err(problem.to_owned())
            );
        }
        assert!(CaseId::parse("").is_err_and(|e| e.field() == Some("CaseId")));
    }

    #[test]
    fn labels_are_limited_to_a_hundred_characters_and_name_their_property() {
        assert!(Label::parse("Team", "x".repeat(MAX_LABEL_CHARS)).is_ok());
        let error = Label::parse("Team", "x".repeat(MAX_LABEL_CHARS + 1));
        assert_eq!(
            error.map_err(|e| e.to_string()),
            Err("Team: must be 1 to 100 characters".to_owned())
        );
        assert!(Label::parse("Agent", "\u{0}").is_err_and(|e| e.field() == Some("Agent")));
    }
}
