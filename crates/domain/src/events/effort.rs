//! `EffortMinutes`: the working time an event stands for (time an agent spent on the case
//! for this step), a JSON number of minutes, fractions allowed.

use std::fmt;

use serde_json::Value as Json;

use super::EventError;

/// The most minutes one event may claim: about ten weeks of round-the-clock work, far above
/// any real step, low enough that sums over a million events stay exact in an `f64`.
pub const MAX_EFFORT_MINUTES: f64 = 100_000.0;

/// Minutes of effort, from 0 to [`MAX_EFFORT_MINUTES`]; never negative, never NaN.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct EffortMinutes(f64);

impl EffortMinutes {
    /// Parses minutes of effort; the error names `EffortMinutes`.
    pub fn new(minutes: f64) -> Result<Self, EventError> {
        if (0.0..=MAX_EFFORT_MINUTES).contains(&minutes) {
            // `-0.0` passes the range check; adding zero makes it a plain zero.
            Ok(Self(minutes + 0.0))
        } else {
            Err(Self::refusal())
        }
    }

    /// Parses a JSON number of minutes; strings such as `"15"` are refused.
    pub fn from_json(value: &Json) -> Result<Self, EventError> {
        value.as_f64().ok_or_else(Self::refusal).and_then(Self::new)
    }

    /// The minutes.
    pub fn as_f64(self) -> f64 {
        self.0
    }

    /// As JSON: a whole number when the minutes are whole (`15`, not `15.0`).
    pub fn to_json(self) -> Json {
        if self.0.fract() == 0.0 {
            // Whole and within 0..=100,000, so the conversion is exact.
            Json::from(self.0 as u64)
        } else {
            Json::from(self.0)
        }
    }

    fn refusal() -> EventError {
        EventError::invalid(
            "EffortMinutes",
            format!("must be a number of minutes from 0 to {MAX_EFFORT_MINUTES}"),
        )
    }
}

impl fmt::Display for EffortMinutes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} min", self.0)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn whole_and_fractional_minutes_round_trip() {
        for value in [json!(0), json!(15), json!(2.5), json!(100_000)] {
            let effort = EffortMinutes::from_json(&value).expect("valid");
            assert_eq!(effort.to_json(), value);
        }
        assert_eq!(EffortMinutes::new(-0.0).map(|e| e.to_json()), Ok(json!(0)));
    }

    #[test]
    fn negative_excessive_and_non_numeric_effort_is_refused() {
        for bad in [
            json!(-1),
            json!(-0.01),
            json!(100_000.5),
            json!("15"),
            json!(null),
        ] {
            assert_eq!(
                EffortMinutes::from_json(&bad).map_err(|e| e.to_string()),
                Err("EffortMinutes: must be a number of minutes from 0 to 100000".to_owned()),
                "{bad}"
            );
        }
        assert!(EffortMinutes::new(f64::NAN).is_err());
        assert!(EffortMinutes::new(f64::INFINITY).is_err());
    }
}
