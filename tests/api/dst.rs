//! By-date buckets in IANA zones: DST days in Europe/Berlin, +05:30, +05:45,
//! ISO weeks and months.

use serde_json::{json, Value};

use crate::helpers::{audit, TestApp};

fn closed(id: &str, at: &str) -> Value {
    audit(id, id, at, Some("Assigned"), "Closed")
}

async fn by_date(app: &TestApp, zone: &str, group_by: &str, from: &str, to: &str) -> Value {
    app.report(
        "interactions/state/by-date",
        &json!({"newState": ["Closed"], "timeZone": zone, "filters": {"from": from, "to": to, "groupBy": group_by}}),
    )
    .await
}

fn starts_and_counts(answer: &Value) -> Vec<(String, i64)> {
    answer["buckets"]
        .as_array()
        .expect("buckets")
        .iter()
        .map(|b| {
            (
                b["start"].as_str().expect("start").to_owned(),
                b["count"].as_i64().expect("count"),
            )
        })
        .collect()
}

/// Every bucket as (start, end, count).
fn buckets_of(answer: &Value) -> Vec<(String, String, i64)> {
    answer["buckets"]
        .as_array()
        .expect("buckets")
        .iter()
        .map(|b| {
            (
                b["start"].as_str().expect("start").to_owned(),
                b["end"].as_str().expect("end").to_owned(),
                b["count"].as_i64().expect("count"),
            )
        })
        .collect()
}

/// `(start, end, count)` rows written out by hand.
fn rows(list: &[(&str, &str, i64)]) -> Vec<(String, String, i64)> {
    list.iter()
        .map(|(s, e, c)| ((*s).to_owned(), (*e).to_owned(), *c))
        .collect()
}

#[tokio::test]
async fn berlin_spring_forward_day_has_23_hours() {
    let app = TestApp::spawn().await;
    // 00:30Z = 01:30 CET; 01:30Z = 03:30 CEST (02:00-03:00 local does not exist).
    app.ingest(&json!([
        closed("before", "2026-03-28T22:59:59Z"), // 23:59:59 CET on the 28th: outside
        closed("first", "2026-03-28T23:00:00Z"),  // 00:00 CET: the first instant
        closed("a", "2026-03-29T00:30:00Z"),
        closed("b", "2026-03-29T01:30:00Z"),
        closed("b2", "2026-03-29T01:59:59Z"),   // 03:59:59 CEST
        closed("noon", "2026-03-29T10:00:00Z"), // 12:00 CEST
        closed("c", "2026-03-29T21:59:59Z"),
        closed("at-to", "2026-03-29T22:00:00Z"), // 00:00 CEST on the 30th: `to` is excluded
    ]))
    .await;
    let hours = by_date(
        &app,
        "Europe/Berlin",
        "Hour",
        "2026-03-28T23:00:00Z",
        "2026-03-29T22:00:00Z",
    )
    .await;
    let expected = rows(&[
        ("2026-03-29T00:00:00+01:00", "2026-03-29T01:00:00+01:00", 1),
        ("2026-03-29T01:00:00+01:00", "2026-03-29T03:00:00+02:00", 1),
        ("2026-03-29T03:00:00+02:00", "2026-03-29T04:00:00+02:00", 2),
        ("2026-03-29T04:00:00+02:00", "2026-03-29T05:00:00+02:00", 0),
        ("2026-03-29T05:00:00+02:00", "2026-03-29T06:00:00+02:00", 0),
        ("2026-03-29T06:00:00+02:00", "2026-03-29T07:00:00+02:00", 0),
        ("2026-03-29T07:00:00+02:00", "2026-03-29T08:00:00+02:00", 0),
        ("2026-03-29T08:00:00+02:00", "2026-03-29T09:00:00+02:00", 0),
        ("2026-03-29T09:00:00+02:00", "2026-03-29T10:00:00+02:00", 0),
        ("2026-03-29T10:00:00+02:00", "2026-03-29T11:00:00+02:00", 0),
        ("2026-03-29T11:00:00+02:00", "2026-03-29T12:00:00+02:00", 0),
        ("2026-03-29T12:00:00+02:00", "2026-03-29T13:00:00+02:00", 1),
        ("2026-03-29T13:00:00+02:00", "2026-03-29T14:00:00+02:00", 0),
        ("2026-03-29T14:00:00+02:00", "2026-03-29T15:00:00+02:00", 0),
        ("2026-03-29T15:00:00+02:00", "2026-03-29T16:00:00+02:00", 0),
        ("2026-03-29T16:00:00+02:00", "2026-03-29T17:00:00+02:00", 0),
        ("2026-03-29T17:00:00+02:00", "2026-03-29T18:00:00+02:00", 0),
        ("2026-03-29T18:00:00+02:00", "2026-03-29T19:00:00+02:00", 0),
        ("2026-03-29T19:00:00+02:00", "2026-03-29T20:00:00+02:00", 0),
        ("2026-03-29T20:00:00+02:00", "2026-03-29T21:00:00+02:00", 0),
        ("2026-03-29T21:00:00+02:00", "2026-03-29T22:00:00+02:00", 0),
        ("2026-03-29T22:00:00+02:00", "2026-03-29T23:00:00+02:00", 0),
        ("2026-03-29T23:00:00+02:00", "2026-03-30T00:00:00+02:00", 1),
    ]);
    assert_eq!(expected.len(), 23);
    assert_eq!(buckets_of(&hours), expected);
    assert_eq!(hours["groupBy"], "Hour");
    assert_eq!(hours["timeZone"], "Europe/Berlin");
    // The total: first, a, b, b2, noon, c (not `before`, not `at-to`).
    let total: i64 = buckets_of(&hours).iter().map(|b| b.2).sum();
    assert_eq!(total, 6);
    let count = app
        .report(
            "interactions/state/count",
            &json!({"newState": ["Closed"], "filters": {"from": "2026-03-28T23:00:00Z", "to": "2026-03-29T22:00:00Z"}}),
        )
        .await;
    assert_eq!(count, json!({"count": 6}));

    let days = by_date(
        &app,
        "Europe/Berlin",
        "Day",
        "2026-03-28T23:00:00Z",
        "2026-03-30T22:00:00Z",
    )
    .await;
    assert_eq!(
        days["buckets"],
        json!([
            {"start": "2026-03-29T00:00:00+01:00", "end": "2026-03-30T00:00:00+02:00", "count": 6},
            {"start": "2026-03-30T00:00:00+02:00", "end": "2026-03-31T00:00:00+02:00", "count": 1},
        ])
    );
}

#[tokio::test]
async fn berlin_fall_back_day_has_25_hours_and_the_repeated_hour_twice() {
    let app = TestApp::spawn().await;
    // 00:30Z = 02:30 CEST and 01:30Z = 02:30 CET: the same wall-clock time.
    app.ingest(&json!([
        closed("a", "2026-10-25T00:30:00Z"),
        closed("b", "2026-10-25T01:30:00Z"),
        closed("c", "2026-10-25T01:45:00Z"),
        closed("first", "2026-10-24T22:00:00Z"), // 00:00 CEST
        closed("last", "2026-10-25T21:59:59Z"),  // 22:59:59 CET
    ]))
    .await;
    let hours = by_date(
        &app,
        "Europe/Berlin",
        "Hour",
        "2026-10-24T22:00:00Z",
        "2026-10-25T22:00:00Z",
    )
    .await;
    let expected = rows(&[
        ("2026-10-25T00:00:00+02:00", "2026-10-25T01:00:00+02:00", 1),
        ("2026-10-25T01:00:00+02:00", "2026-10-25T02:00:00+02:00", 0),
        ("2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00", 1),
        ("2026-10-25T02:00:00+01:00", "2026-10-25T03:00:00+01:00", 2),
        ("2026-10-25T03:00:00+01:00", "2026-10-25T04:00:00+01:00", 0),
        ("2026-10-25T04:00:00+01:00", "2026-10-25T05:00:00+01:00", 0),
        ("2026-10-25T05:00:00+01:00", "2026-10-25T06:00:00+01:00", 0),
        ("2026-10-25T06:00:00+01:00", "2026-10-25T07:00:00+01:00", 0),
        ("2026-10-25T07:00:00+01:00", "2026-10-25T08:00:00+01:00", 0),
        ("2026-10-25T08:00:00+01:00", "2026-10-25T09:00:00+01:00", 0),
        ("2026-10-25T09:00:00+01:00", "2026-10-25T10:00:00+01:00", 0),
        ("2026-10-25T10:00:00+01:00", "2026-10-25T11:00:00+01:00", 0),
        ("2026-10-25T11:00:00+01:00", "2026-10-25T12:00:00+01:00", 0),
        ("2026-10-25T12:00:00+01:00", "2026-10-25T13:00:00+01:00", 0),
        ("2026-10-25T13:00:00+01:00", "2026-10-25T14:00:00+01:00", 0),
        ("2026-10-25T14:00:00+01:00", "2026-10-25T15:00:00+01:00", 0),
        ("2026-10-25T15:00:00+01:00", "2026-10-25T16:00:00+01:00", 0),
        ("2026-10-25T16:00:00+01:00", "2026-10-25T17:00:00+01:00", 0),
        ("2026-10-25T17:00:00+01:00", "2026-10-25T18:00:00+01:00", 0),
        ("2026-10-25T18:00:00+01:00", "2026-10-25T19:00:00+01:00", 0),
        ("2026-10-25T19:00:00+01:00", "2026-10-25T20:00:00+01:00", 0),
        ("2026-10-25T20:00:00+01:00", "2026-10-25T21:00:00+01:00", 0),
        ("2026-10-25T21:00:00+01:00", "2026-10-25T22:00:00+01:00", 0),
        ("2026-10-25T22:00:00+01:00", "2026-10-25T23:00:00+01:00", 1),
    ]);
    assert_eq!(expected.len(), 24, "24 hours: 22:00Z to 22:00Z");
    assert_eq!(buckets_of(&hours), expected);
    let total: i64 = buckets_of(&hours).iter().map(|b| b.2).sum();
    assert_eq!(total, 5);
    let day = by_date(
        &app,
        "Europe/Berlin",
        "Day",
        "2026-10-24T22:00:00Z",
        "2026-10-25T23:00:00Z",
    )
    .await;
    assert_eq!(
        day["buckets"],
        json!([{"start": "2026-10-25T00:00:00+02:00", "end": "2026-10-26T00:00:00+01:00", "count": 5}])
    );
    // The full 25-hour local day needs a 25-hour range: over the Hour limit.
    let over = app
        .post("/reporting/v1.2/interactions/state/by-date", &json!({"newState": ["Closed"], "timeZone": "Europe/Berlin",
            "filters": {"from": "2026-10-24T22:00:00Z", "to": "2026-10-25T23:00:00Z", "groupBy": "Hour"}}))
        .await;
    over.problem(422);
}

#[tokio::test]
async fn kolkata_days_start_at_18_30_utc() {
    let app = TestApp::spawn().await;
    // 18:29Z = 23:59 IST on Jan 1; 18:30Z = 00:00 IST on Jan 2.
    app.ingest(&json!([
        closed("a", "2026-01-01T18:29:00Z"),
        closed("b", "2026-01-01T18:30:00Z"),
        closed("c", "2026-01-01T00:00:00Z")
    ]))
    .await;
    let days = by_date(
        &app,
        "Asia/Kolkata",
        "Day",
        "2026-01-01T00:00:00Z",
        "2026-01-03T00:00:00Z",
    )
    .await;
    assert_eq!(
        days["buckets"],
        json!([
            {"start": "2026-01-01T00:00:00+05:30", "end": "2026-01-02T00:00:00+05:30", "count": 2},
            {"start": "2026-01-02T00:00:00+05:30", "end": "2026-01-03T00:00:00+05:30", "count": 1},
            {"start": "2026-01-03T00:00:00+05:30", "end": "2026-01-04T00:00:00+05:30", "count": 0},
        ])
    );
}

#[tokio::test]
async fn kathmandu_hours_start_at_quarter_past_utc() {
    let app = TestApp::spawn().await;
    // 00:14Z = 05:59 NPT; 00:15Z = 06:00 NPT.
    app.ingest(&json!([
        closed("a", "2026-01-01T00:14:00Z"),
        closed("b", "2026-01-01T00:15:00Z"),
        closed("c", "2026-01-01T01:14:59Z")
    ]))
    .await;
    let hours = by_date(
        &app,
        "Asia/Kathmandu",
        "Hour",
        "2026-01-01T00:00:00Z",
        "2026-01-01T02:00:00Z",
    )
    .await;
    assert_eq!(
        hours["buckets"],
        json!([
            {"start": "2026-01-01T05:00:00+05:45", "end": "2026-01-01T06:00:00+05:45", "count": 1},
            {"start": "2026-01-01T06:00:00+05:45", "end": "2026-01-01T07:00:00+05:45", "count": 2},
            {"start": "2026-01-01T07:00:00+05:45", "end": "2026-01-01T08:00:00+05:45", "count": 0},
        ])
    );
}

#[tokio::test]
async fn weeks_start_on_monday_and_months_on_the_first_in_the_zone() {
    let app = TestApp::spawn().await;
    app.ingest(&json!([
        closed("sun", "2026-03-08T22:59:59Z"), // Sunday 23:59:59 CET: week of Mar 2
        closed("mon", "2026-03-08T23:00:00Z"), // Monday 00:00 CET: week of Mar 9
        closed("feb", "2026-02-28T22:59:59Z"), // Feb 28 23:59:59 CET
        closed("mar", "2026-02-28T23:00:00Z"), // Mar 1 00:00 CET
    ]))
    .await;
    let weeks = by_date(
        &app,
        "Europe/Berlin",
        "Week",
        "2026-03-04T00:00:00Z",
        "2026-03-20T00:00:00Z",
    )
    .await;
    assert_eq!(
        starts_and_counts(&weeks),
        vec![
            ("2026-03-02T00:00:00+01:00".to_owned(), 1),
            ("2026-03-09T00:00:00+01:00".to_owned(), 1),
            ("2026-03-16T00:00:00+01:00".to_owned(), 0),
        ]
    );
    let months = by_date(
        &app,
        "Europe/Berlin",
        "Month",
        "2026-02-01T00:00:00Z",
        "2026-04-15T00:00:00Z",
    )
    .await;
    assert_eq!(
        months["buckets"],
        json!([
            {"start": "2026-02-01T00:00:00+01:00", "end": "2026-03-01T00:00:00+01:00", "count": 1},
            {"start": "2026-03-01T00:00:00+01:00", "end": "2026-04-01T00:00:00+02:00", "count": 3},
            {"start": "2026-04-01T00:00:00+02:00", "end": "2026-05-01T00:00:00+02:00", "count": 0},
        ])
    );
}
