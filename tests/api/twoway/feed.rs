//! The kinds feed §3's families: messages counted by the message tiles,
//! conversation events with the directory user found by email.

use serde_json::{json, Value};

use super::{event_with, listing, send};
use crate::helpers::TestApp;

const AGENT: &str = "7a000000-0000-4000-8000-0000000000a1";

#[tokio::test]
async fn the_kinds_feed_the_section_3_families() {
    let app = TestApp::spawn().await;
    app.ingest(
        &json!([{"id": "u1", "type": "directory.user", "occurredAt": "2026-03-01T00:00:00Z",
        "userId": AGENT, "email": "Agent@X.example", "firstName": "A", "lastName": "B",
        "roles": ["Agent"]}]),
    )
    .await;
    let conv = |extra: Value| {
        let mut base = json!({"conversation_id": "conv-1", "agent_email": "agent@x.example"});
        if let (Some(map), Value::Object(extra)) = (base.as_object_mut(), extra) {
            map.extend(extra);
        }
        base
    };
    let at = |m: u32| format!("2026-03-02T10:{m:02}:00Z");
    for (m, subtype, extra) in [
        (0, "channel_added", json!({})),
        (1, "customer_message_sent", json!({})),
        (2, "member_added", json!({})),
        (3, "agent_message_sent", json!({})),
        (4, "system_message_sent", json!({})),
        (5, "agent_ping", json!({})),
        (6, "member_removed", json!({})),
        (7, "channel_closed", json!({"sender_type": "customer"})),
        // Listed, but feeds nothing: no conversation, or one past 128 chars.
        (8, "customer_message_sent", json!({"conversation_id": null})),
        (
            9,
            "customer_message_sent",
            json!({"conversation_id": "x".repeat(129)}),
        ),
    ] {
        send(&app, &event_with("c1", subtype, &at(m), conv(extra))).await;
    }
    let day = json!({"from": "2026-03-02T00:00:00Z", "to": "2026-03-03T00:00:00Z",
        "channels": ["SMS"]});
    let inbound = app
        .report(
            "messages/volume/count",
            &json!({"direction": "Inbound", "filters": day}),
        )
        .await;
    assert_eq!(inbound["count"], 1, "{inbound}");
    let by_user = app
        .report(
            "messages/volume/count/by-users",
            &json!({"direction": "Outbound", "userIds": [AGENT], "filters": day}),
        )
        .await;
    assert_eq!(by_user["groups"][0]["count"], 1, "{by_user}");
    let kinds: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "select kind, user_id::text, ended_by from conversation_events \
         where conversation_id = 'conv-1' order by occurred_at",
    )
    .fetch_all(&app.pool)
    .await
    .expect("conversation events");
    let expected = [
        ("started", None, None),
        ("operator_connected", Some(AGENT), None),
        ("ended", None, Some("EndUser")),
    ];
    let expected: Vec<(String, Option<String>, Option<String>)> = expected
        .iter()
        .map(|(k, u, e)| (k.to_string(), u.map(str::to_owned), e.map(str::to_owned)))
        .collect();
    assert_eq!(kinds, expected);
    let messages: Vec<(String, bool, Option<String>)> = sqlx::query_as(
        "select direction, automated, user_id::text from messages order by occurred_at",
    )
    .fetch_all(&app.pool)
    .await
    .expect("messages");
    let agent = Some(AGENT.to_owned());
    assert_eq!(
        messages,
        [
            ("Inbound".to_owned(), false, None),
            ("Outbound".to_owned(), false, agent),
            ("Outbound".to_owned(), true, None)
        ]
    );
    let rows = listing(&app, "2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z").await;
    assert_eq!(rows["rows"].as_array().map(Vec::len), Some(10));
}
