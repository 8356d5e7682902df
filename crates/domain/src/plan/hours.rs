//! The weekly working hours of a business calendar: local times of day and the entries of
//! `WorkingHours` (`{"Days": ["mon", "tue"], "From": "08:00", "To": "18:00"}`), as parsed
//! and as summarised for people.

use jiff::civil::Weekday;
use serde_json::{Map, Value as Json};

use super::PlanSettingsError;
use super::json;

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const FULL_DAY_NAMES: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];
pub(super) const READABLE_DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// A local time of day to the minute, `00:00` to `24:00` (the end of the day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalTime(u16);

impl LocalTime {
    /// The end of the day, `24:00`.
    pub const END_OF_DAY: Self = Self(24 * 60);

    /// From minutes since midnight, at most `24 * 60`.
    pub(super) const fn from_minutes(minutes: u16) -> Self {
        Self(minutes)
    }

    /// Parses `HH:MM` (two digits each), from `00:00` to `24:00`.
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        if bytes.len() != 5 || bytes[2] != b':' {
            return None;
        }
        let two = |a: u8, b: u8| {
            (a.is_ascii_digit() && b.is_ascii_digit())
                .then(|| u16::from(a - b'0') * 10 + u16::from(b - b'0'))
        };
        let (hour, minute) = (two(bytes[0], bytes[1])?, two(bytes[3], bytes[4])?);
        let minutes = hour * 60 + minute;
        (minute < 60 && minutes <= 24 * 60).then_some(Self(minutes))
    }

    /// Minutes since local midnight.
    pub fn minutes(self) -> u16 {
        self.0
    }
}

impl std::fmt::Display for LocalTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

/// One entry of `WorkingHours`: the days it applies to and a window on each of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingHours {
    days: Vec<Weekday>,
    from: LocalTime,
    to: LocalTime,
}

impl WorkingHours {
    /// An entry from parts already checked: days sorted and each once, `from < to`.
    pub(super) fn new(days: Vec<Weekday>, from: LocalTime, to: LocalTime) -> Self {
        Self { days, from, to }
    }

    /// The days, Monday first, each once.
    pub fn days(&self) -> &[Weekday] {
        &self.days
    }

    /// When the window opens, local time.
    pub fn from(&self) -> LocalTime {
        self.from
    }

    /// When the window closes, local time; after [`from`](Self::from).
    pub fn to(&self) -> LocalTime {
        self.to
    }

    pub(super) fn from_json(value: &Json, path: &str) -> Result<Self, PlanSettingsError> {
        let map = json::object(value, path)?;
        json::only_known(map, &["Days", "From", "To"], path)?;
        let days_path = json::child(path, "Days");
        let mut days = Vec::new();
        for (i, day) in json::array(json::required(map, "Days", path)?, &days_path)?
            .iter()
            .enumerate()
        {
            let day_path = json::index(&days_path, i);
            let name = json::string(day, &day_path)?;
            days.push(parse_day(name).ok_or_else(|| {
                PlanSettingsError::new(
                    day_path,
                    format!("unknown day '{name}'; expected mon, tue, wed, thu, fri, sat or sun"),
                )
            })?);
        }
        if days.is_empty() {
            return Err(PlanSettingsError::new(
                days_path,
                "must name at least one day",
            ));
        }
        days.sort_by_key(|d| d.to_monday_zero_offset());
        days.dedup();
        let time = |key: &str| {
            let key_path = json::child(path, key);
            let text = json::string(json::required(map, key, path)?, &key_path)?;
            LocalTime::parse(text).ok_or_else(|| {
                PlanSettingsError::new(key_path, format!("'{text}' is not a time HH:MM"))
            })
        };
        let (from, to) = (time("From")?, time("To")?);
        if from >= to {
            return Err(PlanSettingsError::new(
                path,
                format!("From {from} is not before To {to}"),
            ));
        }
        Ok(Self { days, from, to })
    }

    pub(super) fn to_json(&self) -> Json {
        let days = self.days.iter().map(|d| Json::from(day_name(*d))).collect();
        let mut map = Map::new();
        map.insert("Days".into(), Json::Array(days));
        map.insert("From".into(), Json::from(self.from.to_string()));
        map.insert("To".into(), Json::from(self.to.to_string()));
        Json::Object(map)
    }
}

fn parse_day(name: &str) -> Option<Weekday> {
    let i = DAY_NAMES
        .iter()
        .position(|d| d.eq_ignore_ascii_case(name))
        .or_else(|| {
            FULL_DAY_NAMES
                .iter()
                .position(|d| d.eq_ignore_ascii_case(name))
        })?;
    Weekday::from_monday_zero_offset(i8::try_from(i).ok()?).ok()
}

fn day_name(day: Weekday) -> &'static str {
    DAY_NAMES[day.to_monday_zero_offset() as usize]
}

/// `Mon–Fri`, `Sat`, `Mon–Wed & Fri`: runs of consecutive days.
pub(super) fn readable_days(days: &[usize]) -> String {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for &d in days {
        match runs.last_mut() {
            Some(run) if run.1 + 1 == d => run.1 = d,
            _ => runs.push((d, d)),
        }
    }
    let runs: Vec<String> = runs
        .iter()
        .map(|&(a, b)| {
            if a == b {
                READABLE_DAYS[a].to_owned()
            } else {
                format!("{}–{}", READABLE_DAYS[a], READABLE_DAYS[b])
            }
        })
        .collect();
    runs.join(" & ")
}
