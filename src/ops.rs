//! Operational endpoints: liveness, readiness, metrics.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};

use crate::error::{ApiError, Result};
use crate::state::{AppState, MIGRATOR};

/// Liveness: the process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "Up")))]
pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// Readiness: the database answers and every migration is applied. A 503
/// carries `Retry-After`; liveness (`/healthz`) holds meanwhile.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses(
    (status = 200, description = "Ready"),
    (status = 503, body = crate::error::Problem, content_type = "application/problem+json",
        description = "Database unreachable, no free connection, or migrations pending; see Retry-After"),
))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Value>> {
    let applied: i64 = sqlx::query_scalar("select count(*) from _sqlx_migrations where success")
        .fetch_one(&state.pool)
        .await
        .map_err(|error| {
            tracing::warn!(error = ?error, "not ready: the database does not answer");
            ApiError::ServiceUnavailable(
                "The database did not answer (unreachable, no free connection, or not migrated)."
                    .into(),
            )
        })?;
    let expected = MIGRATOR.iter().count() as i64;
    if applied < expected {
        return Err(ApiError::ServiceUnavailable(format!(
            "Migrations pending: {applied} of {expected} applied."
        )));
    }
    Ok(Json(json!({ "status": "ready" })))
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
