//! The stored form of a [`CaseTimeline`]: one JSON document per case, which is what a store
//! keeps so that computing statistics reads one summary per case instead of its events.
//!
//! ```text
//! {"CaseId": "C-1", "FirstSeenAt": 1780304400000000, "LastSeenAt": 1780905600000000,
//!  "OpenedAt": 1780304400000000, "FirstResponseAt": 1780308000000000,
//!  "ResolvedAt": 1780574400000000, "ClosedAt": 1780905600000000,
//!  "Marks": [[1780394400000000, "resolved"], [1780905600000000, "closed"]],
//!  "PauseMarks": [[1780310000000000, "waiting_on_customer"],
//!                 [1780320000000000, "customer_replied"]],
//!  "Bookings": [{"At": 1780308000000000, "EffortMinutes": 15, "Team": "tier-1",
//!                "Amount": {"Value": "-12.50", "Currency": "EUR"}}],
//!  "Category": [1780304400000000, "billing"], "Priority": [1780304400000000, "high"],
//!  "Channel": […], "Team": […], "Agent": […], "Outcome": […]}
//! ```
//!
//! Instants are microseconds since the epoch (exact, compact); absent values are left out.
//! Reading validates every value as the event parser would (ids, labels, event types,
//! priorities, effort, amounts) and rebuilds the derived parts (sort order, open state,
//! counts), so a document edited or written by an older version cannot produce an invalid
//! timeline. `PauseMarks` and `Agent` came with the SLA clock pauses; documents written before
//! them have neither and read as a case that never waited on the customer and names no agent
//! (a test keeps a document of that shape readable). The store should also keep `first_seen_at`, `last_seen_at` and `is_open` as
//! indexed columns to select the cases that [`matter`](CaseTimeline::matters_for).

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::{Booking, CaseTimeline, Seen};
use crate::events::{CaseId, EffortMinutes, EventPriority, EventType, Label};
use crate::money::Amount;
use crate::record::Timestamp;

/// The JSON document of one timeline.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(super) struct TimelineRecord {
    case_id: String,
    first_seen_at: i64,
    last_seen_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    opened_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    first_response_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resolved_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    closed_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    marks: Vec<(i64, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pause_marks: Vec<(i64, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    bookings: Vec<BookingRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    category: Option<(i64, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    priority: Option<(i64, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    channel: Option<(i64, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    team: Option<(i64, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    agent: Option<(i64, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    outcome: Option<(i64, String)>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct BookingRecord {
    at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    effort_minutes: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    team: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    amount: Option<Json>,
}

fn stamped<T>(seen: Option<Seen<T>>, text: impl Fn(T) -> String) -> Option<(i64, String)> {
    seen.map(|s| (s.at.as_micros(), text(s.value)))
}

impl From<CaseTimeline> for TimelineRecord {
    fn from(t: CaseTimeline) -> Self {
        let micros = |at: Option<Timestamp>| at.map(Timestamp::as_micros);
        let label = |l: Label| l.as_str().to_owned();
        let words = |marks: &[(Timestamp, EventType)]| {
            (marks.iter())
                .map(|(at, kind)| (at.as_micros(), kind.as_str().to_owned()))
                .collect()
        };
        Self {
            case_id: t.case_id.as_str().to_owned(),
            first_seen_at: t.first_seen_at.as_micros(),
            last_seen_at: t.last_seen_at.as_micros(),
            opened_at: micros(t.opened_at),
            first_response_at: micros(t.first_response_at),
            resolved_at: micros(t.resolved_at),
            closed_at: micros(t.closed_at),
            marks: words(&t.marks),
            pause_marks: words(&t.pause_marks),
            bookings: (t.bookings.into_iter())
                .map(|b| BookingRecord {
                    at: b.at.as_micros(),
                    effort_minutes: b.effort_minutes,
                    team: b.team.map(label),
                    amount: b.amount.as_ref().map(Amount::to_json),
                })
                .collect(),
            category: stamped(t.category, label),
            priority: stamped(t.priority, |p| p.as_str().to_owned()),
            channel: stamped(t.channel, label),
            team: stamped(t.team, label),
            agent: stamped(t.agent, label),
            outcome: stamped(t.outcome, label),
        }
    }
}

impl TryFrom<TimelineRecord> for CaseTimeline {
    type Error = String;

    fn try_from(r: TimelineRecord) -> Result<Self, String> {
        let at = Timestamp::from_micros;
        let label = |field: &'static str, seen: Option<(i64, String)>| {
            seen.map(|(t, text)| {
                let value = Label::parse(field, text).map_err(|e| e.to_string())?;
                Ok::<_, String>(Seen { at: at(t), value })
            })
            .transpose()
        };
        let marks = read_marks(r.marks, "Marks", "a lifecycle mark", |kind| {
            matches!(
                kind,
                EventType::Reopened | EventType::Resolved | EventType::Closed | EventType::Appealed
            )
        })?;
        let pause_marks = read_marks(r.pause_marks, "PauseMarks", "a pause mark", |kind| {
            matches!(
                kind,
                EventType::WaitingOnCustomer | EventType::CustomerReplied
            )
        })?;
        let mut bookings = Vec::with_capacity(r.bookings.len());
        for b in r.bookings {
            let effort_minutes = (b.effort_minutes.map(EffortMinutes::new).transpose())
                .map_err(|e| format!("Bookings: {e}"))?
                .map(EffortMinutes::as_f64);
            let team = (b.team.map(|t| Label::parse("Team", t)).transpose())
                .map_err(|e| format!("Bookings: {e}"))?;
            let amount = (b.amount.as_ref().map(Amount::parse).transpose())
                .map_err(|e| format!("Bookings: Amount: {e}"))?;
            bookings.push(Booking {
                at: at(b.at),
                effort_minutes,
                team,
                amount,
            });
        }
        bookings.sort_by(Booking::order);
        let priority = (r
            .priority
            .map(|(t, word)| EventPriority::parse(&word).map(|value| Seen { at: at(t), value })))
        .transpose()
        .map_err(|e| e.to_string())?;
        let count = |kind| u32::try_from(marks.iter().filter(|m| m.1 == kind).count());
        let mut timeline = Self {
            case_id: CaseId::parse(r.case_id).map_err(|e| e.to_string())?,
            first_seen_at: at(r.first_seen_at),
            last_seen_at: at(r.last_seen_at),
            opened_at: r.opened_at.map(at),
            first_response_at: r.first_response_at.map(at),
            resolved_at: r.resolved_at.map(at),
            closed_at: r.closed_at.map(at),
            open: true,
            reopens: count(EventType::Reopened).map_err(|e| e.to_string())?,
            appeals: count(EventType::Appealed).map_err(|e| e.to_string())?,
            first_end_at: (marks.iter())
                .find(|m| matches!(m.1, EventType::Resolved | EventType::Closed))
                .map(|m| m.0),
            marks,
            pause_marks,
            bookings,
            category: label("Category", r.category)?,
            priority,
            channel: label("Channel", r.channel)?,
            team: label("Team", r.team)?,
            agent: label("Agent", r.agent)?,
            outcome: label("Outcome", r.outcome)?,
        };
        timeline.open = timeline.open_after(|_| true);
        Ok(timeline)
    }
}

/// Marks of the kinds `allowed`, sorted; the error names `field` and what the mark must be.
fn read_marks(
    stored: Vec<(i64, String)>,
    field: &str,
    must_be: &str,
    allowed: impl Fn(EventType) -> bool,
) -> Result<Vec<(Timestamp, EventType)>, String> {
    let mut marks = Vec::with_capacity(stored.len());
    for (t, word) in stored {
        let kind = EventType::parse(&word).map_err(|e| format!("{field}: {e}"))?;
        if !allowed(kind) {
            return Err(format!("{field}: '{word}' is not {must_be}"));
        }
        marks.push((Timestamp::from_micros(t), kind));
    }
    marks.sort_unstable();
    Ok(marks)
}
