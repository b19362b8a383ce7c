//! Every failure a client can meet is readable: problem+json with the
//! status it deserves, and a log line for the operator.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request};
use axum::routing::get;
use axum::Router;
use cx_reporting::auth::{self, Claims};
use cx_reporting::state::AppState;
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection};
use tower::ServiceExt;
use uuid::Uuid;

use crate::helpers::{test_config, TestApp, TestResponse, JWT_SECRET};

const VIEW: &str = "/reporting/v1.2/view/interactions";

fn view_body() -> Value {
    json!({"filters": {"from": "2026-03-01T00:00:00Z", "to": "2026-03-02T00:00:00Z"}})
}

/// Log lines written while the guard lives (current-thread tests only: the
/// router runs on the test's thread).
#[derive(Clone, Default)]
pub(crate) struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    pub(crate) fn start() -> (Self, tracing::subscriber::DefaultGuard) {
        crate::helpers::undecided_global_logs();
        let logs = Self::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || writer.clone())
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    /// Every captured event, as JSON.
    pub(crate) fn events(&self) -> Vec<Value> {
        let bytes = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// The events at `level` whose message is `message`.
    pub(crate) fn find(&self, level: &str, message: &str) -> Vec<Value> {
        self.events()
            .into_iter()
            .filter(|e| e["level"] == level && e["fields"]["message"] == message)
            .collect()
    }
}

/// Sends a request through any router, as `TestApp::request` does.
async fn send(
    router: &Router,
    method: Method,
    path: &str,
    token: &str,
    body: &Value,
) -> TestResponse {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
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

#[tokio::test]
async fn a_request_past_the_request_timeout_is_a_logged_503_problem() {
    let app = TestApp::spawn_with(|c| c.request_timeout = Duration::from_millis(300)).await;
    // The test holds a lock the view query must wait for, so the request
    // cannot finish within the timeout, however fast the machine.
    let mut blocker = PgConnection::connect(&app.state.config.database_url)
        .await
        .expect("connect");
    let mut lock = blocker.begin().await.expect("begin");
    sqlx::query("lock table interaction_audits in access exclusive mode")
        .execute(&mut *lock)
        .await
        .expect("lock");
    let (logs, _guard) = CapturedLogs::start();

    let started = Instant::now();
    let response = app.post(VIEW, &view_body()).await;

    assert!(started.elapsed() < Duration::from_secs(10));
    let problem = response.problem(503);
    assert_eq!(
        problem["type"],
        "https://cx-reporting.dev/problems/request-timeout"
    );
    let retry: u64 = response
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("whole seconds");
    assert!(retry >= 1);
    let warned = logs.find("WARN", "request timed out");
    assert_eq!(warned.len(), 1, "{:?}", logs.events());
    let fields = &warned[0]["fields"];
    assert_eq!(fields["method"], "POST");
    assert_eq!(fields["route"], VIEW);
    assert_eq!(fields["tenant"], app.tenant.id.to_string());
    assert!(fields["elapsed_ms"].as_f64().expect("elapsed") >= 300.0);
    lock.rollback().await.expect("release");
}

#[tokio::test]
async fn a_wrong_method_is_a_405_problem_naming_the_allowed_ones() {
    let app = TestApp::spawn().await;
    let auth = format!("Bearer {}", app.tenant.token);
    let response = app
        .request(Method::GET, VIEW, &[("authorization", &auth)], vec![])
        .await;
    response.problem(405);
    assert_eq!(response.header("allow").as_deref(), Some("POST"));
    let response = app.request(Method::DELETE, "/healthz", &[], vec![]).await;
    response.problem(405);
    let allow = response.header("allow").expect("Allow");
    assert!(allow.contains("GET"), "{allow}");
}

#[tokio::test]
async fn an_unknown_path_is_a_404_problem_whatever_the_method() {
    let app = TestApp::spawn().await;
    for method in [Method::GET, Method::POST, Method::DELETE] {
        let response = app
            .request(method, "/reporting/v9/nothing", &[], vec![])
            .await;
        response.problem(404);
    }
}

/// A body one byte over `limit`, and the routes that must refuse it.
#[tokio::test]
async fn an_over_large_body_is_a_413_problem_naming_the_limit_on_every_route() {
    let app = TestApp::spawn().await;
    let auth = format!("Bearer {}", app.tenant.token);
    let one_mib = 1024 * 1024;
    let cases = [
        ("/ingest/v1/events", 16 * one_mib, "16 MiB"),
        (VIEW, one_mib, "1 MiB"),
        ("/reporting/v1.2/interactions/state/count", one_mib, "1 MiB"),
        ("/reporting/export/v1.2/view/interactions", one_mib, "1 MiB"),
        (
            "/reporting/export/v1.2/interactions/state/count",
            one_mib,
            "1 MiB",
        ),
        ("/oauth/token", one_mib, "1 MiB"),
        ("/admin/v1/tenants", one_mib, "1 MiB"),
    ];
    for (path, limit, named) in cases {
        // Once streamed without a length (the extractors' limit), once with
        // a Content-Length that says it all up front.
        for declared in [false, true] {
            let body = vec![b' '; limit + 1];
            let length = body.len().to_string();
            let mut headers = vec![
                ("authorization", auth.as_str()),
                ("content-type", "application/json"),
            ];
            if declared {
                headers.push(("content-length", length.as_str()));
            }
            let response = app.request(Method::POST, path, &headers, body).await;
            assert_eq!(
                response.status,
                413,
                "{path} (declared: {declared}): {}",
                response.text()
            );
            let problem = response.problem(413);
            let detail = problem["detail"].as_str().expect("detail");
            assert!(
                detail.contains(named),
                "{path} (declared: {declared}): {detail}"
            );
        }
    }
}

#[tokio::test]
async fn a_pool_with_no_free_connection_is_a_503_problem_and_not_ready() {
    let app = TestApp::spawn_with(|c| {
        c.db_pool_size = 1;
        c.db_acquire_timeout = Duration::from_millis(300);
    })
    .await;
    let held = app.pool.acquire().await.expect("the only connection");

    let started = Instant::now();
    let response = app.post(VIEW, &view_body()).await;
    response.problem(503);
    assert!(response.header("retry-after").is_some());
    let ready = app.request(Method::GET, "/readyz", &[], vec![]).await;
    ready.problem(503);
    assert!(ready.header("retry-after").is_some());
    let health = app.request(Method::GET, "/healthz", &[], vec![]).await;
    assert_eq!(health.status, 200);
    assert!(started.elapsed() < Duration::from_secs(30));

    drop(held);
    let ready = app.request(Method::GET, "/readyz", &[], vec![]).await;
    assert_eq!(ready.status, 200, "{}", ready.text());
}

#[tokio::test]
async fn an_unreachable_database_is_a_503_problem_while_the_process_stays_live() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut config = test_config(format!("postgres://cx@127.0.0.1:{port}/cx"));
    config.db_acquire_timeout = Duration::from_millis(300);
    let pool = cx_reporting::state::connect(&config)
        .await
        .expect("the app starts without its database");
    let router = cx_reporting::app(AppState::new(pool, config));
    let claims = Claims {
        sub: "analyst".into(),
        tid: Uuid::new_v4(),
        roles: vec!["Analytics".into(), "Ingest".into()],
        exp: chrono::Utc::now().timestamp() + 3600,
        iat: None,
    };
    let token = auth::mint(JWT_SECRET, &claims).expect("mint");

    let events = json!([crate::helpers::audit(
        "e1",
        "i1",
        "2026-03-01T10:00:00Z",
        None,
        "Queued"
    )]);
    for (path, body) in [
        (VIEW, view_body()),
        ("/reporting/export/v1.2/view/interactions", view_body()),
        (
            "/reporting/v1.2/interactions/state/count",
            json!({"newState": ["Queued"], "filters": {"from": "2026-03-01T00:00:00Z", "to": "2026-03-02T00:00:00Z"}}),
        ),
        ("/ingest/v1/events", events),
    ] {
        let response = send(&router, Method::POST, path, &token, &body).await;
        assert_eq!(response.status, 503, "{path}: {}", response.text());
        let problem = response.problem(503);
        assert_eq!(
            problem["type"],
            "https://cx-reporting.dev/problems/database-unavailable"
        );
        assert!(response.header("retry-after").is_some(), "{path}");
    }
    let ready = send(&router, Method::GET, "/readyz", &token, &json!({})).await;
    ready.problem(503);
    assert!(ready.header("retry-after").is_some());
    let health = send(&router, Method::GET, "/healthz", &token, &json!({})).await;
    assert_eq!(health.status, 200);
}

#[tokio::test]
async fn a_closed_pool_is_a_503_problem() {
    let app = TestApp::spawn().await;
    app.pool.close().await;
    let response = app.post(VIEW, &view_body()).await;
    response.problem(503);
    assert!(response.header("retry-after").is_some());
}

async fn boom() -> &'static str {
    panic!("the vault combination is 1234")
}

#[tokio::test]
async fn a_panicking_handler_is_a_logged_500_problem_without_the_panic_text() {
    let app = TestApp::spawn().await;
    // The app's own middleware stack, around a route that panics (no real
    // route may panic, and none exists only for tests).
    let router = cx_reporting::router::with_middleware(
        Router::new().route("/boom", get(boom)),
        app.state.clone(),
    );
    let (logs, _guard) = CapturedLogs::start();

    let response = send(&router, Method::GET, "/boom", "", &json!({})).await;

    let problem = response.problem(500);
    assert_eq!(
        problem["type"],
        "https://cx-reporting.dev/problems/internal"
    );
    assert!(!response.text().contains("vault"), "{}", response.text());
    let logged = logs.find("ERROR", "handler panicked");
    assert_eq!(logged.len(), 1, "{:?}", logs.events());
    assert_eq!(
        logged[0]["fields"]["panic"],
        "the vault combination is 1234"
    );
    // The request is still logged and counted, as a 500.
    let requests = logs.find("INFO", "request");
    assert_eq!(requests.len(), 1, "{:?}", logs.events());
    assert_eq!(requests[0]["fields"]["status"], 500);
}
