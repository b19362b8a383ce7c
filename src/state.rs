//! The application state shared by every handler.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use axum::extract::FromRef;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use crate::config::Config;
use crate::limits::cache::ResponseCache;
use crate::limits::rate::RateLimits;
use crate::telemetry::Metrics;

/// Cheap to clone: every part is behind an `Arc` or is a pool handle.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub config: Arc<Config>,
    pub cache: ResponseCache,
    pub rate_limits: RateLimits,
    pub metrics: Metrics,
    /// Set by this process's fold worker while the rollup deltas are
    /// behind ([`crate::ingest::fold::run`]); ingest then waits a little.
    pub fold_behind: Arc<AtomicBool>,
}

impl AppState {
    pub fn new(pool: PgPool, config: Config) -> Self {
        Self {
            cache: ResponseCache::new(config.cache_ttl, config.cache_max_bytes),
            rate_limits: RateLimits::new(&config),
            metrics: Metrics::default(),
            fold_behind: Arc::new(AtomicBool::new(false)),
            config: Arc::new(config),
            pool,
        }
    }
}

impl FromRef<AppState> for PgPool {
    fn from_ref(state: &AppState) -> Self {
        state.pool.clone()
    }
}

/// The embedded migrations of `migrations/`.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A pool sized for a small host, with the statement timeout set on every
/// connection so no query can hang a request, and PostgreSQL's JIT off: a
/// tile's statement runs in a millisecond or two, but its cost estimate
/// (each segment's never-executed raw-edge branch counted in full) passes
/// `jit_above_cost` on large tenants, and compiling it then took 15 ms at
/// 5M events and about 200 ms at 20M on every custom plan (bench (b), (g)).
///
/// Plans are custom, made for each execution's values
/// (`plan_cache_mode=force_custom_plan`): the generic plan PostgreSQL
/// switches a prepared statement to after its fifth run left the rollup
/// key's `queue_id = any($n)` and `k1 = any($n)` out of the index condition
/// and read every rollup row of the tenant (55 ms instead of 1.5 ms for a
/// by-date tile in a bench run, most often under row-level security).
/// Planning costs about 0.1 ms a statement.
///
/// The pool is lazy: it opens connections on first use and never waits for
/// the database here, so the app starts (and `/healthz` answers) while the
/// database is down; requests then wait at most `db_acquire_timeout` for a
/// connection and are answered 503. `serve` still fails fast at startup,
/// because applying the migrations needs the database.
pub async fn connect(config: &Config) -> anyhow::Result<PgPool> {
    let options: PgConnectOptions = config.database_url.parse()?;
    let timeout_ms = config.statement_timeout.as_millis().to_string();
    let options = options
        .options([
            ("statement_timeout", timeout_ms.as_str()),
            ("jit", "off"),
            ("plan_cache_mode", "force_custom_plan"),
        ])
        .application_name("cx-reporting");
    // Each connection is set for the task that takes it: the request's
    // tenant under row-level security, or the service's own role
    // ([`crate::tenancy`]).
    let rls = config.row_level_security;
    let pool = PgPoolOptions::new()
        .max_connections(config.db_pool_size)
        .acquire_timeout(config.db_acquire_timeout)
        .after_connect(move |conn, _| Box::pin(crate::tenancy::prepare(conn, rls)))
        .before_acquire(move |conn, _| {
            Box::pin(async move { crate::tenancy::prepare(conn, rls).await.map(|()| true) })
        })
        .connect_lazy_with(options);
    Ok(pool)
}
