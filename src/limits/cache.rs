//! Response cache for `/reporting/**` JSON answers: per tenant and canonical
//! request (path + body with object keys sorted, arrays kept in order).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use uuid::Uuid;

use crate::auth::Principal;
use crate::error::{ApiError, Result};
use crate::state::AppState;

/// Reporting request bodies are small; this bounds what the cache buffers.
const MAX_REQUEST_BYTES: usize = 1024 * 1024;

#[derive(Clone)]
struct CachedResponse {
    stored_at: Instant,
    content_type: HeaderValue,
    body: Bytes,
}

/// The cache: a moka cache with a time-to-live, plus a generation per tenant
/// that an ingest bumps, so that answers cached before new events arrived
/// are never served again.
#[derive(Clone)]
pub struct ResponseCache {
    entries: moka::future::Cache<String, CachedResponse>,
    generations: Arc<Mutex<HashMap<Uuid, u64>>>,
}

impl ResponseCache {
    /// A cache of at most `max_bytes` of keys and answers, each kept `ttl`.
    pub fn new(ttl: Duration, max_bytes: u64) -> Self {
        Self {
            entries: moka::future::Cache::builder()
                .weigher(|key: &String, value: &CachedResponse| {
                    u32::try_from(key.len() + value.body.len()).unwrap_or(u32::MAX)
                })
                .max_capacity(max_bytes)
                .time_to_live(ttl)
                .build(),
            generations: Arc::default(),
        }
    }

    fn generation(&self, tenant_id: Uuid) -> u64 {
        let map = self.generations.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&tenant_id).copied().unwrap_or(0)
    }

    /// Makes every cached answer of the tenant unreachable.
    pub fn invalidate_tenant(&self, tenant_id: Uuid) {
        let mut map = self.generations.lock().unwrap_or_else(|e| e.into_inner());
        *map.entry(tenant_id).or_insert(0) += 1;
    }
}

/// Writes `value` with object keys sorted, whatever serde_json's map order.
pub fn canonical_json(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                canonical_json(&map[key.as_str()], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

fn wants_no_cache(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split(',')
                .any(|d| d.trim().eq_ignore_ascii_case("no-cache"))
        })
}

fn mark(response: &mut Response, hit: bool, age: Option<u64>) {
    let headers = response.headers_mut();
    headers.insert(
        "x-cache",
        HeaderValue::from_static(if hit { "HIT" } else { "MISS" }),
    );
    if let Some(age) = age {
        headers.insert(header::AGE, HeaderValue::from(age));
    }
}

/// Middleware: serves a cached answer (`X-Cache: HIT`, `Age`) or runs the
/// handler and caches a 200 (`X-Cache: MISS`). `Cache-Control: no-cache`
/// skips the lookup; its fresh answer still replaces the cached one.
pub async fn layer(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response> {
    let Some(principal) = request.extensions().get::<Principal>().cloned() else {
        return Ok(next.run(request).await);
    };
    // Only answers to POST are cached (the key holds no method): any other
    // method goes on to the router's 405.
    if request.method() != Method::POST {
        return Ok(next.run(request).await);
    }
    let no_cache = wants_no_cache(request.headers());
    let (parts, body) = request.into_parts();
    let idle = state.config.body_idle_timeout;
    let bytes = super::body::read(body, MAX_REQUEST_BYTES, idle, || {
        ApiError::PayloadTooLarge("A reporting request may be at most 1 MiB.".into())
    })
    .await?;
    let Ok(json) = serde_json::from_slice::<Value>(&bytes) else {
        // Not JSON: the handler answers 400; nothing to cache.
        return Ok(next
            .run(Request::from_parts(parts, Body::from(bytes)))
            .await);
    };
    let cache = &state.cache;
    let mut key = format!(
        "{}\n{}\n{}\n",
        principal.tenant_id,
        cache.generation(principal.tenant_id),
        parts.uri.path()
    );
    canonical_json(&json, &mut key);

    if !no_cache {
        if let Some(hit) = cache.entries.get(&key).await {
            let mut response = (StatusCode::OK, hit.body.clone()).into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, hit.content_type.clone());
            mark(&mut response, true, Some(hit.stored_at.elapsed().as_secs()));
            state.metrics.cache(true);
            return Ok(response);
        }
    }
    state.metrics.cache(false);
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    if response.status() != StatusCode::OK {
        let mut response = response;
        mark(&mut response, false, None);
        return Ok(response);
    }
    let (mut head, body) = response.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("buffering a response: {e}")))?;
    let content_type = head
        .headers
        .get(header::CONTENT_TYPE)
        .cloned()
        .unwrap_or(HeaderValue::from_static("application/json"));
    cache
        .entries
        .insert(
            key,
            CachedResponse {
                stored_at: Instant::now(),
                content_type,
                body: body.clone(),
            },
        )
        .await;
    head.headers
        .insert("x-cache", HeaderValue::from_static("MISS"));
    head.headers.insert(header::AGE, HeaderValue::from(0u64));
    Ok(Response::from_parts(head, Body::from(body)))
}
