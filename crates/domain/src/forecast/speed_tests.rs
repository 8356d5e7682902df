//! The speed of a projection over a large plan: 200,000 cases over 26 weeks, five teams, a
//! calendar with a time zone and holidays, the longest horizon.
//!
//! Ignored by default (building the cases takes a while in a debug build); run with
//! `cargo test --release -p caseload-domain forecast::speed -- --ignored --nocapture` to
//! see the timings. The bound is for a release build.

use std::time::{Duration, Instant};

use serde_json::json;

use super::test_support::{DAY, Labels, MINUTE, at, case, plus, settings};
use super::*;
use crate::events::EventPriority;

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

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// `n` cases over the 182 days before `now` (from a Monday), mostly on weekdays in office hours (Berlin),
/// some at night and at weekends; labels and effort drawn from small sets.
fn generate(n: usize, now: Timestamp) -> Vec<CaseTimeline> {
    let mut random = Random(42);
    let teams = [
        Some("tier-1"),
        Some("tier-2"),
        None,
        Some("lending"),
        Some("unknown"),
    ];
    let categories = [
        Some("card"),
        Some("fraud"),
        Some("loan"),
        None,
        Some("billing"),
    ];
    let priorities = [
        None,
        Some(EventPriority::Low),
        Some(EventPriority::High),
        Some(EventPriority::Urgent),
    ];
    let start = plus(now, -182 * DAY);
    (0..n)
        .map(|i| {
            // Few cases at weekends: a weekend day is drawn again four times in five.
            let mut day = random.below(182) as i64;
            while day % 7 >= 5 && random.below(5) > 0 {
                day = random.below(182) as i64;
            }
            let minute = if random.below(10) < 9 {
                7 * 60 + random.below(9 * 60) as i64
            } else {
                random.below(24 * 60) as i64
            };
            let labels = Labels {
                team: teams[random.below(5) as usize],
                category: categories[random.below(5) as usize],
                priority: priorities[random.below(4) as usize],
                effort: (random.below(4) > 0).then(|| 5.0 + random.below(60) as f64),
            };
            case(
                &format!("s{i}"),
                plus(start, day * DAY + minute * MINUTE),
                labels,
            )
        })
        .collect()
}

#[test]
#[ignore = "slow to set up in a debug build; run in release with --ignored"]
fn projecting_200k_cases_takes_well_under_a_second() {
    let now = at("2026-06-01T06:00:00Z");
    let plan = settings(json!({
        "ServiceLevelTargets": {
            "urgent": {"FirstResponseHours": 1, "ResolutionHours": 4, "AttainmentGoal": 0.9},
            "normal": {"FirstResponseHours": 4, "ResolutionHours": 16, "AttainmentGoal": 0.8}
        },
        "BusinessCalendar": {
            "TimeZone": "Europe/Berlin",
            "WorkingHours": [{"Days": ["mon", "tue", "wed", "thu", "fri"], "From": "08:00", "To": "18:00"}],
            "Holidays": ["2026-05-14", "2026-05-25", "2026-06-04", "2026-10-03", "2026-12-25"]
        },
        "ResourcePlan": {"Teams": [
            {"Team": "tier-1", "Agents": 40, "ProductiveHoursPerDay": 6.5, "Shrinkage": 0.3},
            {"Team": "tier-2", "Agents": 10, "ProductiveHoursPerDay": 7, "Shrinkage": 0.25},
            {"Team": "disputes", "Agents": 8, "ProductiveHoursPerDay": 7, "Shrinkage": 0.2,
             "Skills": ["fraud", "card"]},
            {"Team": "lending", "Agents": 30, "ProductiveHoursPerDay": 7, "Shrinkage": 0.2,
             "Skills": ["loan"]},
            {"Team": "back-office", "Agents": 5, "ProductiveHoursPerDay": 8, "Shrinkage": 0.1}
        ]}
    }));
    let cases = generate(200_000, now);
    for weeks in [DEFAULT_WEEKS, MAX_WEEKS] {
        let started = Instant::now();
        let p = project(&cases, &plan, now, weeks);
        let text = readable_projections(&p);
        let elapsed = started.elapsed();
        println!(
            "200,000 cases, {weeks} weeks: {elapsed:?} ({}, {} moves)\n{text}",
            p.method.as_str(),
            p.reallocation.moves.len()
        );
        assert_eq!(p.method, Method::MstlEts);
        // Cases opened late on the last day reach the queue today, and so are no history.
        assert!(p.history_arrivals > 190_000, "{}", p.history_arrivals);
        let bound = if cfg!(debug_assertions) { 30 } else { 1 };
        assert!(elapsed < Duration::from_secs(bound), "{elapsed:?}");
    }
}
