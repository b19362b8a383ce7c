//! view/conversations: the rows behind the live tiles, with contexts and
//! ordering, and its CSV twin.

use serde_json::{json, Value};

use super::{voice, webchat, ACC_V, ACC_W};
use crate::helpers::{audit_with, TestApp};
use crate::messages::Q1;

fn filters(channel: &str) -> Value {
    json!({"from": "2026-03-10T00:00:00Z", "to": "2026-03-11T00:00:00Z",
        "newState": ["Closed"], "channel": channel})
}

/// The WebChat conversations, their interactions' references (not in the
/// order of their ends) and the directory.
fn events() -> Value {
    let mut events = [webchat(), voice()].concat();
    for (n, reference) in [(1, "C"), (2, "A"), (3, "E"), (4, "B"), (5, "D")] {
        events.push(audit_with(
            &format!("a{n}"),
            &format!("i-w{n}"),
            "2026-03-10T09:00:00Z",
            None,
            "Created",
            json!({"channel": "WebChat", "reference": reference}),
        ));
    }
    events.push(
        json!({"id": "dir-q", "type": "directory.queue", "occurredAt": "2026-01-01T00:00:00Z",
        "queueId": Q1, "name": "Support"}),
    );
    Value::Array(events)
}

#[track_caller]
fn order(answer: &Value) -> Vec<(String, String)> {
    answer["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["interactionId"].as_str().expect("id").to_owned(),
                r["timestamp"].as_str().expect("timestamp").to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn conversation_rows_with_contexts_order_and_csv() {
    let app = TestApp::spawn().await;
    app.ingest(&events()).await;
    let pair = |i: &str, t: &str| (format!("i-{i}"), format!("2026-03-10T{t}.000Z"));

    let answer = app
        .report(
            "view/conversations",
            &json!({"filters": filters("WebChat"), "orderBy": "Descending", "contexts": ["Account", "Queue"]}),
        )
        .await;
    assert_eq!(
        order(&answer),
        vec![
            pair("w5", "13:05:00"),
            pair("w4", "12:10:00"),
            pair("w3", "11:05:00"),
            pair("w2", "10:10:00"),
            pair("w1", "10:05:00"),
        ]
    );
    assert_eq!(
        answer["rows"][2],
        json!({"interactionId": "i-w3", "reference": "E", "channel": "WebChat", "timestamp": "2026-03-10T11:05:00.000Z",
            "contexts": {"Account": {"id": ACC_W, "name": "Chat desk"}, "Queue": {"id": Q1, "name": "Support"}}})
    );

    let by_reference = app
        .report(
            "view/conversations",
            &json!({"filters": filters("WebChat"), "orderByField": "Reference"}),
        )
        .await;
    let references: Vec<&str> = by_reference["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["reference"].as_str().expect("reference"))
        .collect();
    assert_eq!(references, ["A", "B", "C", "D", "E"]);
    assert!(by_reference["rows"][0].get("contexts").is_none());

    // Voice, Inbound, by account; another account has no rows; a voice
    // conversation has no queue (null context).
    let mut voice = filters("Voice");
    voice["direction"] = json!("Inbound");
    voice["accounts"] = json!([ACC_V]);
    let answer = app
        .report(
            "view/conversations",
            &json!({"filters": voice, "contexts": ["Queue"]}),
        )
        .await;
    assert_eq!(
        order(&answer),
        vec![
            pair("v1", "10:01:00"),
            pair("v2", "10:02:00"),
            pair("v3", "10:06:00"),
            pair("v4", "11:04:00"),
            pair("v5", "12:01:00"),
        ]
    );
    assert_eq!(answer["rows"][0]["contexts"], json!({"Queue": null}));
    voice["accounts"] = json!([ACC_W]);
    let answer = app
        .report("view/conversations", &json!({"filters": voice}))
        .await;
    assert_eq!(answer, json!({"rows": []}));

    let csv = app
        .export(
            "view/conversations",
            &json!({"filters": filters("WebChat"), "orderByField": "Reference", "orderBy": "Descending",
                "contexts": ["Account", "Queue"]}),
        )
        .await;
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "interactionId,reference,channel,timestamp,accountId,accountName,queueId,queueName"
    );
    assert_eq!(
        lines[1],
        format!("i-w3,E,WebChat,2026-03-10T11:05:00.000Z,{ACC_W},Chat desk,{Q1},Support")
    );
    assert_eq!(lines.len(), 7, "{csv}");
    assert_eq!(lines[6], "");
}

#[tokio::test]
async fn view_requests_follow_the_live_rules() {
    let app = TestApp::spawn().await;
    let mut missing = filters("Voice");
    missing.as_object_mut().expect("object").remove("newState");
    let mut queued = filters("Voice");
    queued["newState"] = json!(["Queued"]);
    let mut directed = filters("WebChat");
    directed["direction"] = json!("Outbound");
    let cases = [
        (json!({"filters": missing}), 400, "filters.newState"),
        (json!({"filters": queued}), 422, "filters.newState"),
        (json!({"filters": filters("Email")}), 422, "filters.channel"),
        (json!({"filters": directed}), 422, "filters.direction"),
        (
            json!({"filters": filters("Voice"), "contexts": ["User"]}),
            422,
            "contexts",
        ),
    ];
    for (request, status, field) in cases {
        let problem = app
            .post("/reporting/v1.2/view/conversations", &request)
            .await
            .problem(status);
        assert_eq!(problem["errors"][0]["field"], field, "{request}");
    }
}
