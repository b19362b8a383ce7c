//! Every route, grouped by who calls it, with its middleware in one place.

use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use utoipa_swagger_ui::SwaggerUi;

use crate::domain::Role;
use crate::error::ApiError;
use crate::limits::{cache, rate::BucketKind};
use crate::state::AppState;
use crate::{auth, ingest, limits, ops, report, telemetry};

async fn not_found() -> ApiError {
    ApiError::NotFound
}

/// The whole application. Layers added later wrap the earlier ones, so each
/// group reads bottom-up as the order a request meets them.
pub fn app(state: AppState) -> Router {
    // Dashboards: authenticate (Analytics) → rate limit → cache → tile.
    let reporting = report::json_routes()
        .layer(from_fn_with_state(state.clone(), cache::layer))
        .layer(from_fn_with_state(
            (state.clone(), BucketKind::Reporting),
            limits::rate::layer,
        ))
        .layer(from_fn_with_state(
            (state.clone(), Role::Analytics),
            auth::require_role,
        ));

    // Analysts: authenticate (Analytics) → the strictest rate limit → CSV.
    let export = report::export_routes()
        .layer(from_fn_with_state(
            (state.clone(), BucketKind::Export),
            limits::rate::layer,
        ))
        .layer(from_fn_with_state(
            (state.clone(), Role::Analytics),
            auth::require_role,
        ));

    // Integrators: token (Ingest) or webhook signature → rate limit → batch.
    let ingestion = Router::new()
        .route("/ingest/v1/events", post(ingest::ingest))
        .layer(DefaultBodyLimit::disable())
        .layer(from_fn_with_state(
            (state.clone(), BucketKind::Ingest),
            limits::rate::layer,
        ))
        .layer(from_fn_with_state(state.clone(), ingest::authenticate));

    // Unauthenticated, or authenticated by their own means.
    let public = Router::new()
        .route("/oauth/token", post(auth::token::issue))
        .route("/admin/v1/tenants", post(auth::tenants::create_route))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .merge(SwaggerUi::new("/docs").url("/openapi.json", crate::openapi::document()));

    let timeout = state.config.request_timeout;
    Router::new()
        .merge(reporting)
        .merge(export)
        .merge(ingestion)
        .merge(public)
        .fallback(not_found)
        .layer(from_fn_with_state(state.clone(), telemetry::log_requests))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .layer(CatchPanicLayer::new())
        .with_state(state)
}
