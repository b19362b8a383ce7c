//! Exports parse `Accept` (API.md §6): media ranges, parameters and
//! q-values; `q=0` is "not acceptable", and the most specific range decides.

use axum::body::Body;
use axum::http::Request;
use serde_json::json;
use tower::ServiceExt;

use super::{send, DAY};
use crate::helpers::TestApp;

#[tokio::test]
async fn exports_parse_accept_with_its_q_values() {
    let app = TestApp::spawn().await;
    let path = "/reporting/export/v1.2/interactions/state/count";
    let body = json!({"newState": ["Closed"], "filters": {"from": DAY[0], "to": DAY[1]}});
    let acceptable = [
        "*/*",
        "text/csv",
        "TEXT/CSV",
        "text/*",
        "text/csv; charset=utf-8",
        "text/csv;charset=\"UTF-8\";q=0.5",
        "text/csv;q=1.0",
        "text/csv;q=0.001",
        "*/*;q=0.1",
        "application/json, text/csv",
        "application/json;q=1, text/csv;q=0.2",
        "text/html, */*;q=0.01",
        "application/json, ,text/csv",
        "text/csv;q=0, text/csv;charset=utf-8",
        "text/csv;header=present",
    ];
    let refused = [
        "text/csv;q=0",
        "text/csv; q=0.000",
        "text/csv;Q=0",
        "*/*;q=0",
        "text/*;q=0",
        "text/csv;q=0, */*",
        "text/*;q=0, */*",
        "application/json",
        "text/plain",
        "text/csv;charset=latin1",
        "text/csv;q=2",
        "text/csv;q=abc",
        "*/csv",
        "text/csv;format=flowed",
        "application/x;p=\"a, */*;b\"",
        "csv",
        "",
    ];
    for (accept, status) in acceptable
        .iter()
        .map(|a| (a, 200))
        .chain(refused.iter().map(|a| (a, 404)))
    {
        let response = send(
            &app.router,
            &app.tenant.token,
            path,
            &[("accept", accept)],
            &body,
        )
        .await;
        assert_eq!(
            response.status,
            status,
            "Accept: {accept:?}: {}",
            response.text()
        );
        if status == 404 {
            response.problem(404);
        }
    }
    // Several Accept lines are one list.
    let mut request = Request::post(path)
        .header("authorization", format!("Bearer {}", app.tenant.token))
        .header("accept", "application/json")
        .header("accept", "text/csv;q=0.5");
    request = request.header("cache-control", "no-cache");
    let request = request
        .body(Body::from(serde_json::to_vec(&body).expect("json")))
        .expect("request");
    let response = app
        .router
        .clone()
        .oneshot(request)
        .await
        .expect("infallible");
    assert_eq!(
        response.status(),
        200,
        "a second Accept line holds text/csv"
    );
}
