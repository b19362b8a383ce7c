//! Reporting: every tile of the table is served as JSON under
//! `/reporting/v1.2` and as CSV under `/reporting/export/v1.2`; both share
//! parsing, planning and the query, and differ only in rendering.

pub mod buckets;
pub mod csv;
pub mod datasources;
pub mod directory;
pub mod durations;
pub mod intervals;
pub mod json;
pub mod listing;
pub mod live;
pub mod plan;
pub mod presence;
pub mod raw;
pub mod request;
pub mod rollup;
pub mod segments;
pub mod sessions;
pub mod tiles;
pub mod twoway;
pub mod view;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;

use self::request::{parse_json, ReportBody, ReportQuery};
use self::tiles::Tile;
use crate::auth::Principal;
use crate::error::{body_too_large, Result};
use crate::state::AppState;

/// Path prefixes of the JSON API and its CSV mirror.
pub const JSON_PREFIX: &str = "/reporting/v1.2";
pub const EXPORT_PREFIX: &str = "/reporting/export/v1.2";

/// The largest body of a reporting or export request.
pub const REQUEST_BODY_BYTES: usize = 1024 * 1024;

/// Reads a request body of at most [`REQUEST_BODY_BYTES`] (else 413 naming
/// the limit), which may pause at most `idle` between chunks (else 408).
async fn read_body(body: Body, idle: std::time::Duration) -> Result<Bytes> {
    crate::limits::body::read(body, REQUEST_BODY_BYTES, idle, || {
        body_too_large(REQUEST_BODY_BYTES)
    })
    .await
}

async fn answer(
    state: &AppState,
    principal: &Principal,
    tile: Tile,
    body: &[u8],
) -> Result<plan::Answer> {
    let body: ReportBody = parse_json(body, "")?;
    let query = ReportQuery::from_body(&tile, body)?;
    plan::run(
        &state.pool,
        principal.tenant_id,
        tile.family,
        &query,
        state.config.rollups,
    )
    .await
}

async fn json_tile(
    tile: Tile,
    state: AppState,
    principal: Principal,
    body: Bytes,
) -> Result<Response> {
    let answer = answer(&state, &principal, tile, &body).await?;
    let mut response = json::render(&answer)?;
    mark_plan(&mut response, &answer);
    Ok(response)
}

async fn csv_tile(
    tile: Tile,
    state: AppState,
    principal: Principal,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    csv::check_accept(&headers)?;
    let answer = answer(&state, &principal, tile, &body).await?;
    let filename = tile.path().replace('/', "-");
    let mut response = csv::stream_response(csv::rows(&answer), &filename);
    mark_plan(&mut response, &answer);
    Ok(response)
}

/// `X-Query-Plan: rollup|raw` says which path of the planner answered.
fn mark_plan(response: &mut Response, answer: &plan::Answer) {
    response.headers_mut().insert(
        "x-query-plan",
        axum::http::HeaderValue::from_static(answer.plan.as_str()),
    );
}

async fn json_view(
    kind: view::ViewKind,
    state: AppState,
    principal: Principal,
    body: Bytes,
) -> Result<Response> {
    let body: view::ViewBody = parse_json(&body, "")?;
    let query = view::ViewQuery::from_body(kind, body)?;
    let rows = view::json_rows(&state.pool, principal.tenant_id, &query).await?;
    Ok(axum::Json(rows).into_response())
}

async fn csv_view(
    kind: view::ViewKind,
    state: AppState,
    principal: Principal,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    csv::check_accept(&headers)?;
    let body: view::ViewBody = parse_json(&body, "")?;
    let query = view::ViewQuery::from_body(kind, body)?;
    view::csv_stream(
        &state.pool,
        principal.tenant_id,
        query,
        state.config.export_statement_timeout,
    )
    .await
}

/// Every endpoint path below a prefix, with its handler kind.
#[derive(Clone, Copy)]
enum Endpoint {
    Tile(Tile),
    View(view::ViewKind),
}

fn endpoints() -> impl Iterator<Item = (String, Endpoint)> {
    let tiles = tiles::all()
        .into_iter()
        .map(|t| (t.path(), Endpoint::Tile(t)));
    let views = view::ViewKind::ALL
        .into_iter()
        .map(|v| (v.path().to_owned(), Endpoint::View(v)));
    tiles.chain(views)
}

/// The JSON routes of every tile and view, and of the data sources.
pub fn json_routes() -> Router<AppState> {
    let routes = (directory::routes())
        .merge(twoway::json_routes())
        .merge(datasources::json_routes())
        .merge(sessions::json_routes())
        .merge(intervals::json_routes());
    endpoints().fold(routes, |router, (path, endpoint)| {
        router.route(
            &format!("{JSON_PREFIX}/{path}"),
            post(
                move |State(state): State<AppState>, principal: Principal, body: Body| async move {
                    let body = read_body(body, state.config.body_idle_timeout).await?;
                    match endpoint {
                        Endpoint::Tile(tile) => json_tile(tile, state, principal, body).await,
                        Endpoint::View(kind) => json_view(kind, state, principal, body).await,
                    }
                },
            ),
        )
    })
}

/// The CSV export routes of every tile and view, and of the data sources.
pub fn export_routes() -> Router<AppState> {
    let routes = (twoway::export_routes())
        .merge(datasources::export_routes())
        .merge(sessions::export_routes())
        .merge(intervals::export_routes());
    endpoints().fold(routes, |router, (path, endpoint)| {
        router.route(
            &format!("{EXPORT_PREFIX}/{path}"),
            post(
                move |State(state): State<AppState>,
                      principal: Principal,
                      headers: HeaderMap,
                      body: Body| async move {
                    let body = read_body(body, state.config.body_idle_timeout).await?;
                    match endpoint {
                        Endpoint::Tile(tile) => {
                            csv_tile(tile, state, principal, headers, body).await
                        }
                        Endpoint::View(kind) => {
                            csv_view(kind, state, principal, headers, body).await
                        }
                    }
                },
            ),
        )
    })
}
