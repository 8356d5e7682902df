//! The recommended reallocation: whole agents moved between teams so that goal attainment
//! (defined on [`Reallocation`]) is as high as a greedy search finds.
//!
//! Each step takes the one move of one agent that raises the covered agent-hours of the
//! average week the most — what the receiving team gains minus what the giving team loses —
//! and stops when no move raises them, or after [`MAX_MOVES`] agents. Rules, so that the
//! advice can be carried out as it stands:
//!
//! - only whole agents move, and a team gives only agents it has (2.5 full-time equivalents
//!   can give 2);
//! - an agent moves only to work they can do: from a team that takes any category, or to a
//!   team whose skills are all among the giving team's skills;
//! - a moved agent keeps their own productive hours and shrinkage;
//! - a team either gives or takes, never both, so no agent is passed along a chain.
//!
//! Cost: per step, every team's loss and, for each team short of agents, the gain from each
//! of the [`DONORS_TRIED`] cheapest compatible donors, over the hours of the week.

use super::projections::{AgentMove, Reallocation};
use super::week::HOURS;
use crate::plan::Team;

/// The most agents one projection moves.
pub const MAX_MOVES: u32 = 250;

/// Per step, the donors tried for each team short of agents, cheapest loss first.
const DONORS_TRIED: usize = 8;

/// A team as the search sees it.
pub(super) struct Candidate<'a> {
    pub team: &'a Team,
    /// Mean required agents per hour of the week.
    pub required: &'a [f64; HOURS],
    /// Available agents one of its agents gives per hour of the week.
    pub per_agent: &'a [f64; HOURS],
}

/// The moves found, attainment before and after, and each team's headcount after.
pub(super) struct Outcome {
    pub reallocation: Reallocation,
    pub agents_after: Vec<f64>,
}

/// Searches moves between `teams`; `weight` is the working hours of each hour of the week in
/// an average week of the horizon.
pub(super) fn reallocate(teams: &[Candidate], weight: &[f64; HOURS]) -> Outcome {
    let slots: Vec<usize> = (0..HOURS).filter(|&s| weight[s] > 0.0).collect();
    let covered = |t: &Candidate, available: &[f64; HOURS], extra: f64, per: &[f64; HOURS]| {
        slots
            .iter()
            .map(|&s| t.required[s].min(available[s] + extra * per[s]) * weight[s])
            .sum::<f64>()
    };
    let mut available: Vec<[f64; HOURS]> = teams
        .iter()
        .map(|t| t.per_agent.map(|a| a * t.team.agents()))
        .collect();
    let mut whole: Vec<u32> = teams
        .iter()
        .map(|t| (t.team.agents() + 1e-9).floor().min(f64::from(u32::MAX)) as u32)
        .collect();
    let mut agents_after: Vec<f64> = teams.iter().map(|t| t.team.agents()).collect();
    let (mut gave, mut took) = (vec![false; teams.len()], vec![false; teams.len()]);
    let required: f64 = teams
        .iter()
        .map(|t| {
            slots
                .iter()
                .map(|&s| t.required[s] * weight[s])
                .sum::<f64>()
        })
        .sum();
    let attainment = |available: &[[f64; HOURS]]| {
        let met: f64 = teams
            .iter()
            .zip(available)
            .map(|(t, a)| covered(t, a, 0.0, t.per_agent))
            .sum();
        (required > 0.0).then(|| (met / required).min(1.0))
    };
    let before = attainment(&available);
    let mut steps: Vec<(usize, usize)> = Vec::new();
    while steps.len() < MAX_MOVES as usize {
        let mut donors: Vec<(f64, usize)> = (0..teams.len())
            .filter(|&d| whole[d] >= 1 && !took[d])
            .map(|d| {
                let t = &teams[d];
                let loss = covered(t, &available[d], 0.0, t.per_agent)
                    - covered(t, &available[d], -1.0, t.per_agent);
                (loss, d)
            })
            .collect();
        donors.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut best: Option<(f64, usize, usize)> = None;
        for r in (0..teams.len()).filter(|&r| !gave[r]) {
            let t = &teams[r];
            let now = covered(t, &available[r], 0.0, t.per_agent);
            let compatible = donors
                .iter()
                .filter(|(_, d)| *d != r && can_do(teams[*d].team, t.team))
                .take(DONORS_TRIED);
            for &(loss, d) in compatible {
                let gain = covered(t, &available[r], 1.0, teams[d].per_agent) - now;
                let net = gain - loss;
                if net > 1e-9 && best.is_none_or(|(b, _, _)| net > b + 1e-12) {
                    best = Some((net, d, r));
                }
            }
        }
        let Some((_, d, r)) = best else { break };
        let per = *teams[d].per_agent;
        for s in 0..HOURS {
            available[d][s] -= per[s];
            available[r][s] += per[s];
        }
        whole[d] -= 1;
        agents_after[d] -= 1.0;
        agents_after[r] += 1.0;
        gave[d] = true;
        took[r] = true;
        steps.push((d, r));
    }
    let mut moves: Vec<AgentMove> = Vec::new();
    for (d, r) in steps {
        let (from, to) = (teams[d].team.name(), teams[r].team.name());
        match moves.iter_mut().find(|m| m.from == from && m.to == to) {
            Some(m) => m.agents += 1,
            None => moves.push(AgentMove {
                from: from.to_owned(),
                to: to.to_owned(),
                agents: 1,
            }),
        }
    }
    Outcome {
        reallocation: Reallocation {
            moves,
            attainment_before: before,
            attainment_after: attainment(&available),
        },
        agents_after,
    }
}

/// Whether an agent of `donor` can do the work of `recipient`: the donor takes any
/// category, or the recipient's skills are all among the donor's.
fn can_do(donor: &Team, recipient: &Team) -> bool {
    donor.skills().is_empty()
        || (!recipient.skills().is_empty()
            && recipient
                .skills()
                .iter()
                .all(|s| donor.skills().contains(s)))
}
