//! Tile 37: the rows behind the tiles, as JSON (≤ 1,000) and streamed CSV.

use serde_json::{json, Value};

use crate::helpers::{audit_with, TestApp};
use crate::messages::{scenarios, Q1, U1};

fn day() -> Value {
    json!({"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"})
}

#[tokio::test]
async fn interaction_rows_with_contexts_and_order() {
    let app = TestApp::spawn().await;
    let mut events = scenarios();
    events.push(json!({"id": "dq", "type": "directory.queue", "occurredAt": "2025-01-01T00:00:00Z", "queueId": Q1, "name": "Support"}));
    events.push(json!({"id": "du", "type": "directory.user", "occurredAt": "2025-01-01T00:00:00Z", "userId": U1, "email": "a@b.c", "firstName": "Ada", "lastName": "Lovelace", "roles": []}));
    app.ingest(&Value::Array(events)).await;
    let mut filters = day();
    filters["newState"] = json!(["Assigned"]);
    let answer = app
        .report(
            "view/interactions",
            &json!({"filters": filters, "orderBy": "Descending", "contexts": ["Queue", "User"]}),
        )
        .await;
    let rows = answer["rows"].as_array().expect("rows");
    // Assignments: A 10:05, B 09:30, C 11:00 and 11:20, D 12:00; newest first.
    let order: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["interactionId"].as_str().expect("id"),
                r["timestamp"].as_str().expect("t"),
            )
        })
        .collect();
    assert_eq!(
        order,
        vec![
            ("D", "2026-01-01T12:00:00.000Z"),
            ("C", "2026-01-01T11:20:00.000Z"),
            ("C", "2026-01-01T11:00:00.000Z"),
            ("A", "2026-01-01T10:05:00.000Z"),
            ("B", "2026-01-01T09:30:00.000Z"),
        ]
    );
    assert_eq!(
        rows[3],
        json!({"interactionId": "A", "reference": "REF-A", "channel": "Email", "timestamp": "2026-01-01T10:05:00.000Z",
            "contexts": {"Queue": {"id": Q1, "name": "Support"}, "User": {"id": U1, "name": "Ada Lovelace"}}})
    );
    let problem = app
        .post(
            "/reporting/v1.2/view/interactions",
            &json!({"filters": day(), "contexts": ["Account"]}),
        )
        .await
        .problem(422);
    assert_eq!(problem["errors"][0]["field"], "contexts");
}

#[tokio::test]
async fn message_rows_take_the_interactions_reference() {
    let app = TestApp::spawn().await;
    app.ingest(&Value::Array(scenarios())).await;
    let mut filters = day();
    filters["direction"] = json!("Inbound");
    filters["channels"] = json!(["WebChat"]);
    let answer = app
        .report("view/messages", &json!({"filters": filters}))
        .await;
    assert_eq!(
        answer,
        json!({"rows": [
            {"interactionId": "D", "reference": "REF-D", "channel": "WebChat", "timestamp": "2026-01-01T12:05:00.000Z"},
            {"interactionId": "E", "reference": "REF-E", "channel": "WebChat", "timestamp": "2026-01-01T13:01:00.000Z"},
        ]})
    );
    let other = app.new_tenant("Other").await;
    let theirs = app
        .post_as(
            &other.token,
            "/reporting/v1.2/view/messages",
            &json!({"filters": day()}),
        )
        .await;
    assert_eq!(theirs.json(), json!({"rows": []}));
}

#[tokio::test]
async fn json_caps_at_1000_rows_and_the_export_streams_them_all() {
    let app = TestApp::spawn().await;
    let events: Vec<Value> = (0..1500)
        .map(|i| {
            audit_with(
                &format!("e{i}"),
                &format!("i{i}"),
                &format!("2026-01-01T10:{:02}:{:02}Z", i / 60 % 60, i % 60),
                Some("Queued"),
                "Closed",
                json!({"reference": format!("R,{i}")}),
            )
        })
        .collect();
    app.ingest(&Value::Array(events)).await;
    let body = json!({"filters": {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "newState": ["Closed"]}, "orderByField": "Reference"});
    let answer = app.report("view/interactions", &body).await;
    assert_eq!(answer["rows"].as_array().expect("rows").len(), 1000);
    assert_eq!(answer["rows"][0]["reference"], "R,0");
    assert_eq!(
        answer["rows"][1]["reference"], "R,1",
        "ordered by reference as text"
    );
    // Text order, not time order: "R,10" (10:00:10) comes before "R,2".
    assert_eq!(answer["rows"][2]["reference"], "R,10");
    let csv = app.export("view/interactions", &body).await;
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 1501, "header + every row");
    assert_eq!(lines[0], "interactionId,reference,channel,timestamp");
    assert_eq!(lines[1], "i0,\"R,0\",Email,2026-01-01T10:00:00.000Z");
}

#[tokio::test]
async fn unit_of_work_rows_by_action() {
    let app = TestApp::spawn().await;
    app.ingest(&json!([
        {"id": "w1", "type": "unit_of_work.completed", "occurredAt": "2026-01-01T10:00:00Z", "interactionId": "i1", "userId": U1,
         "assignedAt": "2026-01-01T09:00:00Z", "userState": "Online", "channel": "Email", "actions": {"closed": 0, "messages": 0, "dataChanges": 0, "notes": 2}},
        {"id": "w2", "type": "unit_of_work.completed", "occurredAt": "2026-01-01T11:00:00Z", "interactionId": "i2", "userId": U1,
         "assignedAt": "2026-01-01T09:00:00Z", "userState": "Online", "channel": "Email", "actions": {"closed": 1, "messages": 0, "dataChanges": 0, "notes": 0}},
    ]))
    .await;
    let mut filters = day();
    filters["action"] = json!("Note");
    let answer = app
        .report(
            "view/unit-of-work",
            &json!({"filters": filters, "contexts": ["User"]}),
        )
        .await;
    assert_eq!(answer["rows"].as_array().expect("rows").len(), 1);
    assert_eq!(answer["rows"][0]["interactionId"], "i1");
    assert_eq!(
        answer["rows"][0]["contexts"]["User"],
        json!({"id": U1, "name": null})
    );
}

/// Reference order and timestamp order disagree: x1 10:00 "REF-C", x2 11:00
/// "REF-A", x3 12:00 "REF-B", so each of the four orders is a different
/// permutation and an ignored `orderByField` or `orderBy` shows.
#[tokio::test]
async fn order_by_field_and_direction_in_json_and_csv() {
    let app = TestApp::spawn().await;
    let closed = |id: &str, at: &str, reference: &str| {
        audit_with(
            id,
            id,
            at,
            Some("Assigned"),
            "Closed",
            json!({"reference": reference}),
        )
    };
    app.ingest(&json!([
        closed("x2", "2026-01-01T11:00:00Z", "REF-A"),
        closed("x1", "2026-01-01T10:00:00Z", "REF-C"),
        closed("x3", "2026-01-01T12:00:00Z", "REF-B"),
    ]))
    .await;
    let cases = [
        ("Timestamp", "Ascending", ["x1", "x2", "x3"]),
        ("Timestamp", "Descending", ["x3", "x2", "x1"]),
        ("Reference", "Ascending", ["x2", "x3", "x1"]),
        ("Reference", "Descending", ["x1", "x3", "x2"]),
    ];
    for (field, order, expected) in cases {
        let mut filters = day();
        filters["newState"] = json!(["Closed"]);
        let body = json!({"filters": filters, "orderByField": field, "orderBy": order});
        let answer = app.report("view/interactions", &body).await;
        let ids: Vec<&str> = answer["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| r["interactionId"].as_str().expect("id"))
            .collect();
        assert_eq!(ids, expected, "JSON, {field} {order}");
        let csv = app.export("view/interactions", &body).await;
        let mut lines = csv.split("\r\n");
        assert_eq!(
            lines.next(),
            Some("interactionId,reference,channel,timestamp")
        );
        let ids: Vec<&str> = lines
            .filter(|l| !l.is_empty())
            .map(|l| l.split(',').next().expect("first field"))
            .collect();
        assert_eq!(ids, expected, "CSV, {field} {order}");
    }
    // The rows themselves, oldest first.
    let mut filters = day();
    filters["newState"] = json!(["Closed"]);
    let csv = app
        .export("view/interactions", &json!({"filters": filters}))
        .await;
    assert_eq!(
        csv,
        "interactionId,reference,channel,timestamp\r\n\
         x1,REF-C,Email,2026-01-01T10:00:00.000Z\r\n\
         x2,REF-A,Email,2026-01-01T11:00:00.000Z\r\n\
         x3,REF-B,Email,2026-01-01T12:00:00.000Z\r\n"
    );
}
