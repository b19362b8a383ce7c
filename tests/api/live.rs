//! Tiles 24–27 (live conversations) through HTTP: every classification
//! branch of both channels by hand, the filters of `conversation.started`,
//! buckets across DST and in a +05:45 zone, late events and duplicates.

use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::messages::{Q1, Q2, U1};

pub const ACC_W: &str = "a0000000-0000-4000-8000-00000000000a";
pub const ACC_V: &str = "b0000000-0000-4000-8000-00000000000b";
pub const ACC_X: &str = "c0000000-0000-4000-8000-00000000000c";
const SELECT: &str = "d0000000-0000-4000-8000-00000000000d";

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

fn day() -> Value {
    json!({"from": "2026-03-10T00:00:00Z", "to": "2026-03-11T00:00:00Z"})
}

fn body(channel: &str) -> Value {
    let mut filters = day();
    filters["channel"] = json!(channel);
    json!({"newState": ["Closed"], "filters": filters})
}

fn at(hms: &str) -> String {
    format!("2026-03-10T{hms}Z")
}

/// Every WebChat branch (durations in comments) and conversations that
/// must not count.
fn webchat() -> Vec<Value> {
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
fn voice() -> Vec<Value> {
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

const OPTION_A: &str = "opt-a";
const OPTION_B: &str = "opt-b";

fn data(option: &str) -> Value {
    json!([{"id": SELECT, "values": [option]}])
}

/// Three Voice conversations that differ in every attribute of their
/// `conversation.started`; their messages carry other values.
fn voice_filters() -> Vec<Value> {
    vec![
        json!({"id": "dir-v", "type": "directory.account", "occurredAt": "2026-01-01T00:00:00Z",
            "accountId": ACC_V, "name": "Phones", "channel": "Voice"}),
        // c1: Inbound, Q1, ACC_V, option A -> handled
        started(
            "c1-s",
            "c1",
            &at("10:00:00"),
            "Voice",
            json!({"direction": "Inbound", "queueId": Q1, "accountId": ACC_V, "data": data(OPTION_A)}),
        ),
        connected("c1-c", "c1", &at("10:01:00")),
        conv("c1-e", "ended", "c1", &at("10:03:00"), json!({})),
        // c2: Outbound, Q2, ACC_V, no data -> abandoned
        started(
            "c2-s",
            "c2",
            &at("11:00:00"),
            "Voice",
            json!({"direction": "Outbound", "queueId": Q2, "accountId": ACC_V}),
        ),
        conv("c2-e", "ended", "c2", &at("11:01:00"), json!({})),
        // c3: Inbound, Q2, ACC_W, option B -> abandonedInIvr
        started(
            "c3-s",
            "c3",
            &at("12:00:00"),
            "Voice",
            json!({"direction": "Inbound", "queueId": Q2, "accountId": ACC_W, "data": data(OPTION_B)}),
        ),
        conv("c3-i", "ivr_entered", "c3", &at("12:00:05"), json!({})),
        conv("c3-e", "ended", "c3", &at("12:01:00"), json!({})),
        message("c3-m", "c3", &at("12:00:30"), "Outbound", false),
    ]
}

#[tokio::test]
async fn filters_match_the_started_event_and_a_late_one_changes_them() {
    let app = TestApp::spawn().await;
    app.ingest(&Value::Array(voice_filters())).await;
    let ask = |extra: Value| {
        let mut request = body("Voice");
        for (key, value) in extra.as_object().expect("object") {
            if key == "filters" {
                for (k, v) in value.as_object().expect("filters") {
                    request["filters"][k] = v.clone();
                }
            } else {
                request[key] = value.clone();
            }
        }
        request
    };
    let count = |answer: Value| {
        [
            answer["total"].as_i64(),
            answer["abandonedInIvr"].as_i64(),
            answer["abandoned"].as_i64(),
            answer["handled"].as_i64(),
        ]
    };
    let cases = [
        (json!({}), [3, 1, 1, 1]),
        (json!({"direction": "Inbound"}), [2, 1, 0, 1]),
        (json!({"direction": "Outbound"}), [1, 0, 1, 0]),
        (json!({"filters": {"queues": [Q1]}}), [1, 0, 0, 1]),
        // the message of c3 is on ACC_X and Q2: it filters nothing
        (json!({"filters": {"queues": [Q2]}}), [2, 1, 1, 0]),
        (
            json!({"filters": {"data": [{"id": SELECT, "values": [OPTION_A]}]}}),
            [1, 0, 0, 1],
        ),
        (json!({"filters": {"data": [{"id": SELECT}]}}), [2, 1, 0, 1]),
        (
            json!({"direction": "Inbound", "filters": {"queues": [Q2]}}),
            [1, 1, 0, 0],
        ),
    ];
    for (extra, expected) in &cases {
        let answer = app
            .report("conversations/live/count", &ask(extra.clone()))
            .await;
        assert_eq!(count(answer), expected.map(Some), "{extra}");
    }
    // WebChat sees none of them.
    let answer = app
        .report("conversations/live/count", &body("WebChat"))
        .await;
    assert_eq!(answer["total"], 0);

    // Another tenant's account is zeros here, and ours is zeros there.
    let other = app.new_tenant("Other").await;
    app.ingest_as(
        &other,
        &json!([
            started(
                "o-s",
                "o1",
                &at("10:00:00"),
                "Voice",
                json!({"accountId": ACC_X})
            ),
            conv("o-e", "ended", "o1", &at("10:10:00"), json!({})),
        ]),
    )
    .await;
    let by_accounts = ask(json!({"accounts": [ACC_X, ACC_V, ACC_W]}));
    let totals = app
        .report("conversations/live/count/by-accounts/totals", &by_accounts)
        .await;
    assert_eq!(
        totals,
        json!({"groups": [
            {"key": ACC_X, "total": 0, "abandonedInIvr": 0, "abandoned": 0, "handled": 0},
            {"key": ACC_V, "name": "Phones", "total": 2, "abandonedInIvr": 0, "abandoned": 1, "handled": 1},
            {"key": ACC_W, "total": 1, "abandonedInIvr": 1, "abandoned": 0, "handled": 0},
        ]})
    );
    let theirs = app
        .post_as(
            &other.token,
            "/reporting/v1.2/conversations/live/count/by-accounts/totals",
            &by_accounts,
        )
        .await
        .json();
    assert_eq!(theirs["groups"][0]["abandoned"], 1);
    assert_eq!(theirs["groups"][1]["total"], 0);
    assert_eq!(theirs["groups"][2]["total"], 0);

    // A late conversation.started, later than c2's first one, moves c2 to
    // Q1 and Inbound; an earlier one for c1 changes nothing.
    app.ingest(&json!([
        started(
            "c2-s2",
            "c2",
            &at("11:00:30"),
            "Voice",
            json!({"direction": "Inbound", "queueId": Q1, "accountId": ACC_V})
        ),
        started(
            "c1-s0",
            "c1",
            &at("09:59:00"),
            "Voice",
            json!({"direction": "Outbound", "queueId": Q2, "accountId": ACC_W})
        ),
    ]))
    .await;
    let late_cases = [
        (json!({"filters": {"queues": [Q1]}}), [2, 0, 1, 1]),
        (json!({"direction": "Inbound"}), [3, 1, 1, 1]),
        (json!({"direction": "Outbound"}), [0, 0, 0, 0]),
    ];
    for (extra, expected) in &late_cases {
        let answer = app
            .report("conversations/live/count", &ask(extra.clone()))
            .await;
        assert_eq!(count(answer), expected.map(Some), "late: {extra}");
    }
}

#[tokio::test]
async fn late_events_flip_the_class_and_duplicates_change_nothing() {
    let app = TestApp::spawn().await;
    let webchat = body("WebChat");
    let voice = body("Voice");
    let classes = |answer: Value, names: [&str; 4]| names.map(|n| answer[n].as_i64().unwrap_or(-1));
    const W: [&str; 4] = [
        "total",
        "abandonedByCustomer",
        "abandonedByOperator",
        "handled",
    ];
    const V: [&str; 4] = ["total", "abandonedInIvr", "abandoned", "handled"];

    let first = json!([
        started(
            "l1-s",
            "l1",
            &at("10:00:00"),
            "WebChat",
            json!({"accountId": ACC_W})
        ),
        conv("l1-e", "ended", "l1", &at("10:10:00"), json!({})),
        started("l2-s", "l2", &at("10:00:00"), "Voice", json!({})),
        conv("l2-i", "ivr_entered", "l2", &at("10:00:10"), json!({})),
        conv("l2-e", "ended", "l2", &at("10:10:00"), json!({})),
    ]);
    app.ingest(&first).await;
    let w = classes(app.report("conversations/live/count", &webchat).await, W);
    assert_eq!(w, [1, 1, 0, 0]);
    let v = classes(app.report("conversations/live/count", &voice).await, V);
    assert_eq!(v, [1, 1, 0, 0]);

    // A late operator connection: WebChat to abandonedByOperator; a late
    // ivr_exited: Voice to abandoned.
    app.ingest(&json!([
        connected("l1-c", "l1", &at("10:02:00")),
        conv("l2-x", "ivr_exited", "l2", &at("10:01:00"), json!({})),
    ]))
    .await;
    let w = classes(app.report("conversations/live/count", &webchat).await, W);
    assert_eq!(w, [1, 0, 1, 0]);
    let v = classes(app.report("conversations/live/count", &voice).await, V);
    assert_eq!(v, [1, 0, 1, 0]);

    // A late responding message and a late operator connection: handled.
    app.ingest(&json!([
        message("l1-m", "l1", &at("10:05:00"), "Outbound", false),
        connected("l2-c", "l2", &at("10:02:00")),
    ]))
    .await;
    let w = classes(app.report("conversations/live/count", &webchat).await, W);
    assert_eq!(w, [1, 0, 0, 1]);
    let v = classes(app.report("conversations/live/count", &voice).await, V);
    assert_eq!(v, [1, 0, 0, 1]);
    let mut durations = webchat.clone();
    durations["accounts"] = json!([ACC_W]);
    let answer = app
        .report("conversations/live/count/by-accounts/durations", &durations)
        .await;
    assert_eq!(answer["groups"][0]["count"], 1);
    assert_eq!(answer["groups"][0]["average"], 480.0);

    // An earlier operator connection arrives: the duration grows.
    app.ingest(&json!([connected("l1-c0", "l1", &at("10:01:00"))]))
        .await;
    let answer = app
        .report("conversations/live/count/by-accounts/durations", &durations)
        .await;
    assert_eq!(answer["groups"][0]["average"], 540.0);

    // The same events again (and again in one batch): nothing changes.
    let response = app
        .post(
            "/ingest/v1/events",
            &Value::Array(
                [
                    first.as_array().expect("array").clone(),
                    first.as_array().expect("array").clone(),
                ]
                .concat(),
            ),
        )
        .await
        .json();
    assert_eq!(
        response,
        json!({"received": 10, "inserted": 0, "duplicates": 10})
    );
    let w = classes(app.report("conversations/live/count", &webchat).await, W);
    assert_eq!(w, [1, 0, 0, 1]);
    let v = classes(app.report("conversations/live/count", &voice).await, V);
    assert_eq!(v, [1, 0, 0, 1]);
}

/// By-date bodies in `zone`.
fn by_date(channel: &str, from: &str, to: &str, group_by: &str, zone: &str) -> Value {
    json!({"newState": ["Closed"], "timeZone": zone,
        "filters": {"from": from, "to": to, "groupBy": group_by, "channel": channel}})
}

#[tokio::test]
async fn by_date_across_the_march_change_in_berlin_and_in_kathmandu() {
    let app = TestApp::spawn().await;
    let ended = |n: usize, end: &str| {
        vec![
            started(
                &format!("d{n}-s"),
                &format!("d{n}"),
                "2026-03-01T00:00:00Z",
                "WebChat",
                json!({"accountId": ACC_W}),
            ),
            conv(
                &format!("d{n}-e"),
                "ended",
                &format!("d{n}"),
                end,
                json!({}),
            ),
        ]
    };
    let events: Vec<Value> = [
        ended(1, "2026-03-28T22:59:00Z"), // Sat 28, 23:59 +01:00
        ended(2, "2026-03-28T23:30:00Z"), // Sun 29, 00:30 +01:00
        ended(3, "2026-03-29T01:30:00Z"), // Sun 29, 03:30 +02:00
        ended(4, "2026-03-29T21:59:00Z"), // Sun 29, 23:59 +02:00
        ended(5, "2026-03-29T22:30:00Z"), // Mon 30, 00:30 +02:00
        ended(6, "2026-03-10T18:14:00Z"), // Kathmandu: 23:59 on the 10th
        ended(7, "2026-03-10T18:15:00Z"), // Kathmandu: 00:00 on the 11th
    ]
    .concat();
    app.ingest(&Value::Array(events)).await;

    let totals = |answer: &Value| -> Vec<(String, String, i64)> {
        answer["buckets"]
            .as_array()
            .expect("buckets")
            .iter()
            .map(|b| {
                (
                    b["start"].as_str().expect("start").to_owned(),
                    b["end"].as_str().expect("end").to_owned(),
                    b["total"].as_i64().expect("total"),
                )
            })
            .collect()
    };
    let s = |a: &str, b: &str, n: i64| (a.to_owned(), b.to_owned(), n);
    let days = app
        .report(
            "conversations/live/by-date",
            &by_date(
                "WebChat",
                "2026-03-28T00:00:00+01:00",
                "2026-03-31T00:00:00+02:00",
                "Day",
                "Europe/Berlin",
            ),
        )
        .await;
    assert_eq!(days["groupBy"], "Day");
    assert_eq!(days["timeZone"], "Europe/Berlin");
    assert_eq!(
        totals(&days),
        vec![
            s("2026-03-28T00:00:00+01:00", "2026-03-29T00:00:00+01:00", 1),
            s("2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 3),
            s("2026-03-30T00:00:00+02:00", "2026-03-31T00:00:00+02:00", 1),
        ]
    );
    assert_eq!(days["buckets"][1]["abandonedByCustomer"], 3);
    // Hours: the skipped 02:00 is no bucket.
    let hours = app
        .report(
            "conversations/live/by-date",
            &by_date(
                "WebChat",
                "2026-03-29T00:00:00+01:00",
                "2026-03-29T05:00:00+02:00",
                "Hour",
                "Europe/Berlin",
            ),
        )
        .await;
    assert_eq!(
        totals(&hours),
        vec![
            s("2026-03-29T00:00:00+01:00", "2026-03-29T01:00:00+01:00", 1),
            s("2026-03-29T01:00:00+01:00", "2026-03-29T03:00:00+02:00", 0),
            s("2026-03-29T03:00:00+02:00", "2026-03-29T04:00:00+02:00", 1),
            s("2026-03-29T04:00:00+02:00", "2026-03-29T05:00:00+02:00", 0),
        ]
    );
    let mut grouped = by_date(
        "WebChat",
        "2026-03-10T00:00:00+05:45",
        "2026-03-12T00:00:00+05:45",
        "Day",
        "Asia/Kathmandu",
    );
    grouped["accounts"] = json!([ACC_W, ACC_V]);
    let kathmandu = app
        .report(
            "conversations/live/by-date/by-accounts/percentages",
            &grouped,
        )
        .await;
    assert_eq!(
        kathmandu,
        json!({"groupBy": "Day", "timeZone": "Asia/Kathmandu", "groups": [
            {"key": ACC_W, "buckets": [
                {"start": "2026-03-10T00:00:00+05:45", "end": "2026-03-11T00:00:00+05:45", "total": 1,
                    "abandonedByCustomer": 100.0, "abandonedByOperator": 0.0, "handled": 0.0},
                {"start": "2026-03-11T00:00:00+05:45", "end": "2026-03-12T00:00:00+05:45", "total": 1,
                    "abandonedByCustomer": 100.0, "abandonedByOperator": 0.0, "handled": 0.0},
            ]},
            {"key": ACC_V, "buckets": [
                {"start": "2026-03-10T00:00:00+05:45", "end": "2026-03-11T00:00:00+05:45", "total": 0,
                    "abandonedByCustomer": null, "abandonedByOperator": null, "handled": null},
                {"start": "2026-03-11T00:00:00+05:45", "end": "2026-03-12T00:00:00+05:45", "total": 0,
                    "abandonedByCustomer": null, "abandonedByOperator": null, "handled": null},
            ]},
        ]})
    );
}
