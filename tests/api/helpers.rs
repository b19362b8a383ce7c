//! The test harness: a fresh database per test (copied from a migrated
//! template), the real router driven without a socket, typed helpers.

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use cx_reporting::auth::tenants::NewTenant;
use cx_reporting::auth::{self, Claims};
use cx_reporting::config::{Config, RateQuota};
use cx_reporting::state::{AppState, MIGRATOR};
use serde_json::{json, Value};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgPool};
use tower::ServiceExt;
use uuid::Uuid;

pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123456789";
pub const ADMIN_TOKEN: &str = "test-operator-token";

fn base_url() -> String {
    std::env::var("DATABASE_URL")
        .expect("DATABASE_URL must be set: run the suite with scripts/test")
}

/// The name of the template database for the current migrations.
fn template_name() -> String {
    let mut hash: u64 = 0xcbf29ce484222325;
    for m in MIGRATOR.iter() {
        for b in m.checksum.iter().chain(m.version.to_le_bytes().iter()) {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x100000001b3);
        }
    }
    format!("cx_template_{hash:016x}")
}

/// Creates (once, under an advisory lock, across processes) the migrated
/// template, then a fresh database copied from it.
async fn fresh_database() -> String {
    let base: PgConnectOptions = base_url().parse().expect("DATABASE_URL parses");
    let mut admin = base
        .clone()
        .connect()
        .await
        .expect("connect to the test cluster");
    let template = template_name();
    sqlx::query("select pg_advisory_lock(727274)")
        .execute(&mut admin)
        .await
        .expect("lock");
    let exists: bool =
        sqlx::query_scalar("select exists(select 1 from pg_database where datname = $1)")
            .bind(&template)
            .fetch_one(&mut admin)
            .await
            .expect("query");
    if !exists {
        let building = format!("{template}_building");
        sqlx::query(&format!("drop database if exists {building}"))
            .execute(&mut admin)
            .await
            .expect("drop");
        sqlx::query(&format!("create database {building}"))
            .execute(&mut admin)
            .await
            .expect("create");
        let mut conn = base
            .clone()
            .database(&building)
            .connect()
            .await
            .expect("connect template");
        MIGRATOR.run(&mut conn).await.expect("migrate template");
        conn.close().await.expect("close");
        sqlx::query(&format!("alter database {building} rename to {template}"))
            .execute(&mut admin)
            .await
            .expect("rename");
    }
    sqlx::query("select pg_advisory_unlock(727274)")
        .execute(&mut admin)
        .await
        .expect("unlock");
    let name = format!("cx_test_{}", Uuid::new_v4().simple());
    sqlx::query(&format!(
        "create database {name} template {template} strategy file_copy"
    ))
    .execute(&mut admin)
    .await
    .expect("create test database");
    admin.close().await.ok();
    name
}

/// The URL of a fresh, migrated database of its own (for a test that runs
/// the service as a child process rather than through `TestApp`).
pub async fn fresh_database_url() -> String {
    let name = fresh_database().await;
    let options: PgConnectOptions = base_url()
        .parse::<PgConnectOptions>()
        .expect("url")
        .database(&name);
    options.to_url_lossy().to_string()
}

/// A global subscriber that records nothing but leaves every callsite's
/// interest undecided, so that a test's own subscriber (`set_default`, as
/// the log-capturing tests use) sees every event even when another test's
/// thread, with no subscriber, hit the callsite first: without it tracing
/// may cache "never" for that callsite in the race, and a captured log line
/// goes missing (seen once under a loaded full-suite run).
pub fn undecided_global_logs() {
    use tracing::subscriber::Interest;
    use tracing::{span, Event, Metadata};
    struct Undecided;
    impl tracing::Subscriber for Undecided {
        fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
            Interest::sometimes()
        }
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            false
        }
        fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
            span::Id::from_u64(1)
        }
        fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
        fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
        fn event(&self, _: &Event<'_>) {}
        fn enter(&self, _: &span::Id) {}
        fn exit(&self, _: &span::Id) {}
    }
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Another global subscriber already in place is as good.
        let _ = tracing::subscriber::set_global_default(Undecided);
    });
}

/// Settings a test may change before the app starts.
pub fn test_config(database_url: String) -> Config {
    Config {
        database_url,
        bind: "127.0.0.1:0".parse().expect("addr"),
        jwt_secret: JWT_SECRET.into(),
        jwt_public_key_pem: None,
        admin_token: Some(ADMIN_TOKEN.into()),
        webhook_key: "test-webhook-key".into(),
        token_ttl: Duration::from_secs(3600),
        cache_ttl: Duration::from_secs(600),
        cache_max_bytes: 16 << 20,
        rate_reporting: RateQuota {
            limit: 10_000,
            period: Duration::from_secs(60),
        },
        rate_export: RateQuota {
            limit: 10_000,
            period: Duration::from_secs(60),
        },
        rate_ingest: RateQuota {
            limit: 10_000,
            period: Duration::from_secs(60),
        },
        db_pool_size: 4,
        db_acquire_timeout: Duration::from_secs(5),
        statement_timeout: Duration::from_secs(30),
        export_statement_timeout: Duration::from_secs(60),
        request_timeout: Duration::from_secs(60),
        body_idle_timeout: Duration::from_secs(10),
        rollups: true,
        row_level_security: true,
        // As in production; tests that need a fold ask for it (`fold`).
        fold_interval: Duration::from_millis(200),
    }
}

/// A response, buffered.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl TestResponse {
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// Asserts a problem+json body with `status`, and returns it.
    #[track_caller]
    pub fn problem(&self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.text()
        );
        assert_eq!(
            self.header("content-type").as_deref(),
            Some("application/problem+json"),
            "problem responses are application/problem+json"
        );
        let body = self.json();
        assert_eq!(body["status"], json!(status));
        assert!(
            body["title"].is_string() && body["type"].is_string() && body["detail"].is_string()
        );
        body
    }
}

/// One tenant as a test sees it: ids, secrets and a token with every role.
#[derive(Debug, Clone)]
pub struct TestTenant {
    pub id: Uuid,
    pub credentials: NewTenant,
    pub token: String,
}

pub struct TestApp {
    pub router: Router,
    pub pool: PgPool,
    pub state: AppState,
    pub tenant: TestTenant,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// For property tests, whose runner is synchronous: a runtime to
    /// `block_on` each case, and an app spawned on it.
    pub fn spawn_blocking() -> (tokio::runtime::Runtime, Self) {
        Self::spawn_blocking_with(|_| {})
    }

    /// [`Self::spawn_blocking`] with a configuration of its own.
    pub fn spawn_blocking_with(
        configure: impl FnOnce(&mut Config),
    ) -> (tokio::runtime::Runtime, Self) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let app = runtime.block_on(Self::spawn_with(configure));
        (runtime, app)
    }

    pub async fn spawn_with(configure: impl FnOnce(&mut Config)) -> Self {
        undecided_global_logs();
        let mut config = test_config(fresh_database_url().await);
        configure(&mut config);
        let pool = cx_reporting::state::connect(&config).await.expect("pool");
        let fold_interval = config.fold_interval;
        let state = AppState::new(pool.clone(), config);
        tokio::spawn(cx_reporting::ingest::fold::run(
            pool.clone(),
            fold_interval,
            state.fold_behind.clone(),
        ));
        let router = cx_reporting::app(state.clone());
        let mut app = Self {
            router,
            pool,
            state,
            tenant: TestTenant {
                id: Uuid::nil(),
                credentials: NewTenant {
                    tenant_id: Uuid::nil(),
                    client_id: String::new(),
                    client_secret: String::new(),
                    webhook_secret: String::new(),
                },
                token: String::new(),
            },
        };
        app.tenant = app.new_tenant("Acme").await;
        app
    }

    /// Creates another tenant with a token holding every role.
    pub async fn new_tenant(&self, name: &str) -> TestTenant {
        let credentials =
            cx_reporting::auth::tenants::create(&self.pool, &self.state.config.webhook_key, name)
                .await
                .expect("create tenant");
        let token = self.token_for(
            credentials.tenant_id,
            &credentials.client_id,
            &["Analytics", "Ingest", "Admin"],
        );
        TestTenant {
            id: credentials.tenant_id,
            credentials,
            token,
        }
    }

    /// A token as `cx-reporting token` would mint it.
    pub fn token_for(&self, tenant: Uuid, subject: &str, roles: &[&str]) -> String {
        let claims = Claims {
            sub: subject.to_owned(),
            tid: tenant,
            roles: roles.iter().map(|r| r.to_string()).collect(),
            exp: chrono::Utc::now().timestamp() + 3600,
            iat: None,
        };
        auth::mint(JWT_SECRET, &claims).expect("mint")
    }

    /// Sends a request through the router.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> TestResponse {
        let mut builder = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = builder.body(Body::from(body)).expect("request");
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
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

    /// POSTs JSON with the given bearer token.
    pub async fn post_as(&self, token: &str, path: &str, body: &Value) -> TestResponse {
        let auth = format!("Bearer {token}");
        self.request(
            Method::POST,
            path,
            &[
                ("authorization", &auth),
                (header::CONTENT_TYPE.as_str(), "application/json"),
            ],
            serde_json::to_vec(body).expect("json"),
        )
        .await
    }

    /// POSTs JSON as this app's tenant.
    pub async fn post(&self, path: &str, body: &Value) -> TestResponse {
        self.post_as(&self.tenant.token, path, body).await
    }

    /// Ingests events as `tenant`; asserts success and returns the answer.
    pub async fn ingest_as(&self, tenant: &TestTenant, events: &Value) -> Value {
        let response = self
            .post_as(&tenant.token, "/ingest/v1/events", events)
            .await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "ingest failed: {}",
            response.text()
        );
        response.json()
    }

    pub async fn ingest(&self, events: &Value) -> Value {
        let tenant = self.tenant.clone();
        self.ingest_as(&tenant, events).await
    }

    /// Calls a reporting tile (uncached) and asserts 200.
    pub async fn report(&self, tile: &str, body: &Value) -> Value {
        self.report_response(tile, body).await.json()
    }

    /// Calls a reporting tile (uncached), asserts 200, and returns the
    /// whole response (for its headers, such as `X-Query-Plan`).
    pub async fn report_response(&self, tile: &str, body: &Value) -> TestResponse {
        let auth = format!("Bearer {}", self.tenant.token);
        let response = self
            .request(
                Method::POST,
                &format!("/reporting/v1.2/{tile}"),
                &[
                    ("authorization", &auth),
                    ("content-type", "application/json"),
                    ("cache-control", "no-cache"),
                ],
                serde_json::to_vec(body).expect("json"),
            )
            .await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "{tile} failed: {}",
            response.text()
        );
        response
    }

    /// Folds the rollup deltas into the rollups now, as the background
    /// worker does (waiting out a fold it is running); returns the delta
    /// rows folded.
    pub async fn fold(&self) -> u64 {
        loop {
            let folded = cx_reporting::ingest::fold::fold_once(&self.pool)
                .await
                .expect("fold");
            if !folded.skipped {
                return folded.deltas;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// A router over the same database that answers from the raw tables
    /// only (the reference the rollup path is compared with).
    pub fn raw_router(&self) -> axum::Router {
        let mut config = (*self.state.config).clone();
        config.rollups = false;
        cx_reporting::app(AppState::new(self.pool.clone(), config))
    }

    /// Calls the export twin of a tile and returns its CSV.
    pub async fn export(&self, tile: &str, body: &Value) -> String {
        let response = self
            .post(&format!("/reporting/export/v1.2/{tile}"), body)
            .await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "export {tile} failed: {}",
            response.text()
        );
        assert_eq!(
            response.header("content-type").as_deref(),
            Some("text/csv; charset=utf-8")
        );
        response.text()
    }
}

/// An `interaction.state_changed` event.
pub fn audit(id: &str, interaction: &str, at: &str, old: Option<&str>, new: &str) -> Value {
    json!({
        "id": id,
        "type": "interaction.state_changed",
        "occurredAt": at,
        "interactionId": interaction,
        "reference": format!("REF-{interaction}"),
        "channel": "Email",
        "oldState": old,
        "newState": new,
    })
}

/// `audit` with fields merged in (channel, queueId, userId, data…).
pub fn audit_with(
    id: &str,
    interaction: &str,
    at: &str,
    old: Option<&str>,
    new: &str,
    extra: Value,
) -> Value {
    let mut event = audit(id, interaction, at, old, new);
    if let (Some(map), Value::Object(extra)) = (event.as_object_mut(), extra) {
        map.extend(extra);
    }
    event
}

/// The runner settings of a property test named `name`: `PROPTEST_CASES`
/// cases when that variable is set (`scripts/proptest` sets 2,000), else
/// `default_cases`; failing cases are kept in
/// `proptest-regressions/api/<name>.txt` (relative to the package root,
/// the working directory of `cargo test`) and replayed first on every run.
pub fn proptest_config(name: &str, default_cases: u32) -> proptest::test_runner::Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default_cases);
    // `Direct` wants a `&'static str`: one small leak per test run.
    let path: &'static str =
        Box::leak(format!("proptest-regressions/api/{name}.txt").into_boxed_str());
    proptest::test_runner::Config {
        cases,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct(path),
        )),
        ..proptest::test_runner::Config::default()
    }
}
