//! The middleware that answer a failure themselves: a body over its limit,
//! a request past its time, a handler's panic, and any error the framework
//! answers bare. Each answers problem+json; `router.rs` orders them.

use std::any::Any;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{
    body_too_large, is_problem, problem_response, ApiError, Problem, RETRY_AFTER_SECONDS,
};
use crate::telemetry::{route_of, RequestTenant};

/// Middleware: answers 503 (problem+json, `Retry-After`) when the handler has
/// not produced a response within `limit`, and logs the request at warn
/// level. A streamed body is not timed: exports have their own statement
/// timeout.
pub async fn request_timeout(
    State(limit): State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = route_of(&request);
    let tenant = request.extensions().get::<RequestTenant>().cloned();
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            let tenant = tenant
                .and_then(|t| t.get())
                .map(|t| t.to_string())
                .unwrap_or_default();
            tracing::warn!(
                %method,
                route = %route,
                tenant = %tenant,
                elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
                "request timed out"
            );
            ApiError::RequestTimeout(limit).into_response()
        }
    }
}

/// Turns a handler's panic into a 500 problem (for
/// `CatchPanicLayer::custom`). The panic's message is logged, never sent.
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(a panic without a message)");
    tracing::error!(panic = message, "handler panicked");
    let status = StatusCode::INTERNAL_SERVER_ERROR;
    problem_response(
        &Problem::new(status, "internal", "An internal error occurred."),
        status,
    )
}

/// Middleware: refuses a body over `limit` bytes with a 413 problem naming
/// the limit: at once when `Content-Length` says so, or when an extractor's
/// own limit (set to the same number with `DefaultBodyLimit`) trips.
pub async fn limit_body(State(limit): State<usize>, request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return body_too_large(limit).into_response();
    }
    let response = next.run(request).await;
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_problem(&response) {
        return body_too_large(limit).into_response();
    }
    response
}

/// Middleware, the last line: an error the framework answers rather than a
/// handler (405 from the method router, an extractor's rejection, a layer's
/// bare status) becomes problem+json with the same status and headers
/// (`Allow` included), so no client ever meets an empty or plain-text error.
pub async fn framework_errors_as_problems(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_problem(&response) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // A rejection's text says what was wrong with the request; a server
    // error's text is internal.
    let text = match status.is_client_error() {
        true => axum::body::to_bytes(body, 4096)
            .await
            .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
            .unwrap_or_default(),
        false => String::new(),
    };
    let (slug, detail) = match status {
        StatusCode::NOT_FOUND => ("not-found", "not found".to_owned()),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method-not-allowed",
            format!("{method} is not allowed here; the Allow header lists the methods that are."),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "payload-too-large",
            "The request body is too large.".to_owned(),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported-media-type", text),
        _ if status.is_client_error() => ("invalid-request", text),
        StatusCode::SERVICE_UNAVAILABLE => (
            "unavailable",
            "The service is unavailable; retry shortly.".to_owned(),
        ),
        _ => ("internal", "An internal error occurred.".to_owned()),
    };
    if status.is_server_error() {
        tracing::error!(
            status = status.as_u16(),
            "bare server error answered as a problem"
        );
    }
    let detail = match detail.is_empty() {
        true => status.canonical_reason().unwrap_or("Error").to_owned(),
        false => detail,
    };
    if status == StatusCode::SERVICE_UNAVAILABLE && !parts.headers.contains_key(header::RETRY_AFTER)
    {
        parts
            .headers
            .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
    }
    let problem = problem_response(&Problem::new(status, slug, detail), status);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    Response::from_parts(parts, problem.into_body())
}
