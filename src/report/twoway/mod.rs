//! Two-way activity (API.md §5.3): the listing of the webhook's events, its
//! flat-file export, and the scheduled files (written by [`schedule::run`]
//! in the running service). The webhook itself is
//! [`crate::ingest::twoway`].

pub mod activity;
pub mod files;
pub mod schedule;

use axum::routing::{get, post};
use axum::Router;
use utoipa::OpenApi;

use super::{EXPORT_PREFIX, JSON_PREFIX};
use crate::state::AppState;

/// The JSON routes: the listing and the scheduled files.
pub fn json_routes() -> Router<AppState> {
    Router::new()
        .route(
            &format!("{JSON_PREFIX}/twoway/activity"),
            post(activity::list),
        )
        .route(
            &format!("{JSON_PREFIX}/twoway/activity/files"),
            get(files::list),
        )
        .route(
            &format!("{JSON_PREFIX}/twoway/activity/files/{{id}}"),
            get(files::get),
        )
}

/// The export twin of the listing.
pub fn export_routes() -> Router<AppState> {
    Router::new().route(
        &format!("{EXPORT_PREFIX}/twoway/activity"),
        post(activity::export),
    )
}

/// The OpenAPI operations of the webhook, the listing and the files.
#[derive(OpenApi)]
#[openapi(
    paths(
        crate::ingest::twoway::webhook,
        activity::list,
        activity::export,
        files::list,
        files::get,
    ),
    components(schemas(
        activity::ActivityBody,
        activity::ActivityFilters,
        files::FileList,
        files::FileEntry,
    )),
    tags((name = "twoway", description = "Two-way activity (the flat file) and its scheduled files"))
)]
pub struct TwoWayDoc;
