//! Per-client rate limits (token subject within its tenant), with separate
//! buckets for reporting, export and ingest.
//!
//! Built on `governor` (the GCRA limiter under tower-governor) directly,
//! because the contract needs headers tower-governor does not emit: the IETF
//! draft's `RateLimit-Policy`/`RateLimit`, and `X-RateLimit-Reset` as the
//! seconds until the bucket is full again.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::auth::Principal;
use crate::config::{Config, RateQuota};
use crate::error::ApiError;
use crate::state::AppState;

type KeyedLimiter =
    RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// Which bucket a route draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketKind {
    Reporting,
    Export,
    Ingest,
}

impl BucketKind {
    fn name(self) -> &'static str {
        match self {
            Self::Reporting => "reporting",
            Self::Export => "export",
            Self::Ingest => "ingest",
        }
    }
}

struct Bucket {
    quota: RateQuota,
    limiter: KeyedLimiter,
}

impl Bucket {
    fn new(quota: RateQuota) -> Self {
        let limit = NonZeroU32::new(quota.limit).unwrap_or(NonZeroU32::MIN);
        let interval = quota.period / quota.limit.max(1);
        let governor_quota = Quota::with_period(interval.max(Duration::from_nanos(1)))
            .unwrap_or_else(|| Quota::per_second(limit))
            .allow_burst(limit);
        Self {
            quota,
            limiter: RateLimiter::keyed(governor_quota)
                .with_middleware::<StateInformationMiddleware>(),
        }
    }

    fn interval(&self) -> Duration {
        self.quota.period / self.quota.limit.max(1)
    }
}

/// The three buckets, shared by every request.
#[derive(Clone)]
pub struct RateLimits {
    reporting: Arc<Bucket>,
    export: Arc<Bucket>,
    ingest: Arc<Bucket>,
}

impl RateLimits {
    pub fn new(config: &Config) -> Self {
        Self {
            reporting: Arc::new(Bucket::new(config.rate_reporting)),
            export: Arc::new(Bucket::new(config.rate_export)),
            ingest: Arc::new(Bucket::new(config.rate_ingest)),
        }
    }

    fn bucket(&self, kind: BucketKind) -> &Bucket {
        match kind {
            BucketKind::Reporting => &self.reporting,
            BucketKind::Export => &self.export,
            BucketKind::Ingest => &self.ingest,
        }
    }
}

fn ceil_seconds(d: Duration) -> u64 {
    d.as_nanos().div_ceil(1_000_000_000) as u64
}

fn set_headers(
    headers: &mut HeaderMap,
    kind: BucketKind,
    quota: RateQuota,
    remaining: u32,
    reset: u64,
) {
    let window = quota.period.as_secs();
    let name = kind.name();
    let pairs = [
        ("x-ratelimit-limit", quota.limit.to_string()),
        ("x-ratelimit-remaining", remaining.to_string()),
        ("x-ratelimit-reset", reset.to_string()),
        (
            "ratelimit-policy",
            format!("\"{name}\";q={};w={window}", quota.limit),
        ),
        ("ratelimit", format!("\"{name}\";r={remaining};t={reset}")),
    ];
    for (header, value) in pairs {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(header, value);
        }
    }
}

/// Middleware: draws one request from the caller's bucket; 429 with
/// `Retry-After` when it is empty. Runs after authentication.
pub async fn layer(
    State((state, kind)): State<(AppState, BucketKind)>,
    request: Request,
    next: Next,
) -> Response {
    let Some(principal) = request.extensions().get::<Principal>() else {
        return next.run(request).await;
    };
    let bucket = state.rate_limits.bucket(kind);
    let key = principal.client_key();
    if bucket.limiter.len() > 100_000 {
        bucket.limiter.retain_recent();
    }
    match bucket.limiter.check_key(&key) {
        Ok(snapshot) => {
            let remaining = snapshot.remaining_burst_capacity();
            let reset = ceil_seconds(
                bucket.interval() * (bucket.quota.limit - remaining.min(bucket.quota.limit)),
            );
            let mut response = next.run(request).await;
            set_headers(response.headers_mut(), kind, bucket.quota, remaining, reset);
            response
        }
        Err(not_until) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let retry_after = ceil_seconds(wait).max(1);
            state.metrics.rate_limited();
            let mut response = ApiError::TooManyRequests {
                retry_after_seconds: retry_after,
            }
            .into_response();
            let reset = ceil_seconds(bucket.interval() * bucket.quota.limit);
            set_headers(response.headers_mut(), kind, bucket.quota, 0, reset);
            response
        }
    }
}
