//! What the listings of API.md §5 share: the `filters` of a range and
//! its channel, queue and account lists, the 31-day range, and the two
//! renderings of one SQL statement — JSON `{"rows":[…],"truncated"}` of at
//! most 1,000 rows, and the CSV export streamed from the database cursor
//! (up to 1,000,000 rows, memory flat whatever the count) with the same
//! fields as columns, by the views' export stream.

use std::fmt::Display;
use std::time::Duration;

use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize, Serializer};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, QueryBuilder};
use utoipa::ToSchema;
use uuid::Uuid;

use super::csv::{push_field, record};
use super::raw::push_any;
use super::request::non_empty;
use super::view::{stream_csv, CsvExport};
use crate::domain::Channel;
use crate::error::{ApiError, Result};
use crate::ingest::events::Instant;

/// Rows a JSON listing answers and a CSV export streams at most: the
/// views' limits.
pub use super::view::{EXPORT_ROWS, JSON_ROWS};
/// The longest range of a §5 listing: 31 days of elapsed time.
pub const MAX_RANGE_DAYS: i64 = 31;

/// `filters` of the §5 message and session listings.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListingFilters {
    /// Start of the range, inclusive; RFC 3339 with an offset.
    #[schema(value_type = String, format = DateTime, example = "2026-01-01T00:00:00Z")]
    pub from: Instant,
    /// End of the range, exclusive; at most 31 days after `from`.
    #[schema(value_type = String, format = DateTime, example = "2026-01-02T00:00:00Z")]
    pub to: Instant,
    /// Only these channels (an empty list is no filter).
    pub channels: Option<Vec<Channel>>,
    /// Only these queues (an empty list is no filter).
    pub queues: Option<Vec<Uuid>>,
    /// Only these accounts (an empty list is no filter).
    pub accounts: Option<Vec<Uuid>>,
}

/// The body of the §5.4 listings: `{"filters": {…}}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListingBody {
    pub filters: ListingFilters,
}

/// The errors every listing can answer besides 200 (exports also 404 for
/// a refused `Accept`).
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum ListingErrors {
    /// The body does not fit the schema (unknown fields included).
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(crate::error::Problem),
    /// Missing or bad token.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(crate::error::Problem),
    /// The token lacks the Analytics role.
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(crate::error::Problem),
    /// The request cannot be answered (`to` not after `from`, a range over
    /// 31 days, an `intervalHours` outside 1–48, a list over 1,000 values).
    #[response(status = 422, content_type = "application/problem+json")]
    Unprocessable(crate::error::Problem),
    /// Rate limited; see Retry-After.
    #[response(status = 429, content_type = "application/problem+json")]
    TooManyRequests(crate::error::Problem),
}

/// The export's extra answer: an `Accept` it cannot satisfy.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum ExportErrors {
    /// An `Accept` other than absent, `*/*` or `text/csv`.
    #[response(status = 404, content_type = "application/problem+json")]
    NotAcceptable(crate::error::Problem),
}

/// Validated [`ListingFilters`]: a range of at most 31 days, and the lists
/// that filter (absent when empty).
#[derive(Debug, Clone)]
pub struct Scope {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub channels: Option<Vec<String>>,
    pub queues: Option<Vec<Uuid>>,
    pub accounts: Option<Vec<Uuid>>,
}

impl Scope {
    /// `to` must be after `from`, by at most [`MAX_RANGE_DAYS`] days (422).
    pub fn parse(filters: ListingFilters) -> Result<Self> {
        let (from, to) = (filters.from.0, filters.to.0);
        if to <= from {
            return Err(ApiError::unprocessable(
                "filters.to",
                "must be after filters.from",
            ));
        }
        if to - from > chrono::Duration::days(MAX_RANGE_DAYS) {
            return Err(ApiError::unprocessable(
                "filters.to",
                format!(
                    "the range from filters.from to filters.to may be at most {MAX_RANGE_DAYS} days"
                ),
            ));
        }
        Ok(Self {
            from,
            to,
            channels: non_empty(filters.channels)
                .map(|l| l.iter().map(|c| c.as_str().to_owned()).collect()),
            queues: non_empty(filters.queues),
            accounts: non_empty(filters.accounts),
        })
    }

    /// Pushes ` and <channel> = any(…)` and the like for every list given;
    /// the column names are the caller's (static) SQL.
    pub fn push_lists(
        &self,
        qb: &mut QueryBuilder<'_, Postgres>,
        channel: &'static str,
        queue: &'static str,
        account: &'static str,
    ) {
        if let Some(channels) = &self.channels {
            push_any(qb, channel, channels.clone(), "text");
        }
        if let Some(queues) = &self.queues {
            push_any(qb, queue, queues.clone(), "uuid");
        }
        if let Some(accounts) = &self.accounts {
            push_any(qb, account, accounts.clone(), "uuid");
        }
    }
}

/// `{"id","name"}` of a directory entry (`name` null when unknown).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Named {
    pub id: Uuid,
    pub name: Option<String>,
}

impl Named {
    /// The reference when there is an id, else null.
    pub fn from_parts(id: Option<Uuid>, name: Option<String>) -> Option<Self> {
        id.map(|id| Self { id, name })
    }
}

/// Serialises an instant as §5 answers them: UTC, milliseconds, `Z`.
pub fn utc_millis<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&at.format("%Y-%m-%dT%H:%M:%S%.3fZ"))
}

/// [`utc_millis`] for an optional instant (null when absent).
pub fn utc_millis_opt<S: Serializer>(at: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => utc_millis(at, s),
        None => s.serialize_none(),
    }
}

/// Writes one CSV record field by field: empty for null, instants as in
/// the JSON answer, text quoted when it must be.
pub struct CsvRecord<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> CsvRecord<'a> {
    pub fn new(out: &'a mut String) -> Self {
        Self { out, first: true }
    }

    fn next(&mut self) -> &mut String {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        self.out
    }

    pub fn text(mut self, value: Option<&str>) -> Self {
        push_field(self.next(), value.unwrap_or_default());
        self
    }

    /// A number or uuid (nothing to quote).
    pub fn value(mut self, value: Option<impl Display>) -> Self {
        use std::fmt::Write;
        let out = self.next();
        if let Some(value) = value {
            let _ = write!(out, "{value}");
        }
        self
    }

    pub fn instant(mut self, value: Option<DateTime<Utc>>) -> Self {
        use std::fmt::Write;
        let out = self.next();
        if let Some(at) = value {
            let _ = write!(out, "{}", at.format("%Y-%m-%dT%H:%M:%S%.3fZ"));
        }
        self
    }

    pub fn end(self) {
        self.out.push_str("\r\n");
    }
}

/// One row of a listing, decoded once for both renderings.
pub trait ListingRow: Serialize + Sized {
    fn decode(row: &PgRow) -> sqlx::Result<Self>;
    /// Appends the row as one CSV record (the export's columns).
    fn push_csv(&self, out: &mut String);
}

/// A listing: one statement, its row type, and its export's columns.
pub trait Listing: Send + Sync + 'static {
    type Row: ListingRow + Send;
    /// The export's file name (without `.csv`).
    const NAME: &'static str;
    /// The export's header row.
    const COLUMNS: &'static [&'static str];
    /// The statement, at most `limit` rows, in the listing's order.
    fn sql(&self, tenant_id: Uuid, limit: i64) -> QueryBuilder<'_, Postgres>;
}

/// At most `limit` rows of a listing, and whether more matched (read as
/// one row more than the limit).
pub async fn fetch<L: Listing>(
    pool: &PgPool,
    tenant_id: Uuid,
    listing: &L,
    limit: i64,
) -> Result<(Vec<L::Row>, bool)> {
    let rows = listing
        .sql(tenant_id, limit + 1)
        .build()
        .fetch_all(pool)
        .await?;
    let truncated = rows.len() as i64 > limit;
    let rows = rows
        .iter()
        .take(limit as usize)
        .map(L::Row::decode)
        .collect::<sqlx::Result<Vec<_>>>()?;
    Ok((rows, truncated))
}

/// The JSON answer of a listing.
#[derive(Debug, Serialize)]
pub struct Rows<R> {
    pub rows: Vec<R>,
    /// More rows matched than the 1,000 answered.
    pub truncated: bool,
}

/// `{"rows":[…],"truncated"}` with at most [`JSON_ROWS`] rows.
pub async fn json_rows<L: Listing>(
    pool: &PgPool,
    tenant_id: Uuid,
    listing: &L,
) -> Result<Response> {
    let (rows, truncated) = fetch(pool, tenant_id, listing, JSON_ROWS).await?;
    Ok(axum::response::IntoResponse::into_response(axum::Json(
        Rows { rows, truncated },
    )))
}

/// A listing as the views' CSV export streams it.
struct ListingExport<L>(L);

impl<L: Listing> CsvExport for ListingExport<L> {
    fn filename(&self) -> String {
        L::NAME.to_owned()
    }

    fn header(&self) -> String {
        record(L::COLUMNS)
    }

    fn sql(&self, tenant_id: Uuid, limit: i64) -> QueryBuilder<'_, Postgres> {
        self.0.sql(tenant_id, limit)
    }

    fn push_row(&self, row: &PgRow, out: &mut String) -> sqlx::Result<()> {
        L::Row::decode(row).map(|r| r.push_csv(out))
    }
}

/// The CSV export of a listing: its header, then at most [`EXPORT_ROWS`]
/// rows, streamed from the cursor by the one export stream every view and
/// listing shares ([`stream_csv`]: its own transaction and statement
/// timeout, memory flat, a failure after the header a cut download).
pub async fn csv_stream<L: Listing>(
    pool: &PgPool,
    tenant_id: Uuid,
    listing: L,
    export_timeout: Duration,
) -> Result<Response> {
    stream_csv(pool, tenant_id, ListingExport(listing), export_timeout).await
}
