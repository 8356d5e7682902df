//! Staffing advice: how many agents a shortfall of resolutions stands for, and which teams
//! should gain or give agents to bring utilization into its band.

use super::statistics::{Statistics, TeamUtilization};
use super::text::{count, number, percent};
use super::{TARGET_UTILIZATION, UNDERUSED_UTILIZATION};
use crate::plan::PlanSettings;

/// Cases short of keeping up, in hours of work, and whether the teams have room for it
/// below the target utilization or need more agents.
pub(super) fn keep_up(s: &Statistics, shortfall: u64) -> String {
    let mut text = format!(
        "Resolve {} more {} per window to keep up with arrivals",
        count(shortfall),
        if shortfall == 1 { "case" } else { "cases" }
    );
    let u = &s.utilization;
    let agents: f64 = u.teams.iter().filter_map(|t| t.agents).sum();
    if let Some(mean) = s.effort_per_case.mean_minutes {
        let hours = shortfall as f64 * mean / 60.0;
        text.push_str(&format!(": about {} h of work", number(hours)));
        if u.capacity_hours > 0.0 && agents > 0.0 {
            let room = u.capacity_hours * TARGET_UTILIZATION - u.effort_hours;
            if room >= hours {
                text.push_str(&format!(
                    ", for which the teams have room ({} h below {} utilization), so resolve \
                     before starting new work rather than add staff",
                    number(room),
                    percent(TARGET_UTILIZATION)
                ));
            } else {
                let per_agent = u.capacity_hours / agents;
                text.push_str(&format!(
                    ", roughly {} more agents at the current effort per case",
                    number((hours - room.max(0.0)) / per_agent)
                ));
            }
        }
    }
    text.push('.');
    text
}

/// Staff changes per team: agents to add where utilization is above the target, agents to
/// spare where it is under-used, paired into moves where both exist.
pub(super) fn staffing(s: &Statistics, settings: &PlanSettings) -> Vec<String> {
    let Some(plan) = &settings.resource_plan else {
        return Vec::new();
    };
    let days = s.utilization.working_days;
    let mut needs: Vec<(&TeamUtilization, i64)> = Vec::new();
    for t in &s.utilization.teams {
        let (Some(team), Some(used)) = (plan.team(&t.team), t.utilization) else {
            continue;
        };
        let per_agent = team.productive_hours_per_day() * (1.0 - team.shrinkage()) * days;
        if per_agent <= 0.0 {
            continue;
        }
        let needed = t.effort_hours / (per_agent * TARGET_UTILIZATION);
        let change = if used > TARGET_UTILIZATION {
            ((needed - team.agents()).ceil() as i64).max(1)
        } else if used < UNDERUSED_UTILIZATION {
            -((team.agents() - needed).floor() as i64)
        } else {
            0
        };
        if change != 0 {
            needs.push((t, change));
        }
    }
    let used = |t: &TeamUtilization| t.utilization.map(percent).unwrap_or_default();
    let mut advice = Vec::new();
    let mut spare: Vec<(&TeamUtilization, i64)> =
        needs.iter().filter(|n| n.1 < 0).copied().collect();
    for (short, mut wanted) in needs.iter().filter(|n| n.1 > 0).copied() {
        for (giver, left) in spare.iter_mut().filter(|s| s.1 < 0) {
            let moved = wanted.min(-*left);
            *left += moved;
            wanted -= moved;
            advice.push(format!(
                "Move {} from {} ({} used) to {} ({} used), where skills allow.",
                agents(moved),
                giver.team,
                used(giver),
                short.team,
                used(short)
            ));
            if wanted == 0 {
                break;
            }
        }
        if wanted > 0 {
            advice.push(format!(
                "Add {} to {} ({} of capacity) to bring it to {}.",
                agents(wanted),
                short.team,
                used(short),
                percent(TARGET_UTILIZATION)
            ));
        }
    }
    for (giver, left) in spare.into_iter().filter(|s| s.1 < 0) {
        advice.push(format!(
            "{} could spare {} ({} used).",
            giver.team,
            agents(-left),
            used(giver)
        ));
    }
    advice
}

fn agents(n: i64) -> String {
    if n == 1 {
        "1 agent".to_owned()
    } else {
        format!("{n} agents")
    }
}
