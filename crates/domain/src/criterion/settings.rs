//! A criterion's machine settings as clients send them (extension properties of a BIAN
//! *Rules* record): `Expression`, `Parameters`, `Decision`, `Otherwise`, `Priority`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value as Json};

use super::expression::{Expression, ExpressionError, RESERVED_WORDS};

/// Most parameters one criterion may have.
pub const MAX_PARAMETERS: usize = 100;
/// Longest parameter name, in characters.
pub const MAX_PARAMETER_NAME_CHARS: usize = 100;
/// Longest list a parameter may hold.
pub const MAX_PARAMETER_LIST: usize = 1_000;
/// Longest string a parameter may hold (alone or in a list), in characters.
pub const MAX_PARAMETER_TEXT_CHARS: usize = 1_000;
/// Longest decision name, in characters.
pub const MAX_DECISION_CHARS: usize = 200;

/// Why settings were refused; each names the property.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// A property has the wrong shape.
    #[error("property '{property}': {reason}")]
    Invalid {
        /// The property.
        property: String,
        /// What is wrong.
        reason: String,
    },
    /// The expression does not compile against the parameters.
    #[error("property 'Expression': {0}")]
    Expression(#[from] ExpressionError),
}

fn invalid(property: &str, reason: impl Into<String>) -> SettingsError {
    SettingsError::Invalid {
        property: property.to_owned(),
        reason: reason.into(),
    }
}

/// Named thresholds and values, e.g. `limits.auto_refund = 50`. Names are identifiers
/// joined by dots; values are numbers, strings, booleans or lists of those.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parameters(BTreeMap<String, Json>);

/// A CEL identifier that is not a reserved word, so that an expression can name it.
fn is_identifier(segment: &str) -> bool {
    let mut chars = segment.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !RESERVED_WORDS.contains(&segment)
}

fn is_scalar(value: &Json) -> bool {
    matches!(value, Json::Number(_) | Json::String(_) | Json::Bool(_))
}

impl Parameters {
    /// Parses `{"limits.auto_refund": 50, ...}`.
    pub fn parse(value: &Json) -> Result<Self, SettingsError> {
        let object = value
            .as_object()
            .ok_or_else(|| invalid("Parameters", "must be an object of name to value"))?;
        let mut params = BTreeMap::new();
        for (name, value) in object {
            Self::check_entry(name, value)?;
            params.insert(name.clone(), value.clone());
        }
        let params = Self(params);
        params.check_set()?;
        Ok(params)
    }

    fn check_entry(name: &str, value: &Json) -> Result<(), SettingsError> {
        if name.chars().count() > MAX_PARAMETER_NAME_CHARS || !name.split('.').all(is_identifier) {
            let shown: String = name.chars().take(MAX_PARAMETER_NAME_CHARS).collect();
            return Err(invalid(
                "Parameters",
                format!(
                    "'{shown}' is not a valid name: use identifiers joined by dots, e.g. limits.auto_refund"
                ),
            ));
        }
        let long_text = |v: &Json| {
            v.as_str()
                .is_some_and(|s| s.chars().count() > MAX_PARAMETER_TEXT_CHARS)
        };
        match value {
            v if is_scalar(v) && !long_text(v) => Ok(()),
            v if is_scalar(v) => Err(invalid(
                "Parameters",
                format!("'{name}' is longer than {MAX_PARAMETER_TEXT_CHARS} characters"),
            )),
            Json::Array(items) if items.len() > MAX_PARAMETER_LIST => Err(invalid(
                "Parameters",
                format!(
                    "'{name}' has {} items; the limit is {MAX_PARAMETER_LIST}",
                    items.len()
                ),
            )),
            Json::Array(items) if items.iter().all(is_scalar) && !items.iter().any(long_text) => {
                Ok(())
            }
            Json::Array(items) if items.iter().all(is_scalar) => Err(invalid(
                "Parameters",
                format!(
                    "'{name}' holds a string longer than {MAX_PARAMETER_TEXT_CHARS} characters"
                ),
            )),
            _ => Err(invalid(
                "Parameters",
                format!("'{name}' must be a number, string, boolean or a list of those"),
            )),
        }
    }

    fn check_set(&self) -> Result<(), SettingsError> {
        if self.0.len() > MAX_PARAMETERS {
            return Err(invalid(
                "Parameters",
                format!("at most {MAX_PARAMETERS} parameters"),
            ));
        }
        for name in self.0.keys() {
            let prefix = format!("{name}.");
            if let Some(longer) = self.0.keys().find(|other| other.starts_with(&prefix)) {
                return Err(invalid(
                    "Parameters",
                    format!("'{name}' cannot be both a value and a group ('{longer}')"),
                ));
            }
        }
        Ok(())
    }

    /// The parameters with `patch` applied: names given get the new value, `null` removes.
    pub fn patched(&self, patch: &Json) -> Result<Self, SettingsError> {
        let object = patch
            .as_object()
            .ok_or_else(|| invalid("Parameters", "must be an object of name to value"))?;
        let mut params = self.0.clone();
        for (name, value) in object {
            if value.is_null() {
                params.remove(name);
            } else {
                Self::check_entry(name, value)?;
                params.insert(name.clone(), value.clone());
            }
        }
        let params = Self(params);
        params.check_set()?;
        Ok(params)
    }

    /// One parameter's value.
    pub fn get(&self, name: &str) -> Option<&Json> {
        self.0.get(name)
    }

    /// The names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.0.keys().cloned().collect()
    }

    /// First segments of the names: the identifiers that refer to parameters in an
    /// expression.
    pub fn namespaces(&self) -> BTreeSet<&str> {
        self.0
            .keys()
            .map(|n| n.split('.').next().unwrap_or(n))
            .collect()
    }

    /// The parameters as nested objects by their first segment, for evaluation.
    pub fn nested(&self) -> BTreeMap<String, Json> {
        let mut roots: BTreeMap<String, Json> = BTreeMap::new();
        for (name, value) in &self.0 {
            let mut segments = name.split('.');
            let root = segments.next().unwrap_or(name).to_owned();
            let rest: Vec<&str> = segments.collect();
            if rest.is_empty() {
                roots.insert(root, value.clone());
                continue;
            }
            let mut slot = roots
                .entry(root)
                .or_insert_with(|| Json::Object(Map::new()));
            for segment in &rest[..rest.len() - 1] {
                let Json::Object(map) = slot else { break };
                slot = map
                    .entry((*segment).to_owned())
                    .or_insert_with(|| Json::Object(Map::new()));
            }
            if let (Json::Object(map), Some(last)) = (slot, rest.last()) {
                map.insert((*last).to_owned(), value.clone());
            }
        }
        roots
    }

    /// As a JSON object.
    pub fn to_json(&self) -> Json {
        Json::Object(self.0.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `name = value` pairs for people.
    pub fn readable(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The machine settings of a criterion.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CriterionSettings {
    /// The CEL expression, if any.
    pub expression: Option<String>,
    /// The parameters it may refer to.
    pub parameters: Parameters,
    /// What a true result means, e.g. `auto_approve` or `route:fraud-team`.
    pub decision: Option<String>,
    /// What a false result means.
    pub otherwise: Option<String>,
    /// Order among the plan's criteria: lower runs first (default 100).
    pub priority: Option<i64>,
}

/// Order given to criteria without a priority.
pub const DEFAULT_PRIORITY: i64 = 100;

/// A text property: absent or `null` is `None`; otherwise a non-blank string of at most
/// `max` characters, on one line unless `multi_line`.
fn text(
    object: &Map<String, Json>,
    name: &str,
    max: usize,
    multi_line: bool,
) -> Result<Option<String>, SettingsError> {
    match object.get(name) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) if s.trim().is_empty() => Err(invalid(name, "must not be empty")),
        Some(Json::String(s)) if s.chars().count() > max => {
            Err(invalid(name, format!("is longer than {max} characters")))
        }
        Some(Json::String(s)) if !multi_line && s.chars().any(char::is_control) => {
            Err(invalid(name, "must not contain control characters"))
        }
        Some(Json::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(name, "must be a string")),
    }
}

impl CriterionSettings {
    /// The extension properties these settings are read from.
    pub const PROPERTIES: &'static [&'static str] = &[
        "Expression",
        "Parameters",
        "Decision",
        "Otherwise",
        "Priority",
    ];

    /// Reads the settings among a body's properties (others are ignored here).
    pub fn from_json(object: &Map<String, Json>) -> Result<Self, SettingsError> {
        Self::default().patched(object)
    }

    /// These settings with the properties given in `object` written over them (`null`
    /// clears one; `Parameters` is patched name by name).
    pub fn patched(&self, object: &Map<String, Json>) -> Result<Self, SettingsError> {
        let mut next = self.clone();
        if object.contains_key("Expression") {
            // Longer than an expression may be, so that compiling says how long it is.
            next.expression = text(
                object,
                "Expression",
                super::expression::MAX_SOURCE_CHARS * 4,
                true,
            )?;
        }
        match object.get("Parameters") {
            None => {}
            Some(Json::Null) => next.parameters = Parameters::default(),
            Some(value) => next.parameters = self.parameters.patched(value)?,
        }
        if object.contains_key("Decision") {
            next.decision = text(object, "Decision", MAX_DECISION_CHARS, false)?;
        }
        if object.contains_key("Otherwise") {
            next.otherwise = text(object, "Otherwise", MAX_DECISION_CHARS, false)?;
        }
        match object.get("Priority") {
            None => {}
            Some(Json::Null) => next.priority = None,
            Some(value) => {
                let p = value
                    .as_i64()
                    .filter(|p| (-1_000_000..=1_000_000).contains(p));
                next.priority = Some(p.ok_or_else(|| {
                    invalid(
                        "Priority",
                        "must be a whole number between -1000000 and 1000000",
                    )
                })?);
            }
        }
        Ok(next)
    }

    /// Compiles the expression against the parameters; `None` when there is no expression.
    pub fn compile(&self) -> Result<Option<Expression>, SettingsError> {
        self.expression
            .as_deref()
            .map(|src| Expression::compile(src, &self.parameters))
            .transpose()
            .map_err(SettingsError::from)
    }

    /// The priority, defaulted.
    pub fn priority(&self) -> i64 {
        self.priority.unwrap_or(DEFAULT_PRIORITY)
    }

    /// As extension properties.
    pub fn to_json(&self) -> Map<String, Json> {
        let mut out = Map::new();
        if let Some(e) = &self.expression {
            out.insert("Expression".into(), e.as_str().into());
        }
        if !self.parameters.is_empty() {
            out.insert("Parameters".into(), self.parameters.to_json());
        }
        if let Some(d) = &self.decision {
            out.insert("Decision".into(), d.as_str().into());
        }
        if let Some(o) = &self.otherwise {
            out.insert("Otherwise".into(), o.as_str().into());
        }
        if let Some(p) = self.priority {
            out.insert("Priority".into(), p.into());
        }
        out
    }

    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self.to_json().is_empty()
    }

    /// The settings in words, for the BIAN `CustomerCaseDecisionCriterionRules` string.
    pub fn readable(&self) -> Option<String> {
        let expression = self.expression.as_deref()?;
        let mut text = format!("When {expression}");
        if !self.parameters.is_empty() {
            text.push_str(&format!(" (with {})", self.parameters.readable()));
        }
        text.push_str(&format!(": {}", self.decision.as_deref().unwrap_or("true")));
        if let Some(otherwise) = &self.otherwise {
            text.push_str(&format!("; otherwise: {otherwise}"));
        }
        text.push_str(&format!(". Priority {}.", self.priority()));
        Some(text)
    }

    /// The properties that differ between `self` and `newer`, for version history.
    pub fn changes(&self, newer: &Self) -> Vec<String> {
        let (old, new) = (self.to_json(), newer.to_json());
        Self::PROPERTIES
            .iter()
            .filter(|p| old.get(**p) != new.get(**p))
            .map(|p| (*p).to_owned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: Json) -> Map<String, Json> {
        value.as_object().cloned().expect("an object")
    }

    fn parameters(value: Json) -> Parameters {
        Parameters::parse(&value).expect("valid parameters")
    }

    fn refused(value: Json) -> String {
        match Parameters::parse(&value) {
            Err(SettingsError::Invalid { property, reason }) => {
                assert_eq!(property, "Parameters");
                reason
            }
            other => panic!("{value}: {other:?}"),
        }
    }

    #[test]
    fn parameter_names_are_identifiers_joined_by_dots() {
        parameters(json!({"limits.auto_refund": 50, "_x.y2": 1, "threshold": 3}));
        for bad in [
            "",
            "1abc",
            "a..b",
            "a-b",
            ".a",
            "a.",
            "limits.in",
            "true",
            "a b",
            "é",
        ] {
            let reason = refused(json!({ bad: 1 }));
            assert!(reason.contains("is not a valid name"), "{bad}: {reason}");
        }
        assert!(refused(json!({ "a".repeat(101): 1 })).contains("is not a valid name"));
    }

    #[test]
    fn parameter_values_are_scalars_or_lists_of_scalars() {
        parameters(json!({"a": 1.5, "b": "x", "c": true, "d": [1, "two", false], "e": []}));
        for bad in [
            json!({}),
            json!(null),
            json!([[1]]),
            json!([{}]),
            json!([null]),
        ] {
            let reason = refused(json!({ "a": bad }));
            assert!(
                reason.contains("must be a number, string, boolean or a list of those"),
                "{bad}: {reason}"
            );
        }
        assert!(refused(json!({"a": "x".repeat(1_001)})).contains("longer than 1000"));
        assert!(refused(json!({"a": ["x".repeat(1_001)]})).contains("longer than 1000"));
        assert!(refused(json!({"a": vec![1; 1_001]})).contains("1001 items"));
        assert!(refused(json!([1])).contains("must be an object"));
        let many: Map<String, Json> = (0..=MAX_PARAMETERS)
            .map(|i| (format!("p{i}"), json!(i)))
            .collect();
        assert!(refused(Json::Object(many)).contains("at most 100"));
    }

    #[test]
    fn a_name_cannot_be_both_a_value_and_a_group() {
        let reason = refused(json!({"limits": 1, "limits.auto_refund": 50}));
        assert_eq!(
            reason,
            "'limits' cannot be both a value and a group ('limits.auto_refund')"
        );
        let current = parameters(json!({"limits.auto_refund": 50}));
        assert!(current.patched(&json!({"limits": 1})).is_err());
    }

    #[test]
    fn a_patch_sets_replaces_and_removes_with_null() {
        let current =
            parameters(json!({"limits.auto_refund": 50, "limits.review": 500, "vip": true}));
        let next = current
            .patched(&json!({"limits.auto_refund": 75, "limits.review": null, "countries": ["DE"], "absent": null}))
            .expect("valid patch");
        assert_eq!(
            next.to_json(),
            json!({"limits.auto_refund": 75, "vip": true, "countries": ["DE"]})
        );
        assert_eq!(
            current.get("limits.review"),
            Some(&json!(500)),
            "the original is unchanged"
        );
        assert!(current.patched(&json!({"bad name": 1})).is_err());
    }

    #[test]
    fn nested_builds_one_object_per_group() {
        let nested = parameters(json!({"a.b.c": 1, "a.b.d": 2, "a.e": 3, "f": 4})).nested();
        assert_eq!(
            nested,
            BTreeMap::from([
                ("a".to_owned(), json!({"b": {"c": 1, "d": 2}, "e": 3})),
                ("f".to_owned(), json!(4))
            ])
        );
        let p = parameters(json!({"a.b.c": 1, "f": 4}));
        assert_eq!(p.namespaces(), BTreeSet::from(["a", "f"]));
        assert_eq!(p.names(), ["a.b.c", "f"]);
        assert_eq!(p.readable(), "a.b.c = 1, f = 4");
    }

    fn refund_settings() -> CriterionSettings {
        CriterionSettings::from_json(&object(json!({
            "Expression": "amount <= limits.auto_refund",
            "Parameters": {"limits.auto_refund": 50},
            "Decision": "auto_refund",
            "Otherwise": "manual_review",
            "Priority": 10,
            "Unrelated": "ignored"
        })))
        .expect("valid settings")
    }

    #[test]
    fn settings_are_read_from_their_properties_and_written_back() {
        let settings = refund_settings();
        assert_eq!(
            settings.expression.as_deref(),
            Some("amount <= limits.auto_refund")
        );
        assert_eq!(settings.decision.as_deref(), Some("auto_refund"));
        assert_eq!(settings.priority(), 10);
        assert_eq!(
            CriterionSettings::from_json(&settings.to_json()),
            Ok(settings.clone())
        );
        assert!(!settings.is_empty());
        assert!(CriterionSettings::default().is_empty());
        assert_eq!(CriterionSettings::default().priority(), DEFAULT_PRIORITY);
    }

    #[test]
    fn a_patch_keeps_what_it_omits_clears_null_and_patches_parameters_by_name() {
        let settings = refund_settings();
        let next = settings
            .patched(&object(
                json!({"Parameters": {"limits.review": 500}, "Otherwise": null, "Priority": 5}),
            ))
            .expect("valid patch");
        assert_eq!(next.expression, settings.expression);
        assert_eq!(next.decision, settings.decision);
        assert_eq!(next.otherwise, None);
        assert_eq!(next.priority, Some(5));
        assert_eq!(
            next.parameters.to_json(),
            json!({"limits.auto_refund": 50, "limits.review": 500})
        );
        let cleared = next
            .patched(&object(json!({"Parameters": null, "Expression": null})))
            .expect("valid");
        assert!(cleared.parameters.is_empty() && cleared.expression.is_none());
        assert_eq!(settings.patched(&Map::new()), Ok(settings.clone()));
    }

    #[test]
    fn a_property_of_the_wrong_type_is_named() {
        for (body, property) in [
            (json!({"Expression": 5}), "Expression"),
            (json!({"Expression": "  "}), "Expression"),
            (json!({"Decision": ["a"]}), "Decision"),
            (json!({"Decision": "a\nb"}), "Decision"),
            (json!({"Otherwise": ""}), "Otherwise"),
            (json!({"Otherwise": "x".repeat(201)}), "Otherwise"),
            (json!({"Priority": "high"}), "Priority"),
            (json!({"Priority": 1.5}), "Priority"),
            (json!({"Priority": 2_000_000}), "Priority"),
            (json!({"Parameters": "x"}), "Parameters"),
            (json!({"Parameters": {"a": {}}}), "Parameters"),
        ] {
            match CriterionSettings::from_json(&object(body.clone())) {
                Err(error @ SettingsError::Invalid { .. }) => {
                    assert!(
                        error
                            .to_string()
                            .starts_with(&format!("property '{property}': ")),
                        "{body}: {error}"
                    );
                }
                other => panic!("{body}: {other:?}"),
            }
        }
        let multi_line = object(json!({"Expression": "amount < 1 &&\n  vip"}));
        assert!(
            CriterionSettings::from_json(&multi_line).is_ok(),
            "expressions may span lines"
        );
    }

    #[test]
    fn compiling_checks_the_expression_against_the_parameters() {
        assert_eq!(
            CriterionSettings::default().compile().map(|e| e.is_none()),
            Ok(true)
        );
        let compiled = refund_settings()
            .compile()
            .expect("compiles")
            .expect("an expression");
        assert_eq!(compiled.source(), "amount <= limits.auto_refund");
        let typo = refund_settings()
            .patched(&object(
                json!({"Expression": "amount <= limits.auto_refnd"}),
            ))
            .expect("patches");
        match typo.compile() {
            Err(SettingsError::Expression(e)) => assert_eq!(e.position, Some(11)),
            other => panic!("{other:?}"),
        }
        let error = typo.compile().expect_err("unknown parameter").to_string();
        assert!(
            error.starts_with("property 'Expression': unknown parameter"),
            "{error}"
        );
    }

    #[test]
    fn settings_read_as_a_sentence() {
        assert_eq!(
            refund_settings().readable().as_deref(),
            Some(
                "When amount <= limits.auto_refund (with limits.auto_refund = 50): auto_refund; otherwise: manual_review. Priority 10."
            )
        );
        let bare =
            CriterionSettings::from_json(&object(json!({"Expression": "vip"}))).expect("valid");
        assert_eq!(
            bare.readable().as_deref(),
            Some("When vip: true. Priority 100.")
        );
        assert_eq!(CriterionSettings::default().readable(), None);
    }

    #[test]
    fn changes_name_the_properties_that_differ() {
        let settings = refund_settings();
        assert!(settings.changes(&settings).is_empty());
        let next = settings
            .patched(&object(
                json!({"Parameters": {"limits.auto_refund": 75}, "Priority": null}),
            ))
            .expect("valid");
        assert_eq!(settings.changes(&next), ["Parameters", "Priority"]);
        assert_eq!(
            CriterionSettings::default().changes(&settings),
            CriterionSettings::PROPERTIES
        );
    }
}
