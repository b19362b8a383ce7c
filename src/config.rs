//! Typed configuration, read once from the environment.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{bail, Context};

/// A rate-limit bucket: `limit` requests per `period`, refilled smoothly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateQuota {
    pub limit: u32,
    pub period: Duration,
}

impl std::str::FromStr for RateQuota {
    type Err = anyhow::Error;

    /// `600/60` is 600 requests per 60 seconds.
    fn from_str(s: &str) -> anyhow::Result<Self> {
        let (limit, seconds) = s
            .split_once('/')
            .context("expected LIMIT/SECONDS, e.g. 600/60")?;
        let limit: u32 = limit
            .trim()
            .parse()
            .context("LIMIT must be a whole number")?;
        let seconds: u64 = seconds
            .trim()
            .parse()
            .context("SECONDS must be a whole number")?;
        if limit == 0 || seconds == 0 {
            bail!("LIMIT and SECONDS must be positive");
        }
        Ok(Self {
            limit,
            period: Duration::from_secs(seconds),
        })
    }
}

#[derive(Clone)]
pub struct Config {
    pub database_url: String,
    pub bind: SocketAddr,
    /// HS256 key for tokens we issue and user tokens we accept.
    pub jwt_secret: String,
    /// PEM of an RS256 public key for user tokens signed elsewhere.
    pub jwt_public_key_pem: Option<String>,
    /// Operator token for `/admin/v1/tenants`; the route refuses all when unset.
    pub admin_token: Option<String>,
    /// Key from which each tenant's webhook secret is derived: required,
    /// and never the JWT secret, so one leaked key does not give both.
    pub webhook_key: String,
    pub token_ttl: Duration,
    pub cache_ttl: Duration,
    /// The cache holds at most this many bytes of answers (keys included).
    pub cache_max_bytes: u64,
    pub rate_reporting: RateQuota,
    pub rate_export: RateQuota,
    pub rate_ingest: RateQuota,
    pub db_pool_size: u32,
    /// How long a request waits for a free database connection (or for the
    /// database to accept one) before it is answered 503.
    pub db_acquire_timeout: Duration,
    pub statement_timeout: Duration,
    /// The statement timeout of a streamed CSV export, which runs on its own
    /// transaction rather than under the short `statement_timeout`.
    pub export_statement_timeout: Duration,
    /// Longest time to the response head; past it the request is 503.
    pub request_timeout: Duration,
    /// Longest pause between two chunks of a request body; past it the
    /// request is 408 (a stalled or trickling client, not the service).
    pub body_idle_timeout: Duration,
    /// Answer count and duration tiles from the rollups where they can.
    pub rollups: bool,
    /// Requests take their connections under PostgreSQL row-level security
    /// for their tenant ([`crate::tenancy`]); `false` only to measure its cost.
    pub row_level_security: bool,
    /// How often the background worker folds the rollup deltas into the
    /// rollups (readers add unfolded deltas, so this bounds their number,
    /// not freshness).
    pub fold_interval: Duration,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets are never printed.
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("cache_ttl", &self.cache_ttl)
            .field("rate_reporting", &self.rate_reporting)
            .field("rate_export", &self.rate_export)
            .field("rate_ingest", &self.rate_ingest)
            .field("db_pool_size", &self.db_pool_size)
            .field("db_acquire_timeout", &self.db_acquire_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .field("export_statement_timeout", &self.export_statement_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("body_idle_timeout", &self.body_idle_timeout)
            .field("fold_interval", &self.fold_interval)
            .finish_non_exhaustive()
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parsed<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T>
where
    T::Err: std::fmt::Display,
{
    match var(name) {
        None => Ok(default),
        Some(raw) => raw
            .parse()
            .map_err(|e| anyhow::anyhow!("{name}={raw:?} is not valid: {e}")),
    }
}

/// `CX_WEBHOOK_KEY`, checked: set, at least 32 characters, and not
/// `CX_JWT_SECRET` (a leak of one key must not also sign the other's).
fn webhook_key(value: Option<String>, jwt_secret: &str) -> anyhow::Result<String> {
    let key = value.context(
        "CX_WEBHOOK_KEY must be set (the key from which each tenant's webhook secret is \
         derived, at least 32 characters, different from CX_JWT_SECRET)",
    )?;
    if key.len() < 32 {
        bail!("CX_WEBHOOK_KEY must be at least 32 characters");
    }
    if key == jwt_secret {
        bail!("CX_WEBHOOK_KEY must differ from CX_JWT_SECRET: one leaked key must not give both");
    }
    Ok(key)
}

impl Config {
    /// Reads the environment, failing with a message naming the variable.
    pub fn from_env() -> anyhow::Result<Self> {
        let database_url = var("DATABASE_URL").context("DATABASE_URL must be set")?;
        Self::from_env_with(database_url)
    }

    /// As [`Config::from_env`], with the database given.
    pub fn from_env_with(database_url: String) -> anyhow::Result<Self> {
        let jwt_secret = var("CX_JWT_SECRET").context(
            "CX_JWT_SECRET must be set (the HS256 key for access tokens, at least 32 characters)",
        )?;
        if jwt_secret.len() < 32 {
            bail!("CX_JWT_SECRET must be at least 32 characters");
        }
        let jwt_public_key_pem = match var("CX_JWT_PUBLIC_KEY") {
            Some(v) if v.contains("BEGIN") => Some(v),
            Some(path) => Some(
                std::fs::read_to_string(&path)
                    .with_context(|| format!("CX_JWT_PUBLIC_KEY: cannot read {path}"))?,
            ),
            None => None,
        };
        Ok(Self {
            database_url,
            bind: parsed("CX_BIND", SocketAddr::from(([127, 0, 0, 1], 8080)))?,
            webhook_key: webhook_key(var("CX_WEBHOOK_KEY"), &jwt_secret)?,
            jwt_secret,
            jwt_public_key_pem,
            admin_token: var("CX_ADMIN_TOKEN"),
            token_ttl: Duration::from_secs(parsed("CX_TOKEN_TTL_SECONDS", 3600)?),
            cache_ttl: Duration::from_secs(parsed("CX_CACHE_TTL_SECONDS", 600)?),
            cache_max_bytes: parsed::<u64>("CX_CACHE_MAX_MB", 256)? << 20,
            rate_reporting: parsed("CX_RATE_REPORTING", "600/60".parse()?)?,
            rate_export: parsed("CX_RATE_EXPORT", "30/60".parse()?)?,
            rate_ingest: parsed("CX_RATE_INGEST", "1200/60".parse()?)?,
            db_pool_size: parsed("CX_DB_POOL_SIZE", 10)?,
            db_acquire_timeout: Duration::from_millis(parsed("CX_DB_ACQUIRE_TIMEOUT_MS", 5_000)?),
            statement_timeout: Duration::from_millis(parsed("CX_STATEMENT_TIMEOUT_MS", 15_000)?),
            export_statement_timeout: Duration::from_millis(parsed(
                "CX_EXPORT_STATEMENT_TIMEOUT_MS",
                300_000,
            )?),
            request_timeout: Duration::from_secs(parsed("CX_REQUEST_TIMEOUT_SECONDS", 60)?),
            body_idle_timeout: Duration::from_millis(parsed("CX_BODY_IDLE_TIMEOUT_MS", 10_000)?),
            rollups: parsed("CX_ROLLUPS", true)?,
            row_level_security: parsed("CX_ROW_LEVEL_SECURITY", true)?,
            fold_interval: Duration::from_millis(parsed("CX_FOLD_INTERVAL_MS", 200)?),
        })
    }
}

#[cfg(test)]
mod webhook_key_tests {
    use super::webhook_key;

    const JWT: &str = "a-jwt-secret-of-at-least-32-characters";

    #[test]
    fn the_webhook_key_is_required_long_and_separate() {
        let separate = "a-webhook-key-of-at-least-32-characters".to_owned();
        assert_eq!(
            webhook_key(Some(separate.clone()), JWT).expect("valid"),
            separate
        );
        for (value, message) in [
            (None, "CX_WEBHOOK_KEY must be set"),
            (Some("short".to_owned()), "at least 32 characters"),
            (Some(JWT.to_owned()), "must differ from CX_JWT_SECRET"),
        ] {
            let error = webhook_key(value, JWT).expect_err("refused").to_string();
            assert!(error.contains(message), "{error}");
        }
    }
}
