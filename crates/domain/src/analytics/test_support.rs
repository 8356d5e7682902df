//! Builders for crafted events and plans in the analytics tests.

use rust_decimal::Decimal;
use serde_json::{Value as Json, json};

use super::{Dimension, StatisticType, Statistics, Window, compute, fold_cases};
use crate::events::{CaseEvent, CaseId, EffortMinutes, EventId, EventPriority, EventType, Label};
use crate::money::Amount;
use crate::plan::PlanSettings;
use crate::record::Timestamp;

/// An instant from RFC 3339 text, e.g. `2026-06-01T09:00:00Z`.
pub(super) fn at(text: &str) -> Timestamp {
    let t: jiff::Timestamp = text.parse().unwrap();
    Timestamp::from_micros(t.as_microsecond())
}

/// The window `[start, end)` from RFC 3339 texts.
pub(super) fn window(start: &str, end: &str) -> Window {
    Window::new(at(start), at(end)).unwrap()
}

/// An event of `case` of type `kind` at `when`, with no optional properties.
pub(super) fn event(case: &str, kind: EventType, when: &str) -> CaseEvent {
    CaseEvent {
        event_id: EventId::parse(format!("{case}-{kind}-{when}")).unwrap(),
        case_id: CaseId::parse(case).unwrap(),
        event_type: kind,
        occurred_at: at(when),
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

/// Optional properties added to a crafted event, one call each.
pub(super) trait With: Sized {
    fn event(self) -> CaseEvent;

    fn category(self, text: &str) -> CaseEvent {
        let mut e = self.event();
        e.category = Some(Label::parse("Category", text).unwrap());
        e
    }

    fn channel(self, text: &str) -> CaseEvent {
        let mut e = self.event();
        e.channel = Some(Label::parse("Channel", text).unwrap());
        e
    }

    fn team(self, text: &str) -> CaseEvent {
        let mut e = self.event();
        e.team = Some(Label::parse("Team", text).unwrap());
        e
    }

    fn agent(self, text: &str) -> CaseEvent {
        let mut e = self.event();
        e.agent = Some(Label::parse("Agent", text).unwrap());
        e
    }

    fn outcome(self, text: &str) -> CaseEvent {
        let mut e = self.event();
        e.outcome = Some(Label::parse("Outcome", text).unwrap());
        e
    }

    fn priority(self, priority: EventPriority) -> CaseEvent {
        let mut e = self.event();
        e.priority = Some(priority);
        e
    }

    fn effort(self, minutes: f64) -> CaseEvent {
        let mut e = self.event();
        e.effort_minutes = Some(EffortMinutes::new(minutes).unwrap());
        e
    }

    fn amount(self, value: &str, currency: &str) -> CaseEvent {
        let mut e = self.event();
        e.amount = Some(Amount {
            value: value.parse::<Decimal>().unwrap(),
            currency: currency.to_owned(),
        });
        e
    }
}

impl With for CaseEvent {
    fn event(self) -> CaseEvent {
        self
    }
}

/// Plan settings from the JSON a client would send.
pub(super) fn settings(body: Json) -> PlanSettings {
    PlanSettings::from_json(body.as_object().unwrap()).unwrap()
}

/// Targets for `urgent` (1 h / 4 h, goal 90%) and `normal` (4 h / 16 h, goal 80%) on the
/// default calendar (UTC, Monday to Friday 09:00–17:00), and two teams:
/// `tier-1` (4 agents × 6 h, 25% shrinkage: 18 h a day) and `disputes` (2 × 8 h, no
/// shrinkage: 16 h a day).
pub(super) fn standard_settings() -> PlanSettings {
    settings(json!({
        "ServiceLevelTargets": {
            "urgent": {"FirstResponseHours": 1, "ResolutionHours": 4, "AttainmentGoal": 0.9},
            "normal": {"FirstResponseHours": 4, "ResolutionHours": 16, "AttainmentGoal": 0.8}
        },
        "ResourcePlan": {"Teams": [
            {"Team": "tier-1", "Agents": 4, "ProductiveHoursPerDay": 6, "Shrinkage": 0.25},
            {"Team": "disputes", "Agents": 2, "ProductiveHoursPerDay": 8, "Shrinkage": 0}
        ]}
    }))
}

/// Effort in whole hours booked by `team` on case `id` in the week from Monday 2026-06-08,
/// one event per working hour from 09:00.
pub(super) fn booked(id: &str, team: Option<&str>, hours: u32) -> Vec<CaseEvent> {
    (0..hours)
        .map(|h| {
            let when = format!("2026-06-{:02}T{:02}:00:00Z", 8 + h / 8, 9 + h % 8);
            let e = event(id, EventType::Assigned, &when).effort(60.0);
            match team {
                Some(team) => e.team(team),
                None => e,
            }
        })
        .collect()
}

/// The window of the tests: the week from Monday 2026-06-08 (the previous window is the week
/// from Monday 2026-06-01).
pub(super) fn week() -> Window {
    window("2026-06-08T00:00:00Z", "2026-06-15T00:00:00Z")
}

/// The statistics of `events` for `week()` with `standard_settings()`.
pub(super) fn week_stats(
    kind: StatisticType,
    events: &[CaseEvent],
    breakdown: Option<Dimension>,
) -> Statistics {
    compute(
        kind,
        &fold_cases(events),
        week(),
        &standard_settings(),
        breakdown,
    )
}

/// A case opened, answered (when `answered` is given) and resolved.
pub(super) fn case(
    id: &str,
    opened: &str,
    answered: Option<&str>,
    resolved: &str,
) -> Vec<CaseEvent> {
    let mut events = vec![
        event(id, EventType::Opened, opened),
        event(id, EventType::Resolved, resolved),
    ];
    events.extend(answered.map(|a| event(id, EventType::FirstResponse, a)));
    events
}

/// Whether two figures are equal but for rounding.
pub(super) fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}
