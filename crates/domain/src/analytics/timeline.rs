//! One case's events reduced to what the statistics need: a [`CaseTimeline`].
//!
//! **Order does not matter.** [`CaseTimeline::apply`] merges one event with rules that are
//! commutative and associative — earliest or latest by `(instant, value)`, and sorted lists
//! for lifecycle marks and bookings — so any arrival order, any split into batches, gives an
//! equal timeline. That is what lets a store keep one timeline per case and update it as
//! events arrive, even late ones. (Duplicates are not recognised here: the store drops an
//! `EventId` it has seen before applying.)
//!
//! What is kept:
//!
//! - instants: the earliest `opened`, the earliest `first_response`, the latest `resolved`,
//!   the latest `closed`, and the first and last event of any type;
//! - lifecycle marks: every `reopened`, `resolved`, `closed` and `appealed`, sorted by instant
//!   and then by the lifecycle order of [`EventType`] (so a `reopened` and a `resolved` at the
//!   same instant leave the case resolved), which answers "was it open at instant t";
//! - pause marks: every `waiting_on_customer` and `customer_replied`, sorted the same way,
//!   from which [`CaseTimeline::pauses`] works out when the resolution clock stood still;
//! - labels: the **latest** category, priority, team, agent and outcome (a case is
//!   re-categorised, escalated, handed over, and its last outcome is its outcome) and the
//!   **first** channel (how it reached the bank); ties at one instant go to the greater value;
//! - bookings: each event that reported effort or an amount, with its instant and team, so
//!   that effort and money fall in the window in which they were booked.
//!
//! Size grows with the case's own events (a handful), never with the plan's history. The
//! serde form is the document a store keeps per case and updates as events arrive.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{Booking, Window};
use crate::events::{CaseEvent, CaseId, EventPriority, EventType, Label};
use crate::plan::Priority;
use crate::record::Timestamp;

#[path = "timeline_record.rs"]
mod record;

/// The plan priority of a case: the event priority by name, `normal` when none was reported.
pub fn plan_priority(priority: Option<EventPriority>) -> Priority {
    match priority {
        Some(EventPriority::Low) => Priority::Low,
        None | Some(EventPriority::Normal) => Priority::Normal,
        Some(EventPriority::High) => Priority::High,
        Some(EventPriority::Urgent) => Priority::Urgent,
    }
}

/// A value with the instant it was reported; ordered by instant, then value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Seen<T> {
    at: Timestamp,
    value: T,
}

/// `pick` for [`keep`]: the latest `(at, value)` wins.
const LATEST: Ordering = Ordering::Greater;
/// `pick` for [`keep`]: the earliest `(at, value)` wins.
const EARLIEST: Ordering = Ordering::Less;

/// Keeps in `slot` whichever of it and `(at, value)` compares as `pick` to the other.
fn keep<T: Ord + Clone>(
    slot: &mut Option<Seen<T>>,
    at: Timestamp,
    value: Option<&T>,
    pick: Ordering,
) {
    let Some(value) = value else { return };
    let candidate = Seen {
        at,
        value: value.clone(),
    };
    if slot.as_ref().is_none_or(|kept| candidate.cmp(kept) == pick) {
        *slot = Some(candidate);
    }
}

/// One case's history, reduced; see the module docs for what is kept and why. Serialises to
/// the JSON document a store keeps per case (see `timeline_record.rs` for its shape); reading
/// one back validates it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "record::TimelineRecord", try_from = "record::TimelineRecord")]
pub struct CaseTimeline {
    case_id: CaseId,
    first_seen_at: Timestamp,
    last_seen_at: Timestamp,
    opened_at: Option<Timestamp>,
    first_response_at: Option<Timestamp>,
    resolved_at: Option<Timestamp>,
    closed_at: Option<Timestamp>,
    marks: Vec<(Timestamp, EventType)>,
    /// Every `waiting_on_customer` and `customer_replied`, sorted like `marks`.
    pause_marks: Vec<(Timestamp, EventType)>,
    // Kept beside the marks so that scans of many cases rarely need to read them: most cases
    // are never reopened or appealed.
    /// Whether the marks leave the case open.
    open: bool,
    /// How many marks are `reopened`, and how many `appealed`.
    reopens: u32,
    appeals: u32,
    /// The earliest `resolved` or `closed`.
    first_end_at: Option<Timestamp>,
    bookings: Vec<Booking>,
    category: Option<Seen<Label>>,
    priority: Option<Seen<EventPriority>>,
    channel: Option<Seen<Label>>,
    team: Option<Seen<Label>>,
    agent: Option<Seen<Label>>,
    outcome: Option<Seen<Label>>,
}

impl CaseTimeline {
    /// The timeline of a case of which only `event` is known so far.
    pub fn new(event: &CaseEvent) -> Self {
        let mut timeline = Self {
            case_id: event.case_id.clone(),
            first_seen_at: event.occurred_at,
            last_seen_at: event.occurred_at,
            opened_at: None,
            first_response_at: None,
            resolved_at: None,
            closed_at: None,
            marks: Vec::new(),
            pause_marks: Vec::new(),
            open: true,
            reopens: 0,
            appeals: 0,
            first_end_at: None,
            bookings: Vec::new(),
            category: None,
            priority: None,
            channel: None,
            team: None,
            agent: None,
            outcome: None,
        };
        timeline.apply(event);
        timeline
    }

    /// The timeline of the case of the first event, from all of its events in any order;
    /// events of other cases are skipped. `None` when there are no events.
    pub fn fold<'a>(events: impl IntoIterator<Item = &'a CaseEvent>) -> Option<Self> {
        let mut events = events.into_iter();
        let mut timeline = Self::new(events.next()?);
        for event in events {
            timeline.apply(event);
        }
        Some(timeline)
    }

    /// Merges one more event of this case, wherever it falls in time. Returns `false`, and
    /// changes nothing, for an event of another case.
    pub fn apply(&mut self, event: &CaseEvent) -> bool {
        if event.case_id != self.case_id {
            return false;
        }
        let at = event.occurred_at;
        self.first_seen_at = self.first_seen_at.min(at);
        self.last_seen_at = self.last_seen_at.max(at);
        let earliest = |slot: Option<Timestamp>| Some(slot.map_or(at, |t| t.min(at)));
        let latest = |slot: Option<Timestamp>| Some(slot.map_or(at, |t| t.max(at)));
        match event.event_type {
            EventType::Opened => self.opened_at = earliest(self.opened_at),
            EventType::FirstResponse => self.first_response_at = earliest(self.first_response_at),
            EventType::Resolved => self.resolved_at = latest(self.resolved_at),
            EventType::Closed => self.closed_at = latest(self.closed_at),
            EventType::Reopened => self.reopens += 1,
            EventType::Appealed => self.appeals += 1,
            EventType::WaitingOnCustomer | EventType::CustomerReplied => {
                insert_sorted(&mut self.pause_marks, (at, event.event_type));
            }
            EventType::Assigned | EventType::Escalated => {}
        }
        if matches!(event.event_type, EventType::Resolved | EventType::Closed) {
            self.first_end_at = earliest(self.first_end_at);
        }
        if matches!(
            event.event_type,
            EventType::Reopened | EventType::Resolved | EventType::Closed | EventType::Appealed
        ) {
            insert_sorted(&mut self.marks, (at, event.event_type));
            self.open = self.open_after(|_| true);
        }
        keep(&mut self.category, at, event.category.as_ref(), LATEST);
        keep(&mut self.priority, at, event.priority.as_ref(), LATEST);
        keep(&mut self.channel, at, event.channel.as_ref(), EARLIEST);
        keep(&mut self.team, at, event.team.as_ref(), LATEST);
        keep(&mut self.agent, at, event.agent.as_ref(), LATEST);
        keep(&mut self.outcome, at, event.outcome.as_ref(), LATEST);
        if event.effort_minutes.is_some() || event.amount.is_some() {
            let booking = Booking {
                at,
                effort_minutes: event.effort_minutes.map(|m| m.as_f64()),
                team: event.team.clone(),
                amount: event.amount.clone(),
            };
            let i = self
                .bookings
                .partition_point(|b| b.order(&booking) != Ordering::Greater);
            self.bookings.insert(i, booking);
        }
        true
    }

    /// The case's id.
    pub fn case_id(&self) -> &CaseId {
        &self.case_id
    }

    /// When the case opened: its earliest `opened` event, or its earliest event when no
    /// `opened` was reported.
    pub fn opened_at(&self) -> Timestamp {
        self.opened_at.unwrap_or(self.first_seen_at)
    }

    /// Its earliest event of any type.
    pub fn first_seen_at(&self) -> Timestamp {
        self.first_seen_at
    }

    /// Its latest event of any type.
    pub fn last_seen_at(&self) -> Timestamp {
        self.last_seen_at
    }

    /// Its earliest `first_response`, if any.
    pub fn first_response_at(&self) -> Option<Timestamp> {
        self.first_response_at
    }

    /// Its latest `resolved`, if any (a reopened case is resolved when last resolved).
    pub fn resolved_at(&self) -> Option<Timestamp> {
        self.resolved_at
    }

    /// Its latest `closed`, if any.
    pub fn closed_at(&self) -> Option<Timestamp> {
        self.closed_at
    }

    /// How many times it was reopened.
    pub fn reopened(&self) -> u32 {
        self.reopens
    }

    /// How many times it was appealed.
    pub fn appealed(&self) -> u32 {
        self.appeals
    }

    /// Whether it was reopened in the window.
    pub fn reopened_in(&self, window: Window) -> bool {
        self.reopens > 0
            && self
                .marks_of(EventType::Reopened)
                .any(|t| window.contains(t))
    }

    /// Whether it was appealed in the window.
    pub fn appealed_in(&self, window: Window) -> bool {
        self.appeals > 0
            && self
                .marks_of(EventType::Appealed)
                .any(|t| window.contains(t))
    }

    fn marks_of(&self, kind: EventType) -> impl Iterator<Item = Timestamp> + '_ {
        self.marks
            .iter()
            .filter(move |(_, k)| *k == kind)
            .map(|(t, _)| *t)
    }

    /// Whether it was open at the instant `at`, going by its events before `at`: opened
    /// before it, and not resolved or closed since its last reopening.
    pub fn is_open_at(&self, at: Timestamp) -> bool {
        if self.opened_at() >= at {
            false
        } else if self.reopens == 0 {
            // Never reopened: open until the first resolution or closing.
            self.first_end_at.is_none_or(|end| end >= at)
        } else {
            self.open_after(|t| t < at)
        }
    }

    /// Whether it is open after all its events.
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Whether the last lifecycle mark among those `counted` leaves the case open.
    fn open_after(&self, counted: impl Fn(Timestamp) -> bool) -> bool {
        self.marks
            .iter()
            .rev()
            .filter(|(t, k)| *k != EventType::Appealed && counted(*t))
            .map(|(_, k)| *k == EventType::Reopened)
            .next()
            .unwrap_or(true)
    }

    /// The stretches during which the bank waited on the customer, in order: each from a
    /// `waiting_on_customer` that found the case open and not already waiting, to the next
    /// `customer_replied`, `resolved` or `closed` (`None`: still waiting). A `reopened` also
    /// ends a wait (the case came back to the bank). Later waits while waiting and replies
    /// while not waiting change nothing; at one instant, lifecycle marks come first, then
    /// waits, then replies, so a wait and a reply at one instant leave the clock running.
    /// The stretches may begin before the opening; the clocks clip them.
    pub fn pauses(&self) -> Pauses<'_> {
        Pauses {
            // Without pause marks there is nothing to walk (most cases).
            lifecycle: if self.pause_marks.is_empty() {
                &[]
            } else {
                &self.marks
            },
            pause_marks: &self.pause_marks,
            open: true,
            waiting_since: None,
        }
    }

    /// When the customer got a first answer: the first `first_response`, or, when none was
    /// reported, the first resolution or closing (it answered the customer). Where the
    /// first-response clock stops.
    pub fn answered_at(&self) -> Option<Timestamp> {
        self.first_response_at.or(self.first_end_at)
    }

    /// Where the resolution clock stops: at the last resolution once the case is no longer
    /// open (a reopened case runs until it is resolved again), or at the last closing when
    /// it ended without one. `None` while the case is open.
    pub fn resolution_stopped_at(&self) -> Option<Timestamp> {
        (!self.open)
            .then(|| self.resolved_at.or(self.closed_at))
            .flatten()
    }

    /// Whether the case was reported waiting on the customer at all.
    pub fn was_paused(&self) -> bool {
        !self.pause_marks.is_empty()
    }

    /// Whether the case can change any statistic of `window` (or of the previous window,
    /// used for the trend). [`compute`](super::compute) gives the same result when only
    /// these cases are passed, so a store can select them with an index:
    /// `first_seen_at < window.end AND (last_seen_at >= window.previous().start OR is_open)`.
    pub fn matters_for(&self, window: Window) -> bool {
        self.first_seen_at < window.end()
            && (self.last_seen_at >= window.previous().start() || self.is_open())
    }

    /// The latest category reported.
    pub fn category(&self) -> Option<&Label> {
        self.category.as_ref().map(|s| &s.value)
    }

    /// The latest priority reported.
    pub fn priority(&self) -> Option<EventPriority> {
        self.priority.as_ref().map(|s| s.value)
    }

    /// The first channel reported.
    pub fn channel(&self) -> Option<&Label> {
        self.channel.as_ref().map(|s| &s.value)
    }

    /// The latest team reported.
    pub fn team(&self) -> Option<&Label> {
        self.team.as_ref().map(|s| &s.value)
    }

    /// The latest agent reported.
    pub fn agent(&self) -> Option<&Label> {
        self.agent.as_ref().map(|s| &s.value)
    }

    /// The latest outcome reported.
    pub fn outcome(&self) -> Option<&Label> {
        self.outcome.as_ref().map(|s| &s.value)
    }

    /// The events that reported effort or money, in order of occurrence.
    pub fn bookings(&self) -> &[Booking] {
        &self.bookings
    }

    /// Total minutes of effort reported, `None` when no event reported any. Summed in
    /// booking order, so the total does not depend on arrival order either.
    pub fn effort_minutes(&self) -> Option<f64> {
        self.bookings
            .iter()
            .filter_map(|b| b.effort_minutes)
            .fold(None, |sum, m| Some(sum.unwrap_or(0.0) + m))
    }

    /// The net of the amounts reported, per currency (exact decimal sums, saturating at the
    /// decimal range).
    pub fn net_amounts(&self) -> BTreeMap<&str, Decimal> {
        let mut nets = BTreeMap::new();
        for amount in self.bookings.iter().filter_map(|b| b.amount.as_ref()) {
            let net: &mut Decimal = nets.entry(amount.currency.as_str()).or_default();
            *net = net.saturating_add(amount.value);
        }
        nets
    }
}

/// Inserts `mark` after the equal ones, keeping `marks` sorted.
fn insert_sorted(marks: &mut Vec<(Timestamp, EventType)>, mark: (Timestamp, EventType)) {
    let i = marks.partition_point(|m| *m <= mark);
    marks.insert(i, mark);
}

/// One stretch of waiting on the customer: from `from` until `to` (`None`: still waiting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pause {
    /// When the bank began to wait.
    pub from: Timestamp,
    /// When the wait ended (a reply, a resolution, a closing or a reopening), if it has.
    pub to: Option<Timestamp>,
}

/// The stretches of waiting of one case, in order; see [`CaseTimeline::pauses`]. Walks the
/// lifecycle and pause marks together, without allocating.
#[derive(Debug, Clone)]
pub struct Pauses<'a> {
    lifecycle: &'a [(Timestamp, EventType)],
    pause_marks: &'a [(Timestamp, EventType)],
    open: bool,
    waiting_since: Option<Timestamp>,
}

impl Iterator for Pauses<'_> {
    type Item = Pause;

    fn next(&mut self) -> Option<Pause> {
        loop {
            // The earlier mark of the two lists; lifecycle marks first at one instant.
            if self.pause_marks.is_empty() && self.waiting_since.is_none() {
                // No wait can begin any more.
                return None;
            }
            let take_lifecycle = match (self.lifecycle.first(), self.pause_marks.first()) {
                (None, None) => {
                    return self
                        .waiting_since
                        .take()
                        .map(|from| Pause { from, to: None });
                }
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(l), Some(p)) => l.0 <= p.0,
            };
            let (at, kind) = if take_lifecycle {
                let (mark, rest) = self.lifecycle.split_first()?;
                self.lifecycle = rest;
                *mark
            } else {
                let (mark, rest) = self.pause_marks.split_first()?;
                self.pause_marks = rest;
                *mark
            };
            let ends = match kind {
                EventType::Reopened => {
                    self.open = true;
                    true
                }
                EventType::Resolved | EventType::Closed => {
                    self.open = false;
                    true
                }
                EventType::WaitingOnCustomer => {
                    if self.open && self.waiting_since.is_none() {
                        self.waiting_since = Some(at);
                    }
                    false
                }
                EventType::CustomerReplied => true,
                _ => false,
            };
            if ends && let Some(from) = self.waiting_since.take() {
                return Some(Pause { from, to: Some(at) });
            }
        }
    }
}

/// The timelines of all cases among `events` (any order, any mix of cases), sorted by case id.
pub fn fold_cases<'a>(events: impl IntoIterator<Item = &'a CaseEvent>) -> Vec<CaseTimeline> {
    let mut index: HashMap<&'a str, usize> = HashMap::new();
    let mut timelines: Vec<CaseTimeline> = Vec::new();
    for event in events {
        match index.get(event.case_id.as_str()) {
            Some(&i) => {
                timelines[i].apply(event);
            }
            None => {
                index.insert(event.case_id.as_str(), timelines.len());
                timelines.push(CaseTimeline::new(event));
            }
        }
    }
    timelines.sort_unstable_by(|a, b| a.case_id.cmp(&b.case_id));
    // Folding leaves each timeline's lists scattered among the allocations of the events;
    // copying them once lays them out in case order, which makes every later scan (and so
    // every `compute`) several times faster.
    timelines.iter().map(CaseTimeline::clone).collect()
}

#[cfg(test)]
#[path = "timeline_tests.rs"]
mod tests;
