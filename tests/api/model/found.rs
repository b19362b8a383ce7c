//! What the model test found, each as a hand-computed case through HTTP.

use serde_json::json;

use super::generate::FREE_TEXT;
use crate::helpers::{audit_with, TestApp};

/// An inbound message at the instant the interaction was assigned comes
/// after the assignment (an audit precedes messages at one instant), so a
/// later reply answers it even when a reply lies between the assignment
/// and that inbound.
#[tokio::test]
async fn an_inbound_at_the_assignment_instant_is_answered_by_the_next_reply() {
    let app = TestApp::spawn().await;
    let user = "5e7e6c1e-0000-4000-8000-000000000009";
    let message = |id: &str, at: &str, direction: &str| {
        json!({"id": id, "type": "message.created", "occurredAt": at, "interactionId": "i1",
            "direction": direction, "channel": "SMS", "userId": if direction == "Outbound" { json!(user) } else { json!(null) }})
    };
    app.ingest(&json!([
        audit_with(
            "a1",
            "i1",
            "2026-05-04T09:00:00Z",
            None,
            "Queued",
            json!({})
        ),
        audit_with(
            "a2",
            "i1",
            "2026-05-04T10:00:00Z",
            Some("Queued"),
            "Assigned",
            json!({})
        ),
        // All at 10:00: the reply m1 (t − A = 0 s), then the inbound m2.
        message("m1", "2026-05-04T10:00:00Z", "Outbound"),
        message("m2", "2026-05-04T10:00:00Z", "Inbound"),
        // m3 answers m2: 300 s.
        message("m3", "2026-05-04T10:05:00Z", "Outbound"),
    ]))
    .await;
    let answer = app
        .report(
            "messages/response-times/count",
            &json!({"responseTime": "AdvisorResponseTime",
                "filters": {"from": "2026-05-04T00:00:00Z", "to": "2026-05-05T00:00:00Z"}}),
        )
        .await;
    assert_eq!(
        answer,
        json!({"count": 2, "average": 150.0, "min": 0.0, "max": 300.0, "p50": 150.0, "p90": 270.0})
    );
}

/// A value repeated within a snapshot's item counts the audit once.
#[tokio::test]
async fn a_repeated_data_value_counts_its_audit_once() {
    let app = TestApp::spawn().await;
    app.ingest(&json!([
        {"id": "dt", "type": "directory.data_type", "occurredAt": "2026-05-01T00:00:00Z",
         "dataTypeId": FREE_TEXT, "name": "Note", "kind": "StringEditor", "reportable": true, "options": []},
        audit_with("a1", "i1", "2026-05-04T10:00:00Z", None, "Created",
            json!({"data": [{"id": FREE_TEXT, "values": ["vip", "vip"]}]})),
        audit_with("a2", "i2", "2026-05-04T11:00:00Z", None, "Created",
            json!({"data": [{"id": FREE_TEXT, "values": ["vip", "new"]}]})),
    ]))
    .await;
    let answer = app
        .report(
            "interactions/state/count/by-data",
            &json!({"newState": ["Created"], "data": {"id": FREE_TEXT, "values": ["vip", "new"]},
                "filters": {"from": "2026-05-04T00:00:00Z", "to": "2026-05-05T00:00:00Z"}}),
        )
        .await;
    assert_eq!(
        answer,
        json!({"groups": [{"key": "vip", "count": 2}, {"key": "new", "count": 1}]})
    );
}

/// A message row shows its interaction's latest reference; two audits at
/// the latest instant are ordered by event id (the greater wins), so the
/// answer never depends on the query plan.
#[tokio::test]
async fn a_message_row_takes_the_reference_of_the_latest_audit_by_event_id() {
    let app = TestApp::spawn().await;
    let with_reference = |id: &str, reference: &str| {
        let mut event = audit_with(id, "i1", "2026-05-04T10:00:00Z", None, "Created", json!({}));
        event["reference"] = json!(reference);
        event
    };
    app.ingest(&json!([
        with_reference("a9", "REF-NEW"),
        with_reference("a1", "REF-OLD"),
        {"id": "m1", "type": "message.created", "occurredAt": "2026-05-04T10:01:00Z",
         "interactionId": "i1", "direction": "Inbound", "channel": "SMS"},
    ]))
    .await;
    let rows = app
        .report(
            "view/messages",
            &json!({"filters": {"from": "2026-05-04T00:00:00Z", "to": "2026-05-05T00:00:00Z"}}),
        )
        .await;
    assert_eq!(rows["rows"][0]["reference"], "REF-NEW");
}

/// A channel listed twice in `filters.channels` counts its events once on
/// the rollup path too (it summed the channel's column twice).
#[tokio::test]
async fn a_channel_listed_twice_in_the_filter_counts_once_on_the_rollup_path() {
    let app = TestApp::spawn().await;
    app.ingest(&json!([
        {"id": "m1", "type": "message.created", "occurredAt": "2026-05-04T10:30:00Z",
         "interactionId": "i1", "direction": "Inbound", "channel": "Email"},
        {"id": "m2", "type": "message.created", "occurredAt": "2026-05-04T10:40:00Z",
         "interactionId": "i2", "direction": "Inbound", "channel": "SMS"},
    ]))
    .await;
    let body = json!({"direction": "Inbound", "filters": {"from": "2026-05-04T10:00:00Z",
        "to": "2026-05-04T12:00:00Z", "groupBy": "Hour", "channels": ["Email", "Email"]}});
    let response = app
        .post("/reporting/v1.2/messages/volume/by-date", &body)
        .await;
    assert_eq!(response.header("x-query-plan").as_deref(), Some("rollup"));
    let buckets = &response.json()["buckets"];
    assert_eq!(buckets[0]["count"], 1, "{buckets}");
    assert_eq!(buckets[1]["count"], 0, "{buckets}");
}
