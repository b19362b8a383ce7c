//! The webhook's validation: the seed's lengths, the nine kinds, the
//! sender types, required and malformed properties (422 naming each; 400
//! for a body that is not one object), and nothing stored.

use serde_json::json;

use super::{event, event_with, post_signed, send_as, stored};
use crate::helpers::TestApp;

#[tokio::test]
async fn one_character_past_a_seed_length_is_422_naming_the_property() {
    let app = TestApp::spawn().await;
    let lengths = [
        ("agent_email", 100),
        ("agent_first_name", 100),
        ("agent_last_name", 100),
        ("agent_roles", 1024),
        ("agent_control_group", 100),
        ("ccid", 255),
        ("customer_first_name", 100),
        ("customer_last_name", 100),
        ("product_group_id", 255),
        ("event_type", 100),
        ("event_subtype", 100),
        ("control_tag", 100),
        ("twoway_channel_sid", 100),
        ("conversation_id", 256),
        ("closed_reason", 256),
        ("closed_additional_information", 1024),
        ("sender_type", 50),
        ("conversation_status", 50),
    ];
    for (i, (name, max)) in lengths.into_iter().enumerate() {
        let at = format!("2026-03-02T10:{:02}:00Z", i);
        let mut body = event("c1", "agent_ping", &at);
        body[name] = json!("é".repeat(max + 1));
        let problem = send_as(&app, &app.tenant, &body).await.problem(422);
        assert_eq!(problem["errors"][0]["field"], name, "{problem}");
        let message = problem["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(&max.to_string()), "{problem}");
        // Exactly at the length (in characters, not bytes) is accepted,
        // for the properties whose values are not a closed list.
        if !matches!(name, "event_type" | "event_subtype" | "sender_type") {
            body[name] = json!("é".repeat(max));
            let response = send_as(&app, &app.tenant, &body).await;
            assert_eq!(response.status, 200, "{name}: {}", response.text());
        }
    }
    assert_eq!(stored(&app).await.0, 15);
}

#[tokio::test]
async fn unknown_kinds_senders_and_missing_or_malformed_fields_are_422() {
    let app = TestApp::spawn().await;
    let at = "2026-03-02T10:00:00Z";
    let bad_kind = event_with(
        "c1",
        "agent_ping",
        at,
        json!({"event_subtype": "agent_pong"}),
    );
    let problem = send_as(&app, &app.tenant, &bad_kind).await.problem(422);
    assert_eq!(problem["errors"][0]["field"], "event_subtype");
    let message = problem["errors"][0]["message"].as_str().unwrap_or_default();
    for kind in [
        "twoway.agent_ping",
        "twoway.agent_invite",
        "twoway.channel_closed",
        "twoway_webhook.customer_message_sent",
        "twoway_webhook.agent_message_sent",
        "twoway_webhook.system_message_sent",
        "twoway_webhook.member_added",
        "twoway_webhook.member_removed",
        "twoway_webhook.channel_added",
    ] {
        assert!(message.contains(kind), "{kind} not listed: {message}");
    }
    // A subtype of the other type is no kind either.
    let crossed = event_with(
        "c1",
        "agent_ping",
        at,
        json!({"event_type": "twoway_webhook"}),
    );
    send_as(&app, &app.tenant, &crossed).await.problem(422);
    let cases = [
        (json!({"sender_type": "bot"}), "sender_type"),
        (json!({"event_time": "2026-03-02T10:00:00"}), "event_time"),
        (json!({"event_time": null}), "event_time"),
        (json!({"ccid": ""}), "ccid"),
        (json!({"after_hours_flag": "yes"}), "after_hours_flag"),
        (json!({"control_tag": 7}), "control_tag"),
    ];
    for (extra, field) in cases {
        let body = event_with("c1", "agent_ping", at, extra.clone());
        let problem = send_as(&app, &app.tenant, &body).await.problem(422);
        assert_eq!(problem["errors"][0]["field"], field, "{extra}: {problem}");
    }
    let array = serde_json::to_vec(&json!([event("c1", "agent_ping", at)])).expect("json");
    post_signed(&app, &app.tenant, &array, &array)
        .await
        .problem(400);
    assert_eq!(stored(&app).await, (0, 0));
}
