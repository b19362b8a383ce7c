//! The CSV mirror: same numbers as JSON, RFC 4180, Accept rules.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::json;
use sqlx::{Connection, PgConnection};
use tower::ServiceExt;

use crate::errors::CapturedLogs;
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

/// Rows of the large view export, and the width of each one's reference
/// (enough bytes that most of the export is still unsent when the reader
/// pauses, whatever the socket buffers hold).
const MANY_ROWS: i64 = 100_000;
const REFERENCE_WIDTH: i32 = 150;

/// Stores `MANY_ROWS` state audits for the app's tenant, straight into the
/// table over a connection of the test's own (no statement timeout), one
/// every 100 ms from 2026-03-01T00:00:00Z.
async fn seed_many_audits(app: &TestApp) {
    let mut conn = PgConnection::connect(&app.state.config.database_url)
        .await
        .expect("connect");
    sqlx::query(
        "insert into interaction_audits \
           (tenant_id, event_id, interaction_id, reference, channel, new_state, occurred_at) \
         select $1, 'e' || lpad(g::text, 7, '0'), 'i' || g, repeat('r', $2) || g, 'Email', \
           'Closed', timestamptz '2026-03-01 00:00:00+00' + g * interval '100 milliseconds' \
         from generate_series(1, $3::bigint) g",
    )
    .bind(app.tenant.id)
    .bind(REFERENCE_WIDTH)
    .bind(MANY_ROWS)
    .execute(&mut conn)
    .await
    .expect("seed");
}

/// Starts the view export and reads it like a slow client: the first
/// 64 KiB, a pause (the export's statement keeps its clock running while
/// the database waits to send), then the rest. Returns the head and the
/// outcome of reading the rest.
async fn export_slowly(app: &TestApp, pause: Duration) -> (Vec<u8>, Result<Bytes, axum::Error>) {
    let body = json!({"filters": {"from": "2026-03-01T00:00:00Z", "to": "2026-03-02T00:00:00Z"}});
    let request = Request::builder()
        .method(Method::POST)
        .uri("/reporting/export/v1.2/view/interactions")
        .header("authorization", format!("Bearer {}", app.tenant.token))
        .header("content-type", "application/json")
        .body(Body::from(serde_json::to_vec(&body).expect("json")))
        .expect("request");
    let response = app
        .router
        .clone()
        .oneshot(request)
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    let mut head = Vec::new();
    while head.len() < 64 * 1024 {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    head.extend_from_slice(&data);
                }
            }
            Some(Err(e)) => return (head, Err(e)),
            None => break,
        }
    }
    tokio::time::sleep(pause).await;
    let rest = axum::body::to_bytes(body, usize::MAX).await;
    (head, rest)
}

#[tokio::test]
async fn a_view_export_outlives_the_short_statement_timeout_with_every_row() {
    let app = TestApp::spawn_with(|c| c.statement_timeout = Duration::from_millis(500)).await;
    seed_many_audits(&app).await;

    let (head, rest) = export_slowly(&app, Duration::from_millis(1200)).await;

    let rest = rest.expect("the whole export arrives");
    let csv = String::from_utf8([head, rest.to_vec()].concat()).expect("utf-8");
    let lines: Vec<&str> = csv.split_terminator("\r\n").collect();
    assert_eq!(lines.len() as i64, MANY_ROWS + 1, "a header and every row");
    assert_eq!(lines[0], "interactionId,reference,channel,timestamp");
    let reference = "r".repeat(REFERENCE_WIDTH as usize);
    assert_eq!(
        lines[1],
        format!("i1,{reference}1,Email,2026-03-01T00:00:00.100Z")
    );
    assert_eq!(
        lines[MANY_ROWS as usize],
        format!("i{MANY_ROWS},{reference}{MANY_ROWS},Email,2026-03-01T02:46:40.000Z")
    );
}

#[tokio::test]
async fn a_view_export_that_fails_mid_stream_is_a_failed_download_and_logged() {
    let app =
        TestApp::spawn_with(|c| c.export_statement_timeout = Duration::from_millis(200)).await;
    seed_many_audits(&app).await;
    let (logs, _guard) = CapturedLogs::start();

    let (head, rest) = export_slowly(&app, Duration::from_millis(600)).await;

    assert!(
        head.starts_with(b"interactionId,reference,channel,timestamp\r\n"),
        "the header row went out before the failure"
    );
    assert!(
        rest.is_err(),
        "a failed export must not read as a complete file ({} bytes more)",
        rest.map(|b| b.len()).unwrap_or_default()
    );
    let logged = logs.find("ERROR", "export stream failed; the download is cut short");
    assert_eq!(logged.len(), 1, "{:?}", logs.events());
    assert_eq!(logged[0]["fields"]["tenant"], app.tenant.id.to_string());
}

#[tokio::test]
async fn over_a_real_socket_a_failed_export_is_a_failed_download() {
    let app =
        TestApp::spawn_with(|c| c.export_statement_timeout = Duration::from_millis(200)).await;
    seed_many_audits(&app).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let router = app.router.clone();
    let server = tokio::spawn(async move { axum::serve(listener, router).await });

    let mut response = reqwest::Client::new()
        .post(format!(
            "http://{address}/reporting/export/v1.2/view/interactions"
        ))
        .bearer_auth(&app.tenant.token)
        .json(&json!({"filters": {"from": "2026-03-01T00:00:00Z", "to": "2026-03-02T00:00:00Z"}}))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    // Read like a slow client: a pause after the first 64 KiB.
    let mut received = 0;
    let mut paused = false;
    let outcome = loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                received += chunk.len();
                if !paused && received >= 64 * 1024 {
                    paused = true;
                    tokio::time::sleep(Duration::from_millis(600)).await;
                }
            }
            Ok(None) => break Ok(received),
            Err(e) => break Err(e),
        }
    };

    assert!(
        outcome.is_err(),
        "the client must see a failed download, not a complete-looking file of {received} bytes"
    );
    server.abort();
}
/// A strict RFC 4180 reader: records end in CRLF (the last one too), fields
/// are separated by commas, a field holding a comma, quote, CR or LF must be
/// quoted, and a quote inside a quoted field is doubled. Anything else (a
/// bare quote, a lone CR or LF outside quotes, text after a closing quote, an
/// unterminated quote, records of different widths) is an error.
fn parse_rfc4180(text: &str) -> Result<Vec<Vec<String>>, String> {
    let mut records: Vec<Vec<String>> = Vec::new();
    let mut record: Vec<String> = Vec::new();
    let mut chars = text.chars().peekable();
    let mut at = 0usize;
    while chars.peek().is_some() {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    None => return Err(format!("unterminated quoted field near char {at}")),
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                match c {
                    ',' | '\r' => break,
                    '"' => return Err(format!("bare quote in an unquoted field near char {at}")),
                    '\n' => return Err(format!("bare LF near char {at}")),
                    _ => {
                        field.push(c);
                        chars.next();
                    }
                }
            }
        }
        at += field.len();
        record.push(field);
        match chars.next() {
            Some(',') => {}
            Some('\r') => {
                if chars.next() != Some('\n') {
                    return Err(format!("CR without LF near char {at}"));
                }
                if let Some(first) = records.first() {
                    if first.len() != record.len() {
                        return Err(format!(
                            "record {} has {} fields, the header {}",
                            records.len(),
                            record.len(),
                            first.len()
                        ));
                    }
                }
                records.push(std::mem::take(&mut record));
            }
            Some(c) => return Err(format!("{c:?} after a field near char {at}")),
            None => return Err("the last record does not end in CRLF".into()),
        }
    }
    Ok(records)
}

#[test]
fn the_strict_reader_refuses_what_rfc_4180_refuses() {
    assert_eq!(
        parse_rfc4180("a,\"b\r\n\"\"c\"\", d\"\r\n1,2\r\n"),
        Ok(vec![
            vec!["a".to_owned(), "b\r\n\"c\", d".to_owned()],
            vec!["1".to_owned(), "2".to_owned()]
        ])
    );
    for bad in [
        "a,b\r\nx\ny,z\r\n",   // a newline outside quotes
        "a,b\r\nx\"y,z\r\n",   // a bare quote
        "a,b\r\n\"x\"y,z\r\n", // text after the closing quote
        "a,b\r\n\"x,z\r\n",    // unterminated
        "a,b\r\n1\r\n",        // a short record
        "a,b\r\n1,2",          // no final CRLF
        "a,b\r1,2\r\n",        // CR without LF
    ] {
        assert!(parse_rfc4180(bad).is_err(), "{bad:?} must be refused");
    }
}

#[tokio::test]
async fn group_names_with_newlines_commas_and_quotes_round_trip_through_csv() {
    let app = TestApp::spawn().await;
    const Q2: &str = "22222222-2222-4222-8222-222222222222";
    let tricky = "Support, \"Tier 1\"\nnights\r\nand weekends";
    // A newline alone must be quoted too.
    let night = "Night\nshift";
    app.ingest(&json!([
        {"id": "dq1", "type": "directory.queue", "occurredAt": "2025-01-01T00:00:00Z", "queueId": Q1, "name": tricky},
        {"id": "dq2", "type": "directory.queue", "occurredAt": "2025-01-01T00:00:00Z", "queueId": Q2, "name": night},
        audit_with("a", "i1", "2026-01-01T10:00:00Z", Some("Queued"), "Closed", json!({"queueId": Q1})),
        audit_with("b", "i2", "2026-01-01T11:00:00Z", Some("Queued"), "Closed", json!({"queueId": Q1})),
        audit_with("c", "i3", "2026-01-01T12:00:00Z", Some("Queued"), "Closed", json!({"queueId": Q2})),
    ]))
    .await;
    let filters =
        json!({"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "queues": [Q1, Q2]});
    let body = json!({"newState": ["Closed"], "filters": filters});
    // JSON first: the name is served as ingested.
    let json = app
        .report("interactions/state/count/by-queues", &body)
        .await;
    assert_eq!(
        json,
        json!({"groups": [{"key": Q1, "name": tricky, "count": 2}, {"key": Q2, "name": night, "count": 1}]})
    );
    let csv = app
        .export("interactions/state/count/by-queues", &body)
        .await;
    let records = parse_rfc4180(&csv).unwrap_or_else(|e| panic!("{e}: {csv:?}"));
    assert_eq!(
        records,
        vec![
            vec!["group", "groupName", "count"],
            vec![Q1, tricky, "2"],
            vec![Q2, night, "1"],
        ]
    );
    // By date: one record per group x bucket, the name in each.
    let mut by_date = body.clone();
    by_date["filters"]["groupBy"] = json!("Day");
    let csv = app
        .export("interactions/state/by-date/by-queues", &by_date)
        .await;
    let records = parse_rfc4180(&csv).unwrap_or_else(|e| panic!("{e}: {csv:?}"));
    assert_eq!(
        records,
        vec![
            vec!["group", "groupName", "bucketStart", "bucketEnd", "count"],
            vec![
                Q1,
                tricky,
                "2026-01-01T00:00:00Z",
                "2026-01-02T00:00:00Z",
                "2"
            ],
            vec![
                Q2,
                night,
                "2026-01-01T00:00:00Z",
                "2026-01-02T00:00:00Z",
                "1"
            ],
        ]
    );
}
