//! Issue 10, isolation on every route: a walker takes every operation of
//! the served OpenAPI document and calls it with tenant B's credentials and
//! tenant A's ids (queue, user, account, data type and option, interaction,
//! conversation and event ids), and asserts that nothing of A's appears:
//! every figure zero or null, no row, none of A's names or references. The
//! same requests with A's token must find A's data (else the walker's
//! request proved nothing). A route the walker does not know fails the
//! test, so a new route cannot go unchecked.

use serde_json::{json, Value};

use crate::helpers::{TestApp, TestTenant};

const Q: &str = "51a4c6a2-0c7e-4b7e-9d1a-5e0e0c0ffee1";
const U: &str = "51a4c6a2-0c7e-4b7e-9d1a-5e0e0c0ffee2";
const ACCOUNT: &str = "51a4c6a2-0c7e-4b7e-9d1a-5e0e0c0ffee3";
const DATA: &str = "51a4c6a2-0c7e-4b7e-9d1a-5e0e0c0ffee4";
const OPTION: &str = "51a4c6a2-0c7e-4b7e-9d1a-5e0e0c0ffee5";
const FROM: &str = "2026-01-01T00:00:00Z";
const TO: &str = "2026-01-02T00:00:00Z";

/// Text of A's that must never reach B: directory names, references,
/// interaction and conversation ids, event ids, addresses.
const SECRETS: [&str; 9] = [
    "Alpha Secret Queue",
    "Alice",
    "Secretson",
    "Acme Secret Account",
    "Secret Option Name",
    "REF-ALPHA-SECRET",
    "int-alpha-secret",
    "conv-alpha-secret",
    "alpha-secret-event",
];

/// One interaction of every family in queue Q, by user U, on account
/// ACCOUNT, with data DATA = OPTION, described in A's directory.
fn a_events() -> Value {
    let id = |n: u32| format!("alpha-secret-event-{n}");
    let at = |minute: u32| format!("2026-01-01T10:{minute:02}:00Z");
    let data = json!([{"id": DATA, "values": [OPTION]}]);
    let audit = |n: u32, minute: u32, old: Option<&str>, new: &str| {
        json!({"id": id(n), "type": "interaction.state_changed", "occurredAt": at(minute),
               "interactionId": "int-alpha-secret", "reference": "REF-ALPHA-SECRET",
               "channel": "WebChat", "oldState": old, "newState": new, "queueId": Q,
               "userId": U, "data": data})
    };
    let message = |n: u32, minute: u32, direction: &str| {
        json!({"id": id(n), "type": "message.created", "occurredAt": at(minute),
               "interactionId": "int-alpha-secret", "conversationId": "conv-alpha-secret",
               "direction": direction, "channel": "WebChat", "queueId": Q, "accountId": ACCOUNT,
               "userId": U, "fromAddress": "alpha-secret-event@example.com", "data": data})
    };
    let conversation = |n: u32, minute: u32, kind: &str, more: Value| {
        let mut event = json!({"id": id(n), "type": format!("conversation.{kind}"),
            "occurredAt": at(minute), "conversationId": "conv-alpha-secret"});
        if let (Some(e), Value::Object(more)) = (event.as_object_mut(), more) {
            e.extend(more);
        }
        event
    };
    let failed = |mut event: Value| {
        event["deliveryStatus"] = json!("Failed");
        event["statusCode"] = json!("30007");
        event
    };
    json!([
        {"id": id(1), "type": "directory.queue", "occurredAt": "2026-01-01T00:00:00Z",
         "queueId": Q, "name": "Alpha Secret Queue"},
        {"id": id(2), "type": "directory.user", "occurredAt": "2026-01-01T00:00:00Z", "userId": U,
         "email": "alice@alpha.example", "firstName": "Alice", "lastName": "Secretson",
         "roles": ["Agent"]},
        {"id": id(3), "type": "directory.account", "occurredAt": "2026-01-01T00:00:00Z",
         "accountId": ACCOUNT, "name": "Acme Secret Account", "channel": "WebChat"},
        {"id": id(4), "type": "directory.data_type", "occurredAt": "2026-01-01T00:00:00Z",
         "dataTypeId": DATA, "name": "Alpha data", "kind": "SingleSelect", "reportable": true,
         "options": [{"id": OPTION, "name": "Secret Option Name"}]},
        {"id": id(5), "type": "presence.changed", "occurredAt": at(0), "userId": U,
         "state": "Online"},
        {"id": id(6), "type": "presence.changed", "occurredAt": at(50), "userId": U,
         "state": "Away"},
        audit(10, 1, Some("Draft"), "Created"),
        audit(11, 2, Some("Created"), "Automation"),
        audit(12, 4, Some("Automation"), "Queued"),
        audit(13, 7, Some("Queued"), "Assigned"),
        conversation(20, 1, "started", json!({"interactionId": "int-alpha-secret",
            "channel": "WebChat", "accountId": ACCOUNT, "queueId": Q, "data": data})),
        conversation(21, 7, "operator_connected", json!({"userId": U})),
        message(30, 8, "Inbound"),
        message(31, 10, "Outbound"),
        failed(message(32, 11, "Outbound")),
        conversation(22, 20, "ended", json!({"endedBy": "Agent"})),
        audit(14, 20, Some("Assigned"), "Closed"),
        audit(15, 30, Some("Closed"), "Queued"),
        {"id": id(50), "type": "distribution.completed", "occurredAt": at(9),
         "distributionId": "conv-alpha-secret", "direction": "Incoming", "queueId": Q, "userId": U,
         "correspondent": "alpha-secret-event@example.com", "interactionId": "int-alpha-secret"},
        {"id": id(51), "type": "distribution.completed", "occurredAt": at(9),
         "distributionId": "conv-alpha-secret-out", "direction": "Outgoing", "queueId": Q,
         "userId": U, "correspondent": "alpha-secret-event@example.com"},
        {"id": id(52), "type": "sms.sent", "occurredAt": at(9), "smsId": "int-alpha-secret",
         "queueId": Q, "userId": U, "recipient": "alpha-secret-event@example.com"},
        {"id": id(40), "type": "unit_of_work.completed", "occurredAt": at(20),
         "interactionId": "int-alpha-secret", "userId": U, "assignedAt": at(7),
         "userState": "Online", "actions": {"closed": 1, "messages": 1, "dataChanges": 0,
         "notes": 0}, "channel": "WebChat", "queueId": Q, "data": data},
    ])
}

/// The contexts a view accepts, by its path.
fn contexts(path: &str) -> Value {
    match path.rsplit('/').next() {
        Some("interactions") => json!(["Data", "Queue", "User"]),
        Some("messages") => json!(["Account", "Queue", "User"]),
        Some("unit-of-work") => json!(["Queue", "User"]),
        Some("conversations") => json!(["Account", "Queue"]),
        _ => panic!("the isolation walker does not know the contexts of {path}"),
    }
}

/// The request for a reporting or export route: every filter and group
/// naming A's ids, so that whatever the route counts, it counts A's data.
fn body_for(path: &str) -> Value {
    if path.ends_with("/v1.2/directory") {
        return json!({});
    }
    let filters = json!({"from": FROM, "to": TO, "groupBy": "Hour", "queues": [Q]});
    if path.contains("/datasources/") {
        let filters = json!({"from": FROM, "to": TO, "queues": [Q], "users": [U]});
        return json!({"filters": filters, "columns": if path.contains("/sms/") {
            json!(["smsId", "recipient", "queue", "user"])
        } else {
            json!(["interactionId", "queue", "user"])
        }});
    }
    if path.contains("/view/") {
        let mut filters = filters;
        let view = path.rsplit('/').next().unwrap_or_default();
        match view {
            "interactions" => filters["newState"] = json!(["Created", "Closed"]),
            "messages" => filters["direction"] = json!("Inbound"),
            "unit-of-work" => filters["action"] = json!("Any"),
            "conversations" => {
                filters["newState"] = json!(["Closed"]);
                filters["channel"] = json!("WebChat");
            }
            _ => panic!("the isolation walker does not know view {path}"),
        }
        return json!({"filters": filters, "contexts": contexts(path)});
    }
    // The §5 listings refuse fields they do not take.
    let listing = json!({"from": FROM, "to": TO, "queues": [Q], "accounts": [ACCOUNT]});
    match path.split("/v1.2/").nth(1) {
        Some("sessions" | "sessions/metrics" | "messages/delivery-failures") => {
            return json!({"filters": listing});
        }
        Some("conversations/intervals") => {
            return json!({"filters": listing, "intervalHours": 5});
        }
        _ => {}
    }
    let mut body = json!({
        "filters": filters, "timeZone": "Asia/Kathmandu", "userIds": [U], "accounts": [ACCOUNT],
        "data": {"id": DATA, "values": [OPTION]}, "action": "Any",
    });
    let tile = path
        .split("/v1.2/")
        .nth(1)
        .unwrap_or_else(|| panic!("{path} is not a reporting route"));
    let family: Vec<&str> = tile.split('/').take(2).collect();
    match family.as_slice() {
        ["interactions", "state"] => body["newState"] = json!(["Created", "Closed"]),
        ["interactions", "queue-time" | "ivr-time"] | ["unit-of-work", _] => {}
        ["messages", "volume"] => body["direction"] = json!("Inbound"),
        ["messages", "response-times"] => body["responseTime"] = json!("AdvisorResponseTime"),
        ["conversations", "live"] => {
            body["newState"] = json!(["Closed"]);
            body["filters"]["channel"] = json!("WebChat");
        }
        ["presence", _] | ["advisors", _] => body["userState"] = json!("Available"),
        // The two-way listing takes a range only.
        ["twoway", "activity"] => return json!({"filters": {"from": FROM, "to": TO}}),
        _ => panic!("the isolation walker does not know the family of {path}: teach it"),
    }
    if tile.contains("/by-channels") {
        body["filters"]["channels"] = json!(["WebChat"]);
    }
    if !tile.contains("by-date") {
        body["filters"]
            .as_object_mut()
            .expect("filters")
            .remove("groupBy");
    }
    body
}

/// Every number anywhere in `value`, and every string.
fn leaves<'a>(value: &'a Value, numbers: &mut Vec<f64>, strings: &mut Vec<&'a str>) {
    match value {
        Value::Number(n) => numbers.push(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => strings.push(s),
        Value::Array(items) => items.iter().for_each(|v| leaves(v, numbers, strings)),
        Value::Object(fields) => fields.values().for_each(|v| leaves(v, numbers, strings)),
        _ => {}
    }
}

/// What an answer holds: its figures, its text, and rows (views, CSV).
struct Seen<'a> {
    numbers: Vec<f64>,
    strings: Vec<&'a str>,
    rows: usize,
}

fn seen<'a>(path: &str, text: &'a str, json: &'a Option<Value>) -> Seen<'a> {
    let (mut numbers, mut strings) = (Vec::new(), Vec::new());
    let mut rows = 0;
    match json {
        Some(value) => {
            leaves(value, &mut numbers, &mut strings);
            rows = value["rows"].as_array().map_or(0, Vec::len);
        }
        None => {
            // CSV: the header, then rows; a cell is a figure when it parses.
            for line in text.lines().skip(1) {
                for cell in line.split(',') {
                    match cell.trim_matches('"').parse::<f64>() {
                        Ok(n) => numbers.push(n),
                        Err(_) => strings.push(cell),
                    }
                }
                rows += 1;
            }
            // Row exports (views, the two-way flat file, data sources)
            // count their lines.
            if path.contains("/view/")
                || path.contains("/twoway/")
                || path.contains("/datasources/")
            {
                return Seen {
                    numbers,
                    strings,
                    rows,
                };
            }
            rows = 0;
        }
    }
    Seen {
        numbers,
        strings,
        rows,
    }
}

/// Calls a reporting route as `tenant`: the answer's text and its JSON
/// (CSV for exports).
async fn call(app: &TestApp, tenant: &TestTenant, path: &str) -> (String, Option<Value>) {
    let body = serde_json::to_vec(&body_for(path)).expect("json");
    let auth = format!("Bearer {}", tenant.token);
    let export = path.starts_with("/reporting/export/");
    let accept = if export {
        "text/csv"
    } else {
        "application/json"
    };
    let response = app
        .request(
            axum::http::Method::POST,
            path,
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
                ("accept", accept),
                ("cache-control", "no-cache"),
            ],
            body,
        )
        .await;
    assert_eq!(response.status, 200, "{path}: {}", response.text());
    let json = (!export).then(|| response.json());
    (response.text(), json)
}

#[tokio::test]
async fn tenant_b_with_tenant_a_ids_sees_nothing_of_a_on_any_route() {
    let app = TestApp::spawn().await;
    let a = app.tenant.clone();
    let b = app.new_tenant("B").await;
    let stored = app.ingest_as(&a, &a_events()).await;
    assert_eq!(stored["duplicates"], 0, "{stored}");
    // B sends an event under one of A's event ids: it is B's own, and
    // changes nothing of A's.
    let b_event = json!([{"id": "alpha-secret-event-1", "type": "directory.queue",
        "occurredAt": "2026-01-01T00:00:00Z", "queueId": uuid::Uuid::new_v4(), "name": "B's queue"}]);
    let b_stored = app.ingest_as(&b, &b_event).await;
    assert_eq!(b_stored["inserted"], 1, "{b_stored}");
    app.fold().await;
    let a_file = crate::twoway::file_of(&app, &a).await;

    let document = app
        .request(axum::http::Method::GET, "/openapi.json", &[], Vec::new())
        .await
        .json();
    let paths = document["paths"].as_object().expect("paths");
    let mut walked = 0;
    // A path with `{name}` is walked once per name its parameter lists.
    let paths = paths.iter().flat_map(|(path, item)| {
        let names = item["post"]["parameters"][0]["schema"]["enum"].as_array();
        match (path.contains("{name}"), names) {
            (true, Some(names)) => names
                .iter()
                .map(|n| (path.replace("{name}", n.as_str().expect("name")), item))
                .collect::<Vec<_>>(),
            _ => vec![(path.clone(), item)],
        }
    });
    for (path, item) in paths {
        match path.as_str() {
            "/reporting/v1.2/twoway/activity/files" => {
                let a_files = crate::twoway::get_as(&app, &a, &path).await.json();
                let b_files = crate::twoway::get_as(&app, &b, &path).await.json();
                assert_eq!(b_files, json!({"files": []}), "B sees A's files");
                assert_eq!(a_files["files"][0]["id"], json!(a_file), "{a_files}");
            }
            "/reporting/v1.2/twoway/activity/files/{id}" => {
                let file = path.replace("{id}", &a_file);
                assert_eq!(
                    crate::twoway::get_as(&app, &b, &file).await.status,
                    404,
                    "B reads A's file"
                );
                let own = crate::twoway::get_as(&app, &a, &file).await;
                assert!(own.text().contains("alpha-secret-event"), "{}", own.text());
            }
            "/ingest/v1/webhooks/twoway" => {
                // B's signature under A's tenant id stores nothing for A.
                let body = serde_json::to_vec(&crate::twoway::secret_event("2026-01-01T11:00:00Z"))
                    .expect("json");
                let signature =
                    cx_reporting::auth::secrets::sign(&b.credentials.webhook_secret, &body);
                let a_id = a.id.to_string();
                let forged = app
                    .request(
                        axum::http::Method::POST,
                        &path,
                        &[("x-tenant-id", &a_id), ("x-signature-256", &signature)],
                        body,
                    )
                    .await;
                assert_eq!(forged.status, 401, "{}", forged.text());
            }
            p if p.starts_with("/reporting/") => {
                assert!(item.get("post").is_some(), "{p}: only POST is walked");
                let (b_text, b_json) = call(&app, &b, p).await;
                let b_seen = seen(p, &b_text, &b_json);
                assert!(
                    b_seen.numbers.iter().all(|n| *n == 0.0),
                    "{p}: B sees figures of A: {b_text}"
                );
                assert_eq!(b_seen.rows, 0, "{p}: B sees rows of A: {b_text}");
                for secret in SECRETS {
                    assert!(
                        !b_seen.strings.iter().any(|s| s.contains(secret)),
                        "{p}: B sees {secret:?}: {b_text}"
                    );
                }
                // The same request finds A's data for A.
                let (a_text, a_json) = call(&app, &a, p).await;
                let a_seen = seen(p, &a_text, &a_json);
                let names_a = a_seen
                    .strings
                    .iter()
                    .any(|s| SECRETS.iter().any(|secret| s.contains(secret)));
                assert!(
                    a_seen.rows > 0 || a_seen.numbers.iter().any(|n| *n != 0.0) || names_a,
                    "{p}: the walker's request finds nothing of A's even for A: {a_text}"
                );
                walked += 1;
            }
            "/ingest/v1/events" => {
                // Walked above: B's events under A's ids stay B's.
            }
            "/metrics" => {
                let metrics = app
                    .request(axum::http::Method::GET, &path, &[], Vec::new())
                    .await
                    .text();
                assert!(
                    !metrics.contains(&a.id.to_string()),
                    "/metrics names tenant A"
                );
            }
            "/settings/v1" => {
                // A's settings never reach B: B reads its own defaults.
                let auth = |t: &TestTenant| format!("Bearer {}", t.token);
                let a_settings = json!({"reportingIntervalHours": 7,
                    "twoWayFileSchedule": "Weekly", "afterHours": {"timeZone": "Asia/Kathmandu",
                    "open": [], "holidays": ["2026-01-01"]}});
                let stored = app
                    .request(
                        axum::http::Method::PUT,
                        &path,
                        &[
                            ("authorization", &auth(&a)),
                            ("content-type", "application/json"),
                        ],
                        serde_json::to_vec(&a_settings).expect("json"),
                    )
                    .await;
                assert_eq!(stored.status, 200, "{}", stored.text());
                let seen = app
                    .request(
                        axum::http::Method::GET,
                        &path,
                        &[("authorization", &auth(&b))],
                        Vec::new(),
                    )
                    .await;
                assert_eq!(
                    seen.json(),
                    json!({"reportingIntervalHours": 2, "twoWayFileSchedule": "Daily", "afterHours": null}),
                    "B sees A's settings"
                );
            }
            "/healthz" | "/readyz" | "/oauth/token" | "/admin/v1/tenants" => {
                // No tenant data: liveness, readiness, token and tenant
                // creation (their refusals are tested in auth and tokens).
            }
            other => panic!("{other} is not covered by the isolation walker: teach it"),
        }
    }
    assert!(walked >= 78, "only {walked} reporting routes walked");
    eprintln!("isolation: {walked} reporting routes walked with B's token and A's ids");
}
