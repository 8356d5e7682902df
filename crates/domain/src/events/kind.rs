//! The closed vocabularies of an event: its type and the case's priority. Both are spelt in
//! lower case exactly as listed; `Resolved` or `HIGH` are refused rather than guessed at.
//!
//! [`EventPriority`] is deliberately local to the feed, not the plan's priority type: the
//! feed only has to recognise the four words, and keeping it here lets events parse without
//! the plan module. The words are the same as the plan's service-level targets use, so a
//! mapping between the two is a plain match.

use std::fmt;

use super::EventError;

macro_rules! keywords {
    (
        $(#[$doc:meta])* $name:ident, $field:literal,
        { $($(#[$vdoc:meta])* $variant:ident = $word:literal,)+ }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// Every value, in the order listed in the API.
            pub const ALL: &'static [Self] = &[$(Self::$variant,)+];

            /// The word clients send.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $word,)+
                }
            }

            /// Parses the word clients send; the error names the property and lists the
            /// accepted words.
            pub fn parse(word: &str) -> Result<Self, EventError> {
                match word {
                    $($word => Ok(Self::$variant),)+
                    _ => Err(EventError::invalid(
                        $field,
                        concat!("must be one of ", $($word, ", ",)+)
                            .trim_end_matches(", ")
                            .to_owned(),
                    )),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

keywords!(
    /// What happened to a case.
    EventType, "EventType", {
        /// The case was opened (it arrived).
        Opened = "opened",
        /// The case was given to a team or an agent.
        Assigned = "assigned",
        /// The customer got a first answer; the first-response clock stops.
        FirstResponse = "first_response",
        /// The case was escalated.
        Escalated = "escalated",
        /// A resolved or closed case was opened again.
        Reopened = "reopened",
        /// The case was resolved; the resolution clock stops.
        Resolved = "resolved",
        /// The customer appealed the resolution.
        Appealed = "appealed",
        /// The case was closed.
        Closed = "closed",
        /// The bank asked the customer for something; the resolution clock stops until the
        /// customer replies or the case is resolved.
        WaitingOnCustomer = "waiting_on_customer",
        /// The customer replied; a stopped resolution clock runs again.
        CustomerReplied = "customer_replied",
    }
);

keywords!(
    /// How urgent the case is, as the event reports it.
    EventPriority, "Priority", {
        /// Low priority.
        Low = "low",
        /// Normal priority.
        Normal = "normal",
        /// High priority.
        High = "high",
        /// Urgent.
        Urgent = "urgent",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_type_parses_back_from_its_word() {
        for kind in EventType::ALL {
            assert_eq!(EventType::parse(kind.as_str()), Ok(*kind));
        }
        assert_eq!(EventType::ALL.len(), 10);
        assert_eq!(EventType::FirstResponse.to_string(), "first_response");
    }

    #[test]
    fn an_unknown_event_type_lists_the_accepted_words() {
        assert_eq!(
            EventType::parse("Resolved").map_err(|e| e.to_string()),
            Err(
                "EventType: must be one of opened, assigned, first_response, escalated, \
                 reopened, resolved, appealed, closed, waiting_on_customer, customer_replied"
                    .to_owned()
            )
        );
    }

    #[test]
    fn priorities_are_the_four_lower_case_words() {
        for priority in EventPriority::ALL {
            assert_eq!(EventPriority::parse(priority.as_str()), Ok(*priority));
        }
        assert_eq!(
            EventPriority::parse("HIGH").map_err(|e| e.to_string()),
            Err("Priority: must be one of low, normal, high, urgent".to_owned())
        );
    }
}
