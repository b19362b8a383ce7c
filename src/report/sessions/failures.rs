//! `POST /reporting/v1.2/messages/delivery-failures`: the messages whose
//! delivery failed in the range, counted by direction and status code
//! (API.md §5.4).

use serde::Serialize;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::report::listing::{CsvRecord, Listing, ListingRow, Scope};

/// Failed messages of one direction and status code.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FailureGroup {
    /// `Inbound` or `Outbound`.
    pub direction: String,
    /// As ingested; null for messages that carried none.
    pub status_code: Option<String>,
    pub count: i64,
}

/// The JSON answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct FailureGroups {
    /// By `direction`, then `count` descending, then `statusCode`
    /// (bytewise, null first).
    pub groups: Vec<FailureGroup>,
}

impl ListingRow for FailureGroup {
    fn decode(row: &PgRow) -> sqlx::Result<Self> {
        Ok(Self {
            direction: row.try_get("direction")?,
            status_code: row.try_get("status_code")?,
            count: row.try_get("count")?,
        })
    }

    fn push_csv(&self, out: &mut String) {
        CsvRecord::new(out)
            .text(Some(&self.direction))
            .text(self.status_code.as_deref())
            .value(Some(self.count))
            .end();
    }
}

/// The delivery-failures answer of one request.
#[derive(Debug)]
pub struct DeliveryFailures(pub Scope);

impl Listing for DeliveryFailures {
    type Row = FailureGroup;
    const NAME: &'static str = "messages-delivery-failures";
    const COLUMNS: &'static [&'static str] = &["direction", "statusCode", "count"];

    /// Messages with `deliveryStatus` Failed and `occurredAt` in the range
    /// (by `messages_by_time`), the filters matching each message's own
    /// channel, queue and account.
    fn sql(&self, tenant_id: Uuid, limit: i64) -> QueryBuilder<'_, Postgres> {
        let mut qb = QueryBuilder::new(
            "select m.direction, m.status_code, count(*) as count from messages m \
             where m.delivery_status = 'Failed' and m.tenant_id = ",
        );
        qb.push_bind(tenant_id);
        qb.push(" and m.occurred_at >= ").push_bind(self.0.from);
        qb.push(" and m.occurred_at < ").push_bind(self.0.to);
        self.0
            .push_lists(&mut qb, "m.channel", "m.queue_id", "m.account_id");
        qb.push(
            " group by m.direction, m.status_code \
             order by m.direction collate \"C\", count(*) desc, \
             m.status_code collate \"C\" nulls first limit ",
        )
        .push_bind(limit);
        qb
    }
}
