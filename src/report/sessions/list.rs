//! `POST /reporting/v1.2/sessions`: the messaging sessions started in the
//! range (API.md §5.4), one row per conversation, read from the derived
//! `conversations` rows (migration 0010) and their `conversation.started`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::report::listing::{
    utc_millis, utc_millis_opt, CsvRecord, Listing, ListingRow, Named, Scope,
};

/// Whether a session has ended.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub enum SessionStatus {
    Active,
    Ended,
}

/// Whether a person took part: `Agent` when an operator connected, else
/// `Bot` (no human service rep involved).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub enum AgentType {
    Agent,
    Bot,
}

/// One messaging session (a conversation).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionRow {
    /// The conversation id.
    pub session_id: String,
    pub status: SessionStatus,
    /// The channel of its `conversation.started` (null without one).
    pub channel: Option<String>,
    /// Its account, named from the directory; null when it has none.
    pub account: Option<Named>,
    /// Its `conversation.started` (the latest, by occurredAt then event id).
    #[serde(serialize_with = "utc_millis")]
    #[schema(value_type = String, format = DateTime, example = "2026-01-01T09:00:00.000Z")]
    pub start_time: DateTime<Utc>,
    /// Its `conversation.ended` (the latest); null while active.
    #[serde(serialize_with = "utc_millis_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub end_time: Option<DateTime<Utc>>,
    /// `endedBy` of that `conversation.ended` (`EndUser, Agent, Bot,
    /// System`), or null.
    pub ended_by_type: Option<String>,
    pub agent_type: AgentType,
    /// Seconds from the start to the first operator connection (at or
    /// before the end); null without one.
    pub speed_to_answer: Option<f64>,
    /// Seconds from the first operator connection to the end; null while
    /// active or without a connection.
    pub handle_time: Option<f64>,
}

/// The JSON answer (documentation of [`crate::report::listing::Rows`]).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SessionRows {
    /// In `startTime` order, ties by `sessionId` (bytewise).
    rows: Vec<SessionRow>,
    /// More sessions matched than the 1,000 answered.
    truncated: bool,
}

impl ListingRow for SessionRow {
    fn decode(row: &PgRow) -> sqlx::Result<Self> {
        let end_time: Option<DateTime<Utc>> = row.try_get("ended_at")?;
        let connected: Option<DateTime<Utc>> = row.try_get("first_connected_at")?;
        Ok(Self {
            session_id: row.try_get("conversation_id")?,
            status: match end_time {
                Some(_) => SessionStatus::Ended,
                None => SessionStatus::Active,
            },
            channel: row.try_get("channel")?,
            account: Named::from_parts(row.try_get("account_id")?, row.try_get("account_name")?),
            start_time: row.try_get("start_time")?,
            end_time,
            ended_by_type: row.try_get("ended_by")?,
            agent_type: match connected {
                Some(_) => AgentType::Agent,
                None => AgentType::Bot,
            },
            speed_to_answer: row.try_get("speed_to_answer")?,
            handle_time: row.try_get("handle_time")?,
        })
    }

    fn push_csv(&self, out: &mut String) {
        let status = match self.status {
            SessionStatus::Active => "Active",
            SessionStatus::Ended => "Ended",
        };
        let agent = match self.agent_type {
            AgentType::Agent => "Agent",
            AgentType::Bot => "Bot",
        };
        CsvRecord::new(out)
            .text(Some(&self.session_id))
            .text(Some(status))
            .text(self.channel.as_deref())
            .value(self.account.as_ref().map(|a| a.id))
            .text(self.account.as_ref().and_then(|a| a.name.as_deref()))
            .instant(Some(self.start_time))
            .instant(self.end_time)
            .text(self.ended_by_type.as_deref())
            .text(Some(agent))
            .value(self.speed_to_answer)
            .value(self.handle_time)
            .end();
    }
}

/// The sessions listing of one request.
#[derive(Debug)]
pub struct Sessions(pub Scope);

impl Listing for Sessions {
    type Row = SessionRow;
    const NAME: &'static str = "sessions";
    const COLUMNS: &'static [&'static str] = &[
        "sessionId",
        "status",
        "channel",
        "accountId",
        "accountName",
        "startTime",
        "endTime",
        "endedByType",
        "agentType",
        "speedToAnswer",
        "handleTime",
    ];

    /// Found by `conversation_events_by_time` (the starts in the range),
    /// each kept only when it is its conversation's latest start; the
    /// filters match the attributes of that start.
    fn sql(&self, tenant_id: Uuid, limit: i64) -> QueryBuilder<'_, Postgres> {
        let mut qb = QueryBuilder::new(
            "select c.conversation_id, s.occurred_at as start_time, c.ended_at, c.channel, \
             c.account_id, da.name as account_name, e.ended_by, c.first_connected_at, \
             round(extract(epoch from c.first_connected_at - s.occurred_at), 3)::float8 \
                 as speed_to_answer, \
             round(c.duration_seconds::numeric, 3)::float8 as handle_time \
             from conversation_events s \
             join conversations c on c.tenant_id = s.tenant_id \
                 and c.conversation_id = s.conversation_id and c.started_event = s.event_id \
             left join directory_accounts da on da.tenant_id = c.tenant_id \
                 and da.account_id = c.account_id \
             left join lateral (select x.ended_by from conversation_events x \
                 where x.tenant_id = c.tenant_id and x.conversation_id = c.conversation_id \
                 and x.kind = 'ended' and c.ended_at is not null \
                 order by x.occurred_at desc, x.event_id desc limit 1) e on true \
             where s.kind = 'started' and s.tenant_id = ",
        );
        qb.push_bind(tenant_id);
        qb.push(" and s.occurred_at >= ").push_bind(self.0.from);
        qb.push(" and s.occurred_at < ").push_bind(self.0.to);
        self.0
            .push_lists(&mut qb, "c.channel", "c.queue_id", "c.account_id");
        qb.push(" order by s.occurred_at, c.conversation_id collate \"C\" limit ")
            .push_bind(limit);
        qb
    }
}
