//! The generated case stream: which cases open when over the history, and the events of
//! each, as a client would send them.
//!
//! **Arrivals.** The history (`days` ending at `end`) is cut into hours; each hour gets a
//! Poisson number of new cases whose mean follows the week (see
//! [`arrival_weight`](super::model::arrival_weight)), drops on the calendar's holidays and
//! grows by about a fifth over the history. Each case then lives its own life ([`simulate`]).
//!
//! **Size.** A short pilot measures how many events a case has on average; arrivals are drawn
//! for a tenth more cases than the event budget needs, and cases are then taken in random
//! order until the budget is reached. Taking a random subset thins the arrivals evenly, so
//! the weekly pattern runs right up to `end` and the total is the budget plus at most the
//! rest of the last case taken (a dozen events at worst). Should the draw fall short (only
//! likely for a budget of a few events), it is repeated with twice the cases.
//!
//! **Determinism.** Everything is drawn from generators seeded from the seed, and each case
//! from a seed of its own, so the same seed, size, length and end give the same events.

use caseload_domain::Timestamp;
use caseload_domain::events::EventType;
use caseload_domain::plan::BusinessCalendar;
use rand::RngExt as _;
use rand::SeedableRng as _;
use rand::seq::SliceRandom as _;

use super::case::{Case, simulate};
use super::event::{DemoEvent, Money};
use super::model::{
    CATEGORIES, CHANNELS, CURRENCY, DemoRng, HOLIDAY_ARRIVALS, TEAMS, WORKING_HOURS_PER_DAY,
    arrival_weight, is_office_hour,
};

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamSpec {
    /// Seed of every random draw.
    pub seed: u64,
    /// The end of the history: no event happens after it.
    pub end: Timestamp,
    /// Days of history before `end`.
    pub days: u32,
    /// About how many events to generate.
    pub events: u64,
}

/// Cases drawn for the pilot that measures the size of a case.
const PILOT_CASES: usize = 2_000;
/// Arrivals drawn relative to the cases the budget needs, so that it is reached.
const OVERSAMPLE: f64 = 1.1;
/// Share of scheduled agent time spent on cases when staffed as planned.
const OCCUPANCY: f64 = 0.85;

/// A case of the stream: when it opens and the seed of its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Arrival {
    opened: i64,
    seed: u64,
}

/// What choosing a case adds to the stream.
struct Size {
    events: u64,
    team: usize,
    effort_minutes: u64,
}

impl Size {
    fn of(case: &Case) -> Self {
        Self {
            events: case.steps.len() as u64,
            team: CATEGORIES[case.category].team,
            effort_minutes: case.effort(),
        }
    }
}

/// The planned stream: its cases, chosen, in the order they open.
#[derive(Debug, Clone)]
pub struct CaseStream {
    calendar: BusinessCalendar,
    start: i64,
    end: i64,
    cases: Vec<Arrival>,
    events: u64,
    effort_minutes: [u64; 4],
    agents: [u32; 4],
}

impl CaseStream {
    /// Draws the cases of the stream; their events are generated when iterated.
    pub fn plan(spec: &StreamSpec, calendar: BusinessCalendar) -> Self {
        let end = spec.end.as_micros().div_euclid(1_000_000);
        let start = end - i64::from(spec.days) * 86_400;
        let hours = hourly_weights(&calendar, start, end);
        let per_case = events_per_case(spec.seed, &hours, &calendar, end);

        let mut rng = DemoRng::seed_from_u64(mix(spec.seed, ARRIVALS));
        // A small budget can come out short by chance: then draw again, with more cases.
        let mut wanted = spec.events as f64 / per_case * OVERSAMPLE + 3.0;
        let (arrivals, sizes) = loop {
            let arrivals = draw_arrivals(&mut rng, spec.seed, &hours, wanted);
            let sizes: Vec<Size> = arrivals
                .iter()
                .map(|a| Size::of(&simulate(a.seed, a.opened, &calendar, end)))
                .collect();
            let events: u64 = sizes.iter().map(|s| s.events).sum();
            if events >= spec.events || wanted > 8.0 * spec.events as f64 {
                break (arrivals, sizes);
            }
            wanted *= 2.0;
        };
        // Taking cases in random order thins the arrivals evenly over the history.
        let mut order: Vec<usize> = (0..arrivals.len()).collect();
        order.shuffle(&mut rng);
        let mut kept = vec![false; arrivals.len()];
        let mut events = 0;
        let mut effort_minutes = [0; 4];
        for i in order {
            if events >= spec.events {
                break;
            }
            kept[i] = true;
            events += sizes[i].events;
            effort_minutes[sizes[i].team] += sizes[i].effort_minutes;
        }
        let cases = arrivals
            .into_iter()
            .zip(kept)
            .filter_map(|(arrival, kept)| kept.then_some(arrival))
            .collect();
        let mut stream = Self {
            calendar,
            start,
            end,
            cases,
            events,
            effort_minutes,
            agents: [1; 4],
        };
        stream.agents = stream.staffing();
        stream
    }

    /// Agents each team is scheduled with: what its effort needs at the planned occupancy,
    /// times its staffing factor, at least one.
    fn staffing(&self) -> [u32; 4] {
        let working_days = (self.calendar.working_time_between(
            Timestamp::from_micros(self.start * 1_000_000),
            Timestamp::from_micros(self.end * 1_000_000),
        ))
        .as_secs_f64()
            / 3_600.0
            / WORKING_HOURS_PER_DAY;
        std::array::from_fn(|t| {
            let team = &TEAMS[t];
            let hours_a_day = self.effort_minutes[t] as f64 / 60.0 / working_days.max(1.0);
            let per_agent = team.productive_hours_per_day * (1.0 - team.shrinkage) * OCCUPANCY;
            (hours_a_day / per_agent * team.staffing).round().max(1.0) as u32
        })
    }

    /// How many cases the stream has.
    pub fn case_count(&self) -> usize {
        self.cases.len()
    }

    /// How many events the stream has.
    pub fn event_count(&self) -> u64 {
        self.events
    }

    /// The first moment of the history.
    pub fn start(&self) -> Timestamp {
        Timestamp::from_micros(self.start * 1_000_000)
    }

    /// Agents scheduled in each team, in the order of [`TEAMS`].
    pub fn agents(&self) -> [u32; 4] {
        self.agents
    }

    /// The events, case by case in the order the cases open, each case's in the order they
    /// happened.
    pub fn events(&self) -> impl Iterator<Item = DemoEvent> + '_ {
        self.cases.iter().enumerate().flat_map(move |(n, arrival)| {
            let case = simulate(arrival.seed, arrival.opened, &self.calendar, self.end);
            self.render(n, case)
        })
    }

    fn render(&self, n: usize, case: Case) -> impl Iterator<Item = DemoEvent> + use<> {
        let category = &CATEGORIES[case.category];
        let team = &TEAMS[category.team];
        let case_id = format!("C-{:07}", n + 1);
        let agent = format!(
            "{}-{:02}",
            team.name,
            case.agent_slot % self.agents[category.team] + 1
        );
        let (priority, channel) = (case.priority, CHANNELS[case.channel].0);
        case.steps
            .into_iter()
            .enumerate()
            .map(move |(i, step)| DemoEvent {
                event_id: format!("{case_id}-{}", i + 1),
                case_id: case_id.clone(),
                event_type: step.kind,
                occurred_at: Timestamp::from_micros(step.at * 1_000_000),
                category: category.name,
                priority,
                channel,
                team: team.name,
                agent: match step.kind {
                    EventType::Opened => None,
                    _ if step.lead => Some(format!("{}-lead", team.name)),
                    _ => Some(agent.clone()),
                },
                effort_minutes: step.effort,
                amount: step.cents.map(|cents| Money {
                    value: format!("{}.{:02}", cents / 100, cents % 100),
                    currency: CURRENCY,
                }),
                outcome: step.outcome,
            })
    }
}

/// Cases opening over the history, `wanted` on average, in the order they open.
fn draw_arrivals(rng: &mut DemoRng, seed: u64, hours: &[Hour], wanted: f64) -> Vec<Arrival> {
    let total_weight: f64 = hours.iter().map(|h| h.weight).sum();
    let mut arrivals = Vec::new();
    for hour in hours {
        let mean = hour.weight / total_weight * wanted;
        let mut opened: Vec<i64> = (0..poisson(rng, mean))
            .map(|_| rng.random_range(hour.from..hour.to))
            .collect();
        opened.sort_unstable();
        for opened in opened {
            let seed = mix(seed, CASES + arrivals.len() as u64);
            arrivals.push(Arrival { opened, seed });
        }
    }
    arrivals
}

/// An hour (or the part of one inside the history) and its relative arrival rate.
struct Hour {
    from: i64,
    to: i64,
    weight: f64,
}

fn hourly_weights(calendar: &BusinessCalendar, start: i64, end: i64) -> Vec<Hour> {
    let mut hours = Vec::new();
    let mut from = start;
    while from < end {
        let to = ((from.div_euclid(3_600) + 1) * 3_600).min(end);
        let middle = Timestamp::from_micros((from + to) / 2 * 1_000_000);
        let hour_of_week = calendar.hour_of_week(middle);
        let mut weight = arrival_weight(hour_of_week) * (to - from) as f64 / 3_600.0;
        if is_office_hour(hour_of_week) && !calendar.is_working_time(middle) {
            weight *= HOLIDAY_ARRIVALS;
        }
        // Business grows a little over the history.
        weight *= 0.9 + 0.2 * (from - start) as f64 / (end - start) as f64;
        hours.push(Hour { from, to, weight });
        from = to;
    }
    hours
}

/// The mean number of events of a case opened somewhere in the history, as it stands at
/// `end`, from a pilot sample.
fn events_per_case(seed: u64, hours: &[Hour], calendar: &BusinessCalendar, end: i64) -> f64 {
    let mut cumulative = Vec::with_capacity(hours.len());
    let mut total = 0.0;
    for hour in hours {
        total += hour.weight;
        cumulative.push(total);
    }
    let mut rng = DemoRng::seed_from_u64(mix(seed, PILOT));
    let mut events = 0;
    for n in 0..PILOT_CASES {
        let drawn = rng.random::<f64>() * total;
        let Some(hour) = hours.get(cumulative.partition_point(|c| *c <= drawn)) else {
            continue;
        };
        let opened = rng.random_range(hour.from..hour.to);
        events += simulate(mix(seed, PILOT + 1 + n as u64), opened, calendar, end)
            .steps
            .len();
    }
    (events as f64 / PILOT_CASES as f64).max(1.0)
}

fn poisson(rng: &mut DemoRng, mean: f64) -> usize {
    if mean <= 0.0 {
        return 0;
    }
    rand_distr::Poisson::new(mean)
        .map(|p| rng.sample(p) as usize)
        .unwrap_or(0)
}

// Streams of random numbers drawn from one seed, far apart.
const PILOT: u64 = 1 << 40;
const ARRIVALS: u64 = 2 << 40;
const CASES: u64 = 3 << 40;

/// A well-mixed seed for stream `stream` of `seed` (SplitMix64's finaliser).
fn mix(seed: u64, stream: u64) -> u64 {
    let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

// In `stream/tests.rs`, so that each file stays a size a reader takes in at once.
#[cfg(test)]
mod tests;
