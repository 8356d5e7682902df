//! The typed settings of a management plan, kept as extension properties beside its BIAN
//! strings: [`ServiceLevelTargets`] (goals per priority), [`BusinessCalendar`] (when SLA
//! clocks run) and [`ResourcePlan`] (teams and headcount).
//!
//! [`PlanSettings::from_json`] reads the three from a request body and ignores every other
//! property, so the caller hands over the whole body. Each may be absent. Errors are one
//! [`PlanSettingsError`] whose message starts with the property path, e.g.
//! `BusinessCalendar.WorkingHours[0]: From 18:00 is not before To 08:00`, so the HTTP layer
//! can answer 400 naming the field.
//!
//! The BIAN strings `CustomerCaseServicePerformanceGoals`, `CustomerCaseServiceSchedule` and
//! `CustomerCaseResourcePlan` keep what the client wrote; when it wrote none, the
//! `readable_*` methods give a summary of the typed values. They need no clock, so the
//! summary of a plan is the same whenever it is rendered.

use std::sync::LazyLock;

use serde_json::{Map, Value as Json};

mod calendar;
mod clock;
mod hours;
mod json;
mod resources;
mod targets;

pub use calendar::{BusinessCalendar, MAX_HOLIDAYS, MAX_WINDOWS_PER_DAY, Window};
pub use hours::{LocalTime, WorkingHours};
pub use resources::{MAX_AGENTS, MAX_NAME_CHARS, MAX_SKILLS, MAX_TEAMS, ResourcePlan, Team};
pub use targets::{
    DEFAULT_AT_RISK_RATIO, MAX_TARGET_HOURS, Priority, ServiceLevelTarget, ServiceLevelTargets,
    UnknownPriority,
};

/// The names of the three extension properties on the plan.
pub const PROPERTIES: [&str; 3] = [
    ServiceLevelTargets::PROPERTY,
    BusinessCalendar::PROPERTY,
    ResourcePlan::PROPERTY,
];

/// A value of the plan settings that cannot be used; the message starts with its path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {problem}")]
pub struct PlanSettingsError {
    path: String,
    problem: String,
}

impl PlanSettingsError {
    pub(crate) fn new(path: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            problem: problem.into(),
        }
    }

    /// The property at fault, e.g. `ResourcePlan.Teams[1].Agents`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What is wrong with it, e.g. `must not be negative`.
    pub fn problem(&self) -> &str {
        &self.problem
    }

    /// The same error for a property found below `parent`.
    pub(crate) fn under(self, parent: &str) -> Self {
        Self {
            path: json::child(parent, &self.path),
            problem: self.problem,
        }
    }
}

static DEFAULT_CALENDAR: LazyLock<BusinessCalendar> = LazyLock::new(BusinessCalendar::default);

/// The typed settings of one plan; each part is optional.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlanSettings {
    /// Goals per priority.
    pub service_level_targets: Option<ServiceLevelTargets>,
    /// When SLA clocks run; see [`calendar`](Self::calendar) for the one in force.
    pub business_calendar: Option<BusinessCalendar>,
    /// Teams and headcount.
    pub resource_plan: Option<ResourcePlan>,
}

impl PlanSettings {
    /// Reads `ServiceLevelTargets`, `BusinessCalendar` and `ResourcePlan` from a request body,
    /// ignoring its other properties. Absent or null means not set.
    pub fn from_json(body: &Map<String, Json>) -> Result<Self, PlanSettingsError> {
        Self::default().patched(body)
    }

    /// These settings with a partial update applied: a property given replaces the current
    /// value whole, null clears it, absence keeps it. Other properties are ignored.
    pub fn patched(&self, body: &Map<String, Json>) -> Result<Self, PlanSettingsError> {
        fn apply<T>(
            current: &Option<T>,
            given: Option<&Json>,
            parse: fn(&Json) -> Result<T, PlanSettingsError>,
        ) -> Result<Option<T>, PlanSettingsError>
        where
            T: Clone,
        {
            match given {
                None => Ok(current.clone()),
                Some(Json::Null) => Ok(None),
                Some(value) => parse(value).map(Some),
            }
        }
        Ok(Self {
            service_level_targets: apply(
                &self.service_level_targets,
                body.get(ServiceLevelTargets::PROPERTY),
                ServiceLevelTargets::from_json,
            )?,
            business_calendar: apply(
                &self.business_calendar,
                body.get(BusinessCalendar::PROPERTY),
                BusinessCalendar::from_json,
            )?,
            resource_plan: apply(
                &self.resource_plan,
                body.get(ResourcePlan::PROPERTY),
                ResourcePlan::from_json,
            )?,
        })
    }

    /// The settings that are set, as properties to merge into a response body or to store.
    pub fn to_json(&self) -> Map<String, Json> {
        let mut map = Map::new();
        if let Some(t) = &self.service_level_targets {
            map.insert(ServiceLevelTargets::PROPERTY.into(), t.to_json());
        }
        if let Some(c) = &self.business_calendar {
            map.insert(BusinessCalendar::PROPERTY.into(), c.to_json());
        }
        if let Some(r) = &self.resource_plan {
            map.insert(ResourcePlan::PROPERTY.into(), r.to_json());
        }
        map
    }

    /// Whether none of the three is set.
    pub fn is_empty(&self) -> bool {
        self.service_level_targets.is_none()
            && self.business_calendar.is_none()
            && self.resource_plan.is_none()
    }

    /// The calendar in force: the plan's, or the default (UTC, Monday to Friday
    /// 09:00–17:00, no holidays) when it has none.
    pub fn calendar(&self) -> &BusinessCalendar {
        self.business_calendar.as_ref().unwrap_or(&DEFAULT_CALENDAR)
    }

    /// The summary for `CustomerCaseServicePerformanceGoals`, when targets are set.
    pub fn readable_performance_goals(&self) -> Option<String> {
        self.service_level_targets
            .as_ref()
            .map(ServiceLevelTargets::readable)
    }

    /// The summary for `CustomerCaseServiceSchedule`, when a calendar is set.
    pub fn readable_schedule(&self) -> Option<String> {
        self.business_calendar
            .as_ref()
            .map(BusinessCalendar::readable)
    }

    /// The summary for `CustomerCaseResourcePlan`, when a resource plan is set.
    pub fn readable_resource_plan(&self) -> Option<String> {
        self.resource_plan.as_ref().map(ResourcePlan::readable)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn body(value: Json) -> Map<String, Json> {
        value.as_object().cloned().unwrap()
    }

    fn full() -> Map<String, Json> {
        body(json!({
            "CustomerCaseServiceSchedule": "ignored: a BIAN string",
            "ServiceLevelTargets": {
                "urgent": {"FirstResponseHours": 1, "ResolutionHours": 8, "AttainmentGoal": 0.95}
            },
            "BusinessCalendar": {
                "TimeZone": "Europe/Berlin",
                "WorkingHours": [{"Days": ["mon", "tue", "wed", "thu", "fri"], "From": "08:00", "To": "18:00"}],
                "Holidays": ["2026-12-24", "2026-12-25", "2026-12-26"]
            },
            "ResourcePlan": {"Teams": [
                {"Team": "disputes", "Agents": 12, "ProductiveHoursPerDay": 6.5, "Shrinkage": 0.3,
                 "Skills": ["chargeback", "fraud"]}
            ]}
        }))
    }

    #[test]
    fn a_body_without_settings_has_none_and_the_default_calendar() {
        let settings =
            PlanSettings::from_json(&body(json!({"CustomerCaseTrainingPlan": "x"}))).unwrap();
        assert!(settings.is_empty());
        assert!(settings.to_json().is_empty());
        assert_eq!(settings.readable_schedule(), None);
        assert_eq!(
            settings.calendar().readable(),
            "Mon–Fri 09:00–17:00 UTC; no holidays"
        );
    }

    #[test]
    fn settings_round_trip_through_json_ignoring_other_properties() {
        let settings = PlanSettings::from_json(&full()).unwrap();
        let written = settings.to_json();
        assert!(PROPERTIES.iter().all(|p| written.contains_key(*p)));
        assert!(!written.contains_key("CustomerCaseServiceSchedule"));
        assert_eq!(PlanSettings::from_json(&written).unwrap(), settings);
    }

    #[test]
    fn the_readable_summaries_render_each_setting() {
        let settings = PlanSettings::from_json(&full()).unwrap();
        assert_eq!(
            settings.readable_performance_goals().unwrap(),
            "urgent: first response within 1 h, resolution within 8 h, 95% of cases"
        );
        assert_eq!(
            settings.readable_schedule().unwrap(),
            "Mon–Fri 08:00–18:00 Europe/Berlin; 3 holidays (2026-12-24, 2026-12-25, 2026-12-26)"
        );
        assert_eq!(
            settings.readable_resource_plan().unwrap(),
            "disputes: 12 agents × 6.5 h/day, 30% shrinkage (chargeback, fraud)"
        );
    }

    #[test]
    fn a_patch_replaces_given_properties_clears_nulls_and_keeps_the_rest() {
        let settings = PlanSettings::from_json(&full()).unwrap();
        let patch = body(json!({
            "ServiceLevelTargets": null,
            "ResourcePlan": {"Teams": []}
        }));
        let patched = settings.patched(&patch).unwrap();
        assert_eq!(patched.service_level_targets, None);
        assert_eq!(patched.business_calendar, settings.business_calendar);
        assert_eq!(patched.resource_plan.unwrap().teams().len(), 0);
    }

    #[test]
    fn a_bad_patch_is_refused_whole_naming_the_path() {
        let settings = PlanSettings::from_json(&full()).unwrap();
        let patch = body(json!({"BusinessCalendar": {"TimeZone": "Mars/Olympus"}}));
        let err = settings.patched(&patch).unwrap_err();
        assert_eq!(
            err.to_string(),
            "BusinessCalendar.TimeZone: unknown time zone 'Mars/Olympus'"
        );
        assert_eq!(err.path(), "BusinessCalendar.TimeZone");
        assert_eq!(err.problem(), "unknown time zone 'Mars/Olympus'");
    }

    #[test]
    fn a_setting_of_the_wrong_json_type_is_named() {
        let err =
            PlanSettings::from_json(&body(json!({"ResourcePlan": "six agents"}))).unwrap_err();
        assert_eq!(err.to_string(), "ResourcePlan: must be an object");
    }
}
