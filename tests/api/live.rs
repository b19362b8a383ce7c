//! Tiles 24–27 (live conversations) through HTTP: every classification
//! branch of both channels by hand, the filters of `conversation.started`,
//! buckets across DST and in a +05:45 zone, late events and duplicates.

mod backfill;
mod dates;
mod filters;
mod late;
mod order;
mod rollups;
mod view;

use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::messages::{Q1, Q2, U1};

pub const ACC_W: &str = "a0000000-0000-4000-8000-00000000000a";
pub const ACC_V: &str = "b0000000-0000-4000-8000-00000000000b";
pub const ACC_X: &str = "c0000000-0000-4000-8000-00000000000c";

/// A `conversation.*` event of kind `kind` at `at` with fields merged in.
pub fn conv(id: &str, kind: &str, conversation: &str, at: &str, extra: Value) -> Value {
    let mut event = json!({"id": id, "type": format!("conversation.{kind}"), "occurredAt": at,
        "conversationId": conversation});
    if let (Some(map), Value::Object(extra)) = (event.as_object_mut(), extra) {
        map.extend(extra);
    }
    event
}

/// A `conversation.started` on `channel` for interaction `i-<conversation>`.
pub fn started(id: &str, conversation: &str, at: &str, channel: &str, extra: Value) -> Value {
    let mut fields = json!({"interactionId": format!("i-{conversation}"), "channel": channel});
    if let (Some(map), Value::Object(extra)) = (fields.as_object_mut(), extra) {
        map.extend(extra);
    }
    conv(id, "started", conversation, at, fields)
}

/// An operator connection.
pub fn connected(id: &str, conversation: &str, at: &str) -> Value {
    conv(
        id,
        "operator_connected",
        conversation,
        at,
        json!({"userId": U1}),
    )
}

/// A message of the conversation (`Outbound` responds unless automated).
pub fn message(id: &str, conversation: &str, at: &str, direction: &str, automated: bool) -> Value {
    json!({"id": id, "type": "message.created", "occurredAt": at, "interactionId": format!("i-{conversation}"),
        "conversationId": conversation, "direction": direction, "automated": automated, "channel": "WebChat",
        // the message's own account and queue never filter a live tile
        "accountId": ACC_X, "queueId": Q2})
}

pub fn day() -> Value {
    json!({"from": "2026-03-10T00:00:00Z", "to": "2026-03-11T00:00:00Z"})
}

pub fn body(channel: &str) -> Value {
    let mut filters = day();
    filters["channel"] = json!(channel);
    json!({"newState": ["Closed"], "filters": filters})
}

pub fn at(hms: &str) -> String {
    format!("2026-03-10T{hms}Z")
}

/// Every WebChat branch (durations in comments) and conversations that
/// must not count.
pub fn webchat() -> Vec<Value> {
    let w = |extra: Value| {
        let mut fields = json!({"accountId": ACC_W, "queueId": Q1});
        if let (Some(map), Value::Object(extra)) = (fields.as_object_mut(), extra) {
            map.extend(extra);
        }
        fields
    };
    vec![
        json!({"id": "dir-w", "type": "directory.account", "occurredAt": "2026-01-01T00:00:00Z",
            "accountId": ACC_W, "name": "Chat desk", "channel": "WebChat"}),
        // w1: never connected -> abandonedByCustomer
        started("w1-s", "w1", &at("10:00:00"), "WebChat", w(json!({}))),
        conv(
            "w1-e",
            "ended",
            "w1",
            &at("10:05:00"),
            json!({"endedBy": "EndUser"}),
        ),
        // w2: a reply before the connection, then only an inbound and an
        // automated outbound after it -> abandonedByOperator (480 s)
        started("w2-s", "w2", &at("10:00:00"), "WebChat", w(json!({}))),
        message("w2-m1", "w2", &at("10:01:00"), "Outbound", false),
        connected("w2-c", "w2", &at("10:02:00")),
        message("w2-m2", "w2", &at("10:03:00"), "Inbound", false),
        message("w2-m3", "w2", &at("10:04:00"), "Outbound", true),
        conv("w2-e", "ended", "w2", &at("10:10:00"), json!({})),
        // w3: connected, then a responding message -> handled (240 s)
        started("w3-s", "w3", &at("11:00:00"), "WebChat", w(json!({}))),
        connected("w3-c", "w3", &at("11:01:00")),
        message("w3-m", "w3", &at("11:03:00"), "Outbound", false),
        conv("w3-e", "ended", "w3", &at("11:05:00"), json!({})),
        // w4: reconnected after the reply -> abandonedByOperator (600 s)
        started("w4-s", "w4", &at("12:00:00"), "WebChat", w(json!({}))),
        connected("w4-c1", "w4", &at("12:00:00")),
        message("w4-m", "w4", &at("12:02:00"), "Outbound", false),
        connected("w4-c2", "w4", &at("12:04:00")),
        conv("w4-e", "ended", "w4", &at("12:10:00"), json!({})),
        // w5: the reply comes after the end -> abandonedByOperator (180 s)
        started("w5-s", "w5", &at("13:00:00"), "WebChat", w(json!({}))),
        connected("w5-c", "w5", &at("13:02:00")),
        conv("w5-e", "ended", "w5", &at("13:05:00"), json!({})),
        message("w5-m", "w5", &at("13:06:00"), "Outbound", false),
        // w6 ends at `to` (excluded); w7 never ends
        started("w6-s", "w6", &at("23:00:00"), "WebChat", w(json!({}))),
        conv("w6-e", "ended", "w6", "2026-03-11T00:00:00Z", json!({})),
        started("w7-s", "w7", &at("09:00:00"), "WebChat", w(json!({}))),
        connected("w7-c", "w7", &at("09:01:00")),
    ]
}

/// Every Voice branch.
pub fn voice() -> Vec<Value> {
    let v = json!({"accountId": ACC_V, "direction": "Inbound"});
    vec![
        // v1: ended inside the IVR -> abandonedInIvr
        started("v1-s", "v1", &at("10:00:00"), "Voice", v.clone()),
        conv("v1-i", "ivr_entered", "v1", &at("10:00:10"), json!({})),
        conv("v1-e", "ended", "v1", &at("10:01:00"), json!({})),
        // v2: left the IVR, no operator -> abandoned
        started("v2-s", "v2", &at("10:00:00"), "Voice", v.clone()),
        conv("v2-i", "ivr_entered", "v2", &at("10:00:10"), json!({})),
        conv("v2-x", "ivr_exited", "v2", &at("10:00:40"), json!({})),
        conv("v2-e", "ended", "v2", &at("10:02:00"), json!({})),
        // v3: left the IVR to an operator -> handled (300 s)
        started("v3-s", "v3", &at("10:00:00"), "Voice", v.clone()),
        conv("v3-i", "ivr_entered", "v3", &at("10:00:10"), json!({})),
        conv("v3-x", "ivr_exited", "v3", &at("10:00:40"), json!({})),
        connected("v3-c", "v3", &at("10:01:00")),
        conv("v3-e", "ended", "v3", &at("10:06:00"), json!({})),
        // v4: back into the IVR after the operator -> abandonedInIvr (180 s)
        started("v4-s", "v4", &at("11:00:00"), "Voice", v.clone()),
        connected("v4-c", "v4", &at("11:01:00")),
        conv("v4-i", "ivr_entered", "v4", &at("11:03:00"), json!({})),
        conv("v4-e", "ended", "v4", &at("11:04:00"), json!({})),
        // v5: the operator connects after the end -> abandoned
        started("v5-s", "v5", &at("12:00:00"), "Voice", v),
        conv("v5-e", "ended", "v5", &at("12:01:00"), json!({})),
        connected("v5-c", "v5", &at("12:02:00")),
    ]
}

#[tokio::test]
async fn every_class_of_both_channels_by_hand() {
    let app = TestApp::spawn().await;
    app.ingest(&Value::Array([webchat(), voice()].concat()))
        .await;

    let answer = app
        .report("conversations/live/count", &body("WebChat"))
        .await;
    assert_eq!(
        answer,
        json!({"total": 5, "abandonedByCustomer": 1, "abandonedByOperator": 3, "handled": 1})
    );
    let answer = app.report("conversations/live/count", &body("Voice")).await;
    assert_eq!(
        answer,
        json!({"total": 5, "abandonedInIvr": 2, "abandoned": 2, "handled": 1})
    );

    let mut by_accounts = body("WebChat");
    by_accounts["accounts"] = json!([ACC_W, ACC_V]);
    let totals = app
        .report("conversations/live/count/by-accounts/totals", &by_accounts)
        .await;
    assert_eq!(
        totals,
        json!({"groups": [
            {"key": ACC_W, "name": "Chat desk", "total": 5, "abandonedByCustomer": 1, "abandonedByOperator": 3, "handled": 1},
            {"key": ACC_V, "total": 0, "abandonedByCustomer": 0, "abandonedByOperator": 0, "handled": 0},
        ]})
    );
    let percentages = app
        .report(
            "conversations/live/count/by-accounts/percentages",
            &by_accounts,
        )
        .await;
    assert_eq!(
        percentages,
        json!({"groups": [
            {"key": ACC_W, "name": "Chat desk", "total": 5, "abandonedByCustomer": 20.0, "abandonedByOperator": 60.0, "handled": 20.0},
            {"key": ACC_V, "total": 0, "abandonedByCustomer": null, "abandonedByOperator": null, "handled": null},
        ]})
    );
    // 480, 240, 600 and 180 s; w1 never connected and is left out.
    let durations = app
        .report(
            "conversations/live/count/by-accounts/durations",
            &by_accounts,
        )
        .await;
    assert_eq!(
        durations,
        json!({"groups": [
            {"key": ACC_W, "name": "Chat desk", "count": 4, "average": 375.0, "min": 180.0, "max": 600.0, "p50": 360.0, "p90": 564.0},
            {"key": ACC_V, "count": 0, "average": null, "min": null, "max": null, "p50": null, "p90": null},
        ]})
    );
    let mut voice_accounts = body("Voice");
    voice_accounts["accounts"] = json!([ACC_V]);
    let durations = app
        .report(
            "conversations/live/count/by-accounts/durations",
            &voice_accounts,
        )
        .await;
    assert_eq!(
        durations["groups"][0],
        json!({"key": ACC_V, "count": 2, "average": 240.0, "min": 180.0, "max": 300.0, "p50": 240.0, "p90": 288.0})
    );
    let percentages = app
        .report(
            "conversations/live/count/by-accounts/percentages",
            &voice_accounts,
        )
        .await;
    assert_eq!(
        percentages["groups"][0],
        json!({"key": ACC_V, "total": 5, "abandonedInIvr": 40.0, "abandoned": 40.0, "handled": 20.0})
    );

    // The CSV twin of the same answers.
    let csv = app
        .export("conversations/live/count/by-accounts/totals", &by_accounts)
        .await;
    assert_eq!(
        csv,
        format!(
            "group,groupName,total,abandonedByCustomer,abandonedByOperator,handled\r\n\
             {ACC_W},Chat desk,5,1,3,1\r\n{ACC_V},,0,0,0,0\r\n"
        )
    );
    let csv = app
        .export(
            "conversations/live/count/by-accounts/percentages",
            &voice_accounts,
        )
        .await;
    assert_eq!(
        csv,
        format!(
            "group,groupName,total,abandonedInIvr,abandoned,handled\r\n{ACC_V},,5,40,40,20\r\n"
        )
    );
    let csv = app.export("conversations/live/count", &body("Voice")).await;
    assert_eq!(csv, "total,abandonedInIvr,abandoned,handled\r\n5,2,2,1\r\n");
}

#[tokio::test]
async fn requests_that_cannot_be_answered_name_the_field() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            json!({"filters": body("Voice")["filters"]}),
            400,
            "newState",
        ),
        (
            json!({"newState": ["Queued"], "filters": body("Voice")["filters"]}),
            422,
            "newState",
        ),
        (
            json!({"newState": ["Closed", "Queued"], "filters": body("Voice")["filters"]}),
            422,
            "newState",
        ),
        (
            json!({"newState": ["Closed"], "filters": day()}),
            400,
            "filters.channel",
        ),
        (body("SMS"), 422, "filters.channel"),
        (
            {
                let mut b = body("Voice");
                b["filters"]["channels"] = json!(["Voice"]);
                b
            },
            422,
            "filters.channels",
        ),
        (
            {
                let mut b = body("WebChat");
                b["direction"] = json!("Inbound");
                b
            },
            422,
            "direction",
        ),
    ];
    for (request, status, field) in cases {
        let problem = app
            .post("/reporting/v1.2/conversations/live/count", &request)
            .await
            .problem(status);
        assert_eq!(problem["errors"][0]["field"], field, "{request}");
    }
    let problem = app
        .post(
            "/reporting/v1.2/conversations/live/count/by-accounts/durations",
            &body("Voice"),
        )
        .await
        .problem(400);
    assert_eq!(problem["errors"][0]["field"], "accounts");
}
