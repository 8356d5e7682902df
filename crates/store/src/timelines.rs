//! The per-case timelines both backends keep beside the case events: which cases a batch
//! touches, how their timelines move on, and their stored form.

use std::collections::HashMap;

use caseload_domain::analytics::CaseTimeline;
use caseload_domain::events::CaseEvent;

use crate::StoreError;

/// The events of a batch grouped by case, cases in the order they first appear.
pub(crate) fn by_case<'a>(
    events: impl IntoIterator<Item = &'a CaseEvent>,
) -> Vec<(&'a str, Vec<&'a CaseEvent>)> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut cases: Vec<(&str, Vec<&CaseEvent>)> = Vec::new();
    for event in events {
        let case = event.case_id.as_str();
        match index.get(case) {
            Some(&i) => cases[i].1.push(event),
            None => {
                index.insert(case, cases.len());
                cases.push((case, vec![event]));
            }
        }
    }
    cases
}

/// The timeline of a case after `events` (at least one), from the stored one if any.
pub(crate) fn advanced(current: Option<CaseTimeline>, events: &[&CaseEvent]) -> CaseTimeline {
    let (mut timeline, rest) = match current {
        Some(timeline) => (timeline, events),
        None => (CaseTimeline::new(events[0]), &events[1..]),
    };
    for event in rest {
        timeline.apply(event);
    }
    timeline
}

/// A timeline as a row: the indexed columns and the JSON document.
pub(crate) struct TimelineRow {
    pub first_seen_at: i64,
    pub last_seen_at: i64,
    pub is_open: bool,
    pub document: String,
}

impl TimelineRow {
    pub(crate) fn of(timeline: &CaseTimeline) -> Result<Self, StoreError> {
        Ok(Self {
            first_seen_at: timeline.first_seen_at().as_micros(),
            last_seen_at: timeline.last_seen_at().as_micros(),
            is_open: timeline.is_open(),
            document: serde_json::to_string(timeline)
                .map_err(|e| StoreError::Internal(format!("case timeline: {e}")))?,
        })
    }
}

/// Reads a stored timeline back, validating it.
pub(crate) fn parse(document: &str) -> Result<CaseTimeline, StoreError> {
    serde_json::from_str(document)
        .map_err(|e| StoreError::Internal(format!("stored case timeline is invalid: {e}")))
}
