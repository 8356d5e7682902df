//! The corpus: each case is one hostile request as data — method, target, headers, body
//! bytes — and the statuses it may get. Targets use the ids of records that exist, so a case
//! reaches the deepest check it can.

/// The records the corpus aims at.
pub struct Targets {
    /// A plan that exists.
    pub plan: String,
    /// An intervention request on it.
    pub request: String,
    /// A recorded evaluation of its criterion `r1`.
    pub evaluation: String,
}

/// One hostile request.
pub struct Case {
    pub name: &'static str,
    pub method: &'static str,
    pub target: Vec<u8>,
    pub headers: Vec<(&'static str, Vec<u8>)>,
    pub body: Vec<u8>,
    /// The acceptable statuses (all 4xx).
    pub expect: &'static [u16],
    /// Refused by the HTTP parser (hyper) before any code of ours runs: such answers carry
    /// and the health of the server afterwards are checked.
    pub transport: bool,
    /// The case writes its own `content-length`/`transfer-encoding`.
    pub own_framing: bool,
}

fn case(name: &'static str, method: &'static str, target: impl Into<Vec<u8>>) -> Case {
    Case {
        name,
        method,
        target: target.into(),
        headers: Vec::new(),
        body: Vec::new(),
        expect: &[400],
        transport: false,
        own_framing: false,
    }
}

impl Case {
    fn typed(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        self.headers
            .push(("content-type", content_type.as_bytes().to_vec()));
        self.body = body.into();
        self
    }

    fn json(self, body: impl Into<Vec<u8>>) -> Self {
        self.typed("application/json", body)
    }

    fn ndjson(self, body: impl Into<Vec<u8>>) -> Self {
        self.typed("application/x-ndjson", body)
    }

    fn untyped(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    fn header(mut self, name: &'static str, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push((name, value.into()));
        if matches!(name, "content-length" | "transfer-encoding") {
            self.own_framing = true;
        }
        self
    }

    fn expect(mut self, statuses: &'static [u16]) -> Self {
        self.expect = statuses;
        self
    }

    fn transport(mut self) -> Self {
        self.transport = true;
        self
    }
}

/// Nested arrays `depth` deep.
fn nested(depth: usize) -> Vec<u8> {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes()
}

/// An object nested `depth` deep under the property `name`.
fn nested_object(name: &str, depth: usize) -> Vec<u8> {
    format!(
        "{{\"{name}\": {}1{}}}",
        "{\"a\": ".repeat(depth),
        "}".repeat(depth)
    )
    .into_bytes()
}

fn event(id: &str, extra: &str) -> String {
    format!(
        r#"{{"EventId": "{id}", "CaseId": "c-1", "EventType": "opened", "OccurredAt": "2026-11-02T09:00:00Z"{extra}}}"#
    )
}

/// Event ids that hostile batches carry before their bad event: none may be stored.
pub const BATCH_EVENT_IDS: [&str; 3] = ["h-1", "h-2", "h-3"];

const ERLANG: &str = "/staffing/erlang-c?interval_seconds=1800&aht_seconds=180&target_answer_seconds=20&service_level=0.8";
const TEN_MB: usize = 10 * 1024 * 1024;

/// The whole corpus.
pub fn corpus(t: &Targets) -> Vec<Case> {
    let p = &t.plan;
    let create = "/CustomerCaseManagement/Create";
    let update = format!("/CustomerCaseManagement/{p}/Update");
    let retrieve = format!("/CustomerCaseManagement/{p}/Retrieve");
    let rule = format!("/CustomerCaseManagement/{p}/Rules/r1/Update");
    let perf = format!("/CustomerCaseManagement/{p}/Performance/p1/Update");
    let facade = format!("/customer-case-management/{p}");
    let events = format!("{facade}/case-events");
    let evaluate = format!("{facade}/rules/r1/evaluations");
    let request = format!("{facade}/requests/{}", t.request);
    let outcome = format!("{evaluate}/{}", t.evaluation);
    let huge_text = format!(
        r#"{{"CustomerCaseTrainingPlan": "{}"}}"#,
        "x".repeat(TEN_MB)
    );
    vec![
        // Malformed and truncated JSON.
        case("truncated string", "POST", create).json(r#"{"CustomerCaseTrainingPlan": "x"#),
        case("truncated escape", "PUT", update.as_str()).json(r#"{"CustomerCaseTrainingPlan": "\u12"#),
        case("empty JSON body", "POST", create).json(""),
        case("lone comma", "POST", create).json("{,}"),
        case("single quotes", "POST", "/customer-case-management").json("{'CustomerCaseTrainingPlan': 'x'}"),
        case("trailing garbage", "POST", create).json("{} {}"),
        case("byte order mark", "PUT", rule.as_str()).json(b"\xEF\xBB\xBF{}".to_vec()),
        case("truncated rule", "PUT", rule.as_str()).json(r#"{"Expression": "amount <"#),
        case("truncated evaluation", "POST", evaluate.as_str()).json(r#"{"Facts": {"amount": 1"#),
        case("truncated event array", "POST", events.as_str()).json(format!("[{}, {{\"EventId\": \"h-9\"", event("h-1", ""))),
        case("truncated NDJSON line", "POST", events.as_str()).ndjson(format!("{}\n{{\"EventId\": \"h-2\", \"Ca", event("h-1", ""))),
        case("body shorter than its content-length", "PUT", update.as_str())
            .json(r#"{"CustomerCaseTrainingPlan": "x"}"#)
            .header("content-length", "4096")
            .expect(&[408]),
        // JSON that is not an object.
        case("array body", "POST", create).json("[]"),
        case("null body", "POST", create).json("null"),
        case("string body", "PUT", perf.as_str()).json(r#""p1""#),
        case("number body", "PATCH", request.as_str()).json("42"),
        case("object instead of event array", "POST", events.as_str()).json(event("h-1", "")),
        case("array as NDJSON line", "POST", events.as_str()).ndjson(format!("{}\n[1, 2]\n", event("h-1", ""))),
        // Wrong types.
        case("boolean text", "POST", create).json(r#"{"CustomerCaseTrainingPlan": true}"#),
        case("calendar as string", "PUT", update.as_str()).json(r#"{"BusinessCalendar": "Europe/Berlin"}"#),
        case("priority as text", "PUT", rule.as_str()).json(r#"{"Priority": "high"}"#),
        case("parameters as array", "PUT", rule.as_str()).json(r#"{"Parameters": [1, 2]}"#),
        case("status as array", "PATCH", request.as_str()).json(r#"{"Status": ["resolved"]}"#),
        case("facts as string", "POST", evaluate.as_str()).json(r#"{"Facts": "amount=1"}"#),
        case("record flag as string", "POST", evaluate.as_str()).json(r#"{"Facts": {"amount": 1, "history": {"disputes_12m": 0}}, "Record": "yes"}"#),
        case("effort as text", "POST", events.as_str()).ndjson(format!("{}\n{}\n", event("h-1", ""), event("h-2", r#", "EffortMinutes": "ten""#))),
        case("details as string", "POST", format!("{facade}/requests")).json(r#"{"Reason": "r", "Details": "x"}"#),
        case("outcome amount as number", "PATCH", outcome.as_str()).json(r#"{"Outcome": "upheld", "Amount": {"Value": 12.5, "Currency": "EUR"}}"#),
        // Numbers out of every range.
        case("1e400 as text", "POST", create).json(r#"{"CustomerCaseTrainingPlan": 1e400}"#),
        case("1e400 priority", "PUT", rule.as_str()).json(r#"{"Priority": 1e400}"#),
        case("2^64 priority", "PUT", rule.as_str()).json(r#"{"Priority": 18446744073709551616}"#),
        case("negative zero agents", "PUT", update.as_str()).json(r#"{"ResourcePlan": {"Teams": [{"Team": "t", "Agents": -0, "ProductiveHoursPerDay": -0}]}}"#),
        case("1e400 fact", "POST", evaluate.as_str()).json(r#"{"Facts": {"amount": 1e400, "history": {"disputes_12m": 0}}}"#),
        case("2^64 effort", "POST", events.as_str()).ndjson(format!("{}\n{}\n", event("h-1", ""), event("h-2", r#", "EffortMinutes": 18446744073709551616"#))),
        case("1e400 arrivals", "GET", format!("{ERLANG}&arrivals=1e400")),
        case("NaN arrivals", "GET", format!("{ERLANG}&arrivals=NaN")),
        case("infinite service level", "GET", "/staffing/erlang-c?arrivals=10&interval_seconds=1800&aht_seconds=180&target_answer_seconds=20&service_level=inf"),
        case("negative zero interval", "GET", "/staffing/erlang-c?arrivals=10&interval_seconds=-0&aht_seconds=180&target_answer_seconds=20&service_level=0.8"),
        case("2^64 weeks", "GET", format!("{facade}/projections?weeks=18446744073709551616")),
        case("negative zero weeks", "GET", format!("{facade}/projections?weeks=-0")),
        // Deep nesting.
        case("10,000 nested arrays", "POST", create).json(nested(10_000)),
        case("10,000 nested objects", "PUT", update.as_str()).json(nested_object("CustomerCaseTrainingPlan", 10_000)),
        case("10,000 nested facts", "POST", evaluate.as_str()).json(nested_object("Facts", 10_000)),
        case("10,000 nested event", "POST", events.as_str()).ndjson(nested_object("EventId", 10_000)),
        case("expression of 3,000 parentheses", "PUT", rule.as_str()).json(format!(r#"{{"Expression": "{}amount{} > 1"}}"#, "(".repeat(3_000), ")".repeat(3_000))),
        case("expression of 3,000 negations", "POST", format!("{facade}/rules/r1/backtests")).json(format!(r#"{{"Expression": "{}true"}}"#, "!".repeat(3_000))),
        case("expression of 1,500 nested lists", "PUT", rule.as_str()).json(format!(r#"{{"Expression": "size({}1{}) > 0"}}"#, "[".repeat(1_500), "]".repeat(1_500))),
        case("8,000-year window", "PUT", perf.as_str()).json(r#"{"CustomerCaseServiceStatisticType": "throughput", "WindowStart": "2000-01-01T00:00:00Z", "WindowEnd": "9999-12-31T23:59:59Z"}"#),
        case("window beyond any calendar", "PUT", perf.as_str()).json(r#"{"WindowStart": "+275760-09-13T00:00:00Z"}"#),
        case("1e308 resolution hours", "PUT", update.as_str()).json(r#"{"ServiceLevelTargets": {"urgent": {"FirstResponseHours": 1, "ResolutionHours": 1e308, "AttainmentGoal": 0.9}}}"#),
        case("5,000 holidays", "PUT", update.as_str()).json(format!(r#"{{"BusinessCalendar": {{"TimeZone": "UTC", "Holidays": [{}]}}}}"#, (0..5_000).map(|d| format!("\"{}-01-01\"", 2000 + d % 8_000)).collect::<Vec<_>>().join(","))),
        case("10,000 teams", "PUT", update.as_str()).json(format!(r#"{{"ResourcePlan": {{"Teams": [{}]}}}}"#, (0..10_000).map(|n| format!(r#"{{"Team": "t{n}", "Agents": 1, "ProductiveHoursPerDay": 6}}"#)).collect::<Vec<_>>().join(","))),
        case("time zone path traversal", "PUT", update.as_str()).json(r#"{"BusinessCalendar": {"TimeZone": "../../../../etc/localtime"}}"#),
        case("facts list of 5,000 items", "POST", format!("{facade}/evaluations")).json(format!(r#"{{"Facts": {{"amount": 1, "history": {{"disputes_12m": 0}}, "items": [{}0]}}}}"#, "0,".repeat(5_000))),
        // Huge bodies.
        case("10 MB create", "POST", create).json(huge_text.clone()).expect(&[413]),
        case("10 MB rule", "PUT", rule.as_str()).json(huge_text.clone()).expect(&[413]),
        // Declared over the limit but never sent: the body limit counts bytes as they arrive,
        // so the answer is the body deadline's 408 (after 2 s in these tests, 30 s by default).
        case("10 MB declared, little sent", "PUT", update.as_str())
            .json("{}")
            .header("content-length", TEN_MB.to_string())
            .expect(&[408, 413]),
        case("10 MB chunked", "POST", "/customer-case-management")
            .json(chunked(huge_text.as_bytes()))
            .header("transfer-encoding", "chunked")
            .expect(&[413]),
        case("10 MB of NDJSON garbage", "POST", events.as_str()).ndjson(vec![b'x'; TEN_MB]),
        case("20 MB event batch", "POST", events.as_str()).ndjson(vec![b' '; 20 * 1024 * 1024]).expect(&[413]),
        // Invalid UTF-8.
        case("invalid UTF-8 in a value", "POST", create).json(b"{\"CustomerCaseTrainingPlan\": \"\xff\xfe\"}".to_vec()),
        case("invalid UTF-8 in a name", "PUT", rule.as_str()).json(b"{\"\xc3\x28\": \"x\"}".to_vec()),
        case("invalid UTF-8 in NDJSON", "POST", events.as_str()).ndjson([event("h-1", "").as_bytes(), b"\n{\"EventId\": \"\xed\xa0\x80\"}\n"].concat()),
        case("raw byte 0xFF in path", "GET", [b"/CustomerCaseManagement/".as_slice(), b"\xff", b"/Retrieve"].concat()).transport(),
        case("%FF in plan id", "GET", "/CustomerCaseManagement/%FF%FE/Retrieve").expect(&[400, 404]),
        case("%FF in rule id", "PUT", format!("/CustomerCaseManagement/{p}/Rules/%C3%28/Update")).json("{}"),
        case("%FF in page token", "GET", "/customer-case-management?page_token=%FF%FE"),
        // NUL and control characters.
        // PostgreSQL cannot store NUL in text or jsonb: these were 500s there.
        case("NUL in a text value", "POST", create).json(r#"{"CustomerCaseTrainingPlan": "a\u0000b"}"#),
        case("NUL in a rule's text", "PUT", rule.as_str()).json(r#"{"CustomerCaseDecisionCriterion": "x\u0000"}"#),
        case("NUL in a parameter name", "PUT", rule.as_str()).json(r#"{"Parameters": {"limit\u0000": 1}}"#),
        case("NUL in a performance text", "PUT", format!("{facade}/performances/p1")).json(r#"{"CustomerCaseServiceStatisticType": "\u0000"}"#),
        case("NUL in a request reason", "POST", format!("{facade}/requests")).json(r#"{"Reason": "\u0000"}"#),
        case("NUL in a fact name", "POST", evaluate.as_str()).json(r#"{"Facts": {"amount": 1, "history": {"disputes_12m": 0}, "\u0000": 1}, "Record": true, "CaseId": "c-1"}"#),
        case("NUL in a case id", "POST", evaluate.as_str()).json(r#"{"Facts": {"amount": 1, "history": {"disputes_12m": 0}}, "Record": true, "CaseId": "c\u0000"}"#),
        case("NUL in a comment", "PATCH", request.as_str()).json(r#"{"Status": "acknowledged", "Comment": "\u0000"}"#),
        case("NUL in an outcome", "PATCH", outcome.as_str()).json(r#"{"Outcome": "\u0000"}"#),
        case("raw control byte in a string", "POST", create).json(b"{\"CustomerCaseTrainingPlan\": \"a\x01b\"}".to_vec()),
        case("NUL in an event", "POST", events.as_str()).ndjson(format!("{}\n{}\n", event("h-1", ""), event("h-2", r#", "Team": "a\u0000""#))),
        case("%00 in plan id", "GET", "/CustomerCaseManagement/%00/Retrieve").expect(&[404]),
        case("%00 in rule id", "GET", format!("/CustomerCaseManagement/{p}/Rules/r%00/Retrieve")),
        case("CRLF in rule id", "PUT", format!("/customer-case-management/{p}/rules/r%0D%0Aset-cookie:x")).json("{}"),
        // SQL and script fragments.
        case("SQL in a property name", "POST", "/customer-case-management").json(r#"{"CustomerCaseTrainingPlan' OR 1=1 --": "x"}"#),
        case("SQL in a plan id", "GET", "/CustomerCaseManagement/'%20OR%201=1%20--/Retrieve").expect(&[404]),
        case("SQL in a rule id", "PUT", format!("/CustomerCaseManagement/{p}/Rules/r1;%20DROP%20TABLE%20plans/Update")).json("{}"),
        case("SQL in a page token", "GET", "/customer-case-management?page_token=%27%20OR%201%3D1%20--"),
        case("SQL in a status filter", "GET", format!("{facade}/requests?status=open'%20OR%20'1'='1")),
        case("SQL in an expression", "PUT", rule.as_str()).json(r#"{"Expression": "1 == 1; DROP TABLE plans"}"#),
        case("script as a property name", "PUT", facade.as_str()).json(r#"{"<script>alert(1)</script>": "x"}"#),
        case("script in a plan id", "GET", "/customer-case-management/%3Cscript%3Ealert(1)%3C%2Fscript%3E").expect(&[404]),
        case("script as a status", "PATCH", request.as_str()).json(r#"{"Status": "<script>alert(1)</script>"}"#),
        // Path traversal and encoded slashes.
        case("dot segments", "GET", "/CustomerCaseManagement/../../etc/passwd/Retrieve").expect(&[404]),
        case("encoded dot segments as plan id", "GET", "/CustomerCaseManagement/%2e%2e/Retrieve").expect(&[404]),
        case("encoded dot-dot-slash", "GET", "/CustomerCaseManagement/%2e%2e%2f%2e%2e%2fhealth%2fready/Retrieve").expect(&[404]),
        case("encoded slashes in plan id", "GET", "/CustomerCaseManagement/..%2F..%2Fetc%2Fpasswd/Retrieve").expect(&[404]),
        case("encoded traversal as rule id", "PUT", format!("/CustomerCaseManagement/{p}/Rules/..%2f..%2fplans/Update")).json("{}"),
        case("dot-dot rule id", "PUT", format!("{facade}/rules/%2E%2E")).json("{}"),
        case("backslash traversal", "GET", format!("{facade}/performances/..%5C..%5Cwindows")),
        case("plan and rule through one segment", "GET", format!("/CustomerCaseManagement/{p}%2FRules%2Fr1/Retrieve")).expect(&[404]),
        case("traversal under the docs", "GET", "/docs/..%2F..%2F..%2Fetc%2Fpasswd").expect(&[404]),
        case("empty plan id", "GET", "/CustomerCaseManagement//Retrieve").expect(&[404]),
        // Overlong ids.
        case("65-character plan id", "GET", format!("/CustomerCaseManagement/{}/Retrieve", "a".repeat(65))).expect(&[404]),
        case("10 KB plan id", "PUT", format!("/customer-case-management/{}", "9".repeat(10_240))).json("{}").expect(&[404]),
        case("65-character rule id", "PUT", format!("{facade}/rules/{}", "r".repeat(65))).json("{}"),
        case("10 KB performance id", "GET", format!("/CustomerCaseManagement/{p}/Performance/{}/Retrieve", "p".repeat(10_240))),
        case("10 KB request id", "GET", format!("{facade}/requests/{}", "q".repeat(10_240))).expect(&[404]),
        case("10 KB evaluation id", "PATCH", format!("{evaluate}/{}", "e".repeat(10_240))).json(r#"{"Outcome": "upheld"}"#).expect(&[404]),
        case("100 KB path", "GET", format!("/CustomerCaseManagement/{}/Retrieve", "a".repeat(100 * 1024))).expect(&[414]).transport(),
        // Wrong and missing content types.
        // The BIAN operations answer 400 for what they cannot take (their contract lists no
        // 415); the facade answers 415.
        case("text/plain", "POST", create).typed("text/plain", "{}").expect(&[400]),
        case("no content type", "PUT", update.as_str()).untyped("{}").expect(&[400]),
        case("form encoded", "PUT", rule.as_str()).typed("application/x-www-form-urlencoded", "Priority=1").expect(&[400]),
        case("multipart", "POST", "/customer-case-management").typed("multipart/form-data; boundary=x", "--x--").expect(&[415]),
        case("XML evaluation", "POST", evaluate.as_str()).typed("application/xml", "<facts/>").expect(&[415]),
        case("CSV events", "POST", events.as_str()).typed("text/csv", "EventId,CaseId\nh-1,c-1\n").expect(&[415]),
        // Bodies are not decompressed: a gzip body is bytes that are not JSON.
        case("gzip-encoded body", "PUT", update.as_str()).json(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xab\xae\x05\x00\x43\xbf\xa6\xa3\x02\x00\x00\x00".to_vec()).header("content-encoding", "gzip").expect(&[400, 415]),
        case("array sent as NDJSON", "POST", events.as_str()).ndjson(format!("[{}]", event("h-1", ""))),
        case("UTF-16 body", "POST", create).typed("application/json; charset=utf-16", b"\xff\xfe{\x00}\x00".to_vec()),
        case("content type with 0xFF", "POST", create).typed("application/json\u{ff}", "{}").expect(&[400]),
        case("10 KB content type", "PATCH", request.as_str()).typed(&"a".repeat(10_240), "{}").expect(&[415]),
        // Duplicate keys: readers disagree on which value wins, so the request means nothing.
        case("duplicate property", "POST", create).json(r#"{"CustomerCaseTrainingPlan": "a", "CustomerCaseTrainingPlan": "b"}"#),
        case("duplicate status", "PATCH", request.as_str()).json(r#"{"Status": "resolved", "Status": "rejected"}"#),
        case("duplicate nested fact", "POST", evaluate.as_str()).json(r#"{"Facts": {"amount": 1, "history": {"disputes_12m": 0, "disputes_12m": 5}}}"#),
        case("duplicate event id in NDJSON", "POST", events.as_str()).ndjson(format!("{}\n{}\n", event("h-1", ""), event("h-2", r#", "EventId": "h-3""#))),
        case("duplicate event id in an array", "POST", events.as_str()).json(format!("[{}, {}]", event("h-1", ""), event("h-2", r#", "EventId": "h-3""#))),
        // Header abuse.
        case("If-Match with trailing junk", "PUT", update.as_str()).json("{}").header("if-match", r#""1"x"#).expect(&[412]),
        case("If-Match list of strangers", "PUT", update.as_str()).json("{}").header("if-match", r#""998", "999""#).expect(&[412]),
        case("If-Match negative", "PUT", rule.as_str()).json("{}").header("if-match", r#""-1""#).expect(&[412]),
        case("If-Match beyond i64", "PATCH", request.as_str()).json(r#"{"Status": "acknowledged"}"#).header("if-match", r#""99999999999999999999""#).expect(&[412]),
        case("10 KB If-Match", "PUT", perf.as_str()).json("{}").header("if-match", "\"".repeat(10_240)).expect(&[412]),
        case("If-Match with 0xFF", "PUT", update.as_str()).json("{}").header("if-match", b"\"\xff\"".to_vec()).expect(&[412]),
        // Interaction ids are echoed and logged: only plain ids of at most 128 characters.
        case("10 KB interaction id", "GET", retrieve.as_str()).header("x-fapi-interaction-id", "i".repeat(10_240)),
        case("interaction id with 0xFF", "GET", retrieve.as_str()).header("x-fapi-interaction-id", b"id-\xff".to_vec()),
        case("empty interaction id", "GET", retrieve.as_str()).header("x-fapi-interaction-id", ""),
        case("script as interaction id", "GET", retrieve.as_str()).header("x-fapi-interaction-id", "<script>alert(1)</script>"),
        case("interaction id with a space", "POST", create).json("{}").header("x-fapi-interaction-id", "a b"),
        case("two interaction ids", "GET", retrieve.as_str()).header("x-fapi-interaction-id", "a-1").header("x-fapi-interaction-id", "a-2"),
        case("200 headers", "GET", retrieve.as_str()).many_headers(200).expect(&[431]).transport(),
        case("1 MB header", "GET", retrieve.as_str()).header("x-padding", "p".repeat(1024 * 1024)).expect(&[431]).transport(),
        case("NUL in a header", "GET", retrieve.as_str()).header("x-note", b"a\x00b".to_vec()).transport(),
        case("bad content-length", "PUT", update.as_str()).json("{}").header("content-length", "-1").transport(),
        case("two content-lengths", "PUT", update.as_str()).json("{}").header("content-length", "2").header("content-length", "3").transport(),
        // hyper reads the chunked body (empty) and ignores the length, as RFC 9112 allows.
        case("content-length and chunked", "PUT", update.as_str()).json("0\r\n\r\n").header("content-length", "5").header("transfer-encoding", "chunked"),
        // Bad query strings.
        case("unknown staffing parameter", "GET", format!("{ERLANG}&arrivals=10&admin=1")),
        case("repeated staffing parameter", "GET", format!("{ERLANG}&arrivals=10&arrivals=20")),
        case("missing staffing parameters", "GET", "/staffing/erlang-c"),
        case("huge traffic", "GET", format!("{ERLANG}&arrivals=1e300")),
        case("tiny negative handling time", "GET", "/staffing/erlang-c?arrivals=10&interval_seconds=1800&aht_seconds=-1e-300&target_answer_seconds=20&service_level=0.8"),
        case("tiny occupancy cap", "GET", format!("{ERLANG}&arrivals=1000&max_occupancy=1e-300")),
        case("unknown projection parameter", "GET", format!("{facade}/projections?weeks=4&debug=true")),
        case("repeated weeks", "GET", format!("{facade}/projections?weeks=1&weeks=52")),
        case("weeks as text", "GET", format!("{facade}/projections?weeks=four")),
        case("53 weeks", "GET", format!("{facade}/projections?weeks=53")),
        case("negative page size", "GET", "/customer-case-management?page_size=-5"),
        case("NaN page size", "GET", format!("{facade}/rules?page_size=NaN")),
        case("repeated page size", "GET", format!("{facade}/performances?page_size=1&page_size=2")),
        case("unknown list parameter", "GET", "/customer-case-management?page_size=5&sort=DROP"),
        case("misspelt page size", "GET", format!("{facade}/rules/r1/evaluations?pagesize=5")),
        case("unknown request filter", "GET", format!("{facade}/requests?status=open&owner=admin")),
        case("empty status filter", "GET", format!("{facade}/requests?status=")),
        case("NUL in a query", "GET", format!("{evaluate}?page_token=%00")),
        case("10 KB query", "GET", format!("{facade}/rules/r1/versions?page_token={}", "A".repeat(10_240))),
        // Methods the paths do not offer.
        case("TRACE", "TRACE", create).expect(&[405]),
        case("made-up method", "BREW", retrieve.as_str()).expect(&[405]),
        case("DELETE a plan", "DELETE", facade.as_str()).expect(&[405]),
    ]
}

impl Case {
    fn many_headers(mut self, count: usize) -> Self {
        for n in 0..count {
            self.headers.push(("x-filler", format!("{n}").into_bytes()));
        }
        self
    }
}

fn chunked(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + body.len() / 1024 * 8 + 8);
    for piece in body.chunks(64 * 1024) {
        out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}
