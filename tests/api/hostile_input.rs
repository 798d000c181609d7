//! Hostile input over every operation of the OpenAPI document.
//!
//! For each operation, the test sends generated bad values for every path
//! parameter, query parameter and body field (wrong types, NUL, multi-byte
//! strings cut at every byte, 100 KB strings, huge and negative numbers, far
//! dates, unknown ids, missing and duplicated fields) through the in-process
//! app as a caller who may do everything, and fails on any 5xx, any error
//! answer that is not a problem document, or any panic (which reaches the test
//! as a service error). Every failure is listed at the end, not only the first.

use std::time::Instant;

use actix_web::http::Method;
use actix_web::test::TestRequest;
use pulang::agencies::AgencyKind;
use pulang::auth::Role;
use serde_json::{Map, Value, json};

use crate::helpers::{TestApp, TestResponse, new_case, with_token};

/// Strings that break careless code: NUL, control characters, multi-byte
/// characters where digits are expected, and very long text.
fn hostile_strings() -> Vec<String> {
    let mut out: Vec<String> = [
        "",
        " ",
        "\u{0}",
        "a\u{0}b",
        "\u{1b}[31m",
        "line\nbreak",
        "€12",
        "6€1",
        "61.७१",
        "👩‍👩‍👧",
        "-1",
        "99999999999999999999",
        "0000-01-01",
        "-000001-01-01T00:00:00Z",
        "+275760-09-13T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "00000000-0000-0000-0000-000000000000",
        "'; DROP TABLE cases; --",
        "%00",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    out.push("x".repeat(100 * 1024));
    out.push(uuid::Uuid::new_v4().to_string());
    out
}

/// Values of every JSON type, at their edges.
fn hostile_values() -> Vec<Value> {
    let mut out: Vec<Value> = vec![
        Value::Null,
        json!(true),
        json!(0),
        json!(-1),
        json!(i64::MAX),
        json!(i64::MIN),
        json!(u64::MAX),
        json!(1e300),
        json!(-0.5),
        json!([]),
        json!(["x"]),
        json!({}),
        json!({"x": 1}),
    ];
    out.extend(hostile_strings().into_iter().map(Value::String));
    out
}

/// Text for a path or query parameter, percent-encoded: the hostile strings,
/// a three-byte character cut after each of its bytes, and raw invalid bytes.
fn hostile_params() -> Vec<String> {
    let mut out: Vec<String> = hostile_strings()
        .iter()
        .map(|s| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>())
        .collect();
    out.extend(
        [
            "%E2",
            "%E2%82",
            "%E2%82%AC12",
            "61%E2%82",
            "%FF%FE",
            "%C0%80",
        ]
        .map(str::to_owned),
    );
    out
}

struct Operation {
    method: Method,
    path: String,
    path_params: Vec<String>,
    query_params: Vec<String>,
    body: Option<Value>,
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let name = reference.rsplit('/').next().unwrap_or_default();
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// A plausible value for a schema: its example, or one built from its type.
fn sample(doc: &Value, schema: &Value, depth: usize) -> Value {
    let schema = resolve(doc, schema);
    if let Some(example) = schema.get("example").or_else(|| schema["examples"].get(0)) {
        return example.clone();
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(first) = schema[key].as_array().and_then(|a| {
            a.iter()
                .find(|s| s.get("type") != Some(&json!("null")))
                .or(a.first())
        }) {
            return sample(doc, first, depth);
        }
    }
    if let Some(values) = schema["enum"].as_array().and_then(|v| v.first()) {
        return values.clone();
    }
    let kind = match &schema["type"] {
        Value::Array(kinds) => kinds
            .iter()
            .find(|k| *k != "null")
            .cloned()
            .unwrap_or(Value::Null),
        other => other.clone(),
    };
    match kind.as_str().unwrap_or("object") {
        "string" => match schema["format"].as_str() {
            Some("date-time") => json!("2019-03-14T09:30:00Z"),
            Some("date") => json!("2019-03-14"),
            Some("uuid") => json!(uuid::Uuid::new_v4()),
            _ => json!("x"),
        },
        "integer" | "number" => json!(1),
        "boolean" => json!(false),
        "array" if depth < 3 => json!([sample(doc, &schema["items"], depth + 1)]),
        "array" => json!([]),
        _ if depth < 3 => {
            let mut object = Map::new();
            if let Some(properties) = schema["properties"].as_object() {
                let required: Vec<&str> = schema["required"]
                    .as_array()
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                for (name, property) in properties {
                    if required.contains(&name.as_str()) {
                        object.insert(name.clone(), sample(doc, property, depth + 1));
                    }
                }
            }
            Value::Object(object)
        }
        _ => json!({}),
    }
}

fn operations(doc: &Value) -> Vec<Operation> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Ok(method) = Method::from_bytes(method.to_uppercase().as_bytes()) else {
                continue;
            };
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let named = |place: &str| -> Vec<String> {
                params
                    .iter()
                    .filter(|p| p["in"] == place)
                    .filter_map(|p| p["name"].as_str().map(str::to_owned))
                    .collect()
            };
            let body = op["requestBody"]["content"]["application/json"]
                .as_object()
                .map(|media| {
                    media
                        .get("example")
                        .cloned()
                        .unwrap_or_else(|| sample(doc, &media["schema"], 0))
                });
            out.push(Operation {
                method,
                path: path.clone(),
                path_params: named("path"),
                query_params: named("query"),
                body,
            });
        }
    }
    // Signing out ends the caller's token: last.
    out.sort_by_key(|op| op.path.ends_with("/logout"));
    out
}

/// Ids of real records, so that bad values also reach code past the lookup.
pub(crate) struct Fixtures {
    pub(crate) token: String,
    agency: String,
    user: String,
    case: String,
    budget: String,
    transfer: String,
}

pub(crate) async fn fixtures(app: &TestApp) -> Fixtures {
    let province = app
        .create_agency(
            "DINSOS-KALBAR",
            AgencyKind::ProvincialSocialService,
            Some("61"),
        )
        .await;
    // The agency and account whose routes are probed: not the caller's, which
    // a probe could otherwise deactivate.
    let victim_agency = app
        .create_agency(
            "DINSOS-6172",
            AgencyKind::RegencySocialService,
            Some("61.72"),
        )
        .await;
    let (_, token) = app
        .user_token(
            province,
            "hostile.tester",
            vec![
                Role::SystemAdmin,
                Role::CaseWorker,
                Role::FinanceOfficer,
                Role::AgencyAdmin,
            ],
        )
        .await;
    let (user, _) = app
        .user_token(victim_agency, "hostile.victim", vec![Role::Viewer])
        .await;
    let id_of = |response: TestResponse| {
        if response.status.is_success() {
            response.json()["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        } else {
            uuid::Uuid::new_v4().to_string()
        }
    };
    let case = id_of(
        app.post("/api/v1/cases", &new_case(1, "61.72"), Some(&token))
            .await,
    );
    let budget = id_of(
        app.post(
            "/api/v1/budgets",
            &json!({"fiscal_year": 2019, "source": "apbd_province", "document_number": "DPA-1",
                    "name": "Pemulangan 2019", "allocation": 100_000_000, "status": "active"}),
            Some(&token),
        )
        .await,
    );
    let transfer = id_of(
        app.post(
            "/api/v1/transfers",
            &json!({"destination_region": "61.72", "fiscal_year": 2019}),
            Some(&token),
        )
        .await,
    );
    Fixtures {
        token,
        agency: victim_agency.to_string(),
        user: user.to_string(),
        case,
        budget,
        transfer,
    }
}

/// A real value for a path parameter of `path`.
pub(crate) fn real_param(f: &Fixtures, path: &str, name: &str) -> String {
    match name {
        "code" => "61.71".to_owned(),
        "user_id" => f.user.clone(),
        "case_id" => f.case.clone(),
        "client_id" => uuid::Uuid::new_v4().to_string(),
        _ if path.starts_with("/api/v1/cases") || path.starts_with("/api/v1/persons") => {
            f.case.clone()
        }
        _ if path.starts_with("/api/v1/budgets") => f.budget.clone(),
        _ if path.starts_with("/api/v1/transfers") => f.transfer.clone(),
        _ if path.starts_with("/api/v1/agencies") => f.agency.clone(),
        _ => uuid::Uuid::new_v4().to_string(),
    }
}

pub(crate) fn fill(path: &str, values: &[(String, String)]) -> String {
    let mut out = path.to_owned();
    for (name, value) in values {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// Why a response breaks the contract, if it does.
fn fault(response: &TestResponse) -> Option<String> {
    if response.status.is_server_error() {
        return Some(format!("{}: {}", response.status, response.text()));
    }
    if response.status.as_u16() >= 400 {
        let is_problem = response
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/problem+json"));
        let parsed: Option<Value> = serde_json::from_slice(&response.body).ok();
        let well_formed = parsed
            .is_some_and(|p| p["status"] == response.status.as_u16() && p["type"].is_string());
        if !is_problem || !well_formed {
            return Some(format!(
                "{} without a problem document: {}",
                response.status,
                response.text().chars().take(200).collect::<String>()
            ));
        }
    }
    None
}

struct Probe<'a> {
    app: &'a TestApp,
    token: &'a str,
    sent: usize,
    statuses: std::collections::BTreeMap<u16, usize>,
    failures: Vec<String>,
    /// The document, and the operation (`post`, `/api/v1/cases`) being probed:
    /// every header a client reads must be documented for the answer's status.
    doc: &'a Value,
    operation: (String, String),
    undocumented: std::collections::BTreeSet<String>,
}

/// Response headers a client reads; each must be in the document wherever the
/// server sends it.
const CLIENT_HEADERS: [&str; 5] = [
    "location",
    "etag",
    "retry-after",
    "x-request-id",
    "idempotent-replayed",
];

impl Probe<'_> {
    async fn send(&mut self, method: &Method, uri: &str, body: Option<Vec<u8>>, what: &str) {
        if uri.parse::<actix_web::http::Uri>().is_err() {
            // Too long or malformed for HTTP itself (over 64 KB): the server's
            // parser refuses it before the application sees it.
            return;
        }
        let mut request = TestRequest::default().method(method.clone()).uri(uri);
        if let Some(body) = body {
            request = request
                .insert_header(("content-type", "application/json"))
                .insert_header(("if-match", "\"1\""))
                .set_payload(body);
        }
        self.sent += 1;
        let response = match self
            .app
            .try_call(with_token(request, Some(self.token)))
            .await
        {
            Ok(response) => response,
            Err(error) => {
                let uri: String = uri.chars().take(120).collect();
                self.failures
                    .push(format!("{method} {uri} [{what}]: {error} (a panic)"));
                return;
            }
        };
        *self.statuses.entry(response.status.as_u16()).or_default() += 1;
        let (method_name, template) = &self.operation;
        let documented =
            &self.doc["paths"][template][method_name]["responses"][response.status.as_str()];
        // 405: a hostile path segment (`a/b`) that lands on another route.
        if documented.is_null() && response.status != 405 {
            self.undocumented.insert(format!(
                "{method_name} {template} {}: the status",
                response.status.as_str()
            ));
        }
        for name in CLIENT_HEADERS {
            if response.headers.contains_key(name)
                && !documented.is_null()
                && !documented["headers"]
                    .as_object()
                    .is_some_and(|h| h.keys().any(|k| k.eq_ignore_ascii_case(name)))
            {
                self.undocumented.insert(format!(
                    "{method_name} {template} {}: header {name}",
                    response.status.as_str()
                ));
            }
        }
        if let Some(fault) = fault(&response) {
            let uri: String = uri.chars().take(120).collect();
            self.failures
                .push(format!("{method} {uri} [{what}]: {fault}"));
        }
    }
}

/// The base body with `value` at `field` (a top-level or a nested key), or without it.
fn with_field(base: &Value, path: &[String], value: Option<&Value>) -> Value {
    let mut body = base.clone();
    let mut target = &mut body;
    for (i, key) in path.iter().enumerate() {
        let last = i + 1 == path.len();
        if target.is_array() {
            match target.get_mut(0) {
                Some(first) => target = first,
                None => return body,
            }
        }
        let Value::Object(map) = target else {
            return body;
        };
        if last {
            match value {
                Some(v) => map.insert(key.clone(), v.clone()),
                None => map.remove(key),
            };
            return body;
        }
        let Some(next) = map.get_mut(key) else {
            return body;
        };
        target = next;
    }
    body
}

/// Every field path of a body to two levels (`person.nik`, `legs.mode`).
fn field_paths(body: &Value) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    if let Value::Object(map) = body {
        for (key, value) in map {
            out.push(vec![key.clone()]);
            let inner = match value {
                Value::Array(items) => items.first(),
                other => Some(other),
            };
            if let Some(Value::Object(inner)) = inner {
                for sub in inner.keys() {
                    out.push(vec![key.clone(), sub.clone()]);
                }
            }
        }
    }
    out
}

#[actix_web::test]
async fn no_hostile_input_to_any_operation_gets_a_5xx_or_a_bare_error() {
    let started = Instant::now();
    let app = TestApp::spawn().await;
    let f = fixtures(&app).await;
    let doc = serde_json::to_value(pulang::openapi::openapi()).unwrap();
    let operations = operations(&doc);
    assert!(operations.len() > 40, "the document lists every operation");
    let mut probe = Probe {
        app: &app,
        token: &f.token,
        sent: 0,
        statuses: Default::default(),
        failures: Vec::new(),
        doc: &doc,
        operation: Default::default(),
        undocumented: Default::default(),
    };
    let params = hostile_params();
    let values = hostile_values();
    for op in &operations {
        let real: Vec<(String, String)> = op
            .path_params
            .iter()
            .map(|name| (name.clone(), real_param(&f, &op.path, name)))
            .collect();
        let base_uri = fill(&op.path, &real);
        let base_body = op.body.as_ref().map(|b| serde_json::to_vec(b).unwrap());
        probe.operation = (op.method.as_str().to_lowercase(), op.path.clone());

        // as documented
        probe
            .send(&op.method, &base_uri, base_body.clone(), "example")
            .await;
        // each path parameter
        for (i, (name, _)) in real.iter().enumerate() {
            for bad in &params {
                let mut values = real.clone();
                values[i].1 = bad.clone();
                let uri = fill(&op.path, &values);
                probe
                    .send(&op.method, &uri, base_body.clone(), &format!("path {name}"))
                    .await;
            }
        }
        // each query parameter, alone and twice
        for name in &op.query_params {
            for bad in &params {
                let uri = format!("{base_uri}?{name}={bad}");
                probe
                    .send(
                        &op.method,
                        &uri,
                        base_body.clone(),
                        &format!("query {name}"),
                    )
                    .await;
            }
            let uri = format!("{base_uri}?{name}=1&{name}=2");
            probe
                .send(
                    &op.method,
                    &uri,
                    base_body.clone(),
                    &format!("query {name} twice"),
                )
                .await;
        }
        // each body field: every hostile value, missing, and given twice
        let Some(body) = &op.body else { continue };
        for field in field_paths(body) {
            let what = field.join(".");
            for bad in &values {
                let mutated = serde_json::to_vec(&with_field(body, &field, Some(bad))).unwrap();
                probe
                    .send(
                        &op.method,
                        &base_uri,
                        Some(mutated),
                        &format!("body {what}"),
                    )
                    .await;
            }
            let missing = serde_json::to_vec(&with_field(body, &field, None)).unwrap();
            probe
                .send(
                    &op.method,
                    &base_uri,
                    Some(missing),
                    &format!("body {what} missing"),
                )
                .await;
            if field.len() == 1 {
                // the same key twice: {"k": 1, ...rest, "k": "x"}
                let rest = serde_json::to_string(body).unwrap();
                let twice = format!(
                    "{{{}: 1, {}, {}: \"x\"}}",
                    serde_json::to_string(&field[0]).unwrap(),
                    rest.trim_start_matches('{').trim_end_matches('}'),
                    serde_json::to_string(&field[0]).unwrap()
                );
                probe
                    .send(
                        &op.method,
                        &base_uri,
                        Some(twice.into_bytes()),
                        &format!("body {what} twice"),
                    )
                    .await;
            }
        }
        // the whole body cut inside a multi-byte character, at every byte
        let text = format!(
            "{{\"x\": \"€\", \"y\": {}}}",
            serde_json::to_string(body).unwrap()
        );
        for cut in 1..=3 {
            let at = text.find('€').unwrap() + cut;
            let bytes = text.as_bytes()[..at].to_vec();
            probe
                .send(
                    &op.method,
                    &base_uri,
                    Some(bytes),
                    &format!("body cut at byte {cut}"),
                )
                .await;
        }
        let mut invalid = b"{\"x\": \"".to_vec();
        invalid.extend([0xE2, 0x82, b'"', b'}']);
        probe
            .send(&op.method, &base_uri, Some(invalid), "invalid UTF-8")
            .await;
    }
    let elapsed = started.elapsed();
    eprintln!(
        "hostile input: {} requests over {} operations in {:.1} s; answers by status: {:?}",
        probe.sent,
        operations.len(),
        elapsed.as_secs_f64(),
        probe.statuses
    );
    assert!(
        probe.failures.is_empty(),
        "{} of {} hostile requests broke the contract:\n{}",
        probe.failures.len(),
        probe.sent,
        probe
            .failures
            .iter()
            .take(60)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        probe.undocumented.is_empty(),
        "statuses and headers the server answers that the document does not list: {:#?}",
        probe.undocumented
    );
}
