//! Conversation interval summaries (API.md §5.2, from the Natterbox seed):
//! what happened in each conversation over each interval of a fixed grid,
//! as JSON under `/reporting/v1.2` and streamed CSV under
//! `/reporting/export/v1.2`.

mod summary;

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use self::summary::Intervals;
use super::csv::check_accept;
use super::listing::{self, ExportErrors, ListingErrors, ListingFilters, Scope};
use super::request::parse_json;
use super::{read_body, EXPORT_PREFIX, JSON_PREFIX};
use crate::auth::Principal;
use crate::error::{ApiError, Result};
use crate::state::AppState;

const PATH: &str = "conversations/intervals";

/// The shortest and longest interval, in hours (the seed's 1 to 48).
const HOURS: std::ops::RangeInclusive<i64> = 1..=48;

/// The JSON routes of §5.2.
pub fn json_routes() -> Router<AppState> {
    Router::new().route(&format!("{JSON_PREFIX}/{PATH}"), post(intervals))
}

/// The CSV export route of §5.2.
pub fn export_routes() -> Router<AppState> {
    Router::new().route(&format!("{EXPORT_PREFIX}/{PATH}"), post(export_intervals))
}

/// The body of an intervals request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IntervalsBody {
    pub filters: ListingFilters,
    /// The grid's step in whole hours, 1–48 (else 422); default the
    /// tenant's `reportingIntervalHours` (`/settings/v1`).
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 48, example = 2)]
    pub interval_hours: Option<WholeHours>,
}

/// A whole number of hours: a JSON integer, or a number without a
/// fraction (`2.0`, an integer to JSON Schema); `1.5` is a 400. Values past
/// the range of i64 saturate (and are then refused as out of range, 422).
#[derive(Debug, Clone, Copy)]
pub struct WholeHours(i64);

impl<'de> Deserialize<'de> for WholeHours {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let number = serde_json::Number::deserialize(deserializer)?;
        if let Some(whole) = number.as_i64() {
            return Ok(Self(whole));
        }
        match number.as_f64() {
            // `as` saturates: a huge whole number stays out of range.
            Some(hours) if hours.fract() == 0.0 => Ok(Self(hours as i64)),
            _ => Err(serde::de::Error::custom(format!(
                "must be a whole number of hours, not {number}"
            ))),
        }
    }
}

/// Reads, parses and validates a request, taking the default interval
/// from the tenant's settings.
async fn parse(state: &AppState, tenant_id: Uuid, body: Body) -> Result<Intervals> {
    let bytes = read_body(body, state.config.body_idle_timeout).await?;
    let body: IntervalsBody = parse_json(&bytes, "")?;
    let hours = match body.interval_hours {
        Some(WholeHours(hours)) => hours,
        None => i64::from(
            crate::settings::load(&state.pool, tenant_id)
                .await?
                .reporting_interval_hours,
        ),
    };
    let hours = match i32::try_from(hours) {
        Ok(h) if HOURS.contains(&hours) => h,
        _ => {
            return Err(ApiError::unprocessable(
                "intervalHours",
                format!(
                    "must be a whole number of hours from {} to {}",
                    HOURS.start(),
                    HOURS.end()
                ),
            ))
        }
    };
    Ok(Intervals::new(Scope::parse(body.filters)?, hours))
}

/// Conversation interval summaries.
///
/// The grid starts at 00:00 UTC of `from`'s day and runs on in steps of
/// `intervalHours` without restarting at midnight (5 h: 00–05, 05–10,
/// 10–15, 15–20, 20–01, …); each interval is reported with its grid bounds,
/// not clipped to the range. Counted: `message.created` events with a
/// `conversationId` and `occurredAt` in `[from, to)`; `channels`, `queues`
/// and `accounts` match each message's own. One row per conversation ×
/// interval × sender type × user × `fromAddress` × `toAddress` (× channel,
/// which splits a row only when a conversation changes channel within an
/// interval). The response times are those of the row's messages that
/// answer by the first-answer rule (API.md §5), whose earlier run may lie
/// in an earlier interval or before `from`. At most 1,000 rows. Range at
/// most 31 days.
#[utoipa::path(
    post, path = "/reporting/v1.2/conversations/intervals", tag = "conversations",
    request_body = IntervalsBody,
    responses((status = 200, body = summary::IntervalRows), ListingErrors),
    security(("bearer" = []))
)]
pub async fn intervals(
    State(state): State<AppState>,
    principal: Principal,
    request: Body,
) -> Result<Response> {
    let listing = parse(&state, principal.tenant_id, request).await?;
    listing::json_rows(&state.pool, principal.tenant_id, &listing).await
}

/// CSV of `/conversations/intervals`: `intervalStart, intervalEnd,
/// intervalDurationMinutes, conversationId, userId, userName,
/// initiationMethod, channel, senderType, fromAddress, toAddress,
/// keywordOptInCount, keywordOptOutCount, minResponseTime, maxResponseTime,
/// averageResponseTime, textMessages, images, audio, video, otherFiles,
/// allMessages`, streamed, at most 1,000,000 rows.
#[utoipa::path(
    post, path = "/reporting/export/v1.2/conversations/intervals", tag = "export",
    request_body = IntervalsBody,
    responses(
        (status = 200, content_type = "text/csv; charset=utf-8", body = String),
        ListingErrors, ExportErrors
    ),
    security(("bearer" = []))
)]
pub async fn export_intervals(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    request: Body,
) -> Result<Response> {
    check_accept(&headers)?;
    let listing = parse(&state, principal.tenant_id, request).await?;
    let timeout = state.config.export_statement_timeout;
    listing::csv_stream(&state.pool, principal.tenant_id, listing, timeout).await
}

/// The OpenAPI part of §5.2, merged into the served document.
#[derive(OpenApi)]
#[openapi(
    paths(intervals, export_intervals),
    components(schemas(
        IntervalsBody,
        summary::IntervalRow,
        summary::IntervalRows,
        summary::SenderType,
    ))
)]
pub struct IntervalsDoc;
