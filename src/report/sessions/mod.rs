//! Messaging sessions (API.md §5.4, from the Salesforce seed): the
//! sessions listing, their metrics and the delivery failures of messages,
//! each as JSON under `/reporting/v1.2` and as streamed CSV under
//! `/reporting/export/v1.2`.

mod failures;
mod list;
mod metrics;

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use utoipa::OpenApi;

use self::failures::{DeliveryFailures, FailureGroups};
use self::list::Sessions;
use self::metrics::SessionMetrics;
use super::csv::check_accept;
use super::listing::{self, ExportErrors, Listing, ListingBody, ListingErrors, Scope, EXPORT_ROWS};
use super::request::parse_json;
use super::{read_body, EXPORT_PREFIX, JSON_PREFIX};
use crate::auth::Principal;
use crate::error::Result;
use crate::state::AppState;

/// The JSON routes of §5.4.
pub fn json_routes() -> Router<AppState> {
    Router::new()
        .route(&format!("{JSON_PREFIX}/sessions"), post(sessions))
        .route(
            &format!("{JSON_PREFIX}/sessions/metrics"),
            post(session_metrics),
        )
        .route(
            &format!("{JSON_PREFIX}/messages/delivery-failures"),
            post(delivery_failures),
        )
}

/// The CSV export routes of §5.4.
pub fn export_routes() -> Router<AppState> {
    Router::new()
        .route(&format!("{EXPORT_PREFIX}/sessions"), post(export_sessions))
        .route(
            &format!("{EXPORT_PREFIX}/sessions/metrics"),
            post(export_session_metrics),
        )
        .route(
            &format!("{EXPORT_PREFIX}/messages/delivery-failures"),
            post(export_delivery_failures),
        )
}

/// Reads and validates a §5.4 body into the listing `make` builds.
async fn parse<L>(state: &AppState, body: Body, make: fn(Scope) -> L) -> Result<L> {
    let bytes = read_body(body, state.config.body_idle_timeout).await?;
    let body: ListingBody = parse_json(&bytes, "")?;
    Ok(make(Scope::parse(body.filters)?))
}

/// A CSV twin: `Accept` first (404), then the body, then the stream.
async fn export<L: Listing>(
    state: AppState,
    principal: Principal,
    headers: HeaderMap,
    request: Body,
    make: fn(Scope) -> L,
) -> Result<Response> {
    check_accept(&headers)?;
    let listing = parse(&state, request, make).await?;
    let timeout = state.config.export_statement_timeout;
    listing::csv_stream(&state.pool, principal.tenant_id, listing, timeout).await
}

/// Messaging sessions started in `[from, to)`.
///
/// A session is a conversation: started at its `conversation.started` (the
/// latest, by occurredAt then event id), ended at its `conversation.ended`
/// (the same way). `channels`, `queues` and `accounts` match the attributes
/// of that start. Ordered by `startTime`, ties by `sessionId` (bytewise);
/// at most 1,000 rows. Range at most 31 days.
#[utoipa::path(
    post, path = "/reporting/v1.2/sessions", tag = "messaging",
    request_body = ListingBody,
    responses((status = 200, description = "The sessions", body = list::SessionRows), ListingErrors),
    security(("bearer" = []))
)]
pub async fn sessions(
    State(state): State<AppState>,
    principal: Principal,
    request: Body,
) -> Result<Response> {
    let listing = parse(&state, request, Sessions).await?;
    listing::json_rows(&state.pool, principal.tenant_id, &listing).await
}

/// Six metric records for each session ended in `[from, to)`.
///
/// Sessions as in `/sessions`, taken by their end; the filters match their
/// start. Agent messages are the conversation's non-automated Outbound
/// messages, end-user messages its Inbound ones (all of the conversation's,
/// whenever sent). The response times are those of the messages of each
/// side that answer by the first-answer rule (API.md §5): their average and
/// maximum, null when none answers; the counts count messages. At most
/// 1,000 records.
#[utoipa::path(
    post, path = "/reporting/v1.2/sessions/metrics", tag = "messaging",
    request_body = ListingBody,
    responses((status = 200, description = "Six records per session", body = metrics::MetricRows), ListingErrors),
    security(("bearer" = []))
)]
pub async fn session_metrics(
    State(state): State<AppState>,
    principal: Principal,
    request: Body,
) -> Result<Response> {
    let listing = parse(&state, request, SessionMetrics).await?;
    listing::json_rows(&state.pool, principal.tenant_id, &listing).await
}

/// Messages whose delivery failed, by direction and status code.
///
/// Messages with `deliveryStatus` `Failed` and `occurredAt` in `[from,
/// to)`; `channels`, `queues` and `accounts` match each message's own.
/// Every group is answered (no `truncated`: the groups are as many as the
/// distinct status codes, at most 1,000,000).
#[utoipa::path(
    post, path = "/reporting/v1.2/messages/delivery-failures", tag = "messaging",
    request_body = ListingBody,
    responses((status = 200, description = "The groups", body = FailureGroups), ListingErrors),
    security(("bearer" = []))
)]
pub async fn delivery_failures(
    State(state): State<AppState>,
    principal: Principal,
    request: Body,
) -> Result<Response> {
    let listing = parse(&state, request, DeliveryFailures).await?;
    let (groups, _) =
        listing::fetch(&state.pool, principal.tenant_id, &listing, EXPORT_ROWS).await?;
    Ok(axum::Json(FailureGroups { groups }).into_response())
}

/// Messaging sessions (CSV).
///
/// The rows of `/reporting/v1.2/sessions` as CSV (`account` flattened):
/// `sessionId, status, channel, accountId, accountName, startTime, endTime,
/// endedByType, agentType, speedToAnswer, handleTime`, streamed, at most
/// 1,000,000 rows; null is an empty field.
#[utoipa::path(
    post, path = "/reporting/export/v1.2/sessions", tag = "export",
    request_body = ListingBody,
    responses(
        (status = 200, description = "RFC 4180 CSV, header row always", content_type = "text/csv; charset=utf-8", body = String),
        ListingErrors, ExportErrors
    ),
    security(("bearer" = []))
)]
pub async fn export_sessions(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    request: Body,
) -> Result<Response> {
    export(state, principal, headers, request, Sessions).await
}

/// Messaging session metrics (CSV).
///
/// The records of `/reporting/v1.2/sessions/metrics` as CSV: `sessionId,
/// metricType, value`, streamed, at most 1,000,000 rows; null is an empty
/// field.
#[utoipa::path(
    post, path = "/reporting/export/v1.2/sessions/metrics", tag = "export",
    request_body = ListingBody,
    responses(
        (status = 200, description = "RFC 4180 CSV, header row always", content_type = "text/csv; charset=utf-8", body = String),
        ListingErrors, ExportErrors
    ),
    security(("bearer" = []))
)]
pub async fn export_session_metrics(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    request: Body,
) -> Result<Response> {
    export(state, principal, headers, request, SessionMetrics).await
}

/// Message delivery failures (CSV).
///
/// The groups of `/reporting/v1.2/messages/delivery-failures` as CSV:
/// `direction, statusCode, count` (a null status code is an empty field).
#[utoipa::path(
    post, path = "/reporting/export/v1.2/messages/delivery-failures", tag = "export",
    request_body = ListingBody,
    responses(
        (status = 200, description = "RFC 4180 CSV, header row always", content_type = "text/csv; charset=utf-8", body = String),
        ListingErrors, ExportErrors
    ),
    security(("bearer" = []))
)]
pub async fn export_delivery_failures(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    request: Body,
) -> Result<Response> {
    export(state, principal, headers, request, DeliveryFailures).await
}

/// The OpenAPI part of §5.4, merged into the served document.
#[derive(OpenApi)]
#[openapi(
    paths(
        sessions,
        session_metrics,
        delivery_failures,
        export_sessions,
        export_session_metrics,
        export_delivery_failures
    ),
    components(schemas(
        listing::ListingBody,
        listing::ListingFilters,
        listing::Named,
        list::SessionRow,
        list::SessionRows,
        list::SessionStatus,
        list::AgentType,
        metrics::MetricRow,
        metrics::MetricRows,
        metrics::MetricType,
        failures::FailureGroup,
        FailureGroups,
    )),
    tags((name = "messaging", description = "Messaging sessions, their metrics, delivery failures (API.md 5.4)"))
)]
pub struct SessionsDoc;
