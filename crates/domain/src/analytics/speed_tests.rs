//! A generated case stream: the speed of computing every statistic over a million events,
//! and the promise that only the cases that matter need be passed to `compute`.
//!
//! Run with `cargo test --release -p caseload-domain analytics -- --nocapture` to see the
//! timings; the assertion is a generous bound so that a slow debug build does not fail.

use std::time::{Duration, Instant};

use serde_json::json;

use super::test_support::{With, settings};
use super::*;
use crate::events::{CaseEvent, CaseId, EventId, EventPriority, EventType, Label};
use crate::plan::PlanSettings;
use crate::record::Timestamp;

const MINUTE: i64 = 60_000_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
/// Monday 2026-01-05 00:00 UTC.
const START: i64 = 1_767_571_200_000_000;
/// How many days of arrivals the stream spans.
const DAYS: i64 = 182;

/// SplitMix64: small, fast, and the same stream on every machine.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Exponentially distributed with the given mean.
    fn exponential(&mut self, mean: i64) -> i64 {
        (-(1.0 - self.unit()).ln() * mean as f64) as i64
    }
}

/// About `target` events of realistic cases: weekday and office-hour arrivals, four
/// priorities, five categories, four teams, heavy-tailed resolution, some cases still open,
/// some reopened or appealed, effort on most steps and money on some resolutions.
pub(super) fn generate(target: usize, seed: u64) -> Vec<CaseEvent> {
    let label = |field: &'static str, text: &str| Label::parse(field, text).unwrap();
    let categories: Vec<Label> = ["billing", "card", "fraud", "loan", "account"]
        .map(|c| label("Category", c))
        .into();
    let teams: Vec<Label> = ["tier-1", "tier-2", "disputes", "lending"]
        .map(|t| label("Team", t))
        .into();
    let channels: Vec<Label> = ["email", "phone", "chat"]
        .map(|c| label("Channel", c))
        .into();
    let mut random = Random(seed);
    let mut events = Vec::with_capacity(target + 16);
    let mut case = 0;
    while events.len() < target {
        case += 1;
        let id = CaseId::parse(format!("C-{case:07}")).unwrap();
        let mut day = random.below(DAYS as usize) as i64;
        if (day % 7) >= 5 && random.unit() < 0.7 {
            day -= 2; // fewer arrivals at weekends
        }
        let opened = START
            + day.max(0) * DAY
            + (7 + random.below(12) as i64) * HOUR
            + random.below(60) as i64 * MINUTE;
        let category = random.below(categories.len());
        let team = if random.unit() < 0.8 {
            category % teams.len()
        } else {
            random.below(teams.len())
        };
        let priority = match random.unit() {
            u if u < 0.1 => EventPriority::Urgent,
            u if u < 0.35 => EventPriority::High,
            u if u < 0.9 => EventPriority::Normal,
            _ => EventPriority::Low,
        };
        let e = push(&mut events, &id, EventType::Opened, opened, &mut random);
        e.category = Some(categories[category].clone());
        e.channel = Some(channels[case % channels.len()].clone());
        e.priority = Some(priority);
        let assigned = opened + random.exponential(20 * MINUTE);
        push(&mut events, &id, EventType::Assigned, assigned, &mut random).team =
            Some(teams[team].clone());
        let answered = opened + random.exponential(3 * HOUR);
        push(
            &mut events,
            &id,
            EventType::FirstResponse,
            answered,
            &mut random,
        );
        if random.unit() < 0.06 {
            continue; // still open
        }
        // Heavy tail: mostly a day or two, sometimes weeks.
        let spread = 1.0 + 12.0 * random.unit().powi(6);
        let resolved = answered + (random.exponential(30 * HOUR) as f64 * spread) as i64;
        let e = push(&mut events, &id, EventType::Resolved, resolved, &mut random);
        if random.unit() < 0.2 {
            let refund = format!("-{}.{:02}", random.below(200), random.below(100));
            let currency = if random.unit() < 0.9 { "EUR" } else { "USD" };
            *e = e.clone().amount(&refund, currency);
        }
        let mut last = resolved;
        if random.unit() < 0.1 {
            last += random.exponential(2 * DAY);
            push(&mut events, &id, EventType::Reopened, last, &mut random);
            last += random.exponential(DAY);
            push(&mut events, &id, EventType::Resolved, last, &mut random);
        }
        if random.unit() < 0.03 {
            let appealed = last + random.exponential(3 * DAY);
            push(&mut events, &id, EventType::Appealed, appealed, &mut random);
        }
        let closed = last + random.exponential(2 * DAY);
        push(&mut events, &id, EventType::Closed, closed, &mut random);
    }
    events
}

/// Appends an event of `kind` (with effort, except for opening and closing) and returns it.
fn push<'a>(
    events: &'a mut Vec<CaseEvent>,
    id: &CaseId,
    kind: EventType,
    at: i64,
    random: &mut Random,
) -> &'a mut CaseEvent {
    let mut e = CaseEvent {
        event_id: EventId::parse(format!("e-{}", events.len())).unwrap(),
        case_id: id.clone(),
        event_type: kind,
        occurred_at: Timestamp::from_micros(at),
        category: None,
        priority: None,
        channel: None,
        team: None,
        agent: None,
        effort_minutes: None,
        amount: None,
        outcome: None,
    };
    if kind != EventType::Opened && kind != EventType::Closed {
        e = e.effort(5.0 + random.below(55) as f64);
    }
    events.push(e);
    events.last_mut().unwrap()
}

/// Berlin office hours, targets for every priority and the four teams of the stream.
fn plan() -> PlanSettings {
    let target = |fr: f64, res: f64, goal: f64| json!({"FirstResponseHours": fr, "ResolutionHours": res, "AttainmentGoal": goal});
    let team = |name: &str, agents: u32| json!({"Team": name, "Agents": agents, "ProductiveHoursPerDay": 6.5, "Shrinkage": 0.3});
    settings(json!({
        "ServiceLevelTargets": {
            "urgent": target(1.0, 8.0, 0.95), "high": target(2.0, 16.0, 0.9),
            "normal": target(4.0, 40.0, 0.85), "low": target(8.0, 80.0, 0.8)
        },
        "BusinessCalendar": {
            "TimeZone": "Europe/Berlin",
            "WorkingHours": [{"Days": ["mon", "tue", "wed", "thu", "fri"], "From": "08:00", "To": "18:00"}],
            "Holidays": ["2026-04-03", "2026-04-06", "2026-05-01", "2026-05-14", "2026-05-25"]
        },
        "ResourcePlan": {"Teams": [
            team("tier-1", 40), team("tier-2", 30), team("disputes", 25), team("lending", 20)
        ]}
    }))
}

/// Every statistic type for `window`, broken down by team; the time it took.
fn all_ten(
    cases: &[CaseTimeline],
    window: Window,
    plan: &PlanSettings,
) -> (Vec<Statistics>, Duration) {
    let started = Instant::now();
    let all = StatisticType::ALL
        .iter()
        .map(|&kind| compute(kind, cases, window, plan, Some(Dimension::Team)))
        .collect();
    (all, started.elapsed())
}

#[test]
fn only_the_cases_that_matter_are_needed_for_the_same_result() {
    let cases = fold_cases(&generate(20_000, 7));
    let plan = plan();
    for (start_day, days) in [(60, 30), (150, 7), (0, 200), (175, 60)] {
        let end = Timestamp::from_micros(START + (start_day + days) * DAY);
        let window = Window::last_days(end, days as u32).unwrap();
        let relevant: Vec<CaseTimeline> = cases
            .iter()
            .filter(|c| c.matters_for(window))
            .cloned()
            .collect();
        assert!(relevant.len() < cases.len() || days == 200);
        for dimension in [None, Some(Dimension::Category), Some(Dimension::Team)] {
            for kind in StatisticType::ALL {
                assert_eq!(
                    compute(kind, &relevant, window, &plan, dimension),
                    compute(kind, &cases, window, &plan, dimension),
                    "{kind} over {window} by {dimension:?}"
                );
            }
        }
    }
}

#[test]
fn every_statistic_over_a_million_events_is_computed_quickly() {
    let started = Instant::now();
    let events = generate(1_000_000, 42);
    let generated = started.elapsed();
    let started = Instant::now();
    let cases = fold_cases(&events);
    let folded = started.elapsed();
    drop(events);
    let plan = plan();
    let end = Timestamp::from_micros(START + (DAYS + 14) * DAY);
    let month = Window::last_days(end, 30).unwrap();
    let everything = Window::last_days(end, (DAYS + 30) as u32).unwrap();
    // The first allocations after freeing a million events make glibc's allocator tidy its
    // free lists, once; that is the test's doing, not the computation's, so it is not timed.
    compute(StatisticType::Backlog, &cases, month, &plan, None);
    let (month_stats, month_time) = all_ten(&cases, month, &plan);
    let (all_stats, all_time) = all_ten(&cases, everything, &plan);
    let relevant: Vec<CaseTimeline> = cases
        .iter()
        .filter(|c| c.matters_for(month))
        .cloned()
        .collect();
    let (_, relevant_time) = all_ten(&relevant, month, &plan);
    println!(
        "analytics speed: {} cases from 1,000,000 events (generated in {generated:.2?}, folded in \
         {folded:.2?}); all ten statistics by team: last 30 days {month_time:.2?} \
         ({} resolved), whole history {all_time:.2?} ({} resolved), last 30 days over the {} \
         cases that matter {relevant_time:.2?}",
        cases.len(),
        month_stats[0].counts.resolved,
        all_stats[0].counts.resolved,
        relevant.len()
    );
    assert!(cases.len() > 150_000 && all_stats[0].counts.resolved > 150_000);
    // Generous bounds, so that a loaded machine does not fail the test; the figures printed
    // above are what to look at.
    let bound = Duration::from_secs(if cfg!(debug_assertions) { 30 } else { 5 });
    assert!(month_time + all_time < bound, "far too slow");
}
