//! Builders for crafted case histories and plans in the projection tests.

use serde_json::Value as Json;

use crate::analytics::CaseTimeline;
use crate::events::{CaseEvent, CaseId, EffortMinutes, EventId, EventPriority, EventType, Label};
use crate::plan::PlanSettings;
use crate::record::Timestamp;

pub(super) const MINUTE: i64 = 60_000_000;
pub(super) const HOUR: i64 = 60 * MINUTE;
pub(super) const DAY: i64 = 24 * HOUR;

/// An instant from RFC 3339 text, e.g. `2026-06-01T09:00:00Z`.
pub(super) fn at(text: &str) -> Timestamp {
    let t: jiff::Timestamp = text.parse().unwrap();
    Timestamp::from_micros(t.as_microsecond())
}

/// `at` moved by some microseconds.
pub(super) fn plus(at: Timestamp, micros: i64) -> Timestamp {
    Timestamp::from_micros(at.as_micros() + micros)
}

/// Plan settings from the JSON a client would send.
pub(super) fn settings(body: Json) -> PlanSettings {
    PlanSettings::from_json(body.as_object().unwrap()).unwrap()
}

/// What a crafted case carries besides its opening.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Labels<'a> {
    pub team: Option<&'a str>,
    pub category: Option<&'a str>,
    pub priority: Option<EventPriority>,
    /// Effort reported on its resolution; the case is resolved an hour after opening when
    /// set, and open otherwise.
    pub effort: Option<f64>,
}

fn event(case: &str, kind: EventType, when: Timestamp) -> CaseEvent {
    CaseEvent {
        event_id: EventId::parse(format!("{case}-{kind}")).unwrap(),
        case_id: CaseId::parse(case).unwrap(),
        event_type: kind,
        occurred_at: when,
        category: None,
        priority: None,
        channel: None,
        team: None,
        agent: None,
        effort_minutes: None,
        amount: None,
        outcome: None,
    }
}

/// A case opened at `opened` with `labels`.
pub(super) fn case(id: &str, opened: Timestamp, labels: Labels) -> CaseTimeline {
    let mut open = event(id, EventType::Opened, opened);
    open.team = labels.team.map(|t| Label::parse("Team", t).unwrap());
    open.category = labels
        .category
        .map(|c| Label::parse("Category", c).unwrap());
    open.priority = labels.priority;
    let mut timeline = CaseTimeline::new(&open);
    if let Some(minutes) = labels.effort {
        let mut resolved = event(id, EventType::Resolved, plus(opened, HOUR));
        resolved.effort_minutes = Some(EffortMinutes::new(minutes).unwrap());
        timeline.apply(&resolved);
    }
    timeline
}

/// For `weeks` weeks from the Monday `monday` (UTC), `per_day[d]` cases on day `d` of each
/// week (Monday first), opened evenly between 09:00 and 17:00 UTC, all with `labels`.
pub(super) fn weekly(
    prefix: &str,
    monday: &str,
    weeks: i64,
    per_day: [u32; 7],
    labels: Labels,
) -> Vec<CaseTimeline> {
    let start = at(monday);
    let mut cases = Vec::new();
    for w in 0..weeks {
        for (d, &n) in per_day.iter().enumerate() {
            let day = plus(start, (w * 7 + d as i64) * DAY + 9 * HOUR);
            for k in 0..i64::from(n) {
                let opened = plus(day, k * 8 * HOUR / i64::from(n));
                cases.push(case(&format!("{prefix}-{w}-{d}-{k}"), opened, labels));
            }
        }
    }
    cases
}

/// Whether two figures are equal but for rounding.
pub(super) fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance
}
