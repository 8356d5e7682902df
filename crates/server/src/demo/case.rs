//! The life of one generated case, from its own seed: opened → assigned (minutes) → first
//! response (hours, heavy-tailed) → maybe escalated → maybe waiting on the customer until
//! the customer replies (or not) → resolved (days, heavy-tailed) → closed;
//! now and then reopened and resolved again, or appealed. Team work happens in working time
//! of the plan's calendar (a case opened on Saturday is assigned on Monday); the customer's
//! moves (closing, reopening, appealing) in wall-clock time. Steps that would happen after
//! the end of the history are left out, so late cases are still open: the backlog.

use caseload_domain::Timestamp;
use caseload_domain::events::{EventPriority, EventType};
use caseload_domain::plan::BusinessCalendar;
use rand::RngExt as _;
use rand::SeedableRng as _;

use super::model::{
    CATEGORIES, CHANNELS, DemoRng, PRIORITIES, WORKING_HOURS_PER_DAY, lognormal, minutes, pick,
    urgency,
};

/// The share of cases for which the team needs something from the customer.
const ASKS_CUSTOMER: f64 = 0.3;
/// The share of those customers who answer.
const CUSTOMER_REPLIES: f64 = 0.9;

/// One thing that happened to a case.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Step {
    /// What happened.
    pub kind: EventType,
    /// When, in whole seconds since the epoch.
    pub at: i64,
    /// Minutes of work it took.
    pub effort: Option<u32>,
    /// Money in dispute (on opening) or paid out (on a resolution), in cents.
    pub cents: Option<u64>,
    /// How a resolution ended.
    pub outcome: Option<&'static str>,
    /// Whether the team lead rather than the case's agent did it.
    pub lead: bool,
}

/// A generated case.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Case {
    /// Index into [`CATEGORIES`].
    pub category: usize,
    /// How urgent it is.
    pub priority: EventPriority,
    /// Index into [`CHANNELS`].
    pub channel: usize,
    /// Picks the agent among the team's headcount.
    pub agent_slot: u32,
    /// What happened, in order, up to the end of the history.
    pub steps: Vec<Step>,
}

impl Case {
    /// Minutes of work on the case so far.
    pub fn effort(&self) -> u64 {
        self.steps
            .iter()
            .filter_map(|s| s.effort)
            .map(u64::from)
            .sum()
    }
}

/// The case with this seed, opened at `opened`, as it stands at `end` (seconds since the
/// epoch). The same arguments always give the same case.
pub(super) fn simulate(seed: u64, opened: i64, calendar: &BusinessCalendar, end: i64) -> Case {
    let mut rng = DemoRng::seed_from_u64(seed);
    let category = pick(&mut rng, CATEGORIES.iter().map(|c| c.weight));
    let priority = PRIORITIES[pick(&mut rng, CATEGORIES[category].priorities)];
    let channel = pick(&mut rng, CHANNELS.iter().map(|c| c.1));
    let mut case = Case {
        category,
        priority,
        channel,
        agent_slot: rng.random(),
        steps: Vec::with_capacity(8),
    };
    let mut life = Life {
        rng,
        calendar,
        end,
        case: &mut case,
    };
    // `None` once the next step lies beyond the end of the history.
    let _ = life.live(opened);
    case
}

/// A case being lived: its own random numbers, the calendar its team works by, and the end
/// of the history, past which nothing is recorded.
struct Life<'a> {
    rng: DemoRng,
    calendar: &'a BusinessCalendar,
    end: i64,
    case: &'a mut Case,
}

impl Life<'_> {
    fn live(&mut self, opened: i64) -> Option<()> {
        let disputed = self.open(opened)?;
        let (resolved, outcome, paid) = self.resolve(opened, disputed)?;
        let mut at = self.close(resolved)?;
        // A rejected customer comes back more often.
        let reopen = if outcome == "rejected" { 0.14 } else { 0.065 };
        if self.rng.random_bool(reopen) {
            at = self.reopen(at, outcome)?;
        }
        let appeal = match outcome {
            "rejected" => 0.09,
            "partially_refunded" => 0.06,
            _ => 0.02,
        };
        if self.rng.random_bool(appeal) {
            // What an upheld appeal pays is what the first resolution did not.
            let owed = disputed.map(|d| d - paid.unwrap_or(0)).filter(|o| *o > 0);
            self.appeal(at, owed)?;
        }
        Some(())
    }

    /// Opens the case; the amount in dispute, for kinds of case about money.
    fn open(&mut self, opened: i64) -> Option<Option<u64>> {
        let category = &CATEGORIES[self.case.category];
        let rng = &mut self.rng;
        let disputed = category.amount.map(|(median, sigma)| {
            (lognormal(rng, median, sigma) * 100.0).round().max(100.0) as u64
        });
        // Who calls or walks in is talked to while the case is written up.
        let intake = matches!(CHANNELS[self.case.channel].0, "phone" | "branch")
            .then(|| minutes(rng, 6.0, 0.5));
        self.step(EventType::Opened, opened, intake, disputed, None)?;
        Some(disputed)
    }

    /// Assigns, answers, maybe escalates, and resolves the case: when, how, and what was paid.
    fn resolve(
        &mut self,
        opened: i64,
        disputed: Option<u64>,
    ) -> Option<(i64, &'static str, Option<u64>)> {
        let category = &CATEGORIES[self.case.category];
        let urgency = urgency(self.case.priority);
        let (_, _, answer_speed) = CHANNELS[self.case.channel];

        // A quarter of a working hour, less for urgent cases, more for low ones.
        let wait = lognormal(&mut self.rng, 0.25 * urgency.resolution, 0.8);
        let mut at = self.working(opened, wait);
        let effort = minutes(&mut self.rng, 2.0, 0.5);
        self.step(EventType::Assigned, at, Some(effort), None, None)?;

        let median = urgency.first_response_hours * answer_speed;
        let wait = lognormal(&mut self.rng, median, 1.0);
        at = self.working(at, wait);
        let effort = minutes(&mut self.rng, 10.0, 0.6);
        self.step(EventType::FirstResponse, at, Some(effort), None, None)?;

        let escalated = self.rng.random_bool(urgency.escalation);
        if escalated {
            let wait = lognormal(&mut self.rng, 4.0, 0.9);
            at = self.working(at, wait);
            let effort = minutes(&mut self.rng, 20.0, 0.6);
            self.lead_step(EventType::Escalated, at, effort, None, None)?;
        }

        if self.rng.random_bool(ASKS_CUSTOMER) {
            at = self.wait_on_customer(at)?;
        }

        let median = category.resolution_days
            * WORKING_HOURS_PER_DAY
            * urgency.resolution
            * if escalated { 1.6 } else { 1.0 };
        let wait = lognormal(&mut self.rng, median, 1.0);
        at = self.working(at, wait);
        let outcome =
            category.outcomes[pick(&mut self.rng, category.outcomes.iter().map(|o| o.1))].0;
        let paid = self.payout(outcome, disputed);
        let effort = minutes(&mut self.rng, 35.0 * category.effort, 0.7);
        self.step(EventType::Resolved, at, Some(effort), paid, Some(outcome))?;
        Some((at, outcome, paid))
    }

    /// The team asks the customer for something (a document, a signature) and waits: most
    /// answer within a day or two; those who never do have their case decided without it
    /// after two weeks. While the bank waits, the resolution clock stops.
    fn wait_on_customer(&mut self, answered: i64) -> Option<i64> {
        let wait = lognormal(&mut self.rng, 2.0, 0.8);
        let asked = self.working(answered, wait);
        let effort = minutes(&mut self.rng, 5.0, 0.5);
        self.step(
            EventType::WaitingOnCustomer,
            asked,
            Some(effort),
            None,
            None,
        )?;
        if self.rng.random_bool(CUSTOMER_REPLIES) {
            let wait = lognormal(&mut self.rng, 30.0, 0.9);
            let replied = self.wall(asked, wait);
            self.step(EventType::CustomerReplied, replied, None, None, None)?;
            Some(replied)
        } else {
            Some(self.wall(asked, 14.0 * 24.0))
        }
    }

    /// The customer comes back after the case was closed; it is resolved the same way again.
    fn reopen(&mut self, closed: i64, outcome: &'static str) -> Option<i64> {
        let work = CATEGORIES[self.case.category].effort;
        let wait = lognormal(&mut self.rng, 72.0, 0.7);
        let mut at = self.wall(closed, wait);
        let effort = minutes(&mut self.rng, 8.0, 0.6);
        self.step(EventType::Reopened, at, Some(effort), None, None)?;
        let wait = lognormal(&mut self.rng, 6.0, 1.0);
        at = self.working(at, wait);
        let effort = minutes(&mut self.rng, 25.0 * work, 0.7);
        self.step(EventType::Resolved, at, Some(effort), None, Some(outcome))?;
        self.close(at)
    }

    /// The customer appeals; the team lead upholds a third of appeals, paying what is owed.
    fn appeal(&mut self, closed: i64, owed: Option<u64>) -> Option<i64> {
        let work = CATEGORIES[self.case.category].effort;
        let wait = lognormal(&mut self.rng, 120.0, 0.6);
        let mut at = self.wall(closed, wait);
        let effort = minutes(&mut self.rng, 10.0, 0.6);
        self.step(EventType::Appealed, at, Some(effort), None, None)?;
        let wait = lognormal(&mut self.rng, 20.0, 0.8);
        at = self.working(at, wait);
        let (verdict, paid) = if self.rng.random_bool(0.35) {
            ("upheld", owed)
        } else {
            ("rejected", None)
        };
        let effort = minutes(&mut self.rng, 45.0 * work, 0.7);
        self.lead_step(EventType::Resolved, at, effort, paid, Some(verdict))?;
        self.close(at)
    }

    /// The money paid out for an outcome: all of it, part of it, or none.
    fn payout(&mut self, outcome: &str, disputed: Option<u64>) -> Option<u64> {
        let disputed = disputed?;
        match outcome {
            "refunded" => Some(disputed),
            "partially_refunded" => {
                let share = self.rng.random_range(0.3..0.8);
                Some(((disputed as f64) * share).round() as u64)
            }
            _ => None,
        }
    }

    /// The customer confirms (or the case times out) a day or two after a resolution.
    fn close(&mut self, resolved: i64) -> Option<i64> {
        let wait = lognormal(&mut self.rng, 30.0, 0.6);
        let at = self.wall(resolved, wait);
        let effort = minutes(&mut self.rng, 2.0, 0.5);
        self.step(EventType::Closed, at, Some(effort), None, None)?;
        Some(at)
    }

    /// The moment `hours` of working time after `from`, on a later second.
    fn working(&self, from: i64, hours: f64) -> i64 {
        let due = self
            .calendar
            .add_working_time(Timestamp::from_micros(from * 1_000_000), hours);
        (due.as_micros() + 999_999)
            .div_euclid(1_000_000)
            .max(from + 1)
    }

    /// The moment `hours` of wall-clock time after `from`, on a later second.
    fn wall(&self, from: i64, hours: f64) -> i64 {
        from + ((hours * 3_600.0).round() as i64).max(1)
    }

    fn step(
        &mut self,
        kind: EventType,
        at: i64,
        effort: Option<u32>,
        cents: Option<u64>,
        outcome: Option<&'static str>,
    ) -> Option<()> {
        self.push(kind, at, effort, cents, outcome, false)
    }

    fn lead_step(
        &mut self,
        kind: EventType,
        at: i64,
        effort: u32,
        cents: Option<u64>,
        outcome: Option<&'static str>,
    ) -> Option<()> {
        self.push(kind, at, Some(effort), cents, outcome, true)
    }

    fn push(
        &mut self,
        kind: EventType,
        at: i64,
        effort: Option<u32>,
        cents: Option<u64>,
        outcome: Option<&'static str>,
        lead: bool,
    ) -> Option<()> {
        if at > self.end {
            return None;
        }
        self.case.steps.push(Step {
            kind,
            at,
            effort,
            cents,
            outcome,
            lead,
        });
        Some(())
    }
}
