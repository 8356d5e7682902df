//! The BIAN v12 string properties of each record kind, and how a client's JSON object
//! becomes a validated set of them.
//!
//! BIAN describes every property as a free-text string. A client may send any subset; a
//! property that is not a BIAN property of the record kind, or that the service owns, or
//! that is not a string, or that is longer than [`MAX_FIELD_CHARS`], is refused with a
//! message naming it.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// Longest value accepted for one BIAN string property, in characters.
pub const MAX_FIELD_CHARS: usize = 4096;

/// The three record kinds of the service domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordKind {
    /// The control record: `CustomerCaseManagementPlan`.
    Plan,
    /// Behaviour qualifier `Rules`: a case decision criterion.
    Rules,
    /// Behaviour qualifier `Performance`: a unit performance analysis.
    Performance,
}

const PLAN_FIELDS: &[&str] = &[
    "CustomerCaseManagementPlanPeriod",
    "CustomerCasePoliciesAndGuidelines",
    "CustomerCaseServicePerformanceGoals",
    "CustomerCaseServiceSchedule",
    "CustomerCaseServiceOperatingConfiguration",
    "CustomerCaseResourcePlan",
    "CustomerCaseTrainingPlan",
];

const RULES_FIELDS: &[&str] = &[
    "CustomerCaseDecisionCriterion",
    "CustomerCaseDecisionCriterionDefinition",
    "CustomerCaseDecisionCriterionRules",
    "CustomerCaseDecisionCriterionAnalysis",
    "CustomerCaseDecisionCriterionHistory",
];

const PERFORMANCE_FIELDS: &[&str] = &[
    "CustomerCaseResourceUtilization",
    "CustomerCaseLoadingProjections",
    "CustomerCaseResolutionServiceStatistics",
    "CustomerCaseServiceStatisticType",
    "CustomerCaseServiceStatisticValue",
    "CustomerCaseServiceStatisticInterpretation",
    "CustomerCaseServiceStatisticRecommendation",
];

/// Properties the service sets and renders; clients may not write them.
const READ_ONLY: &[&str] = &[
    "CustomerCaseManagementId",
    "RulesId",
    "PerformanceId",
    "InterventionId",
    "Version",
    "CreatedAt",
    "UpdatedAt",
    "OpenInterventions",
    "History",
    "Analysis",
    "Annotations",
    "BusinessUnit",
    "Window",
    "Statistics",
    "Projections",
];

impl RecordKind {
    /// The BIAN property names of this kind, in the order of the contract.
    pub fn field_names(self) -> &'static [&'static str] {
        match self {
            Self::Plan => PLAN_FIELDS,
            Self::Rules => RULES_FIELDS,
            Self::Performance => PERFORMANCE_FIELDS,
        }
    }

    /// Properties of responses that the service owns.
    pub fn read_only_names() -> &'static [&'static str] {
        READ_ONLY
    }

    /// How the kind is named in messages.
    pub fn label(self) -> &'static str {
        match self {
            Self::Plan => "customer case management plan",
            Self::Rules => "rules",
            Self::Performance => "performance",
        }
    }
}

/// Why a client's properties were refused. Each names the property.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    /// Not a property of this record kind.
    #[error("unknown property '{0}'")]
    Unknown(String),
    /// A property that only the service sets.
    #[error("property '{0}' is read-only")]
    ReadOnly(String),
    /// A property whose value is not a string (or null).
    #[error("property '{0}' must be a string")]
    NotString(String),
    /// A property longer than [`MAX_FIELD_CHARS`].
    #[error("property '{name}' is {chars} characters long; the limit is {MAX_FIELD_CHARS}")]
    TooLong {
        /// The property.
        name: String,
        /// Its length in characters.
        chars: usize,
    },
}

/// A validated set of BIAN string properties of one record kind.
///
/// Absent properties are not in the set; `null` is refused like any other non-string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields(BTreeMap<String, String>);

impl Fields {
    /// Validates a client's JSON object against the properties of `kind`. Properties named
    /// in `extensions` are skipped here: the caller parses those itself.
    pub fn parse(
        kind: RecordKind,
        object: &Map<String, Value>,
        extensions: &[&str],
    ) -> Result<Self, FieldError> {
        let allowed = kind.field_names();
        let mut fields = BTreeMap::new();
        for (name, value) in object {
            if extensions.contains(&name.as_str()) {
                continue;
            }
            if READ_ONLY.contains(&name.as_str()) {
                return Err(FieldError::ReadOnly(name.clone()));
            }
            if !allowed.contains(&name.as_str()) {
                return Err(FieldError::Unknown(shorten(name)));
            }
            // `null` is not a string: the contract types every property as one, and ignoring
            // it would let a client believe it cleared something.
            match value {
                Value::String(text) => {
                    let chars = text.chars().count();
                    if chars > MAX_FIELD_CHARS {
                        return Err(FieldError::TooLong {
                            name: name.clone(),
                            chars,
                        });
                    }
                    fields.insert(name.clone(), text.clone());
                }
                _ => return Err(FieldError::NotString(name.clone())),
            }
        }
        Ok(Self(fields))
    }

    /// Rebuilds a set from stored JSON text, keeping only the properties of `kind`.
    pub fn from_stored(kind: RecordKind, json: &str) -> Result<Self, serde_json::Error> {
        let map: BTreeMap<String, String> = serde_json::from_str(json)?;
        let allowed = kind.field_names();
        Ok(Self(
            map.into_iter()
                .filter(|(name, _)| allowed.contains(&name.as_str()))
                .collect(),
        ))
    }

    /// The set as JSON text, for storage.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "{}".to_owned())
    }

    /// The value of one property.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// Sets one property (used by the service for computed values).
    pub fn set(&mut self, name: &str, value: String) {
        self.0.insert(name.to_owned(), value);
    }

    /// Whether no property is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The properties in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// `self` with every property of `patch` written over it.
    pub fn merged(mut self, patch: &Fields) -> Self {
        for (name, value) in &patch.0 {
            self.0.insert(name.clone(), value.clone());
        }
        self
    }
}

/// A client's name as a message shows it: without control characters, cut to 64 characters.
pub(crate) fn shorten(name: &str) -> String {
    let short: String = name.chars().filter(|c| !c.is_control()).take(64).collect();
    if short.len() < name.len() {
        format!("{short}…")
    } else {
        short
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!("tests pass objects"),
        }
    }

    #[test]
    fn bian_properties_of_the_kind_are_accepted_and_nulls_refused() {
        let fields = Fields::parse(
            RecordKind::Plan,
            &object(json!({"CustomerCaseTrainingPlan": "Q3 refresher"})),
            &[],
        )
        .expect("valid");
        assert_eq!(fields.get("CustomerCaseTrainingPlan"), Some("Q3 refresher"));
        assert_eq!(fields.get("CustomerCaseResourcePlan"), None);
        let err = Fields::parse(
            RecordKind::Plan,
            &object(json!({"CustomerCaseResourcePlan": null})),
            &[],
        )
        .expect_err("null is not a string");
        assert_eq!(
            err,
            FieldError::NotString("CustomerCaseResourcePlan".into())
        );
    }

    #[test]
    fn a_property_of_another_kind_is_unknown_and_named() {
        let err = Fields::parse(
            RecordKind::Rules,
            &object(json!({"CustomerCaseTrainingPlan": "x"})),
            &[],
        )
        .unwrap_err();
        assert_eq!(err, FieldError::Unknown("CustomerCaseTrainingPlan".into()));
        assert!(err.to_string().contains("CustomerCaseTrainingPlan"));
    }

    #[test]
    fn service_owned_properties_are_read_only() {
        let err =
            Fields::parse(RecordKind::Plan, &object(json!({"Version": "7"})), &[]).unwrap_err();
        assert_eq!(err, FieldError::ReadOnly("Version".into()));
    }

    #[test]
    fn non_string_values_are_refused() {
        for value in [json!(5), json!(true), json!([]), json!({})] {
            let err = Fields::parse(
                RecordKind::Performance,
                &object(json!({"CustomerCaseServiceStatisticType": value})),
                &[],
            )
            .unwrap_err();
            assert!(matches!(err, FieldError::NotString(_)));
        }
    }

    #[test]
    fn a_value_one_character_over_the_limit_is_refused() {
        let at_limit = "é".repeat(MAX_FIELD_CHARS);
        let over = "é".repeat(MAX_FIELD_CHARS + 1);
        let name = "CustomerCaseDecisionCriterion";
        assert!(Fields::parse(RecordKind::Rules, &object(json!({ name: at_limit })), &[]).is_ok());
        assert!(matches!(
            Fields::parse(RecordKind::Rules, &object(json!({ name: over })), &[]),
            Err(FieldError::TooLong { chars, .. }) if chars == MAX_FIELD_CHARS + 1
        ));
    }

    #[test]
    fn extension_properties_are_left_to_the_caller() {
        let fields = Fields::parse(
            RecordKind::Plan,
            &object(json!({"InterventionReason": 5})),
            &["InterventionReason"],
        )
        .expect("skipped");
        assert!(fields.is_empty());
    }

    #[test]
    fn merging_overwrites_given_properties_and_keeps_the_rest() {
        let base = Fields::parse(
            RecordKind::Plan,
            &object(json!({"CustomerCaseTrainingPlan": "a", "CustomerCaseResourcePlan": "b"})),
            &[],
        )
        .expect("valid");
        let patch = Fields::parse(
            RecordKind::Plan,
            &object(json!({"CustomerCaseResourcePlan": "c"})),
            &[],
        )
        .expect("valid");
        let merged = base.merged(&patch);
        assert_eq!(merged.get("CustomerCaseTrainingPlan"), Some("a"));
        assert_eq!(merged.get("CustomerCaseResourcePlan"), Some("c"));
    }

    #[test]
    fn stored_text_round_trips() {
        let fields = Fields::parse(
            RecordKind::Plan,
            &object(json!({"CustomerCaseTrainingPlan": "a\"b"})),
            &[],
        )
        .expect("valid");
        assert_eq!(
            Fields::from_stored(RecordKind::Plan, &fields.to_json()).expect("json"),
            fields
        );
    }
}
