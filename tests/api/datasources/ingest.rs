//! Ingesting `distribution.completed` and `sms.sent` (API.md §5.5,
//! validated like §3's): a bad event refuses the whole batch with its path,
//! and an id sent again stores nothing new.

use serde_json::json;

use super::{day, events, full_incoming, rows, scenario};
use crate::helpers::TestApp;

#[tokio::test]
async fn a_bad_event_is_422_with_its_path_and_the_batch_stores_nothing() {
    let app = TestApp::spawn().await;
    let mut wrong_type = full_incoming();
    wrong_type["id"] = json!("bad-1");
    wrong_type["waitTime"] = json!("twelve");
    let mut unknown_status = full_incoming();
    unknown_status["id"] = json!("bad-2");
    unknown_status["detailedInteractionStatus"] = json!("Lost");
    let batch = json!([
        full_incoming(),
        wrong_type,
        {"id": "bad-3", "type": "sms.sent", "occurredAt": "2026-03-02T08:00:00Z"},
        {"id": "bad-4", "type": "distribution.completed", "occurredAt": "2026-03-02T08:00:00Z",
         "distributionId": "d", "direction": "Sideways"},
        unknown_status,
        {"id": "bad-5", "type": "sms.sent", "occurredAt": "2026-03-02T08:00:00Z", "smsId": "s",
         "checkpoints": ["ok", 7], "queueId": "not-a-uuid"},
        {"id": "bad-6", "type": "distribution.completed", "occurredAt": "2026-03-02T08:00:00Z",
         "direction": "Incoming"},
        {"id": "bad-7", "type": "sms.sent", "occurredAt": "2026-03-02T08:00:00Z", "smsId": "",
         "credits": -1},
        {"id": "bad-8", "type": "sms.sent", "occurredAt": "2026-03-02T08:00:00Z",
         "smsId": "x".repeat(129)},
        {"id": "bad-9", "type": "distribution.completed", "occurredAt": "2026-03-02T08:00:00Z",
         "distributionId": "d", "direction": "Incoming", "sessionEnd": "2026-03-02T08:00:00"},
    ]);
    let response = app.post("/ingest/v1/events", &batch).await;
    let problem = response.problem(422);
    let errors = problem["errors"].as_array().expect("errors");
    let fields: Vec<&str> = errors
        .iter()
        .map(|e| e["field"].as_str().expect("field"))
        .collect();
    assert_eq!(
        fields,
        [
            "[1].waitTime",
            "[2].smsId",
            "[3].direction",
            "[4].detailedInteractionStatus",
            "[5].checkpoints[1]",
            "[6].distributionId",
            "[7].smsId",
            "[8].smsId",
            "[9].sessionEnd",
        ]
    );
    let direction = errors[2]["message"].as_str().expect("message");
    assert!(
        direction.contains("`Incoming`") && direction.contains("`Outgoing`"),
        "{direction}"
    );
    assert!(errors[7]["message"]
        .as_str()
        .is_some_and(|m| m.contains("at most 128")));
    // Nothing of the batch was stored, not even its valid first event.
    let mut month = day();
    month["from"] = json!("2026-02-20T00:00:00Z");
    assert!(rows(&app, "messages", &json!({"filters": month}))
        .await
        .is_empty());
    let (stored,): (i64,) = sqlx::query_as("select count(*) from events")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(stored, 0);
}

#[tokio::test]
async fn an_event_sent_again_stores_nothing_new() {
    let app = scenario().await;
    let again = app.ingest(&events()).await;
    assert_eq!(
        (again["inserted"].clone(), again["duplicates"].clone()),
        (json!(0), json!(10))
    );
    // The same id with other content is still the first event: no-op.
    let mut changed = full_incoming();
    changed["waitTime"] = json!(999);
    changed["occurredAt"] = json!("2026-03-02T10:45:00Z");
    let answer = app.ingest(&json!([changed])).await;
    assert_eq!(answer["duplicates"], 1);
    // An id first used by another kind stores no row either, in the same
    // batch or in a later one.
    let presence = json!({"id": "e-shared", "type": "presence.changed",
        "occurredAt": "2026-03-02T10:00:00Z", "userId": super::U1, "state": "Online"});
    let sms = |id: &str| json!({"id": id, "type": "sms.sent", "occurredAt": "2026-03-02T10:00:00Z", "smsId": "sms-x"});
    let answer = app.ingest(&json!([presence, sms("e-shared")])).await;
    assert_eq!(
        (answer["inserted"].clone(), answer["duplicates"].clone()),
        (json!(1), json!(1))
    );
    let presence = json!({"id": "e-shared-2", "type": "presence.changed",
        "occurredAt": "2026-03-02T10:00:00Z", "userId": super::U1, "state": "Online"});
    app.ingest(&json!([presence])).await;
    let answer = app.ingest(&json!([sms("e-shared-2")])).await;
    assert_eq!(answer["duplicates"], 1);

    let incoming = rows(
        &app,
        "incoming-distributions",
        &json!({"filters": day(), "columns": ["waitTime"]}),
    )
    .await;
    assert_eq!(
        incoming,
        [json!({"waitTime": 40.0}), json!({"waitTime": 12.5})]
    );
    let sms = rows(
        &app,
        "sms",
        &json!({"filters": day(), "columns": ["smsId"]}),
    )
    .await;
    assert_eq!(sms, [json!({"smsId": "sms-1"}), json!({"smsId": "sms-2"})]);
    for (table, expected) in [("distributions", 4), ("sms_sent", 2)] {
        let (count,): (i64,) = sqlx::query_as(&format!("select count(*) from {table}"))
            .fetch_one(&app.pool)
            .await
            .expect("count");
        assert_eq!(count, expected, "{table}");
    }
}

/// Instants anywhere in RFC 3339's range are stored, year 0000 (1 BC,
/// which PostgreSQL's text input spells otherwise) included: not a 500.
#[tokio::test]
async fn instants_of_year_zero_are_stored_and_shown() {
    let app = TestApp::spawn().await;
    let events = json!([
        {"id": "old", "type": "distribution.completed", "occurredAt": "0000-01-01T00:00:00Z",
         "distributionId": "d-old", "direction": "Incoming", "sessionEnd": "0000-01-02T00:00:00.5+00:00"},
        {"id": "late", "type": "sms.sent", "occurredAt": "9999-12-31T23:59:59.999Z", "smsId": "s"},
    ]);
    assert_eq!(app.ingest(&events).await["inserted"], 2);
    let body = json!({"filters": {"from": "0000-01-01T00:00:00Z", "to": "0000-01-03T00:00:00Z"},
        "columns": ["distributionDate", "sessionEnd"]});
    assert_eq!(
        rows(&app, "messages", &body).await,
        [
            json!({"distributionDate": "0000-01-01T00:00:00.000Z", "sessionEnd": "0000-01-02T00:00:00.500Z"})
        ]
    );
}

/// Which description of a distribution is shown depends on the set of
/// events, not on their order: the later one (by occurredAt, then event
/// id) whichever arrives first.
#[tokio::test]
async fn the_latest_description_wins_in_any_arrival_order() {
    let app = TestApp::spawn().await;
    let b = app.new_tenant("B").await;
    let describe = |id: &str, at: &str, wait: f64| {
        json!({"id": id, "type": "distribution.completed", "occurredAt": at,
            "distributionId": "dist-1", "direction": "Incoming", "waitTime": wait})
    };
    let first = describe("e-1", "2026-03-02T10:00:00Z", 1.0);
    let later = describe("e-2", "2026-03-02T10:30:00Z", 2.0);
    let tie = describe("e-3", "2026-03-02T10:30:00Z", 3.0);
    app.ingest(&json!([first, later, tie])).await;
    for event in [&tie, &later, &first] {
        app.ingest_as(&b, &json!([event])).await;
    }
    let body = json!({"filters": day(), "columns": ["distributionDate", "waitTime"]});
    let expected = [json!({"distributionDate": "2026-03-02T10:30:00.000Z", "waitTime": 3.0})];
    assert_eq!(rows(&app, "messages", &body).await, expected);
    let answer = app
        .post_as(&b.token, "/reporting/v1.2/datasources/messages/rows", &body)
        .await;
    assert_eq!(answer.json()["rows"], json!(expected));
}
