use axum::http::Method;
use serde_json::{json, Value};

use crate::helpers::{audit, TestApp};

async fn stored_events(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from events")
        .fetch_one(&app.pool)
        .await
        .expect("count")
}

/// One valid event of every kind of API.md §3.
fn one_of_each() -> Value {
    let q = "8155c1f3-25e5-4cac-b4d3-36a108b70821";
    let u = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
    let a = "0b7d5f3e-1111-4c4c-8888-2c963f66afa6";
    let d = "bca33ec4-809d-4ccd-9b86-718fdff89317";
    json!([
        {"id": "e1", "type": "interaction.state_changed", "occurredAt": "2026-01-01T10:00:00Z", "interactionId": "i1", "reference": "R1", "channel": "WebChat", "oldState": null, "newState": "Draft"},
        {"id": "e2", "type": "message.created", "occurredAt": "2026-01-01T10:01:00+01:00", "interactionId": "i1", "conversationId": "c1", "direction": "Inbound", "channel": "WebChat", "queueId": q, "accountId": a, "data": [{"id": d, "values": ["x"]}]},
        {"id": "e3", "type": "conversation.started", "occurredAt": "2026-01-01T10:00:00Z", "conversationId": "c1", "interactionId": "i1", "channel": "WebChat", "accountId": a},
        {"id": "e4", "type": "conversation.ivr_entered", "occurredAt": "2026-01-01T10:00:01Z", "conversationId": "c1"},
        {"id": "e5", "type": "conversation.ivr_exited", "occurredAt": "2026-01-01T10:00:02Z", "conversationId": "c1"},
        {"id": "e6", "type": "conversation.operator_connected", "occurredAt": "2026-01-01T10:00:03Z", "conversationId": "c1", "userId": u},
        {"id": "e7", "type": "conversation.ended", "occurredAt": "2026-01-01T10:30:00Z", "conversationId": "c1", "endedBy": "Agent"},
        {"id": "e8", "type": "presence.changed", "occurredAt": "2026-01-01T09:00:00Z", "userId": u, "state": "Online"},
        {"id": "e9", "type": "unit_of_work.completed", "occurredAt": "2026-01-01T10:31:00Z", "interactionId": "i1", "userId": u, "assignedAt": "2026-01-01T10:00:00Z", "userState": "Online", "actions": {"closed": 1, "messages": 2, "dataChanges": 0, "notes": 0}, "channel": "WebChat"},
        {"id": "e10", "type": "directory.user", "occurredAt": "2026-01-01T00:00:00Z", "userId": u, "email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace", "roles": ["Agent"]},
        {"id": "e11", "type": "directory.queue", "occurredAt": "2026-01-01T00:00:00Z", "queueId": q, "name": "Support"},
        {"id": "e12", "type": "directory.account", "occurredAt": "2026-01-01T00:00:00Z", "accountId": a, "name": "Main chat", "channel": "WebChat"},
        {"id": "e13", "type": "directory.data_type", "occurredAt": "2026-01-01T00:00:00Z", "dataTypeId": d, "name": "Reason", "kind": "StringEditor", "reportable": true, "options": []}
    ])
}

#[tokio::test]
async fn every_event_kind_is_stored_and_projected() {
    let app = TestApp::spawn().await;
    let answer = app.ingest(&one_of_each()).await;
    assert_eq!(
        answer,
        json!({"received": 13, "inserted": 13, "duplicates": 0})
    );
    for (table, rows) in [
        ("interaction_audits", 1),
        ("messages", 1),
        ("conversation_events", 5),
        ("presence_changes", 1),
        ("units_of_work", 1),
        ("directory_users", 1),
        ("directory_queues", 1),
        ("directory_accounts", 1),
        ("directory_data_types", 1),
    ] {
        let n: i64 = sqlx::query_scalar(&format!(
            "select count(*) from {table} where tenant_id = $1"
        ))
        .bind(app.tenant.id)
        .fetch_one(&app.pool)
        .await
        .expect("count");
        assert_eq!(n, rows, "{table}");
    }
    // Instants are stored in UTC whatever offset they were sent with;
    // defaults are filled.
    let (at, automated, content): (chrono::DateTime<chrono::Utc>, bool, String) = sqlx::query_as(
        "select occurred_at, automated, content_type from messages where event_id = 'e2'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("row");
    assert_eq!(at.to_rfc3339(), "2026-01-01T09:01:00+00:00");
    assert!(!automated);
    assert_eq!(content, "Text");
}

#[tokio::test]
async fn resending_is_a_no_op_and_repeats_in_a_batch_count_once() {
    let app = TestApp::spawn().await;
    let batch = json!([
        audit("a1", "i1", "2026-01-01T10:00:00Z", None, "Draft"),
        audit("a2", "i1", "2026-01-01T10:01:00Z", Some("Draft"), "Created"),
        audit("a2", "i1", "2026-01-01T10:01:00Z", Some("Draft"), "Created"),
    ]);
    assert_eq!(
        app.ingest(&batch).await,
        json!({"received": 3, "inserted": 2, "duplicates": 1})
    );
    assert_eq!(
        app.ingest(&batch).await,
        json!({"received": 3, "inserted": 0, "duplicates": 3})
    );
    assert_eq!(stored_events(&app).await, 2);
    let audits: i64 = sqlx::query_scalar("select count(*) from interaction_audits")
        .fetch_one(&app.pool)
        .await
        .expect("n");
    assert_eq!(audits, 2);
    // The rollups count the repeat once too.
    let response = app
        .post(
            "/reporting/v1.2/interactions/state/count",
            &json!({"newState": ["Created"], "filters": {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"}}),
        )
        .await;
    assert_eq!(response.header("x-query-plan").as_deref(), Some("rollup"));
    assert_eq!(response.json()["count"], 1);
}

#[tokio::test]
async fn one_bad_event_stores_nothing_and_every_bad_event_is_listed() {
    let app = TestApp::spawn().await;
    let long_id = "x".repeat(129);
    let batch = json!([
        audit("ok1", "i1", "2026-01-01T10:00:00Z", None, "Draft"),
        {"id": "b1", "type": "interaction.exploded", "occurredAt": "2026-01-01T10:00:00Z"},
        audit("b2", "i1", "2026-01-01T10:00:00Z", None, "Sleeping"),
        {"id": "b3", "type": "interaction.state_changed", "occurredAt": "2026-01-01T10:00:00Z", "interactionId": "i", "reference": "r", "newState": "Closed"},
        audit(&long_id, "i1", "2026-01-01T10:00:00Z", None, "Draft"),
        audit("b5", "i1", "2026-01-01T10:00:00", None, "Draft"),
        {"id": "b6", "type": "presence.changed", "occurredAt": "2026-01-01T10:00:00Z", "userId": "not-a-uuid", "state": "Online"},
        "not an object",
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
        vec![
            "[1].type",
            "[2].newState",
            "[3].channel",
            "[4].id",
            "[5].occurredAt",
            "[6].userId",
            "[7]"
        ]
    );
    let unknown_type = errors[0]["message"].as_str().expect("message");
    assert!(
        unknown_type.contains("interaction.state_changed")
            && unknown_type.contains("directory.data_type"),
        "lists valid types: {unknown_type}"
    );
    let bad_state = errors[1]["message"].as_str().expect("message");
    assert!(
        bad_state.contains("Automation"),
        "lists valid states: {bad_state}"
    );
    assert_eq!(
        stored_events(&app).await,
        0,
        "nothing of a bad batch is stored"
    );
}

#[tokio::test]
async fn ndjson_is_accepted_and_non_json_is_400() {
    let app = TestApp::spawn().await;
    let lines = [
        audit("n1", "i1", "2026-01-01T10:00:00Z", None, "Draft"),
        audit("n2", "i1", "2026-01-01T10:01:00Z", Some("Draft"), "Queued"),
    ]
    .iter()
    .map(|e| e.to_string())
    .collect::<Vec<_>>()
    .join("\n");
    let auth = format!("Bearer {}", app.tenant.token);
    let response = app
        .request(
            Method::POST,
            "/ingest/v1/events",
            &[
                ("authorization", &auth),
                ("content-type", "application/x-ndjson"),
            ],
            lines.into_bytes(),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.json()["inserted"], 2);
    let bad = app
        .request(
            Method::POST,
            "/ingest/v1/events",
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            b"{\"id\": 1}".to_vec(),
        )
        .await;
    bad.problem(400);
    let garbage = app
        .request(
            Method::POST,
            "/ingest/v1/events",
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            b"[{".to_vec(),
        )
        .await;
    garbage.problem(400);
}

#[tokio::test]
async fn oversized_batches_are_413() {
    let app = TestApp::spawn().await;
    let many: Vec<Value> = (0..10_001)
        .map(|i| audit(&format!("e{i}"), "i", "2026-01-01T10:00:00Z", None, "Draft"))
        .collect();
    let response = app.post("/ingest/v1/events", &Value::Array(many)).await;
    response.problem(413);
    let auth = format!("Bearer {}", app.tenant.token);
    let huge = vec![b' '; 16 * 1024 * 1024 + 1];
    let response = app
        .request(
            Method::POST,
            "/ingest/v1/events",
            &[("authorization", &auth)],
            huge,
        )
        .await;
    response.problem(413);
    assert_eq!(stored_events(&app).await, 0);
}

#[tokio::test]
async fn signed_webhooks_store_and_bad_signatures_store_nothing() {
    let app = TestApp::spawn().await;
    let body = serde_json::to_vec(&json!([audit(
        "w1",
        "i1",
        "2026-01-01T10:00:00Z",
        None,
        "Draft"
    )]))
    .expect("json");
    let tenant = app.tenant.id.to_string();
    let good = cx_reporting::auth::secrets::sign(&app.tenant.credentials.webhook_secret, &body);
    let response = app
        .request(
            Method::POST,
            "/ingest/v1/events",
            &[("x-tenant-id", &tenant), ("x-signature-256", &good)],
            body.clone(),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    let other = serde_json::to_vec(&json!([audit(
        "w2",
        "i1",
        "2026-01-01T10:00:00Z",
        None,
        "Draft"
    )]))
    .expect("json");
    let response = app
        .request(
            Method::POST,
            "/ingest/v1/events",
            &[("x-tenant-id", &tenant), ("x-signature-256", &good)],
            other.clone(),
        )
        .await;
    response.problem(401);
    let response = app
        .request(
            Method::POST,
            "/ingest/v1/events",
            &[("x-tenant-id", &tenant)],
            other,
        )
        .await;
    response.problem(401);
    assert_eq!(stored_events(&app).await, 1);
}

#[tokio::test]
async fn directory_keeps_the_latest_description_whatever_the_arrival_order() {
    let app = TestApp::spawn().await;
    let q = "8155c1f3-25e5-4cac-b4d3-36a108b70821";
    let newer = json!({"id": "q2", "type": "directory.queue", "occurredAt": "2026-02-01T00:00:00Z", "queueId": q, "name": "Billing"});
    let older = json!({"id": "q1", "type": "directory.queue", "occurredAt": "2026-01-01T00:00:00Z", "queueId": q, "name": "Support"});
    app.ingest(&json!([newer])).await;
    app.ingest(&json!([older])).await;
    let name: String = sqlx::query_scalar("select name from directory_queues")
        .fetch_one(&app.pool)
        .await
        .expect("row");
    assert_eq!(name, "Billing");
}
