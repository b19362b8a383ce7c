//! Hostile and malformed input (issue 10, "Bad input"): every such request
//! gets a 4xx problem quickly, never a 500, a hang or a huge answer.

use std::time::{Duration, Instant};

use axum::http::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::crash::service::Service;
use crate::helpers::{fresh_database_url, TestApp};

const TILE: &str = "/reporting/v1.2/interactions/state/by-date/by-queues";
const VIEW: &str = "/reporting/v1.2/view/interactions";

fn range() -> Value {
    json!({"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "groupBy": "Hour"})
}

fn ids(n: usize) -> Vec<String> {
    (0..n).map(|_| uuid::Uuid::new_v4().to_string()).collect()
}

/// Sends raw bytes with the tenant's token: the status and problem, in at
/// most 2 s.
#[track_caller]
fn quick(started: Instant, what: &str) {
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{what} took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn malformed_bodies_are_quick_400_problems_on_every_kind_of_route() {
    let app = TestApp::spawn().await;
    let auth = format!("Bearer {}", app.tenant.token);
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let nested_object = format!("{}1{}", "{\"a\":".repeat(50_000), "}".repeat(50_000));
    let bodies: [(&str, Vec<u8>); 7] = [
        ("100,000 nested arrays", nested.into_bytes()),
        ("50,000 nested objects", nested_object.into_bytes()),
        ("invalid UTF-8", b"{\"filters\": \"\xff\xfe\"}".to_vec()),
        (
            "truncated JSON",
            br#"{"filters": {"from": "2026-01-01T00:00:00Z""#.to_vec(),
        ),
        ("an empty body", Vec::new()),
        ("a bare number", b"42".to_vec()),
        ("NUL bytes", vec![0; 1024]),
    ];
    let routes = [
        TILE,
        "/reporting/export/v1.2/interactions/state/by-date/by-queues",
        VIEW,
        "/ingest/v1/events",
    ];
    for route in routes {
        for (what, body) in &bodies {
            let started = Instant::now();
            let response = app
                .request(
                    Method::POST,
                    route,
                    &[
                        ("authorization", &auth),
                        ("content-type", "application/json"),
                    ],
                    body.clone(),
                )
                .await;
            quick(started, &format!("{what} to {route}"));
            assert_eq!(
                response.status,
                400,
                "{what} to {route}: {}",
                response.text()
            );
            response.problem(400);
        }
    }
    // Nothing was stored by any of them.
    let stored: i64 = sqlx::query_scalar("select count(*) from events where tenant_id = $1")
        .bind(app.tenant.id)
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(stored, 0);
}

#[tokio::test]
async fn a_list_of_more_than_1000_values_is_a_quick_422_naming_it() {
    let app = TestApp::spawn().await;
    let mut many_queues = range();
    many_queues["queues"] = json!(ids(10_000));
    let mut many_values = range();
    many_values["data"] = json!([{"id": uuid::Uuid::new_v4(), "values": ids(10_000)}]);
    let cases = [
        (
            TILE,
            json!({"newState": ["Closed"], "filters": many_queues}),
            "filters.queues",
        ),
        (
            "/reporting/v1.2/interactions/state/count/by-users",
            json!({"newState": ["Closed"], "userIds": ids(10_000), "filters": range()}),
            "userIds",
        ),
        (
            "/reporting/v1.2/interactions/state/count/by-channels",
            json!({"newState": ["Closed"], "filters": {"from": "2026-01-01T00:00:00Z",
                   "to": "2026-01-02T00:00:00Z", "channels": vec!["Email"; 10_000]}}),
            "filters.channels",
        ),
        (
            "/reporting/v1.2/interactions/state/count",
            json!({"newState": vec!["Closed"; 1_001], "filters": range()}),
            "newState",
        ),
        (
            "/reporting/v1.2/interactions/state/by-date",
            json!({"newState": ["Closed"], "filters": many_values}),
            "filters.data[0].values",
        ),
        (
            VIEW,
            json!({"filters": {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z",
                   "queues": ids(10_000)}}),
            "filters.queues",
        ),
    ];
    for (path, body, field) in cases {
        let started = Instant::now();
        let response = app.post(path, &body).await;
        quick(started, path);
        let problem = response.problem(422);
        assert_eq!(problem["errors"][0]["field"], field, "{path}: {problem}");
        assert!(
            problem["detail"]
                .as_str()
                .expect("detail")
                .contains("at most 1000"),
            "{problem}"
        );
    }
    // 1,000 is still an answer: one group per queue.
    let mut thousand = range();
    thousand["queues"] = json!(ids(1_000));
    let answer = app
        .post(TILE, &json!({"newState": ["Closed"], "filters": thousand}))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(
        answer.json()["groups"].as_array().map(Vec::len),
        Some(1_000)
    );
}

/// Bytes of one HTTP/1.1 request whose body is announced but never sent
/// whole.
fn announced(path: &str, token: &str, length: usize, sent: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\ncontent-length: {length}\r\n\r\n{sent}"
    )
    .into_bytes()
}

/// Reads what the server answers on `stream` until it closes it or 15 s
/// pass: the status line's code (`None` when it closed without one) and
/// the whole answer.
async fn answer_of(stream: &mut tokio::net::TcpStream) -> (Option<u16>, String) {
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(15), stream.read_to_end(&mut answer));
    read.await
        .expect("the server answered or closed within 15 s")
        .ok();
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok());
    (status, text)
}

/// A body that stalls is cut off after the idle timeout with a 408 problem
/// (the client's fault, not the service's: no 503, never held open); a
/// body cut short by the client is a 400 and stores nothing.
#[tokio::test]
async fn slow_and_truncated_bodies_are_cut_off_and_store_nothing() {
    let client = reqwest::Client::new();
    let database = fresh_database_url().await;
    let log = std::env::temp_dir().join(format!("cx-slow-{}.log", uuid::Uuid::new_v4()));
    let env = [
        ("CX_REQUEST_TIMEOUT_SECONDS", "30"),
        ("CX_BODY_IDLE_TIMEOUT_MS", "1000"),
    ];
    let service = Service::start_with(&database, log.clone(), &client, &env).await;
    let pool = sqlx::PgPool::connect(&database).await.expect("connect");
    let tenant =
        cx_reporting::auth::tenants::create(&pool, crate::crash::WEBHOOK_KEY, "slow bodies")
            .await
            .expect("a tenant");
    let claims = cx_reporting::auth::Claims {
        sub: "slow".into(),
        tid: tenant.tenant_id,
        roles: vec!["Ingest".into(), "Analytics".into()],
        exp: chrono::Utc::now().timestamp() + 3600,
        iat: None,
    };
    let token = cx_reporting::auth::mint(crate::helpers::JWT_SECRET, &claims).expect("mint");
    let address = service.base.trim_start_matches("http://").to_owned();
    let event = r#"[{"id": "slow-1", "type": "presence.changed", "occurredAt": "2026-01-01T10:00:00Z", "userId": "7d3c1c0e-8f4e-4a53-9a4e-2b0f2e1f0a11", "state": "Online"}]"#;

    // Stalls after half the body: 408 after the 1 s idle timeout (well
    // before the 30 s request timeout), with the body-timeout problem.
    for path in ["/ingest/v1/events", VIEW] {
        let mut stream = tokio::net::TcpStream::connect(&address)
            .await
            .expect("connect");
        let half = &event[..event.len() / 2];
        let started = Instant::now();
        (stream
            .write_all(&announced(path, &token, event.len(), half))
            .await)
            .expect("send");
        let (status, answer) = answer_of(&mut stream).await;
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "{path}: a stalled body held the connection {:?}",
            started.elapsed()
        );
        assert_eq!(status, Some(408), "{path}: {answer}");
        assert!(
            answer.contains("application/problem+json") && answer.contains("body-timeout"),
            "{path}: {answer}"
        );
    }
    // Cut short: the client closes its side mid-body.
    let mut stream = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connect");
    let cut = &event[..event.len() - 10];
    (stream
        .write_all(&announced("/ingest/v1/events", &token, event.len(), cut))
        .await)
        .expect("send");
    stream.shutdown().await.expect("close the sending side");
    let (status, answer) = answer_of(&mut stream).await;
    assert_eq!(status, Some(400), "a truncated body: {answer}");
    let stored: i64 = sqlx::query_scalar("select count(*) from events where tenant_id = $1")
        .bind(tenant.tenant_id)
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(stored, 0, "a body that never arrived whole stored events");
    // The service is still well.
    let ready = client.get(format!("{}/readyz", service.base)).send().await;
    assert_eq!(ready.expect("/readyz").status(), 200);
    service.kill().await;
    std::fs::remove_file(&log).ok();
}

/// PostgreSQL cannot store NUL in text or jsonb: a NUL in any string of a
/// request or an event is a 422 naming it, never a database error (a 500
/// Schemathesis found with `\u0000` in a data filter value).
#[tokio::test]
async fn a_nul_character_is_a_422_naming_its_field() {
    let app = TestApp::spawn().await;
    let mut filters = range();
    filters["data"] = json!([{"id": uuid::Uuid::new_v4(), "values": ["a\u{0}b"]}]);
    let problem = app
        .post(
            "/reporting/v1.2/interactions/state/by-date",
            &json!({"newState": ["Closed"], "filters": filters}),
        )
        .await
        .problem(422);
    assert_eq!(problem["errors"][0]["field"], "filters.data[0].values[0]");
    let view = json!({"filters": {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z",
        "data": [{"id": uuid::Uuid::new_v4(), "values": ["\u{0}"]}]}});
    let problem = app.post(VIEW, &view).await.problem(422);
    assert_eq!(problem["errors"][0]["field"], "filters.data[0].values[0]");
    let events = json!([
        {"id": "ok", "type": "presence.changed", "occurredAt": "2026-01-01T10:00:00Z",
         "userId": uuid::Uuid::new_v4(), "state": "Online"},
        {"id": "nul", "type": "interaction.state_changed", "occurredAt": "2026-01-01T10:00:00Z",
         "interactionId": "i1", "reference": "R\u{0}1", "channel": "Email", "newState": "Draft"},
    ]);
    let problem = app.post("/ingest/v1/events", &events).await.problem(422);
    assert_eq!(problem["errors"][0]["field"], "[1].reference", "{problem}");
    let stored: i64 = sqlx::query_scalar("select count(*) from events where tenant_id = $1")
        .bind(app.tenant.id)
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(stored, 0, "a refused batch stores nothing");
}
