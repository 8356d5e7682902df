//! The business-hours clock: how much working time of a [`BusinessCalendar`] lies between two
//! instants, and when a given amount of working time will have elapsed (an SLA due time).
//!
//! **What counts.** An instant is working time when the wall clock in the calendar's zone
//! shows a time inside one of the windows of that local day of the week, and that local date
//! is no holiday. Working time is real elapsed time, so clock changes are honoured as they
//! happen:
//!
//! - spring forward (Europe/Berlin 2026-03-29, 02:00 → 03:00): a 01:00–04:00 window is 2 h
//!   long, a window inside the skipped hour (02:00–03:00) is empty;
//! - fall back (Europe/Berlin 2026-10-25, 03:00 → 02:00): a 01:00–04:00 window is 4 h long,
//!   and a window inside the repeated hour counts on both passes (02:15–02:45 is 1 h);
//! - a window away from the change (08:00–18:00) is 10 h as on any day.
//!
//! **How.** The range is cut at the zone's transitions; within each piece the offset is fixed,
//! so local time is the instant plus that offset and each local day's windows map back to
//! instants directly. Cost: `O(days spanned × windows per day + transitions)`, independent of
//! the length of the windows.

use std::ops::ControlFlow;
use std::time::Duration;

use super::BusinessCalendar;
use crate::record::Timestamp;

const MICROS_PER_MINUTE: i64 = 60_000_000;
const MICROS_PER_HOUR: f64 = 3_600_000_000.0;
const MICROS_PER_DAY: i64 = 86_400_000_000;

impl BusinessCalendar {
    /// The working time between `start` and `end`; zero when `end` is not after `start`.
    pub fn working_time_between(&self, start: Timestamp, end: Timestamp) -> Duration {
        let mut total: u64 = 0;
        self.walk(start, end, |from, to| {
            total += (to - from).unsigned_abs();
            ControlFlow::Continue(())
        });
        Duration::from_micros(total)
    }

    /// The instant at which `hours` of working time will have elapsed since `start` (to the
    /// microsecond): the due time of an SLA started at `start`. Time before the next opening
    /// does not count, so from a Saturday one working hour ends an hour after Monday's
    /// opening; an amount that ends exactly at a closing gives the closing, not the next
    /// opening. Zero, negative or NaN `hours` give `start`. The inverse of
    /// [`working_time_between`](Self::working_time_between):
    /// `working_time_between(start, add_working_time(start, h)) == h`.
    pub fn add_working_time(&self, start: Timestamp, hours: f64) -> Timestamp {
        if hours.is_nan() {
            return start;
        }
        // `as` saturates, so an absurd amount runs to the end of representable time.
        self.add_working_micros(start, (hours * MICROS_PER_HOUR).round() as i64)
    }

    /// [`add_working_time`](Self::add_working_time) in whole microseconds of working time,
    /// for callers that keep exact integer durations (the SLA clocks).
    pub fn add_working_micros(&self, start: Timestamp, micros: i64) -> Timestamp {
        let mut remaining = micros;
        if remaining <= 0 {
            return start;
        }
        let last = jiff::Timestamp::MAX.as_microsecond();
        let mut due = last;
        self.walk(start, Timestamp::from_micros(last), |from, to| {
            if to - from >= remaining {
                due = from + remaining;
                ControlFlow::Break(())
            } else {
                remaining -= to - from;
                ControlFlow::Continue(())
            }
        });
        Timestamp::from_micros(due)
    }

    /// Whether `at` is working time.
    pub fn is_working_time(&self, at: Timestamp) -> bool {
        let next = Timestamp::from_micros(at.as_micros().saturating_add(1));
        !self.working_time_between(at, next).is_zero()
    }

    /// The local hour of the week of `at` in the calendar's zone: 0 for Monday 00:00–00:59,
    /// 167 for Sunday 23:00–23:59. For bucketing arrivals by hour of the working week.
    pub fn hour_of_week(&self, at: Timestamp) -> u8 {
        let local = self.local_micros(at.as_micros());
        let day = local.div_euclid(MICROS_PER_DAY);
        let hour = local.rem_euclid(MICROS_PER_DAY) / (60 * MICROS_PER_MINUTE);
        u8::try_from(weekday_of(day) as i64 * 24 + hour).unwrap_or(0)
    }

    /// The wall-clock time of `at` in the calendar's zone, as microseconds since local
    /// 1970-01-01 00:00.
    fn local_micros(&self, at: i64) -> i64 {
        let at = clamp(at);
        let offset = jiff::Timestamp::from_microsecond(at)
            .map(|t| self.time_zone().to_offset(t).seconds())
            .unwrap_or(0);
        at + i64::from(offset) * 1_000_000
    }

    /// Calls `visit(from, to)` with each stretch of working time in `[start, end)`, in order,
    /// as microseconds since the epoch, until it breaks.
    fn walk(
        &self,
        start: Timestamp,
        end: Timestamp,
        mut visit: impl FnMut(i64, i64) -> ControlFlow<()>,
    ) {
        let tz = self.time_zone();
        let end = clamp(end.as_micros());
        let mut piece_start = clamp(start.as_micros());
        while piece_start < end {
            let Ok(at) = jiff::Timestamp::from_microsecond(piece_start) else {
                return;
            };
            let offset = i64::from(tz.to_offset(at).seconds()) * 1_000_000;
            let next_change = tz
                .following(at)
                .next()
                .map_or(i64::MAX, |t| t.timestamp().as_microsecond());
            let piece_end = next_change.min(end);
            // Within the piece the offset is fixed: local = instant + offset.
            let (local_start, local_end) = (piece_start + offset, piece_end + offset);
            let first_day = local_start.div_euclid(MICROS_PER_DAY);
            let last_day = (local_end - 1).div_euclid(MICROS_PER_DAY);
            for day in first_day..=last_day {
                if self.holiday_days.binary_search(&day).is_ok() {
                    continue;
                }
                let midnight = day * MICROS_PER_DAY;
                for &(open, close) in &self.week[weekday_of(day)] {
                    let from = (midnight + i64::from(open) * MICROS_PER_MINUTE).max(local_start);
                    let to = (midnight + i64::from(close) * MICROS_PER_MINUTE).min(local_end);
                    if from < to && visit(from - offset, to - offset).is_break() {
                        return;
                    }
                }
            }
            piece_start = piece_end;
        }
    }
}

/// Monday-zero day of the week of a day counted from 1970-01-01 (a Thursday).
fn weekday_of(day: i64) -> usize {
    // rem_euclid(7) is in 0..7, so the cast cannot truncate.
    (day + 3).rem_euclid(7) as usize
}

/// Keeps an instant inside the range the time-zone library can convert (years ±9999).
fn clamp(micros: i64) -> i64 {
    micros.clamp(
        jiff::Timestamp::MIN.as_microsecond(),
        jiff::Timestamp::MAX.as_microsecond(),
    )
}

#[cfg(test)]
#[path = "clock_tests.rs"]
mod tests;
