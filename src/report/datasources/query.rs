//! The one statement of a rows request, built from the catalogue (column
//! ids map to stored columns there, never from input), and its rows
//! rendered as JSON or as CSV records.

use std::fmt::Write;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use uuid::Uuid;

use super::catalogue::{Column, Kind, Origin};
use super::Source;
use crate::error::Result;
use crate::report::csv::{push_field, record};
use crate::report::view::{CsvExport, JSON_ROWS};

/// A validated rows request, owning everything its statement binds.
#[derive(Debug, Clone)]
pub struct RowsQuery {
    pub source: Source,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub queues: Option<Vec<Uuid>>,
    pub users: Option<Vec<Uuid>>,
    pub columns: Vec<Column>,
    pub order: Column,
    pub descending: bool,
}

/// The SQL expression of a column (`s` the source's table, `dq`/`du` the
/// directory joins).
fn expression(column: &Column) -> &'static str {
    match column.origin {
        Origin::Date => "s.occurred_at",
        Origin::Field(field) => field.column,
        Origin::QueueName => "dq.name",
        Origin::UserName => "nullif(trim(du.first_name || ' ' || du.last_name), '')",
    }
}

/// Text sorts by its bytes (C collation) everywhere in §5.
fn collates(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Id | Kind::Text(_) | Kind::Enum(_) | Kind::Strings
    )
}

impl RowsQuery {
    fn table(&self) -> &'static str {
        match self.source {
            Source::Sms => "sms_sent",
            _ => "distributions",
        }
    }

    /// The id several events of one distribution or SMS share.
    fn key(&self) -> &'static str {
        match self.source {
            Source::Sms => "sms_id",
            _ => "distribution_id",
        }
    }

    fn shows(&self, origin: Origin) -> bool {
        self.order.origin == origin || self.columns.iter().any(|c| c.origin == origin)
    }

    /// The statement: the latest description of each distribution (or SMS)
    /// whose date is in `[from, to)`, in the order asked (nulls last), then
    /// by date and event id.
    pub fn sql(&self, tenant_id: Uuid, limit: i64) -> QueryBuilder<'_, Postgres> {
        let mut qb = QueryBuilder::new("select ");
        for (i, column) in self.columns.iter().enumerate() {
            if i > 0 {
                qb.push(", ");
            }
            if let Origin::Field(_) = column.origin {
                qb.push("s.");
            }
            qb.push(expression(column));
        }
        qb.push(" from ").push(self.table()).push(" s");
        if self.shows(Origin::QueueName) {
            qb.push(" left join directory_queues dq on dq.tenant_id = s.tenant_id and dq.queue_id = s.queue_id");
        }
        if self.shows(Origin::UserName) {
            qb.push(" left join directory_users du on du.tenant_id = s.tenant_id and du.user_id = s.user_id");
        }
        qb.push(" where s.tenant_id = ").push_bind(tenant_id);
        qb.push(" and s.occurred_at >= ").push_bind(self.from);
        qb.push(" and s.occurred_at < ").push_bind(self.to);
        match self.source {
            Source::IncomingDistributions => qb.push(" and s.direction = 'Incoming'"),
            Source::OutgoingDistributions => qb.push(" and s.direction = 'Outgoing'"),
            Source::Messages | Source::Sms => &mut qb,
        };
        if let Some(queues) = &self.queues {
            qb.push(" and s.queue_id = any(")
                .push_bind(queues.clone())
                .push(")");
        }
        if let Some(users) = &self.users {
            qb.push(" and s.user_id = any(")
                .push_bind(users.clone())
                .push(")");
        }
        // A later description of the same distribution (or SMS) replaces it.
        qb.push(" and not exists (select 1 from ")
            .push(self.table())
            .push(" n where n.tenant_id = s.tenant_id and n.")
            .push(self.key())
            .push(" = s.")
            .push(self.key())
            .push(" and (n.occurred_at, n.event_id) > (s.occurred_at, s.event_id))");
        qb.push(" order by ");
        if let Origin::Field(_) = self.order.origin {
            qb.push("s.");
        }
        qb.push(expression(&self.order));
        if collates(self.order.kind()) {
            qb.push(" collate \"C\"");
        }
        qb.push(if self.descending { " desc" } else { " asc" });
        qb.push(" nulls last, s.occurred_at, s.event_id collate \"C\" limit ")
            .push_bind(limit);
        qb
    }

    /// The value of column `i` of a row.
    fn cell(&self, row: &PgRow, i: usize) -> sqlx::Result<Cell> {
        Ok(match self.columns[i].kind() {
            Kind::Id | Kind::Text(_) | Kind::Enum(_) | Kind::Uuid => {
                row.try_get::<Option<String>, _>(i)?.map(Cell::Text)
            }
            Kind::Seconds | Kind::Number => row.try_get::<Option<f64>, _>(i)?.map(Cell::Number),
            Kind::Instant => row
                .try_get::<Option<DateTime<Utc>>, _>(i)?
                .map(Cell::Instant),
            Kind::Boolean => row.try_get::<Option<bool>, _>(i)?.map(Cell::Boolean),
            Kind::Strings => row.try_get::<Option<Vec<String>>, _>(i)?.map(Cell::Strings),
        }
        .unwrap_or(Cell::Null))
    }

    fn json_row(&self, row: &PgRow) -> sqlx::Result<Value> {
        let mut out = Map::new();
        for (i, column) in self.columns.iter().enumerate() {
            out.insert(column.id.to_owned(), self.cell(row, i)?.to_json());
        }
        Ok(Value::Object(out))
    }
}

/// One value of a row, decoded once for both renderers.
enum Cell {
    Null,
    Text(String),
    Number(f64),
    Instant(DateTime<Utc>),
    Boolean(bool),
    Strings(Vec<String>),
}

const INSTANT: &str = "%Y-%m-%dT%H:%M:%S%.3fZ";

impl Cell {
    fn to_json(&self) -> Value {
        match self {
            Cell::Null => Value::Null,
            Cell::Text(s) => json!(s),
            Cell::Number(n) => json!(n),
            Cell::Instant(t) => json!(t.format(INSTANT).to_string()),
            Cell::Boolean(b) => json!(b),
            Cell::Strings(list) => json!(list),
        }
    }

    /// The CSV field: empty for null, a list as its JSON text.
    fn push_csv(&self, out: &mut String) {
        match self {
            Cell::Null => {}
            Cell::Text(s) => push_field(out, s),
            Cell::Number(n) => {
                let _ = write!(out, "{n}");
            }
            Cell::Instant(t) => {
                let _ = write!(out, "{}", t.format(INSTANT));
            }
            Cell::Boolean(b) => {
                let _ = write!(out, "{b}");
            }
            Cell::Strings(list) => push_field(out, &json!(list).to_string()),
        }
    }
}

/// The JSON answer: `{"rows": [...], "truncated"}`, at most [`JSON_ROWS`]
/// rows (`truncated` when more matched).
pub async fn json_rows(pool: &PgPool, tenant_id: Uuid, query: &RowsQuery) -> Result<Value> {
    let rows = query
        .sql(tenant_id, JSON_ROWS + 1)
        .build()
        .fetch_all(pool)
        .await?;
    let truncated = rows.len() as i64 > JSON_ROWS;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows.iter().take(JSON_ROWS as usize) {
        out.push(query.json_row(row)?);
    }
    Ok(json!({ "rows": out, "truncated": truncated }))
}

impl CsvExport for RowsQuery {
    fn filename(&self) -> String {
        format!("datasources-{}-rows", self.source)
    }

    fn header(&self) -> String {
        let ids: Vec<&str> = self.columns.iter().map(|c| c.id).collect();
        record(&ids)
    }

    fn sql(&self, tenant_id: Uuid, limit: i64) -> QueryBuilder<'_, Postgres> {
        RowsQuery::sql(self, tenant_id, limit)
    }

    fn push_row(&self, row: &PgRow, out: &mut String) -> sqlx::Result<()> {
        for i in 0..self.columns.len() {
            if i > 0 {
                out.push(',');
            }
            self.cell(row, i)?.push_csv(out);
        }
        out.push_str("\r\n");
        Ok(())
    }
}
