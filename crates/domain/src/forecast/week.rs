//! The business calendar seen as the projections need it: local days (counted from
//! 1970-01-01 in the calendar's zone), the working minutes of each hour of the week, and
//! which days are working days.
//!
//! An **hour of the week** is a local clock hour, 0 for Monday 00:00–01:00 to 167 for Sunday
//! 23:00–24:00, as [`BusinessCalendar::hour_of_week`] numbers them. Its working minutes come
//! from the calendar's windows for that day of the week; on the two days a year the clocks
//! change, local hours are taken as they are written (the skipped or repeated hour is not
//! corrected for), which moves at most one hour's share.

use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::plan::BusinessCalendar;
use crate::record::Timestamp;

pub(super) const MICROS_PER_MINUTE: i64 = 60_000_000;
pub(super) const MICROS_PER_DAY: i64 = 86_400_000_000;
/// Hours in a week.
pub(super) const HOURS: usize = 168;
/// Days of the week, Monday first.
pub(super) const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// A calendar indexed for the projections; see the module docs.
pub(super) struct WorkWeek<'a> {
    calendar: &'a BusinessCalendar,
    /// Working minutes of each hour of the week.
    minutes: [u16; HOURS],
    /// Working minutes of each day of the week, Monday first.
    day_minutes: [u32; 7],
    /// The holidays as local days, sorted.
    holidays: Vec<i64>,
}

impl<'a> WorkWeek<'a> {
    pub fn new(calendar: &'a BusinessCalendar) -> Self {
        let mut minutes = [0u16; HOURS];
        let mut day_minutes = [0u32; 7];
        for (weekday, total) in day_minutes.iter_mut().enumerate() {
            for &(open, close) in windows(calendar, weekday) {
                *total += u32::from(close - open);
                for hour in usize::from(open / 60)..usize::from(close.div_ceil(60)) {
                    // Hours are whole minutes 60·h..60·(h+1); the window covers part of it.
                    let start = open.max(hour as u16 * 60);
                    let end = close.min(hour as u16 * 60 + 60);
                    minutes[weekday * 24 + hour] += end.saturating_sub(start);
                }
            }
        }
        let holidays = calendar
            .holidays()
            .iter()
            .filter_map(|d| day_of(*d))
            .collect();
        Self {
            calendar,
            minutes,
            day_minutes,
            holidays,
        }
    }

    pub fn time_zone(&self) -> &TimeZone {
        self.calendar.time_zone()
    }

    /// The local day and minute of the day of `at`.
    pub fn local(&self, at: Timestamp) -> (i64, u16) {
        let micros = at.as_micros().clamp(
            jiff::Timestamp::MIN.as_microsecond(),
            jiff::Timestamp::MAX.as_microsecond(),
        );
        let offset = jiff::Timestamp::from_microsecond(micros)
            .map(|t| self.time_zone().to_offset(t).seconds())
            .unwrap_or(0);
        let local = micros + i64::from(offset) * 1_000_000;
        let minute = local.rem_euclid(MICROS_PER_DAY) / MICROS_PER_MINUTE;
        // rem_euclid keeps the minute in 0..1440.
        (local.div_euclid(MICROS_PER_DAY), minute as u16)
    }

    /// The merged working windows of a day of the week, in minutes since local midnight.
    pub fn windows(&self, weekday: usize) -> &[(u16, u16)] {
        windows(self.calendar, weekday)
    }

    /// Whether the local day has working time: its day of the week has windows and it is
    /// no holiday.
    pub fn is_working_day(&self, day: i64) -> bool {
        self.day_minutes[weekday(day)] > 0 && self.holidays.binary_search(&day).is_err()
    }

    /// Whether the local day is a holiday of the calendar.
    pub fn is_holiday(&self, day: i64) -> bool {
        self.holidays.binary_search(&day).is_ok()
    }

    /// Working minutes of an hour of the week.
    pub fn slot_minutes(&self, hour_of_week: usize) -> u16 {
        self.minutes[hour_of_week]
    }

    /// Working minutes of a day of the week (no holidays).
    pub fn day_minutes(&self, weekday: usize) -> u32 {
        self.day_minutes[weekday]
    }

    /// The hours of the week of one day of the week that have working time.
    pub fn slots_of(&self, weekday: usize) -> impl Iterator<Item = usize> + '_ {
        (weekday * 24..weekday * 24 + 24).filter(|&h| self.minutes[h] > 0)
    }

    /// Every hour of the week that has working time, Monday first.
    pub fn working_slots(&self) -> impl Iterator<Item = usize> + '_ {
        (0..HOURS).filter(|&h| self.minutes[h] > 0)
    }
}

fn windows(calendar: &BusinessCalendar, weekday: usize) -> &[(u16, u16)] {
    let day = match weekday {
        0 => jiff::civil::Weekday::Monday,
        1 => jiff::civil::Weekday::Tuesday,
        2 => jiff::civil::Weekday::Wednesday,
        3 => jiff::civil::Weekday::Thursday,
        4 => jiff::civil::Weekday::Friday,
        5 => jiff::civil::Weekday::Saturday,
        _ => jiff::civil::Weekday::Sunday,
    };
    calendar.windows_on(day)
}

/// The day of the week, Monday zero, of a day counted from 1970-01-01 (a Thursday).
pub(super) fn weekday(day: i64) -> usize {
    // rem_euclid(7) is in 0..7, so the cast cannot truncate.
    (day + 3).rem_euclid(7) as usize
}

/// The day counted from 1970-01-01 of a civil date.
pub(super) fn day_of(date: Date) -> Option<i64> {
    date.to_zoned_datetime(TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp().as_second().div_euclid(86_400))
}

/// The civil date of a day counted from 1970-01-01.
pub(super) fn date_of(day: i64) -> Option<Date> {
    let seconds = day.checked_mul(86_400)?;
    jiff::Timestamp::from_second(seconds)
        .ok()
        .map(|t| t.to_zoned_datetime(TimeZone::UTC).date())
}

/// `2026-06-08`, or an empty string for a day outside the representable years.
pub(super) fn date_text(day: i64) -> String {
    date_of(day).map(|d| d.to_string()).unwrap_or_default()
}

/// An hour of the week for people: `Mon 09:00–10:00`.
pub(super) fn interval_label(hour_of_week: usize) -> String {
    let hour = hour_of_week % 24;
    format!(
        "{} {hour:02}:00–{:02}:00",
        WEEKDAYS[(hour_of_week / 24) % 7],
        hour + 1
    )
}
