//! The CSV export of a view: streamed from the database cursor on a
//! transaction of its own, so memory stays flat whatever the row count and
//! the export is not held to the tiles' short statement timeout.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::response::Response;
use futures::StreamExt;
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use super::{ViewQuery, ViewRow, EXPORT_ROWS};
use crate::domain::Context;
use crate::error::Result;
use crate::report::csv::{csv_response, push_field, record};

impl ViewRow {
    /// Appends the row as one CSV record, straight into `out` (the export's
    /// hot loop: no per-field allocation).
    fn push_csv(&self, query: &ViewQuery, out: &mut String) {
        use std::fmt::Write;
        push_field(out, &self.interaction_id);
        out.push(',');
        push_field(out, self.reference.as_deref().unwrap_or_default());
        out.push(',');
        push_field(out, &self.channel);
        out.push(',');
        let _ = write!(out, "{}", self.timestamp.format("%Y-%m-%dT%H:%M:%S%.3fZ"));
        for context in &query.contexts {
            out.push(',');
            let (id, name) = match context {
                Context::Queue => &self.queue,
                Context::User => &self.user,
                Context::Account => &self.account,
                Context::Data => {
                    if let Some(data) = &self.data {
                        push_field(out, &data.to_string());
                    }
                    continue;
                }
            };
            if let Some(id) = id {
                let _ = write!(out, "{id}");
            }
            out.push(',');
            push_field(out, name.as_deref().unwrap_or_default());
        }
        out.push_str("\r\n");
    }
}

fn csv_header(query: &ViewQuery) -> String {
    let mut header = vec!["interactionId", "reference", "channel", "timestamp"];
    for context in &query.contexts {
        header.extend(match context {
            Context::Queue => ["queueId", "queueName"].as_slice(),
            Context::User => ["userId", "userName"].as_slice(),
            Context::Account => ["accountId", "accountName"].as_slice(),
            Context::Data => ["data"].as_slice(),
        });
    }
    record(&header)
}

/// A CSV export streamed from one query: its file name, header row, query
/// and the rendering of each row (views, and the other reports' rows).
pub trait CsvExport: Send + Sync + 'static {
    /// The attachment's name, without `.csv`.
    fn filename(&self) -> String;
    /// The header record, CRLF-terminated.
    fn header(&self) -> String;
    /// The query of the rows, at most `limit` of them.
    fn sql(&self, tenant_id: Uuid, limit: i64) -> QueryBuilder<'_, Postgres>;
    /// Appends one row as a CSV record.
    fn push_row(&self, row: &PgRow, out: &mut String) -> sqlx::Result<()>;
}

impl CsvExport for ViewQuery {
    fn filename(&self) -> String {
        self.kind.path().replace('/', "-")
    }
    fn header(&self) -> String {
        csv_header(self)
    }
    fn sql(&self, tenant_id: Uuid, limit: i64) -> QueryBuilder<'_, Postgres> {
        ViewQuery::sql(self, tenant_id, limit)
    }
    fn push_row(&self, row: &PgRow, out: &mut String) -> sqlx::Result<()> {
        ViewRow::decode(row).map(|r| r.push_csv(self, out))
    }
}

/// The CSV export of a view ([`stream`]).
pub async fn csv_stream(
    pool: &PgPool,
    tenant_id: Uuid,
    query: ViewQuery,
    export_timeout: Duration,
) -> Result<Response> {
    stream(pool, tenant_id, query, export_timeout).await
}

/// The CSV export, streamed in chunks of about 64 KiB from the cursor,
/// at most [`EXPORT_ROWS`] rows.
///
/// The export runs on a connection and transaction of its own, under its own
/// `statement_timeout` (`export_timeout`) rather than the short one of the
/// tiles. Taking the connection is awaited before the response starts, so a
/// busy or unreachable database is still a 503 problem. Once the header row
/// is sent, a failure can only break the stream: the body ends with an error
/// (no terminating chunk, so the client sees a failed download, never a
/// short file that looks complete) and is logged.
pub async fn stream<E: CsvExport>(
    pool: &PgPool,
    tenant_id: Uuid,
    export: E,
    export_timeout: Duration,
) -> Result<Response> {
    let filename = export.filename();
    let mut tx = pool.begin().await?;
    sqlx::query("select set_config('statement_timeout', $1, true)")
        .bind(export_timeout.as_millis().to_string())
        .execute(&mut *tx)
        .await?;
    let stream = async_stream::stream! {
        yield Ok::<Bytes, std::io::Error>(Bytes::from(export.header()));
        let mut qb = export.sql(tenant_id, EXPORT_ROWS);
        let mut rows = qb.build().fetch(&mut *tx);
        let mut chunk = String::with_capacity(72 * 1024);
        let mut sent: u64 = 0;
        let mut failure = None;
        while let Some(row) = rows.next().await {
            if let Err(e) = row.and_then(|r| export.push_row(&r, &mut chunk)) {
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
                export = export.filename(),
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
    Ok(csv_response(Body::from_stream(stream), &filename))
}
