//! API.md §5.5, the ino.cx data sources: rows of each source computed by
//! hand from a few events, the columns and order asked for, the filters,
//! directory names, isolation and the CSV twin. Ingestion of the two event
//! kinds is in `ingest`.

mod ingest;
mod large;

use serde_json::{json, Value};

use crate::helpers::{TestApp, TestResponse};

pub const Q1: &str = "0d7e7c1a-8f55-4b43-a3b1-6f1a00000001";
pub const Q2: &str = "0d7e7c1a-8f55-4b43-a3b1-6f1a00000002";
pub const U1: &str = "0d7e7c1a-8f55-4b43-a3b1-6f1a0000000a";
pub const U2: &str = "0d7e7c1a-8f55-4b43-a3b1-6f1a0000000b";

/// 2 March 2026, UTC.
pub fn day() -> Value {
    json!({"from": "2026-03-02T00:00:00Z", "to": "2026-03-03T00:00:00Z"})
}

fn directory() -> Vec<Value> {
    let at = "2026-01-01T00:00:00Z";
    vec![
        json!({"id": "dq1", "type": "directory.queue", "occurredAt": at, "queueId": Q1, "name": "Sales"}),
        json!({"id": "dq2", "type": "directory.queue", "occurredAt": at, "queueId": Q2, "name": "Support"}),
        json!({"id": "du1", "type": "directory.user", "occurredAt": at, "userId": U1,
               "email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace", "roles": []}),
        json!({"id": "du2", "type": "directory.user", "occurredAt": at, "userId": U2,
               "email": "alan@example.com", "firstName": "Alan", "lastName": "Turing", "roles": []}),
    ]
}

/// The fully described incoming distribution `dist-1` (10:00, queue Q1,
/// user U1, offset +01:00 on the wire).
pub fn full_incoming() -> Value {
    json!({"id": "e-dist-1", "type": "distribution.completed",
        "occurredAt": "2026-03-02T11:00:00+01:00", "distributionId": "dist-1",
        "direction": "Incoming", "correspondent": "+33612345678", "queueId": Q1, "userId": U1,
        "distributionEndDate": "2026-03-02T10:05:42.5Z", "distributionType": "Queue",
        "messagingType": "WhatsApp", "waitTime": 12.5, "exchangeTime": 300,
        "postInteractionTime": 30, "totalInteractionTime": 342.5, "interactionStatus": "Treated",
        "transferred": false, "detailedInteractionStatus": "SuccessfullyCompleted",
        "transferToUser": false, "interactionId": "int-1", "routingType": "Smart",
        "callSwitchedToVideo": true, "videoCallDuration": 61.25, "videoCallWaitTime": 4,
        "queueTag": "vip", "sessionStart": "2026-03-02T09:59:00Z",
        "sessionEnd": "2026-03-02T10:06:00Z", "entryPoint": "+33100000000", "status": "Treated",
        "smartRoutingName": "Main", "smartRoutingVersionName": "v2",
        "checkpoints": ["welcome", "menu"], "someFutureField": "ignored"})
}

/// Every event of the scenario: the directory, three distributions on the
/// day (two incoming, one outgoing), one before it, and two SMS.
pub fn events() -> Value {
    let mut events = directory();
    events.push(full_incoming());
    events.push(json!({"id": "e-dist-2", "type": "distribution.completed",
        "occurredAt": "2026-03-02T09:00:00Z", "distributionId": "dist-2", "direction": "Incoming",
        "queueId": Q2, "userId": U2, "waitTime": 40, "transferred": true,
        "transferDate": "2026-03-02T09:03:00Z", "transferToQueue": "Billing",
        "transferToEntryPoint": "Processed", "messagingType": "Telegram"}));
    events.push(json!({"id": "e-dist-3", "type": "distribution.completed",
        "occurredAt": "2026-03-02T11:00:00Z", "distributionId": "dist-3", "direction": "Outgoing",
        "correspondent": "+441234567890", "queueId": Q1, "userId": U2, "waitTime": 0}));
    events.push(json!({"id": "e-dist-0", "type": "distribution.completed",
        "occurredAt": "2026-03-01T23:59:59.999Z", "distributionId": "dist-0", "direction": "Outgoing"}));
    events.push(json!({"id": "e-sms-1", "type": "sms.sent", "occurredAt": "2026-03-02T08:00:00Z",
        "smsId": "sms-1", "smsTemplate": "Reminder", "sender": "+33700000000", "origin": "PublicApi",
        "smsType": "Basic", "smsCategory": "Notification", "recipient": "+33612345678",
        "credits": 2, "content": "Hello, \"world\"", "checkpoints": [], "status": "Sent",
        "queueId": Q1, "userId": U1, "smsCampaign": "Spring", "distributionId": "dist-1"}));
    events.push(
        json!({"id": "e-sms-2", "type": "sms.sent", "occurredAt": "2026-03-02T12:00:00Z",
        "smsId": "sms-2"}),
    );
    Value::Array(events)
}

pub async fn scenario() -> TestApp {
    let app = TestApp::spawn().await;
    let stored = app.ingest(&events()).await;
    assert_eq!(stored["inserted"], 10, "{stored}");
    app
}

/// POSTs a rows request (uncached) and returns the response.
pub async fn rows_response(app: &TestApp, source: &str, body: &Value) -> TestResponse {
    let auth = format!("Bearer {}", app.tenant.token);
    app.request(
        axum::http::Method::POST,
        &format!("/reporting/v1.2/datasources/{source}/rows"),
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
            ("cache-control", "no-cache"),
        ],
        serde_json::to_vec(body).expect("json"),
    )
    .await
}

/// The rows of a source, asserting 200 and `truncated: false`.
pub async fn rows(app: &TestApp, source: &str, body: &Value) -> Vec<Value> {
    let response = rows_response(app, source, body).await;
    assert_eq!(response.status, 200, "{source}: {}", response.text());
    let answer = response.json();
    assert_eq!(answer["truncated"], false, "{answer}");
    answer["rows"].as_array().expect("rows").clone()
}

fn column(rows: &[Value], id: &str) -> Vec<Value> {
    rows.iter().map(|r| r[id].clone()).collect()
}

#[tokio::test]
async fn distributions_are_split_by_direction_with_every_seed_column() {
    let app = scenario().await;
    let incoming = rows(&app, "incoming-distributions", &json!({"filters": day()})).await;
    // Distribution date ascending: dist-2 at 09:00, dist-1 at 10:00.
    assert_eq!(
        column(&incoming, "interactionId"),
        [json!(null), json!("int-1")]
    );
    let expected = json!({
        "distributionDate": "2026-03-02T10:00:00.000Z", "distributionEndDate": "2026-03-02T10:05:42.500Z",
        "distributionType": "Queue", "messagingType": "WhatsApp", "sender": "+33612345678",
        "queue": "Sales", "user": "Ada Lovelace", "waitTime": 12.5, "exchangeTime": 300.0,
        "postInteractionTime": 30.0, "totalInteractionTime": 342.5, "interactionStatus": "Treated",
        "transferred": false, "detailedInteractionStatus": "SuccessfullyCompleted",
        "transferDate": null, "transferReleaseDate": null, "transferToUser": false,
        "transferToQueue": null, "transferToQueueGroup": null, "transferToSmartRouting": null,
        "transferToEntryPoint": null, "interactionId": "int-1", "routingType": "Smart",
        "callSwitchedToVideo": true, "videoCallDuration": 61.25, "videoCallWaitTime": 4.0,
        "queueTag": "vip"});
    assert_eq!(incoming[1], expected);
    // The keys come in the seed's order.
    let keys: Vec<&String> = incoming[1].as_object().expect("row").keys().collect();
    let seed: Vec<&String> = expected.as_object().expect("row").keys().collect();
    assert_eq!(keys, seed);
    assert_eq!(incoming[0]["queue"], "Support");
    assert_eq!(incoming[0]["transferToEntryPoint"], "Processed");
    assert_eq!(incoming[0]["transferDate"], "2026-03-02T09:03:00.000Z");

    let outgoing = rows(&app, "outgoing-distributions", &json!({"filters": day()})).await;
    assert_eq!(
        outgoing.len(),
        1,
        "dist-0 is before the range: {outgoing:?}"
    );
    assert_eq!(outgoing[0]["recipient"], "+441234567890");
    assert_eq!(outgoing[0]["user"], "Alan Turing");
    assert_eq!(outgoing[0]["waitTime"], 0.0);
    assert!(outgoing[0].get("sender").is_none());
}

#[tokio::test]
async fn messages_show_one_row_per_distribution_with_its_latest_description() {
    let app = scenario().await;
    // dist-1 described again later the same day: its latest description
    // is the one shown, once.
    let mut again = full_incoming();
    again["id"] = json!("e-dist-1-again");
    again["occurredAt"] = json!("2026-03-02T10:30:00Z");
    again["status"] = json!("Canceled");
    app.ingest(&json!([again])).await;

    let messages = rows(&app, "messages", &json!({"filters": day()})).await;
    assert_eq!(
        column(&messages, "direction"),
        [json!("Incoming"), json!("Incoming"), json!("Outgoing")]
    );
    let dist_1 = &messages[1];
    assert_eq!(dist_1["distributionDate"], "2026-03-02T10:30:00.000Z");
    assert_eq!(dist_1["status"], "Canceled");
    assert_eq!(dist_1["sessionStart"], "2026-03-02T09:59:00.000Z");
    assert_eq!(dist_1["sessionEnd"], "2026-03-02T10:06:00.000Z");
    assert_eq!(dist_1["correspondent"], "+33612345678");
    assert_eq!(dist_1["checkpoints"], json!(["welcome", "menu"]));
    assert_eq!(dist_1["smartRoutingVersionName"], "v2");
    assert_eq!(dist_1["entryPoint"], "+33100000000");
    let keys: Vec<&str> = dist_1
        .as_object()
        .expect("row")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 33);
    assert_eq!(&keys[..3], ["interactionId", "sessionStart", "waitTime"]);
    assert!(keys.contains(&"transferred") && !keys.contains(&"transfer"));
    assert!(!keys.contains(&"interactionStatus"));
}

#[tokio::test]
async fn sms_shows_its_base_columns_and_additional_ones_only_when_named() {
    let app = scenario().await;
    let sms = rows(&app, "sms", &json!({"filters": day()})).await;
    assert_eq!(sms.len(), 2);
    assert_eq!(
        sms[0],
        json!({"smsId": "sms-1", "sendDate": "2026-03-02T08:00:00.000Z", "smsTemplate": "Reminder",
            "sender": "+33700000000", "origin": "PublicApi", "smsType": "Basic",
            "smsCategory": "Notification", "recipient": "+33612345678", "credits": 2.0,
            "content": "Hello, \"world\"", "checkpoints": [], "status": "Sent"})
    );
    assert_eq!(sms[1]["smsId"], "sms-2");
    assert_eq!(sms[1]["status"], json!(null));

    let named = json!({"filters": day(), "columns": ["smsCampaign", "queue", "user", "distributionId", "smsId"]});
    let sms = rows(&app, "sms", &named).await;
    assert_eq!(
        sms[0],
        json!({"smsCampaign": "Spring", "queue": "Sales", "user": "Ada Lovelace",
            "distributionId": "dist-1", "smsId": "sms-1"})
    );
}

#[tokio::test]
async fn order_by_another_column_descending_and_the_filters() {
    let app = scenario().await;
    let body = json!({"filters": day(), "columns": ["distributionDate", "waitTime", "queue"],
        "orderBy": {"column": "waitTime", "direction": "Descending"}});
    let messages = rows(&app, "messages", &body).await;
    assert_eq!(
        column(&messages, "waitTime"),
        [json!(40.0), json!(12.5), json!(0.0)]
    );
    // Queue names sort by their bytes; rows without a value come last.
    let body = json!({"filters": day(), "columns": ["queue"], "orderBy": {"column": "queue"}});
    let messages = rows(&app, "messages", &body).await;
    assert_eq!(
        column(&messages, "queue"),
        [json!("Sales"), json!("Sales"), json!("Support")]
    );

    let mut filters = day();
    filters["queues"] = json!([Q1]);
    let by_queue = rows(
        &app,
        "messages",
        &json!({"filters": filters, "columns": ["interactionId", "correspondent"]}),
    )
    .await;
    assert_eq!(
        by_queue,
        [
            json!({"interactionId": "int-1", "correspondent": "+33612345678"}),
            json!({"interactionId": null, "correspondent": "+441234567890"})
        ]
    );
    filters["users"] = json!([U2]);
    let both = rows(
        &app,
        "messages",
        &json!({"filters": filters, "columns": ["correspondent"]}),
    )
    .await;
    assert_eq!(both, [json!({"correspondent": "+441234567890"})]);
    let mut filters = day();
    filters["users"] = json!([U1]);
    let sms = rows(
        &app,
        "sms",
        &json!({"filters": filters, "columns": ["smsId"]}),
    )
    .await;
    assert_eq!(sms, [json!({"smsId": "sms-1"})]);
}

#[tokio::test]
async fn refusals_name_the_field_and_list_the_valid_columns() {
    let app = scenario().await;
    let response = rows_response(
        &app,
        "sms",
        &json!({"filters": day(), "columns": ["smsId", "wait"]}),
    )
    .await;
    let problem = response.problem(422);
    assert_eq!(problem["errors"][0]["field"], "columns[1]");
    let message = problem["errors"][0]["message"].as_str().expect("message");
    for id in ["smsId", "sendDate", "smartRoutingVersionAlias", "user"] {
        assert!(message.contains(id), "{message}");
    }
    let bad_order = json!({"filters": day(), "orderBy": {"column": "sendDate"}});
    let problem = rows_response(&app, "messages", &bad_order)
        .await
        .problem(422);
    assert_eq!(problem["errors"][0]["field"], "orderBy.column");
    let bad_direction =
        json!({"filters": day(), "orderBy": {"column": "waitTime", "direction": "Up"}});
    let problem = rows_response(&app, "messages", &bad_direction)
        .await
        .problem(422);
    assert_eq!(problem["errors"][0]["field"], "orderBy.direction");
    let long = json!({"filters": {"from": "2026-03-01T00:00:00Z", "to": "2026-04-01T00:00:01Z"}});
    let problem = rows_response(&app, "messages", &long).await.problem(422);
    assert_eq!(problem["errors"][0]["field"], "filters.to");
    let month = json!({"filters": {"from": "2026-03-01T00:00:00Z", "to": "2026-04-01T00:00:00Z"}});
    assert_eq!(rows(&app, "messages", &month).await.len(), 4);
    rows_response(&app, "calls", &json!({"filters": day()}))
        .await
        .problem(404);
    let no_offset =
        json!({"filters": {"from": "2026-03-02T00:00:00", "to": "2026-03-03T00:00:00Z"}});
    rows_response(&app, "sms", &no_offset).await.problem(400);
}

#[tokio::test]
async fn another_tenant_sees_nothing_with_the_same_ids() {
    let app = scenario().await;
    let b = app.new_tenant("B").await;
    let mut filters = day();
    filters["queues"] = json!([Q1]);
    for source in [
        "incoming-distributions",
        "outgoing-distributions",
        "messages",
        "sms",
    ] {
        let answer = app
            .post_as(
                &b.token,
                &format!("/reporting/v1.2/datasources/{source}/rows"),
                &json!({"filters": filters}),
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text());
        assert_eq!(
            answer.json(),
            json!({"rows": [], "truncated": false}),
            "{source}"
        );
    }
}

#[tokio::test]
async fn the_csv_twin_has_the_header_and_the_rows() {
    let app = scenario().await;
    let body = json!({"filters": day(),
        "columns": ["distributionDate", "sender", "queue", "waitTime", "transferred", "interactionId"]});
    let csv = app
        .export("datasources/incoming-distributions/rows", &body)
        .await;
    assert_eq!(
        csv,
        "distributionDate,sender,queue,waitTime,transferred,interactionId\r\n\
         2026-03-02T09:00:00.000Z,,Support,40,true,\r\n\
         2026-03-02T10:00:00.000Z,+33612345678,Sales,12.5,false,int-1\r\n"
    );
    let csv = app
        .export(
            "datasources/sms/rows",
            &json!({"filters": day(), "columns": ["smsId", "content", "checkpoints"]}),
        )
        .await;
    assert_eq!(
        csv,
        "smsId,content,checkpoints\r\nsms-1,\"Hello, \"\"world\"\"\",[]\r\nsms-2,,\r\n"
    );
    let csv = app
        .export("datasources/messages/rows", &json!({"filters": day()}))
        .await;
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(csv.starts_with("interactionId,sessionStart,waitTime,exchangeTime,"));
}

/// Every column of every source can be shown and ordered by, both ways
/// (each is one SQL expression of the catalogue).
#[tokio::test]
async fn every_column_orders_both_ways() {
    let app = scenario().await;
    for source in [
        "incoming-distributions",
        "outgoing-distributions",
        "messages",
        "sms",
    ] {
        let error = rows_response(&app, source, &json!({"filters": day(), "columns": ["x"]}))
            .await
            .problem(422);
        let message = error["errors"][0]["message"].as_str().expect("message");
        let valid = message.split("valid: ").nth(1).expect("the valid columns");
        for id in valid.split(", ") {
            for direction in ["Ascending", "Descending"] {
                let body = json!({"filters": day(), "columns": [id],
                    "orderBy": {"column": id, "direction": direction}});
                let rows = rows(&app, source, &body).await;
                assert!(
                    !rows.is_empty() && rows[0].get(id).is_some(),
                    "{source} {id}"
                );
            }
        }
    }
}
