//! Performance from data: crafted case events with known answers, through HTTP, on both
//! backends; computed strings beside the client's annotations; figures that follow new
//! events at once, also on a second instance.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_backends;

/// Working hours Mon-Fri 08:00-18:00 UTC; normal cases must get a first response within 4
/// business hours and a resolution within 24; one team of two agents, 8 productive hours.
fn plan_body() -> Value {
    json!({
        "CustomerCaseManagementPlanPeriod": "June 2026",
        "ServiceLevelTargets": {
            "normal": {"FirstResponseHours": 4, "ResolutionHours": 24, "AttainmentGoal": 0.9},
        },
        "BusinessCalendar": {
            "TimeZone": "UTC",
            "WorkingHours": [{"Days": ["mon", "tue", "wed", "thu", "fri"], "From": "08:00", "To": "18:00"}],
        },
        "ResourcePlan": {"Teams": [
            {"Team": "tier-1", "Agents": 2, "ProductiveHoursPerDay": 8, "Shrinkage": 0},
        ]},
    })
}

fn event(id: &str, case: &str, kind: &str, at: &str, extra: Value) -> Value {
    let mut e = json!({"EventId": id, "CaseId": case, "EventType": kind, "OccurredAt": at,
                       "Team": "tier-1"});
    if let (Some(e), Some(extra)) = (e.as_object_mut(), extra.as_object()) {
        e.extend(extra.clone());
    }
    e
}

/// The week of Monday 2026-06-01 (the window) and one case the week before:
/// - C1 (billing): answered after 1 h, resolved after 4 h, 60 min of effort, -12.50 EUR;
/// - C2 (billing): answered after 6 h (late), resolved Wednesday after 12 business hours;
/// - C3 (fraud): opened Wednesday and still open when the window ends (4 days 15 h old);
/// - C4 (fraud): answered after 0.5 h, resolved, reopened Friday and resolved again after
///   11 business hours in all;
/// - C0: opened and resolved in the week before.
fn week() -> Vec<Value> {
    vec![
        event(
            "1",
            "C1",
            "opened",
            "2026-06-01T09:00:00Z",
            json!({"Category": "billing"}),
        ),
        event(
            "2",
            "C1",
            "first_response",
            "2026-06-01T10:00:00Z",
            json!({}),
        ),
        event(
            "3",
            "C1",
            "resolved",
            "2026-06-01T13:00:00Z",
            json!({"EffortMinutes": 60, "Amount": {"Value": "-12.50", "Currency": "EUR"}}),
        ),
        event(
            "4",
            "C2",
            "opened",
            "2026-06-02T09:00:00Z",
            json!({"Category": "billing"}),
        ),
        event(
            "5",
            "C2",
            "first_response",
            "2026-06-02T15:00:00Z",
            json!({}),
        ),
        event(
            "6",
            "C2",
            "resolved",
            "2026-06-03T11:00:00Z",
            json!({"EffortMinutes": 120, "Amount": {"Value": "5.00", "Currency": "EUR"}}),
        ),
        event(
            "7",
            "C3",
            "opened",
            "2026-06-03T09:00:00Z",
            json!({"Category": "fraud"}),
        ),
        event(
            "8",
            "C4",
            "opened",
            "2026-06-04T09:00:00Z",
            json!({"Category": "fraud"}),
        ),
        event(
            "9",
            "C4",
            "first_response",
            "2026-06-04T09:30:00Z",
            json!({}),
        ),
        event(
            "10",
            "C4",
            "resolved",
            "2026-06-04T11:00:00Z",
            json!({"EffortMinutes": 20}),
        ),
        event("11", "C4", "reopened", "2026-06-05T09:00:00Z", json!({})),
        event(
            "12",
            "C4",
            "resolved",
            "2026-06-05T10:00:00Z",
            json!({"EffortMinutes": 10}),
        ),
        event(
            "13",
            "C0",
            "opened",
            "2026-05-28T09:00:00Z",
            json!({"Category": "billing"}),
        ),
        event(
            "14",
            "C0",
            "resolved",
            "2026-05-28T12:00:00Z",
            json!({"EffortMinutes": 15}),
        ),
    ]
}

const WINDOW: [(&str, &str); 2] = [
    ("WindowStart", "2026-06-01T00:00:00Z"),
    ("WindowEnd", "2026-06-08T00:00:00Z"),
];

async fn ingest(app: &TestApp, plan: &str, events: &[Value]) {
    let reply = app
        .post(
            &format!("/customer-case-management/{plan}/case-events"),
            &Value::Array(events.to_vec()),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
}

async fn put_performance(
    app: &TestApp,
    plan: &str,
    id: &str,
    body: Value,
) -> crate::helpers::Reply {
    app.put(
        &format!("/customer-case-management/{plan}/performances/{id}"),
        &body,
    )
    .await
}

async fn performance(app: &TestApp, plan: &str, id: &str) -> Value {
    let reply = app
        .get(&format!(
            "/customer-case-management/{plan}/performances/{id}"
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.body
}

fn windowed(kind: &str) -> Value {
    let mut body = json!({"CustomerCaseServiceStatisticType": kind});
    for (k, v) in WINDOW {
        body[k] = json!(v);
    }
    body
}

/// A plan with the crafted week ingested, in a shuffled order and two batches.
async fn crafted_plan(app: &TestApp) -> String {
    let plan = app.create_plan(&plan_body()).await;
    let mut events = week();
    events.reverse();
    let late = events.split_off(6);
    ingest(app, &plan, &events).await;
    ingest(app, &plan, &late).await;
    plan
}

fn close(actual: &Value, expected: f64) -> bool {
    actual.as_f64().is_some_and(|a| (a - expected).abs() < 1e-9)
}

on_both_backends! {
    async fn every_statistic_type_has_its_known_answer(app: TestApp) {
        let plan = crafted_plan(&app).await;
        // (type, headline figure, the statistic's own number in the typed figures)
        let cases: [(&str, f64); 10] = [
            ("throughput", 3.0),
            ("backlog", 1.0),
            ("first-response-time", 1.0),
            ("resolution-time", 11.0),
            ("effort-per-case", 70.0),
            ("sla-attainment", 2.0 / 3.0),
            ("reopen-rate", 1.0 / 3.0),
            ("appeal-rate", 0.0),
            ("utilization", 3.5 / 80.0),
            ("profit-loss", -7.5),
        ];
        for (i, (kind, headline)) in cases.into_iter().enumerate() {
            let id = format!("p{i}");
            let put = put_performance(&app, &plan, &id, windowed(kind)).await;
            assert_eq!(put.status, StatusCode::CREATED, "{kind}: {}", put.text);
            let shown = performance(&app, &plan, &id).await;
            let s = &shown["Statistics"];
            assert_eq!(s["StatisticType"], kind, "{kind}");
            assert!(close(&s["Trend"]["Current"], headline), "{kind}: headline {} expected {headline}", s["Trend"]);
            for field in [
                "CustomerCaseServiceStatisticValue",
                "CustomerCaseResolutionServiceStatistics",
                "CustomerCaseResourceUtilization",
                "CustomerCaseServiceStatisticInterpretation",
                "CustomerCaseServiceStatisticRecommendation",
                "CustomerCaseLoadingProjections",
            ] {
                assert!(shown[field].as_str().is_some_and(|t| !t.is_empty()), "{kind}: {field} computed");
            }
        }

        // Every figure of the window, from the last one fetched.
        let s = performance(&app, &plan, "p0").await["Statistics"].clone();
        assert_eq!(s["Counts"], json!({"Opened": 4, "Resolved": 3, "Closed": 0, "Reopened": 1,
                                       "Appealed": 0, "BacklogAtStart": 0, "Backlog": 1}));
        assert_eq!(s["FirstResponseHours"]["P50"], 1.0);
        assert_eq!(s["FirstResponseHours"]["P90"], 6.0);
        assert_eq!(s["ResolutionHours"]["P50"], 11.0);
        assert_eq!(s["ResolutionHours"]["P95"], 12.0);
        assert!(close(&s["ResolutionHours"]["Mean"], 9.0));
        assert_eq!(s["BacklogAging"]["From3To7Days"], 1);
        assert_eq!((s["ServiceLevels"]["Cases"].clone(), s["ServiceLevels"]["Met"].clone()), (json!(3), json!(2)));
        assert_eq!(s["EffortPerCase"]["TotalMinutes"], 210.0);
        assert_eq!(s["Utilization"]["CapacityHours"], 80.0);
        assert_eq!(s["ProfitLoss"]["Nets"][0]["Net"], "-7.50");
        // The trend: the week before resolved one case.
        assert_eq!(s["Trend"]["Previous"], 1.0);
        assert_eq!(s["Trend"]["PreviousWindowStart"], "2026-05-25T00:00:00Z");
        let value = performance(&app, &plan, "p0").await["CustomerCaseServiceStatisticValue"].clone();
        assert!(value.as_str().is_some_and(|v| v.contains('3')), "{value}");
    }

    async fn a_breakdown_shows_the_headline_per_value(app: TestApp) {
        let plan = crafted_plan(&app).await;
        let mut body = windowed("case resolution throughput");
        body["Breakdown"] = json!("category");
        put_performance(&app, &plan, "by-category", body).await;
        let shown = performance(&app, &plan, "by-category").await;
        assert_eq!(shown["Breakdown"], "Category");
        let values = &shown["Statistics"]["Breakdown"]["Values"];
        let of = |name: &str| {
            values.as_array().and_then(|v| v.iter().find(|x| x["Value"] == name)).map(|x| x["Headline"].clone())
        };
        assert_eq!(of("billing"), Some(json!(2.0)));
        assert_eq!(of("fraud"), Some(json!(1.0)));
    }

    async fn written_strings_are_kept_as_annotations_beside_the_computed_ones(app: TestApp) {
        let plan = crafted_plan(&app).await;
        let mut body = windowed("sla-attainment");
        body["CustomerCaseServiceStatisticInterpretation"] = json!("Reviewed by ops: June was short-staffed.");
        put_performance(&app, &plan, "sla", body).await;
        let shown = performance(&app, &plan, "sla").await;
        assert_eq!(shown["Annotations"]["CustomerCaseServiceStatisticInterpretation"],
                   "Reviewed by ops: June was short-staffed.");
        let computed = shown["CustomerCaseServiceStatisticInterpretation"].as_str().expect("computed");
        assert!(computed.contains("90%") || computed.contains("goal"), "{computed}");
        assert_ne!(computed, "Reviewed by ops: June was short-staffed.");

        // The BIAN Retrieve shows the same.
        let bian = app.get(&format!("/CustomerCaseManagement/{plan}/Performance/sla/Retrieve")).await;
        assert_eq!(bian.status, StatusCode::OK, "{}", bian.text);
        let record = &bian.body["Performance"];
        assert_eq!(record["CustomerCaseServiceStatisticInterpretation"], computed);
        assert_eq!(record["Statistics"], shown["Statistics"]);
    }

    async fn figures_follow_new_events_at_once_on_every_instance(app: TestApp) {
        let plan = crafted_plan(&app).await;
        put_performance(&app, &plan, "tp", windowed("throughput")).await;
        assert_eq!(performance(&app, &plan, "tp").await["Statistics"]["Trend"]["Current"], 3.0);
        let other = app.another_instance().await;
        assert_eq!(performance(&other, &plan, "tp").await["Statistics"]["Trend"]["Current"], 3.0);

        ingest(&other, &plan, &[event("15", "C3", "resolved", "2026-06-05T12:00:00Z", json!({}))]).await;
        assert_eq!(performance(&app, &plan, "tp").await["Statistics"]["Trend"]["Current"], 4.0);
        assert_eq!(performance(&other, &plan, "tp").await["Statistics"]["Trend"]["Current"], 4.0);
        // A re-sent batch changes nothing.
        ingest(&app, &plan, &week()).await;
        assert_eq!(performance(&app, &plan, "tp").await["Statistics"]["Counts"]["Resolved"], 4);
    }

    async fn a_plan_change_moves_the_figures_that_depend_on_it(app: TestApp) {
        let plan = crafted_plan(&app).await;
        put_performance(&app, &plan, "util", windowed("utilization")).await;
        assert_eq!(performance(&app, &plan, "util").await["Statistics"]["Utilization"]["CapacityHours"], 80.0);
        let reply = app.put(&format!("/CustomerCaseManagement/{plan}/Update"),
            &json!({"ResourcePlan": {"Teams": [
                {"Team": "tier-1", "Agents": 4, "ProductiveHoursPerDay": 8, "Shrinkage": 0}]}})).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert_eq!(performance(&app, &plan, "util").await["Statistics"]["Utilization"]["CapacityHours"], 160.0);
    }

    async fn bad_settings_are_refused_and_change_nothing(app: TestApp) {
        let plan = crafted_plan(&app).await;
        put_performance(&app, &plan, "p", windowed("backlog")).await;
        let before = performance(&app, &plan, "p").await;
        for (body, names) in [
            (json!({"WindowStart": "last week"}), "WindowStart"),
            (json!({"WindowEnd": 20260601}), "WindowEnd"),
            (json!({"WindowEnd": "2026-05-01T00:00:00Z"}), "WindowEnd"),
            (json!({"Breakdown": "Queue"}), "Breakdown"),
            (json!({"Statistics": {}}), "Statistics"),
            (json!({"Annotations": {}}), "Annotations"),
        ] {
            let reply = app.put(&format!("/CustomerCaseManagement/{plan}/Performance/p/Update"), &body).await;
            let msg = reply.assert_error(400);
            assert!(msg.contains(names), "{body}: {msg}");
        }
        let after = performance(&app, &plan, "p").await;
        assert_eq!(after["Version"], before["Version"]);
        assert_eq!(after["WindowStart"], "2026-06-01T00:00:00Z");
    }

    async fn a_statistic_the_service_does_not_compute_keeps_the_clients_text(app: TestApp) {
        let plan = crafted_plan(&app).await;
        put_performance(&app, &plan, "free", json!({
            "CustomerCaseServiceStatisticType": "customer happiness",
            "CustomerCaseServiceStatisticValue": "very happy",
        })).await;
        let shown = performance(&app, &plan, "free").await;
        assert_eq!(shown["CustomerCaseServiceStatisticValue"], "very happy");
        assert!(shown.get("Statistics").is_none() && shown.get("Annotations").is_none(), "{shown}");
    }

    async fn the_default_window_is_the_last_thirty_days_to_the_minute(app: TestApp) {
        let plan = app.create_plan(&json!({})).await;
        put_performance(&app, &plan, "now", json!({"CustomerCaseServiceStatisticType": "backlog"})).await;
        let shown = performance(&app, &plan, "now").await;
        let (start, end) = (shown["Window"]["Start"].as_str().expect("start"), shown["Window"]["End"].as_str().expect("end"));
        assert!(end.ends_with(":00Z"), "{end}");
        assert!(start < end, "{start} {end}");
        assert_eq!(shown["Statistics"]["Counts"]["Backlog"], 0);
    }

    async fn a_computed_record_carries_its_projections_in_words_only(app: TestApp) {
        // The typed projections are served by /projections alone: a record stays small.
        let plan = crafted_plan(&app).await;
        put_performance(&app, &plan, "load", json!({"CustomerCaseServiceStatisticType": "backlog"})).await;
        let shown = performance(&app, &plan, "load").await;
        assert!(shown["CustomerCaseLoadingProjections"].as_str().is_some_and(|t| !t.is_empty()), "{shown}");
        assert!(shown.get("Statistics").is_some() && shown.get("Projections").is_none(), "{shown}");
        let typed = app.get(&format!("/customer-case-management/{plan}/projections")).await;
        assert_eq!(typed.status, StatusCode::OK, "{}", typed.text);
        assert_eq!(typed.body["CustomerCaseLoadingProjections"], shown["CustomerCaseLoadingProjections"]);
    }

    async fn a_plan_projects_its_load_for_the_weeks_asked(app: TestApp) {
        let plan = crafted_plan(&app).await;
        let reply = app.get(&format!("/customer-case-management/{plan}/projections?weeks=2")).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let p = &reply.body["Projections"];
        assert_eq!(p["Daily"].as_array().map(Vec::len), Some(14));
        assert_eq!(p["Teams"][0]["Team"], "tier-1");
        assert_eq!(p["Teams"][0]["ScheduledAgents"], 2.0);
        assert!(reply.body["CustomerCaseLoadingProjections"].as_str().is_some_and(|t| !t.is_empty()));
        for bad in ["weeks=0", "weeks=53", "weeks=two", "horizon=3"] {
            app.get(&format!("/customer-case-management/{plan}/projections?{bad}")).await.assert_error(400);
        }
        app.get("/customer-case-management/01a2196b-0000-7000-8000-000000000000/projections").await.assert_error(404);
    }
}

on_both_backends! {
    async fn paused_working_time_is_left_out_of_resolution_times_per_agent(app: TestApp) {
        // Working hours Mon-Fri 08:00-18:00 UTC (plan_body), the week of Monday 2026-06-01:
        // - P1 (ana): opened Mon 09:00, answered 10:00, waiting on the customer from Mon 12:00
        //   to Tue 12:00 (Mon 12-18 = 6 h, Tue 08-12 = 4 h: 10 business hours paused),
        //   resolved Tue 15:00. Open for Mon 9 h + Tue 7 h = 16 business hours, minus the
        //   10 paused: 6 h.
        // - P2 (bo): opened Mon 09:00, answered 11:00, resolved Wed 09:00, never paused:
        //   Mon 9 h + Tue 10 h + Wed 1 h = 20 h.
        let plan = app.create_plan(&plan_body()).await;
        let ana = json!({"Agent": "ana"});
        let bo = json!({"Agent": "bo"});
        let mut events = vec![
            event("a1", "P1", "opened", "2026-06-01T09:00:00Z", ana.clone()),
            event("a2", "P1", "first_response", "2026-06-01T10:00:00Z", ana.clone()),
            event("a3", "P1", "waiting_on_customer", "2026-06-01T12:00:00Z", ana.clone()),
            event("a4", "P1", "customer_replied", "2026-06-02T12:00:00Z", ana.clone()),
            event("a5", "P1", "resolved", "2026-06-02T15:00:00Z", ana),
            event("b1", "P2", "opened", "2026-06-01T09:00:00Z", bo.clone()),
            event("b2", "P2", "first_response", "2026-06-01T11:00:00Z", bo.clone()),
            event("b3", "P2", "resolved", "2026-06-03T09:00:00Z", bo),
        ];
        events.reverse();
        ingest(&app, &plan, &events).await;

        for (id, kind, expected) in [
            ("res", "resolution-time", [("ana", 6.0), ("bo", 20.0)]),
            ("first", "first-response-time", [("ana", 1.0), ("bo", 2.0)]),
        ] {
            let mut body = windowed(kind);
            body["Breakdown"] = json!("Agent");
            let put = put_performance(&app, &plan, id, body).await;
            assert_eq!(put.status, StatusCode::CREATED, "{}", put.text);
            let shown = performance(&app, &plan, id).await;
            assert_eq!(shown["Breakdown"], "Agent");
            let values = &shown["Statistics"]["Breakdown"]["Values"];
            for (agent, hours) in expected {
                let headline = values.as_array()
                    .and_then(|v| v.iter().find(|x| x["Value"] == agent))
                    .map(|x| x["Headline"].clone())
                    .unwrap_or(Value::Null);
                assert!(close(&headline, hours), "{kind} of {agent}: {headline}, expected {hours}: {values}");
            }
        }
        // Both resolutions are within the 24-hour target once the pause is left out.
        let s = performance(&app, &plan, "res").await["Statistics"].clone();
        assert_eq!((s["ServiceLevels"]["Cases"].clone(), s["ServiceLevels"]["Met"].clone()), (json!(2), json!(2)));
    }
}
