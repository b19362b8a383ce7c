//! The CSV mirror: same numbers as JSON, RFC 4180, Accept rules.

use axum::http::Method;
use serde_json::json;

use crate::helpers::{audit_with, TestApp};

const Q1: &str = "11111111-1111-4111-8111-111111111111";

async fn seeded() -> TestApp {
    let app = TestApp::spawn().await;
    app.ingest(&json!([
        audit_with("a", "i1", "2026-03-29T00:30:00Z", Some("Queued"), "Closed", json!({"queueId": Q1})),
        audit_with("b", "i2", "2026-03-29T01:30:00Z", Some("Queued"), "Closed", json!({"queueId": Q1})),
        audit_with("c", "i3", "2026-03-30T12:00:00Z", Some("Queued"), "Closed", json!({"channel": "SMS"})),
        {"id": "dq", "type": "directory.queue", "occurredAt": "2025-01-01T00:00:00Z", "queueId": Q1, "name": "Support, \"Tier 1\""},
    ]))
    .await;
    app
}

#[tokio::test]
async fn count_export_has_a_header_and_the_json_number() {
    let app = seeded().await;
    let body = json!({"newState": ["Closed"], "filters": {"from": "2026-03-29T00:00:00Z", "to": "2026-03-31T00:00:00Z"}});
    let json = app.report("interactions/state/count", &body).await;
    assert_eq!(json, json!({"count": 3}));
    assert_eq!(
        app.export("interactions/state/count", &body).await,
        "count\r\n3\r\n"
    );
}

#[tokio::test]
async fn grouped_by_date_export_flattens_group_by_bucket_in_the_zone_offset() {
    let app = seeded().await;
    let body = json!({"newState": ["Closed"], "timeZone": "Europe/Berlin",
        "filters": {"from": "2026-03-28T23:00:00Z", "to": "2026-03-30T22:00:00Z", "groupBy": "Day", "queues": [Q1]}});
    let json = app
        .report("interactions/state/by-date/by-queues", &body)
        .await;
    let csv = app
        .export("interactions/state/by-date/by-queues", &body)
        .await;
    let buckets = json["groups"][0]["buckets"].as_array().expect("buckets");
    let mut expected = String::from("group,groupName,bucketStart,bucketEnd,count\r\n");
    for bucket in buckets {
        expected.push_str(&format!(
            "{Q1},\"Support, \"\"Tier 1\"\"\",{},{},{}\r\n",
            bucket["start"].as_str().expect("start"),
            bucket["end"].as_str().expect("end"),
            bucket["count"]
        ));
    }
    assert_eq!(csv, expected);
    assert_eq!(
        csv.lines().nth(1),
        Some(format!("{Q1},\"Support, \"\"Tier 1\"\"\",2026-03-29T00:00:00+01:00,2026-03-30T00:00:00+02:00,2").as_str())
    );
}

#[tokio::test]
async fn export_accept_rules() {
    let app = seeded().await;
    let body = serde_json::to_vec(&json!({"newState": ["Closed"], "filters": {"from": "2026-03-29T00:00:00Z", "to": "2026-03-31T00:00:00Z"}}))
        .expect("json");
    let auth = format!("Bearer {}", app.tenant.token);
    for (accept, status) in [
        (None, 200),
        (Some("*/*"), 200),
        (Some("text/csv"), 200),
        (Some("application/json, text/csv;q=0.5"), 200),
        (Some("application/json"), 404),
        (Some("text/html"), 404),
    ] {
        let mut headers = vec![("authorization", auth.as_str())];
        if let Some(accept) = accept {
            headers.push(("accept", accept));
        }
        let response = app
            .request(
                Method::POST,
                "/reporting/export/v1.2/interactions/state/count",
                &headers,
                body.clone(),
            )
            .await;
        assert_eq!(response.status.as_u16(), status, "Accept: {accept:?}");
        if status == 404 {
            response.problem(404);
        }
    }
}

#[tokio::test]
async fn export_validates_like_json() {
    let app = seeded().await;
    let response = app
        .post(
            "/reporting/export/v1.2/interactions/state/count",
            &json!({"filters": {"from": "2026-03-29T00:00:00Z", "to": "2026-03-31T00:00:00Z"}}),
        )
        .await;
    assert_eq!(response.problem(400)["errors"][0]["field"], "newState");
}
