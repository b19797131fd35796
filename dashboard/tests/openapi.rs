//! The OpenAPI document the dashboard serves, checked three ways: against the router's source
//! (every route documented, nothing stale), against itself (every operation complete, every
//! example fitting its schema), and against a real app (every documented request is routed,
//! the documented examples are accepted, and every answer of a walk through the API is one
//! the document describes).
//!
//! The schema checks use a small validator for the JSON Schema keywords the document uses;
//! it refuses any other keyword, so a document that outgrows it fails loudly. It is strict on
//! objects: a field the document does not name is a failure even without
//! `additionalProperties: false`, so the document cannot fall behind the structs.

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use bygd_dashboard::api::OPENAPI;
use bygd_dashboard::{Dashboard, Ingested, NewGateway, Principal, Role, Scope, Sites};
use bygd_protocol::{
    sign_batch, ChainHead, ClockQuality, DoorId, EventBody, GatewayId, MemberId, PassId, PassKind,
    SecretKey, SiteId, UnixTime,
};
use http_body_util::BodyExt as _;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use tower::ServiceExt as _;

/// The router's source: the routes the document must describe.
const ROUTER_SOURCE: &str = include_str!("../src/api/mod.rs");
/// The error type's source: the codes the document must list.
const ERROR_SOURCE: &str = include_str!("../src/api/error.rs");

/// The keys of an OpenAPI path item that are operations.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The site, gateway and doors the examples of the document use.
const SITE: &str = "byn";
const GATEWAY: &str = "gw1";
const DOORS: [&str; 2] = ["front", "workshop"];

/// The operator account the login example names.
const OPERATOR: (&str, &str) = ("anna", "correct horse battery");

/// JSON Schema keywords the validator checks. (`additionalProperties` and
/// `unevaluatedProperties` are implied: every object is checked as closed.)
const CHECKED_KEYWORDS: [&str; 15] = [
    "$ref",
    "type",
    "enum",
    "const",
    "allOf",
    "properties",
    "required",
    "additionalProperties",
    "unevaluatedProperties",
    "items",
    "minItems",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
];

/// Keywords that only annotate, and `pattern` and `format`, which the validator leaves
/// unchecked (the crate has no regex engine; the handlers' own tests check formats).
const ANNOTATIONS: [&str; 6] = [
    "description",
    "examples",
    "default",
    "contentMediaType",
    "pattern",
    "format",
];

fn document() -> Value {
    serde_json::from_str(OPENAPI).unwrap_or_else(|e| panic!("openapi.json is not JSON: {e}"))
}

/// Every (path, method) the document describes.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    operations(doc)
        .into_iter()
        .map(|(path, method, _)| (path, method))
        .collect()
}

/// Every operation of the document with its path and method.
fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let paths = doc["paths"].as_object().expect("`paths` is an object");
    let mut out = Vec::new();
    for (path, item) in paths {
        let item = item.as_object().expect("a path item is an object");
        for (key, op) in item {
            if METHODS.contains(&key.as_str()) {
                out.push((path.clone(), key.clone(), op));
            }
        }
    }
    out
}

/// Every (path, method) the router's source routes.
fn routed() -> BTreeSet<(String, String)> {
    let source: String = ROUTER_SOURCE
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    // The web UI's pages are merged in; they are not the API's and not in the document.
    let source = source.replace(".merge(crate::web::routes())", "");
    for construct in [".nest(", ".nest_service(", ".merge(", ".route_service("] {
        assert!(
            !source.contains(construct),
            "the router uses `{construct}`, which this test does not read yet"
        );
    }
    let mut out = BTreeSet::new();
    let mut rest = source.as_str();
    while let Some(at) = rest.find(".route(") {
        let args = &rest[at + ".route(".len()..];
        let end = closing_paren(args);
        let call = &args[..end];
        let (path, after) = first_string_literal(call);
        let methods = route_methods(&call[after..]);
        assert!(!methods.is_empty(), "no method found for route {path}");
        for method in methods {
            assert!(
                out.insert((path.clone(), method.clone())),
                "{method} {path} is routed twice"
            );
        }
        rest = &args[end..];
    }
    out
}

/// The error codes the API's error type sends: the snake_case string literals of its source,
/// less the keys of the error shape.
fn error_codes() -> BTreeSet<&'static str> {
    let shape = ["error", "code", "message", "field"];
    ERROR_SOURCE
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|t| {
            t.starts_with(|c: char| c.is_ascii_lowercase())
                && t.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        })
        .filter(|t| !shape.contains(t))
        .collect()
}

/// The index of the `)` closing an argument list whose `(` came just before `text`.
fn closing_paren(text: &str) -> usize {
    let mut depth = 1;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced parentheses in the router's source near: {text:.80}")
}

/// The first string literal of `text` and the index just after it.
fn first_string_literal(text: &str) -> (String, usize) {
    let start = text.find('"').expect("a route starts with its path") + 1;
    let len = text[start..].find('"').expect("the path's closing quote");
    (text[start..start + len].to_owned(), start + len + 1)
}

/// The HTTP methods a route's method router chains: `get(h).post(h)`,
/// `axum::routing::delete(h)`. A call of anything else from the routing module fails.
fn route_methods(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !ident(bytes[i]) || (i > 0 && ident(bytes[i - 1])) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && ident(bytes[i]) {
            i += 1;
        }
        let name = &text[start..i];
        if bytes.get(i) != Some(&b'(') {
            continue;
        }
        let before = &text[..start];
        let from_routing = match before.strip_suffix("::") {
            None => true,
            Some(path) => path.ends_with("routing"),
        };
        if !from_routing {
            continue;
        }
        assert!(
            METHODS.contains(&name),
            "the router calls `{name}(` on a route, which this test does not read yet"
        );
        out.push(name.to_owned());
    }
    out
}

/// `v` with `$ref`s to the document followed.
fn resolve<'a>(doc: &'a Value, mut v: &'a Value) -> &'a Value {
    while let Some(target) = v.get("$ref").and_then(Value::as_str) {
        let pointer = target
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("`{target}` is not a reference into the document"));
        v = doc
            .pointer(pointer)
            .unwrap_or_else(|| panic!("`{target}` points at nothing"));
    }
    v
}

/// The problems of `value` against `schema`; empty when it fits.
fn schema_problems(doc: &Value, schema: &Value, value: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    check(doc, schema, value, "$", true, &mut problems);
    problems
}

fn check(
    doc: &Value,
    schema: &Value,
    value: &Value,
    at: &str,
    strict: bool,
    problems: &mut Vec<String>,
) {
    let map = schema
        .as_object()
        .unwrap_or_else(|| panic!("the schema at {at} is not an object: {schema}"));
    for key in map.keys() {
        assert!(
            CHECKED_KEYWORDS.contains(&key.as_str()) || ANNOTATIONS.contains(&key.as_str()),
            "the schema at {at} uses `{key}`, which this test's validator does not check"
        );
    }
    if map.contains_key("$ref") {
        assert!(
            map.keys()
                .all(|k| k == "$ref" || ANNOTATIONS.contains(&k.as_str())),
            "the schema at {at} has assertions beside `$ref`"
        );
        let target = resolve(doc, schema);
        assert!(target.is_object(), "{target} is not a schema");
        return check(doc, target, value, at, strict, problems);
    }
    if let Some(types) = map.get("type") {
        let types: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            other => panic!("`type` at {at} is {other}"),
        };
        if !types.iter().any(|t| has_type(value, t)) {
            problems.push(format!("{at}: {value} is not of type {types:?}"));
            return;
        }
    }
    if let Some(options) = map.get("enum").and_then(Value::as_array) {
        if !options.contains(value) {
            problems.push(format!("{at}: {value} is not one of {options:?}"));
        }
    }
    if let Some(want) = map.get("const") {
        if want != value {
            problems.push(format!("{at}: {value} is not {want}"));
        }
    }
    if let Some(all) = map.get("allOf").and_then(Value::as_array) {
        for part in all {
            check(doc, part, value, at, false, problems);
        }
    }
    if let Some(object) = value.as_object() {
        for name in map
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !object.contains_key(name) {
                problems.push(format!("{at}: the required field `{name}` is missing"));
            }
        }
        if let Some(properties) = map.get("properties").and_then(Value::as_object) {
            for (name, field) in object {
                if let Some(field_schema) = properties.get(name) {
                    check(
                        doc,
                        field_schema,
                        field,
                        &format!("{at}.{name}"),
                        true,
                        problems,
                    );
                }
            }
        }
        if strict {
            if let Some(known) = property_names(doc, schema) {
                for name in object.keys().filter(|n| !known.contains(*n)) {
                    problems.push(format!("{at}: the field `{name}` is not documented"));
                }
            }
        }
    }
    if let Some(items) = value.as_array() {
        if let Some(item_schema) = map.get("items") {
            for (i, item) in items.iter().enumerate() {
                check(
                    doc,
                    item_schema,
                    item,
                    &format!("{at}[{i}]"),
                    true,
                    problems,
                );
            }
        }
        if let Some(min) = map.get("minItems").and_then(Value::as_u64) {
            if (items.len() as u64) < min {
                problems.push(format!("{at}: fewer than {min} items"));
            }
        }
    }
    if let Some(text) = value.as_str() {
        let len = text.chars().count() as u64;
        if map
            .get("minLength")
            .and_then(Value::as_u64)
            .is_some_and(|m| len < m)
        {
            problems.push(format!("{at}: `{text}` is too short"));
        }
        if map
            .get("maxLength")
            .and_then(Value::as_u64)
            .is_some_and(|m| len > m)
        {
            problems.push(format!("{at}: `{text}` is too long"));
        }
    }
    if let Some(n) = value.as_f64() {
        if map
            .get("minimum")
            .and_then(Value::as_f64)
            .is_some_and(|m| n < m)
        {
            problems.push(format!("{at}: {n} is below the minimum"));
        }
        if map
            .get("maximum")
            .and_then(Value::as_f64)
            .is_some_and(|m| n > m)
        {
            problems.push(format!("{at}: {n} is above the maximum"));
        }
    }
}

fn has_type(value: &Value, name: &str) -> bool {
    match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        other => panic!("`{other}` is not a JSON Schema type"),
    }
}

/// The fields an object schema names, its `allOf` parts' included; `None` for a free-form one.
fn property_names(doc: &Value, schema: &Value) -> Option<BTreeSet<String>> {
    let schema = resolve(doc, schema);
    let mut names = BTreeSet::new();
    let mut named = false;
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        named = true;
        names.extend(properties.keys().cloned());
    }
    for part in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(more) = property_names(doc, part) {
            named = true;
            names.extend(more);
        }
    }
    named.then_some(names)
}

/// The example values of a media type object: `example` and every `examples` entry.
fn media_examples(media: &Value) -> Vec<&Value> {
    let mut out: Vec<&Value> = media.get("example").into_iter().collect();
    if let Some(examples) = media.get("examples").and_then(Value::as_object) {
        out.extend(examples.values().map(|e| &e["value"]));
    }
    out
}

/// The path parameter names of a path template.
fn template_names(path: &str) -> BTreeSet<String> {
    path.split('{')
        .skip(1)
        .filter_map(|p| p.split_once('}'))
        .map(|(name, _)| name.to_owned())
        .collect()
}

/// `path` with each `{name}` replaced by what `value` gives for it.
fn fill(path: &str, value: impl Fn(&str) -> String) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}').expect("a closing brace") + start;
        out.push_str(&rest[..start]);
        out.push_str(&value(&rest[start + 1..end]));
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The operation's parameters, resolved.
fn parameters<'a>(doc: &'a Value, op: &'a Value) -> Vec<&'a Value> {
    op.get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| resolve(doc, p))
        .collect()
}

/// A value as it goes in a query string or a path.
fn url_text(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/:".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An HTTP answer, read whole.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// The error code, if the answer is an error of the API's shape.
    fn error_code(&self) -> Option<String> {
        serde_json::from_slice::<Value>(&self.body)
            .ok()?
            .pointer("/error/code")?
            .as_str()
            .map(str::to_owned)
    }

    fn content_type(&self) -> Option<&str> {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
    }
}

/// Sends one request to `app`, with `credential` as a bearer credential, or as the cookie
/// when it is `bygd_session=…`.
async fn send(
    app: &Router,
    method: &str,
    uri: &str,
    credential: Option<&str>,
    body: Option<&Value>,
) -> Answer {
    let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
    let mut request = Request::builder().method(method).uri(uri);
    match credential {
        // The session cookie, as a browser sends back what the login set.
        Some(cookie) if cookie.starts_with("bygd_session=") => {
            request = request.header(header::COOKIE, cookie);
        }
        Some(credential) => {
            request = request.header(header::AUTHORIZATION, format!("Bearer {credential}"));
        }
        None => {}
    }
    let body = match body {
        Some(json) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(json.to_string())
        }
        None => Body::empty(),
    };
    let response = app
        .clone()
        .oneshot(request.body(body).unwrap())
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body: body.collect().await.unwrap().to_bytes().to_vec(),
    }
}

/// Checks that the document describes `answer` to `method path`: its status (or `default`),
/// its documented headers, its media type and, for JSON, its body.
fn check_answer(doc: &Value, path: &str, method: &str, answer: &Answer) {
    let at = format!("{} {path}", method.to_ascii_uppercase());
    let op = &doc["paths"][path][method];
    assert!(op.is_object(), "{at} is not documented");
    let status = answer.status.as_u16().to_string();
    let response = op["responses"]
        .get(&status)
        .or_else(|| op["responses"].get("default"))
        .unwrap_or_else(|| {
            panic!(
                "{at} answered {status}, which the document does not list: {}",
                answer.text()
            )
        });
    let response = resolve(doc, response);
    if let Some(headers) = response.get("headers").and_then(Value::as_object) {
        for (name, spec) in headers {
            let actual = answer
                .headers
                .get(name.as_str())
                .unwrap_or_else(|| panic!("{at} {status}: the documented header {name} is missing"))
                .to_str()
                .unwrap();
            if let Some(want) = spec["schema"].get("const").and_then(Value::as_str) {
                assert_eq!(actual, want, "{at} {status}: header {name}");
            }
        }
    }
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        assert!(
            answer.body.is_empty(),
            "{at} {status} is documented without a body but has one: {}",
            answer.text()
        );
        return;
    };
    let content_type = answer
        .content_type()
        .unwrap_or_else(|| panic!("{at} {status}: no Content-Type"));
    let essence = content_type.split(';').next().unwrap_or("").trim();
    let media = content.get(essence).unwrap_or_else(|| {
        panic!(
            "{at} {status}: Content-Type {content_type} is not documented (only {:?})",
            content.keys().collect::<Vec<_>>()
        )
    });
    match essence {
        "application/json" => {
            let problems = schema_problems(doc, &media["schema"], &answer.json());
            assert!(
                problems.is_empty(),
                "{at} {status} does not fit its documented schema: {problems:#?}\n{}",
                answer.text()
            );
        }
        "image/png" => assert!(
            answer.body.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{at}: not a PNG"
        ),
        "image/svg+xml" => assert!(answer.text().contains("<svg"), "{at}: not an SVG"),
        "text/html" => assert!(
            answer.text().starts_with("<!doctype html>"),
            "{at}: not an HTML page"
        ),
        _ => assert!(!answer.body.is_empty(), "{at} {status}: an empty body"),
    }
}

/// A fresh dashboard over a temporary SQLite database, as `bygd init` makes it.
struct Fresh {
    dashboard: Dashboard,
    app: Router,
    admin_password: String,
    _dir: tempfile::TempDir,
}

async fn fresh() -> Fresh {
    let dir = tempfile::tempdir().unwrap();
    let (dashboard, done) = Dashboard::init(&dir.path().join("d"), None, "admin")
        .await
        .unwrap();
    Fresh {
        app: bygd_dashboard::app(dashboard.clone()),
        dashboard,
        admin_password: done.password,
        _dir: dir,
    }
}

/// The stand-in gateway's key.
fn gateway_key() -> SecretKey {
    SecretKey::from_seed(&[0x77; 32])
}

impl Fresh {
    /// Registers the gateway the document's examples name, and the operator of the login
    /// example.
    async fn with_examples_world(self) -> Self {
        let me = Principal::local_admin();
        self.dashboard
            .gateways()
            .register(
                &me,
                &NewGateway {
                    site: SITE.into(),
                    id: GATEWAY.into(),
                    public_key: gateway_key().public_key().to_hex(),
                    doors: DOORS.iter().map(|d| (*d).to_owned()).collect(),
                    time_zone: Some("Europe/Stockholm".into()),
                },
            )
            .await
            .unwrap();
        self.dashboard
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
        self
    }

    /// The alarm the examples name: the door the gateway reports forced, under the
    /// example's id.
    async fn with_example_alarm(self) -> Self {
        self.gateway_reports("anna-k").await;
        let url = format!(
            "sqlite:{}",
            self._dir
                .path()
                .join("d")
                .join(bygd_dashboard::config::SQLITE_FILE)
                .display()
        );
        let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
            .await
            .unwrap();
        sqlx::query("UPDATE alarms SET id = 'a1b2c3d4e5f60718'")
            .execute(&mut db)
            .await
            .unwrap();
        self
    }

    /// A session of the admin account, by the API.
    async fn admin_session(&self) -> String {
        let answer = send(
            &self.app,
            "post",
            "/api/v1/session",
            None,
            Some(&json!({ "name": "admin", "password": self.admin_password })),
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        answer.json()["token"].as_str().unwrap().to_owned()
    }

    /// The gateway reports a granted entry and a forced door, signed as it would.
    async fn gateway_reports(&self, member: &str) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let front = DoorId::new("front").unwrap();
        let mut head = ChainHead::default();
        let mut events = Vec::new();
        for body in [
            EventBody::EntryGranted {
                door: front.clone(),
                pass_id: PassId([0xab; 16]),
                member: MemberId::new(member).unwrap(),
                kind: PassKind::Member,
                device_bound: false,
            },
            EventBody::ForcedOpen {
                door: front.clone(),
                raised: true,
            },
        ] {
            let (_, bytes, next) = head.append(UnixTime(now), ClockQuality::Synchronised, body);
            head = next;
            events.push(bytes);
        }
        let events: Vec<&[u8]> = events.iter().map(Vec::as_slice).collect();
        let batch = sign_batch(
            &SiteId::new(SITE).unwrap(),
            &GatewayId::new(GATEWAY).unwrap(),
            &events,
            &gateway_key(),
        );
        let ingested = self
            .dashboard
            .ingest_batch(SITE, GATEWAY, &batch)
            .await
            .unwrap();
        assert!(
            matches!(ingested, Ingested::Stored { from: 1, to: 2, .. }),
            "{ingested:?}"
        );
    }
}

#[test]
fn the_openapi_document_is_valid_json_with_every_route_of_the_router() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());

    let routed = routed();
    // The reader of the router's source finds both ways routes are written.
    assert!(routed.contains(&("/api/v1/tokens".to_owned(), "post".to_owned())));
    assert!(routed.contains(&("/api/v1/tokens/{id}".to_owned(), "delete".to_owned())));

    let documented = documented(&doc);
    let missing: Vec<_> = routed.difference(&documented).collect();
    assert!(missing.is_empty(), "routed but not documented: {missing:?}");
    let stale: Vec<_> = documented.difference(&routed).collect();
    assert!(stale.is_empty(), "documented but not routed: {stale:?}");

    // Pretty-printed with a 2-space indent, one level at a time, ending in a newline.
    assert!(OPENAPI.starts_with("{\n  \"") && OPENAPI.ends_with("}\n"));
    let mut previous = 0;
    for (n, line) in OPENAPI.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        assert!(
            indent % 2 == 0 && indent <= previous + 2 && !line.starts_with('\t'),
            "line {} is not indented by two spaces a level: {line}",
            n + 1
        );
        previous = indent;
    }
}

#[test]
fn every_documented_operation_has_an_operation_id_summary_and_error_response() {
    let doc = document();
    let schemes = doc["components"]["securitySchemes"]
        .as_object()
        .expect("security schemes");
    let scope_names: BTreeSet<&str> = Scope::ALL.iter().map(|s| s.name()).collect();
    let documented_scopes: BTreeSet<&str> = doc["components"]["schemas"]["Scope"]["enum"]
        .as_array()
        .expect("the Scope schema lists the scopes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(documented_scopes, scope_names, "the Scope schema's names");
    let error_schema = json!({ "$ref": "#/components/schemas/Error" });
    let codes: BTreeSet<&str> = doc["components"]["schemas"]["Error"]["properties"]["error"]
        ["properties"]["code"]["enum"]
        .as_array()
        .expect("the error codes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let sent = error_codes();
    for code in [
        "bad_request",
        "invalid",
        "not_found",
        "conflict",
        "forbidden",
        "unauthenticated",
        "internal",
        "no_such_endpoint",
    ] {
        assert!(sent.contains(code), "the reader of error.rs misses {code}");
    }
    assert_eq!(
        codes, sent,
        "the documented error codes against those error.rs sends"
    );

    let mut ids = BTreeSet::new();
    for (path, method, op) in operations(&doc) {
        let at = format!("{} {path}", method.to_ascii_uppercase());
        let text = |key: &str| {
            op.get(key)
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| panic!("{at} has no {key}"))
        };
        let id = text("operationId");
        assert!(ids.insert(id.to_owned()), "operationId {id} is used twice");
        text("summary");
        let description = text("description");

        // Who may call it: said explicitly, as security requirements and in words.
        let security = op
            .get("security")
            .and_then(Value::as_array)
            .unwrap_or_else(|| panic!("{at} does not say what authentication it needs"));
        if security.is_empty() {
            assert!(
                description.contains("No authentication"),
                "{at} needs no credential but does not say so"
            );
        } else {
            let mut required: Option<BTreeSet<&str>> = None;
            let mut used = BTreeSet::new();
            for requirement in security {
                let requirement = requirement.as_object().unwrap();
                assert_eq!(requirement.len(), 1, "{at}: one scheme per requirement");
                for (scheme, scopes) in requirement {
                    assert!(schemes.contains_key(scheme), "{at}: no scheme {scheme}");
                    used.insert(scheme.as_str());
                    let scopes: BTreeSet<&str> = scopes
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter_map(Value::as_str)
                        .collect();
                    if let Some(first) = &required {
                        assert_eq!(first, &scopes, "{at}: the schemes need different scopes");
                    }
                    required = Some(scopes);
                }
            }
            assert_eq!(
                used,
                BTreeSet::from(["bearerAuth", "sessionCookie"]),
                "{at}: a bearer credential and the session cookie both work"
            );
            let required = required.unwrap_or_default();
            // Only what any signed-in account may do on its own behalf (its language) needs
            // no scope, and says so.
            assert!(
                !required.is_empty() || description.contains("(no scope needed)"),
                "{at} names no scope"
            );
            for scope in required {
                assert!(
                    scope_names.contains(scope),
                    "{at}: `{scope}` is not a scope"
                );
                assert!(
                    description.contains(&format!("`{scope}`")),
                    "{at}: the description does not name the scope `{scope}`"
                );
            }
        }

        // Answers: at least one success and one error, every error in the one error shape.
        let responses = op["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{at} has no responses"));
        assert!(
            responses.keys().any(|k| k.starts_with('2')),
            "{at} documents no success"
        );
        let errors: Vec<_> = responses
            .iter()
            .filter(|(k, _)| k.starts_with('4') || k.starts_with('5') || *k == "default")
            .collect();
        assert!(!errors.is_empty(), "{at} documents no error response");
        for (code, response) in errors {
            let response = resolve(&doc, response);
            assert!(
                response["description"].is_string(),
                "{at} {code}: no description"
            );
            // Health answers 503 with its own body, so monitors read one shape either way.
            let want = if id == "getHealth" && code == "503" {
                json!({ "$ref": "#/components/schemas/Health" })
            } else {
                error_schema.clone()
            };
            // A refusal documented as a page for people (the member's page for a dead link)
            // is HTML only, not also the API's JSON.
            if response["content"]["text/html"].is_object() {
                assert!(
                    response["content"]["application/json"].is_null(),
                    "{at} {code}"
                );
                continue;
            }
            assert_eq!(
                response["content"]["application/json"]["schema"], want,
                "{at} {code}: not the documented error shape"
            );
        }

        // Parameters: every path parameter declared, each with a schema and a description.
        let params = parameters(&doc, op);
        let declared: BTreeSet<String> = params
            .iter()
            .filter(|p| p["in"] == "path")
            .map(|p| {
                assert_eq!(p["required"], true, "{at}: path parameters are required");
                p["name"].as_str().unwrap().to_owned()
            })
            .collect();
        assert_eq!(declared, template_names(&path), "{at}: path parameters");
        for p in &params {
            assert!(
                p["schema"].is_object() && p["description"].is_string(),
                "{at}: parameter {} needs a schema and a description",
                p["name"]
            );
        }

        // Request bodies: JSON with examples that fit their schema.
        if let Some(body) = op.get("requestBody") {
            let media = &body["content"]["application/json"];
            assert!(media.is_object(), "{at}: the request body is not JSON");
            let examples = media_examples(media);
            assert!(!examples.is_empty(), "{at}: no example request body");
            for example in examples {
                let problems = schema_problems(&doc, &media["schema"], example);
                assert!(
                    problems.is_empty(),
                    "{at}: an example body does not fit: {problems:#?}"
                );
            }
        }
        // Response examples fit too.
        for (code, response) in responses {
            for (media_type, media) in resolve(&doc, response)["content"]
                .as_object()
                .into_iter()
                .flatten()
            {
                if media_type != "application/json" {
                    continue;
                }
                for example in media_examples(media) {
                    let problems = schema_problems(&doc, &media["schema"], example);
                    assert!(
                        problems.is_empty(),
                        "{at} {code}: an example does not fit: {problems:#?}"
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn the_app_serves_its_openapi_document() {
    let dir = tempfile::tempdir().unwrap();
    let (dashboard, _) = bygd_dashboard::Dashboard::init(&dir.path().join("d"), None, "admin")
        .await
        .unwrap();
    let app = bygd_dashboard::app(dashboard);

    let answer = send(&app, "get", "/api/v1/openapi.json", None, None).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.content_type(), Some("application/json"));
    assert_eq!(answer.text(), OPENAPI);

    let unknown = "/api/v1/no-such-thing";
    assert!(!documented(&document()).iter().any(|(p, _)| p == unknown));
    let answer = send(&app, "get", unknown, None, None).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.error_code().as_deref(), Some("no_such_endpoint"));
}

#[tokio::test]
async fn every_documented_path_is_routed() {
    let doc = document();
    let fresh = fresh().await;
    for (path, method, op) in operations(&doc) {
        let at = format!("{} {path}", method.to_ascii_uppercase());
        let uri = fill(&path, |_| "x".to_owned());
        let answer = send(&fresh.app, &method, &uri, None, None).await;
        assert!(
            !(answer.status == StatusCode::NOT_FOUND
                && answer.error_code().as_deref() == Some("no_such_endpoint")),
            "{at} is not routed: {}",
            answer.text()
        );
        assert_ne!(
            answer.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{at}: the path is routed, the method is not"
        );
        // Without a credential, exactly the operations documented as secured refuse.
        let secured = op["security"].as_array().is_none_or(|s| !s.is_empty());
        if secured {
            assert_eq!(
                (answer.status, answer.error_code().as_deref()),
                (StatusCode::UNAUTHORIZED, Some("unauthenticated")),
                "{at} is documented as needing a credential"
            );
        } else {
            assert_ne!(
                answer.status,
                StatusCode::UNAUTHORIZED,
                "{at} is documented as public: {}",
                answer.text()
            );
        }
        check_answer(&doc, &path, &method, &answer);
    }
}

#[tokio::test]
async fn every_documented_example_request_is_accepted() {
    let doc = document();
    let fresh = fresh()
        .await
        .with_examples_world()
        .await
        .with_example_alarm()
        .await;
    let session = fresh.admin_session().await;
    // Paths in order, so that the member example exists before the pass examples.
    let mut ops = operations(&doc);
    ops.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let example_of = |p: &Value| {
        p.get("example")
            .cloned()
            .unwrap_or_else(|| panic!("parameter {} has no example", p["name"]))
    };

    let mut bodies = 0;
    // The pass the issuing example made: passes get random ids, so one an example names
    // cannot exist; the renewal example renews this one.
    let mut issued_pass: Option<String> = None;
    for (path, method, op) in &ops {
        let Some(body) = op.get("requestBody") else {
            continue;
        };
        // A pass link is a random secret no example can name: the walk enrols and reports
        // through a real link.
        if path.starts_with("/p/") {
            continue;
        }
        // Path parameters as their examples say (the account an example names exists).
        let params = parameters(&doc, op);
        let uri = fill(path, |name| {
            if path.starts_with("/api/v1/passes/{id}") {
                if let Some(id) = &issued_pass {
                    return id.clone();
                }
            }
            let p = params
                .iter()
                .find(|p| p["in"] == "path" && p["name"] == name)
                .unwrap();
            url_text(&example_of(p))
        });
        for example in media_examples(&body["content"]["application/json"]) {
            let answer = send(&fresh.app, method, &uri, Some(&session), Some(example)).await;
            assert!(
                answer.status.is_success(),
                "{} {path} refused its example {example}: {}",
                method.to_ascii_uppercase(),
                answer.text()
            );
            check_answer(&doc, path, method, &answer);
            if path == "/api/v1/passes" && method == "post" {
                let issued: Value = serde_json::from_str(&answer.text()).unwrap();
                issued_pass = issued["id"].as_str().map(str::to_owned);
            }
            bodies += 1;
        }
    }
    assert!(bodies >= 6, "only {bodies} example bodies");

    // Every query parameter at once, with its example: unknown ones would be refused.
    let mut queries = 0;
    for (path, method, op) in &ops {
        let params = parameters(&doc, op);
        let query: Vec<String> = params
            .iter()
            .filter(|p| p["in"] == "query")
            .map(|p| {
                format!(
                    "{}={}",
                    p["name"].as_str().unwrap(),
                    url_text(&example_of(p))
                )
            })
            .collect();
        // A pass link is a random secret no example can name; its page's language
        // parameter is tried by the walk on a real link.
        if query.is_empty() || path.starts_with("/p/") {
            continue;
        }
        let uri = format!(
            "{}?{}",
            fill(path, |name| {
                let p = params
                    .iter()
                    .find(|p| p["in"] == "path" && p["name"] == name)
                    .unwrap();
                url_text(&example_of(p))
            }),
            query.join("&")
        );
        let answer = send(&fresh.app, method, &uri, Some(&session), None).await;
        assert!(
            answer.status.is_success(),
            "{} {uri} refused its example parameters: {}",
            method.to_ascii_uppercase(),
            answer.text()
        );
        check_answer(&doc, path, method, &answer);
        queries += 1;
    }
    assert!(
        queries >= 6,
        "only {queries} operations with query parameters"
    );
}

/// A walk through the API that checks every answer against the document and notes which
/// operations it called.
struct Walk {
    doc: Value,
    app: Router,
    called: BTreeSet<(String, String)>,
}

impl Walk {
    async fn call(
        &mut self,
        (method, path): (&str, &str),
        uri: &str,
        credential: Option<&str>,
        body: Option<Value>,
        status: u16,
    ) -> Answer {
        let answer = send(&self.app, method, uri, credential, body.as_ref()).await;
        assert_eq!(
            answer.status.as_u16(),
            status,
            "{} {uri}: {}",
            method.to_ascii_uppercase(),
            answer.text()
        );
        check_answer(&self.doc, path, method, &answer);
        self.called.insert((path.to_owned(), method.to_owned()));
        answer
    }
}

#[tokio::test]
async fn a_walk_through_the_api_gets_only_documented_answers() {
    let fresh = fresh().await.with_examples_world().await;
    let mut w = Walk {
        doc: document(),
        app: fresh.app.clone(),
        called: BTreeSet::new(),
    };
    w.call(
        ("get", "/api/v1/openapi.json"),
        "/api/v1/openapi.json",
        None,
        None,
        200,
    )
    .await;
    w.call(("get", "/api/v1/health"), "/api/v1/health", None, None, 200)
        .await;

    // Sessions.
    let login = ("post", "/api/v1/session");
    let wrong = json!({ "name": "admin", "password": "not the password" });
    w.call(login, login.1, None, Some(wrong), 401).await;
    let admin = json!({ "name": "admin", "password": fresh.admin_password });
    let logged_in = w.call(login, login.1, None, Some(admin), 200).await;
    let cookie = logged_in.headers[header::SET_COOKIE].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let s = logged_in.json()["token"].as_str().unwrap().to_owned();
    assert_eq!(cookie, format!("bygd_session={s}"));
    let s = Some(s.as_str());
    w.call(("get", "/metrics"), "/metrics", s, None, 200).await;
    w.call(("get", "/metrics"), "/metrics", None, None, 401)
        .await;
    // The cookie the login set works as well as the bearer session.
    w.call(
        ("get", "/api/v1/gateways"),
        "/api/v1/gateways",
        Some(&cookie),
        None,
        200,
    )
    .await;

    // Accounts and tokens.
    let accounts = ("post", "/api/v1/accounts");
    let olle = json!({ "name": "olle", "role": "operator", "sites": SITE, "password": "a long passphrase here" });
    w.call(accounts, accounts.1, s, Some(olle.clone()), 201)
        .await;
    w.call(accounts, accounts.1, s, Some(olle), 409).await;
    w.call(
        ("get", "/api/v1/accounts"),
        "/api/v1/accounts",
        s,
        None,
        200,
    )
    .await;
    let account = ("get", "/api/v1/accounts/{name}");
    w.call(account, "/api/v1/accounts/olle", s, None, 200).await;
    w.call(account, "/api/v1/accounts/nobody", s, None, 404)
        .await;
    let update = ("patch", "/api/v1/accounts/{name}");
    let auditor = json!({ "role": "auditor" });
    w.call(update, "/api/v1/accounts/olle", s, Some(auditor), 200)
        .await;
    let root = json!({ "role": "root" });
    w.call(update, "/api/v1/accounts/olle", s, Some(root), 400)
        .await;
    let password = ("post", "/api/v1/accounts/{name}/password");
    let new_password = json!({ "password": "another long passphrase" });
    let uri = "/api/v1/accounts/olle/password";
    w.call(password, uri, s, Some(new_password), 200).await;
    w.call(password, uri, s, Some(json!({ "password": "short" })), 400)
        .await;
    let sessions = ("delete", "/api/v1/accounts/{name}/sessions");
    w.call(sessions, "/api/v1/accounts/olle/sessions", s, None, 200)
        .await;
    let disable = ("post", "/api/v1/accounts/{name}/disable");
    w.call(disable, "/api/v1/accounts/olle/disable", s, None, 200)
        .await;
    w.call(disable, "/api/v1/accounts/olle/disable", s, None, 409)
        .await;
    let enable = ("post", "/api/v1/accounts/{name}/enable");
    w.call(enable, "/api/v1/accounts/olle/enable", s, None, 200)
        .await;
    w.call(enable, "/api/v1/accounts/olle/enable", s, None, 409)
        .await;
    // Guessing one account's password is throttled: 401s, then a 429 with Retry-After.
    let mut throttled = false;
    for i in 0..20 {
        let guess = json!({ "name": "olle", "password": format!("guess number {i}") });
        let answer = send(&w.app, "post", login.1, None, Some(&guess)).await;
        check_answer(&w.doc, login.1, "post", &answer);
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(answer.error_code().as_deref(), Some("throttled"));
            throttled = true;
            break;
        }
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text());
    }
    assert!(
        throttled,
        "20 wrong passwords in a row were never throttled"
    );
    let tokens = ("post", "/api/v1/tokens");
    let reader = json!({ "name": "entry reader", "scopes": ["entries:read"] });
    let created = w.call(tokens, tokens.1, s, Some(reader), 201).await.json();
    let reader_token = created["token"].as_str().unwrap().to_owned();
    let doomed =
        json!({ "name": "doomed", "scopes": ["alarms:read"], "sites": SITE, "expires": "+1d" });
    let doomed = w.call(tokens, tokens.1, s, Some(doomed), 201).await.json();
    let bad = json!({ "name": "bad", "scopes": ["root"] });
    w.call(tokens, tokens.1, s, Some(bad), 400).await;
    w.call(("get", "/api/v1/tokens"), "/api/v1/tokens", s, None, 200)
        .await;
    let revoke_token = ("delete", "/api/v1/tokens/{id}");
    let uri = format!("/api/v1/tokens/{}", doomed["id"].as_str().unwrap());
    w.call(revoke_token, &uri, s, None, 204).await;
    w.call(revoke_token, &uri, s, None, 404).await;

    // Webhook subscriptions: made (the secret once), listed, read, refused, ended.
    let hooks = ("post", "/api/v1/webhooks");
    let hook = json!({ "url": "https://booking.example.org/bygd", "events": ["entry.granted"], "sites": [SITE] });
    let made = w.call(hooks, hooks.1, s, Some(hook), 201).await.json();
    assert_eq!(made["secret"].as_str().unwrap().len(), 64);
    let bad_kind = json!({ "url": "https://booking.example.org/bygd", "events": ["door.painted"] });
    w.call(hooks, hooks.1, s, Some(bad_kind), 400).await;
    let bad_url = json!({ "url": "ftp://booking.example.org", "events": ["entry.granted"] });
    w.call(hooks, hooks.1, s, Some(bad_url), 400).await;
    let listed = w
        .call(
            ("get", "/api/v1/webhooks"),
            "/api/v1/webhooks",
            s,
            None,
            200,
        )
        .await
        .json();
    assert!(listed.to_string().contains(made["id"].as_str().unwrap()));
    assert!(!listed
        .to_string()
        .contains(made["secret"].as_str().unwrap()));
    let one = format!("/api/v1/webhooks/{}", made["id"].as_str().unwrap());
    w.call(("get", "/api/v1/webhooks/{id}"), &one, s, None, 200)
        .await;
    let end = ("delete", "/api/v1/webhooks/{id}");
    w.call(end, &one, s, None, 204).await;
    w.call(end, &one, s, None, 404).await;
    w.call(
        ("get", "/api/v1/trail"),
        "/api/v1/trail?limit=5",
        s,
        None,
        200,
    )
    .await;
    w.call(
        ("get", "/api/v1/trail"),
        "/api/v1/trail?limit=0",
        s,
        None,
        400,
    )
    .await;

    // Sites: one added before any member or gateway, read, changed; and the refusals.
    let add_site = ("post", "/api/v1/sites");
    let klit = json!({ "id": "klit", "name": "Klitgårdens værksted", "time_zone": "Europe/Copenhagen", "language": "da" });
    w.call(add_site, add_site.1, s, Some(klit.clone()), 201)
        .await;
    w.call(add_site, add_site.1, s, Some(klit), 409).await;
    let bad_zone = json!({ "id": "mars", "name": "Mars", "time_zone": "Mars/Olympus" });
    w.call(add_site, add_site.1, s, Some(bad_zone), 400).await;
    w.call(("get", "/api/v1/sites"), "/api/v1/sites", s, None, 200)
        .await;
    let get_site = ("get", "/api/v1/sites/{id}");
    w.call(get_site, "/api/v1/sites/klit", s, None, 200).await;
    w.call(get_site, "/api/v1/sites/nowhere", s, None, 404)
        .await;
    let update_site = ("patch", "/api/v1/sites/{id}");
    let address = json!({ "address": "Klitvej 2\n7700 Thisted" });
    w.call(update_site, "/api/v1/sites/klit", s, Some(address), 200)
        .await;
    let german = json!({ "language": "de" });
    w.call(update_site, "/api/v1/sites/klit", s, Some(german), 400)
        .await;
    let rename = json!({ "name": "Nowhere" });
    w.call(update_site, "/api/v1/sites/nowhere", s, Some(rename), 404)
        .await;

    // Members and passes.
    let members = ("post", "/api/v1/members");
    let anna = json!({ "id": "anna-k", "name": "Anna Karlsson", "email": "anna@example.org", "sites": [SITE] });
    w.call(members, members.1, s, Some(anna), 201).await;
    let stray = json!({ "id": "x", "name": "X", "sites": ["elsewhere"] });
    w.call(members, members.1, s, Some(stray), 404).await;
    w.call(("get", "/api/v1/members"), "/api/v1/members", s, None, 200)
        .await;
    w.call(
        ("get", "/api/v1/members"),
        "/api/v1/members?colour=red",
        s,
        None,
        400,
    )
    .await;
    let member = ("get", "/api/v1/members/{id}");
    w.call(member, "/api/v1/members/nobody", s, None, 404).await;
    let issue = ("post", "/api/v1/passes");
    let pass = json!({ "member": "anna-k", "site": SITE, "doors": ["front"], "until": "+30d", "schedule": "mon-fri 07:00-22:00", "booking": "b-1" });
    let issued = w.call(issue, issue.1, s, Some(pass), 201).await.json();
    let past = json!({ "member": "anna-k", "site": SITE, "until": "2001-01-01" });
    w.call(issue, issue.1, s, Some(past), 400).await;
    let unknown_field = json!({ "member": "anna-k", "site": SITE, "colour": "red" });
    w.call(issue, issue.1, s, Some(unknown_field), 400).await;
    let pass_id = issued["id"].as_str().unwrap().to_owned();
    w.call(member, "/api/v1/members/anna-k", s, None, 200).await;
    w.call(("get", "/api/v1/passes"), "/api/v1/passes", s, None, 200)
        .await;
    let get_pass = ("get", "/api/v1/passes/{id}");
    w.call(get_pass, &format!("/api/v1/passes/{pass_id}"), s, None, 200)
        .await;
    w.call(get_pass, "/api/v1/passes/nothing", s, None, 404)
        .await;

    // The pass page, public behind its link.
    let page_url = issued["page_url"].as_str().unwrap();
    let page = &page_url[page_url.find("/p/").expect("a /p/ link")..];
    w.call(("get", "/p/{secret}"), page, None, None, 200).await;
    let swedish = w
        .call(
            ("get", "/p/{secret}"),
            &format!("{page}?lang=sv"),
            None,
            None,
            200,
        )
        .await;
    assert!(swedish.text().contains("<html lang=\"sv\">"));
    w.call(
        ("get", "/p/{secret}/qr.png"),
        &format!("{page}/qr.png"),
        None,
        None,
        200,
    )
    .await;
    w.call(
        ("get", "/p/{secret}/qr.svg"),
        &format!("{page}/qr.svg"),
        None,
        None,
        200,
    )
    .await;
    w.call(("get", "/p/{secret}"), "/p/not-a-link", None, None, 404)
        .await;

    // The pass app: its worker, manifest and state; a phone that cannot keep a key; a
    // renewal and an enrolment, each moving the link to a new pass.
    w.call(("get", "/p/sw.js"), "/p/sw.js", None, None, 200)
        .await;
    let manifest = ("get", "/p/{secret}/manifest.webmanifest");
    w.call(
        manifest,
        &format!("{page}/manifest.webmanifest"),
        None,
        None,
        200,
    )
    .await;
    let state = ("get", "/p/{secret}/pass.json");
    let bare = w
        .call(state, &format!("{page}/pass.json"), None, None, 200)
        .await
        .json();
    assert_eq!(bare["can_enrol"], true, "{bare}");
    w.call(state, "/p/not-a-link/pass.json", None, None, 404)
        .await;
    let problem = ("post", "/p/{secret}/device-problem");
    let uri = format!("{page}/device-problem");
    w.call(
        problem,
        &uri,
        None,
        Some(json!({ "problem": "no-indexeddb" })),
        204,
    )
    .await;
    w.call(
        problem,
        &uri,
        None,
        Some(json!({ "problem": "colour" })),
        400,
    )
    .await;
    let renew = ("post", "/api/v1/passes/{id}/renew");
    let uri = format!("/api/v1/passes/{pass_id}/renew");
    w.call(renew, &uri, s, Some(json!({ "until": 1 })), 400)
        .await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let until = json!({ "until": now + 60 * 86_400 });
    let renewed = w
        .call(renew, &uri, s, Some(until.clone()), 200)
        .await
        .json();
    w.call(renew, &uri, s, Some(until), 409).await;
    let enrol = ("post", "/p/{secret}/enrol");
    let uri = format!("{page}/enrol");
    w.call(
        enrol,
        &uri,
        None,
        Some(json!({ "public_key": "04ff" })),
        400,
    )
    .await;
    let device = bygd_protocol::DeviceSecretKey::from_bytes(&[7; 32]).unwrap();
    let key = json!({ "public_key": hex::encode(device.public_key().to_sec1()) });
    let enrolled = w
        .call(enrol, &uri, None, Some(key.clone()), 200)
        .await
        .json();
    assert_eq!(enrolled["device_bound"], true, "{enrolled}");
    assert_ne!(enrolled["pass_id"], renewed["id"], "{enrolled}");
    // The same phone again (its answer lost on the way): the same answer; another: refused.
    let again = w.call(enrol, &uri, None, Some(key), 200).await.json();
    assert_eq!(again["pass_id"], enrolled["pass_id"]);
    let other = bygd_protocol::DeviceSecretKey::from_bytes(&[8; 32]).unwrap();
    let other = json!({ "public_key": hex::encode(other.public_key().to_sec1()) });
    w.call(enrol, &uri, None, Some(other), 409).await;
    let problem_uri = format!("{page}/device-problem");
    w.call(
        problem,
        &problem_uri,
        None,
        Some(json!({ "problem": "no-webcrypto" })),
        404,
    )
    .await;
    let pass_id = enrolled["pass_id"].as_str().unwrap().to_owned();

    // What the gateway reports: entries and an alarm.
    fresh.gateway_reports("anna-k").await;
    let entries = ("get", "/api/v1/entries");
    let log = w
        .call(entries, "/api/v1/entries?all=true", s, None, 200)
        .await
        .json();
    assert_eq!(log["entries"].as_array().map(Vec::len), Some(2), "{log}");
    w.call(entries, "/api/v1/entries?site=nowhere", s, None, 404)
        .await;
    let csv = w
        .call(
            ("get", "/api/v1/entries.csv"),
            "/api/v1/entries.csv",
            s,
            None,
            200,
        )
        .await;
    assert!(
        csv.text().starts_with("time,site,gateway,"),
        "{}",
        csv.text()
    );
    w.call(
        ("get", "/api/v1/gateways"),
        "/api/v1/gateways",
        s,
        None,
        200,
    )
    .await;
    // Registering a gateway, and its config file.
    let add_gateway = ("post", "/api/v1/gateways");
    let gw3 = json!({
        "site": SITE, "id": "gw3",
        "public_key": SecretKey::from_seed(&[0x33; 32]).public_key().to_hex(),
        "doors": ["front"]
    });
    let added = w
        .call(add_gateway, add_gateway.1, s, Some(gw3.clone()), 201)
        .await
        .json();
    assert_eq!(added["id"], "gw3", "{added}");
    w.call(add_gateway, add_gateway.1, s, Some(gw3), 409).await;
    let bad_key = json!({ "site": SITE, "id": "gw4", "public_key": "00", "doors": ["front"] });
    w.call(add_gateway, add_gateway.1, s, Some(bad_key), 400)
        .await;
    let config = ("get", "/api/v1/gateways/{site}/{id}/config");
    let toml = w
        .call(
            config,
            &format!("/api/v1/gateways/{SITE}/gw3/config"),
            s,
            None,
            200,
        )
        .await;
    assert!(toml.text().contains("gw3"), "{}", toml.text());
    w.call(
        config,
        &format!("/api/v1/gateways/{SITE}/nope/config"),
        s,
        None,
        404,
    )
    .await;
    let alarms = w
        .call(("get", "/api/v1/alarms"), "/api/v1/alarms", s, None, 200)
        .await
        .json();
    assert_eq!(
        alarms["alarms"].as_array().map(Vec::len),
        Some(1),
        "{alarms}"
    );
    let alarm_id = alarms["alarms"][0]["id"].as_str().unwrap().to_owned();
    let get_alarm = ("get", "/api/v1/alarms/{id}");
    w.call(
        get_alarm,
        &format!("/api/v1/alarms/{alarm_id}"),
        s,
        None,
        200,
    )
    .await;
    w.call(get_alarm, "/api/v1/alarms/nope", s, None, 404).await;
    let acknowledge = ("post", "/api/v1/alarms/{id}/acknowledge");
    let uri = format!("/api/v1/alarms/{alarm_id}/acknowledge");
    let acked = w
        .call(
            acknowledge,
            &uri,
            s,
            Some(json!({ "note": "latch fixed" })),
            200,
        )
        .await
        .json();
    assert_eq!(acked["ack_note"], "latch fixed", "{acked}");
    w.call(acknowledge, &uri, s, Some(json!({ "note": "again" })), 409)
        .await;

    // Commands.
    let send_command = ("post", "/api/v1/commands");
    let unlock =
        json!({ "gateway": format!("{SITE}/{GATEWAY}"), "action": "unlock", "door": "front" });
    let command = w
        .call(send_command, send_command.1, s, Some(unlock), 202)
        .await
        .json();
    let open = json!({ "gateway": GATEWAY, "action": "open", "door": "front" });
    w.call(send_command, send_command.1, s, Some(open), 400)
        .await;
    let reset = json!({ "gateway": format!("{SITE}/{GATEWAY}"), "action": "clock_reset", "floor": "2026-12-03T10:00" });
    let sent = w
        .call(send_command, send_command.1, s, Some(reset), 202)
        .await
        .json();
    assert_eq!(sent["action"], "clock_reset", "{sent}");
    let bad_floor = json!({ "gateway": GATEWAY, "action": "clock_reset", "floor": "soon" });
    w.call(send_command, send_command.1, s, Some(bad_floor), 400)
        .await;
    w.call(
        ("get", "/api/v1/commands"),
        "/api/v1/commands",
        s,
        None,
        200,
    )
    .await;
    let get_command = ("get", "/api/v1/commands/{id}");
    let uri = format!("/api/v1/commands/{}", command["id"].as_str().unwrap());
    w.call(get_command, &uri, s, None, 200).await;

    // A pass whose link goes by e-mail, and a new link for it by e-mail.
    let mailed = json!({ "member": "anna-k", "site": SITE, "email": true });
    let mailed = w.call(issue, issue.1, s, Some(mailed), 201).await.json();
    assert_eq!(mailed["delivery"]["state"], "queued", "{mailed}");
    let send_pass = ("post", "/api/v1/passes/{id}/send");
    let uri = format!("/api/v1/passes/{}/send", mailed["id"].as_str().unwrap());
    w.call(send_pass, &uri, s, None, 200).await;
    w.call(send_pass, "/api/v1/passes/nothing/send", s, None, 404)
        .await;

    // Revocations, and their conflicts.
    let revoke_pass = ("post", "/api/v1/passes/{id}/revoke");
    let uri = format!("/api/v1/passes/{pass_id}/revoke");
    w.call(revoke_pass, &uri, s, None, 200).await;
    w.call(revoke_pass, &uri, s, None, 409).await;
    // A revoked pass gets no new link.
    w.call(
        send_pass,
        &format!("/api/v1/passes/{pass_id}/send"),
        s,
        None,
        409,
    )
    .await;
    // The page of a revoked pass says so; its code is gone.
    w.call(("get", "/p/{secret}"), page, None, None, 200).await;
    let png = ("get", "/p/{secret}/qr.png");
    w.call(png, &format!("{page}/qr.png"), None, None, 410)
        .await;
    let svg = ("get", "/p/{secret}/qr.svg");
    w.call(svg, &format!("{page}/qr.svg"), None, None, 410)
        .await;
    let revoke_member = ("post", "/api/v1/members/{id}/revoke");
    let uri = "/api/v1/members/anna-k/revoke";
    w.call(revoke_member, uri, s, None, 200).await;
    w.call(revoke_member, uri, s, None, 409).await;
    let restore_member = ("post", "/api/v1/members/{id}/restore");
    let uri = "/api/v1/members/anna-k/restore";
    w.call(restore_member, uri, s, None, 200).await;
    w.call(restore_member, uri, s, None, 409).await;
    let update_member = ("patch", "/api/v1/members/{id}");
    let uri = "/api/v1/members/anna-k";
    let changed = w
        .call(
            update_member,
            uri,
            s,
            Some(json!({ "email": "anna@example.org" })),
            200,
        )
        .await
        .json();
    assert_eq!(
        changed["name"], "Anna Karlsson",
        "a field left out stays: {changed}"
    );
    assert_eq!(changed["email"], "anna@example.org", "{changed}");
    let cleared = w
        .call(update_member, uri, s, Some(json!({ "email": null })), 200)
        .await
        .json();
    assert_eq!(cleared["email"], Value::Null, "{cleared}");
    w.call(
        update_member,
        uri,
        s,
        Some(json!({ "email": "not an address" })),
        400,
    )
    .await;

    // A token without the scope is forbidden.
    let r = Some(reader_token.as_str());
    w.call(("get", "/api/v1/members"), "/api/v1/members", r, None, 403)
        .await;
    w.call(entries, "/api/v1/entries", r, None, 200).await;
    w.call(("get", "/api/v1/sites"), "/api/v1/sites", r, None, 403)
        .await;

    // The web UI's language, per account; a token has none.
    let language = ("put", "/api/v1/session/language");
    w.call(
        language,
        language.1,
        s,
        Some(json!({ "language": "da" })),
        200,
    )
    .await;
    w.call(
        language,
        language.1,
        s,
        Some(json!({ "language": "de" })),
        400,
    )
    .await;
    w.call(
        language,
        language.1,
        r,
        Some(json!({ "language": "sv" })),
        400,
    )
    .await;

    // Logging out ends the session.
    let logout = ("delete", "/api/v1/session");
    w.call(logout, logout.1, s, None, 204).await;
    w.call(
        ("get", "/api/v1/gateways"),
        "/api/v1/gateways",
        s,
        None,
        401,
    )
    .await;

    let documented = documented(&w.doc);
    let uncalled: Vec<_> = documented.difference(&w.called).collect();
    assert!(uncalled.is_empty(), "the walk missed {uncalled:?}");
}
