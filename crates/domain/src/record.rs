//! Stored records: the plan and its child records, their versions and timestamps, and the
//! change a writer asks for.

use std::fmt;

use serde_json::{Map, Value as Json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::fields::{Fields, RecordKind};
use crate::ids::{PlanId, RecordId};

/// A point in time, stored as microseconds since the Unix epoch (UTC) so that both
/// backends keep it in a plain 64-bit integer column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The current time.
    pub fn now() -> Self {
        let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
        Self(i64::try_from(nanos / 1_000).unwrap_or(i64::MAX))
    }

    /// From stored microseconds.
    pub fn from_micros(micros: i64) -> Self {
        Self(micros)
    }

    /// Microseconds since the epoch, for storage.
    pub fn as_micros(self) -> i64 {
        self.0
    }

    /// RFC 3339 text in UTC, e.g. `2026-11-26T22:23:28.123456Z`.
    pub fn to_rfc3339(self) -> String {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_default()
    }
}

/// The version of a record: 1 when created, one more on every change. Exposed as `ETag`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(i64);

impl Version {
    /// The version of a new record.
    pub const FIRST: Self = Self(1);
    /// A version no record ever has: a precondition on it always fails.
    pub const FIRST_INVALID: Self = Self(0);

    /// From a stored or client-given number.
    pub fn new(n: i64) -> Self {
        Self(n)
    }

    /// The number.
    pub fn get(self) -> i64 {
        self.0
    }

    /// Parses an entity tag as this service issues it (`"3"`, also `W/"3"`). `None` for a
    /// tag this service could not have issued, which therefore matches no version.
    pub fn from_etag(tag: &str) -> Option<Self> {
        let tag = tag.trim();
        let tag = tag.strip_prefix("W/").unwrap_or(tag);
        let inner = tag.strip_prefix('"')?.strip_suffix('"')?;
        inner.parse::<i64>().ok().filter(|n| *n >= 1).map(Self)
    }

    /// The strong entity tag for this version.
    pub fn etag(self) -> String {
        format!("\"{}\"", self.0)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What every stored record carries besides its properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordMeta {
    /// Current version.
    pub version: Version,
    /// When the record was created.
    pub created_at: Timestamp,
    /// When the record last changed.
    pub updated_at: Timestamp,
}

/// A customer case management plan (the BIAN control record).
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The plan's id.
    pub id: PlanId,
    /// Its BIAN properties.
    pub fields: Fields,
    /// Typed extension properties (service-level targets, business calendar, resource
    /// plan), as validated by the service before they were stored.
    pub extensions: Map<String, Json>,
    /// The business unit that owns the plan and everything under it; set at creation.
    pub business_unit: String,
    /// Version and timestamps.
    pub meta: RecordMeta,
}

/// The two behaviour qualifiers that live under a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChildKind {
    /// Case decision criteria.
    Rules,
    /// Performance analyses.
    Performance,
}

impl ChildKind {
    /// The record kind, for field validation.
    pub fn record_kind(self) -> RecordKind {
        match self {
            Self::Rules => RecordKind::Rules,
            Self::Performance => RecordKind::Performance,
        }
    }
}

/// A rule or performance record under a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildRecord {
    /// Which behaviour qualifier.
    pub kind: ChildKind,
    /// The plan it belongs to.
    pub plan_id: PlanId,
    /// Its id within the plan.
    pub id: RecordId,
    /// Its BIAN properties.
    pub fields: Fields,
    /// Typed extension properties (e.g. a criterion's expression and parameters), as
    /// validated by the service before they were stored.
    pub extensions: Map<String, Json>,
    /// Version and timestamps.
    pub meta: RecordMeta,
}

/// One stored version of a record: what it was, who made it and when.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordVersion {
    /// The version.
    pub version: Version,
    /// The BIAN properties at that version.
    pub fields: Fields,
    /// The extension properties at that version.
    pub extensions: Map<String, Json>,
    /// Who wrote it.
    pub changed_by: String,
    /// When.
    pub changed_at: Timestamp,
}

/// How a change combines with what is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// Properties given replace the stored ones; the others are kept (BIAN `Update`).
    Merge,
    /// The given properties become the whole record (REST `PUT`).
    Replace,
}

/// A change to a record, optionally conditional on its current version (`If-Match`).
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The properties to write.
    pub fields: Fields,
    /// Merge into or replace the stored properties.
    pub mode: WriteMode,
    /// Apply only if the record is at this version; a record that does not exist matches
    /// no version.
    pub expected: Option<Version>,
    /// The record's extension properties after the change, whole; `None` keeps them.
    pub extensions: Option<Map<String, Json>>,
    /// Who makes the change.
    pub actor: String,
}

impl Change {
    /// A change of BIAN properties only.
    pub fn fields(
        fields: Fields,
        mode: WriteMode,
        expected: Option<Version>,
        actor: impl Into<String>,
    ) -> Self {
        Self {
            fields,
            mode,
            expected,
            extensions: None,
            actor: actor.into(),
        }
    }
}

impl Change {
    /// The properties after applying this change to `current`.
    pub fn apply_to(&self, current: Fields) -> Fields {
        match self.mode {
            WriteMode::Merge => current.merged(&self.fields),
            WriteMode::Replace => self.fields.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_tags_round_trip_and_weak_tags_are_understood() {
        let v = Version::new(42);
        assert_eq!(Version::from_etag(&v.etag()), Some(v));
        assert_eq!(Version::from_etag("W/\"42\""), Some(v));
    }

    #[test]
    fn tags_this_service_never_issued_match_nothing() {
        for tag in [
            "42",
            "\"abc\"",
            "\"0\"",
            "\"-1\"",
            "",
            "\"99999999999999999999\"",
        ] {
            assert_eq!(Version::from_etag(tag), None, "{tag}");
        }
    }

    #[test]
    fn timestamps_render_as_rfc3339_utc() {
        assert_eq!(
            Timestamp::from_micros(1_500_000).to_rfc3339(),
            "1970-01-01T00:00:01.5Z"
        );
    }
}
