//! Live tiles: the filters match `conversation.started` (a late one changes
//! them), and another tenant's accounts are zeros.

use serde_json::{json, Value};

use super::{at, body, connected, conv, message, started, ACC_V, ACC_W, ACC_X};
use crate::helpers::TestApp;
use crate::messages::{Q1, Q2};

const SELECT: &str = "d0000000-0000-4000-8000-00000000000d";
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
