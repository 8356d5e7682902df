//! An index of a business calendar's working time over a range of days, built once per
//! computation so that a case's business-hours duration is two look-ups rather than a walk
//! through the calendar and its time zone's rules.
//!
//! For each local date in the range the index keeps the instant the day starts and the
//! working time before it (both from the calendar's own clock, so they agree with it by
//! construction), and, for a day with one fixed UTC offset, its working windows as instants.
//! Within such a day, working time up to an instant is read off the windows; on a day with a
//! clock change — or any day whose windows do not add up to the clock's total — the clock
//! itself is asked. Instants outside the range are also left to the clock. The result is the
//! same as [`BusinessCalendar::working_time_between`] in every case (a property test checks).

use crate::plan::BusinessCalendar;
use crate::record::Timestamp;

const MICROS_PER_MINUTE: i64 = 60_000_000;
const MICROS_PER_DAY: i64 = 86_400_000_000;

/// The most days indexed (about eleven years, the latest kept); a few megabytes at most.
const MAX_DAYS: i64 = 4_000;

/// One local date of the index.
#[derive(Debug, Clone, Copy)]
struct Day {
    /// The instant the day starts (local midnight) and the next day starts.
    start: i64,
    end: i64,
    /// Working microseconds from the start of the index to `start`.
    before: i64,
    /// The day's windows as instants: `windows[first..first + count]`.
    first: u32,
    count: u32,
    /// Whether the windows can be trusted for instants within the day.
    exact: bool,
}

/// Working time of one calendar over a range of days; see the module docs.
pub(super) struct WorkClock<'a> {
    calendar: &'a BusinessCalendar,
    days: Vec<Day>,
    windows: Vec<(i64, i64)>,
}

impl<'a> WorkClock<'a> {
    /// Indexes the local days from the one holding `from` to the one holding `to`.
    pub fn new(calendar: &'a BusinessCalendar, from: Timestamp, to: Timestamp) -> Self {
        let mut clock = Self {
            calendar,
            days: Vec::new(),
            windows: Vec::new(),
        };
        let to = to.as_micros();
        let from = from
            .as_micros()
            .max(to.saturating_sub(MAX_DAYS * MICROS_PER_DAY));
        let tz = calendar.time_zone();
        let Ok(at) = jiff::Timestamp::from_microsecond(from) else {
            return clock;
        };
        let micros = |z: jiff::ZonedDateTime| z.timestamp().as_microsecond();
        let offset = |at: i64| {
            jiff::Timestamp::from_microsecond(at)
                .ok()
                .map(|t| tz.to_offset(t))
        };
        let mut date = at.to_zoned_datetime(tz.clone()).date();
        let mut before = 0;
        while let (Ok(start), Ok(next)) = (date.to_zoned_datetime(tz.clone()), date.tomorrow()) {
            let Ok(end) = next.to_zoned_datetime(tz.clone()) else {
                break;
            };
            let (start, end) = (micros(start), micros(end));
            if start > to {
                break;
            }
            let full = micros_between(calendar, start, end);
            let first = clock.windows.len();
            let fixed = end - start == MICROS_PER_DAY && offset(start) == offset(end - 1);
            if fixed && calendar.holidays().binary_search(&date).is_err() {
                for &(open, close) in calendar.windows_on(date.weekday()) {
                    clock.windows.push((
                        start + i64::from(open) * MICROS_PER_MINUTE,
                        start + i64::from(close) * MICROS_PER_MINUTE,
                    ));
                }
            }
            let listed: i64 = clock.windows[first..].iter().map(|(a, b)| b - a).sum();
            clock.days.push(Day {
                start,
                end,
                before,
                first: u32::try_from(first).unwrap_or(u32::MAX),
                count: u32::try_from(clock.windows.len() - first).unwrap_or(0),
                exact: listed == full,
            });
            before += full;
            date = next;
        }
        clock
    }

    /// The working time between two instants, in microseconds; zero when `end` is not after
    /// `start`. Equal to the calendar's [`working_time_between`](BusinessCalendar::working_time_between).
    pub fn between(&self, start: Timestamp, end: Timestamp) -> i64 {
        if end <= start {
            return 0;
        }
        match (self.since_first(start), self.since_first(end)) {
            (Some(a), Some(b)) => b - a,
            _ => micros_between(self.calendar, start.as_micros(), end.as_micros()),
        }
    }

    /// Working microseconds from the start of the index to `at`; `None` outside the index.
    fn since_first(&self, at: Timestamp) -> Option<i64> {
        let at = at.as_micros();
        let (first, last) = (self.days.first()?, self.days.last()?);
        if at < first.start || at >= last.end {
            return None;
        }
        // Days are about 24 h long, so the estimate is off by a step at most, except around
        // a skipped or repeated date; the loops settle it either way.
        let mut i = usize::try_from((at - first.start) / MICROS_PER_DAY)
            .unwrap_or(0)
            .min(self.days.len() - 1);
        while self.days[i].start > at {
            i -= 1;
        }
        while self.days[i].end <= at {
            i += 1;
        }
        let day = self.days[i];
        let within = if day.exact {
            let from = day.first as usize;
            self.windows[from..from + day.count as usize]
                .iter()
                .map(|&(open, close)| at.clamp(open, close) - open)
                .sum()
        } else {
            micros_between(self.calendar, day.start, at)
        };
        Some(day.before + within)
    }
}

/// The calendar's own answer, in microseconds.
fn micros_between(calendar: &BusinessCalendar, start: i64, end: i64) -> i64 {
    let time =
        calendar.working_time_between(Timestamp::from_micros(start), Timestamp::from_micros(end));
    i64::try_from(time.as_micros()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::analytics::test_support::at;

    /// Berlin with a split day, a Saturday morning, a night window across the clock changes
    /// and holidays: every path of the index.
    fn berlin() -> BusinessCalendar {
        BusinessCalendar::from_json(&json!({
            "TimeZone": "Europe/Berlin",
            "WorkingHours": [
                {"Days": ["mon", "tue", "wed", "thu", "fri"], "From": "08:00", "To": "12:30"},
                {"Days": ["mon", "tue", "wed", "thu", "fri"], "From": "13:30", "To": "18:00"},
                {"Days": ["sat"], "From": "09:00", "To": "12:00"},
                {"Days": ["sun"], "From": "01:00", "To": "04:00"}
            ],
            "Holidays": ["2026-04-03", "2026-04-06", "2026-12-25"]
        }))
        .unwrap()
    }

    proptest! {
        #[test]
        fn the_index_agrees_with_the_calendar_clock(
            a in 0i64..(400 * MICROS_PER_DAY),
            length in 0i64..(30 * MICROS_PER_DAY),
        ) {
            let calendar = berlin();
            let origin = at("2026-01-01T00:00:00Z").as_micros();
            // The index covers March to November 2026; instants outside use the clock.
            let clock = WorkClock::new(&calendar, at("2026-03-01T00:00:00Z"), at("2026-11-30T00:00:00Z"));
            let (start, end) = (Timestamp::from_micros(origin + a), Timestamp::from_micros(origin + a + length));
            prop_assert_eq!(clock.between(start, end), micros_between(&calendar, start.as_micros(), end.as_micros()));
        }
    }

    #[test]
    fn days_with_a_clock_change_are_left_to_the_calendar() {
        let calendar = berlin();
        let clock = WorkClock::new(
            &calendar,
            at("2026-03-27T00:00:00Z"),
            at("2026-03-31T00:00:00Z"),
        );
        let inexact: Vec<i64> = clock
            .days
            .iter()
            .filter(|d| !d.exact)
            .map(|d| d.start)
            .collect();
        // Sunday 2026-03-29 has a window inside the change (01:00–04:00 lasts 2 h that night).
        assert_eq!(inexact, [at("2026-03-28T23:00:00Z").as_micros()]);
        let night = clock.between(at("2026-03-29T00:00:00Z"), at("2026-03-29T02:00:00Z"));
        assert_eq!(night, 2 * 3_600_000_000);
        assert_eq!(
            clock.between(at("2026-03-30T00:00:00Z"), at("2026-03-29T00:00:00Z")),
            0
        );
    }
}
