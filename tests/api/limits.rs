//! Response cache and rate limits.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{audit, TestApp};
use cx_reporting::config::RateQuota;

fn body() -> serde_json::Value {
    json!({"newState": ["Closed"], "filters": {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"}})
}

#[tokio::test]
async fn miss_then_hit_with_age_and_no_cache_bypass() {
    let app = TestApp::spawn().await;
    app.ingest(&json!([audit(
        "a",
        "i",
        "2026-01-01T10:00:00Z",
        Some("Queued"),
        "Closed"
    )]))
    .await;
    let path = "/reporting/v1.2/interactions/state/count";
    let first = app.post(path, &body()).await;
    assert_eq!(first.header("x-cache").as_deref(), Some("MISS"));
    assert_eq!(first.json(), json!({"count": 1}));
    // The same request with keys in another order is the same canonical request.
    let reordered = json!({"filters": {"to": "2026-01-02T00:00:00Z", "from": "2026-01-01T00:00:00Z"}, "newState": ["Closed"]});
    let second = app.post(path, &reordered).await;
    assert_eq!(second.header("x-cache").as_deref(), Some("HIT"));
    assert!(second.header("age").is_some());
    assert_eq!(second.json(), json!({"count": 1}));
    // no-cache computes afresh.
    let auth = format!("Bearer {}", app.tenant.token);
    let bypass = app
        .request(
            axum::http::Method::POST,
            path,
            &[("authorization", &auth), ("cache-control", "no-cache")],
            serde_json::to_vec(&body()).expect("json"),
        )
        .await;
    assert_eq!(bypass.header("x-cache").as_deref(), Some("MISS"));
    // Another tenant never sees this tenant's cached answer.
    let other = app.new_tenant("Other").await;
    let theirs = app.post_as(&other.token, path, &body()).await;
    assert_eq!(theirs.header("x-cache").as_deref(), Some("MISS"));
    assert_eq!(theirs.json(), json!({"count": 0}));
    // Arrays keep their order: a different order is a different request.
    let states = json!({"newState": ["Closed", "Queued"], "filters": body()["filters"]});
    let swapped = json!({"newState": ["Queued", "Closed"], "filters": body()["filters"]});
    assert_eq!(
        app.post(path, &states).await.header("x-cache").as_deref(),
        Some("MISS")
    );
    assert_eq!(
        app.post(path, &swapped).await.header("x-cache").as_deref(),
        Some("MISS")
    );
}

#[tokio::test]
async fn ingesting_invalidates_the_tenants_cached_answers() {
    let app = TestApp::spawn().await;
    let path = "/reporting/v1.2/interactions/state/count";
    assert_eq!(app.post(path, &body()).await.json(), json!({"count": 0}));
    app.ingest(&json!([audit(
        "late",
        "i",
        "2026-01-01T10:00:00Z",
        Some("Queued"),
        "Closed"
    )]))
    .await;
    let after = app.post(path, &body()).await;
    assert_eq!(after.header("x-cache").as_deref(), Some("MISS"));
    assert_eq!(after.json(), json!({"count": 1}));
}

#[tokio::test]
async fn rate_limit_headers_and_429_after_the_limit() {
    let app = TestApp::spawn_with(|config| {
        config.rate_reporting = RateQuota {
            limit: 3,
            period: Duration::from_secs(60),
        };
        config.rate_export = RateQuota {
            limit: 1,
            period: Duration::from_secs(60),
        };
    })
    .await;
    let path = "/reporting/v1.2/interactions/state/count";
    for remaining in [2u64, 1, 0] {
        let response = app.post(path, &body()).await;
        assert_eq!(response.status, 200);
        assert_eq!(response.header("x-ratelimit-limit").as_deref(), Some("3"));
        assert_eq!(
            response.header("x-ratelimit-remaining"),
            Some(remaining.to_string())
        );
        let reset: u64 = response
            .header("x-ratelimit-reset")
            .expect("reset")
            .parse()
            .expect("number");
        // One request refills every 60 / 3 = 20 s: the bucket is full again
        // 20 s per request drawn (rounded up to whole seconds).
        assert_eq!(reset, 20 * (3 - remaining), "reset after {remaining} left");
        assert_eq!(
            response.header("ratelimit-policy").as_deref(),
            Some("\"reporting\";q=3;w=60")
        );
        assert_eq!(
            response.header("ratelimit"),
            Some(format!("\"reporting\";r={remaining};t={reset}"))
        );
    }
    let refused = app.post(path, &body()).await;
    let problem = refused.problem(429);
    // No field is to blame for a refusal: the contract lets `errors` be
    // absent on 429, and ours is.
    assert_eq!(problem.get("errors"), None, "{problem}");
    assert_eq!(problem["title"], "Too Many Requests");
    let retry: u64 = refused
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("whole seconds");
    assert!(
        (1..=20).contains(&retry),
        "one request refills in 20 s: {retry}"
    );
    assert_eq!(
        problem["detail"],
        format!("Too many requests; retry in {retry} s.")
    );
    assert_eq!(
        refused.header("x-ratelimit-remaining").as_deref(),
        Some("0")
    );

    // Export has its own, stricter bucket; another client has its own buckets.
    let export = "/reporting/export/v1.2/interactions/state/count";
    assert_eq!(app.post(export, &body()).await.status, 200);
    app.post(export, &body()).await.problem(429);
    let colleague = app.token_for(
        app.tenant.id,
        &uuid::Uuid::new_v4().to_string(),
        &["Analytics"],
    );
    assert_eq!(app.post_as(&colleague, path, &body()).await.status, 200);
}

#[tokio::test]
async fn a_query_over_the_statement_timeout_is_503_problem_json() {
    let app = TestApp::spawn().await;
    let reason = "99999999-9999-4999-8999-999999999999";
    let events: Vec<serde_json::Value> = (0..10_000)
        .map(|i| {
            let mut event = audit(
                &format!("e{i}"),
                &format!("i{i}"),
                "2026-01-01T10:00:00Z",
                Some("Queued"),
                "Closed",
            );
            event["data"] = json!([{"id": reason, "values": [format!("v{}", i % 500)]}]);
            event
        })
        .collect();
    app.ingest(&serde_json::Value::Array(events)).await;
    // The same database, served with a 1 ms statement timeout.
    let mut config = (*app.state.config).clone();
    config.statement_timeout = Duration::from_millis(1);
    let pool = cx_reporting::state::connect(&config).await.expect("pool");
    let strict = cx_reporting::app(cx_reporting::AppState::new(pool, config));
    let values: Vec<String> = (0..50).map(|i| format!("v{i}")).collect();
    let body = json!({"newState": ["Closed"], "data": {"id": reason, "values": values},
        "filters": {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "data": [{"id": reason}]}});
    let request = axum::http::Request::post("/reporting/v1.2/interactions/state/count/by-data")
        .header("authorization", format!("Bearer {}", app.tenant.token))
        .body(axum::body::Body::from(
            serde_json::to_vec(&body).expect("json"),
        ))
        .expect("request");
    let response = tower::ServiceExt::oneshot(strict, request)
        .await
        .expect("response");
    assert_eq!(response.status(), 503);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    let problem: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    assert!(
        problem["detail"]
            .as_str()
            .expect("detail")
            .contains("statement timeout"),
        "{problem}"
    );
}

/// 32 clients at once on one credential: the quota holds exactly, however
/// the requests interleave (the limiter's state is shared, not per task).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_clients_on_one_credential_never_exceed_the_quota() {
    const QUOTA: u32 = 10;
    let app = TestApp::spawn_with(|config| {
        // One request back per 6 minutes: none refills during the test.
        config.rate_reporting = RateQuota {
            limit: QUOTA,
            period: Duration::from_secs(3600),
        };
    })
    .await;
    let app = std::sync::Arc::new(app);
    let path = "/reporting/v1.2/interactions/state/count";
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                for _ in 0..4 {
                    statuses.push(app.post(path, &body()).await.status);
                }
                statuses
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.extend(task.await.expect("a client task"));
    }
    let accepted = statuses.iter().filter(|s| **s == 200).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(
        (accepted, refused),
        (QUOTA as usize, 128 - QUOTA as usize),
        "{statuses:?}"
    );
}
