//! The two-way activity rows (API.md §5.3): the events with `event_time`
//! in `[from, to)`, ordered by `event_time, ccid` (C collation; then the
//! kind, so the order is total), each row exactly the twenty properties.
//! One query serves the JSON listing, its export and the scheduled files.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Principal;
use crate::error::{ApiError, Result};
use crate::ingest::events::Instant;
use crate::ingest::twoway::COLUMNS;
use crate::report::csv::{check_accept, push_field, record};
use crate::report::request::parse_json;
use crate::report::view::{stream_csv, CsvExport, JSON_ROWS};
use crate::state::AppState;

/// The longest range of a listing (API.md §5).
pub const MAX_RANGE_DAYS: i64 = 31;

/// `filters` of the listing.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ActivityFilters {
    /// Start of the range of `event_time`, inclusive; RFC 3339 with an offset.
    #[schema(value_type = String, format = DateTime)]
    pub from: Instant,
    /// End of the range, exclusive; at most 31 days after `from`.
    #[schema(value_type = String, format = DateTime)]
    pub to: Instant,
}

/// The body of the listing and its export.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ActivityBody {
    pub filters: ActivityFilters,
}

/// A validated range of `event_time`.
#[derive(Debug, Clone, Copy)]
pub struct ActivityQuery {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl ActivityQuery {
    /// Parses a body: 400 when it does not fit, 422 for a range that is
    /// empty or longer than 31 days.
    pub fn parse(body: &[u8]) -> Result<Self> {
        let body: ActivityBody = parse_json(body, "")?;
        let (from, to) = (body.filters.from.0, body.filters.to.0);
        if to <= from {
            return Err(ApiError::unprocessable(
                "filters.to",
                "must be after filters.from",
            ));
        }
        if to - from > Duration::days(MAX_RANGE_DAYS) {
            return Err(ApiError::unprocessable(
                "filters.to",
                format!("the range from filters.from to filters.to may be at most {MAX_RANGE_DAYS} days"),
            ));
        }
        Ok(Self { from, to })
    }

    /// The rows of `tenant_id` in the range, at most `limit` (`None`: all).
    pub fn build<'a>(&self, tenant_id: Uuid, limit: Option<i64>) -> QueryBuilder<'a, Postgres> {
        let mut qb = QueryBuilder::new(
            "select agent_email, agent_first_name, agent_last_name, agent_roles, \
             agent_control_group, ccid, customer_first_name, customer_last_name, \
             product_group_id, event_type, event_subtype, event_time, control_tag, \
             twoway_channel_sid, conversation_id, closed_reason, closed_additional_information, \
             after_hours_flag, sender_type, conversation_status \
             from twoway_events where tenant_id = ",
        );
        qb.push_bind(tenant_id)
            .push(" and event_time >= ")
            .push_bind(self.from)
            .push(" and event_time < ")
            .push_bind(self.to)
            .push(
                " order by event_time, ccid, event_type collate \"C\", \
                 event_subtype collate \"C\"",
            );
        if let Some(limit) = limit {
            qb.push(" limit ").push_bind(limit);
        }
        qb
    }
}

/// One row: the twenty values in column order (strings, the flag, null).
pub fn decode(row: &PgRow) -> sqlx::Result<Vec<Value>> {
    let mut values = Vec::with_capacity(COLUMNS.len());
    for (i, name) in COLUMNS.iter().enumerate() {
        values.push(match *name {
            "event_time" => {
                let at: DateTime<Utc> = row.try_get(i)?;
                Value::String(at.to_rfc3339_opts(SecondsFormat::AutoSi, true))
            }
            "after_hours_flag" => Value::Bool(row.try_get(i)?),
            _ => row
                .try_get::<Option<String>, _>(i)?
                .map_or(Value::Null, Value::String),
        });
    }
    Ok(values)
}

/// A row as a JSON object keyed by the twenty names, in order.
pub fn to_json(values: Vec<Value>) -> Value {
    let map: Map<String, Value> = COLUMNS
        .iter()
        .map(|c| (*c).to_owned())
        .zip(values)
        .collect();
    Value::Object(map)
}

/// Appends a row as one CSV record (null: an empty field).
pub fn push_csv(values: &[Value], out: &mut String) {
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match value {
            Value::String(s) => push_field(out, s),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            _ => {}
        }
    }
    out.push_str("\r\n");
}

/// The header record of the flat file.
pub fn header() -> String {
    record(&COLUMNS)
}

impl CsvExport for ActivityQuery {
    fn filename(&self) -> String {
        "twoway-activity".into()
    }
    fn header(&self) -> String {
        header()
    }
    fn sql(&self, tenant_id: Uuid, limit: i64) -> QueryBuilder<'_, Postgres> {
        self.build(tenant_id, Some(limit))
    }
    fn push_row(&self, row: &PgRow, out: &mut String) -> sqlx::Result<()> {
        decode(row).map(|values| push_csv(&values, out))
    }
}

/// List two-way activity events.
///
/// The events with `event_time` in `[from, to)` (at most 31 days, else
/// 422), ordered by `event_time`, then `ccid` (bytewise), then kind; each
/// row exactly the twenty properties of the webhook, snake_case, absent
/// ones `null`, `event_time` in UTC with `Z`, `after_hours_flag` as stored
/// (given or computed at ingestion). At most 1,000 rows: `truncated` is
/// true when more matched (the export streams them all, up to 1,000,000).
/// Late events (ingested after a scheduled file of their period was
/// written) are listed here and exported, but never added to that file.
#[utoipa::path(
    post, path = "/reporting/v1.2/twoway/activity", tag = "twoway",
    request_body = ActivityBody,
    responses(
        (status = 200, description = "`{\"rows\": [{agent_email, …, conversation_status}], \"truncated\"}`", body = Object, content_type = "application/json"),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json", description = "The body does not fit the schema"),
        (status = 401, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json", description = "The token lacks the Analytics role"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json", description = "`to` not after `from`, or a range over 31 days"),
        (status = 429, body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    body: axum::body::Body,
) -> Result<Response> {
    let body = crate::report::read_body(body, state.config.body_idle_timeout).await?;
    let query = ActivityQuery::parse(&body)?;
    let rows = query
        .build(principal.tenant_id, Some(JSON_ROWS + 1))
        .build()
        .fetch_all(&state.pool)
        .await?;
    let truncated = rows.len() as i64 > JSON_ROWS;
    let mut out = Vec::with_capacity(rows.len().min(JSON_ROWS as usize));
    for row in rows.iter().take(JSON_ROWS as usize) {
        out.push(to_json(decode(row)?));
    }
    Ok(axum::Json(json!({"rows": out, "truncated": truncated})).into_response())
}

/// Export two-way activity events: the flat file.
///
/// The same body and rows as the listing, as CSV (RFC 4180, UTF-8): a
/// header row of the twenty names in the seed's order (`agent_email, …,
/// conversation_status`), then one line per event (null: an empty field;
/// `after_hours_flag` `true`/`false`), streamed, at most 1,000,000 rows.
/// `Accept` must be absent, `*/*` or `text/csv`, else 404.
#[utoipa::path(
    post, path = "/reporting/export/v1.2/twoway/activity", tag = "export",
    request_body = ActivityBody,
    responses(
        (status = 200, description = "The flat file", content_type = "text/csv; charset=utf-8"),
        (status = 400, body = crate::error::Problem, content_type = "application/problem+json", description = "The body does not fit the schema"),
        (status = 401, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json", description = "The token lacks the Analytics role"),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json", description = "An Accept other than absent, */* or text/csv"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json", description = "`to` not after `from`, or a range over 31 days"),
        (status = 429, body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn export(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response> {
    let body: Bytes = crate::report::read_body(body, state.config.body_idle_timeout).await?;
    check_accept(&headers)?;
    let query = ActivityQuery::parse(&body)?;
    stream_csv(
        &state.pool,
        principal.tenant_id,
        query,
        state.config.export_statement_timeout,
    )
    .await
}
