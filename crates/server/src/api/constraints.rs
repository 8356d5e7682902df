//! The rules of parameters and bodies that the handlers' annotations cannot state, written
//! into the OpenAPI document once, by name: record-id syntax, paging bounds, the Erlang C
//! ranges, the nested shapes of a plan's goals, calendar and resource plan, the facade's
//! refusal of unknown properties, and the service's refusal of the NUL character. A client
//! (or a generator such as schemathesis) that keeps to the document is then accepted.
//!
//! Some rules no JSON Schema can state: a CEL expression must compile, a time zone must be
//! one the time-zone database knows, a window must end after it starts, a resolution target
//! cannot come before the first-response target. Those are described in the properties'
//! descriptions and answered with a 400 that names the property.

use caseload_domain::forecast::MAX_WEEKS;
use caseload_domain::page::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use caseload_domain::plan::{
    MAX_AGENTS, MAX_HOLIDAYS, MAX_NAME_CHARS, MAX_SKILLS, MAX_TARGET_HOURS, MAX_TEAMS,
};
use caseload_domain::{InterventionStatus, MAX_FIELD_CHARS, RecordKind};
use serde_json::{Map, Value, json};

/// Record ids (criteria, performance records, page tokens): what `RecordId::parse` takes.
const RECORD_ID_PATTERN: &str = "^[A-Za-z0-9._~-]*[A-Za-z0-9_~-][A-Za-z0-9._~-]*$";

/// A team or skill name: not only white space (which is trimmed away), no NUL.
const NAME_PATTERN: &str = "^[^\\u0000]*[^\\s\\u0000\\u0085][^\\u0000]*$";

/// One line of text: no control characters, not only white space.
const ONE_LINE_PATTERN: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$";

/// Text the service stores: anything but the NUL character, which neither backend keeps.
const TEXT_PATTERN: &str = "^[^\\u0000]*$";

/// The document with the constraints written in. It is JSON from here on: the typed
/// document cannot hold every keyword used (`propertyNames`, `null` in an `enum`).
pub(super) fn document(openapi: &utoipa::openapi::OpenApi) -> Value {
    let mut doc = serde_json::to_value(openapi).unwrap_or_else(|err| {
        // Not reached: the typed document is plain data.
        tracing::error!(error = %err, "cannot write the OpenAPI document as JSON");
        json!({})
    });
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (name, schema) in schemas.iter_mut() {
            constrain_component(name, schema);
        }
    }
    let components = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, operation) in item.iter_mut() {
                constrain_operation(path, method, operation, &components);
            }
        }
    }
    no_nul_in_text(&mut doc);
    doc
}

fn record_id() -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": caseload_domain::ids::MAX_ID_CHARS, "pattern": RECORD_ID_PATTERN})
}

fn statuses() -> Vec<&'static str> {
    InterventionStatus::ALL.iter().map(|s| s.as_str()).collect()
}

/// A parameter's schema, by where it is and what it is called.
fn parameter_schema(name: &str, location: &str) -> Option<Value> {
    let schema = match (location, name) {
        ("path", "rulesid" | "performanceid") => record_id(),
        ("query", "page_token") => record_id(),
        ("query", "page_size") => json!({
            "type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE
        }),
        ("query", "weeks") => json!({
            "type": "integer", "minimum": 1, "maximum": MAX_WEEKS,
            "default": caseload_domain::forecast::DEFAULT_WEEKS
        }),
        ("query", "status") => json!({"type": "string", "enum": statuses()}),
        ("query", "plan") => json!({"type": "string", "format": "uuid"}),
        ("query", "from" | "to") => json!({"type": "string", "format": "date-time"}),
        ("header", "If-Match") => json!({"type": "string"}),
        ("query", "arrivals" | "target_answer_seconds") => json!({"type": "number", "minimum": 0}),
        ("query", "interval_seconds" | "aht_seconds") => {
            json!({"type": "number", "exclusiveMinimum": 0})
        }
        ("query", "service_level") => {
            json!({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1})
        }
        ("query", "max_occupancy") => {
            json!({"type": "number", "exclusiveMinimum": 0, "maximum": 1, "default": 1})
        }
        ("query", "shrinkage") => {
            json!({"type": "number", "minimum": 0, "exclusiveMaximum": 1, "default": 0})
        }
        _ => return None,
    };
    Some(schema)
}

fn constrain_operation(
    path: &str,
    method: &str,
    operation: &mut Value,
    components: &Map<String, Value>,
) {
    if let Some(parameters) = operation
        .get_mut("parameters")
        .and_then(Value::as_array_mut)
    {
        for parameter in parameters {
            let name = parameter["name"].as_str().unwrap_or_default().to_owned();
            let location = parameter["in"].as_str().unwrap_or_default().to_owned();
            let schema = if path.ends_with("/versions") && name == "page_token" {
                // The versions of a record page by version number.
                Some(json!({"type": "string", "pattern": "^[0-9]{1,9}$"}))
            } else {
                parameter_schema(&name, &location)
            };
            if let Some(schema) = schema {
                parameter["schema"] = schema;
            }
        }
    }
    if let Some(body) = request_body(path, method, components)
        && let Some(content) = operation.pointer_mut("/requestBody/content/application~1json")
    {
        content["schema"] = body;
    }
}

/// The body of an operation whose annotation does not describe it fully: the facade's
/// writes, which refuse properties they do not know, and the bodies given as plain objects.
fn request_body(path: &str, method: &str, components: &Map<String, Value>) -> Option<Value> {
    let closed = |component: &str| {
        let mut schema = components
            .get(component)
            .cloned()
            .unwrap_or_else(|| json!({}));
        schema["additionalProperties"] = json!(false);
        schema
    };
    let body = match (method, path) {
        ("post", "/customer-case-management") => {
            let mut plan = closed("CustomerCaseManagementPlan");
            // Named when the plan is created (and only then): one of the caller's units.
            plan["properties"]["BusinessUnit"] = json!({
                "type": ["string", "null"],
                "pattern": "^[A-Za-z0-9._-]{1,64}$",
                "description": "The business unit the plan belongs to: one the caller reaches; by default its only one, or `default` for a caller that reaches all."
            });
            plan
        }
        ("put", "/customer-case-management/{id}") => closed("CustomerCaseManagementPlan"),
        ("put", "/customer-case-management/{id}/rules/{rulesid}") => closed("Rules"),
        ("put", "/customer-case-management/{id}/performances/{performanceid}") => {
            closed("Performance")
        }
        ("put", "/CustomerCaseManagement/{customercasemanagementid}/Request") => {
            bian_request(RecordKind::Plan)
        }
        ("put", "/CustomerCaseManagement/{customercasemanagementid}/Rules/{rulesid}/Request") => {
            bian_request(RecordKind::Rules)
        }
        (
            "put",
            "/CustomerCaseManagement/{customercasemanagementid}/Performance/{performanceid}/Request",
        ) => bian_request(RecordKind::Performance),
        ("post", "/customer-case-management/{id}/requests") => new_request(RecordKind::Plan),
        ("post", "/customer-case-management/{id}/rules/{rulesid}/requests") => {
            new_request(RecordKind::Rules)
        }
        ("post", "/customer-case-management/{id}/performances/{performanceid}/requests") => {
            new_request(RecordKind::Performance)
        }
        ("patch", "/customer-case-management/{id}/requests/{requestid}") => json!({
            "type": "object",
            "description": "The status to move the request to, and why.",
            "required": ["Status"],
            "properties": {
                "Status": {"type": "string", "enum": statuses()},
                "Comment": optional_text()
            },
            "additionalProperties": false
        }),
        ("post", "/customer-case-management/{id}/rules/{rulesid}/evaluations") => evaluation(true),
        ("post", "/customer-case-management/{id}/evaluations") => evaluation(false),
        ("patch", "/customer-case-management/{id}/rules/{rulesid}/evaluations/{evaluationid}") => {
            json!({
                "type": "object",
                "description": "What became of the case: its outcome and, if known, the amount.",
                "required": ["Outcome"],
                "properties": {
                    "Outcome": {
                        "type": "string", "minLength": 1, "maxLength": 100,
                        "pattern": ONE_LINE_PATTERN,
                        "description": "1 to 100 characters, not only spaces, no control characters, e.g. `upheld`."
                    },
                    "Amount": amount()
                },
                "additionalProperties": false
            })
        }
        ("post", "/customer-case-management/{id}/rules/{rulesid}/backtests") => {
            let mut body = criterion_settings();
            body["description"] = json!(
                "Proposed settings to compare with the criterion's own on its recorded cases: `Parameters` and/or `Expression`, with the other settings if they change too."
            );
            body["anyOf"] = json!([{"required": ["Parameters"]}, {"required": ["Expression"]}]);
            body
        }
        _ => return None,
    };
    Some(body)
}

/// A criterion's settings, as a back-test proposes them.
fn criterion_settings() -> Value {
    let one_line = json!({
        "type": ["string", "null"], "minLength": 1, "maxLength": 200,
        "pattern": ONE_LINE_PATTERN
    });
    json!({
        "type": "object",
        "properties": {
            "Expression": {"type": ["string", "null"], "description": "A CEL expression that compiles."},
            "Parameters": {"type": ["object", "null"], "description": "Named values the expression uses; strings hold no NUL."},
            "Decision": one_line,
            "Otherwise": one_line,
            "Priority": {"type": ["integer", "null"], "minimum": -1_000_000, "maximum": 1_000_000}
        },
        "additionalProperties": false
    })
}

fn amount() -> Value {
    json!({
        "type": ["object", "null"],
        "description": "An amount of money: a decimal written as a string, and an ISO 4217 code.",
        "required": ["Value", "Currency"],
        "properties": {
            "Value": {"type": "string", "pattern": "^-?[0-9]{1,18}(\\.[0-9]{1,8})?$"},
            "Currency": {"type": "string", "pattern": "^[A-Z]{3}$"}
        },
        "additionalProperties": false
    })
}

fn evaluation(recordable: bool) -> Value {
    let mut properties = Map::new();
    properties.insert(
        "Facts".into(),
        json!({"type": "object", "description": "The case's facts, by the names the expression uses."}),
    );
    if recordable {
        properties.insert("Record".into(), json!({"type": ["boolean", "null"]}));
        properties.insert(
            "CaseId".into(),
            json!({"type": ["string", "null"], "maxLength": 200}),
        );
        properties.insert("Amount".into(), amount());
    }
    json!({
        "type": "object",
        "required": ["Facts"],
        "properties": properties,
        "additionalProperties": false
    })
}

/// A BIAN `Request` body: the subject's BIAN properties the request is about, and why and
/// what is wanted. Other properties (a plan's settings among them) are ignored.
fn bian_request(kind: RecordKind) -> Value {
    let mut properties = bian_strings(kind);
    properties.insert("Reason".into(), optional_text());
    properties.insert("RequestedAction".into(), optional_text());
    for name in super::bian::owned_names(kind) {
        properties.insert((*name).into(), json!({"readOnly": true}));
    }
    json!({"type": "object", "properties": properties})
}

/// Optional free text, as long as a BIAN string may be.
fn optional_text() -> Value {
    json!({"type": ["string", "null"], "maxLength": MAX_FIELD_CHARS})
}

/// The BIAN string properties of a record kind.
fn bian_strings(kind: RecordKind) -> Map<String, Value> {
    kind.field_names()
        .iter()
        .map(|name| {
            (
                (*name).to_owned(),
                json!({"type": "string", "maxLength": MAX_FIELD_CHARS}),
            )
        })
        .collect()
}

/// A facade request body: why, what is wanted, and the subject's BIAN properties it is about.
fn new_request(kind: RecordKind) -> Value {
    let details = bian_strings(kind);
    json!({
        "type": "object",
        "properties": {
            "Reason": optional_text(),
            "RequestedAction": optional_text(),
            "Details": {
                "type": ["object", "null"],
                "description": "BIAN properties of the subject that the request is about.",
                "properties": details,
                "additionalProperties": false
            }
        },
        "additionalProperties": false
    })
}

/// Marks the service's own properties read-only (a property typed as a plain object loses
/// the mark in the derive) and gives the plan's extensions their shapes.
fn constrain_component(name: &str, schema: &mut Value) {
    let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
        return;
    };
    for (property, value) in properties.iter_mut() {
        if RecordKind::read_only_names().contains(&property.as_str()) {
            value["readOnly"] = json!(true);
        }
    }
    match name {
        "Rules" => {
            let settings = criterion_settings();
            for property in caseload_domain::criterion::CriterionSettings::PROPERTIES {
                reshape(
                    properties,
                    property,
                    settings["properties"][*property].clone(),
                );
            }
        }
        "CustomerCaseManagementPlan" => {
            properties.insert(
                "BusinessUnit".into(),
                json!({
                    "type": "string",
                    "readOnly": true,
                    "description": "Extension: the business unit the plan belongs to (named at creation)."
                }),
            );
            for (property, shape) in [
                ("ServiceLevelTargets", service_level_targets()),
                ("BusinessCalendar", business_calendar()),
                ("ResourcePlan", resource_plan()),
            ] {
                reshape(properties, property, shape);
            }
        }
        "Performance" => {
            if let Some(value) = properties.get_mut("Breakdown") {
                value["enum"] = json!(["Category", "Priority", "Team", "Channel", "Agent", null]);
            }
        }
        _ => {}
    }
}

/// Gives `property` (if the schema has it) the schema `shape`, keeping its description.
fn reshape(properties: &mut Map<String, Value>, property: &str, mut shape: Value) {
    if let Some(value) = properties.get_mut(property) {
        if let Some(description) = value.get("description") {
            shape["description"] = description.clone();
        }
        *value = shape;
    }
}

fn service_level_targets() -> Value {
    let hours = json!({"type": "number", "exclusiveMinimum": 0, "maximum": MAX_TARGET_HOURS});
    json!({
        "type": ["object", "null"],
        "description": "Targets by priority: low, normal, high, urgent (case does not matter).",
        "propertyNames": {"enum": ["low", "normal", "high", "urgent"]},
        "additionalProperties": {
            "type": "object",
            "required": ["FirstResponseHours", "ResolutionHours", "AttainmentGoal"],
            "properties": {
                "FirstResponseHours": hours,
                "ResolutionHours": hours,
                "AttainmentGoal": {"type": "number", "minimum": 0, "maximum": 1},
                "AtRiskRatio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}
            },
            "additionalProperties": false
        }
    })
}

fn business_calendar() -> Value {
    let time = json!({"type": "string", "pattern": "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"});
    json!({
        "type": ["object", "null"],
        "properties": {
            "TimeZone": {"type": ["string", "null"], "description": "An IANA time-zone name, e.g. `Europe/Berlin`; UTC by default."},
            "WorkingHours": {
                "type": ["array", "null"],
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["Days", "From", "To"],
                    "properties": {
                        "Days": {
                            "type": "array",
                            "minItems": 1,
                            "description": "Day names (case does not matter), at least one.",
                            "items": {"enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}
                        },
                        "From": time,
                        "To": time
                    },
                    "additionalProperties": false
                }
            },
            "Holidays": {
                "type": ["array", "null"],
                "maxItems": MAX_HOLIDAYS,
                "items": {"type": "string", "format": "date"}
            }
        },
        "additionalProperties": false
    })
}

fn resource_plan() -> Value {
    json!({
        "type": ["object", "null"],
        "required": ["Teams"],
        "properties": {
            "Teams": {
                "type": "array",
                "maxItems": MAX_TEAMS,
                "description": "One entry per team; team names are unique.",
                "items": {
                    "type": "object",
                    "required": ["Team", "Agents", "ProductiveHoursPerDay", "Shrinkage"],
                    "properties": {
                        "Team": {"type": "string", "minLength": 1, "maxLength": MAX_NAME_CHARS, "pattern": NAME_PATTERN},
                        "Agents": {"type": "number", "minimum": 0, "maximum": MAX_AGENTS},
                        "ProductiveHoursPerDay": {"type": "number", "exclusiveMinimum": 0, "maximum": 24},
                        "Shrinkage": {"type": "number", "minimum": 0, "exclusiveMaximum": 1},
                        "Skills": {
                            "type": ["array", "null"],
                            "maxItems": MAX_SKILLS,
                            "items": {"type": "string", "minLength": 1, "maxLength": MAX_NAME_CHARS, "pattern": NAME_PATTERN}
                        }
                    },
                    "additionalProperties": false
                }
            }
        },
        "additionalProperties": false
    })
}

/// Gives every free-text string the service takes the pattern that refuses NUL.
fn no_nul_in_text(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let is_text = match map.get("type") {
                Some(Value::String(t)) => t == "string",
                Some(Value::Array(types)) => types.iter().any(|t| t == "string"),
                _ => false,
            };
            let free = !["pattern", "format", "enum"]
                .iter()
                .any(|k| map.contains_key(*k));
            if is_text && free {
                map.insert("pattern".into(), json!(TEXT_PATTERN));
            }
            for child in map.values_mut() {
                no_nul_in_text(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(no_nul_in_text),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    fn document() -> Value {
        crate::api::openapi_router().1
    }

    fn parameter<'a>(doc: &'a Value, path: &str, method: &str, name: &str) -> &'a Value {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == name))
            .unwrap_or_else(|| panic!("{method} {path} has {name}"))
    }

    #[test]
    fn the_document_states_the_rules_of_parameters() {
        let doc = document();
        let rules = parameter(
            &doc,
            "/customer-case-management/{id}/rules/{rulesid}",
            "get",
            "rulesid",
        );
        assert_eq!(rules["schema"]["pattern"], super::RECORD_ID_PATTERN);
        let size = parameter(&doc, "/customer-case-management", "get", "page_size");
        assert_eq!(size["schema"]["minimum"], 1);
        assert_eq!(size["schema"]["maximum"], 100);
        let level = parameter(&doc, "/staffing/erlang-c", "get", "service_level");
        assert_eq!(level["schema"]["exclusiveMaximum"], 1);
    }

    #[test]
    fn facade_writes_refuse_unknown_properties_and_bian_writes_do_not() {
        let doc = document();
        let body = |path: &str, method: &str| {
            doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
                .clone()
        };
        let facade = body("/customer-case-management/{id}", "put");
        assert_eq!(facade["additionalProperties"], false);
        assert!(facade["properties"]["ResourcePlan"]["properties"]["Teams"].is_object());
        let bian = body("/CustomerCaseManagement/Create", "post");
        assert_eq!(
            bian["$ref"],
            "#/components/schemas/CustomerCaseManagementPlan"
        );
        let plan = &doc["components"]["schemas"]["CustomerCaseManagementPlan"];
        assert!(plan.get("additionalProperties").is_none());
        assert_eq!(
            plan["properties"]["CustomerCaseTrainingPlan"]["pattern"],
            super::TEXT_PATTERN
        );
        let performance = &doc["components"]["schemas"]["Performance"];
        assert_eq!(performance["properties"]["Annotations"]["readOnly"], true);
    }
}
