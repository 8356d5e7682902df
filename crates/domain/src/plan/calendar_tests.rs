//! Parsing, writing and summarising business calendars.

use serde_json::{Value as Json, json};

use super::*;

fn parse(value: Json) -> Result<BusinessCalendar, PlanSettingsError> {
    BusinessCalendar::from_json(&value)
}

fn error(value: Json) -> String {
    parse(value).unwrap_err().to_string()
}

#[test]
fn a_full_calendar_round_trips() {
    let given = json!({
        "TimeZone": "Europe/Berlin",
        "WorkingHours": [
            {"Days": ["mon", "tue", "wed", "thu", "fri"], "From": "08:00", "To": "18:00"},
            {"Days": ["sat"], "From": "09:00", "To": "24:00"}
        ],
        "Holidays": ["2026-12-25"]
    });
    let calendar = parse(given.clone()).unwrap();
    assert_eq!(calendar.to_json(), given);
    assert_eq!(calendar.weekly_working_hours(), 65.0);
}

#[test]
fn left_out_properties_come_from_the_default_calendar() {
    let calendar = parse(json!({"Holidays": ["2026-01-01"]})).unwrap();
    assert_eq!(calendar.time_zone_name(), "UTC");
    assert_eq!(calendar.windows_on(Weekday::Monday), &[(9 * 60, 17 * 60)]);
    assert!(calendar.windows_on(Weekday::Saturday).is_empty());
}

#[test]
fn an_unknown_time_zone_is_named() {
    let err = error(json!({"TimeZone": "Mars/Olympus"}));
    assert_eq!(
        err,
        "BusinessCalendar.TimeZone: unknown time zone 'Mars/Olympus'"
    );
}

#[test]
fn the_unknown_zone_placeholder_is_not_a_time_zone() {
    let err = error(json!({"TimeZone": "Etc/Unknown"}));
    assert_eq!(
        err,
        "BusinessCalendar.TimeZone: unknown time zone 'Etc/Unknown'"
    );
}

#[test]
fn a_time_zone_name_is_stored_in_its_canonical_spelling() {
    let calendar = parse(json!({"TimeZone": "america/new_york"})).unwrap();
    assert_eq!(calendar.time_zone_name(), "America/New_York");
}

#[test]
fn a_window_whose_from_is_not_before_its_to_is_named_by_index() {
    let err = error(json!({"WorkingHours": [{"Days": ["mon"], "From": "18:00", "To": "08:00"}]}));
    assert_eq!(
        err,
        "BusinessCalendar.WorkingHours[0]: From 18:00 is not before To 08:00"
    );
}

#[test]
fn a_malformed_time_is_named() {
    for bad in ["8:00", "25:00", "12:60", "24:01", "noon"] {
        let err = error(json!({"WorkingHours": [{"Days": ["mon"], "From": bad, "To": "18:00"}]}));
        assert_eq!(
            err,
            format!("BusinessCalendar.WorkingHours[0].From: '{bad}' is not a time HH:MM")
        );
    }
}

#[test]
fn an_unknown_day_is_named_by_index() {
    let err = error(
        json!({"WorkingHours": [{"Days": ["mon", "funday"], "From": "08:00", "To": "18:00"}]}),
    );
    assert!(
        err.starts_with("BusinessCalendar.WorkingHours[0].Days[1]: unknown day 'funday'"),
        "{err}"
    );
}

#[test]
fn full_day_names_in_any_case_are_accepted() {
    let calendar = parse(
        json!({"WorkingHours": [{"Days": ["Monday", "SUN"], "From": "08:00", "To": "09:00"}]}),
    )
    .unwrap();
    assert_eq!(
        calendar.working_hours()[0].days(),
        &[Weekday::Monday, Weekday::Sunday]
    );
}

#[test]
fn a_calendar_without_working_hours_is_rejected() {
    let err = error(json!({"WorkingHours": []}));
    assert_eq!(
        err,
        "BusinessCalendar.WorkingHours: must have at least one window"
    );
    let err = error(json!({"WorkingHours": [{"Days": [], "From": "08:00", "To": "09:00"}]}));
    assert_eq!(
        err,
        "BusinessCalendar.WorkingHours[0].Days: must name at least one day"
    );
}

#[test]
fn more_than_seven_windows_a_day_are_rejected() {
    let windows: Vec<Json> = (0..8)
        .map(|h| json!({"Days": ["tue"], "From": format!("{:02}:00", h), "To": format!("{:02}:30", h)}))
        .collect();
    let err = error(json!({"WorkingHours": windows}));
    assert_eq!(
        err,
        "BusinessCalendar.WorkingHours: more than 7 windows on Tue"
    );
}

#[test]
fn overlapping_and_touching_windows_are_merged() {
    let calendar = parse(json!({"WorkingHours": [
        {"Days": ["mon"], "From": "08:00", "To": "12:00"},
        {"Days": ["mon"], "From": "10:00", "To": "13:00"},
        {"Days": ["mon"], "From": "13:00", "To": "14:00"},
        {"Days": ["mon"], "From": "15:00", "To": "16:00"}
    ]}))
    .unwrap();
    assert_eq!(
        calendar.windows_on(Weekday::Monday),
        &[(480, 840), (900, 960)]
    );
}

#[test]
fn a_malformed_holiday_is_named_by_index() {
    for bad in ["2026-13-01", "2026-12-25T00:00", "25.12.2026"] {
        let err = error(json!({"Holidays": ["2026-12-24", bad]}));
        assert_eq!(
            err,
            format!("BusinessCalendar.Holidays[1]: '{bad}' is not a date YYYY-MM-DD")
        );
    }
}

#[test]
fn more_than_a_thousand_holidays_are_rejected() {
    let many: Vec<String> = (0..1001).map(|_| "2026-01-01".to_owned()).collect();
    let err = error(json!({"Holidays": many}));
    assert_eq!(err, "BusinessCalendar.Holidays: at most 1000 holidays");
}

#[test]
fn an_unknown_property_is_named() {
    let err = error(json!({"Timezone": "UTC"}));
    assert!(
        err.starts_with("BusinessCalendar.Timezone: unknown property"),
        "{err}"
    );
}

#[test]
fn the_summary_groups_days_with_the_same_windows() {
    let calendar = parse(json!({
        "TimeZone": "Europe/Berlin",
        "WorkingHours": [
            {"Days": ["mon", "tue", "wed", "fri"], "From": "08:00", "To": "12:00"},
            {"Days": ["mon", "tue", "wed", "fri"], "From": "13:00", "To": "17:00"},
            {"Days": ["sat"], "From": "09:00", "To": "12:00"}
        ],
        "Holidays": ["2026-12-31", "2026-01-01", "2026-04-03", "2026-12-25"]
    }))
    .unwrap();
    assert_eq!(
        calendar.readable(),
        "Mon–Wed & Fri 08:00–12:00 and 13:00–17:00, Sat 09:00–12:00 Europe/Berlin; \
         4 holidays (2026-01-01 to 2026-12-31)"
    );
}

#[test]
fn the_summary_names_a_single_holiday() {
    let calendar = parse(json!({"Holidays": ["2026-12-25", "2026-12-25"]})).unwrap();
    assert_eq!(
        calendar.readable(),
        "Mon–Fri 09:00–17:00 UTC; 1 holiday (2026-12-25)"
    );
}

#[test]
fn days_since_the_epoch_match_known_dates() {
    assert_eq!(days_since_epoch(Date::constant(1970, 1, 1)), 0);
    assert_eq!(days_since_epoch(Date::constant(2000, 3, 1)), 11_017);
    assert_eq!(days_since_epoch(Date::constant(1969, 12, 31)), -1);
    assert_eq!(days_since_epoch(Date::constant(2026, 12, 25)), 20_812);
}
