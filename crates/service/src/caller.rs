//! Who calls an operation: a subject, its scopes (what it may do) and its business units
//! (which plans it reaches). Every surface authenticates in its own way and hands the result
//! to the service as a [`Caller`].

use std::fmt;

use caseload_store::BusinessUnits;

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
