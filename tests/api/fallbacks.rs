//! Every failure readable, nothing silent: inconsistent maintained state is
//! a logged 500 problem+json (never a null or NaN beside a count), repeated
//! keys each get their group's value, `Accept` is parsed with its q-values,
//! and an unknown client id costs the same argon2 work as a wrong secret.

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Method, Request};
use axum::Router;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::helpers::{audit_with, TestApp, TestResponse};

const Q1: &str = "11111111-1111-4111-8111-111111111111";
const Q2: &str = "22222222-2222-4222-8222-222222222222";
const U1: &str = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
const U2: &str = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";
const DATA_TYPE: &str = "d0d0d0d0-0000-4000-8000-000000000001";
const OPTION_A: &str = "d0d0d0d0-0000-4000-8000-00000000000a";
const OPTION_B: &str = "d0d0d0d0-0000-4000-8000-00000000000b";
pub(super) const DAY: [&str; 2] = ["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"];

/// POSTs a body (uncached) through `router` as the app's tenant.
pub(super) async fn send(
    router: &Router,
    token: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &Value,
) -> TestResponse {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("cache-control", "no-cache");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Body::from(serde_json::to_vec(body).expect("json")))
        .expect("request");
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body")
        .to_vec();
    TestResponse {
        status,
        headers,
        body,
    }
}

/// Error-level log lines written while the guard lives (this thread only:
/// `#[tokio::test]` drives the router on it).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    fn start() -> (Self, tracing::subscriber::DefaultGuard) {
        let captured = Self::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::ERROR)
            .with_ansi(false)
            .with_writer(captured.clone())
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        (captured, guard)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("lock")).into_owned()
    }
}

/// Asserts a 500 problem+json that names no internals, and that the error
/// was logged at error level with the tenant and `what`.
#[track_caller]
fn assert_logged_internal_error(
    response: &TestResponse,
    logs: &Captured,
    tenant: &str,
    what: &str,
) {
    let problem = response.problem(500);
    assert_eq!(problem["detail"], json!("An internal error occurred."));
    let body = response.text();
    assert!(
        !body.contains(tenant) && !body.contains(what) && problem.get("errors").is_none(),
        "no internals leak: {body}"
    );
    let logs = logs.text();
    let line = logs
        .lines()
        .find(|l| l.contains("ERROR") && l.contains(what))
        .unwrap_or_else(|| panic!("an error-level line naming {what:?}; logs: {logs}"));
    assert!(line.contains(tenant), "the line names the tenant: {line}");
}

/// A queue time of 300 s in Q1 (counted at 10:05 on 2026-01-01).
fn queued_then_assigned() -> Value {
    json!([
        audit_with(
            "q1",
            "i1",
            "2026-01-01T10:00:00Z",
            Some("Created"),
            "Queued",
            json!({"queueId": Q1})
        ),
        audit_with(
            "q2",
            "i1",
            "2026-01-01T10:05:00Z",
            Some("Queued"),
            "Assigned",
            json!({"queueId": Q1})
        ),
    ])
}

#[tokio::test]
async fn a_rank_missing_from_the_duration_values_is_a_logged_500_not_a_null() {
    let app = TestApp::spawn().await;
    let raw = app.raw_router();
    app.ingest(&queued_then_assigned()).await;
    let tile = "interactions/queue-time/count/by-queues";
    let body = json!({"filters": {"from": DAY[0], "to": DAY[1], "queues": [Q1]}});
    let healthy = send(
        &app.router,
        &app.tenant.token,
        &format!("/reporting/v1.2/{tile}"),
        &[],
        &body,
    )
    .await;
    assert_eq!(healthy.header("x-query-plan").as_deref(), Some("rollup"));
    let expected = json!({"groups": [{"key": Q1, "count": 1, "average": 300.0, "min": 300.0,
        "max": 300.0, "p50": 300.0, "p90": 300.0}]});
    assert_eq!(healthy.json(), expected);

    // Corrupt the maintained state: Q1's value behind the counted rank goes
    // (folded first, so it is in duration_values and not in the deltas).
    app.fold().await;
    let deleted =
        sqlx::query("delete from duration_values where tenant_id = $1 and queue_id = $2::uuid")
            .bind(app.tenant.id)
            .bind(Q1)
            .execute(&app.pool)
            .await
            .expect("delete")
            .rows_affected();
    assert_eq!(deleted, 1);

    let tenant = app.tenant.id.to_string();
    for prefix in ["/reporting/v1.2", "/reporting/export/v1.2"] {
        let (logs, _guard) = Captured::start();
        let response = send(
            &app.router,
            &app.tenant.token,
            &format!("{prefix}/{tile}"),
            &[],
            &body,
        )
        .await;
        assert_logged_internal_error(&response, &logs, &tenant, "duration_values");
    }
    // The raw path does not read the rollups and still answers correctly.
    let answer = send(
        &raw,
        &app.tenant.token,
        &format!("/reporting/v1.2/{tile}"),
        &[],
        &body,
    )
    .await;
    assert_eq!(answer.header("x-query-plan").as_deref(), Some("raw"));
    assert_eq!(answer.json(), expected);
}

#[tokio::test]
async fn an_unknown_data_kind_in_the_directory_is_a_logged_500() {
    let app = TestApp::spawn().await;
    app.ingest(&json!([
        {"id": "dt", "type": "directory.data_type", "occurredAt": "2026-01-01T00:00:00Z",
         "dataTypeId": DATA_TYPE, "name": "Reason", "kind": "SingleSelect", "reportable": true,
         "options": [{"id": OPTION_A, "name": "A"}, {"id": OPTION_B, "name": "B"}]},
        audit_with("c1", "i1", "2026-01-01T10:00:00Z", Some("Assigned"), "Closed",
            json!({"data": [{"id": DATA_TYPE, "values": [OPTION_A]}]})),
    ]))
    .await;
    let tile = "/reporting/v1.2/interactions/state/count/by-data";
    let body = json!({"newState": ["Closed"], "data": {"id": DATA_TYPE},
        "filters": {"from": DAY[0], "to": DAY[1]}});
    let healthy = send(&app.router, &app.tenant.token, tile, &[], &body).await;
    assert_eq!(
        healthy.json(),
        json!({"groups": [{"key": OPTION_A, "name": "A", "count": 1}, {"key": OPTION_B, "name": "B", "count": 0}]})
    );

    sqlx::query("update directory_data_types set kind = 'Bogus' where tenant_id = $1")
        .bind(app.tenant.id)
        .execute(&app.pool)
        .await
        .expect("update");
    let (logs, _guard) = Captured::start();
    let response = send(&app.router, &app.tenant.token, tile, &[], &body).await;
    assert_logged_internal_error(&response, &logs, &app.tenant.id.to_string(), "Bogus");
}

#[tokio::test]
async fn the_rollup_path_refuses_a_family_without_keys_instead_of_matching_nothing() {
    use cx_reporting::report::request::{ReportBody, ReportQuery};
    use cx_reporting::report::tiles::{self, Dimension, Family};

    let app = TestApp::spawn().await;
    app.ingest(&queued_then_assigned()).await;
    let tile = tiles::all()
        .into_iter()
        .find(|t| t.family == Family::QueueTime && t.dimension == Dimension::Queue && !t.by_date)
        .expect("the queue-time tile");
    let body: ReportBody =
        serde_json::from_value(json!({"filters": {"from": DAY[0], "to": DAY[1], "queues": [Q1]}}))
            .expect("body");
    let query = ReportQuery::from_body(&tile, body).expect("query");
    // The count rollups keep no queue times: asked anyway, they must not
    // answer an empty (zero) result.
    let result = cx_reporting::report::rollup::fetch(&app.pool, app.tenant.id, &query, None).await;
    assert!(result.is_err(), "an error, not {result:?}");
}

/// Asserts every group of a count or by-date answer against `expected`
/// (key, count per bucket), in order.
#[track_caller]
fn assert_groups(answer: &Value, expected: &[(&str, &[i64])], what: &str) {
    let groups = answer["groups"]
        .as_array()
        .unwrap_or_else(|| panic!("{what}: groups in {answer}"));
    let got: Vec<(String, Vec<i64>)> = groups
        .iter()
        .map(|g| {
            let key = g["key"].as_str().expect("key").to_owned();
            let counts = match g["buckets"].as_array() {
                Some(buckets) => buckets
                    .iter()
                    .map(|b| b["count"].as_i64().expect("count"))
                    .collect(),
                None => vec![g["count"].as_i64().expect("count")],
            };
            (key, counts)
        })
        .collect();
    let expected: Vec<(String, Vec<i64>)> = expected
        .iter()
        .map(|(k, c)| ((*k).to_owned(), c.to_vec()))
        .collect();
    assert_eq!(got, expected, "{what}: {answer}");
}

#[tokio::test]
async fn a_key_given_twice_gives_two_groups_with_its_value() {
    let app = TestApp::spawn().await;
    let raw = app.raw_router();
    // Day 1: Q1/Email/U1 closes twice, Q2/SMS/U2 once; day 2: Q1/Email/U1 once.
    app.ingest(&json!([
        audit_with(
            "c1",
            "i1",
            "2026-01-01T10:00:00Z",
            Some("Assigned"),
            "Closed",
            json!({"queueId": Q1, "userId": U1, "data": [{"id": DATA_TYPE, "values": [OPTION_A]}]})
        ),
        audit_with(
            "c2",
            "i2",
            "2026-01-01T11:00:00Z",
            Some("Assigned"),
            "Closed",
            json!({"queueId": Q1, "userId": U1})
        ),
        audit_with(
            "c3",
            "i3",
            "2026-01-01T12:00:00Z",
            Some("Assigned"),
            "Closed",
            json!({"queueId": Q2, "userId": U2, "channel": "SMS"})
        ),
        audit_with(
            "c4",
            "i4",
            "2026-01-02T09:00:00Z",
            Some("Assigned"),
            "Closed",
            json!({"queueId": Q1, "userId": U1})
        ),
    ]))
    .await;
    let range = json!({"from": DAY[0], "to": "2026-01-03T00:00:00Z"});
    let cases: [(&str, &str, Value, [&str; 3]); 3] = [
        ("by-queues", "queues", json!([Q1, Q2, Q1]), [Q1, Q2, Q1]),
        (
            "by-channels",
            "channels",
            json!(["Email", "SMS", "Email"]),
            ["Email", "SMS", "Email"],
        ),
        ("by-users", "userIds", json!([U1, U2, U1]), [U1, U2, U1]),
    ];
    for (suffix, field, list, keys) in cases {
        for by_date in [false, true] {
            let mut body = json!({"newState": ["Closed"], "filters": range.clone()});
            if by_date {
                body["filters"]["groupBy"] = json!("Day");
            }
            if field == "userIds" {
                body[field] = list.clone();
            } else {
                body["filters"][field] = list.clone();
            }
            let shape = if by_date { "by-date" } else { "count" };
            let path = format!("/reporting/v1.2/interactions/state/{shape}/{suffix}");
            let (first, second): (&[i64], &[i64]) = if by_date {
                (&[2, 1], &[1, 0])
            } else {
                (&[3], &[1])
            };
            let expected = [(keys[0], first), (keys[1], second), (keys[2], first)];
            for (plan, router) in [("planner", &app.router), ("raw", &raw)] {
                let answer = send(router, &app.tenant.token, &path, &[], &body).await;
                assert_eq!(answer.status, 200, "{path}: {}", answer.text());
                assert_groups(&answer.json(), &expected, &format!("{plan} {path}"));
            }
        }
    }
    // Data values too.
    let body = json!({"newState": ["Closed"], "filters": range.clone(),
        "data": {"id": DATA_TYPE, "values": [OPTION_A, OPTION_B, OPTION_A]}});
    let path = "/reporting/v1.2/interactions/state/count/by-data";
    let answer = send(&app.router, &app.tenant.token, path, &[], &body)
        .await
        .json();
    assert_groups(
        &answer,
        &[(OPTION_A, &[1]), (OPTION_B, &[0]), (OPTION_A, &[1])],
        path,
    );
    // The duration rollups too: each Q1 group carries Q1's statistics.
    app.ingest(&queued_then_assigned()).await;
    let body = json!({"filters": {"from": DAY[0], "to": DAY[1], "queues": [Q1, Q1]}});
    let path = "/reporting/v1.2/interactions/queue-time/count/by-queues";
    for router in [&app.router, &raw] {
        let answer = send(router, &app.tenant.token, path, &[], &body)
            .await
            .json();
        let counts: Vec<&Value> = answer["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .map(|g| &g["count"])
            .collect();
        assert_eq!(counts, [&json!(1), &json!(1)], "{answer}");
    }
}

mod accept;
mod token_timing;
mod webhook_key;
