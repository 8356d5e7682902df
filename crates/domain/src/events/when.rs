//! `OccurredAt`: an RFC 3339 date-time with an explicit offset (`Z` or `±hh:mm`), turned into
//! a [`Timestamp`] in UTC. The offset itself is not kept; precision below a microsecond is
//! dropped. Moments before 1970 or after 9999 (in UTC) are refused: the first cannot be a
//! case this service tracked, the second cannot be written back in RFC 3339.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::EventError;
use crate::record::Timestamp;

/// The last accepted moment, `9999-12-31T23:59:59.999999Z`, in microseconds since the epoch.
pub const MAX_OCCURRED_AT_MICROS: i64 = 253_402_300_799_999_999;

/// Parses RFC 3339 text such as `2026-03-02T09:15:00+01:00` into a UTC [`Timestamp`]; the
/// error names `OccurredAt`.
pub fn parse_occurred_at(text: &str) -> Result<Timestamp, EventError> {
    parse_instant(text).map_err(|problem| EventError::invalid("OccurredAt", problem))
}

/// Parses RFC 3339 text with an explicit offset into a UTC [`Timestamp`] in the years 1970 to
/// 9999; the error says what is wrong with the text.
pub fn parse_instant(text: &str) -> Result<Timestamp, &'static str> {
    // Long enough for nanoseconds and an offset; longer text is not RFC 3339 anyway and
    // would only make the error message long.
    let parsed = (text.len() <= 64)
        .then(|| OffsetDateTime::parse(text, &Rfc3339).ok())
        .flatten()
        .ok_or("not an RFC 3339 date-time with offset, e.g. 2026-03-02T09:15:00+01:00")?;
    // Computed from the instant, never by changing the offset, which could leave the range
    // of dates the time crate represents.
    let micros = parsed.unix_timestamp_nanos().div_euclid(1_000);
    i64::try_from(micros)
        .ok()
        .filter(|m| (0..=MAX_OCCURRED_AT_MICROS).contains(m))
        .map(Timestamp::from_micros)
        .ok_or("must fall in the years 1970 to 9999 (UTC)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn micros(text: &str) -> Result<i64, String> {
        parse_occurred_at(text)
            .map(Timestamp::as_micros)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn offsets_are_applied_and_the_result_is_in_utc() {
        assert_eq!(micros("1970-01-01T01:00:00+01:00"), Ok(0));
        assert_eq!(
            micros("2026-03-02T09:15:00.5Z"),
            micros("2026-03-02T10:15:00.5+01:00")
        );
        let t = parse_occurred_at("2026-03-02T10:15:00.123456+01:00").expect("valid");
        assert_eq!(t.to_rfc3339(), "2026-03-02T09:15:00.123456Z");
    }

    #[test]
    fn a_space_may_stand_for_the_t_as_rfc_3339_allows() {
        assert_eq!(
            micros("2026-03-02 09:15:00Z"),
            micros("2026-03-02T09:15:00Z")
        );
    }

    #[test]
    fn nanoseconds_are_cut_to_microseconds() {
        assert_eq!(micros("1970-01-01T00:00:00.000001999Z"), Ok(1));
    }

    #[test]
    fn dates_without_offset_or_not_rfc_3339_are_refused() {
        for bad in [
            "2026-03-02T09:15:00",
            "2026-03-02",
            "02/03/2026 09:15",
            "2026-02-30T09:15:00Z",
            "",
        ] {
            assert_eq!(
                micros(bad),
                Err("OccurredAt: not an RFC 3339 date-time with offset, \
                     e.g. 2026-03-02T09:15:00+01:00"
                    .to_owned()),
                "{bad}"
            );
        }
    }

    #[test]
    fn moments_before_1970_or_after_9999_in_utc_are_refused() {
        for bad in [
            "1969-12-31T23:59:59.999999Z",
            "1970-01-01T00:30:00+01:00",
            "9999-12-31T23:00:00-02:00",
        ] {
            assert_eq!(
                micros(bad),
                Err("OccurredAt: must fall in the years 1970 to 9999 (UTC)".to_owned()),
                "{bad}"
            );
        }
        assert_eq!(
            micros("9999-12-31T23:59:59.999999Z"),
            Ok(MAX_OCCURRED_AT_MICROS)
        );
    }
}
