//! A plan's typed goals, business calendar and resource plan: validated, stored, shown, and
//! rendered into the BIAN strings the client left empty.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::on_both_backends;

fn settings() -> Value {
    json!({
        "ServiceLevelTargets": {
            "urgent": {"FirstResponseHours": 1, "ResolutionHours": 8, "AttainmentGoal": 0.95},
            "normal": {"FirstResponseHours": 8, "ResolutionHours": 40, "AttainmentGoal": 0.9},
        },
        "BusinessCalendar": {
            "TimeZone": "Europe/Berlin",
            "WorkingHours": [{"Days": ["mon", "tue", "wed", "thu", "fri"], "From": "08:00", "To": "18:00"}],
            "Holidays": ["2026-12-25", "2026-12-26"],
        },
        "ResourcePlan": {"Teams": [
            {"Team": "disputes", "Agents": 12, "ProductiveHoursPerDay": 6.5, "Shrinkage": 0.3, "Skills": ["chargeback"]},
            {"Team": "complaints", "Agents": 5, "ProductiveHoursPerDay": 7, "Shrinkage": 0.25},
        ]},
    })
}

on_both_backends! {
    async fn typed_settings_are_stored_shown_and_rendered_into_the_bian_strings(app: TestApp) {
        let mut body = settings();
        body["CustomerCaseTrainingPlan"] = json!("quarterly refresher");
        let created = app.post("/CustomerCaseManagement/Create", &body).await;
        assert_eq!(created.status, StatusCode::OK, "{}", created.text);
        let id = created.body["CustomerCaseManagementId"].as_str().expect("id").to_owned();
        let plan = app.get(&format!("/CustomerCaseManagement/{id}/Retrieve")).await.body["CustomerCaseManagementPlan"].clone();
        assert_eq!(plan["BusinessCalendar"]["TimeZone"], "Europe/Berlin");
        assert_eq!(plan["ResourcePlan"]["Teams"][0]["Team"], "disputes");
        assert_eq!(plan["ServiceLevelTargets"]["urgent"]["AttainmentGoal"], 0.95);
        let goals = plan["CustomerCaseServicePerformanceGoals"].as_str().expect("goals rendered");
        assert!(goals.contains("urgent") && goals.contains("95%"), "{goals}");
        let schedule = plan["CustomerCaseServiceSchedule"].as_str().expect("schedule rendered");
        assert!(schedule.contains("08:00") && schedule.contains("Europe/Berlin"), "{schedule}");
        let resources = plan["CustomerCaseResourcePlan"].as_str().expect("resources rendered");
        assert!(resources.contains("disputes") && resources.contains("12"), "{resources}");
        assert_eq!(plan["CustomerCaseTrainingPlan"], "quarterly refresher");

        // The client's own text wins over the rendering.
        app.put(&format!("/CustomerCaseManagement/{id}/Update"), &json!({"CustomerCaseServiceSchedule": "Weekdays, office hours"})).await;
        let plan = app.get(&format!("/customer-case-management/{id}")).await;
        assert_eq!(plan.body["CustomerCaseServiceSchedule"], "Weekdays, office hours");
        assert_eq!(plan.body["BusinessCalendar"]["TimeZone"], "Europe/Berlin");
    }

    async fn invalid_settings_are_400_naming_the_path_and_change_nothing(app: TestApp) {
        let id = app.create_plan(&settings()).await;
        let update = format!("/CustomerCaseManagement/{id}/Update");
        let cases = [
            (json!({"BusinessCalendar": {"TimeZone": "Mars/Olympus"}}), "BusinessCalendar.TimeZone"),
            (json!({"BusinessCalendar": {"WorkingHours": [{"Days": ["mon"], "From": "18:00", "To": "08:00"}]}}), "BusinessCalendar.WorkingHours[0]"),
            (json!({"ServiceLevelTargets": {"high": {"FirstResponseHours": 1, "ResolutionHours": 8, "AttainmentGoal": 1.5}}}), "ServiceLevelTargets.high.AttainmentGoal"),
            (json!({"ResourcePlan": {"Teams": [{"Team": "x", "Agents": -1, "ProductiveHoursPerDay": 6, "Shrinkage": 0.2}]}}), "ResourcePlan.Teams[0].Agents"),
            (json!({"ResourcePlan": "12 agents"}), "ResourcePlan"),
        ];
        for (body, path) in cases {
            let msg = app.put(&update, &body).await.assert_error(400);
            assert!(msg.contains(path), "{path:?} not in {msg:?}");
        }
        app.post("/customer-case-management", &json!({"BusinessCalendar": {"TimeZone": "Nowhere/City"}})).await.assert_error(400);
        let plan = app.get(&format!("/CustomerCaseManagement/{id}/Retrieve")).await;
        assert_eq!(plan.etag(), "\"1\"", "nothing changed");
    }

    async fn an_update_replaces_only_the_settings_given_and_put_replaces_all(app: TestApp) {
        let id = app.create_plan(&settings()).await;
        let updated = app.put(&format!("/CustomerCaseManagement/{id}/Update"), &json!({
            "ResourcePlan": {"Teams": [{"Team": "disputes", "Agents": 14, "ProductiveHoursPerDay": 6.5, "Shrinkage": 0.3}]},
        })).await;
        assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
        assert_eq!(updated.body["ResourcePlan"]["Teams"][0]["Agents"], 14);
        assert_eq!(updated.body["BusinessCalendar"]["TimeZone"], "Europe/Berlin", "kept");
        let cleared = app.put(&format!("/CustomerCaseManagement/{id}/Update"), &json!({"ServiceLevelTargets": null})).await;
        assert!(cleared.body.get("ServiceLevelTargets").is_none(), "{}", cleared.text);
        let replaced = app.put(&format!("/customer-case-management/{id}"), &json!({"CustomerCaseTrainingPlan": "t"})).await;
        assert_eq!(replaced.status, StatusCode::OK);
        assert!(replaced.body.get("BusinessCalendar").is_none() && replaced.body.get("ResourcePlan").is_none(), "{}", replaced.text);
    }
}
