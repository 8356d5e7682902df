//! Manual intervention requests: raised by the BIAN `Request` operations on a plan, a rule
//! or a performance record, and worked through a small lifecycle.

use std::fmt;
use std::str::FromStr;

use crate::fields::{Fields, MAX_FIELD_CHARS};
use crate::ids::{InterventionId, PlanId, RecordId};
use crate::record::{ChildKind, RecordMeta};

/// Longest reason or requested action accepted, in characters.
pub const TEXT_MAX_CHARS: usize = MAX_FIELD_CHARS;

/// What an intervention is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subject {
    /// The plan itself.
    Plan,
    /// A case decision criterion of the plan.
    Rules(RecordId),
    /// A performance record of the plan.
    Performance(RecordId),
}

impl Subject {
    /// The subject naming a rule or performance record.
    pub fn of_record(kind: ChildKind, id: RecordId) -> Self {
        match kind {
            ChildKind::Rules => Self::Rules(id),
            ChildKind::Performance => Self::Performance(id),
        }
    }

    /// The stored kind name: `plan`, `rules` or `performance`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Self::Plan => "plan",
            Self::Rules(_) => "rules",
            Self::Performance(_) => "performance",
        }
    }

    /// The rule or performance id, if any.
    pub fn record_id(&self) -> Option<&RecordId> {
        match self {
            Self::Plan => None,
            Self::Rules(id) | Self::Performance(id) => Some(id),
        }
    }

    /// Rebuilds a subject from its stored kind name and record id.
    pub fn from_parts(kind: &str, record: Option<&str>) -> Option<Self> {
        let record = || record.and_then(|r| RecordId::parse(r).ok());
        match kind {
            "plan" => Some(Self::Plan),
            "rules" => record().map(Self::Rules),
            "performance" => record().map(Self::Performance),
            _ => None,
        }
    }
}

/// Where an intervention is in its lifecycle: `open` → `acknowledged` → `resolved` or
/// `rejected`. An open request may also be resolved or rejected directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InterventionStatus {
    /// Raised, nobody has taken it yet.
    Open,
    /// Somebody has taken it.
    Acknowledged,
    /// Done as requested.
    Resolved,
    /// Declined.
    Rejected,
}

impl InterventionStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [Self; 4] = [
        Self::Open,
        Self::Acknowledged,
        Self::Resolved,
        Self::Rejected,
    ];

    /// The statuses this one may move to.
    pub fn next(self) -> &'static [Self] {
        match self {
            Self::Open => &[Self::Acknowledged, Self::Resolved, Self::Rejected],
            Self::Acknowledged => &[Self::Resolved, Self::Rejected],
            Self::Resolved | Self::Rejected => &[],
        }
    }

    /// The status as text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Acknowledged => "acknowledged",
            Self::Resolved => "resolved",
            Self::Rejected => "rejected",
        }
    }
}

impl fmt::Display for InterventionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for InterventionStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| {
                "status must be one of open, acknowledged, resolved, rejected".to_owned()
            })
    }
}

/// An intervention as the client asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIntervention {
    /// The plan it belongs to.
    pub plan_id: PlanId,
    /// What it is about.
    pub subject: Subject,
    /// Why intervention is needed.
    pub reason: Option<String>,
    /// What the requester wants done.
    pub requested_action: Option<String>,
    /// The aspects of the subject the request points at (the BIAN properties sent with it).
    pub details: Fields,
    /// Who asked.
    pub requester: String,
}

/// A stored intervention request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intervention {
    /// Its id.
    pub id: InterventionId,
    /// What was asked.
    pub request: NewIntervention,
    /// Where it is in its lifecycle.
    pub status: InterventionStatus,
    /// Version and timestamps.
    pub meta: RecordMeta,
}

/// One step of an intervention's lifecycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The status it left.
    pub from: InterventionStatus,
    /// The status it entered.
    pub to: InterventionStatus,
    /// Who moved it.
    pub by: String,
    /// When.
    pub at: crate::record::Timestamp,
    /// Why, in the mover's words.
    pub comment: Option<String>,
}

impl InterventionStatus {
    /// Checks a move to `to`; the error lists the moves allowed from here.
    pub fn check_move(self, to: Self) -> Result<(), IllegalTransition> {
        if self.next().contains(&to) {
            Ok(())
        } else {
            Err(IllegalTransition { from: self, to })
        }
    }
}

/// A lifecycle move that is not allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an intervention cannot move from '{from}' to '{to}'; allowed from '{from}': {}", allowed(*from))]
pub struct IllegalTransition {
    /// Where it is.
    pub from: InterventionStatus,
    /// Where it was asked to go.
    pub to: InterventionStatus,
}

fn allowed(from: InterventionStatus) -> String {
    let next: Vec<&str> = from.next().iter().map(|s| s.as_str()).collect();
    if next.is_empty() {
        "none (it is closed)".to_owned()
    } else {
        next.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_interventions_cannot_move() {
        assert!(InterventionStatus::Resolved.next().is_empty());
        assert!(InterventionStatus::Rejected.next().is_empty());
    }

    #[test]
    fn an_open_intervention_can_be_acknowledged_but_not_reopened() {
        assert!(
            InterventionStatus::Open
                .next()
                .contains(&InterventionStatus::Acknowledged)
        );
        assert!(
            !InterventionStatus::Acknowledged
                .next()
                .contains(&InterventionStatus::Open)
        );
    }

    #[test]
    fn an_illegal_move_names_the_allowed_ones() {
        let err = InterventionStatus::Acknowledged
            .check_move(InterventionStatus::Open)
            .unwrap_err();
        assert!(err.to_string().contains("resolved, rejected"), "{err}");
        let closed = InterventionStatus::Resolved
            .check_move(InterventionStatus::Open)
            .unwrap_err();
        assert!(closed.to_string().contains("none"), "{closed}");
        assert!(
            InterventionStatus::Open
                .check_move(InterventionStatus::Acknowledged)
                .is_ok()
        );
    }

    #[test]
    fn statuses_parse_from_their_text() {
        for status in InterventionStatus::ALL {
            assert_eq!(status.as_str().parse::<InterventionStatus>(), Ok(status));
        }
        assert!("closed".parse::<InterventionStatus>().is_err());
    }

    #[test]
    fn subjects_round_trip_through_their_stored_parts() {
        let subject = Subject::Rules(RecordId::parse("r1").expect("valid"));
        let rebuilt = Subject::from_parts(
            subject.kind_name(),
            subject.record_id().map(RecordId::as_str),
        );
        assert_eq!(rebuilt, Some(subject));
        assert_eq!(Subject::from_parts("rules", None), None);
    }
}
