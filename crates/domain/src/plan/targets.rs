//! Service level targets: for each case priority, how soon a case must get its first response
//! and its resolution (in business hours, see [`BusinessCalendar`](super::BusinessCalendar)),
//! and what fraction of cases must meet both.
//!
//! JSON, keyed by lowercase priority names, any subset:
//! `{"urgent": {"FirstResponseHours": 1, "ResolutionHours": 8, "AttainmentGoal": 0.95,
//! "AtRiskRatio": 0.75}}`. The first three properties are required per priority; hours are
//! positive (at most [`MAX_TARGET_HOURS`]) with `ResolutionHours >= FirstResponseHours`; the
//! goal is a fraction in `0..=1`. `AtRiskRatio` is optional: the share of a target after
//! which a running SLA clock is *at risk*, strictly between 0 and 1, by default
//! [`DEFAULT_AT_RISK_RATIO`]; it is written back only when it was given.

use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value as Json};

use super::PlanSettingsError;
use super::json;

/// The longest target accepted, in hours (ten years of round-the-clock time).
pub const MAX_TARGET_HOURS: f64 = 87_600.0;

/// The share of a target after which a running clock is at risk, when the plan names none.
pub const DEFAULT_AT_RISK_RATIO: f64 = 0.8;

/// How urgent a case is, from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    /// `low`.
    Low,
    /// `normal`.
    Normal,
    /// `high`.
    High,
    /// `urgent`.
    Urgent,
}

impl Priority {
    /// Every priority, least urgent first.
    pub const ALL: [Self; 4] = [Self::Low, Self::Normal, Self::High, Self::Urgent];

    /// Parses a priority name, ignoring ASCII case (`high`, `High`). `None` for any other text.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(text))
    }

    /// The lowercase name used in JSON: `low`, `normal`, `high` or `urgent`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Normal => "normal",
            Self::High => "high",
            Self::Urgent => "urgent",
        }
    }

    fn slot(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Text that names no priority.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown priority '{0}'; expected low, normal, high or urgent")]
pub struct UnknownPriority(pub String);

impl FromStr for Priority {
    type Err = UnknownPriority;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text).ok_or_else(|| UnknownPriority(text.to_owned()))
    }
}

/// The target for one priority. Once built it is valid: both times positive, resolution not
/// before first response, goal a fraction, at-risk ratio (if given) strictly between 0 and 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServiceLevelTarget {
    first_response_hours: f64,
    resolution_hours: f64,
    attainment_goal: f64,
    /// As given; `None` means [`DEFAULT_AT_RISK_RATIO`] (and is not written back).
    at_risk_ratio: Option<f64>,
}

impl ServiceLevelTarget {
    /// Checks the three values; errors name `FirstResponseHours`, `ResolutionHours` or
    /// `AttainmentGoal`.
    pub fn new(
        first_response_hours: f64,
        resolution_hours: f64,
        attainment_goal: f64,
    ) -> Result<Self, PlanSettingsError> {
        let hours = |name: &str, h: f64| {
            if !h.is_finite() || h <= 0.0 {
                Err(PlanSettingsError::new(
                    name,
                    "must be a number greater than 0",
                ))
            } else if h > MAX_TARGET_HOURS {
                Err(PlanSettingsError::new(
                    name,
                    format!("must be at most {MAX_TARGET_HOURS}"),
                ))
            } else {
                Ok(h)
            }
        };
        let first_response_hours = hours("FirstResponseHours", first_response_hours)?;
        let resolution_hours = hours("ResolutionHours", resolution_hours)?;
        if resolution_hours < first_response_hours {
            return Err(PlanSettingsError::new(
                "ResolutionHours",
                "must not be less than FirstResponseHours",
            ));
        }
        if !(0.0..=1.0).contains(&attainment_goal) {
            return Err(PlanSettingsError::new(
                "AttainmentGoal",
                "must be between 0 and 1",
            ));
        }
        Ok(Self {
            first_response_hours,
            resolution_hours,
            attainment_goal,
            at_risk_ratio: None,
        })
    }

    /// The same target with the share of it after which a running clock is at risk; the
    /// error names `AtRiskRatio` unless `0 < ratio < 1`.
    pub fn with_at_risk_ratio(mut self, ratio: f64) -> Result<Self, PlanSettingsError> {
        if !(ratio > 0.0 && ratio < 1.0) {
            return Err(PlanSettingsError::new(
                "AtRiskRatio",
                "must be greater than 0 and less than 1",
            ));
        }
        self.at_risk_ratio = Some(ratio);
        Ok(self)
    }

    /// Business hours allowed until the first response.
    pub fn first_response_hours(&self) -> f64 {
        self.first_response_hours
    }

    /// Business hours allowed until resolution.
    pub fn resolution_hours(&self) -> f64 {
        self.resolution_hours
    }

    /// The fraction of cases that must meet the target, in `0..=1`.
    pub fn attainment_goal(&self) -> f64 {
        self.attainment_goal
    }

    /// The share of a target after which a running clock is at risk, in `(0, 1)`:
    /// [`DEFAULT_AT_RISK_RATIO`] unless the plan gave one.
    pub fn at_risk_ratio(&self) -> f64 {
        self.at_risk_ratio.unwrap_or(DEFAULT_AT_RISK_RATIO)
    }

    fn from_json(value: &Json, path: &str) -> Result<Self, PlanSettingsError> {
        let map = json::object(value, path)?;
        json::only_known(
            map,
            &[
                "FirstResponseHours",
                "ResolutionHours",
                "AttainmentGoal",
                "AtRiskRatio",
            ],
            path,
        )?;
        let get = |key: &str| {
            json::required(map, key, path).and_then(|v| json::number(v, &json::child(path, key)))
        };
        let target = Self::new(
            get("FirstResponseHours")?,
            get("ResolutionHours")?,
            get("AttainmentGoal")?,
        )
        .map_err(|e| e.under(path))?;
        match json::optional(map, "AtRiskRatio") {
            None => Ok(target),
            Some(v) => target
                .with_at_risk_ratio(json::number(v, &json::child(path, "AtRiskRatio"))?)
                .map_err(|e| e.under(path)),
        }
    }

    fn to_json(self) -> Json {
        let mut map = Map::new();
        map.insert(
            "FirstResponseHours".into(),
            json::number_json(self.first_response_hours),
        );
        map.insert(
            "ResolutionHours".into(),
            json::number_json(self.resolution_hours),
        );
        map.insert(
            "AttainmentGoal".into(),
            json::number_json(self.attainment_goal),
        );
        if let Some(ratio) = self.at_risk_ratio {
            map.insert("AtRiskRatio".into(), json::number_json(ratio));
        }
        Json::Object(map)
    }
}

/// Targets for any subset of the priorities.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceLevelTargets {
    by_priority: [Option<ServiceLevelTarget>; 4],
}

impl ServiceLevelTargets {
    /// The property name on the plan.
    pub const PROPERTY: &'static str = "ServiceLevelTargets";

    /// Parses the JSON object; errors name the path, e.g.
    /// `ServiceLevelTargets.high.AttainmentGoal: must be between 0 and 1`.
    pub fn from_json(value: &Json) -> Result<Self, PlanSettingsError> {
        let path = Self::PROPERTY;
        let map = json::object(value, path)?;
        let mut targets = Self::default();
        for (key, value) in map {
            let key_path = json::child(path, key);
            let priority = Priority::parse(key).ok_or_else(|| {
                PlanSettingsError::new(
                    &key_path,
                    "unknown priority; expected low, normal, high or urgent",
                )
            })?;
            let slot = &mut targets.by_priority[priority.slot()];
            if slot.is_some() {
                return Err(PlanSettingsError::new(key_path, "priority given twice"));
            }
            *slot = Some(ServiceLevelTarget::from_json(value, &key_path)?);
        }
        Ok(targets)
    }

    /// Sets the target of one priority, replacing any.
    pub fn with(mut self, priority: Priority, target: ServiceLevelTarget) -> Self {
        self.by_priority[priority.slot()] = Some(target);
        self
    }

    /// The target of a priority, if one is set.
    pub fn get(&self, priority: Priority) -> Option<&ServiceLevelTarget> {
        self.by_priority[priority.slot()].as_ref()
    }

    /// The targets that are set, least urgent first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (Priority, &ServiceLevelTarget)> {
        Priority::ALL
            .into_iter()
            .filter_map(|p| self.get(p).map(|t| (p, t)))
    }

    /// Whether no priority has a target.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// The JSON object, keyed by lowercase priority name.
    pub fn to_json(&self) -> Json {
        Json::Object(
            self.iter()
                .map(|(p, t)| (p.as_str().to_owned(), t.to_json()))
                .collect(),
        )
    }

    /// A summary for `CustomerCaseServicePerformanceGoals`, most urgent first: `urgent: first
    /// response within 1 h, resolution within 8 h, 95% of cases; normal: …`, with `, at risk
    /// after 75% of a target` where the plan gave an at-risk ratio.
    pub fn readable(&self) -> String {
        let parts: Vec<String> = self
            .iter()
            .rev()
            .map(|(p, t)| {
                let at_risk = t.at_risk_ratio.map_or(String::new(), |r| {
                    format!(", at risk after {} of a target", json::readable_percent(r))
                });
                format!(
                    "{p}: first response within {} h, resolution within {} h, {} of cases{at_risk}",
                    json::readable_number(t.first_response_hours),
                    json::readable_number(t.resolution_hours),
                    json::readable_percent(t.attainment_goal),
                )
            })
            .collect();
        if parts.is_empty() {
            "no service level targets".to_owned()
        } else {
            parts.join("; ")
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(value: Json) -> Result<ServiceLevelTargets, PlanSettingsError> {
        ServiceLevelTargets::from_json(&value)
    }

    fn error(value: Json) -> String {
        parse(value).unwrap_err().to_string()
    }

    #[test]
    fn priorities_parse_ignoring_case_and_print_lowercase() {
        assert_eq!(Priority::parse("High"), Some(Priority::High));
        assert_eq!("urgent".parse::<Priority>(), Ok(Priority::Urgent));
        assert_eq!(Priority::Normal.as_str(), "normal");
        assert!(Priority::parse("critical").is_none());
        assert!(Priority::Low < Priority::Urgent);
    }

    #[test]
    fn any_subset_of_priorities_is_accepted_and_round_trips() {
        let given = json!({
            "urgent": {"FirstResponseHours": 1, "ResolutionHours": 8, "AttainmentGoal": 0.95},
            "low": {"FirstResponseHours": 24, "ResolutionHours": 120.5, "AttainmentGoal": 0.8}
        });
        let targets = parse(given.clone()).unwrap();
        assert!(targets.get(Priority::High).is_none());
        assert_eq!(
            targets.get(Priority::Low).unwrap().resolution_hours(),
            120.5
        );
        assert_eq!(targets.to_json(), given);
    }

    #[test]
    fn an_attainment_goal_above_one_names_its_path() {
        let err = error(json!({
            "high": {"FirstResponseHours": 2, "ResolutionHours": 16, "AttainmentGoal": 1.5}
        }));
        assert_eq!(
            err,
            "ServiceLevelTargets.high.AttainmentGoal: must be between 0 and 1"
        );
    }

    #[test]
    fn a_non_positive_first_response_names_its_path() {
        let err = error(json!({
            "normal": {"FirstResponseHours": 0, "ResolutionHours": 16, "AttainmentGoal": 0.9}
        }));
        assert_eq!(
            err,
            "ServiceLevelTargets.normal.FirstResponseHours: must be a number greater than 0"
        );
    }

    #[test]
    fn a_resolution_sooner_than_the_first_response_is_rejected() {
        let err = error(json!({
            "low": {"FirstResponseHours": 8, "ResolutionHours": 4, "AttainmentGoal": 0.9}
        }));
        assert_eq!(
            err,
            "ServiceLevelTargets.low.ResolutionHours: must not be less than FirstResponseHours"
        );
    }

    #[test]
    fn a_missing_property_is_required() {
        let err = error(json!({"urgent": {"FirstResponseHours": 1, "AttainmentGoal": 0.9}}));
        assert_eq!(
            err,
            "ServiceLevelTargets.urgent.ResolutionHours: is required"
        );
    }

    #[test]
    fn a_text_where_a_number_belongs_is_rejected() {
        let err = error(json!({
            "urgent": {"FirstResponseHours": "1", "ResolutionHours": 8, "AttainmentGoal": 0.9}
        }));
        assert_eq!(
            err,
            "ServiceLevelTargets.urgent.FirstResponseHours: must be a number"
        );
    }

    #[test]
    fn an_unknown_priority_is_rejected() {
        let err = error(json!({"critical": {}}));
        assert!(
            err.starts_with("ServiceLevelTargets.critical: unknown priority"),
            "{err}"
        );
    }

    #[test]
    fn targets_that_are_not_an_object_are_rejected() {
        assert_eq!(error(json!([1])), "ServiceLevelTargets: must be an object");
    }

    #[test]
    fn an_at_risk_ratio_is_optional_defaults_to_four_fifths_and_round_trips() {
        let given = json!({
            "urgent": {"FirstResponseHours": 1, "ResolutionHours": 8, "AttainmentGoal": 0.95,
                       "AtRiskRatio": 0.5},
            "normal": {"FirstResponseHours": 4, "ResolutionHours": 40, "AttainmentGoal": 0.9}
        });
        let targets = parse(given.clone()).unwrap();
        assert_eq!(targets.get(Priority::Urgent).unwrap().at_risk_ratio(), 0.5);
        assert_eq!(
            targets.get(Priority::Normal).unwrap().at_risk_ratio(),
            DEFAULT_AT_RISK_RATIO
        );
        assert_eq!(targets.to_json(), given, "the default is not written out");
        assert_eq!(
            targets.readable(),
            "urgent: first response within 1 h, resolution within 8 h, 95% of cases, \
             at risk after 50% of a target; \
             normal: first response within 4 h, resolution within 40 h, 90% of cases"
        );
    }

    #[test]
    fn an_at_risk_ratio_outside_zero_to_one_names_its_path() {
        for ratio in [json!(0), json!(1), json!(-0.2), json!(1.5)] {
            let err = error(json!({
                "high": {"FirstResponseHours": 2, "ResolutionHours": 16, "AttainmentGoal": 0.9,
                         "AtRiskRatio": ratio}
            }));
            assert_eq!(
                err,
                "ServiceLevelTargets.high.AtRiskRatio: must be greater than 0 and less than 1"
            );
        }
        let err = error(json!({
            "high": {"FirstResponseHours": 2, "ResolutionHours": 16, "AttainmentGoal": 0.9,
                     "AtRiskRatio": "0.5"}
        }));
        assert_eq!(
            err,
            "ServiceLevelTargets.high.AtRiskRatio: must be a number"
        );
    }

    #[test]
    fn the_readable_summary_lists_the_most_urgent_first() {
        let targets = parse(json!({
            "normal": {"FirstResponseHours": 4, "ResolutionHours": 40, "AttainmentGoal": 0.9},
            "urgent": {"FirstResponseHours": 1, "ResolutionHours": 8, "AttainmentGoal": 0.95}
        }))
        .unwrap();
        assert_eq!(
            targets.readable(),
            "urgent: first response within 1 h, resolution within 8 h, 95% of cases; \
             normal: first response within 4 h, resolution within 40 h, 90% of cases"
        );
    }
}
