//! `POST /ingest/v1/events`: validate a whole batch, store it atomically.

pub mod conversations;
pub mod datasources;
pub mod derive;
pub mod durations;
pub mod events;
pub mod fold;
pub mod presence;
pub mod rollups;
pub mod store;
pub mod twoway;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{self, Principal};
use crate::domain::Role;
use crate::error::{ApiError, FieldError, Result};
use crate::state::AppState;

/// At most this many events in one batch.
pub const MAX_EVENTS: usize = 10_000;
/// At most this many bytes in one batch.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// What a stored batch did.
#[derive(Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct IngestResponse {
    /// Events in the batch.
    pub received: u64,
    /// Events stored now.
    pub inserted: u64,
    /// Events whose id was already stored (or repeated in the batch): no-ops.
    pub duplicates: u64,
}

/// Reads a request body of at most [`MAX_BODY_BYTES`] (else 413), which
/// may pause at most `idle` between chunks (else 408).
pub async fn read_body(body: Body, idle: std::time::Duration) -> Result<Bytes> {
    crate::limits::body::read(body, MAX_BODY_BYTES, idle, || {
        ApiError::PayloadTooLarge(format!(
            "A batch may be at most {MAX_BODY_BYTES} bytes (16 MiB)."
        ))
    })
    .await
}

/// Middleware for ingestion: a bearer token with the `Ingest` role, or, with
/// no token, a webhook signature (`X-Tenant-Id` + `X-Signature-256` over the
/// raw body with the tenant's webhook secret).
pub async fn authenticate(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response> {
    if auth::bearer(request.headers()).is_some() {
        return auth::require_role(State((state, Role::Ingest)), request, next).await;
    }
    let (mut parts, body) = request.into_parts();
    let unauthorized = |why: &str| ApiError::Unauthorized(why.to_owned());
    let tenant_id = parts
        .headers
        .get("x-tenant-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Uuid::parse_str(v.trim()).ok())
        .ok_or_else(|| {
            unauthorized("A bearer token, or X-Tenant-Id with X-Signature-256, is required.")
        })?;
    let signature = parts
        .headers
        .get("x-signature-256")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| unauthorized("X-Signature-256 is required with X-Tenant-Id."))?;
    let bytes = read_body(body, state.config.body_idle_timeout).await?;
    let secret = auth::tenants::webhook_secret(&state, tenant_id)
        .await?
        .ok_or_else(|| unauthorized("The signature does not match."))?;
    if !auth::secrets::signature_matches(&secret, &bytes, &signature) {
        return Err(unauthorized("The signature does not match."));
    }
    let principal = Principal {
        tenant_id,
        subject: "webhook".into(),
        roles: vec![Role::Ingest],
    };
    parts.extensions.insert(principal.clone());
    let request = Request::from_parts(parts, Body::from(bytes));
    let mut response = crate::tenancy::scope(tenant_id, next.run(request)).await;
    response.extensions_mut().insert(principal);
    Ok(response)
}

/// Parses a JSON array or NDJSON body into its events.
fn parse_batch(headers: &HeaderMap, bytes: &[u8]) -> Result<Vec<Value>> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let ndjson = ["ndjson", "jsonl", "jsonlines", "json-seq"]
        .iter()
        .any(|t| content_type.contains(t));
    if ndjson {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| ApiError::bad_request("", "the body is not UTF-8"))?;
        return text
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(n, line)| {
                serde_json::from_str(line).map_err(|e| {
                    ApiError::bad_request(format!("line {}", n + 1), format!("not JSON: {e}"))
                })
            })
            .collect();
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Array(items)) => Ok(items),
        Ok(_) => Err(ApiError::bad_request(
            "",
            "the body must be a JSON array of events, or NDJSON with Content-Type application/x-ndjson",
        )),
        Err(e) => Err(ApiError::bad_request("", format!("the body is not JSON: {e}"))),
    }
}

/// Ingest a batch of audit events.
///
/// Body: a JSON array, or NDJSON (`Content-Type: application/x-ndjson`), of
/// at most 10,000 events and 16 MiB. The batch is validated whole: if any
/// event is invalid the answer is 422 with one entry per bad event (`field`
/// is `[index].path`) and nothing is stored. Otherwise the batch is stored
/// atomically; an id already stored is a no-op counted in `duplicates`.
/// A stored event counts in every uncached answer as soon as the batch is
/// acknowledged, and survives a crash of the service from then on. Fields
/// an event kind does not define are accepted and ignored (senders add
/// fields over time; a missing or misspelled required field is still 422).
/// Authenticate with a bearer token holding `Ingest`, or sign the raw body
/// (`X-Tenant-Id` + `X-Signature-256: sha256=<hex HMAC-SHA256>`).
#[utoipa::path(
    post, path = "/ingest/v1/events", tag = "ingest",
    request_body(content = Vec<Object>, description = "Events (JSON array or NDJSON)", content_type = "application/json"),
    params(
        ("X-Tenant-Id" = Option<String>, Header, description = "Tenant, for signed webhooks"),
        ("X-Signature-256" = Option<String>, Header, description = "sha256=<hex HMAC-SHA256 of the body>, for signed webhooks"),
    ),
    responses(
        (status = 200, body = IngestResponse),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json", description = "Not a JSON array or NDJSON"),
        (status = 401, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, body = crate::error::Problem, content_type = "application/problem+json", description = "Over 10,000 events or 16 MiB"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json", description = "One entry per bad event; nothing stored"),
        (status = 429, body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("webhookSignature" = []))
)]
pub async fn ingest(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<IngestResponse>> {
    let bytes = read_body(body, state.config.body_idle_timeout).await?;
    let items = parse_batch(&headers, &bytes)?;
    if items.len() > MAX_EVENTS {
        return Err(ApiError::PayloadTooLarge(format!(
            "A batch may hold at most {MAX_EVENTS} events; this one has {}.",
            items.len()
        )));
    }
    let mut valid = Vec::with_capacity(items.len());
    let mut errors: Vec<FieldError> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        match events::validate(index, item) {
            Ok(event) => valid.push(event),
            Err(error) => errors.push(error),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Unprocessable {
            detail: format!(
                "{} of {} events are invalid; nothing was stored.",
                errors.len(),
                items.len()
            ),
            errors,
        });
    }
    // Back pressure: while the fold is behind, each batch waits up to a
    // second for it, so the deltas (which every reader adds) stay small.
    for _ in 0..50 {
        if !state.fold_behind.load(std::sync::atomic::Ordering::Relaxed) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let stored = store::store_batch(&state.pool, principal.tenant_id, &valid).await?;
    if stored.inserted > 0 {
        // Cached answers of this tenant no longer hold.
        state.cache.invalidate_tenant(principal.tenant_id);
    }
    let received = items.len() as u64;
    state.metrics.events_ingested(stored.inserted);
    Ok(Json(IngestResponse {
        received,
        inserted: stored.inserted,
        duplicates: received - stored.inserted,
    }))
}
