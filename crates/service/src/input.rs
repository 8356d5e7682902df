//! Checks of a JSON input object shared by the operations: which properties it may carry and
//! the optional texts in it.

use caseload_domain::TEXT_MAX_CHARS;
use serde_json::{Map, Value};

use crate::ServiceError;

/// An optional text property of at most [`TEXT_MAX_CHARS`].
pub fn optional_text(
    body: &Map<String, Value>,
    name: &str,
) -> Result<Option<String>, ServiceError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.chars().count() <= TEXT_MAX_CHARS => {
            Ok(Some(text.clone()))
        }
        Some(Value::String(_)) => Err(ServiceError::invalid_property(
            name,
            format!("property '{name}' is longer than {TEXT_MAX_CHARS} characters"),
        )),
        Some(_) => Err(ServiceError::invalid_property(
            name,
            format!("property '{name}' must be a string"),
        )),
    }
}

/// Refuses properties other than `allowed`, naming the first.
pub fn only(body: &Map<String, Value>, allowed: &[&str]) -> Result<(), ServiceError> {
    match body.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(name) => {
            let shown: String = name.chars().filter(|c| !c.is_control()).take(64).collect();
            Err(ServiceError::invalid_property(
                shown.clone(),
                format!(
                    "unknown property '{shown}'; expected {}",
                    allowed.join(", ")
                ),
            ))
        }
        None => Ok(()),
    }
}
