//! The BIAN string `CustomerCaseLoadingProjections`: a few lines for people, rendered from
//! the typed [`Projections`] alone (no clock), so the same projections read the same.
//!
//! Line by line: the method and the expected arrivals per week; the busiest hour of the
//! week; the teams short of agents (at most [`TEAMS_LISTED`], largest shortfall first) and
//! how many are covered; the recommended moves with attainment before and after; arrivals
//! no team takes. Without a resource plan the third line says so and the rest is left out.

use super::projections::{Method, Projections, TeamProjection};
use super::{MIN_MODEL_DAYS, PREDICTION_LEVEL};

/// The most teams, and the most moves, named in the text.
const TEAMS_LISTED: usize = 5;

/// The readable summary of `p`; see the module docs.
pub fn readable_projections(p: &Projections) -> String {
    let mut lines = vec![method_line(p)];
    if let Some(peak) = p
        .hour_of_week
        .iter()
        .filter(|h| h.arrivals > 0.0)
        .reduce(|best, h| if h.arrivals > best.arrivals { h } else { best })
    {
        lines.push(format!(
            "Busiest hour: {}, about {} arrivals in an average week ({} of past arrivals).",
            peak.interval,
            number(peak.arrivals),
            percent(peak.share)
        ));
    }
    let planned = p.daily.iter().any(|d| d.required_agent_hours.is_some());
    if !planned {
        lines.push("No resource plan: forecast only, no staffing by team.".to_owned());
        return lines.join("\n");
    }
    if p.teams.is_empty() {
        lines.push("The resource plan has no teams: no staffing by team.".to_owned());
        return lines.join("\n");
    }
    lines.push(teams_line(&p.teams));
    lines.push(moves_line(p));
    if p.unassigned_arrivals >= 0.05 {
        lines.push(format!(
            "About {} forecast arrivals fit no team (no team by that name, no team with the \
             category as a skill, and no team that takes any category).",
            number(p.unassigned_arrivals)
        ));
    }
    lines.join("\n")
}

fn method_line(p: &Projections) -> String {
    let span = format!(
        "{} to {} ({} {}, {})",
        p.from,
        p.to,
        p.weeks,
        if p.weeks == 1 { "week" } else { "weeks" },
        p.time_zone
    );
    let how = match p.method {
        Method::None => {
            return format!(
                "No cases reached the queue in the 26 weeks before {}: the forecast for {span} \
                 is zero arrivals.",
                p.from
            );
        }
        Method::MstlEts => format!(
            "a seasonal model (MSTL weekly pattern with an AutoETS trend, {} interval per day)",
            percent(PREDICTION_LEVEL)
        ),
        Method::WeekdayMean if (p.history_days as usize) < MIN_MODEL_DAYS => {
            "the mean per day of the week (too little history for the seasonal model)".to_owned()
        }
        Method::WeekdayMean => {
            "the mean per day of the week (the seasonal model did not fit)".to_owned()
        }
    };
    format!(
        "Forecast for {span} by {how}, from {} {} of history ({} arrivals): about {} arrivals \
         a week.",
        p.history_days,
        if p.history_days == 1 { "day" } else { "days" },
        count(p.history_arrivals),
        number(p.expected_arrivals_per_week)
    )
}

fn teams_line(teams: &[TeamProjection]) -> String {
    let mut short: Vec<&TeamProjection> = teams
        .iter()
        .filter(|t| t.gaps.agent_hours_short > 0.0)
        .collect();
    short.sort_by(|a, b| {
        b.gaps
            .agent_hours_short
            .total_cmp(&a.gaps.agent_hours_short)
    });
    let covered = teams.len() - short.len();
    let mut parts: Vec<String> = short
        .iter()
        .take(TEAMS_LISTED)
        .map(|t| {
            let worst = match (&t.gaps.worst_interval, t.gaps.worst_gap) {
                (Some(at), Some(gap)) => format!(", worst {at} ({} agents short)", number(gap)),
                _ => String::new(),
            };
            format!(
                "{} short in {} of {} hours, {} agent-hours in all{worst}",
                t.team,
                count(u64::from(t.gaps.intervals_short)),
                count(u64::from(t.gaps.intervals)),
                number(t.gaps.agent_hours_short)
            )
        })
        .collect();
    if short.len() > TEAMS_LISTED {
        parts.push(format!("{} more teams short", short.len() - TEAMS_LISTED));
    }
    match covered {
        0 => {}
        1 if short.is_empty() => parts.push("the team is covered in every hour".to_owned()),
        n if short.is_empty() => parts.push(format!("all {n} teams are covered in every hour")),
        1 => parts.push("1 other team is covered in every hour".to_owned()),
        n => parts.push(format!("{n} other teams are covered in every hour")),
    }
    format!("Staffing: {}.", parts.join("; "))
}

fn moves_line(p: &Projections) -> String {
    let r = &p.reallocation;
    let (Some(before), Some(after)) = (r.attainment_before, r.attainment_after) else {
        return "Nothing is required of the teams: no moves.".to_owned();
    };
    if r.moves.is_empty() {
        return format!(
            "No move of agents between teams raises goal attainment ({} of required \
             agent-hours covered).",
            percent(before)
        );
    }
    let mut moves: Vec<String> = r
        .moves
        .iter()
        .take(TEAMS_LISTED)
        .map(|m| {
            let noun = if m.agents == 1 { "agent" } else { "agents" };
            format!("{} {noun} from {} to {}", m.agents, m.from, m.to)
        })
        .collect();
    if r.moves.len() > TEAMS_LISTED {
        moves.push(format!("{} more moves", r.moves.len() - TEAMS_LISTED));
    }
    format!(
        "Recommended: move {}; goal attainment (required agent-hours covered) {} → {}.",
        moves.join(", "),
        percent(before),
        percent(after)
    )
}

/// A number for people: one decimal below 100, trailing `.0` dropped (`6.5`, `12`); whole
/// and grouped from 100 (`9,396`).
fn number(n: f64) -> String {
    if n.abs() >= 100.0 {
        let whole = count(n.abs().round() as u64);
        return if n < 0.0 { format!("-{whole}") } else { whole };
    }
    let rounded = (n * 10.0).round() / 10.0;
    // `+ 0.0` turns -0.0 into 0.0 so that nothing prints as "-0".
    format!("{}", rounded + 0.0)
}

/// A fraction as a percentage with one decimal: `0.9125` → `91.3%`.
fn percent(fraction: f64) -> String {
    format!("{}%", number(fraction * 100.0))
}

/// A count with thousands separators: `1,234,567`.
fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
