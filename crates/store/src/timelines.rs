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

/// The next row of each case of `cases` (a batch's events grouped by [`by_case`]), moved on
/// from its stored document, which `stored` looks up by case id.
pub(crate) fn next_rows(
    cases: &[(&str, Vec<&CaseEvent>)],
    mut stored: impl FnMut(&str) -> Result<Option<String>, StoreError>,
) -> Result<Vec<TimelineRow>, StoreError> {
    cases
        .iter()
        .map(|(case, events)| {
            let current = stored(case)?.as_deref().map(parse).transpose()?;
            TimelineRow::of(&advanced(current, events))
        })
        .collect()
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

/// Most events folded into timelines in one transaction: bounds the memory and the time the
/// writer spends on one fold.
pub(crate) const FOLD_EVENTS: i64 = 50_000;

/// The generations a fold takes next: from just after `folded`, as many whole batches as fit
/// [`FOLD_EVENTS`] (always at least one). `pending` lists each generation after `folded` with
/// its event count, in order.
pub(crate) fn fold_through(pending: &[(i64, i64)]) -> Option<i64> {
    let mut total = 0;
    let mut through = None;
    for &(generation, events) in pending {
        total += events;
        if through.is_some() && total > FOLD_EVENTS {
            break;
        }
        through = Some(generation);
    }
    through
}

/// A stored case event's columns, as both backends read them back.
pub(crate) struct EventRow {
    pub event_id: String,
    pub case_id: String,
    pub event_type: String,
    pub occurred_at: i64,
    pub category: Option<String>,
    pub priority: Option<String>,
    pub channel: Option<String>,
    pub team: Option<String>,
    pub agent: Option<String>,
    pub effort_minutes: Option<f64>,
    pub amount_value: Option<String>,
    pub amount_currency: Option<String>,
    pub outcome: Option<String>,
}

/// The columns of [`EventRow`], in order.
pub(crate) const EVENT_COLUMNS: &str = "event_id, case_id, event_type, occurred_at, category, \
     priority, channel, team, agent, effort_minutes, amount_value, amount_currency, outcome";

impl TryFrom<EventRow> for CaseEvent {
    type Error = StoreError;

    /// Validates a stored event as the batch parser did when it arrived.
    fn try_from(row: EventRow) -> Result<Self, StoreError> {
        use caseload_domain::Amount;
        use caseload_domain::Timestamp;
        use caseload_domain::events::{
            CaseId, EffortMinutes, EventId, EventPriority, EventType, Label,
        };
        let bad = |e: &dyn std::fmt::Display| {
            StoreError::Internal(format!("stored case event is invalid: {e}"))
        };
        let label = |field: &'static str, text: Option<String>| {
            text.map(|t| Label::parse(field, t))
                .transpose()
                .map_err(|e| bad(&e))
        };
        let amount = match (row.amount_value, row.amount_currency) {
            (Some(value), Some(currency)) => Some(
                Amount::parse(&serde_json::json!({"Value": value, "Currency": currency}))
                    .map_err(|e| bad(&e))?,
            ),
            _ => None,
        };
        Ok(CaseEvent {
            event_id: EventId::parse(row.event_id).map_err(|e| bad(&e))?,
            case_id: CaseId::parse(row.case_id).map_err(|e| bad(&e))?,
            event_type: EventType::parse(&row.event_type).map_err(|e| bad(&e))?,
            occurred_at: Timestamp::from_micros(row.occurred_at),
            category: label("Category", row.category)?,
            priority: row
                .priority
                .map(|p| EventPriority::parse(&p))
                .transpose()
                .map_err(|e| bad(&e))?,
            channel: label("Channel", row.channel)?,
            team: label("Team", row.team)?,
            agent: label("Agent", row.agent)?,
            effort_minutes: row
                .effort_minutes
                .map(EffortMinutes::new)
                .transpose()
                .map_err(|e| bad(&e))?,
            amount,
            outcome: label("Outcome", row.outcome)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fold_takes_whole_batches_up_to_the_limit_and_at_least_one() {
        assert_eq!(fold_through(&[]), None);
        assert_eq!(fold_through(&[(3, 10)]), Some(3));
        assert_eq!(fold_through(&[(3, FOLD_EVENTS * 2), (4, 1)]), Some(3));
        assert_eq!(
            fold_through(&[(1, 20_000), (2, 20_000), (3, 10_000), (4, 1)]),
            Some(3)
        );
    }
}
