//! The forecast of arrivals: the seasonal model, its fallbacks, the calendar and time zones.

use proptest::prelude::*;
use serde_json::{Value as Json, json};

use super::test_support::{DAY, HOUR, Labels, at, case, close, plus, settings, weekly};
use super::*;
use crate::plan::PlanSettings;

const WEEKDAYS_ONLY: [u32; 7] = [100, 100, 100, 100, 100, 0, 0];

/// Eight weeks of 100 cases a weekday from Monday 2026-04-06, none at weekends.
fn eight_weeks() -> Vec<CaseTimeline> {
    weekly(
        "c",
        "2026-04-06T00:00:00Z",
        8,
        WEEKDAYS_ONLY,
        Labels::default(),
    )
}

/// Monday 2026-06-01, the day after the eight weeks.
fn monday() -> Timestamp {
    at("2026-06-01T06:00:00Z")
}

#[test]
fn a_weekly_pattern_is_forecast_back_to_that_pattern() {
    let p = project(&eight_weeks(), &PlanSettings::default(), monday(), 2);
    assert_eq!(p.method, Method::MstlEts);
    assert_eq!(
        (p.from.as_str(), p.to.as_str()),
        ("2026-06-01", "2026-06-14")
    );
    assert_eq!(p.history_days, 56, "Monday 2026-04-06 to Sunday 2026-05-31");
    assert_eq!(p.history_arrivals, 4000);
    assert_eq!(p.daily.len(), 14);
    for d in &p.daily {
        if matches!(d.weekday, "Sat" | "Sun") {
            assert_eq!(d.arrivals, 0.0, "{d:?}");
            assert_eq!(d.working_hours, 0.0);
        } else {
            assert!(close(d.arrivals, 100.0, 5.0), "{d:?}");
            assert_eq!(d.working_hours, 8.0);
            let (low, high) = (d.low.unwrap(), d.high.unwrap());
            assert!(low <= d.arrivals && d.arrivals <= high, "{d:?}");
        }
    }
    assert!(close(p.expected_arrivals_per_week, 500.0, 20.0));
    assert_eq!(p.prediction_level, Some(0.95));
}

#[test]
fn the_same_input_gives_the_same_projections() {
    let cases = eight_weeks();
    let a = project(&cases, &PlanSettings::default(), monday(), 4);
    let b = project(&cases, &PlanSettings::default(), monday(), 4);
    assert_eq!(a, b);
    assert_eq!(readable_projections(&a), readable_projections(&b));
}

#[test]
fn projections_serialise_with_pascal_case_properties() {
    let p = project(&eight_weeks(), &PlanSettings::default(), monday(), 1);
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["Method"], "mstl-ets");
    assert_eq!(json["GeneratedAt"], "2026-06-01T06:00:00Z");
    assert_eq!(json["From"], "2026-06-01");
    assert_eq!(json["Daily"][0]["Date"], "2026-06-01");
    assert!(json["Daily"][0]["Low"].is_number());
    assert_eq!(json["HourOfWeek"][0]["Interval"], "Mon 09:00–10:00");
    assert_eq!(json["Teams"], json!([]));
    assert_eq!(json["Reallocation"]["AttainmentBefore"], Json::Null);
}

#[test]
fn a_short_history_falls_back_to_the_mean_per_day_of_the_week() {
    // Two weeks: Mondays 30, other weekdays 10.
    let cases = weekly(
        "s",
        "2026-05-18T00:00:00Z",
        2,
        [30, 10, 10, 10, 10, 0, 0],
        Labels::default(),
    );
    let p = project(&cases, &PlanSettings::default(), monday(), 1);
    assert_eq!(p.method, Method::WeekdayMean);
    assert_eq!(p.history_days, 14);
    let arrivals: Vec<f64> = p.daily.iter().map(|d| d.arrivals).collect();
    assert_eq!(arrivals, [30.0, 10.0, 10.0, 10.0, 10.0, 0.0, 0.0]);
    assert!(p.daily.iter().all(|d| d.low.is_none() && d.high.is_none()));
    assert!(readable_projections(&p).contains("too little history"));
}

#[test]
fn no_history_forecasts_zero_with_method_none() {
    let p = project::<CaseTimeline>(&[], &PlanSettings::default(), monday(), 3);
    assert_eq!(p.method, Method::None);
    assert_eq!((p.history_days, p.history_arrivals), (0, 0));
    assert_eq!(p.history_from, None);
    assert_eq!(p.daily.len(), 21);
    assert!(p.daily.iter().all(|d| d.arrivals == 0.0));
    assert!(
        p.hour_of_week
            .iter()
            .all(|h| h.share == 0.0 && h.arrivals == 0.0)
    );
    assert_eq!(p.expected_arrivals_per_week, 0.0);
    let text = readable_projections(&p);
    assert!(text.contains("zero arrivals"), "{text}");
    assert!(text.contains("No resource plan"), "{text}");
}

#[test]
fn cases_only_in_the_future_or_long_ago_are_no_history() {
    let future = case("f", at("2026-06-02T10:00:00Z"), Labels::default());
    let old = case("o", at("2025-01-06T10:00:00Z"), Labels::default());
    let p = project(&[future, old], &PlanSettings::default(), monday(), 1);
    assert_eq!(p.method, Method::None);
}

#[test]
fn a_holiday_gets_no_arrivals_and_no_staff_and_its_work_moves_to_the_next_day() {
    let plan = settings(json!({
        "BusinessCalendar": {"Holidays": ["2026-06-03"]},
        "ResourcePlan": {"Teams": [
            {"Team": "all", "Agents": 10, "ProductiveHoursPerDay": 8, "Shrinkage": 0}
        ]}
    }));
    let p = project(&eight_weeks(), &plan, monday(), 1);
    let wednesday = &p.daily[2];
    assert_eq!(wednesday.date, "2026-06-03");
    assert_eq!(wednesday.arrivals, 0.0);
    assert_eq!(wednesday.working_hours, 0.0);
    assert_eq!(wednesday.required_agent_hours, Some(0.0));
    assert_eq!(wednesday.available_agent_hours, Some(0.0));
    let thursday = &p.daily[3];
    assert!(close(thursday.arrivals, 200.0, 10.0), "{thursday:?}");
    assert!(thursday.required_agent_hours.unwrap() > p.daily[1].required_agent_hours.unwrap());
    assert!(p.daily[1].required_agent_hours.unwrap() > 0.0);
}

#[test]
fn a_past_holiday_does_not_lower_the_forecast_for_its_day_of_the_week() {
    // Monday 2026-05-25 was a holiday: no cases reached the queue, none were opened.
    let cases: Vec<CaseTimeline> = eight_weeks()
        .into_iter()
        .filter(|c| !c.case_id().as_str().starts_with("c-7-0-"))
        .collect();
    let plan = settings(json!({"BusinessCalendar": {"Holidays": ["2026-05-25"]}}));
    let p = project(&cases, &plan, monday(), 1);
    assert!(close(p.daily[0].arrivals, 100.0, 5.0), "{:?}", p.daily[0]);
}

#[test]
fn cases_opened_while_closed_are_worked_from_the_next_opening_within_the_target() {
    // Without targets the answer time is 4 hours: a case waiting at the opening is spread
    // over the first four working hours. One arrives in working time, on Tuesday at 14:10.
    let cases = vec![
        case("sat", at("2026-05-30T11:00:00Z"), Labels::default()),
        case("late", at("2026-05-28T20:00:00Z"), Labels::default()),
        case("tue", at("2026-05-26T14:10:00Z"), Labels::default()),
    ];
    let p = project(
        &cases,
        &PlanSettings::default(),
        at("2026-06-08T06:00:00Z"),
        1,
    );
    let busy: Vec<(&str, f64)> = p
        .hour_of_week
        .iter()
        .filter(|h| h.share > 0.0)
        .map(|h| (h.interval.as_str(), h.share))
        .collect();
    let quarter = 1.0 / 12.0;
    assert_eq!(
        busy,
        [
            ("Mon 09:00–10:00", quarter),
            ("Mon 10:00–11:00", quarter),
            ("Mon 11:00–12:00", quarter),
            ("Mon 12:00–13:00", quarter),
            ("Tue 14:00–15:00", 1.0 / 3.0),
            ("Fri 09:00–10:00", quarter),
            ("Fri 10:00–11:00", quarter),
            ("Fri 11:00–12:00", quarter),
            ("Fri 12:00–13:00", quarter),
        ]
    );
    assert!(p.hour_of_week.iter().all(|h| h.working_minutes > 0));
    assert_eq!(p.hour_of_week.len(), 40);
}

#[test]
fn a_backlog_is_spread_no_further_than_the_end_of_the_day() {
    let plan = settings(json!({
        "ServiceLevelTargets": {
            "normal": {"FirstResponseHours": 40, "ResolutionHours": 80, "AttainmentGoal": 0.9}
        },
        "BusinessCalendar": {"WorkingHours": [
            {"Days": ["mon", "tue", "wed", "thu", "fri"], "From": "09:30", "To": "12:00"}
        ]}
    }));
    let p = project(
        &[case("sat", at("2026-05-30T11:00:00Z"), Labels::default())],
        &plan,
        at("2026-06-08T06:00:00Z"),
        1,
    );
    let busy: Vec<(&str, u16, f64)> = p
        .hour_of_week
        .iter()
        .filter(|h| h.share > 0.0)
        .map(|h| (h.interval.as_str(), h.working_minutes, h.share))
        .collect();
    assert_eq!(
        busy,
        [
            ("Mon 09:00–10:00", 30, 0.2),
            ("Mon 10:00–11:00", 60, 0.4),
            ("Mon 11:00–12:00", 60, 0.4),
        ]
    );
}

#[test]
fn hours_of_the_week_are_read_in_the_calendar_time_zone() {
    let plan = settings(json!({"BusinessCalendar": {
        "TimeZone": "Europe/Berlin",
        "WorkingHours": [{"Days": ["mon", "tue", "wed", "thu", "fri"], "From": "08:00", "To": "18:00"}]
    }}));
    // 07:30 UTC is 09:30 in Berlin in summer (UTC+2); 08:30 UTC is 09:30 in winter (UTC+1).
    let summer = at("2026-05-18T07:30:00Z");
    let winter = at("2026-01-12T08:30:00Z");
    let calendar = plan.calendar();
    assert_eq!(calendar.hour_of_week(summer), 9);
    assert_eq!(calendar.hour_of_week(winter), 9);
    let now = at("2026-05-25T06:00:00Z");
    for opened in [summer, winter] {
        let p = project(&[case("z", opened, Labels::default())], &plan, now, 1);
        let busy: Vec<u8> = p
            .hour_of_week
            .iter()
            .filter(|h| h.share > 0.0)
            .map(|h| h.hour_of_week)
            .collect();
        assert_eq!(busy, [9]);
    }
    assert_eq!(
        project::<CaseTimeline>(&[], &plan, now, 1)
            .hour_of_week
            .len(),
        50,
        "ten working hours on five days"
    );
    // A case at 23:30 UTC on Sunday is Monday 01:30 in Berlin: it waits for 08:00, and is
    // worked in the four hours the default target allows.
    let p = project(
        &[case("n", at("2026-05-17T23:30:00Z"), Labels::default())],
        &plan,
        now,
        1,
    );
    let busy: Vec<&str> = p
        .hour_of_week
        .iter()
        .filter(|h| h.share > 0.0)
        .map(|h| h.interval.as_str())
        .collect();
    assert_eq!(
        busy,
        [
            "Mon 08:00–09:00",
            "Mon 09:00–10:00",
            "Mon 10:00–11:00",
            "Mon 11:00–12:00"
        ]
    );
    // The forecast starts on the local date of now: 23:00 UTC on Sunday is Monday in Berlin.
    let late = project::<CaseTimeline>(&[], &plan, at("2026-05-24T23:00:00Z"), 1);
    assert_eq!(late.from, "2026-05-25");
    assert_eq!(late.time_zone, "Europe/Berlin");
}

#[test]
fn the_horizon_is_bounded() {
    let p = project(&eight_weeks(), &PlanSettings::default(), monday(), 1000);
    assert_eq!(p.weeks, MAX_WEEKS);
    assert_eq!(p.daily.len(), MAX_WEEKS as usize * 7);
    assert!(
        p.daily
            .iter()
            .all(|d| d.arrivals.is_finite() && d.arrivals >= 0.0)
    );
    let p = project(&eight_weeks(), &PlanSettings::default(), monday(), 0);
    assert_eq!((p.weeks, p.daily.len()), (1, 7));
}

#[test]
fn an_extreme_now_does_not_panic() {
    for now in [i64::MIN, -1, 0, i64::MAX] {
        let p = project(
            &eight_weeks(),
            &PlanSettings::default(),
            Timestamp::from_micros(now),
            1,
        );
        assert_eq!(p.daily.len(), 7);
    }
}

#[test]
fn a_single_mass_event_does_not_bend_the_forecast() {
    let mut cases = eight_weeks();
    let spike = at("2026-05-13T10:00:00Z");
    cases.extend((0..5000).map(|k| case(&format!("x{k}"), plus(spike, k), Labels::default())));
    let p = project(&cases, &PlanSettings::default(), monday(), 1);
    for d in p.daily.iter().filter(|d| d.working_hours > 0.0) {
        assert!(d.arrivals < 200.0, "{d:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Any mix of arrivals, days and horizons gives finite, non-negative figures.
    #[test]
    fn any_history_gives_finite_non_negative_projections(
        arrivals in proptest::collection::vec((0i64..200 * DAY, 0u8..3), 0..300),
        weeks in 0u32..60,
    ) {
        let now = at("2026-06-01T06:00:00Z");
        let plan = settings(json!({
            "ResourcePlan": {"Teams": [
                {"Team": "a", "Agents": 2, "ProductiveHoursPerDay": 6, "Shrinkage": 0.2},
                {"Team": "b", "Agents": 0, "ProductiveHoursPerDay": 6, "Shrinkage": 0.2,
                 "Skills": ["loan"]}
            ]}
        }));
        let cases: Vec<CaseTimeline> = arrivals
            .iter()
            .enumerate()
            .map(|(i, (ago, kind))| {
                let labels = match kind {
                    0 => Labels::default(),
                    1 => Labels { category: Some("loan"), effort: Some(20.0), ..Labels::default() },
                    _ => Labels { team: Some("a"), effort: Some(5.0), ..Labels::default() },
                };
                case(&format!("p{i}"), plus(now, -ago - HOUR), labels)
            })
            .collect();
        let p = project(&cases, &plan, now, weeks);
        prop_assert_eq!(p.daily.len(), p.weeks as usize * 7);
        for d in &p.daily {
            prop_assert!(d.arrivals.is_finite() && d.arrivals >= 0.0);
            prop_assert!(d.required_agent_hours.is_some_and(|h| h.is_finite() && h >= 0.0));
        }
        let before = p.reallocation.attainment_before.unwrap_or(1.0);
        let after = p.reallocation.attainment_after.unwrap_or(1.0);
        prop_assert!(after + 1e-9 >= before);
        prop_assert!(!readable_projections(&p).is_empty());
    }
}
