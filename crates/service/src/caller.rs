//! Who calls an operation: a subject, its scopes (what it may do) and its business units
//! (which plans it reaches). Every surface authenticates in its own way and hands the result
//! to the service as a [`Caller`].

use std::fmt;

use caseload_store::BusinessUnits;

use crate::ServiceError;

/// The authenticated caller of an operation.
#[derive(Debug, Clone)]
pub struct Caller {
    /// `jwt:<sub>`, `key:<id>` or `development`; recorded as the actor of every change.
    pub subject: String,
    /// What it may do.
    pub scopes: Scopes,
    /// Which plans it reaches.
    pub units: BusinessUnits,
}

impl Caller {
    /// The caller of every operation when authentication is off.
    pub fn development() -> Self {
        Self {
            subject: "development".into(),
            scopes: Scopes::all(),
            units: BusinessUnits::All,
        }
    }
}

/// The unit of plans created without one by a caller that reaches every unit.
pub const DEFAULT_UNIT: &str = "default";

/// Whether `name` can name a business unit: 1 to 64 of `A-Z a-z 0-9 . _ -`.
pub fn valid_unit(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The business unit a caller asks a new plan to go to, as given in its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitChoice<'a> {
    /// None named: the caller's only unit, or [`DEFAULT_UNIT`] for one that reaches all.
    Unnamed,
    /// This one.
    Named(&'a str),
    /// Something that cannot name a unit (not text).
    Malformed,
}

impl Caller {
    /// The business unit a new plan goes to: the one chosen, which the caller must reach;
    /// by default its only unit, or [`DEFAULT_UNIT`] for a caller that reaches all.
    pub fn unit_for_new_plan(&self, choice: UnitChoice<'_>) -> Result<String, ServiceError> {
        let unit = match (choice, &self.units) {
            (UnitChoice::Unnamed, BusinessUnits::All) => DEFAULT_UNIT.to_owned(),
            (UnitChoice::Unnamed, BusinessUnits::Only(units)) if units.len() == 1 => {
                units[0].clone()
            }
            (UnitChoice::Unnamed, BusinessUnits::Only(units)) => {
                return Err(ServiceError::invalid_property(
                    "BusinessUnit",
                    format!(
                        "property 'BusinessUnit' is required: name one of {}",
                        units.join(", ")
                    ),
                ));
            }
            (UnitChoice::Named(unit), _) if valid_unit(unit) => unit.to_owned(),
            (UnitChoice::Named(_) | UnitChoice::Malformed, _) => {
                return Err(ServiceError::invalid_property(
                    "BusinessUnit",
                    "property 'BusinessUnit' must be 1 to 64 of A-Z a-z 0-9 . _ -",
                ));
            }
        };
        if !self.units.contains(&unit) {
            return Err(ServiceError::Forbidden(format!(
                "you may not create plans in business unit '{unit}'"
            )));
        }
        Ok(unit)
    }
}

/// One permission. `admin` includes every other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Read plans, records, requests, evaluations, figures and projections.
    Read,
    /// Create and change plans and records, evaluate and back-test criteria.
    Write,
    /// Raise manual intervention requests and move them through their lifecycle.
    Intervene,
    /// Send case-event batches.
    Ingest,
    /// Everything, and the audit trail.
    Admin,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Self; 5] = [
        Self::Read,
        Self::Write,
        Self::Intervene,
        Self::Ingest,
        Self::Admin,
    ];

    /// The name as in tokens and keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Intervene => "intervene",
            Self::Ingest => "ingest",
            Self::Admin => "admin",
        }
    }

    /// Parses a scope name; `caseload:` prefixes (as some identity providers namespace
    /// scopes) are accepted.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.strip_prefix("caseload:").unwrap_or(text);
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of scopes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scopes(u8);

impl Scopes {
    /// Every scope.
    pub fn all() -> Self {
        Scope::ALL.into_iter().collect()
    }

    /// The scopes named in space-separated text; unknown names are ignored (a token may
    /// carry scopes of other services).
    pub fn parse(text: &str) -> Self {
        text.split_whitespace().filter_map(Scope::parse).collect()
    }

    /// Whether they allow what `scope` allows.
    pub fn allow(self, scope: Scope) -> bool {
        self.0 & (scope.bit() | Scope::Admin.bit()) != 0
    }

    /// The names, in a fixed order.
    pub fn names(self) -> Vec<&'static str> {
        Scope::ALL
            .into_iter()
            .filter(|s| self.0 & s.bit() != 0)
            .map(Scope::as_str)
            .collect()
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Self(iter.into_iter().fold(0, |bits, s| bits | s.bit()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller_in(units: &[&str]) -> Caller {
        Caller {
            units: BusinessUnits::Only(units.iter().map(|u| (*u).to_owned()).collect()),
            ..Caller::development()
        }
    }

    #[test]
    fn a_caller_of_one_unit_creates_plans_there_by_default() {
        let unit = caller_in(&["cards"]).unit_for_new_plan(UnitChoice::Unnamed);
        assert_eq!(unit.ok().as_deref(), Some("cards"));
    }

    #[test]
    fn a_caller_of_several_units_must_name_one() {
        let err = caller_in(&["cards", "loans"]).unit_for_new_plan(UnitChoice::Unnamed);
        assert!(
            matches!(err, Err(ServiceError::Invalid { property: Some(p), .. }) if p == "BusinessUnit")
        );
    }

    #[test]
    fn a_unit_the_caller_does_not_reach_is_forbidden() {
        let err = caller_in(&["cards"]).unit_for_new_plan(UnitChoice::Named("loans"));
        assert!(matches!(err, Err(ServiceError::Forbidden(_))));
    }

    #[test]
    fn a_caller_that_reaches_all_creates_in_the_default_unit() {
        let unit = Caller::development().unit_for_new_plan(UnitChoice::Unnamed);
        assert_eq!(unit.ok().as_deref(), Some(DEFAULT_UNIT));
    }
}
