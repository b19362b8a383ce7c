//! The planner's two paths (rollups and raw rows) give identical answers,
//! for count and duration tiles, in every zone, across DST days, with late
//! and duplicate events.

use axum::body::Body;
use axum::http::Request;
use axum::Router;
use cx_reporting::state::AppState;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::helpers::TestApp;
use crate::messages::{Q1, Q2};

const CHANNELS: [&str; 4] = ["Email", "SMS", "WebChat", "Voice"];
const STATES: [&str; 4] = ["Queued", "Assigned", "Closed", "Created"];
/// Events may name the nil UUID as their queue.
const NIL: &str = "00000000-0000-0000-0000-000000000000";
const ZONES: [&str; 5] = [
    "UTC",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "America/New_York",
];

/// Events around the Berlin DST change of 2026-03-29, minutes apart.
fn events() -> impl Strategy<Value = Vec<Value>> {
    let one = (
        0i64..(3 * 24 * 60),
        0..CHANNELS.len(),
        0..STATES.len(),
        0..4usize,
        any::<bool>(),
        0..3usize,
    );
    prop::collection::vec(one, 1..60).prop_map(|items| {
        items
            .into_iter()
            .enumerate()
            .map(|(n, (minute, channel, state, queue, message, old))| {
                // A third exactly on quarter hours, the edges of segments.
                let (minute, second) = if n % 3 == 0 {
                    (minute / 15 * 15, 0)
                } else {
                    (minute, (n % 7) as i64 * 13)
                };
                let at = chrono::DateTime::parse_from_rfc3339("2026-03-28T00:00:00Z").expect("t")
                    + chrono::Duration::minutes(minute)
                    + chrono::Duration::seconds(second);
                let queue = [Value::Null, json!(Q1), json!(Q2), json!(NIL)][queue].clone();
                if message {
                    json!({"id": format!("m{n}"), "type": "message.created", "occurredAt": at.to_rfc3339(),
                        "interactionId": format!("i{}", n % 5), "direction": if n % 2 == 0 { "Inbound" } else { "Outbound" },
                        "channel": CHANNELS[channel], "queueId": queue})
                } else {
                    let old_state = [Value::Null, json!("Queued"), json!("Draft")][old].clone();
                    json!({"id": format!("a{n}"), "type": "interaction.state_changed", "occurredAt": at.to_rfc3339(),
                        "interactionId": format!("i{}", n % 5), "reference": "r", "channel": CHANNELS[channel],
                        "oldState": old_state, "newState": STATES[state], "queueId": queue})
                }
            })
            .collect()
    })
}

/// A request: tile, zone, granularity, range start/length, filters.
fn question() -> impl Strategy<Value = (String, Value)> {
    let tiles = prop::sample::select(vec![
        "interactions/state/count",
        "interactions/state/by-date",
        "interactions/state/count/by-channels",
        "interactions/state/by-date/by-channels",
        "interactions/state/count/by-queues",
        "interactions/state/by-date/by-queues",
        "messages/volume/count",
        "messages/volume/by-date/by-channels",
        "messages/volume/by-date/by-queues",
    ]);
    (
        tiles,
        prop::sample::select(ZONES.to_vec()),
        prop::sample::select(vec!["Hour", "Day", "Week", "Month"]),
        // Start: quarter hours (rollup-aligned) or odd minutes (raw).
        (0i64..(2 * 24 * 4), any::<bool>()),
        1i64..(3 * 24 * 4),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(tile, zone, group_by, (start, odd), length, channel_filter, queue_filter)| {
                let base = chrono::DateTime::parse_from_rfc3339("2026-03-28T00:00:00Z").expect("t");
                let from = base + chrono::Duration::minutes(start * 15 + if odd { 7 } else { 0 });
                // Up to 3 days, so whole UTC days and hours are read at their grain;
                // Hour buckets stay within their 24-hour limit.
                let length = if group_by == "Hour" {
                    length % (24 * 4) + 1
                } else {
                    length
                };
                let to = from + chrono::Duration::minutes(length * 15);
                let mut filters = json!({"from": from.to_rfc3339(), "to": to.to_rfc3339()});
                if tile.contains("by-date") {
                    filters["groupBy"] = json!(group_by);
                }
                if tile.contains("by-channels") || channel_filter {
                    filters["channels"] = json!(["SMS", "Email", "Telegram"]);
                }
                if tile.contains("by-queues") || queue_filter {
                    filters["queues"] = json!([Q2, Q1]);
                }
                let mut body = json!({"timeZone": zone, "filters": filters});
                if tile.starts_with("messages") {
                    body["direction"] = json!(if start % 2 == 0 {
                        "Inbound"
                    } else {
                        "Outbound"
                    });
                } else {
                    body["newState"] = json!(["Closed", "Queued"]);
                    if start % 3 == 0 {
                        body["oldState"] = json!(["Queued"]);
                    }
                }
                (tile.to_owned(), body)
            },
        )
}

async fn ask(router: &Router, token: &str, tile: &str, body: &Value) -> (Value, String) {
    let request = Request::post(format!("/reporting/v1.2/{tile}"))
        .header("authorization", format!("Bearer {token}"))
        .header("cache-control", "no-cache")
        .body(Body::from(serde_json::to_vec(body).expect("json")))
        .expect("request");
    let response = router.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let plan = response
        .headers()
        .get("x-query-plan")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    assert_eq!(
        status,
        200,
        "{tile} {body}: {}",
        String::from_utf8_lossy(&bytes)
    );
    (serde_json::from_slice(&bytes).expect("json"), plan)
}

/// Generates cases of (events, questions); for each, ingests `early(events)`
/// then every event (late events and duplicates), asks each question of the
/// planner and of a router without rollups, and checks the answers are the
/// same. Returns how many answers the rollups served.
fn compare_paths(
    events: impl Strategy<Value = Vec<Value>>,
    question: impl Strategy<Value = (String, Value)>,
    early: fn(&[Value]) -> Vec<Value>,
) -> usize {
    let (runtime, app) = TestApp::spawn_blocking();
    let mut raw_config = (*app.state.config).clone();
    raw_config.rollups = false;
    let raw_router = cx_reporting::app(AppState::new(app.pool.clone(), raw_config));
    let mut runner = TestRunner::new(Config {
        cases: 16,
        failure_persistence: None,
        ..Config::default()
    });
    let served_by_rollup = std::sync::atomic::AtomicUsize::new(0);
    runner
        .run(
            &(events, prop::collection::vec(question, 8)),
            |(events, questions)| {
                runtime.block_on(async {
                    let tenant = app.new_tenant("case").await;
                    app.ingest_as(&tenant, &Value::Array(early(&events))).await;
                    app.ingest_as(&tenant, &Value::Array(events.clone())).await;
                    for (tile, body) in &questions {
                        let (rolled, plan) = ask(&app.router, &tenant.token, tile, body).await;
                        let (raw, raw_plan) = ask(&raw_router, &tenant.token, tile, body).await;
                        prop_assert_eq!(raw_plan.as_str(), "raw");
                        if plan == "rollup" {
                            served_by_rollup.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        prop_assert_eq!(&rolled, &raw, "{} {}", tile, body);
                    }
                    Ok(())
                })
            },
        )
        .expect("rollup = raw");
    served_by_rollup.into_inner()
}

#[test]
fn rollup_and_raw_paths_give_identical_answers() {
    // The second half first, then everything.
    let served = compare_paths(events(), question(), |events| {
        events[events.len() / 2..].to_vec()
    });
    assert!(served > 20, "the rollup path must actually be exercised");
}

/// Audits and messages of four interactions over three days around the
/// Berlin DST change, with millisecond (and some microsecond) times, in
/// random transitions: queue, IVR and response times of every shape,
/// including equal values and values past the last bin's 15.1 h.
fn timed_events() -> impl Strategy<Value = Vec<Value>> {
    const PAIRS: [(&str, &str); 8] = [
        ("Draft", "Created"),
        ("Created", "Automation"),
        ("Automation", "Queued"),
        ("Created", "Queued"),
        ("Queued", "Queued"),
        ("Queued", "Assigned"),
        ("Assigned", "Closed"),
        ("Automation", "Closed"),
    ];
    let one = (
        0i64..(3 * 24 * 60),
        0..PAIRS.len(),
        0..4usize,
        0..4usize,
        0i64..3_000_000,
    );
    prop::collection::vec(one, 1..70).prop_map(|items| {
        items
            .into_iter()
            .enumerate()
            .map(|(n, (minute, pair, queue, kind, micros))| {
                // Whole minutes for a third of the events, so values repeat.
                let micros = match micros % 3 {
                    0 => 0,
                    1 => micros / 1000 * 1000,
                    _ => micros,
                };
                let at = chrono::DateTime::parse_from_rfc3339("2026-03-28T00:00:00Z").expect("t")
                    + chrono::Duration::minutes(minute)
                    + chrono::Duration::microseconds(micros);
                let at = at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
                let queue = [Value::Null, json!(Q1), json!(Q2), json!(NIL)][queue].clone();
                let interaction = format!("i{}", n % 4);
                if kind == 0 {
                    let (old, new) = PAIRS[pair];
                    json!({"id": format!("a{n}"), "type": "interaction.state_changed", "occurredAt": at,
                        "interactionId": interaction, "reference": "r", "channel": CHANNELS[n % 4],
                        "oldState": old, "newState": new, "queueId": queue})
                } else {
                    json!({"id": format!("m{n}"), "type": "message.created", "occurredAt": at,
                        "interactionId": interaction, "direction": if kind == 1 { "Inbound" } else { "Outbound" },
                        "automated": kind == 3 && n % 2 == 0,
                        "channel": CHANNELS[n % 4], "queueId": queue})
                }
            })
            .collect()
    })
}

/// A duration question: tile, zone, granularity, range, filters.
fn duration_question() -> impl Strategy<Value = (String, Value)> {
    let tiles = prop::sample::select(vec![
        "interactions/queue-time/count/by-queues",
        "interactions/queue-time/by-date/by-queues",
        "interactions/ivr-time/count/by-queues",
        "interactions/ivr-time/by-date/by-queues",
        "messages/response-times/count",
        "messages/response-times/by-date",
        "messages/response-times/count",
        "messages/response-times/by-date",
        "messages/response-times/count/by-queues",
        "messages/response-times/by-date/by-queues",
    ]);
    (
        tiles,
        prop::sample::select(ZONES.to_vec()),
        prop::sample::select(vec!["Hour", "Day", "Week", "Month"]),
        // Start: hours (rollup-aligned), or quarter hours (raw).
        (0i64..(2 * 24 * 4), any::<bool>()),
        1i64..(3 * 24),
        // 1: a queue filter, 2: a channel filter (raw), else none.
        0..4usize,
    )
        .prop_map(|(tile, zone, group_by, (start, quarter), hours, filter)| {
            let base = chrono::DateTime::parse_from_rfc3339("2026-03-28T00:00:00Z").expect("t");
            let from =
                base + chrono::Duration::minutes(if quarter { start * 15 } else { start / 4 * 60 });
            let hours = if group_by == "Hour" {
                hours % 24 + 1
            } else {
                hours
            };
            let to = from + chrono::Duration::hours(hours);
            let mut filters = json!({"from": from.to_rfc3339(), "to": to.to_rfc3339()});
            if tile.contains("by-date") {
                filters["groupBy"] = json!(group_by);
            }
            if tile.contains("by-queues") || filter == 1 {
                filters["queues"] = json!([Q2, Q1]);
            }
            if filter == 2 {
                filters["channels"] = json!(["SMS", "Email"]);
            }
            let mut body = json!({"timeZone": zone, "filters": filters});
            if tile.starts_with("messages") {
                body["responseTime"] = json!(if start % 2 == 0 {
                    "AdvisorResponseTime"
                } else {
                    "OriginatorWaitTime"
                });
            }
            (tile.to_owned(), body)
        })
}

#[test]
fn duration_rollups_and_raw_rows_give_identical_answers() {
    // Every other event of each interaction (ids cycle through four
    // interactions) first, then everything: the late half changes times
    // already rolled up.
    let served = compare_paths(timed_events(), duration_question(), |events| {
        events
            .iter()
            .enumerate()
            .filter(|(n, _)| (n / 4) % 2 == 1)
            .map(|(_, e)| e.clone())
            .collect()
    });
    assert!(
        served > 20,
        "the duration rollups must actually be exercised"
    );
}

#[tokio::test]
async fn planner_uses_rollups_only_where_they_are_exact() {
    let app = TestApp::spawn().await;
    let aligned = json!({"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"});
    let odd = json!({"from": "2026-01-01T00:07:00Z", "to": "2026-01-02T00:00:00Z"});
    let data = json!({"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z",
        "data": [{"id": "12345678-1234-4234-8234-123456789012"}]});
    // Durations: whole UTC hours, no channel filter.
    let hours = json!({"from": "2026-01-01T05:00:00Z", "to": "2026-01-02T00:00:00Z", "queues": [crate::messages::Q1]});
    let quarter = json!({"from": "2026-01-01T05:15:00Z", "to": "2026-01-02T00:00:00Z", "queues": [crate::messages::Q1]});
    let channel = json!({"from": "2026-01-01T05:00:00Z", "to": "2026-01-02T00:00:00Z", "queues": [crate::messages::Q1], "channels": ["SMS"]});
    let cases = [
        (
            "interactions/state/count",
            json!({"newState": ["Closed"], "filters": aligned}),
            "rollup",
        ),
        (
            "interactions/state/count",
            json!({"newState": ["Closed"], "filters": odd}),
            "raw",
        ),
        (
            "interactions/state/count",
            json!({"newState": ["Closed"], "filters": data}),
            "raw",
        ),
        (
            "interactions/state/count/by-users",
            json!({"newState": ["Closed"], "userIds": [crate::messages::U1], "filters": aligned}),
            "raw",
        ),
        (
            "interactions/queue-time/count/by-queues",
            json!({"filters": hours}),
            "rollup",
        ),
        (
            "interactions/queue-time/count/by-queues",
            json!({"filters": quarter}),
            "raw",
        ),
        (
            "interactions/queue-time/count/by-queues",
            json!({"filters": channel}),
            "raw",
        ),
        (
            "messages/response-times/count/by-accounts",
            json!({"responseTime": "AdvisorResponseTime", "accounts": [crate::messages::U1], "filters": aligned}),
            "raw",
        ),
        // The nil UUID is the rollups' key of all queues: asking for it is raw.
        (
            "interactions/state/count",
            json!({"newState": ["Closed"], "filters": {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "queues": [NIL]}}),
            "raw",
        ),
        // Kathmandu (+05:45) hours: quarter-hour bounds, still rollups.
        (
            "interactions/state/by-date",
            json!({"newState": ["Closed"], "timeZone": "Asia/Kathmandu", "filters": {"from": "2026-01-01T00:15:00Z", "to": "2026-01-02T00:15:00Z", "groupBy": "Hour"}}),
            "rollup",
        ),
    ];
    for (tile, body, expected) in cases {
        let plan = app
            .post(&format!("/reporting/v1.2/{tile}"), &body)
            .await
            .header("x-query-plan");
        assert_eq!(plan.as_deref(), Some(expected), "{tile} {body}");
    }
}
