//! Live tiles: late events recompute an ended conversation's class and
//! duration; duplicates change nothing.

use serde_json::{json, Value};

use super::{at, body, connected, conv, message, started, ACC_W};
use crate::helpers::TestApp;

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
