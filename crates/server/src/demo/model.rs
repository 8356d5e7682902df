//! The world the demo imitates: a retail bank's case desk. Which kinds of case there are and
//! which team handles each, how urgent cases are and how they reach the bank, when in the week
//! they arrive, and how long each step takes. The numbers are plausible, not measured; they
//! are chosen so that some goals are met and some missed, and one team is short of staff,
//! which gives the statistics something to say.

use caseload_domain::events::EventPriority;
use rand::RngExt as _;
use rand::rngs::Xoshiro256PlusPlus;
use rand_distr::StandardNormal;

/// The generator's random numbers: a small, fast generator whose output is fixed by its
/// algorithm (xoshiro256++), so a seed gives the same stream on every machine and version.
pub(super) type DemoRng = Xoshiro256PlusPlus;

/// Working hours a day in the demo calendar (08:00–18:00), to turn working days into hours.
pub(super) const WORKING_HOURS_PER_DAY: f64 = 10.0;

/// The currency of every amount.
pub(super) const CURRENCY: &str = "EUR";

/// A team of the resource plan.
pub(super) struct Team {
    /// Its name, also the `Team` of its cases' events.
    pub name: &'static str,
    /// Hours an agent works on cases on a working day.
    pub productive_hours_per_day: f64,
    /// Share of scheduled time lost to leave, training, meetings.
    pub shrinkage: f64,
    /// Headcount relative to what the generated effort needs: below 1 is understaffed.
    pub staffing: f64,
}

/// The teams, in the order of the resource plan.
pub(super) static TEAMS: [Team; 4] = [
    Team {
        name: "disputes",
        productive_hours_per_day: 6.5,
        shrinkage: 0.32,
        staffing: 0.85,
    },
    Team {
        name: "complaints",
        productive_hours_per_day: 6.5,
        shrinkage: 0.3,
        staffing: 1.25,
    },
    Team {
        name: "claims",
        productive_hours_per_day: 7.0,
        shrinkage: 0.28,
        staffing: 1.0,
    },
    Team {
        name: "fraud",
        productive_hours_per_day: 6.0,
        shrinkage: 0.35,
        staffing: 1.05,
    },
];

/// A kind of case.
pub(super) struct Category {
    /// Its name, the `Category` of its events.
    pub name: &'static str,
    /// Index into [`TEAMS`] of the team that handles it.
    pub team: usize,
    /// Share of arrivals.
    pub weight: f64,
    /// Chance of each priority: low, normal, high, urgent.
    pub priorities: [f64; 4],
    /// Median working days from first response to resolution, at normal priority.
    pub resolution_days: f64,
    /// Median and log-spread of the amount in dispute, for kinds of case about money.
    pub amount: Option<(f64, f64)>,
    /// How cases end, with their chances.
    pub outcomes: &'static [(&'static str, f64)],
    /// Work on the resolution relative to an average case.
    pub effort: f64,
}

const USUAL_PRIORITIES: [f64; 4] = [0.12, 0.66, 0.16, 0.06];

/// The kinds of case, in no particular order.
pub(super) static CATEGORIES: [Category; 5] = [
    Category {
        name: "chargeback",
        team: 0,
        weight: 0.30,
        priorities: USUAL_PRIORITIES,
        resolution_days: 2.5,
        amount: Some((85.0, 0.9)),
        outcomes: &[
            ("refunded", 0.5),
            ("partially_refunded", 0.15),
            ("rejected", 0.35),
        ],
        effort: 1.2,
    },
    Category {
        name: "billing",
        team: 1,
        weight: 0.27,
        priorities: USUAL_PRIORITIES,
        resolution_days: 1.2,
        amount: Some((30.0, 0.8)),
        outcomes: &[
            ("refunded", 0.55),
            ("partially_refunded", 0.2),
            ("rejected", 0.25),
        ],
        effort: 0.8,
    },
    Category {
        name: "account",
        team: 1,
        weight: 0.18,
        priorities: USUAL_PRIORITIES,
        resolution_days: 0.8,
        amount: None,
        outcomes: &[("upheld", 0.6), ("rejected", 0.4)],
        effort: 0.7,
    },
    Category {
        name: "card",
        team: 2,
        weight: 0.15,
        priorities: USUAL_PRIORITIES,
        resolution_days: 1.8,
        amount: None,
        outcomes: &[("upheld", 0.7), ("rejected", 0.3)],
        effort: 0.9,
    },
    Category {
        name: "fraud",
        team: 3,
        weight: 0.10,
        priorities: [0.0, 0.30, 0.40, 0.30],
        resolution_days: 3.5,
        amount: Some((350.0, 1.2)),
        outcomes: &[("refunded", 0.65), ("rejected", 0.35)],
        effort: 1.8,
    },
];

/// The priorities, in the order of [`Category::priorities`].
pub(super) const PRIORITIES: [EventPriority; 4] = [
    EventPriority::Low,
    EventPriority::Normal,
    EventPriority::High,
    EventPriority::Urgent,
];

/// How a priority shapes a case's clocks.
pub(super) struct Urgency {
    /// Median working hours from assignment to first response.
    pub first_response_hours: f64,
    /// Resolution time relative to normal priority.
    pub resolution: f64,
    /// Chance the case is escalated.
    pub escalation: f64,
}

/// The urgency of a priority.
pub(super) fn urgency(priority: EventPriority) -> Urgency {
    let (first_response_hours, resolution, escalation) = match priority {
        EventPriority::Low => (9.0, 1.6, 0.02),
        EventPriority::Normal => (3.5, 1.0, 0.04),
        EventPriority::High => (1.5, 0.6, 0.10),
        EventPriority::Urgent => (0.4, 0.35, 0.18),
    };
    Urgency {
        first_response_hours,
        resolution,
        escalation,
    }
}

/// How cases reach the bank: name, share, and first-response time relative to email
/// (a caller or chatter is answered sooner).
pub(super) static CHANNELS: [(&str, f64, f64); 4] = [
    ("email", 0.42, 1.0),
    ("phone", 0.28, 0.5),
    ("chat", 0.22, 0.6),
    ("branch", 0.08, 1.2),
];

/// Arrivals on a public holiday relative to the same hour of an ordinary weekday.
pub(super) const HOLIDAY_ARRIVALS: f64 = 0.3;

/// Relative arrival rate in a local hour of the week (0 = Monday 00:00–00:59): most on
/// Monday mornings, busy during office hours, few at night and at weekends.
pub(super) fn arrival_weight(hour_of_week: u8) -> f64 {
    let day = usize::from(hour_of_week / 24) % 7;
    let hour = usize::from(hour_of_week % 24);
    const HOURS: [f64; 24] = [
        0.08, 0.06, 0.05, 0.05, 0.06, 0.1, 0.2, 0.5, 1.0, 1.4, 1.4, 1.4, 1.1, 1.3, 1.3, 1.3, 1.0,
        1.0, 0.6, 0.6, 0.35, 0.35, 0.15, 0.1,
    ];
    const DAYS: [f64; 7] = [1.35, 1.1, 1.0, 0.95, 0.9, 0.35, 0.25];
    let monday_morning = if day == 0 && (8..12).contains(&hour) {
        1.3
    } else {
        1.0
    };
    HOURS[hour] * DAYS[day] * monday_morning
}

/// Whether a local hour of the week is inside the usual office hours (Monday to Friday
/// 08:00–18:00), where a holiday shows as missing working time.
pub(super) fn is_office_hour(hour_of_week: u8) -> bool {
    hour_of_week / 24 < 5 && (8..18).contains(&(hour_of_week % 24))
}

/// An index drawn with chances proportional to `weights`.
pub(super) fn pick(rng: &mut DemoRng, weights: impl IntoIterator<Item = f64> + Clone) -> usize {
    let total: f64 = weights.clone().into_iter().sum();
    let mut left = rng.random::<f64>() * total;
    let mut last = 0;
    for (i, weight) in weights.into_iter().enumerate() {
        if weight <= 0.0 {
            continue;
        }
        last = i;
        if left < weight {
            return i;
        }
        left -= weight;
    }
    last
}

/// A log-normal draw: half of the draws are below `median`, and `sigma` sets how long the
/// tail is (1.0 puts one draw in twenty above five times the median).
pub(super) fn lognormal(rng: &mut DemoRng, median: f64, sigma: f64) -> f64 {
    let z: f64 = rng.sample(StandardNormal);
    median * (sigma * z).exp()
}

/// Whole minutes of effort, at least one.
pub(super) fn minutes(rng: &mut DemoRng, median: f64, sigma: f64) -> u32 {
    // Bounded well below the event limit of 100,000 minutes.
    lognormal(rng, median, sigma).round().clamp(1.0, 10_000.0) as u32
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng as _;

    use super::*;

    #[test]
    fn every_category_is_handled_by_a_team_and_its_chances_add_up() {
        for category in &CATEGORIES {
            assert!(category.team < TEAMS.len(), "{}", category.name);
            let outcomes: f64 = category.outcomes.iter().map(|(_, w)| w).sum();
            assert!((outcomes - 1.0).abs() < 1e-9, "{}", category.name);
            assert!((category.priorities.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        }
        let shares: f64 = CATEGORIES.iter().map(|c| c.weight).sum();
        assert!((shares - 1.0).abs() < 1e-9);
    }

    #[test]
    fn monday_morning_is_the_busiest_hour_and_sunday_night_the_quietest() {
        let weights: Vec<f64> = (0..168).map(arrival_weight).collect();
        let busiest = (0..168).max_by(|a, b| weights[*a].total_cmp(&weights[*b]));
        assert!(busiest.is_some_and(|h| (8..12).contains(&h)), "{busiest:?}");
        assert!(weights[24 * 6 + 3] < weights[9] / 50.0);
        assert!(is_office_hour(9) && !is_office_hour(24 * 5 + 9) && !is_office_hour(19));
    }

    #[test]
    fn picks_follow_their_weights_and_never_choose_a_zero_weight() {
        let mut rng = DemoRng::seed_from_u64(7);
        let mut counts = [0u32; 3];
        for _ in 0..10_000 {
            counts[pick(&mut rng, [0.25, 0.0, 0.75])] += 1;
        }
        assert_eq!(counts[1], 0);
        assert!((2_200..2_800).contains(&counts[0]), "{counts:?}");
    }

    #[test]
    fn half_of_the_log_normal_draws_are_below_the_median() {
        let mut rng = DemoRng::seed_from_u64(7);
        let below = (0..10_000)
            .filter(|_| lognormal(&mut rng, 4.0, 1.0) < 4.0)
            .count();
        assert!((4_700..5_300).contains(&below), "{below}");
    }
}
