//! The "first answer" rule (API.md §5), the one SQL definition
//! (`cx_first_answers`, migration 0012) that §5.2 and §5.4 share, checked
//! against hand-computed answers on ingested messages.

use serde_json::{json, Value};

use crate::helpers::TestApp;

/// A `message.created` of conversation `conversation` at 2026-01-01 `hh:mm`.
pub fn message(id: &str, conversation: &str, at: &str, direction: &str, extra: Value) -> Value {
    let mut event = json!({"id": id, "type": "message.created",
        "occurredAt": format!("2026-01-01T{at}:00Z"), "interactionId": format!("i-{conversation}"),
        "conversationId": conversation, "direction": direction, "channel": "SMS"});
    if let (Some(e), Value::Object(extra)) = (event.as_object_mut(), extra) {
        e.extend(extra);
    }
    event
}

/// `(event id, response seconds)` of the rule's rows, in time order.
async fn answers(app: &TestApp, conversations: &[&str], until: &str) -> Vec<(String, Option<f64>)> {
    let until: chrono::DateTime<chrono::Utc> = until.parse().expect("instant");

    let conversations: Vec<String> = conversations.iter().map(|c| c.to_string()).collect();
    sqlx::query_as(
        "select event_id, response_seconds from cx_first_answers($1, $2, $3) \
         order by conversation_id, occurred_at, event_id collate \"C\"",
    )
    .bind(app.tenant.id)
    .bind(conversations)
    .bind(until)
    .fetch_all(&app.pool)
    .await
    .expect("cx_first_answers")
}

#[tokio::test]
async fn a_message_answers_the_run_of_the_other_side_before_it() {
    let app = TestApp::spawn().await;
    let automated = json!({"automated": true});
    app.ingest(&json!([
        // The spec's example: contact 09:00 and 09:05, user 09:20 answers
        // with 1,200 s (from the run's earliest message); 09:30 answers
        // nothing. The automated message between them is ignored (else
        // it would answer with 600 s and 09:20 nothing).
        message("m1", "c1", "09:00", "Inbound", json!({})),
        message("m2", "c1", "09:05", "Inbound", json!({})),
        message("auto", "c1", "09:10", "Outbound", automated),
        message("m3", "c1", "09:20", "Outbound", json!({})),
        message("m4", "c1", "09:30", "Outbound", json!({})),
        // The contact answers the users' run 09:20-09:30: 25 min.
        message("m5", "c1", "09:45", "Inbound", json!({})),
        // Two at 10:00, ordered by event id bytewise: "tie-B" (Inbound)
        // before "tie-a" (Outbound). So tie-B continues the contact's run
        // and answers nothing, and tie-a answers that run from 09:45
        // (15 min). In the other order tie-a would answer with 900 s too,
        // but tie-B with 0.
        message("tie-a", "c1", "10:00", "Outbound", json!({})),
        message("tie-B", "c1", "10:00", "Inbound", json!({})),
        // Another conversation is a sequence of its own: its first message
        // answers nothing, though c1's last message is the other side's.
        message("n1", "c2", "10:30", "Outbound", json!({})),
        message("n2", "c2", "10:31", "Inbound", json!({})),
    ]))
    .await;

    let all = answers(&app, &["c1", "c2"], "9999-12-31T00:00:00Z").await;
    let expected = vec![
        ("m1", None),
        ("m2", None),
        ("m3", Some(1200.0)),
        ("m4", None),
        ("m5", Some(1500.0)),
        ("tie-B", None),
        ("tie-a", Some(900.0)),
        ("n1", None),
        ("n2", Some(60.0)),
    ];
    let expected: Vec<(String, Option<f64>)> = expected
        .into_iter()
        .map(|(id, s)| (id.to_owned(), s))
        .collect();
    assert_eq!(all, expected);

    // Only what lies before `until` is read: the answers before it stand.
    let early = answers(&app, &["c1"], "2026-01-01T09:30:00Z").await;
    assert_eq!(early, expected[..3].to_vec());
    // Another tenant's conversation ids hold nothing for this one.
    let other = app.new_tenant("Other").await;
    let none: Vec<(String,)> =
        sqlx::query_as("select event_id from cx_first_answers($1, array['c1', 'c2'], 'infinity')")
            .bind(other.id)
            .fetch_all(&app.pool)
            .await
            .expect("cx_first_answers");
    assert!(none.is_empty(), "{none:?}");
}

/// The reports built on the rule depend on the set of events only: the
/// sessions, their metrics and the interval summaries are the same when
/// the events arrive one by one, newest first.
#[tokio::test]
async fn the_reports_on_answers_do_not_depend_on_arrival_order() {
    let app = TestApp::spawn().await;
    let one_by_one = app.new_tenant("One by one").await;
    for scenario in [crate::sessions::scenario(), crate::intervals::scenario()] {
        app.ingest(&scenario).await;
        let mut events = scenario.as_array().expect("events").clone();
        events.reverse();
        for event in events {
            app.ingest_as(&one_by_one, &json!([event])).await;
        }
    }
    let day = json!({"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T06:00:00Z"});
    let bodies = [
        ("sessions", json!({"filters": day})),
        ("sessions/metrics", json!({"filters": day})),
        (
            "conversations/intervals",
            json!({"filters": day, "intervalHours": 3}),
        ),
    ];
    for (path, body) in bodies {
        let path = format!("/reporting/v1.2/{path}");
        let whole = app.post(&path, &body).await.json();
        let piecemeal = app.post_as(&one_by_one.token, &path, &body).await.json();
        assert!(
            whole["rows"].as_array().is_some_and(|r| r.len() > 2),
            "{path}: {whole}"
        );
        assert_eq!(whole, piecemeal, "{path}");
    }
}
