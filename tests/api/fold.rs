//! The rollup deltas (migration 0009) and their fold: answers are exact
//! before a fold (read from the rollups plus the unfolded deltas), after it,
//! and after a late event whose corrections are still deltas; a fold leaves
//! no delta behind and drops the values whose multiplicity fell to zero.

use std::time::Duration;

use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use crate::fallbacks::send;
use crate::helpers::{audit_with, TestApp};

const Q1: &str = "11111111-1111-4111-8111-111111111111";
const RANGE: (&str, &str) = ("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z");

/// (tile, body) pairs answered from the rollups, with their answers.
fn questions() -> Vec<(&'static str, Value)> {
    let filters = json!({"from": RANGE.0, "to": RANGE.1, "queues": [Q1]});
    vec![
        (
            "interactions/queue-time/count/by-queues",
            json!({"filters": filters}),
        ),
        (
            "interactions/state/count/by-queues",
            json!({"filters": filters, "newState": ["Queued"]}),
        ),
    ]
}

/// Every question, asked of the planner (which must choose the rollups)
/// and of the raw-only router; both answers must be equal.
async fn answers(app: &TestApp) -> Vec<Value> {
    let raw = app.raw_router();
    let mut out = Vec::new();
    for (tile, body) in questions() {
        let path = format!("/reporting/v1.2/{tile}");
        let planned = send(&app.router, &app.tenant.token, &path, &[], &body).await;
        assert_eq!(planned.status, 200, "{tile}: {}", planned.text());
        assert_eq!(planned.header("x-query-plan").as_deref(), Some("rollup"));
        let reference = send(&raw, &app.tenant.token, &path, &[], &body).await;
        assert_eq!(planned.json(), reference.json(), "{tile}");
        out.push(planned.json());
    }
    out
}

/// Delta rows of the tenant in each of the two delta tables.
async fn deltas(pool: &PgPool, tenant: Uuid) -> [i64; 2] {
    let mut out = [0; 2];
    for (i, table) in ["count_rollup_deltas", "duration_value_deltas"]
        .iter()
        .enumerate()
    {
        out[i] = sqlx::query_scalar(&format!(
            "select count(*) from {table} where tenant_id = $1"
        ))
        .bind(tenant)
        .fetch_one(pool)
        .await
        .expect("count deltas");
    }
    out
}

fn queue_time(seconds: f64, queued: i64) -> Vec<Value> {
    vec![
        json!({"groups": [{"key": Q1, "count": 1, "average": seconds, "min": seconds,
            "max": seconds, "p50": seconds, "p90": seconds}]}),
        json!({"groups": [{"key": Q1, "count": queued}]}),
    ]
}

/// An app that folds only when asked (the worker's first tick is at once),
/// holding, unfolded, interaction i1 queued at 10:00 and assigned at 10:05
/// in Q1 (300 s in queue).
async fn queued_then_assigned_unfolded() -> TestApp {
    // The worker's first fold is an hour away: every delta stays unfolded
    // until the test folds.
    let app = TestApp::spawn_with(|c| c.fold_interval = Duration::from_secs(3600)).await;
    app.ingest(&json!([
        audit_with(
            "a1",
            "i1",
            &at("10:00:00"),
            Some("Created"),
            "Queued",
            json!({"queueId": Q1})
        ),
        audit_with(
            "a2",
            "i1",
            &at("10:05:00"),
            Some("Queued"),
            "Assigned",
            json!({"queueId": Q1})
        ),
    ]))
    .await;
    app
}

/// An instant on 2026-01-01 (UTC).
fn at(time: &str) -> String {
    format!("2026-01-01T{time}Z")
}

#[tokio::test]
async fn answers_are_exact_before_and_after_a_fold_and_a_fold_leaves_no_delta() {
    let app = queued_then_assigned_unfolded().await;

    // Unfolded: every change is a delta, and the answers already hold it.
    // Two audits of queue Q1: one count delta each (hour, states); one
    // queue time.
    assert_eq!(deltas(&app.pool, app.tenant.id).await, [2, 1]);
    // Queued 10:00 → Assigned 10:05: 300 s.
    assert_eq!(answers(&app).await, queue_time(300.0, 1));

    assert!(app.fold().await > 0);
    assert_eq!(deltas(&app.pool, app.tenant.id).await, [0, 0]);
    assert_eq!(answers(&app).await, queue_time(300.0, 1));

    // A late re-entry into Queued at 10:02: the queue time becomes 180 s;
    // 300 s leaves (−1) and 180 s enters (+1) as deltas.
    app.ingest(&json!([audit_with(
        "a3",
        "i1",
        &at("10:02:00"),
        Some("Queued"),
        "Queued",
        json!({"queueId": Q1})
    )]))
    .await;
    assert_eq!(deltas(&app.pool, app.tenant.id).await, [1, 2]);
    assert_eq!(answers(&app).await, queue_time(180.0, 2));

    assert!(app.fold().await > 0);
    assert_eq!(deltas(&app.pool, app.tenant.id).await, [0, 0]);
    assert_eq!(answers(&app).await, queue_time(180.0, 2));
    // The value 300 s, now held zero times, is gone; 180 s is held once
    // for Q1 and once for all queues.
    let held: Vec<(i64, i64)> = sqlx::query_as(
        "select value_us, sum(n)::bigint from duration_values where tenant_id = $1 group by 1 order by 1",
    )
    .bind(app.tenant.id)
    .fetch_all(&app.pool)
    .await
    .expect("values");
    assert_eq!(held, vec![(180_000_000, 2)]);
    // A fold with nothing to fold moves nothing.
    assert_eq!(app.fold().await, 0);
}

#[tokio::test]
async fn a_bounded_fold_moves_part_of_the_backlog_and_answers_stay_exact() {
    let app = queued_then_assigned_unfolded().await;
    assert_eq!(deltas(&app.pool, app.tenant.id).await, [2, 1]);
    // One row of each table per fold: the first is full (behind), answers
    // read the folded row and the waiting ones alike.
    let first = cx_reporting::ingest::fold::fold_at_most(&app.pool, 1)
        .await
        .expect("fold");
    assert_eq!((first.deltas, first.full, first.skipped), (2, true, false));
    assert_eq!(deltas(&app.pool, app.tenant.id).await, [1, 0]);
    assert_eq!(answers(&app).await, queue_time(300.0, 1));
    let second = cx_reporting::ingest::fold::fold_at_most(&app.pool, 1)
        .await
        .expect("fold");
    assert_eq!((second.deltas, second.full), (1, true));
    assert_eq!(deltas(&app.pool, app.tenant.id).await, [0, 0]);
    assert_eq!(answers(&app).await, queue_time(300.0, 1));
    let third = cx_reporting::ingest::fold::fold_at_most(&app.pool, 1)
        .await
        .expect("fold");
    assert_eq!((third.deltas, third.full), (0, false));
}
