//! The resource plan: the teams that work the cases, their scheduled headcount and how many
//! productive hours each agent gives a day once shrinkage is allowed for.
//!
//! JSON: `{"Teams": [{"Team": "disputes", "Agents": 12, "ProductiveHoursPerDay": 6.5,
//! "Shrinkage": 0.3, "Skills": ["chargeback", "fraud"]}]}`.
//!
//! - `Team`: a non-empty name of at most [`MAX_NAME_CHARS`] characters, unique in the plan.
//! - `Agents`: scheduled headcount, a number `>= 0`; fractions are allowed because part-time
//!   staff are counted in full-time equivalents.
//! - `ProductiveHoursPerDay`: in `(0, 24]`.
//! - `Shrinkage`: the fraction of scheduled time not available for cases, in `[0, 1)`.
//! - `Skills`: optional case categories the team handles (non-empty names, each once).
//!
//! `Teams` may be empty; at most [`MAX_TEAMS`] teams.

use serde_json::{Map, Value as Json};

use super::PlanSettingsError;
use super::json;

/// Longest team or skill name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// The most teams a plan may have.
pub const MAX_TEAMS: usize = 500;

/// The most skills one team may list.
pub const MAX_SKILLS: usize = 200;

/// The largest headcount accepted for one team.
pub const MAX_AGENTS: f64 = 1_000_000.0;

/// One team of the resource plan. Once built it is valid.
#[derive(Debug, Clone, PartialEq)]
pub struct Team {
    name: String,
    agents: f64,
    productive_hours_per_day: f64,
    shrinkage: f64,
    skills: Vec<String>,
}

impl Team {
    /// The team's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Scheduled headcount (full-time equivalents).
    pub fn agents(&self) -> f64 {
        self.agents
    }

    /// Productive hours one agent gives a day.
    pub fn productive_hours_per_day(&self) -> f64 {
        self.productive_hours_per_day
    }

    /// Fraction of scheduled time not available for cases, in `[0, 1)`.
    pub fn shrinkage(&self) -> f64 {
        self.shrinkage
    }

    /// The case categories the team handles; empty when it handles any.
    pub fn skills(&self) -> &[String] {
        &self.skills
    }

    /// Hours of case work the team can give a day:
    /// `agents × productive hours × (1 − shrinkage)`.
    pub fn daily_capacity_hours(&self) -> f64 {
        self.agents * self.productive_hours_per_day * (1.0 - self.shrinkage)
    }

    fn from_json(value: &Json, path: &str) -> Result<Self, PlanSettingsError> {
        let map = json::object(value, path)?;
        json::only_known(
            map,
            &[
                "Team",
                "Agents",
                "ProductiveHoursPerDay",
                "Shrinkage",
                "Skills",
            ],
            path,
        )?;
        let name = name(
            json::required(map, "Team", path)?,
            &json::child(path, "Team"),
        )?;
        let number = |key: &str| {
            json::required(map, key, path).and_then(|v| json::number(v, &json::child(path, key)))
        };
        let fail =
            |key: &str, problem: &str| PlanSettingsError::new(json::child(path, key), problem);

        let agents = number("Agents")?;
        if agents < 0.0 {
            return Err(fail("Agents", "must not be negative"));
        }
        if agents > MAX_AGENTS {
            return Err(fail("Agents", "must be at most 1000000"));
        }
        let productive_hours_per_day = number("ProductiveHoursPerDay")?;
        if productive_hours_per_day <= 0.0 || productive_hours_per_day > 24.0 {
            return Err(fail(
                "ProductiveHoursPerDay",
                "must be greater than 0 and at most 24",
            ));
        }
        let shrinkage = number("Shrinkage")?;
        if !(0.0..1.0).contains(&shrinkage) {
            return Err(fail("Shrinkage", "must be at least 0 and less than 1"));
        }

        let mut skills: Vec<String> = Vec::new();
        if let Some(list) = json::optional(map, "Skills") {
            let skills_path = json::child(path, "Skills");
            let list = json::array(list, &skills_path)?;
            if list.len() > MAX_SKILLS {
                return Err(fail("Skills", "too many skills"));
            }
            for (i, skill) in list.iter().enumerate() {
                let skill = self::name(skill, &json::index(&skills_path, i))?;
                if !skills.contains(&skill) {
                    skills.push(skill);
                }
            }
        }
        Ok(Self {
            name,
            agents,
            productive_hours_per_day,
            shrinkage,
            skills,
        })
    }

    fn to_json(&self) -> Json {
        let mut map = Map::new();
        map.insert("Team".into(), Json::from(self.name.clone()));
        map.insert("Agents".into(), json::number_json(self.agents));
        map.insert(
            "ProductiveHoursPerDay".into(),
            json::number_json(self.productive_hours_per_day),
        );
        map.insert("Shrinkage".into(), json::number_json(self.shrinkage));
        if !self.skills.is_empty() {
            map.insert("Skills".into(), Json::from(self.skills.clone()));
        }
        Json::Object(map)
    }

    fn readable(&self) -> String {
        let agents = json::readable_number(self.agents);
        let noun = if agents == "1" { "agent" } else { "agents" };
        let mut text = format!(
            "{}: {agents} {noun} × {} h/day, {} shrinkage",
            self.name,
            json::readable_number(self.productive_hours_per_day),
            json::readable_percent(self.shrinkage),
        );
        if !self.skills.is_empty() {
            text.push_str(&format!(" ({})", self.skills.join(", ")));
        }
        text
    }
}

/// The teams of a plan, in the order given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourcePlan {
    teams: Vec<Team>,
}

impl ResourcePlan {
    /// The property name on the plan.
    pub const PROPERTY: &'static str = "ResourcePlan";

    /// Parses the JSON object; errors name the path, e.g.
    /// `ResourcePlan.Teams[1].Agents: must not be negative`.
    pub fn from_json(value: &Json) -> Result<Self, PlanSettingsError> {
        let path = Self::PROPERTY;
        let map = json::object(value, path)?;
        json::only_known(map, &["Teams"], path)?;
        let teams_path = json::child(path, "Teams");
        let list = json::array(json::required(map, "Teams", path)?, &teams_path)?;
        if list.len() > MAX_TEAMS {
            return Err(PlanSettingsError::new(
                teams_path,
                format!("at most {MAX_TEAMS} teams"),
            ));
        }
        let mut teams: Vec<Team> = Vec::with_capacity(list.len());
        for (i, team) in list.iter().enumerate() {
            let team_path = json::index(&teams_path, i);
            let team = Team::from_json(team, &team_path)?;
            if teams.iter().any(|t| t.name == team.name) {
                return Err(PlanSettingsError::new(
                    json::child(&team_path, "Team"),
                    format!("team '{}' is listed twice", team.name),
                ));
            }
            teams.push(team);
        }
        Ok(Self { teams })
    }

    /// The teams, in the order given.
    pub fn teams(&self) -> &[Team] {
        &self.teams
    }

    /// The team of that name.
    pub fn team(&self, name: &str) -> Option<&Team> {
        self.teams.iter().find(|t| t.name == name)
    }

    /// The JSON object.
    pub fn to_json(&self) -> Json {
        let teams = self.teams.iter().map(Team::to_json).collect();
        let mut map = Map::new();
        map.insert("Teams".into(), Json::Array(teams));
        Json::Object(map)
    }

    /// A summary for `CustomerCaseResourcePlan`: `disputes: 12 agents × 6.5 h/day, 30%
    /// shrinkage (chargeback, fraud); …`.
    pub fn readable(&self) -> String {
        if self.teams.is_empty() {
            return "no teams".to_owned();
        }
        let teams: Vec<String> = self.teams.iter().map(Team::readable).collect();
        teams.join("; ")
    }
}

/// A team or skill name: a non-empty string of at most [`MAX_NAME_CHARS`] characters, trimmed.
fn name(value: &Json, path: &str) -> Result<String, PlanSettingsError> {
    let text = json::string(value, path)?.trim();
    if text.is_empty() {
        return Err(PlanSettingsError::new(path, "must not be empty"));
    }
    if text.chars().count() > MAX_NAME_CHARS {
        return Err(PlanSettingsError::new(
            path,
            format!("must be at most {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn error(value: Json) -> String {
        ResourcePlan::from_json(&value).unwrap_err().to_string()
    }

    fn team(fields: Json) -> Json {
        let mut base =
            json!({"Team": "t", "Agents": 1, "ProductiveHoursPerDay": 6, "Shrinkage": 0.2});
        for (k, v) in fields.as_object().unwrap() {
            base[k] = v.clone();
        }
        base
    }

    #[test]
    fn a_valid_plan_round_trips_and_reads_well() {
        let given = json!({"Teams": [
            {"Team": "disputes", "Agents": 12, "ProductiveHoursPerDay": 6.5, "Shrinkage": 0.3,
             "Skills": ["chargeback", "fraud"]},
            {"Team": "general", "Agents": 1, "ProductiveHoursPerDay": 7, "Shrinkage": 0}
        ]});
        let plan = ResourcePlan::from_json(&given).unwrap();
        assert_eq!(plan.to_json(), given);
        assert_eq!(
            plan.readable(),
            "disputes: 12 agents × 6.5 h/day, 30% shrinkage (chargeback, fraud); \
             general: 1 agent × 7 h/day, 0% shrinkage"
        );
        let disputes = plan.team("disputes").unwrap();
        assert!((disputes.daily_capacity_hours() - 12.0 * 6.5 * 0.7).abs() < 1e-9);
    }

    #[test]
    fn negative_agents_name_the_team_index() {
        let err = error(
            json!({"Teams": [team(json!({"Team": "a"})), team(json!({"Team": "b", "Agents": -1}))]}),
        );
        assert_eq!(err, "ResourcePlan.Teams[1].Agents: must not be negative");
    }

    #[test]
    fn fractional_agents_count_as_full_time_equivalents() {
        let plan =
            ResourcePlan::from_json(&json!({"Teams": [team(json!({"Agents": 2.5}))]})).unwrap();
        assert_eq!(plan.teams()[0].agents(), 2.5);
    }

    #[test]
    fn productive_hours_outside_a_day_are_rejected() {
        for hours in [0.0, 24.5] {
            let err = error(json!({"Teams": [team(json!({"ProductiveHoursPerDay": hours}))]}));
            assert_eq!(
                err,
                "ResourcePlan.Teams[0].ProductiveHoursPerDay: must be greater than 0 and at most 24"
            );
        }
    }

    #[test]
    fn shrinkage_of_one_is_rejected() {
        let err = error(json!({"Teams": [team(json!({"Shrinkage": 1}))]}));
        assert_eq!(
            err,
            "ResourcePlan.Teams[0].Shrinkage: must be at least 0 and less than 1"
        );
    }

    #[test]
    fn a_team_listed_twice_is_rejected() {
        let err = error(json!({"Teams": [team(json!({})), team(json!({}))]}));
        assert_eq!(err, "ResourcePlan.Teams[1].Team: team 't' is listed twice");
    }

    #[test]
    fn an_empty_or_overlong_team_name_is_rejected() {
        let err = error(json!({"Teams": [team(json!({"Team": "  "}))]}));
        assert_eq!(err, "ResourcePlan.Teams[0].Team: must not be empty");
        let err = error(json!({"Teams": [team(json!({"Team": "x".repeat(101)}))]}));
        assert_eq!(
            err,
            "ResourcePlan.Teams[0].Team: must be at most 100 characters"
        );
    }

    #[test]
    fn a_missing_team_list_or_property_is_required() {
        assert_eq!(error(json!({})), "ResourcePlan.Teams: is required");
        let err = error(json!({"Teams": [{"Team": "a", "Agents": 1, "ProductiveHoursPerDay": 6}]}));
        assert_eq!(err, "ResourcePlan.Teams[0].Shrinkage: is required");
    }

    #[test]
    fn an_empty_skill_names_its_index() {
        let err = error(json!({"Teams": [team(json!({"Skills": ["fraud", ""]}))]}));
        assert_eq!(err, "ResourcePlan.Teams[0].Skills[1]: must not be empty");
    }

    #[test]
    fn an_empty_plan_reads_as_no_teams() {
        let plan = ResourcePlan::from_json(&json!({"Teams": []})).unwrap();
        assert_eq!(plan.readable(), "no teams");
    }
}
