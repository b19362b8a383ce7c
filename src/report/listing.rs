//! What the listings of API.md §5 share: the `filters` of a range and
//! its channel, queue and account lists, the 31-day range, and the two
//! renderings of one SQL statement — JSON `{"rows":[…],"truncated"}` of at
//! most 1,000 rows, and the CSV export streamed from the database cursor
//! (up to 1,000,000 rows, memory flat whatever the count) with the same
//! fields as columns. [`stream_records`] streams the views' exports too.

use std::fmt::Display;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::response::Response;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::{Deserialize, Serialize, Serializer};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, QueryBuilder};
use utoipa::ToSchema;
use uuid::Uuid;

use super::csv::{csv_response, push_field, record};
use super::raw::push_any;
use super::request::non_empty;
use crate::domain::Channel;
use crate::error::{ApiError, Result};
use crate::ingest::events::Instant;

/// Rows a JSON listing (or view) answers at most.
pub const JSON_ROWS: i64 = 1_000;
/// Rows a CSV export of a listing (or view) streams at most.
pub const EXPORT_ROWS: i64 = 1_000_000;
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

/// The CSV export of a listing: its header, then at most [`EXPORT_ROWS`]
/// rows, streamed by [`stream_records`].
pub async fn csv_stream<L: Listing>(
    pool: &PgPool,
    tenant_id: Uuid,
    listing: L,
    export_timeout: Duration,
) -> Result<Response> {
    let header = record(L::COLUMNS);
    let push = |_: &L, row: &PgRow, out: &mut String| {
        L::Row::decode(row)?.push_csv(out);
        Ok(())
    };
    stream_records(
        pool,
        tenant_id,
        export_timeout,
        L::NAME,
        header,
        listing,
        L::sql,
        push,
    )
    .await
}

/// How an export builds its statement: the query, the tenant, the row limit.
pub type BuildSql<Q> = for<'q> fn(&'q Q, Uuid, i64) -> QueryBuilder<'q, Postgres>;
/// How an export appends one database row as a CSV record.
pub type PushRecord<Q> = fn(&Q, &PgRow, &mut String) -> sqlx::Result<()>;

/// Streams a CSV export (every view and listing export): the header row,
/// then the records of at most [`EXPORT_ROWS`] rows of the statement, in
/// chunks of about 64 KiB straight from the database cursor, so memory
/// stays flat whatever the row count.
///
/// The export runs on a connection and transaction of its own, under its
/// own `statement_timeout` (`export_timeout`) rather than the short one of
/// the tiles. Taking the connection is awaited before the response starts,
/// so a busy or unreachable database is still a 503 problem. Once the
/// header row is sent, a failure can only break the stream: the body ends
/// with an error (no terminating chunk, so the client sees a failed
/// download, never a short file that looks complete) and is logged.
#[allow(clippy::too_many_arguments)]
pub async fn stream_records<Q: Send + Sync + 'static>(
    pool: &PgPool,
    tenant_id: Uuid,
    export_timeout: Duration,
    filename: &str,
    header: String,
    query: Q,
    sql: BuildSql<Q>,
    push: PushRecord<Q>,
) -> Result<Response> {
    let mut tx = pool.begin().await?;
    sqlx::query("select set_config('statement_timeout', $1, true)")
        .bind(export_timeout.as_millis().to_string())
        .execute(&mut *tx)
        .await?;
    let export = filename.to_owned();
    let stream = async_stream::stream! {
        yield Ok::<Bytes, std::io::Error>(Bytes::from(header));
        let mut qb = sql(&query, tenant_id, EXPORT_ROWS);
        let mut rows = qb.build().fetch(&mut *tx);
        let mut chunk = String::with_capacity(72 * 1024);
        let mut sent: u64 = 0;
        let mut failure = None;
        while let Some(row) = rows.next().await {
            if let Err(e) = row.and_then(|r| push(&query, &r, &mut chunk)) {
                failure = Some(e);
                break;
            }
            sent += 1;
            if chunk.len() >= 64 * 1024 {
                yield Ok(Bytes::from(std::mem::replace(&mut chunk, String::with_capacity(72 * 1024))));
            }
        }
        drop(rows);
        if let Some(error) = failure {
            tracing::error!(
                error = ?error,
                tenant = %tenant_id,
                export = %export,
                rows_sent = sent,
                "export stream failed; the download is cut short"
            );
            yield Err(std::io::Error::other("export failed"));
            return;
        }
        if !chunk.is_empty() {
            yield Ok(Bytes::from(chunk));
        }
        // Read-only: the commit only hands the connection back clean.
        if let Err(error) = tx.commit().await {
            tracing::warn!(error = ?error, "export transaction did not commit");
        }
    };
    Ok(csv_response(Body::from_stream(stream), filename))
}
