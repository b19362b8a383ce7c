//! The ino.cx data sources (API.md §5.5): `POST
//! /reporting/v1.2/datasources/{name}/rows` lists the rows of one source
//! (`incoming-distributions`, `outgoing-distributions`, `messages`, `sms`)
//! with the columns asked for; its export twin streams them as CSV.

pub mod catalogue;
pub mod doc;
mod query;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use self::catalogue::{Column, INCOMING_COLUMNS, MESSAGES_COLUMNS, OUTGOING_COLUMNS, SMS_COLUMNS};
use self::query::RowsQuery;
use super::request::{non_empty, parse_json};
use super::{csv, read_body, EXPORT_PREFIX, JSON_PREFIX};
use crate::auth::Principal;
use crate::domain::{string_enum, SortOrder};
use crate::error::{ApiError, Result};
use crate::ingest::events::Instant;
use crate::state::AppState;

/// The path of the rows of a source, below the JSON or export prefix.
pub const ROWS_PATH: &str = "datasources/{name}/rows";

/// The longest range of a rows request (API.md §5).
pub const MAX_RANGE_DAYS: i64 = 31;

string_enum!(
    /// A data source of the ino.cx Reporter.
    Source {
        IncomingDistributions = "incoming-distributions",
        OutgoingDistributions = "outgoing-distributions",
        Messages = "messages",
        Sms = "sms",
    }
);

impl Source {
    /// Every column of the source, in the seed's order.
    pub fn columns(self) -> &'static [Column] {
        match self {
            Self::IncomingDistributions => INCOMING_COLUMNS,
            Self::OutgoingDistributions => OUTGOING_COLUMNS,
            Self::Messages => MESSAGES_COLUMNS,
            Self::Sms => SMS_COLUMNS,
        }
    }

    /// The columns shown when `columns` is absent: the seed's main list.
    pub fn default_columns(self) -> Vec<Column> {
        self.columns()
            .iter()
            .filter(|c| !c.additional)
            .copied()
            .collect()
    }

    /// The source's date, its default order: `distributionDate` or `sendDate`.
    pub fn date_column(self) -> &'static str {
        match self {
            Self::Sms => "sendDate",
            _ => "distributionDate",
        }
    }

    fn column(self, id: &str) -> Option<Column> {
        self.columns().iter().find(|c| c.id == id).copied()
    }

    fn valid_ids(self) -> String {
        let ids: Vec<&str> = self.columns().iter().map(|c| c.id).collect();
        ids.join(", ")
    }
}

/// `filters` of a rows request.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RowsFilters {
    /// Start of the range (the source's date), inclusive; RFC 3339 with an offset.
    #[schema(value_type = String, format = DateTime)]
    pub from: Instant,
    /// End of the range, exclusive; at most 31 days after `from`.
    #[schema(value_type = String, format = DateTime)]
    pub to: Instant,
    /// Only rows of these queues (`queueId`; an empty list is no filter).
    pub queues: Option<Vec<Uuid>>,
    /// Only rows of these users (`userId`; an empty list is no filter).
    pub users: Option<Vec<Uuid>>,
}

/// How rows are ordered.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct RowsOrder {
    /// A column id of the source.
    pub column: String,
    /// Default `Ascending`.
    pub direction: Option<SortOrder>,
}

/// The body of a rows request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RowsBody {
    pub filters: RowsFilters,
    /// Column ids of the source, in the order shown (default: the seed's
    /// main list; the SMS additional columns only when named).
    pub columns: Option<Vec<String>>,
    /// Default: the source's date, ascending.
    #[schema(value_type = Option<RowsOrder>)]
    pub order_by: Option<Value>,
}

/// Checks a rows request against the source's catalogue: every refusal is
/// a 422 naming the field (an unknown column lists the valid ones).
fn parse(source: Source, body: RowsBody) -> Result<RowsQuery> {
    let (from, to) = (body.filters.from.0, body.filters.to.0);
    check_range(from, to)?;
    let columns = match body.columns {
        None => source.default_columns(),
        Some(ids) if ids.is_empty() => {
            return Err(ApiError::unprocessable(
                "columns",
                "must hold at least one column id",
            ))
        }
        Some(ids) => {
            let mut columns: Vec<Column> = Vec::with_capacity(ids.len());
            for (i, id) in ids.iter().enumerate() {
                let column = source.column(id).ok_or_else(|| {
                    ApiError::unprocessable(
                        format!("columns[{i}]"),
                        format!(
                            "`{id}` is not a column of {source}; valid: {}",
                            source.valid_ids()
                        ),
                    )
                })?;
                if columns.contains(&column) {
                    return Err(ApiError::unprocessable(
                        format!("columns[{i}]"),
                        format!("`{id}` is named twice"),
                    ));
                }
                columns.push(column);
            }
            columns
        }
    };
    let (order, descending) = order_by(source, body.order_by)?;
    Ok(RowsQuery {
        source,
        from,
        to,
        queues: non_empty(body.filters.queues),
        users: non_empty(body.filters.users),
        columns,
        order,
        descending,
    })
}

/// `to` after `from`, at most [`MAX_RANGE_DAYS`] later.
fn check_range(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<()> {
    if to <= from {
        return Err(ApiError::unprocessable(
            "filters.to",
            "must be after filters.from",
        ));
    }
    if to - from > Duration::days(MAX_RANGE_DAYS) {
        return Err(ApiError::unprocessable(
            "filters.to",
            format!(
                "the range from filters.from to filters.to may be at most {MAX_RANGE_DAYS} days"
            ),
        ));
    }
    Ok(())
}

/// `orderBy`: `{"column", "direction"?}`; anything else is a 422.
fn order_by(source: Source, given: Option<Value>) -> Result<(Column, bool)> {
    let default = || source.column(source.date_column());
    let Some(value) = given.filter(|v| !v.is_null()) else {
        let date = default().ok_or_else(|| anyhow::anyhow!("{source} has no date column"))?;
        return Ok((date, false));
    };
    let id = value.get("column").and_then(Value::as_str);
    let column = id.and_then(|id| source.column(id)).ok_or_else(|| {
        ApiError::unprocessable(
            "orderBy.column",
            format!(
                "must be a column id of {source}, one of: {}",
                source.valid_ids()
            ),
        )
    })?;
    let descending = match value.get("direction") {
        None | Some(Value::Null) => false,
        Some(Value::String(d)) if d == SortOrder::Ascending.as_str() => false,
        Some(Value::String(d)) if d == SortOrder::Descending.as_str() => true,
        Some(_) => {
            return Err(ApiError::unprocessable(
                "orderBy.direction",
                "must be Ascending or Descending",
            ))
        }
    };
    Ok((column, descending))
}

/// The source named in the path; an unknown name is 404.
fn source(name: &str) -> Result<Source> {
    Source::ALL
        .iter()
        .copied()
        .find(|s| s.as_str() == name)
        .ok_or(ApiError::NotFound)
}

async fn rows_json(
    state: AppState,
    principal: Principal,
    name: &str,
    body: Body,
) -> Result<Response> {
    let source = source(name)?;
    let body = read_body(body, state.config.body_idle_timeout).await?;
    let query = parse(source, parse_json(&body, "")?)?;
    let rows = query::json_rows(&state.pool, principal.tenant_id, &query).await?;
    Ok(axum::Json(rows).into_response())
}

async fn rows_csv(
    state: AppState,
    principal: Principal,
    name: &str,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let source = source(name)?;
    csv::check_accept(&headers)?;
    let body = read_body(body, state.config.body_idle_timeout).await?;
    let query = parse(source, parse_json(&body, "")?)?;
    super::view::stream_csv(
        &state.pool,
        principal.tenant_id,
        query,
        state.config.export_statement_timeout,
    )
    .await
}

/// The JSON route of the data sources.
pub fn json_routes() -> Router<AppState> {
    Router::new().route(
        &format!("{JSON_PREFIX}/{ROWS_PATH}"),
        post(
            |State(state): State<AppState>,
             principal: Principal,
             Path(name): Path<String>,
             body: Body| async move { rows_json(state, principal, &name, body).await },
        ),
    )
}

/// The CSV export route of the data sources.
pub fn export_routes() -> Router<AppState> {
    Router::new().route(
        &format!("{EXPORT_PREFIX}/{ROWS_PATH}"),
        post(
            |State(state): State<AppState>,
             principal: Principal,
             Path(name): Path<String>,
             headers: HeaderMap,
             body: Body| async move {
                rows_csv(state, principal, &name, headers, body).await
            },
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::catalogue::Origin;
    use super::*;

    /// Every source's default order is a column of its own, its date.
    #[test]
    fn every_source_orders_by_its_date_by_default() {
        for source in Source::ALL {
            let (column, descending) = order_by(*source, None).expect("a default order");
            assert_eq!(
                (column.id, column.origin, descending),
                (source.date_column(), Origin::Date, false)
            );
        }
    }
}
