//! JSON as the service accepts it from clients: RFC 8259 plus two rules of I-JSON
//! (RFC 7493). A name appears at most once in an object, since parsers disagree on which of
//! two values wins and a request must mean one thing to every reader of it. No string holds
//! the NUL character (`\u0000`), which PostgreSQL cannot store in text or `jsonb` and many
//! tools take for the end of a string.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::fields::shorten;

/// Well-formed JSON that the service refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// An object names the same property twice (the name cut to 64 characters).
    #[error("property '{0}' appears more than once in one object")]
    DuplicateName(String),
    /// A string or a property name holds `\u0000`.
    #[error("text must not contain the NUL character (\\u0000)")]
    Nul,
}

/// Why bytes are not accepted as JSON.
#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    /// Not JSON at all (or nested deeper than the parser's limit of 128).
    #[error("not valid JSON: {0}")]
    Syntax(#[from] serde_json::Error),
    /// JSON, but refused.
    #[error(transparent)]
    Refused(Refusal),
}

/// Parses one JSON value under the rules above.
pub fn parse(bytes: &[u8]) -> Result<Value, JsonError> {
    let Checked(value) = serde_json::from_slice(bytes)?;
    value.map_err(JsonError::Refused)
}

std::thread_local! {
    /// Set while [`parse_keeping_nul`] runs (on this thread, synchronously).
    static KEEP_NUL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Parses like [`parse`], but keeps the NUL character: for a body of which only some
/// properties are used and the rest ignored. Check what is kept with [`contains_nul`].
pub fn parse_keeping_nul(bytes: &[u8]) -> Result<Value, JsonError> {
    /// Clears the flag however the parse ends.
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            KEEP_NUL.with(|keep| keep.set(false));
        }
    }
    KEEP_NUL.with(|keep| keep.set(true));
    let _reset = Reset;
    parse(bytes)
}

/// Whether a string or a property name in `value` holds the NUL character.
pub fn contains_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(contains_nul),
        Value::Object(map) => map
            .iter()
            .any(|(name, v)| name.contains('\0') || contains_nul(v)),
        _ => false,
    }
}

fn refuses_nul(text: &str) -> bool {
    text.contains('\0') && !KEEP_NUL.with(std::cell::Cell::get)
}

/// A value read under the rules above, or the first rule it breaks. The refusal is a value,
/// not a parse error, so that a caller reading a stream can tell it from broken JSON.
pub(crate) struct Checked(pub(crate) Result<Value, Refusal>);

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CheckedVisitor)
    }
}

struct CheckedVisitor;

fn text(s: String) -> Checked {
    Checked(if refuses_nul(&s) {
        Err(Refusal::Nul)
    } else {
        Ok(Value::String(s))
    })
}

impl<'de> Visitor<'de> for CheckedVisitor {
    type Value = Checked;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Checked, E> {
        Ok(Checked(Ok(Value::Bool(v))))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Checked, E> {
        Ok(Checked(Ok(Value::Number(v.into()))))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Checked, E> {
        Ok(Checked(Ok(Value::Number(v.into()))))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Checked, E> {
        // The parser yields finite numbers only; `null` mirrors serde_json's own `Value`.
        Ok(Checked(Ok(
            Number::from_f64(v).map_or(Value::Null, Value::Number)
        )))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Checked, E> {
        Ok(text(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Checked, E> {
        Ok(text(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Checked, E> {
        Ok(Checked(Ok(Value::Null)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
        let mut items = Vec::new();
        let mut refused = None;
        // Read to the end even after a refusal, so that the parse stays in step.
        while let Some(Checked(item)) = seq.next_element()? {
            match item {
                Ok(value) if refused.is_none() => items.push(value),
                Ok(_) => {}
                Err(why) => {
                    refused.get_or_insert(why);
                }
            }
        }
        Ok(Checked(refused.map_or(Ok(Value::Array(items)), Err)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<Checked, A::Error> {
        let mut object = Map::new();
        let mut refused = None;
        while let Some(name) = entries.next_key::<String>()? {
            let Checked(value) = entries.next_value()?;
            if refused.is_some() {
                continue;
            }
            refused = match value {
                Err(why) => Some(why),
                Ok(_) if refuses_nul(&name) => Some(Refusal::Nul),
                Ok(_) if object.contains_key(&name) => Some(Refusal::DuplicateName(shorten(&name))),
                Ok(value) => {
                    object.insert(name, value);
                    None
                }
            };
        }
        Ok(Checked(refused.map_or(Ok(Value::Object(object)), Err)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refusal(text: &str) -> Option<Refusal> {
        match parse(text.as_bytes()) {
            Err(JsonError::Refused(why)) => Some(why),
            _ => None,
        }
    }

    #[test]
    fn json_within_the_rules_parses_as_serde_json_would() {
        let text =
            r#"{"a": [1, -2, 3.5, 18446744073709551615, true, null, "x\ny"], "b": {"c": {}}}"#;
        let expected: Value = serde_json::from_str(text).unwrap_or_default();
        assert_eq!(parse(text.as_bytes()).ok(), Some(expected));
        assert_eq!(parse(b" \"text\" ").ok(), Some(json!("text")));
    }

    #[test]
    fn a_name_given_twice_in_one_object_is_refused_wherever_it_is() {
        let twice = Some(Refusal::DuplicateName("a".to_owned()));
        assert_eq!(refusal(r#"{"a": 1, "a": 1}"#), twice);
        assert_eq!(
            refusal(r#"{"x": [{"b": 0}, {"a": 1, "b": 2, "a": 3}]}"#),
            twice
        );
        assert!(
            parse(br#"{"a": {"a": 1}, "b": [{"a": 2}]}"#).is_ok(),
            "the same name in different objects is fine"
        );
    }

    #[test]
    fn nul_in_a_string_or_a_name_is_refused() {
        assert_eq!(refusal(r#"{"a": "x\u0000y"}"#), Some(Refusal::Nul));
        assert_eq!(refusal(r#"{"\u0000": 1}"#), Some(Refusal::Nul));
        assert_eq!(refusal(r#"[["\u0000"]]"#), Some(Refusal::Nul));
        let kept = parse_keeping_nul(br#"{"a": ["x\u0000"], "b": 1}"#).expect("kept");
        assert!(contains_nul(&kept));
        assert!(!contains_nul(&kept["b"]));
        assert!(
            parse(br#"{"\u0000": 1}"#).is_err(),
            "parse refuses NUL again"
        );
        assert!(parse(br#"{"a": "tab\t and \u0001 are other matters"}"#).is_ok());
    }

    #[test]
    fn broken_json_and_deep_nesting_are_syntax_errors() {
        for bad in ["{", "{} {}", "[1,]", &"[".repeat(10_000)] {
            assert!(
                matches!(parse(bad.as_bytes()), Err(JsonError::Syntax(_))),
                "{bad:.20}"
            );
        }
    }

    #[test]
    fn a_long_duplicate_name_is_shown_cut_short() {
        let name = "n".repeat(1000);
        let Some(Refusal::DuplicateName(shown)) =
            refusal(&format!(r#"{{"{name}": 1, "{name}": 2}}"#))
        else {
            panic!("refused as a duplicate");
        };
        assert!(shown.chars().count() <= 65, "{shown}");
    }
}
