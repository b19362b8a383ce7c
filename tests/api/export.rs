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
