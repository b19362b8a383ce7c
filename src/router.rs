//! Every route, grouped by who calls it, with its middleware in one place.

use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use utoipa_swagger_ui::SwaggerUi;

use crate::domain::Role;
use crate::error::ApiError;
use crate::limits::{cache, rate::BucketKind};
use crate::state::AppState;
use crate::{auth, dashboard, ingest, limits, middleware, ops, report, settings, telemetry};

/// The largest body of the token and admin routes.
pub const PUBLIC_BODY_BYTES: usize = 1024 * 1024;

async fn not_found() -> ApiError {
    ApiError::NotFound
}

/// The whole application. Layers added later wrap the earlier ones, so each
/// group reads bottom-up as the order a request meets them. A group's
/// layers also wrap its 405 answers: a wrong method on an authenticated
/// route is 401 until the caller authenticates.
pub fn app(state: AppState) -> Router {
    // Dashboards: body limit → authenticate (Analytics) → rate limit →
    // cache → tile.
    let reporting = report::json_routes()
        .layer(from_fn_with_state(state.clone(), cache::layer))
        .layer(from_fn_with_state(
            (state.clone(), BucketKind::Reporting),
            limits::rate::layer,
        ))
        .layer(from_fn(telemetry::note_tenant))
        .layer(from_fn_with_state(
            (state.clone(), Role::Analytics),
            auth::require_role,
        ))
        .layer(from_fn_with_state(
            report::REQUEST_BODY_BYTES,
            middleware::limit_body,
        ));

    // Analysts: body limit → authenticate (Analytics) → the strictest rate
    // limit → CSV.
    let export = report::export_routes()
        .layer(from_fn_with_state(
            (state.clone(), BucketKind::Export),
            limits::rate::layer,
        ))
        .layer(from_fn(telemetry::note_tenant))
        .layer(from_fn_with_state(
            (state.clone(), Role::Analytics),
            auth::require_role,
        ))
        .layer(from_fn_with_state(
            report::REQUEST_BODY_BYTES,
            middleware::limit_body,
        ));

    // Integrators: body limit → token (Ingest) or webhook signature → rate
    // limit → batch (which reads the body under the same limit).
    let ingestion = Router::new()
        .route("/ingest/v1/events", post(ingest::ingest))
        .route("/ingest/v1/webhooks/twoway", post(ingest::twoway::webhook))
        .layer(DefaultBodyLimit::disable())
        .layer(from_fn_with_state(
            (state.clone(), BucketKind::Ingest),
            limits::rate::layer,
        ))
        .layer(from_fn(telemetry::note_tenant))
        .layer(from_fn_with_state(state.clone(), ingest::authenticate))
        .layer(from_fn_with_state(
            ingest::MAX_BODY_BYTES,
            middleware::limit_body,
        ));

    // Tenant administrators: body limit → authenticate (Admin) → settings.
    let administration = Router::new()
        .route(
            "/settings/v1",
            get(settings::get_settings).put(settings::put_settings),
        )
        .layer(from_fn(telemetry::note_tenant))
        .layer(from_fn_with_state(
            (state.clone(), Role::Admin),
            auth::require_role,
        ))
        .layer(from_fn_with_state(
            PUBLIC_BODY_BYTES,
            middleware::limit_body,
        ));

    // Unauthenticated, or authenticated by their own means.
    let public = Router::new()
        .route("/oauth/token", post(auth::token::issue))
        .route("/admin/v1/tenants", post(auth::tenants::create_route))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .merge(SwaggerUi::new("/docs").url("/openapi.json", crate::openapi::document()))
        .merge(dashboard::routes())
        .layer(DefaultBodyLimit::max(PUBLIC_BODY_BYTES))
        .layer(from_fn_with_state(
            PUBLIC_BODY_BYTES,
            middleware::limit_body,
        ));

    let routes = Router::new()
        .merge(reporting)
        .merge(export)
        .merge(ingestion)
        .merge(administration)
        .merge(public)
        .fallback(not_found);
    with_middleware(routes, state)
}

/// The middleware every request meets, in one ordered stack (read
/// bottom-up): log and count → catch a panic (500) → the request timeout
/// (503) → framework errors as problems → the route. Public so that tests
/// can put a route of their own under the very same stack.
pub fn with_middleware(routes: Router<AppState>, state: AppState) -> Router {
    routes
        .layer(from_fn(middleware::framework_errors_as_problems))
        .layer(from_fn_with_state(
            state.config.request_timeout,
            middleware::request_timeout,
        ))
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(from_fn_with_state(state.clone(), telemetry::log_requests))
        .with_state(state)
}
