//! Amounts of money: a decimal value (sent as a string, never a float) and an ISO 4217
//! currency code.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::{Value as Json, json};

/// An amount such as `{"Value": "12.50", "Currency": "EUR"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amount {
    /// The value.
    pub value: Decimal,
    /// Three upper-case letters.
    pub currency: String,
}

/// Why an amount was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AmountError(String);

impl Amount {
    /// Parses `{"Value": "12.50", "Currency": "EUR"}`.
    pub fn parse(value: &Json) -> Result<Self, AmountError> {
        let object = value
            .as_object()
            .ok_or_else(|| AmountError("must be an object with Value and Currency".into()))?;
        if let Some(other) = object.keys().find(|k| *k != "Value" && *k != "Currency") {
            return Err(AmountError(format!(
                "unknown property '{}'",
                other.chars().take(64).collect::<String>()
            )));
        }
        let text = object.get("Value").and_then(Json::as_str).ok_or_else(|| {
            AmountError("Value must be a decimal number written as a string, e.g. \"12.50\"".into())
        })?;
        if text.len() > 40 {
            return Err(AmountError("Value is too long".into()));
        }
        if !is_plain_decimal(text) {
            return Err(AmountError(format!(
                "Value '{text}' is not a decimal number such as \"12.50\" or \"-3\""
            )));
        }
        let value = Decimal::from_str(text)
            .map_err(|_| AmountError(format!("Value '{text}' is not a decimal number")))?;
        let currency = object
            .get("Currency")
            .and_then(Json::as_str)
            .filter(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()))
            .ok_or_else(|| {
                AmountError("Currency must be a three-letter ISO 4217 code, e.g. \"EUR\"".into())
            })?;
        Ok(Self {
            value,
            currency: currency.to_owned(),
        })
    }

    /// As JSON.
    pub fn to_json(&self) -> Json {
        json!({"Value": self.value.to_string(), "Currency": self.currency})
    }
}

/// Digits with an optional leading minus and an optional fraction: what `Decimal` reads,
/// without the signs, separators and exponents it would also take.
fn is_plain_decimal(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    [whole, fraction]
        .iter()
        .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.currency, self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_decimal_strings_with_a_currency() {
        let amount = Amount::parse(&json!({"Value": "12.50", "Currency": "EUR"})).expect("valid");
        assert_eq!(amount.to_string(), "EUR 12.50");
        assert_eq!(Amount::parse(&amount.to_json()), Ok(amount));
    }

    #[test]
    fn floats_unknown_currencies_and_extra_properties_are_refused() {
        for bad in [
            json!({"Value": 12.5, "Currency": "EUR"}),
            json!({"Value": "12,50", "Currency": "EUR"}),
            json!({"Value": "1", "Currency": "euro"}),
            json!({"Value": "1", "Currency": "EUR", "Rate": 1}),
            json!({"Value": "1e3", "Currency": "EUR"}),
            json!({"Value": "+1", "Currency": "EUR"}),
            json!({"Value": "1_000", "Currency": "EUR"}),
            json!({"Value": ".5", "Currency": "EUR"}),
            json!({"Value": "5.", "Currency": "EUR"}),
            json!({"Value": " 5", "Currency": "EUR"}),
            json!({"Value": "", "Currency": "EUR"}),
            json!({"Value": "1".repeat(41), "Currency": "EUR"}),
            json!({"Value": "1".repeat(35), "Currency": "EUR"}),
            json!({"Value": "1", "Currency": "EU"}),
            json!({"Value": "1"}),
            json!("12.50"),
        ] {
            assert!(Amount::parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_scale_is_kept_and_negative_amounts_are_allowed() {
        for text in [
            "0",
            "-3",
            "1240.00",
            "0.001",
            "79228162514264337593543950335",
        ] {
            let amount = Amount::parse(&json!({"Value": text, "Currency": "USD"})).expect(text);
            assert_eq!(amount.value.to_string(), text);
            assert_eq!(amount.to_json()["Value"], json!(text));
        }
    }
}
