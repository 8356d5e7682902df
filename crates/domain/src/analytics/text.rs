//! How figures are written: instants and decimals in the JSON form of [`Statistics`]
//! (RFC 3339 text, decimal text — never a float for money), and numbers for people.
//!
//! [`Statistics`]: super::Statistics

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

use crate::events::parse_occurred_at;
use crate::record::Timestamp;

/// `#[serde(with = "rfc3339")]`: a [`Timestamp`] as RFC 3339 text in UTC.
pub(super) mod rfc3339 {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(at: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&at.to_rfc3339())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(d)?;
        parse_occurred_at(&text).map_err(D::Error::custom)
    }
}

/// `#[serde(with = "decimal")]`: a [`Decimal`] as text such as `"-12.50"`.
pub(super) mod decimal {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(value: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&value.to_string())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        let text = String::deserialize(d)?;
        Decimal::from_str(&text).map_err(D::Error::custom)
    }
}

/// A count with thousands separators: `1,234,567`.
pub(super) fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A number with one decimal, trailing `.0` dropped: `6.5`, `12`, `-0.3`.
pub(super) fn number(n: f64) -> String {
    let rounded = (n * 10.0).round() / 10.0;
    // `+ 0.0` turns -0.0 into 0.0 so that nothing prints as "-0".
    format!("{}", rounded + 0.0)
}

/// A fraction as a percentage with one decimal: `0.9125` → `91.3%`.
pub(super) fn percent(fraction: f64) -> String {
    format!("{}%", number(fraction * 100.0))
}

/// A difference of fractions in percentage points: `-0.052` → `5.2 points`.
pub(super) fn points(difference: f64) -> String {
    let magnitude = number(difference.abs() * 100.0);
    let unit = if magnitude == "1" { "point" } else { "points" };
    format!("{magnitude} {unit}")
}

/// `1 case`, `3 cases`.
pub(super) fn cases(n: u64) -> String {
    if n == 1 {
        "1 case".to_owned()
    } else {
        format!("{} cases", count(n))
    }
}

/// How a figure moved: `up 12.5%`, `down 3 points`, `unchanged`.
pub(super) fn change(previous: f64, current: f64, as_points: bool) -> String {
    let delta = current - previous;
    if delta.abs() < 1e-12 {
        return "unchanged".to_owned();
    }
    let direction = if delta > 0.0 { "up" } else { "down" };
    if as_points {
        format!("{direction} {}", points(delta))
    } else if previous != 0.0 {
        format!("{direction} {}", percent((delta / previous).abs()))
    } else {
        format!("{direction} from 0")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_for_people_are_short_and_grouped() {
        assert_eq!(count(0), "0");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(123), "123");
        assert_eq!(number(6.54), "6.5");
        assert_eq!(number(12.0), "12");
        assert_eq!(number(-0.01), "0");
        assert_eq!(percent(0.9125), "91.3%");
        assert_eq!(points(-0.052), "5.2 points");
        assert_eq!(points(0.01), "1 point");
        assert_eq!(cases(1), "1 case");
        assert_eq!(change(10.0, 11.25, false), "up 12.5%");
        assert_eq!(change(0.5, 0.45, true), "down 5 points");
        assert_eq!(change(2.0, 2.0, false), "unchanged");
    }
}
