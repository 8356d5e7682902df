//! The business-hours clock: working hours, weekends, holidays, time zones and clock changes.

use std::time::Duration;

use proptest::prelude::*;
use serde_json::{Value as Json, json};

use super::*;

/// An instant from RFC 3339 text with an offset, e.g. `2026-06-01T10:00:00Z`.
fn at(text: &str) -> Timestamp {
    let t: jiff::Timestamp = text.parse().unwrap();
    Timestamp::from_micros(t.as_microsecond())
}

fn hours(h: f64) -> Duration {
    Duration::from_secs_f64(h * 3600.0)
}

fn calendar(value: Json) -> BusinessCalendar {
    BusinessCalendar::from_json(&value).unwrap()
}

/// Europe/Berlin with one window on every day of the week.
fn berlin_every_day(from: &str, to: &str) -> BusinessCalendar {
    calendar(json!({
        "TimeZone": "Europe/Berlin",
        "WorkingHours": [{"Days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "From": from, "To": to}]
    }))
}

/// The default calendar: UTC, Monday to Friday 09:00–17:00. 2026-06-01 is a Monday.
fn standard() -> BusinessCalendar {
    BusinessCalendar::default()
}

#[test]
fn nothing_is_counted_when_the_end_is_not_after_the_start() {
    let monday_noon = at("2026-06-01T12:00:00Z");
    assert_eq!(
        standard().working_time_between(monday_noon, monday_noon),
        Duration::ZERO
    );
    let earlier = at("2026-06-01T10:00:00Z");
    assert_eq!(
        standard().working_time_between(monday_noon, earlier),
        Duration::ZERO
    );
}

#[test]
fn time_inside_one_window_counts_in_full() {
    let got =
        standard().working_time_between(at("2026-06-01T10:00:00Z"), at("2026-06-01T12:30:00Z"));
    assert_eq!(got, hours(2.5));
}

#[test]
fn a_weekend_between_two_working_days_counts_nothing() {
    let friday_four_pm = at("2026-06-05T16:00:00Z");
    let monday_ten_am = at("2026-06-08T10:00:00Z");
    assert_eq!(
        standard().working_time_between(friday_four_pm, monday_ten_am),
        hours(2.0)
    );
}

#[test]
fn a_holiday_counts_nothing() {
    let (tuesday, thursday) = (at("2026-06-02T16:00:00Z"), at("2026-06-04T10:00:00Z"));
    assert_eq!(
        standard().working_time_between(tuesday, thursday),
        hours(10.0)
    );
    let with_holiday = calendar(json!({"Holidays": ["2026-06-03"]}));
    assert_eq!(
        with_holiday.working_time_between(tuesday, thursday),
        hours(2.0)
    );
}

#[test]
fn several_days_count_each_days_window() {
    let calendar = standard();
    let week =
        calendar.working_time_between(at("2026-06-01T00:00:00Z"), at("2026-06-08T00:00:00Z"));
    assert_eq!(week, hours(40.0));
    let monday_to_thursday =
        calendar.working_time_between(at("2026-06-01T12:00:00Z"), at("2026-06-04T12:00:00Z"));
    assert_eq!(monday_to_thursday, hours(5.0 + 8.0 + 8.0 + 3.0));
}

#[test]
fn several_windows_a_day_count_only_the_open_parts() {
    let split = calendar(json!({"WorkingHours": [
        {"Days": ["mon"], "From": "08:00", "To": "12:00"},
        {"Days": ["mon"], "From": "13:00", "To": "17:00"}
    ]}));
    let got = split.working_time_between(at("2026-06-01T11:00:00Z"), at("2026-06-01T14:00:00Z"));
    assert_eq!(got, hours(2.0));
}

#[test]
fn overlapping_windows_count_once() {
    let overlapping = calendar(json!({"WorkingHours": [
        {"Days": ["mon"], "From": "08:00", "To": "12:00"},
        {"Days": ["mon"], "From": "10:00", "To": "14:00"}
    ]}));
    let got =
        overlapping.working_time_between(at("2026-06-01T00:00:00Z"), at("2026-06-02T00:00:00Z"));
    assert_eq!(got, hours(6.0));
}

#[test]
fn spring_forward_shortens_a_window_over_the_change() {
    let night = berlin_every_day("01:00", "04:00");
    // Local midnight to midnight of 2026-03-29: 00:00 CET is 23:00Z, the next 00:00 CEST 22:00Z.
    let day = night.working_time_between(at("2026-03-28T23:00:00Z"), at("2026-03-29T22:00:00Z"));
    assert_eq!(day, hours(2.0));
    let day_before =
        night.working_time_between(at("2026-03-27T23:00:00Z"), at("2026-03-28T23:00:00Z"));
    assert_eq!(day_before, hours(3.0));
}

#[test]
fn fall_back_lengthens_a_window_over_the_change() {
    let night = berlin_every_day("01:00", "04:00");
    // 2026-10-25 local 00:00 CEST is 22:00Z the day before; the next midnight (CET) is 23:00Z.
    let day = night.working_time_between(at("2026-10-24T22:00:00Z"), at("2026-10-25T23:00:00Z"));
    assert_eq!(day, hours(4.0));
}

#[test]
fn a_normal_working_day_is_unchanged_on_both_clock_changes() {
    let office = berlin_every_day("08:00", "18:00");
    let spring =
        office.working_time_between(at("2026-03-28T23:00:00Z"), at("2026-03-29T22:00:00Z"));
    let autumn =
        office.working_time_between(at("2026-10-24T22:00:00Z"), at("2026-10-25T23:00:00Z"));
    assert_eq!((spring, autumn), (hours(10.0), hours(10.0)));
}

#[test]
fn a_window_inside_the_skipped_hour_is_empty_and_inside_the_repeated_hour_counts_twice() {
    let skipped = berlin_every_day("02:00", "03:00");
    let spring =
        skipped.working_time_between(at("2026-03-28T23:00:00Z"), at("2026-03-29T22:00:00Z"));
    assert_eq!(spring, Duration::ZERO);
    let repeated = berlin_every_day("02:15", "02:45");
    let autumn =
        repeated.working_time_between(at("2026-10-24T22:00:00Z"), at("2026-10-25T23:00:00Z"));
    assert_eq!(autumn, hours(1.0));
}

fn new_york() -> BusinessCalendar {
    calendar(json!({
        "TimeZone": "America/New_York",
        "WorkingHours": [{"Days": ["mon", "tue", "wed", "thu", "fri"], "From": "09:00", "To": "17:00"}]
    }))
}

#[test]
fn a_zone_behind_utc_reads_windows_on_local_days() {
    let ny = new_york();
    // Sunday 20:00 EDT to Monday 11:00 EDT: Monday's window opened at 13:00Z.
    assert_eq!(
        ny.working_time_between(at("2026-06-01T00:00:00Z"), at("2026-06-01T15:00:00Z")),
        hours(2.0)
    );
    // Friday 16:00 to 22:00 EDT, which is already Saturday in UTC.
    assert_eq!(
        ny.working_time_between(at("2026-06-05T20:00:00Z"), at("2026-06-06T02:00:00Z")),
        hours(1.0)
    );
    // In winter (EST, -05:00) the window is 14:00Z to 22:00Z.
    assert_eq!(
        ny.working_time_between(at("2026-01-05T14:00:00Z"), at("2026-01-05T23:00:00Z")),
        hours(8.0)
    );
}

#[test]
fn a_zone_behind_utc_keeps_full_days_across_its_spring_change() {
    // Friday 2026-03-06 is EST, Monday 2026-03-09 is EDT (the change was on Sunday the 8th).
    let got =
        new_york().working_time_between(at("2026-03-06T00:00:00Z"), at("2026-03-10T00:00:00Z"));
    assert_eq!(got, hours(16.0));
}

#[test]
fn adding_working_time_skips_the_weekend() {
    let due = standard().add_working_time(at("2026-06-05T16:00:00Z"), 2.0);
    assert_eq!(due, at("2026-06-08T10:00:00Z"));
}

#[test]
fn adding_working_time_from_outside_hours_starts_at_the_next_opening() {
    let due = standard().add_working_time(at("2026-06-06T12:00:00Z"), 1.0);
    assert_eq!(due, at("2026-06-08T10:00:00Z"));
}

#[test]
fn adding_working_time_that_ends_at_a_closing_gives_the_closing() {
    let due = standard().add_working_time(at("2026-06-01T09:00:00Z"), 8.0);
    assert_eq!(due, at("2026-06-01T17:00:00Z"));
}

#[test]
fn adding_working_time_skips_a_holiday() {
    let with_holiday = calendar(json!({"Holidays": ["2026-06-02"]}));
    let due = with_holiday.add_working_time(at("2026-06-01T16:00:00Z"), 2.0);
    assert_eq!(due, at("2026-06-03T10:00:00Z"));
}

#[test]
fn adding_no_working_time_gives_the_start() {
    let saturday = at("2026-06-06T12:00:00Z");
    assert_eq!(standard().add_working_time(saturday, 0.0), saturday);
    assert_eq!(standard().add_working_time(saturday, -3.0), saturday);
    assert_eq!(standard().add_working_time(saturday, f64::NAN), saturday);
}

#[test]
fn adding_working_time_across_spring_forward_counts_the_short_window() {
    let night = berlin_every_day("01:00", "04:00");
    // 2 h on 2026-03-29, then half an hour from 01:00 CEST (23:00Z) on the 30th.
    let due = night.add_working_time(at("2026-03-28T23:00:00Z"), 2.5);
    assert_eq!(due, at("2026-03-29T23:30:00Z"));
}

#[test]
fn adding_working_time_inverts_working_time_between_on_sample_points() {
    let berlin = calendar(json!({
        "TimeZone": "Europe/Berlin",
        "WorkingHours": [
            {"Days": ["mon", "tue", "wed", "thu", "fri"], "From": "08:00", "To": "12:00"},
            {"Days": ["mon", "tue", "wed", "thu", "fri"], "From": "13:00", "To": "18:00"},
            {"Days": ["sun"], "From": "01:00", "To": "04:00"}
        ],
        "Holidays": ["2026-03-30", "2026-12-25"]
    }));
    let starts = [
        "2026-03-27T15:00:00Z",
        "2026-03-28T23:30:00Z",
        "2026-10-24T20:00:00Z",
        "2026-12-24T10:17:23Z",
    ];
    for start in starts.map(at) {
        for h in [0.25, 1.0, 7.5, 9.0, 40.0, 123.456] {
            let due = berlin.add_working_time(start, h);
            let elapsed = berlin.working_time_between(start, due);
            assert_eq!(
                elapsed.as_micros(),
                (h * 3.6e9).round() as u128,
                "start {start:?}, {h} h"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn adding_then_measuring_gives_back_the_amount(
        start_minutes in 0_i64..(2 * 365 * 24 * 60),
        tenths_of_hours in 1_u32..2_000,
    ) {
        let ny = new_york();
        let start = Timestamp::from_micros(at("2026-01-01T00:00:00Z").as_micros() + start_minutes * 60_000_000);
        let h = f64::from(tenths_of_hours) / 10.0;
        let due = ny.add_working_time(start, h);
        prop_assert_eq!(ny.working_time_between(start, due).as_micros(), (h * 3.6e9).round() as u128);
    }
}

#[test]
fn working_time_is_known_per_instant_and_hour_of_week() {
    let ny = new_york();
    let monday_nine_thirty = at("2026-06-01T13:30:00Z");
    assert!(ny.is_working_time(monday_nine_thirty));
    assert!(!ny.is_working_time(at("2026-06-01T12:59:59Z")));
    assert!(
        !ny.is_working_time(at("2026-06-01T21:00:00Z")),
        "the window closes at 17:00"
    );
    assert_eq!(ny.hour_of_week(monday_nine_thirty), 9);
    assert_eq!(
        ny.hour_of_week(at("2026-06-01T03:30:00Z")),
        167,
        "still Sunday 23:30 in New York"
    );
}

#[test]
fn instants_beyond_the_calendar_range_do_not_panic() {
    let calendar = standard();
    let (min, max) = (
        Timestamp::from_micros(i64::MIN),
        Timestamp::from_micros(i64::MAX),
    );
    assert_eq!(calendar.working_time_between(max, min), Duration::ZERO);
    assert_eq!(
        calendar.add_working_time(max, 1.0),
        Timestamp::from_micros(jiff::Timestamp::MAX.as_microsecond())
    );
    let _ = calendar.hour_of_week(min);
}
