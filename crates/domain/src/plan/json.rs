//! Reading typed values out of a JSON document, with errors that name the property path
//! (`BusinessCalendar.WorkingHours[0].From`), and writing numbers back the way a client
//! would have written them.

use serde_json::{Map, Value as Json};

use super::PlanSettingsError;

/// The path of a property below `parent`.
pub(super) fn child(parent: &str, key: &str) -> String {
    format!("{parent}.{key}")
}

/// The path of an array element below `parent`.
pub(super) fn index(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

/// The value as an object.
pub(super) fn object<'a>(
    value: &'a Json,
    path: &str,
) -> Result<&'a Map<String, Json>, PlanSettingsError> {
    value
        .as_object()
        .ok_or_else(|| PlanSettingsError::new(path, "must be an object"))
}

/// The value as an array.
pub(super) fn array<'a>(value: &'a Json, path: &str) -> Result<&'a [Json], PlanSettingsError> {
    value
        .as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| PlanSettingsError::new(path, "must be an array"))
}

/// The value as a string.
pub(super) fn string<'a>(value: &'a Json, path: &str) -> Result<&'a str, PlanSettingsError> {
    value
        .as_str()
        .ok_or_else(|| PlanSettingsError::new(path, "must be a string"))
}

/// The value as a finite number.
pub(super) fn number(value: &Json, path: &str) -> Result<f64, PlanSettingsError> {
    value
        .as_f64()
        .filter(|n| n.is_finite())
        .ok_or_else(|| PlanSettingsError::new(path, "must be a number"))
}

/// A property that must be present and not null.
pub(super) fn required<'a>(
    map: &'a Map<String, Json>,
    key: &str,
    parent: &str,
) -> Result<&'a Json, PlanSettingsError> {
    optional(map, key).ok_or_else(|| PlanSettingsError::new(child(parent, key), "is required"))
}

/// A property that may be absent; null counts as absent.
pub(super) fn optional<'a>(map: &'a Map<String, Json>, key: &str) -> Option<&'a Json> {
    map.get(key).filter(|v| !v.is_null())
}

/// Refuses properties other than `allowed`, so that a misspelt name is reported rather than
/// silently ignored.
pub(super) fn only_known(
    map: &Map<String, Json>,
    allowed: &[&str],
    parent: &str,
) -> Result<(), PlanSettingsError> {
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(unknown) => Err(PlanSettingsError::new(
            child(parent, unknown),
            format!("unknown property; expected one of {}", allowed.join(", ")),
        )),
        None => Ok(()),
    }
}

/// A number as JSON, written as an integer when it is one (`12`, not `12.0`).
pub(super) fn number_json(n: f64) -> Json {
    // i64 range check first: `as` saturates, and whole numbers that large stay floats.
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Json::from(n as i64)
    } else {
        Json::from(n)
    }
}

/// A number for people: at most two decimals, no trailing zeros (`6.5`, `12`, `0.33`).
pub(super) fn readable_number(n: f64) -> String {
    let rounded = (n * 100.0).round() / 100.0;
    // `Display` of f64 prints the shortest text that reads back the same: `12`, `6.5`.
    format!("{}", rounded + 0.0)
}

/// A fraction as a percentage for people (`0.95` → `95%`).
pub(super) fn readable_percent(fraction: f64) -> String {
    format!("{}%", readable_number(fraction * 100.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_are_written_without_a_fraction() {
        assert_eq!(number_json(12.0).to_string(), "12");
        assert_eq!(number_json(6.5).to_string(), "6.5");
    }

    #[test]
    fn readable_numbers_keep_at_most_two_decimals() {
        assert_eq!(readable_number(6.5), "6.5");
        assert_eq!(readable_number(1.0), "1");
        assert_eq!(readable_number(1.0 / 3.0), "0.33");
        assert_eq!(readable_percent(0.95), "95%");
        assert_eq!(readable_percent(0.3), "30%");
    }

    #[test]
    fn an_unknown_property_is_named_with_its_path() {
        let map = serde_json::json!({"Team": "x", "Agentz": 1});
        let map = map.as_object().unwrap();
        let err = only_known(map, &["Team", "Agents"], "ResourcePlan.Teams[0]").unwrap_err();
        assert_eq!(err.path(), "ResourcePlan.Teams[0].Agentz");
    }
}
