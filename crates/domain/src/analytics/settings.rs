//! What a Performance record asks to be computed over: the extension properties
//! `WindowStart`, `WindowEnd` (RFC 3339) and `Breakdown` (`Category`, `Priority`, `Team`,
//! `Channel` or `Agent`), and how the window is settled when they are not all given.
//!
//! The window in force, given the time of the request `now`:
//!
//! - both given: `[WindowStart, WindowEnd)`;
//! - only `WindowEnd`: the 30 days before it;
//! - only `WindowStart`: from it to now;
//! - neither: the plan's period when `CustomerCaseManagementPlanPeriod` reads as one (a year
//!   `2026`, or an interval of dates `2026-01-01/2026-06-30` in the plan's time zone, the end
//!   date included, or of RFC 3339 date-times), cut off at now; otherwise the last 30 days.
//!
//! "Now" is rounded up to the next whole minute, so that the figures of an open-ended window
//! are the same for every request within a minute (and can be reused, see the server).

use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde_json::{Map, Value as Json};

use super::{Dimension, Window};
use crate::events::parse_instant;
use crate::record::Timestamp;

const MICROS_PER_MINUTE: i64 = 60_000_000;
const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Days of the window when only its end, or nothing usable, is given.
pub const DEFAULT_WINDOW_DAYS: u32 = 30;

/// The longest window accepted, in days (about ten years): the cost of a computation grows
/// with the cases in the window, and its business-hours index with its length.
pub const MAX_WINDOW_DAYS: i64 = 3_660;

/// What a `Breakdown` that names no dimension is told.
const BREAKDOWNS: &str = "must be one of Category, Priority, Team, Channel, Agent";

/// A Performance record's computation settings. Once built, they are valid.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PerformanceSettings {
    /// The first instant of the window, if fixed.
    pub window_start: Option<Timestamp>,
    /// The first instant after the window, if fixed.
    pub window_end: Option<Timestamp>,
    /// The dimension the headline figure is broken down by, if any.
    pub breakdown: Option<Dimension>,
}

/// A setting that cannot be used; the message names the property.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("property '{property}': {problem}")]
pub struct PerformanceSettingsError {
    /// The property at fault.
    pub property: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

impl PerformanceSettingsError {
    fn new(property: &'static str, problem: impl Into<String>) -> Self {
        Self {
            property,
            problem: problem.into(),
        }
    }
}

impl PerformanceSettings {
    /// The extension properties a Performance record takes.
    pub const PROPERTIES: &'static [&'static str] = &["WindowStart", "WindowEnd", "Breakdown"];

    /// Reads the settings from a request body, ignoring its other properties.
    pub fn from_json(body: &Map<String, Json>) -> Result<Self, PerformanceSettingsError> {
        Self::default().patched(body)
    }

    /// These settings with a partial update applied: a property given replaces the current
    /// value, null clears it, absence keeps it. The result is checked as a whole.
    pub fn patched(&self, body: &Map<String, Json>) -> Result<Self, PerformanceSettingsError> {
        let instant = |name: &'static str, current: Option<Timestamp>| match body.get(name) {
            None => Ok(current),
            Some(Json::Null) => Ok(None),
            Some(Json::String(text)) => parse_instant(text)
                .map(Some)
                .map_err(|p| PerformanceSettingsError::new(name, p)),
            Some(_) => Err(PerformanceSettingsError::new(
                name,
                "must be an RFC 3339 date-time string",
            )),
        };
        let breakdown = match body.get("Breakdown") {
            None => self.breakdown,
            Some(Json::Null) => None,
            Some(Json::String(text)) => Some(
                Dimension::parse(text)
                    .ok_or_else(|| PerformanceSettingsError::new("Breakdown", BREAKDOWNS))?,
            ),
            Some(_) => return Err(PerformanceSettingsError::new("Breakdown", BREAKDOWNS)),
        };
        let next = Self {
            window_start: instant("WindowStart", self.window_start)?,
            window_end: instant("WindowEnd", self.window_end)?,
            breakdown,
        };
        if let (Some(start), Some(end)) = (next.window_start, next.window_end) {
            if start >= end {
                return Err(PerformanceSettingsError::new(
                    "WindowEnd",
                    "must be after WindowStart",
                ));
            }
            if end.as_micros() - start.as_micros() > MAX_WINDOW_DAYS * MICROS_PER_DAY {
                return Err(PerformanceSettingsError::new(
                    "WindowEnd",
                    format!("the window may span at most {MAX_WINDOW_DAYS} days"),
                ));
            }
        }
        Ok(next)
    }

    /// The settings that are set, as properties to store or show.
    pub fn to_json(&self) -> Map<String, Json> {
        let mut map = Map::new();
        if let Some(t) = self.window_start {
            map.insert("WindowStart".into(), t.to_rfc3339().into());
        }
        if let Some(t) = self.window_end {
            map.insert("WindowEnd".into(), t.to_rfc3339().into());
        }
        if let Some(d) = self.breakdown {
            map.insert("Breakdown".into(), d.as_str().into());
        }
        map
    }

    /// The window in force at `now` (see the module docs); `plan_period` is the plan's
    /// `CustomerCaseManagementPlanPeriod`, read in `time_zone`.
    pub fn window(
        &self,
        now: Timestamp,
        plan_period: Option<&str>,
        time_zone: &TimeZone,
    ) -> Window {
        let now = rounded_now(now);
        let days_before = |end: Timestamp, days: i64| {
            Timestamp::from_micros(end.as_micros().saturating_sub(days * MICROS_PER_DAY))
        };
        let (start, end) = match (self.window_start, self.window_end) {
            (Some(start), Some(end)) => (start, end),
            (None, Some(end)) => (days_before(end, i64::from(DEFAULT_WINDOW_DAYS)), end),
            (Some(start), None) => (start, now),
            (None, None) => match plan_period.and_then(|p| period(p, time_zone)) {
                Some((start, end)) if start < now => (start, end.min(now)),
                _ => (days_before(now, i64::from(DEFAULT_WINDOW_DAYS)), now),
            },
        };
        let start = start.max(days_before(end, MAX_WINDOW_DAYS));
        Window::new(start, end).unwrap_or_else(|_| {
            // A start not before the end (a fixed start still in the future): the day from it.
            let end = Timestamp::from_micros(start.as_micros().saturating_add(MICROS_PER_DAY));
            Window::new(start, end).unwrap_or_else(|_| {
                Window::last_days(now, DEFAULT_WINDOW_DAYS).expect("the last days before now")
            })
        })
    }
}

/// `now` as the figures and the SLA clocks read it: rounded up to the next whole minute
/// (unchanged when already whole), so every request within a minute sees the same.
pub fn rounded_now(now: Timestamp) -> Timestamp {
    let micros = now.as_micros();
    let rest = micros.rem_euclid(MICROS_PER_MINUTE);
    if rest == 0 {
        now
    } else {
        Timestamp::from_micros(micros.saturating_add(MICROS_PER_MINUTE - rest))
    }
}

/// Reads a plan period: `2026`, `2026-01-01/2026-06-30` (dates in `time_zone`, the end date
/// included) or two RFC 3339 date-times separated by `/`. `None` for anything else.
pub fn period(text: &str, time_zone: &TimeZone) -> Option<(Timestamp, Timestamp)> {
    let text = text.trim();
    let day_start = |date: Date| -> Option<Timestamp> {
        let zoned = date.to_zoned_datetime(time_zone.clone()).ok()?;
        Some(Timestamp::from_micros(zoned.timestamp().as_microsecond()))
    };
    let range = if let Some((from, to)) = text.split_once('/') {
        let (from, to) = (from.trim(), to.trim());
        if let (Ok(from), Ok(to)) = (parse_instant(from), parse_instant(to)) {
            (from, to)
        } else {
            let from: Date = from.parse().ok()?;
            let to: Date = to.parse().ok()?;
            (day_start(from)?, day_start(to.tomorrow().ok()?)?)
        }
    } else if text.len() == 4 && text.bytes().all(|b| b.is_ascii_digit()) {
        let year: i16 = text.parse().ok()?;
        let from = Date::new(year, 1, 1).ok()?;
        let to = Date::new(year.checked_add(1)?, 1, 1).ok()?;
        (day_start(from)?, day_start(to)?)
    } else {
        return None;
    };
    (range.0 < range.1).then_some(range)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(text: &str) -> Timestamp {
        parse_instant(text).expect("instant")
    }

    fn settings(body: Json) -> Result<PerformanceSettings, String> {
        PerformanceSettings::from_json(body.as_object().expect("object")).map_err(|e| e.to_string())
    }

    fn shown(w: Window) -> (String, String) {
        (w.start().to_rfc3339(), w.end().to_rfc3339())
    }

    #[test]
    fn settings_are_read_patched_and_checked_as_a_whole() {
        let s = settings(json!({
            "WindowStart": "2026-06-01T00:00:00+02:00",
            "WindowEnd": "2026-07-01T00:00:00Z",
            "Breakdown": "team",
        }))
        .expect("valid");
        assert_eq!(s.window_start, Some(at("2026-05-31T22:00:00Z")));
        assert_eq!(s.breakdown, Some(Dimension::Team));
        assert_eq!(
            serde_json::Value::Object(s.to_json()),
            json!({"WindowStart": "2026-05-31T22:00:00Z", "WindowEnd": "2026-07-01T00:00:00Z", "Breakdown": "Team"})
        );
        let cleared = s
            .patched(json!({"Breakdown": null}).as_object().expect("object"))
            .expect("valid");
        assert_eq!(cleared.breakdown, None);
        assert_eq!(cleared.window_end, s.window_end);

        let moved_end_before_start = s.patched(
            json!({"WindowEnd": "2026-05-01T00:00:00Z"})
                .as_object()
                .expect("object"),
        );
        assert_eq!(
            moved_end_before_start.map_err(|e| e.to_string()),
            Err("property 'WindowEnd': must be after WindowStart".into())
        );
    }

    #[test]
    fn a_breakdown_by_agent_is_accepted_and_an_unknown_one_lists_the_choices() {
        let s = settings(json!({"Breakdown": "agent"})).expect("valid");
        assert_eq!(s.breakdown, Some(Dimension::Agent));
        assert_eq!(
            settings(json!({"Breakdown": "Customer"})),
            Err(
                "property 'Breakdown': must be one of Category, Priority, Team, Channel, Agent"
                    .into()
            )
        );
    }

    #[test]
    fn bad_settings_name_the_property() {
        for (body, property) in [
            (json!({"WindowStart": "yesterday"}), "WindowStart"),
            (json!({"WindowStart": 5}), "WindowStart"),
            (json!({"WindowEnd": "2026-06-01"}), "WindowEnd"),
            (json!({"Breakdown": "Customer"}), "Breakdown"),
            (json!({"Breakdown": ["Team"]}), "Breakdown"),
            (
                json!({"WindowStart": "1990-01-01T00:00:00Z", "WindowEnd": "2026-01-01T00:00:00Z"}),
                "WindowEnd",
            ),
        ] {
            let err = settings(body.clone()).expect_err("refused");
            assert!(err.contains(&format!("'{property}'")), "{body}: {err}");
        }
    }

    #[test]
    fn the_window_in_force_follows_what_is_given() {
        let utc = TimeZone::UTC;
        let now = at("2026-06-15T10:20:30.5Z");
        let none = PerformanceSettings::default();
        assert_eq!(
            shown(none.window(now, None, &utc)),
            ("2026-05-16T10:21:00Z".into(), "2026-06-15T10:21:00Z".into())
        );
        let only_end = PerformanceSettings {
            window_end: Some(at("2026-03-01T00:00:00Z")),
            ..none
        };
        assert_eq!(
            shown(only_end.window(now, None, &utc)),
            ("2026-01-30T00:00:00Z".into(), "2026-03-01T00:00:00Z".into())
        );
        let only_start = PerformanceSettings {
            window_start: Some(at("2026-06-01T00:00:00Z")),
            ..none
        };
        assert_eq!(
            shown(only_start.window(now, None, &utc)),
            ("2026-06-01T00:00:00Z".into(), "2026-06-15T10:21:00Z".into())
        );
        let future_start = PerformanceSettings {
            window_start: Some(at("2026-07-01T00:00:00Z")),
            ..none
        };
        assert_eq!(
            shown(future_start.window(now, None, &utc)),
            ("2026-07-01T00:00:00Z".into(), "2026-07-02T00:00:00Z".into())
        );
    }

    #[test]
    fn a_plan_period_sets_the_default_window_cut_off_at_now() {
        let berlin = TimeZone::get("Europe/Berlin").expect("zone");
        let now = at("2026-06-15T10:20:00Z");
        let none = PerformanceSettings::default();
        assert_eq!(
            shown(none.window(now, Some("2026"), &berlin)),
            ("2025-12-31T23:00:00Z".into(), "2026-06-15T10:20:00Z".into())
        );
        assert_eq!(
            shown(none.window(now, Some("2026-01-01/2026-03-31"), &berlin)),
            ("2025-12-31T23:00:00Z".into(), "2026-03-31T22:00:00Z".into())
        );
        assert_eq!(
            shown(none.window(
                now,
                Some("2026-02-01T00:00:00Z/2026-02-08T00:00:00Z"),
                &berlin
            )),
            ("2026-02-01T00:00:00Z".into(), "2026-02-08T00:00:00Z".into())
        );
        // Free text, a period not yet begun, or a backwards one: the last 30 days.
        for text in ["FY 2026", "2027", "2026-03-01/2026-01-01"] {
            assert_eq!(
                shown(none.window(now, Some(text), &berlin)),
                ("2026-05-16T10:20:00Z".into(), "2026-06-15T10:20:00Z".into()),
                "{text}"
            );
        }
    }
}
