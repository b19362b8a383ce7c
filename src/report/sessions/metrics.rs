//! `POST /reporting/v1.2/sessions/metrics`: six records per session ended
//! in the range (API.md §5.4), the response times by the first-answer rule
//! (`cx_first_answers`, migration 0012, the one definition §5.2 shares).

use serde::Serialize;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::report::listing::{CsvRecord, Listing, ListingRow, Scope};

/// What a metric record measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub enum MetricType {
    AverageAgentResponseTime,
    MaxAgentResponseTime,
    AverageEndUserResponseTime,
    MaxEndUserResponseTime,
    AgentMessageCount,
    EndUserMessageCount,
}

impl MetricType {
    /// The six, in the order each session's records come.
    pub const ALL: [MetricType; 6] = [
        Self::AverageAgentResponseTime,
        Self::MaxAgentResponseTime,
        Self::AverageEndUserResponseTime,
        Self::MaxEndUserResponseTime,
        Self::AgentMessageCount,
        Self::EndUserMessageCount,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AverageAgentResponseTime => "AverageAgentResponseTime",
            Self::MaxAgentResponseTime => "MaxAgentResponseTime",
            Self::AverageEndUserResponseTime => "AverageEndUserResponseTime",
            Self::MaxEndUserResponseTime => "MaxEndUserResponseTime",
            Self::AgentMessageCount => "AgentMessageCount",
            Self::EndUserMessageCount => "EndUserMessageCount",
        }
    }

    fn is_count(self) -> bool {
        matches!(self, Self::AgentMessageCount | Self::EndUserMessageCount)
    }
}

/// One metric record of a session.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MetricRow {
    pub session_id: String,
    pub metric_type: MetricType,
    /// Seconds (millisecond precision; null when no message of that side
    /// answers), or a whole count of messages.
    #[schema(value_type = Option<f64>)]
    pub value: Option<serde_json::Number>,
}

/// The JSON answer (documentation of [`crate::report::listing::Rows`]).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct MetricRows {
    /// Sessions by end, ties by `sessionId` (bytewise); each session's six
    /// records in the order of `metricType`'s values.
    rows: Vec<MetricRow>,
    /// More records matched than the 1,000 answered (the cut may fall
    /// inside a session's six).
    truncated: bool,
}

impl ListingRow for MetricRow {
    fn decode(row: &PgRow) -> sqlx::Result<Self> {
        let ord: i32 = row.try_get("ord")?;
        let metric_type = usize::try_from(ord - 1)
            .ok()
            .and_then(|i| MetricType::ALL.get(i).copied())
            .ok_or_else(|| sqlx::Error::Decode(format!("metric number {ord}").into()))?;
        let value: Option<f64> = row.try_get("value")?;
        let value = match (metric_type.is_count(), value) {
            // Counts are whole numbers (a float8 column carries both).
            (true, Some(n)) => Some(serde_json::Number::from(n as i64)),
            (false, Some(seconds)) => serde_json::Number::from_f64(seconds),
            (_, None) => None,
        };
        Ok(Self {
            session_id: row.try_get("conversation_id")?,
            metric_type,
            value,
        })
    }

    fn push_csv(&self, out: &mut String) {
        CsvRecord::new(out)
            .text(Some(&self.session_id))
            .text(Some(self.metric_type.as_str()))
            .value(self.value.as_ref().and_then(serde_json::Number::as_f64))
            .end();
    }
}

/// The metrics listing of one request.
#[derive(Debug)]
pub struct SessionMetrics(pub Scope);

/// The records of the sessions in `ended`: agent messages are non-automated
/// Outbound ones, end-user messages Inbound ones, of the whole conversation;
/// the response times those of the messages of each side that answer.
const RECORDS: &str = r#"), answers as (
    select a.conversation_id,
        avg(a.response_seconds) filter (where a.direction = 'Outbound') as agent_average,
        max(a.response_seconds) filter (where a.direction = 'Outbound') as agent_max,
        avg(a.response_seconds) filter (where a.direction = 'Inbound') as end_user_average,
        max(a.response_seconds) filter (where a.direction = 'Inbound') as end_user_max
    from cx_first_answers($1, array(select conversation_id from ended), 'infinity') a
    where a.response_seconds is not null
    group by a.conversation_id
), counts as (
    select m.conversation_id,
        count(*) filter (where m.direction = 'Outbound' and not m.automated) as agent,
        count(*) filter (where m.direction = 'Inbound') as end_user
    from messages m
    where m.tenant_id = $1 and m.conversation_id = any(array(select conversation_id from ended))
    group by m.conversation_id
)
select n.conversation_id, r.ord, r.value
from ended n
left join answers a on a.conversation_id = n.conversation_id
left join counts k on k.conversation_id = n.conversation_id
cross join lateral (values
    (1, round(a.agent_average::numeric, 3)::float8),
    (2, round(a.agent_max::numeric, 3)::float8),
    (3, round(a.end_user_average::numeric, 3)::float8),
    (4, round(a.end_user_max::numeric, 3)::float8),
    (5, coalesce(k.agent, 0)::float8),
    (6, coalesce(k.end_user, 0)::float8)) as r(ord, value)
order by n.ended_at, n.conversation_id collate "C", r.ord
limit "#;

impl Listing for SessionMetrics {
    type Row = MetricRow;
    const NAME: &'static str = "sessions-metrics";
    const COLUMNS: &'static [&'static str] = &["sessionId", "metricType", "value"];

    /// The sessions ended in the range (by `conversations_by_end`), the
    /// filters matching their `conversation.started`.
    fn sql(&self, tenant_id: Uuid, limit: i64) -> QueryBuilder<'_, Postgres> {
        let mut qb = QueryBuilder::new("with ended as materialized (select c.conversation_id, c.ended_at from conversations c where c.tenant_id = ");
        qb.push_bind(tenant_id);
        qb.push(" and c.ended_at >= ").push_bind(self.0.from);
        qb.push(" and c.ended_at < ").push_bind(self.0.to);
        self.0
            .push_lists(&mut qb, "c.channel", "c.queue_id", "c.account_id");
        qb.push(RECORDS).push_bind(limit);
        qb
    }
}
