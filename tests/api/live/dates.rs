//! Live tiles by date: Berlin across the March change (days and hours)
//! and Asia/Kathmandu (+05:45).

use serde_json::{json, Value};

use super::{conv, started, ACC_V, ACC_W};
use crate::helpers::TestApp;

/// By-date bodies in `zone`.
fn by_date(channel: &str, from: &str, to: &str, group_by: &str, zone: &str) -> Value {
    json!({"newState": ["Closed"], "timeZone": zone,
        "filters": {"from": from, "to": to, "groupBy": group_by, "channel": channel}})
}

#[tokio::test]
async fn by_date_across_the_march_change_in_berlin_and_in_kathmandu() {
    let app = TestApp::spawn().await;
    let ended = |n: usize, end: &str| {
        vec![
            started(
                &format!("d{n}-s"),
                &format!("d{n}"),
                "2026-03-01T00:00:00Z",
                "WebChat",
                json!({"accountId": ACC_W}),
            ),
            conv(
                &format!("d{n}-e"),
                "ended",
                &format!("d{n}"),
                end,
                json!({}),
            ),
        ]
    };
    let events: Vec<Value> = [
        ended(1, "2026-03-28T22:59:00Z"), // Sat 28, 23:59 +01:00
        ended(2, "2026-03-28T23:30:00Z"), // Sun 29, 00:30 +01:00
        ended(3, "2026-03-29T01:30:00Z"), // Sun 29, 03:30 +02:00
        ended(4, "2026-03-29T21:59:00Z"), // Sun 29, 23:59 +02:00
        ended(5, "2026-03-29T22:30:00Z"), // Mon 30, 00:30 +02:00
        ended(6, "2026-03-10T18:14:00Z"), // Kathmandu: 23:59 on the 10th
        ended(7, "2026-03-10T18:15:00Z"), // Kathmandu: 00:00 on the 11th
    ]
    .concat();
    app.ingest(&Value::Array(events)).await;

    let totals = |answer: &Value| -> Vec<(String, String, i64)> {
        answer["buckets"]
            .as_array()
            .expect("buckets")
            .iter()
            .map(|b| {
                (
                    b["start"].as_str().expect("start").to_owned(),
                    b["end"].as_str().expect("end").to_owned(),
                    b["total"].as_i64().expect("total"),
                )
            })
            .collect()
    };
    let s = |a: &str, b: &str, n: i64| (a.to_owned(), b.to_owned(), n);
    let days = app
        .report(
            "conversations/live/by-date",
            &by_date(
                "WebChat",
                "2026-03-28T00:00:00+01:00",
                "2026-03-31T00:00:00+02:00",
                "Day",
                "Europe/Berlin",
            ),
        )
        .await;
    assert_eq!(days["groupBy"], "Day");
    assert_eq!(days["timeZone"], "Europe/Berlin");
    assert_eq!(
        totals(&days),
        vec![
            s("2026-03-28T00:00:00+01:00", "2026-03-29T00:00:00+01:00", 1),
            s("2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 3),
            s("2026-03-30T00:00:00+02:00", "2026-03-31T00:00:00+02:00", 1),
        ]
    );
    assert_eq!(days["buckets"][1]["abandonedByCustomer"], 3);
    // Hours: the skipped 02:00 is no bucket.
    let hours = app
        .report(
            "conversations/live/by-date",
            &by_date(
                "WebChat",
                "2026-03-29T00:00:00+01:00",
                "2026-03-29T05:00:00+02:00",
                "Hour",
                "Europe/Berlin",
            ),
        )
        .await;
    assert_eq!(
        totals(&hours),
        vec![
            s("2026-03-29T00:00:00+01:00", "2026-03-29T01:00:00+01:00", 1),
            s("2026-03-29T01:00:00+01:00", "2026-03-29T03:00:00+02:00", 0),
            s("2026-03-29T03:00:00+02:00", "2026-03-29T04:00:00+02:00", 1),
            s("2026-03-29T04:00:00+02:00", "2026-03-29T05:00:00+02:00", 0),
        ]
    );
    let mut grouped = by_date(
        "WebChat",
        "2026-03-10T00:00:00+05:45",
        "2026-03-12T00:00:00+05:45",
        "Day",
        "Asia/Kathmandu",
    );
    grouped["accounts"] = json!([ACC_W, ACC_V]);
    let kathmandu = app
        .report(
            "conversations/live/by-date/by-accounts/percentages",
            &grouped,
        )
        .await;
    assert_eq!(
        kathmandu,
        json!({"groupBy": "Day", "timeZone": "Asia/Kathmandu", "groups": [
            {"key": ACC_W, "buckets": [
                {"start": "2026-03-10T00:00:00+05:45", "end": "2026-03-11T00:00:00+05:45", "total": 1,
                    "abandonedByCustomer": 100.0, "abandonedByOperator": 0.0, "handled": 0.0},
                {"start": "2026-03-11T00:00:00+05:45", "end": "2026-03-12T00:00:00+05:45", "total": 1,
                    "abandonedByCustomer": 100.0, "abandonedByOperator": 0.0, "handled": 0.0},
            ]},
            {"key": ACC_V, "buckets": [
                {"start": "2026-03-10T00:00:00+05:45", "end": "2026-03-11T00:00:00+05:45", "total": 0,
                    "abandonedByCustomer": null, "abandonedByOperator": null, "handled": null},
                {"start": "2026-03-11T00:00:00+05:45", "end": "2026-03-12T00:00:00+05:45", "total": 0,
                    "abandonedByCustomer": null, "abandonedByOperator": null, "handled": null},
            ]},
        ]})
    );
}
