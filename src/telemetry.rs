//! Logs, request spans and Prometheus metrics.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use uuid::Uuid;

use crate::auth::Principal;
use crate::state::AppState;

/// Sets up `tracing`: JSON lines when `CX_LOG_FORMAT=json`, else text;
/// level from `RUST_LOG` (default `info`).
pub fn init() {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("CX_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[derive(Default)]
struct RouteStats {
    count: u64,
    seconds: f64,
}

/// Counters exposed at `/metrics`.
#[derive(Clone, Default)]
pub struct Metrics {
    requests: Arc<Mutex<BTreeMap<(String, u16), RouteStats>>>,
    events: Arc<AtomicU64>,
    cache_hits: Arc<AtomicU64>,
    cache_misses: Arc<AtomicU64>,
    rate_limited: Arc<AtomicU64>,
}

impl Metrics {
    fn request(&self, route: &str, status: u16, seconds: f64) {
        let mut map = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        let stats = map.entry((route.to_owned(), status)).or_default();
        stats.count += 1;
        stats.seconds += seconds;
    }

    pub fn events_ingested(&self, n: u64) {
        self.events.fetch_add(n, Ordering::Relaxed);
    }

    pub fn cache(&self, hit: bool) {
        let counter = if hit {
            &self.cache_hits
        } else {
            &self.cache_misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn rate_limited(&self) {
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP cx_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE cx_http_requests_total counter\n");
        let map = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        for ((route, status), stats) in map.iter() {
            out.push_str(&format!(
                "cx_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {}\n",
                stats.count
            ));
        }
        out.push_str("# HELP cx_http_request_duration_seconds_sum Time spent answering, by route and status.\n");
        out.push_str("# TYPE cx_http_request_duration_seconds_sum counter\n");
        for ((route, status), stats) in map.iter() {
            out.push_str(&format!(
                "cx_http_request_duration_seconds_sum{{route=\"{route}\",status=\"{status}\"}} {:.6}\n",
                stats.seconds
            ));
        }
        drop(map);
        let counters = [
            (
                "cx_events_ingested_total",
                "Events stored (duplicates excluded).",
                &self.events,
            ),
            (
                "cx_cache_hits_total",
                "Reporting answers served from the cache.",
                &self.cache_hits,
            ),
            (
                "cx_cache_misses_total",
                "Reporting answers computed.",
                &self.cache_misses,
            ),
            (
                "cx_rate_limited_total",
                "Requests refused with 429.",
                &self.rate_limited,
            ),
        ];
        for (name, help, value) in counters {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}\n",
                value.load(Ordering::Relaxed)
            ));
        }
        out
    }
}

/// The tenant of a request, once authentication has named it. The outer
/// middleware that log put an empty slot in the request and [`note_tenant`],
/// just inside authentication, fills it, so that even a request cut short
/// (timed out, panicked) is logged with its tenant.
#[derive(Clone, Default)]
pub struct RequestTenant(Arc<OnceLock<Uuid>>);

impl RequestTenant {
    /// The tenant, once authentication has named it.
    pub fn get(&self) -> Option<Uuid> {
        self.0.get().copied()
    }
}

/// Middleware, inside authentication: notes the principal's tenant in the
/// request's [`RequestTenant`].
pub async fn note_tenant(request: Request, next: Next) -> Response {
    let extensions = request.extensions();
    if let (Some(slot), Some(principal)) = (
        extensions.get::<RequestTenant>(),
        extensions.get::<Principal>(),
    ) {
        let _ = slot.0.set(principal.tenant_id);
    }
    next.run(request).await
}

/// The route template a request matched (`unmatched` for none).
pub fn route_of(request: &Request) -> String {
    request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned())
}

/// Middleware: one log line per request with tenant, route, status and
/// latency, and the request counters.
pub async fn log_requests(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = route_of(&request);
    let tenant_slot = RequestTenant::default();
    request.extensions_mut().insert(tenant_slot.clone());
    let response = next.run(request).await;
    let latency = started.elapsed();
    let status = response.status().as_u16();
    let tenant = tenant_slot
        .get()
        .or_else(|| {
            response
                .extensions()
                .get::<Principal>()
                .map(|p| p.tenant_id)
        })
        .map(|t| t.to_string())
        .unwrap_or_default();
    tracing::info!(
        target: "cx_reporting::request",
        %method,
        route = %route,
        status,
        tenant = %tenant,
        latency_ms = latency.as_secs_f64() * 1000.0,
        "request"
    );
    state.metrics.request(&route, status, latency.as_secs_f64());
    response
}
