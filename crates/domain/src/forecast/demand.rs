//! Required against available agents, per team and interval of the horizon; the definitions
//! are on [`TeamProjection`].
//!
//! An interval is one local clock hour of a forecast day with working time; its arrivals are
//! the day's forecast times the team's share of that hour (see `inputs.rs`). Erlang C is
//! asked once per distinct `(arrivals, working minutes)` of a team, so a flat forecast costs
//! one question per hour of the week.

use std::collections::HashMap;

use super::inputs::Target;
use super::projections::{GapSummary, TeamInterval, TeamProjection};
use super::week::{HOURS, WorkWeek, date_text, interval_label};
use crate::plan::Team;
use crate::staffing::{StaffingProblem, StaffingRequest};

/// A forecast day after the calendar is applied.
#[derive(Debug, Clone, Copy)]
pub(super) struct Day {
    /// Local day counted from 1970-01-01.
    pub day: i64,
    pub weekday: usize,
    pub working: bool,
    pub arrivals: f64,
}

/// What a team brings to the staffing: its plan entry, share of each hour's arrivals, and
/// the handling time and target it is staffed with.
pub(super) struct TeamInputs<'a> {
    pub team: &'a Team,
    pub shares: &'a [f64; HOURS],
    pub aht_minutes: f64,
    pub aht_source: &'static str,
    pub target: Target,
}

/// A team's staffing, with what the reallocation needs.
pub(super) struct Staffed {
    pub projection: TeamProjection,
    /// Mean required agents per hour of the week.
    pub required: [f64; HOURS],
    /// Available agents one agent of the team gives per hour of the week.
    pub per_agent: [f64; HOURS],
}

/// The fewest agents at their desks that answer `goal` of `arrivals` within the target, by
/// Erlang C: 0 without arrivals or working time. Where the traffic is beyond what
/// [`crate::staffing`] evaluates, one agent per erlang of traffic plus one.
pub(super) fn required_agents(
    arrivals: f64,
    minutes: u16,
    aht_minutes: f64,
    target: Target,
) -> f64 {
    if arrivals <= 0.0 || minutes == 0 {
        return 0.0;
    }
    let request = StaffingRequest {
        arrivals,
        interval_seconds: f64::from(minutes) * 60.0,
        aht_seconds: aht_minutes * 60.0,
        target_answer_seconds: target.first_response_hours * 3600.0,
        service_level: target.goal,
        max_occupancy: None,
        // Shrinkage is taken off the available agents instead, so both sides of a gap count
        // agents at their desks.
        shrinkage: None,
    };
    match StaffingProblem::parse(&request).and_then(|p| p.solve()) {
        Ok(staffing) => f64::from(staffing.on_duty.agents),
        Err(_) => (arrivals * aht_minutes / f64::from(minutes)).floor() + 1.0,
    }
}

/// Staffs one team over the forecast `days`, adding its agent-hours to each day's totals.
pub(super) fn staff(
    inputs: &TeamInputs,
    days: &[Day],
    week: &WorkWeek,
    day_required: &mut [f64],
    day_available: &mut [f64],
) -> Staffed {
    let team = inputs.team;
    let mut per_agent = [0.0; HOURS];
    for slot in week.working_slots() {
        let day_hours = f64::from(week.day_minutes(slot / 24)) / 60.0;
        per_agent[slot] =
            (1.0 - team.shrinkage()) * (team.productive_hours_per_day() / day_hours).min(1.0);
    }
    let mut sums = [(0.0, 0.0, 0u32); HOURS];
    let mut gaps = GapSummary {
        intervals: 0,
        intervals_short: 0,
        worst_interval: None,
        worst_gap: None,
        agent_hours_required: 0.0,
        agent_hours_available: 0.0,
        agent_hours_short: 0.0,
        agent_hours_surplus: 0.0,
    };
    let mut worst: Option<(f64, i64, usize)> = None;
    let mut asked: HashMap<(u64, u16), f64> = HashMap::new();
    let mut total_arrivals = 0.0;
    for (i, d) in days.iter().enumerate().filter(|(_, d)| d.working) {
        for slot in week.slots_of(d.weekday) {
            let minutes = week.slot_minutes(slot);
            let hours = f64::from(minutes) / 60.0;
            let arrivals = d.arrivals * inputs.shares[slot];
            let required = *asked
                .entry((arrivals.to_bits(), minutes))
                .or_insert_with(|| {
                    required_agents(arrivals, minutes, inputs.aht_minutes, inputs.target)
                });
            let available = team.agents() * per_agent[slot];
            let gap = required - available;
            let sum = &mut sums[slot];
            sum.0 += arrivals;
            sum.1 += required;
            sum.2 += 1;
            total_arrivals += arrivals;
            gaps.intervals += 1;
            gaps.agent_hours_required += required * hours;
            gaps.agent_hours_available += available * hours;
            if gap > 1e-9 {
                gaps.intervals_short += 1;
                gaps.agent_hours_short += gap * hours;
            } else {
                gaps.agent_hours_surplus += -gap * hours;
            }
            if worst.is_none_or(|(g, _, _)| gap > g) {
                worst = Some((gap, d.day, slot));
            }
            day_required[i] += required * hours;
            day_available[i] += available * hours;
        }
    }
    if let Some((gap, day, slot)) = worst {
        gaps.worst_gap = Some(gap);
        gaps.worst_interval = Some(format!("{} {}", date_text(day), interval_label(slot)));
    }
    let mut required = [0.0; HOURS];
    let intervals = week
        .working_slots()
        .map(|slot| {
            let (arrivals, req, n) = sums[slot];
            let n = f64::from(n.max(1));
            required[slot] = req / n;
            let available = team.agents() * per_agent[slot];
            TeamInterval {
                hour_of_week: slot as u8,
                interval: interval_label(slot),
                arrivals: arrivals / n,
                required_agents: req / n,
                available_agents: available,
                gap: req / n - available,
            }
        })
        .collect();
    Staffed {
        projection: TeamProjection {
            team: team.name().to_owned(),
            skills: team.skills().to_vec(),
            aht_minutes: inputs.aht_minutes,
            aht_source: inputs.aht_source,
            first_response_hours: inputs.target.first_response_hours,
            service_level_goal: inputs.target.goal,
            target_source: inputs.target.source,
            scheduled_agents: team.agents(),
            recommended_agents: team.agents(),
            arrivals: total_arrivals,
            intervals,
            gaps,
        },
        required,
        per_agent,
    }
}
