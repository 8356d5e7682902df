//! The window a statistic is computed over, and the dimensions it can be broken down by.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::record::Timestamp;

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// A half-open stretch of time `[start, end)` with `start < end`: an event at `end` belongs
/// to the next window, so consecutive windows count every event once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    start: Timestamp,
    end: Timestamp,
}

/// A window whose end is not after its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("WindowEnd must be after WindowStart")]
pub struct WindowError;

impl Window {
    /// The window `[start, end)`; refused unless `start < end`.
    pub fn new(start: Timestamp, end: Timestamp) -> Result<Self, WindowError> {
        if start < end {
            Ok(Self { start, end })
        } else {
            Err(WindowError)
        }
    }

    /// The `days` days before `end`: the default window is `last_days(now, 30)`.
    pub fn last_days(end: Timestamp, days: u32) -> Result<Self, WindowError> {
        let start = end
            .as_micros()
            .saturating_sub(i64::from(days).saturating_mul(MICROS_PER_DAY));
        Self::new(Timestamp::from_micros(start), end)
    }

    /// The first instant in the window.
    pub fn start(self) -> Timestamp {
        self.start
    }

    /// The first instant after the window.
    pub fn end(self) -> Timestamp {
        self.end
    }

    /// Whether `at` falls in `[start, end)`.
    pub fn contains(self, at: Timestamp) -> bool {
        self.start <= at && at < self.end
    }

    /// The window of equal length just before this one, ending where this one starts. Near
    /// the start of representable time it is cut short; at the very start (where nothing can
    /// come before) it is this window itself.
    pub fn previous(self) -> Self {
        let length = self.end.as_micros().saturating_sub(self.start.as_micros());
        let start = self.start.as_micros().saturating_sub(length);
        Self::new(Timestamp::from_micros(start), self.start).unwrap_or(self)
    }

    /// The window's length in calendar days (fractions allowed).
    pub fn days(self) -> f64 {
        (self.end.as_micros() - self.start.as_micros()) as f64 / MICROS_PER_DAY as f64
    }
}

impl fmt::Display for Window {
    /// `2026-03-01 00:00 to 2026-03-31 00:00 UTC` (seconds shown only when not zero).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&describe(self.start, self.end))
    }
}

/// `2026-03-01 00:00 to 2026-03-31 00:00 UTC`.
pub(super) fn describe(start: Timestamp, end: Timestamp) -> String {
    format!("{} to {} UTC", short(start), short(end))
}

/// `2026-03-01 09:30` from `2026-03-01T09:30:00Z`, keeping seconds when they matter.
fn short(at: Timestamp) -> String {
    let text = at.to_rfc3339();
    let text = text.trim_end_matches('Z').replacen('T', " ", 1);
    match text.strip_suffix(":00") {
        Some(minutes) if minutes.len() == 16 => minutes.to_owned(),
        _ => text,
    }
}

/// What a statistic can be broken down by: the case's labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Dimension {
    /// The case's category (latest reported).
    Category,
    /// The case's priority (latest reported; `normal` when none).
    Priority,
    /// The team: for utilization, effort and money the team of each event; otherwise the
    /// case's team (latest reported).
    Team,
    /// The channel through which the case arrived (first reported).
    Channel,
    /// The agent handling the case (latest reported); effort and money go with the case.
    Agent,
}

impl Dimension {
    /// Every dimension.
    pub const ALL: [Self; 5] = [
        Self::Category,
        Self::Priority,
        Self::Team,
        Self::Channel,
        Self::Agent,
    ];

    /// The name as in the API: `Category`, `Priority`, `Team`, `Channel` or `Agent`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Category => "Category",
            Self::Priority => "Priority",
            Self::Team => "Team",
            Self::Channel => "Channel",
            Self::Agent => "Agent",
        }
    }

    /// Parses a dimension name, ignoring ASCII case; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|d| d.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(micros: i64) -> Timestamp {
        Timestamp::from_micros(micros)
    }

    #[test]
    fn a_window_ending_before_or_at_its_start_is_rejected() {
        assert_eq!(Window::new(at(5), at(5)), Err(WindowError));
        assert_eq!(Window::new(at(6), at(5)), Err(WindowError));
        assert_eq!(
            WindowError.to_string(),
            "WindowEnd must be after WindowStart"
        );
        assert!(Window::new(at(5), at(6)).is_ok());
    }

    #[test]
    fn a_window_is_half_open_and_its_previous_window_has_the_same_length() {
        let window = Window::new(at(100), at(150)).unwrap();
        assert!(window.contains(at(100)) && window.contains(at(149)));
        assert!(!window.contains(at(150)) && !window.contains(at(99)));
        assert_eq!(window.previous(), Window::new(at(50), at(100)).unwrap());
    }

    #[test]
    fn the_last_thirty_days_end_at_the_given_instant() {
        let end = at(40 * MICROS_PER_DAY);
        let window = Window::last_days(end, 30).unwrap();
        assert_eq!(window.start(), at(10 * MICROS_PER_DAY));
        assert_eq!(window.days(), 30.0);
        assert_eq!(
            window.to_string(),
            "1970-01-11 00:00 to 1970-02-10 00:00 UTC"
        );
        assert!(Window::last_days(end, 0).is_err());
    }

    #[test]
    fn dimensions_parse_ignoring_case() {
        assert_eq!(Dimension::parse("team"), Some(Dimension::Team));
        assert_eq!(Dimension::parse("CATEGORY"), Some(Dimension::Category));
        assert_eq!(Dimension::parse("agent"), Some(Dimension::Agent));
        assert_eq!(Dimension::parse("agents"), None);
        assert_eq!(serde_json::to_value(Dimension::Channel).unwrap(), "Channel");
    }
}
