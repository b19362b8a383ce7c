//! The CSV export of a view: streamed from the database cursor on a
//! transaction of its own, so memory stays flat whatever the row count and
//! the export is not held to the tiles' short statement timeout.

use std::time::Duration;

use axum::response::Response;
use sqlx::postgres::PgRow;
use sqlx::PgPool;
use uuid::Uuid;

use super::{ViewQuery, ViewRow};
use crate::domain::Context;
use crate::error::Result;
use crate::report::csv::{push_field, record};
use crate::report::listing::stream_records;

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

/// The CSV export: the header, then the rows, streamed from the cursor on
/// a transaction of its own ([`stream_records`], which every export shares).
pub async fn csv_stream(
    pool: &PgPool,
    tenant_id: Uuid,
    query: ViewQuery,
    export_timeout: Duration,
) -> Result<Response> {
    let filename = query.kind.path().replace('/', "-");
    let header = csv_header(&query);
    let push = |query: &ViewQuery, row: &PgRow, out: &mut String| {
        ViewRow::decode(row)?.push_csv(query, out);
        Ok(())
    };
    stream_records(
        pool,
        tenant_id,
        export_timeout,
        &filename,
        header,
        query,
        ViewQuery::sql,
        push,
    )
    .await
}
