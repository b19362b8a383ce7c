//! Messaging sessions (API.md §5.4): the sessions listing, their metrics
//! and the delivery failures, as JSON and CSV, with hand-computed answers.

use serde_json::{json, Value};

use crate::answers::message;
use crate::helpers::TestApp;

const ACCOUNT: &str = "5e551000-0000-4000-8000-00000000acc1";
const QUEUE: &str = "5e551000-0000-4000-8000-00000000a0e1";
const USER: &str = "5e551000-0000-4000-8000-0000000000a1";

/// A `conversation.<kind>` event at 2026-01-01 `hh:mm`.
fn conversation(id: &str, kind: &str, conversation: &str, at: &str, extra: Value) -> Value {
    let mut event = json!({"id": id, "type": format!("conversation.{kind}"),
        "occurredAt": format!("2026-01-01T{at}:00Z"), "conversationId": conversation});
    if let (Some(e), Value::Object(extra)) = (event.as_object_mut(), extra) {
        e.extend(extra);
    }
    event
}

fn started(id: &str, conv: &str, at: &str, channel: &str, account: Option<&str>) -> Value {
    conversation(
        id,
        "started",
        conv,
        at,
        json!({"interactionId": format!("i-{conv}"),
        "channel": channel, "accountId": account, "queueId": QUEUE}),
    )
}

/// Sessions around 08:30-12:00:
/// - `s-0` started 08:00 (before the range), ended 09:00 (in it);
/// - `s-1` WebChat on ACCOUNT, started 09:00, operator 09:02, ended 09:50
///   by Agent; contact 09:00, 09:05, bot 09:10, agent 09:20, 09:30,
///   contact 09:45;
/// - `S-2` SMS, started 09:00 too, a bot session ended 09:10 by Bot;
/// - `s-3` WebChat started 10:00, operator 10:05, still active;
/// - `s-4` started 11:00, ended 12:00 (the end is past the range).
pub fn scenario() -> Value {
    let auto = json!({"automated": true});
    let agent = json!({"userId": USER});
    json!([
        {"id": "acc", "type": "directory.account", "occurredAt": "2025-01-01T00:00:00Z",
         "accountId": ACCOUNT, "name": "Acme, \"Web\"", "channel": "WebChat"},
        started("s0-start", "s-0", "08:00", "WebChat", None),
        conversation("s0-end", "ended", "s-0", "09:00", json!({"endedBy": "EndUser"})),
        started("s1-start", "s-1", "09:00", "WebChat", Some(ACCOUNT)),
        conversation("s1-op", "operator_connected", "s-1", "09:02", json!({"userId": USER})),
        message("s1-m1", "s-1", "09:00", "Inbound", json!({})),
        message("s1-m2", "s-1", "09:05", "Inbound", json!({})),
        message("s1-bot", "s-1", "09:10", "Outbound", auto.clone()),
        message("s1-m3", "s-1", "09:20", "Outbound", agent.clone()),
        message("s1-m4", "s-1", "09:30", "Outbound", agent),
        message("s1-m5", "s-1", "09:45", "Inbound", json!({})),
        conversation("s1-end", "ended", "s-1", "09:50", json!({"endedBy": "Agent"})),
        started("s2-start", "S-2", "09:00", "SMS", None),
        message("s2-m1", "S-2", "09:01", "Inbound", json!({})),
        message("s2-bot", "S-2", "09:02", "Outbound", auto),
        conversation("s2-end", "ended", "S-2", "09:10", json!({"endedBy": "Bot"})),
        started("s3-start", "s-3", "10:00", "WebChat", None),
        conversation("s3-op", "operator_connected", "s-3", "10:05", json!({"userId": USER})),
        started("s4-start", "s-4", "11:00", "WebChat", None),
        conversation("s4-end", "ended", "s-4", "12:00", json!({})),
    ])
}

fn range() -> Value {
    json!({"from": "2026-01-01T08:30:00Z", "to": "2026-01-01T12:00:00Z"})
}

#[tokio::test]
async fn sessions_started_in_the_range_in_start_then_id_order() {
    let app = TestApp::spawn().await;
    app.ingest(&scenario()).await;

    let answer = app.report("sessions", &json!({"filters": range()})).await;
    let account = json!({"id": ACCOUNT, "name": "Acme, \"Web\""});
    assert_eq!(
        answer,
        json!({"rows": [
            // "S-2" sorts before "s-1" bytewise (C collation).
            {"sessionId": "S-2", "status": "Ended", "channel": "SMS", "account": null,
             "startTime": "2026-01-01T09:00:00.000Z", "endTime": "2026-01-01T09:10:00.000Z",
             "endedByType": "Bot", "agentType": "Bot", "speedToAnswer": null, "handleTime": null},
            {"sessionId": "s-1", "status": "Ended", "channel": "WebChat", "account": account,
             "startTime": "2026-01-01T09:00:00.000Z", "endTime": "2026-01-01T09:50:00.000Z",
             "endedByType": "Agent", "agentType": "Agent", "speedToAnswer": 120.0,
             "handleTime": 2880.0},
            {"sessionId": "s-3", "status": "Active", "channel": "WebChat", "account": null,
             "startTime": "2026-01-01T10:00:00.000Z", "endTime": null, "endedByType": null,
             "agentType": "Agent", "speedToAnswer": 300.0, "handleTime": null},
            // Ended (past the range: the start counts) without an endedBy.
            {"sessionId": "s-4", "status": "Ended", "channel": "WebChat", "account": null,
             "startTime": "2026-01-01T11:00:00.000Z", "endTime": "2026-01-01T12:00:00.000Z",
             "endedByType": null, "agentType": "Bot", "speedToAnswer": null, "handleTime": null},
        ], "truncated": false})
    );

    // Filters match the session's start.
    let sms = json!({"filters": {"from": "2026-01-01T08:30:00Z", "to": "2026-01-01T12:00:00Z",
        "channels": ["SMS"]}});
    let ids = |answer: &Value| -> Vec<String> {
        answer["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| r["sessionId"].as_str().expect("id").to_owned())
            .collect()
    };
    assert_eq!(ids(&app.report("sessions", &sms).await), ["S-2"]);
    let mut by_account = json!({"filters": range()});
    by_account["filters"]["accounts"] = json!([ACCOUNT]);
    assert_eq!(ids(&app.report("sessions", &by_account).await), ["s-1"]);

    let csv = app.export("sessions", &json!({"filters": range()})).await;
    assert_eq!(
        csv,
        "sessionId,status,channel,accountId,accountName,startTime,endTime,endedByType,agentType,speedToAnswer,handleTime\r\n\
         S-2,Ended,SMS,,,2026-01-01T09:00:00.000Z,2026-01-01T09:10:00.000Z,Bot,Bot,,\r\n\
         s-1,Ended,WebChat,5e551000-0000-4000-8000-00000000acc1,\"Acme, \"\"Web\"\"\",2026-01-01T09:00:00.000Z,2026-01-01T09:50:00.000Z,Agent,Agent,120,2880\r\n\
         s-3,Active,WebChat,,,2026-01-01T10:00:00.000Z,,,Agent,300,\r\n\
         s-4,Ended,WebChat,,,2026-01-01T11:00:00.000Z,2026-01-01T12:00:00.000Z,,Bot,,\r\n"
    );
}

#[tokio::test]
async fn six_metrics_per_session_ended_in_the_range() {
    let app = TestApp::spawn().await;
    app.ingest(&scenario()).await;

    let answer = app
        .report("sessions/metrics", &json!({"filters": range()}))
        .await;
    let records = |id: &str, values: [Value; 6]| -> Vec<Value> {
        let types = [
            "AverageAgentResponseTime",
            "MaxAgentResponseTime",
            "AverageEndUserResponseTime",
            "MaxEndUserResponseTime",
            "AgentMessageCount",
            "EndUserMessageCount",
        ];
        types
            .iter()
            .zip(values)
            .map(|(t, v)| json!({"sessionId": id, "metricType": t, "value": v}))
            .collect()
    };
    // By end: s-0 (09:00, started before the range, no messages), S-2
    // (09:10: the bot's message is automated, so nothing answers), s-1
    // (09:50: the agent's 09:20 answers the contact's 09:00 run, 1,200 s;
    // 09:30 answers nothing; the contact's 09:45 answers the agent's run
    // from 09:20, 1,500 s). s-3 is active and s-4 ends past the range.
    let mut expected = records(
        "s-0",
        [
            json!(null),
            json!(null),
            json!(null),
            json!(null),
            json!(0),
            json!(0),
        ],
    );
    expected.extend(records(
        "S-2",
        [
            json!(null),
            json!(null),
            json!(null),
            json!(null),
            json!(0),
            json!(1),
        ],
    ));
    expected.extend(records(
        "s-1",
        [
            json!(1200.0),
            json!(1200.0),
            json!(1500.0),
            json!(1500.0),
            json!(2),
            json!(3),
        ],
    ));
    assert_eq!(answer, json!({"rows": expected, "truncated": false}));

    let csv = app
        .export("sessions/metrics", &json!({"filters": range()}))
        .await;
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(lines[0], "sessionId,metricType,value");
    assert_eq!(lines[1], "s-0,AverageAgentResponseTime,");
    assert_eq!(lines[12], "S-2,EndUserMessageCount,1");
    assert_eq!(lines[13], "s-1,AverageAgentResponseTime,1200");
    assert_eq!(lines[17], "s-1,AgentMessageCount,2");
    assert_eq!(lines.len(), 20, "{csv}");
}

#[tokio::test]
async fn delivery_failures_by_direction_then_count_then_status_code() {
    let app = TestApp::spawn().await;
    let failed = |id: &str, at: &str, direction: &str, code: Option<&str>| {
        message(
            id,
            "f",
            at,
            direction,
            json!({"deliveryStatus": "Failed", "statusCode": code}),
        )
    };
    app.ingest(&json!([
        failed("f1", "09:00", "Outbound", Some("30007")),
        failed("f2", "09:01", "Outbound", Some("30007")),
        failed("f3", "09:02", "Outbound", Some("30003")),
        failed("f4", "09:03", "Outbound", Some("30003")),
        failed("f5", "09:04", "Outbound", Some("Xa")),
        failed("f6", "09:05", "Outbound", Some("XB")),
        failed("f7", "09:06", "Outbound", None),
        failed("f8", "09:07", "Inbound", Some("500")),
        // Not counted: delivered, or failed outside the range.
        message(
            "d1",
            "f",
            "09:08",
            "Outbound",
            json!({"deliveryStatus": "Delivered", "statusCode": "200"})
        ),
        failed("late", "12:00", "Outbound", Some("30007")),
    ]))
    .await;

    let answer = app
        .report("messages/delivery-failures", &json!({"filters": range()}))
        .await;
    let group = |d: &str, code: Value, count: i64| json!({"direction": d, "statusCode": code, "count": count});
    // Inbound before Outbound; count descending; then the status code
    // bytewise ("30003" < "30007"; null first; "XB" < "Xa").
    assert_eq!(
        answer,
        json!({"groups": [
            group("Inbound", json!("500"), 1),
            group("Outbound", json!("30003"), 2),
            group("Outbound", json!("30007"), 2),
            group("Outbound", json!(null), 1),
            group("Outbound", json!("XB"), 1),
            group("Outbound", json!("Xa"), 1),
        ]})
    );
    let mut voice = json!({"filters": range()});
    voice["filters"]["channels"] = json!(["Voice"]);
    let none = app.report("messages/delivery-failures", &voice).await;
    assert_eq!(none, json!({"groups": []}));

    let csv = app
        .export("messages/delivery-failures", &json!({"filters": range()}))
        .await;
    assert_eq!(
        csv,
        "direction,statusCode,count\r\nInbound,500,1\r\nOutbound,30003,2\r\nOutbound,30007,2\r\n\
         Outbound,,1\r\nOutbound,XB,1\r\nOutbound,Xa,1\r\n"
    );
}

#[tokio::test]
async fn ranges_over_31_days_unknown_fields_and_other_tenants() {
    let app = TestApp::spawn().await;
    app.ingest(&scenario()).await;
    for path in ["sessions", "sessions/metrics", "messages/delivery-failures"] {
        for prefix in ["/reporting/v1.2", "/reporting/export/v1.2"] {
            let url = format!("{prefix}/{path}");
            let over =
                json!({"filters": {"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:01Z"}});
            let problem = app.post(&url, &over).await.problem(422);
            assert_eq!(problem["errors"][0]["field"], "filters.to", "{url}");
            let backwards =
                json!({"filters": {"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}});
            app.post(&url, &backwards).await.problem(422);
            let unknown = json!({"filters": range(), "groupBy": "Day"});
            app.post(&url, &unknown).await.problem(400);
            let unknown = json!({"filters": {"from": "2026-01-01T00:00:00Z",
                "to": "2026-01-02T00:00:00Z", "users": []}});
            app.post(&url, &unknown).await.problem(400);
            // Exactly 31 days is accepted.
            let limit =
                json!({"filters": {"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"}});
            assert_eq!(app.post(&url, &limit).await.status, 200, "{url}");
        }
    }
    // Another tenant asking with this tenant's account sees nothing.
    let other = app.new_tenant("Other").await;
    let mut body = json!({"filters": range()});
    body["filters"]["accounts"] = json!([ACCOUNT]);
    let seen = app
        .post_as(&other.token, "/reporting/v1.2/sessions", &body)
        .await;
    assert_eq!(seen.json(), json!({"rows": [], "truncated": false}));
    let seen = app
        .post_as(
            &other.token,
            "/reporting/v1.2/sessions/metrics",
            &json!({"filters": range()}),
        )
        .await;
    assert_eq!(seen.json(), json!({"rows": [], "truncated": false}));
}

/// JSON answers stop at 1,000 rows and say so; exports stream them all.
#[tokio::test]
async fn at_most_1000_rows_in_json_and_every_row_in_the_export() {
    let app = TestApp::spawn().await;
    let mut events = Vec::new();
    for n in 0..1001 {
        let id = format!("many-{n:04}");
        events.push(started(&format!("{id}-s"), &id, "09:00", "SMS", None));
        events.push(conversation(
            &format!("{id}-e"),
            "ended",
            &id,
            "09:30",
            json!({}),
        ));
    }
    app.ingest(&Value::Array(events)).await;
    let body = json!({"filters": range()});

    let sessions = app.report("sessions", &body).await;
    assert_eq!(sessions["truncated"], true);
    let rows = sessions["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 1000);
    assert_eq!(rows[999]["sessionId"], "many-0999");
    let csv = app.export("sessions", &body).await;
    assert_eq!(csv.lines().count(), 1 + 1001);

    let metrics = app.report("sessions/metrics", &body).await;
    assert_eq!(metrics["truncated"], true);
    assert_eq!(metrics["rows"].as_array().map(Vec::len), Some(1000));
    let csv = app.export("sessions/metrics", &body).await;
    assert_eq!(csv.lines().count(), 1 + 6 * 1001);
    assert!(
        csv.ends_with("many-1000,EndUserMessageCount,0\r\n"),
        "{}",
        &csv[csv.len() - 100..]
    );

    // An Accept the export cannot satisfy is 404, as for every export.
    let auth = format!("Bearer {}", app.tenant.token);
    let refused = app
        .request(
            axum::http::Method::POST,
            "/reporting/export/v1.2/sessions",
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
                ("accept", "application/json"),
            ],
            serde_json::to_vec(&body).expect("json"),
        )
        .await;
    refused.problem(404);
}

/// Only a POST is answered from the cache: another method on a cached
/// path and body is still refused (405), not handed the cached answer
/// (Schemathesis found TRACE answered 200 with the POST's rows).
#[tokio::test]
async fn a_cached_answer_is_never_served_to_another_method() {
    let app = TestApp::spawn().await;
    app.ingest(&scenario()).await;
    let body = json!({"filters": range()});
    let first = app.post("/reporting/v1.2/sessions", &body).await;
    assert_eq!(first.status, 200);
    assert_eq!(
        app.post("/reporting/v1.2/sessions", &body)
            .await
            .header("x-cache")
            .as_deref(),
        Some("HIT")
    );
    let auth = format!("Bearer {}", app.tenant.token);
    for method in [
        axum::http::Method::TRACE,
        axum::http::Method::GET,
        axum::http::Method::PUT,
    ] {
        let response = app
            .request(
                method.clone(),
                "/reporting/v1.2/sessions",
                &[
                    ("authorization", &auth),
                    ("content-type", "application/json"),
                ],
                serde_json::to_vec(&body).expect("json"),
            )
            .await;
        response.problem(405);
        assert_eq!(response.header("x-cache"), None, "{method}");
    }
}
