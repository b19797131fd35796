//! Hostile input on every operation of `openapi.json`: one parameter at a time (each query
//! parameter, path parameter and JSON body field), the test sends unicode, empty, huge,
//! negative and wrong-type values, and requires that every answer is either a success (for a
//! value that happens to be acceptable, like a display name in Greek) or a 4xx in the API's
//! error shape. Never a 5xx, never a panic (which a real server turns into a dropped
//! connection), never a plain-text rejection.
//!
//! Each request runs in its own task so that one panicking handler is reported with all the
//! others instead of ending the test at the first. Both tests run on SQLite, and on
//! PostgreSQL when `BYGD_TEST_DATABASE_URL` is set (PostgreSQL refuses a NUL character in
//! text, which SQLite stores).

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use bygd_dashboard::api::OPENAPI;
use bygd_dashboard::{Principal, Role, Sites};
use common::{backends, TestDb, SITE};
use http_body_util::BodyExt as _;
use serde_json::{json, Value};
use tower::ServiceExt as _;

/// The keys of an OpenAPI path item that are operations.
const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

/// A string of 100 kB: far over any field's limit, far under a request body limit.
const HUGE_LEN: usize = 100_000;
/// The longest URL value: the `http` crate refuses a URI of 64 KiB or more (a real server
/// answers 414 before any handler runs), so a huge parameter is just under that.
const HUGE_URL_LEN: usize = 60_000;

/// The operator account the login example names.
const OPERATOR: (&str, &str) = ("anna", "correct horse battery");

/// The exact inputs of issue #11 that crashed or overflowed the relative-time parser.
const CRASHING_SINCE: [&str; 2] = ["%2B5%C3%A9", "%2B106751991167301d"];

/// Values for a query or path parameter, already percent-encoded.
fn text_values() -> Vec<(&'static str, String)> {
    vec![
        ("unicode", enc("é")),
        ("emoji and CJK", enc("😀日本")),
        ("a relative time ending inside a character", enc("+5é")),
        ("a relative time that overflows", enc("+106751991167301d")),
        ("a NUL byte", enc("a\0b")),
        ("not UTF-8", "%FF%FE".to_owned()),
        ("empty", String::new()),
        ("huge", "a".repeat(HUGE_URL_LEN)),
        ("2^64", "18446744073709551616".to_owned()),
        ("1e308", "1e308".to_owned()),
        ("negative", "-1".to_owned()),
        ("below i64", "-9223372036854775809".to_owned()),
        ("wrong type: an array", enc("[]")),
        ("wrong type: a boolean", "true".to_owned()),
    ]
}

/// Values for a JSON body field, as raw JSON text.
fn json_values() -> Vec<(&'static str, String)> {
    let huge = "a".repeat(HUGE_LEN);
    vec![
        ("unicode", json!("é").to_string()),
        ("emoji and CJK", json!("😀日本").to_string()),
        (
            "a relative time ending inside a character",
            json!("+5é").to_string(),
        ),
        (
            "a relative time that overflows",
            json!("+106751991167301d").to_string(),
        ),
        ("a NUL character", json!("a\u{0}b").to_string()),
        ("empty", json!("").to_string()),
        ("huge", json!(huge).to_string()),
        ("2^64", "18446744073709551616".to_owned()),
        ("1e308", "1e308".to_owned()),
        ("-1e308", "-1e308".to_owned()),
        ("negative", "-1".to_owned()),
        ("below i64", "-9223372036854775809".to_owned()),
        ("wrong type: an object", "{}".to_owned()),
        ("wrong type: an array", "[]".to_owned()),
        ("wrong type: a boolean", "true".to_owned()),
        ("null", "null".to_owned()),
        ("a list of one unicode item", json!(["é"]).to_string()),
        ("a list of one empty item", json!([""]).to_string()),
        ("a list of one huge item", json!([huge]).to_string()),
        (
            "a list of many items",
            json!(vec!["front"; 10_000]).to_string(),
        ),
    ]
}

/// Percent-encodes every byte but unreserved ones.
fn enc(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `v` with `$ref`s to the document followed.
fn resolve<'a>(doc: &'a Value, mut v: &'a Value) -> &'a Value {
    while let Some(target) = v.get("$ref").and_then(Value::as_str) {
        v = doc
            .pointer(target.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("`{target}` points at nothing"));
    }
    v
}

/// One operation of the document, with what the test needs of it.
struct Operation {
    method: String,
    path: String,
    /// (name, where, example as URL text).
    params: Vec<(String, String, String)>,
    /// The first example body and the names of every field the body schema has.
    body: Option<(Value, Vec<String>)>,
    /// Refusals the document says come as a page for people (HTML), not the API's JSON.
    html_refusals: Vec<u16>,
}

fn operations(doc: &Value) -> Vec<Operation> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("`paths` is an object") {
        for (method, op) in item.as_object().expect("a path item is an object") {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let params = op
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|p| resolve(doc, p))
                .map(|p| {
                    let example = match &p["example"] {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (
                        p["name"].as_str().unwrap().to_owned(),
                        p["in"].as_str().unwrap().to_owned(),
                        enc(&example),
                    )
                })
                .collect();
            let body = op.get("requestBody").map(|b| {
                let media = &resolve(doc, b)["content"]["application/json"];
                let example = media
                    .get("example")
                    .or_else(|| {
                        media
                            .get("examples")
                            .and_then(Value::as_object)
                            .and_then(|e| e.values().next())
                            .map(|e| &e["value"])
                    })
                    .cloned()
                    .unwrap_or_else(|| panic!("{method} {path}: a body without an example"));
                let schema = resolve(doc, &media["schema"]);
                let fields = schema["properties"]
                    .as_object()
                    .map(|p| p.keys().cloned().collect())
                    .unwrap_or_default();
                (example, fields)
            });
            let html_refusals = op["responses"]
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(_, r)| resolve(doc, r)["content"].get("text/html").is_some())
                .filter_map(|(code, _)| code.parse().ok())
                .collect();
            out.push(Operation {
                html_refusals,
                method: method.clone(),
                path: path.clone(),
                params,
                body,
            });
        }
    }
    out
}

/// The URI of `op` with its example parameters, `hostile` replacing parameter `name`.
fn uri(op: &Operation, name: Option<&str>, hostile: &str) -> String {
    let value = |n: &str, example: &str| {
        if Some(n) == name {
            hostile.to_owned()
        } else {
            example.to_owned()
        }
    };
    let mut path = op.path.clone();
    for (n, place, example) in op.params.iter().filter(|p| p.1 == "path") {
        debug_assert_eq!(place, "path");
        path = path.replace(&format!("{{{n}}}"), &value(n, example));
    }
    let query: Vec<String> = op
        .params
        .iter()
        .filter(|p| p.1 == "query")
        .map(|(n, _, example)| format!("{n}={}", value(n, example)))
        .collect();
    if query.is_empty() {
        path
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// `example` with field `name` set to the raw JSON `hostile`.
fn body_with(example: &Value, name: &str, hostile: &str) -> String {
    const MARK: &str = "\u{1}hostile\u{1}";
    let mut body = example.clone();
    // A command that waits for its gateway would make every case wait; none answers here.
    if let Some(object) = body.as_object_mut() {
        object.remove("wait");
        object.insert(name.to_owned(), json!(MARK));
    }
    body.to_string().replace(&json!(MARK).to_string(), hostile)
}

/// An answer, read whole.
struct Answer {
    status: StatusCode,
    content_type: String,
    body: Vec<u8>,
}

async fn send(
    app: Router,
    method: String,
    uri: String,
    session: String,
    body: Option<String>,
) -> Answer {
    let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {session}"));
    let body = match body {
        Some(text) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(text)
        }
        None => Body::empty(),
    };
    let response = app.oneshot(request.body(body).unwrap()).await.unwrap();
    let (parts, body) = response.into_parts();
    Answer {
        status: parts.status,
        content_type: parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned(),
        body: body.collect().await.unwrap().to_bytes().to_vec(),
    }
}

/// What is wrong with `answer`, if anything: a 5xx, or a refusal not in the error shape.
fn problem(answer: &Answer) -> Option<String> {
    let text = || {
        String::from_utf8_lossy(&answer.body)
            .chars()
            .take(200)
            .collect::<String>()
    };
    if answer.status.is_success() {
        return None;
    }
    if !answer.status.is_client_error() {
        return Some(format!("answered {}: {}", answer.status, text()));
    }
    let shaped = serde_json::from_slice::<Value>(&answer.body).is_ok_and(|v| {
        v.pointer("/error/code").is_some_and(Value::is_string)
            && v.pointer("/error/message").is_some_and(Value::is_string)
    });
    if !shaped || !answer.content_type.starts_with("application/json") {
        return Some(format!(
            "answered {} not in the API's error shape ({}): {}",
            answer.status,
            answer.content_type,
            text()
        ));
    }
    None
}

/// A dashboard as `bygd init` makes it on `db`, with the world the document's examples name.
async fn world(db: &TestDb) -> (Router, String, tempfile::TempDir) {
    let (dashboard, dir, password) = common::dashboard(db).await;
    let me = Principal::local_admin();
    dashboard
        .accounts()
        .add(
            &me,
            OPERATOR.0,
            Role::Operator,
            &Sites::parse(SITE).unwrap(),
            OPERATOR.1,
        )
        .await
        .unwrap();
    let app = bygd_dashboard::app(dashboard);
    let login = json!({ "name": "admin", "password": password }).to_string();
    let answer = send(
        app.clone(),
        "post".into(),
        "/api/v1/session".into(),
        String::new(),
        Some(login),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    let session: Value = serde_json::from_slice(&answer.body).unwrap();
    let session = session["token"].as_str().unwrap().to_owned();
    // The member the examples name, so that requests get past "no such member".
    let member = json!({ "id": "anna-k", "name": "Anna", "sites": [SITE] }).to_string();
    let answer = send(
        app.clone(),
        "post".into(),
        "/api/v1/members".into(),
        session.clone(),
        Some(member),
    )
    .await;
    assert!(answer.status.is_success());
    (app, session, dir)
}

#[tokio::test]
async fn the_two_inputs_that_crashed_the_entries_handler_get_a_400_naming_the_field() {
    for db in
        backends("the_two_inputs_that_crashed_the_entries_handler_get_a_400_naming_the_field").await
    {
        crashing_since_gets_a_400(&db).await;
    }
}

async fn crashing_since_gets_a_400(db: &TestDb) {
    let (app, session, _dir) = world(db).await;
    for path in ["/api/v1/entries", "/api/v1/entries.csv"] {
        for since in CRASHING_SINCE {
            let uri = format!("{path}?since={since}");
            let answer = tokio::spawn(send(
                app.clone(),
                "get".into(),
                uri.clone(),
                session.clone(),
                None,
            ))
            .await
            .unwrap_or_else(|e| panic!("GET {uri} panicked in its handler: {e}"));
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "GET {uri}");
            let error: Value = serde_json::from_slice(&answer.body).unwrap();
            assert_eq!(error["error"]["code"], "invalid", "{error}");
            assert_eq!(error["error"]["field"], "since", "{error}");
            let message = error["error"]["message"].as_str().unwrap();
            assert!(
                message.contains("+30d") && message.contains("RFC 3339")
                    || message.contains("ten years"),
                "the message says what is accepted: {message}"
            );
        }
    }
}

#[tokio::test]
async fn every_parameter_and_body_field_of_every_operation_survives_hostile_values() {
    for db in
        backends("every_parameter_and_body_field_of_every_operation_survives_hostile_values").await
    {
        hostile_walk(&db).await;
    }
}

async fn hostile_walk(db: &TestDb) {
    let doc: Value = serde_json::from_str(OPENAPI).unwrap();
    let (app, session, _dir) = world(db).await;
    let mut failures = Vec::new();
    let mut cases = 0;
    let mut refused = 0;
    for op in operations(&doc) {
        let mut requests: Vec<(String, String, Option<String>)> = Vec::new();
        let base_body = op.body.as_ref().map(|(example, _)| {
            let mut example = example.clone();
            if let Some(object) = example.as_object_mut() {
                object.remove("wait");
            }
            example.to_string()
        });
        for (name, place, _) in &op.params {
            for (what, value) in text_values() {
                requests.push((
                    format!("{place} parameter `{name}` {what}"),
                    uri(&op, Some(name), &value),
                    base_body.clone(),
                ));
            }
        }
        if let Some((example, fields)) = &op.body {
            for field in fields {
                for (what, value) in json_values() {
                    requests.push((
                        format!("body field `{field}` {what}"),
                        uri(&op, None, ""),
                        Some(body_with(example, field, &value)),
                    ));
                }
            }
            for (what, text) in [
                ("a body that is not JSON", "{\"name\": é".to_owned()),
                ("a body that is a list", "[]".to_owned()),
                ("a body nested deeply", "[".repeat(10_000)),
            ] {
                requests.push((what.to_owned(), uri(&op, None, ""), Some(text)));
            }
        }
        for (what, uri, body) in requests {
            cases += 1;
            let task = tokio::spawn(send(
                app.clone(),
                op.method.clone(),
                uri,
                session.clone(),
                body,
            ));
            let at = format!("{} {} with {what}", op.method.to_ascii_uppercase(), op.path);
            match task.await {
                Err(e) if e.is_panic() => failures.push(format!("{at}: the handler panicked")),
                Err(e) => failures.push(format!("{at}: {e}")),
                Ok(answer) => {
                    if !answer.status.is_success() {
                        refused += 1;
                    }
                    // A refusal the document promises as a page for people (the member's
                    // page for a link that leads nowhere) comes as HTML, not the API's JSON.
                    let documented_page = op.html_refusals.contains(&answer.status.as_u16())
                        && answer.content_type.starts_with("text/html");
                    if let Some(p) = problem(&answer).filter(|_| !documented_page) {
                        failures.push(format!("{at}: {p}"));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{}: {} of {cases} hostile requests failed:\n{}",
        db.name,
        failures.len(),
        failures.join("\n")
    );
    // The walk reached the handlers: most hostile values are refused, none crashed.
    assert!(cases > 500, "only {cases} cases");
    assert!(refused * 2 > cases, "only {refused} of {cases} refused");
}
