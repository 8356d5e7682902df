//! Scopes: what a principal may do. Which one each operation needs is declared where its
//! route is registered (`crate::api::policy`).

use std::fmt;

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

    #[test]
    fn admin_allows_everything_and_others_only_themselves() {
        let admin = Scopes::parse("admin");
        assert!(Scope::ALL.into_iter().all(|s| admin.allow(s)));
        let read = Scopes::parse("read other:scope caseload:ingest");
        assert!(read.allow(Scope::Read) && read.allow(Scope::Ingest));
        assert!(!read.allow(Scope::Write) && !read.allow(Scope::Admin));
        assert_eq!(read.names(), ["read", "ingest"]);
        assert!(!Scopes::default().allow(Scope::Read));
    }
}
