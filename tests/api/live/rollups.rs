//! The live count tiles' rollup path (source 3 of the count rollups) gives
//! the raw path's answers, folded or not, with late events and duplicates.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::{body, voice, webchat, ACC_V, ACC_W};
use crate::helpers::TestApp;
use crate::messages::{ACC, Q1, Q2};
use crate::order::live::conversation_set;
use crate::rollups::{ask, compare_paths, range, ACC2, NIL, SELECT, ZONES};

/// A live count question of window `w`: totals or percentages, count or by
/// date, in total or by account, with or without a queue filter, and now
/// and then a direction or data condition (which only the raw path answers).
fn live_question(w: usize) -> impl Strategy<Value = (String, Value)> {
    (
        (any::<bool>(), any::<bool>(), 0..3usize, any::<bool>()),
        (any::<bool>(), prop::sample::select(ZONES.to_vec())),
        prop::sample::select(vec!["Hour", "Day", "Week", "Month"]),
        (
            (0i64..(2 * 24 * 4)),
            prop::bool::weighted(0.25),
            1i64..(3 * 24 * 4),
        ),
        (0..5usize, 0..8usize),
    )
        .prop_map(
            move |(
                (voice, by_date, grouping, percentages),
                (own_zone, zone),
                group_by,
                (start, odd, length),
                (queues, extra),
            )| {
                let group_by = if by_date { group_by } else { "Day" };
                let mut filters = range(w, group_by, start, odd, length);
                if by_date {
                    filters["groupBy"] = json!(group_by);
                }
                filters["channel"] = json!(if voice { "Voice" } else { "WebChat" });
                match queues {
                    0 => filters["queues"] = json!([Q1]),
                    1 => filters["queues"] = json!([Q2, Q1]),
                    2 => filters["queues"] = json!([NIL]),
                    _ => {}
                }
                let mut body = json!({"newState": ["Closed"], "filters": filters,
                    "timeZone": if own_zone { crate::rollups::WINDOWS[w].0 } else { zone }});
                match extra {
                    0 if voice => body["direction"] = json!("Inbound"),
                    1 => body["filters"]["data"] = json!([{"id": SELECT}]),
                    _ => {}
                }
                let shape = if by_date { "by-date" } else { "count" };
                let tile = match (grouping, percentages) {
                    (0, _) => format!("conversations/live/{shape}"),
                    (_, false) => format!("conversations/live/{shape}/by-accounts/totals"),
                    (_, true) => format!("conversations/live/{shape}/by-accounts/percentages"),
                };
                if grouping > 0 {
                    body["accounts"] = json!([ACC2, ACC, ACC_V]);
                }
                (tile, body)
            },
        )
}

#[test]
fn live_rollups_and_raw_rows_give_identical_answers() {
    // The first half first (late events follow), then everything.
    let served = compare_paths(
        "live_rollups_and_raw_rows_give_identical_answers",
        16,
        conversation_set,
        live_question,
        |events| events[..events.len() / 2].to_vec(),
    );
    assert!(
        served.questions < 64 || served.rollup * 4 > served.questions,
        "the live rollups must actually be exercised: {} of {}",
        served.rollup,
        served.questions
    );
}

#[tokio::test]
async fn the_planner_uses_the_live_rollups_only_where_they_are_exact() {
    let app = TestApp::spawn_with(|c| c.fold_interval = std::time::Duration::from_secs(3600)).await;
    app.ingest(&Value::Array([webchat(), voice()].concat()))
        .await;
    let raw = app.raw_router();
    let token = app.tenant.token.clone();
    let mut by_accounts = body("WebChat");
    by_accounts["accounts"] = json!([ACC_W, ACC_V]);
    let mut direction = body("Voice");
    direction["direction"] = json!("Inbound");
    let mut data = body("Voice");
    data["filters"]["data"] = json!([{"id": SELECT}]);
    let mut odd = body("Voice");
    odd["filters"]["from"] = json!("2026-03-10T00:07:00Z");
    let cases = [
        ("conversations/live/count", body("Voice"), "rollup"),
        (
            "conversations/live/count/by-accounts/totals",
            by_accounts.clone(),
            "rollup",
        ),
        (
            "conversations/live/count/by-accounts/percentages",
            by_accounts.clone(),
            "rollup",
        ),
        (
            "conversations/live/count/by-accounts/durations",
            by_accounts,
            "raw",
        ),
        ("conversations/live/count", direction, "raw"),
        ("conversations/live/count", data, "raw"),
        ("conversations/live/count", odd, "raw"),
    ];
    for round in 0..2 {
        for (tile, request, expected) in &cases {
            let (answer, plan) = ask(&app.router, &token, tile, request).await;
            let (reference, _) = ask(&raw, &token, tile, request).await;
            assert_eq!(&plan, expected, "{tile} {request}");
            assert_eq!(answer, reference, "round {round}: {tile} {request}");
        }
        // Everything folded, then a late connection flips v5 to handled.
        app.fold().await;
        app.ingest(&json!([super::connected(
            "v5-c0",
            "v5",
            "2026-03-10T12:00:30Z"
        )]))
        .await;
    }
    let (answer, _) = ask(
        &app.router,
        &token,
        "conversations/live/count",
        &body("Voice"),
    )
    .await;
    assert_eq!(
        answer,
        json!({"total": 5, "abandonedInIvr": 2, "abandoned": 1, "handled": 2})
    );
}
