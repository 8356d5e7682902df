//! Identifiers. Plan and intervention ids are minted by the service (UUID v7, so they sort
//! by creation time); rule and performance ids are chosen by the client in the path, as BIAN
//! has no Create for behaviour qualifiers.

use std::fmt;

/// Longest identifier accepted in a path.
pub const MAX_ID_CHARS: usize = 64;

/// Why a path identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The id is not a UUID as minted by this service.
    #[error("'{0}' is not a valid identifier: expected a UUID")]
    NotUuid(String),
    /// The id is empty, too long or uses characters outside `[A-Za-z0-9._~-]`.
    #[error(
        "identifier must be 1 to {MAX_ID_CHARS} characters of letters, digits, '.', '_', '~' or '-'"
    )]
    Malformed,
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(uuid::Uuid);

        impl $name {
            /// Mints a new, time-ordered id.
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7())
            }

            /// Parses an id as it appears in a path or a stored row.
            pub fn parse(raw: &str) -> Result<Self, IdError> {
                if raw.len() != 36 {
                    return Err(IdError::NotUuid(truncate(raw)));
                }
                uuid::Uuid::try_parse(raw)
                    .map(Self)
                    .map_err(|_| IdError::NotUuid(truncate(raw)))
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }
    };
}

uuid_id!(
    /// Identifies a customer case management plan (the BIAN control record).
    PlanId
);
uuid_id!(
    /// Identifies a manual intervention request.
    InterventionId
);
uuid_id!(
    /// Identifies a recorded evaluation of a case against a criterion.
    EvaluationId
);
uuid_id!(
    /// Identifies a back-test of proposed criterion settings.
    BacktestId
);

/// Identifies a rule or performance record within its plan; chosen by the client.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordId(String);

impl RecordId {
    /// Accepts 1 to [`MAX_ID_CHARS`] URL-safe characters (`[A-Za-z0-9._~-]`).
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        let ok = !raw.is_empty()
            && raw.len() <= MAX_ID_CHARS
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'-'))
            && raw != "."
            && raw != "..";
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(IdError::Malformed)
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Echoing a hostile id back in full would let a client inflate error bodies and logs.
fn truncate(raw: &str) -> String {
    let mut out: String = raw.chars().take(MAX_ID_CHARS).collect();
    if out.len() < raw.len() {
        out.push('…');
    }
    out.chars().filter(|c| !c.is_control()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minted_plan_id_round_trips_through_its_text() {
        let id = PlanId::new();
        assert_eq!(PlanId::parse(&id.to_string()), Ok(id));
    }

    #[test]
    fn a_plan_id_that_is_not_a_uuid_is_rejected() {
        assert!(matches!(PlanId::parse("plan-1"), Err(IdError::NotUuid(_))));
        assert!(PlanId::parse(&"9".repeat(5000)).is_err());
    }

    #[test]
    fn record_ids_allow_url_safe_characters_only() {
        assert!(RecordId::parse("refund-limit_v2.1").is_ok());
        for bad in ["", "a/b", "..", "a b", "é", &"x".repeat(65)] {
            assert_eq!(RecordId::parse(bad), Err(IdError::Malformed), "{bad:?}");
        }
    }

    #[test]
    fn echoed_ids_are_truncated_and_stripped_of_control_characters() {
        let echoed = truncate(&format!("a\u{7}{}", "b".repeat(100)));
        assert!(echoed.chars().count() <= MAX_ID_CHARS + 1);
        assert!(!echoed.contains('\u{7}'));
    }
}
