//! The conversation interval summaries of one request (API.md §5.2): the
//! statement, its rows, and their two renderings.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::report::listing::{utc_millis, CsvRecord, Listing, ListingRow, Named, Scope};

/// Who sent a row's messages.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub enum SenderType {
    /// Inbound messages.
    Contact,
    /// Outbound messages.
    User,
}

/// The messages of one conversation in one interval from one sender type,
/// user, `fromAddress` and `toAddress`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IntervalRow {
    /// The interval's bounds on the grid (not clipped to the range).
    #[serde(serialize_with = "utc_millis")]
    #[schema(value_type = String, format = DateTime, example = "2026-01-01T20:00:00.000Z")]
    pub interval_start: DateTime<Utc>,
    #[serde(serialize_with = "utc_millis")]
    #[schema(value_type = String, format = DateTime, example = "2026-01-02T01:00:00.000Z")]
    pub interval_end: DateTime<Utc>,
    pub interval_duration_minutes: i64,
    pub conversation_id: String,
    /// The sending user (`name` is the directory's `firstName lastName`, or
    /// null); null for Contact rows, automated messages and Outbound
    /// messages without a `userId`.
    pub user: Option<Named>,
    /// `initiationMethod` of the conversation's `conversation.started` (the
    /// latest), else null.
    pub initiation_method: Option<String>,
    /// The messages' channel.
    pub channel: String,
    pub sender_type: SenderType,
    pub from_address: Option<String>,
    pub to_address: Option<String>,
    pub keyword_opt_in_count: i64,
    pub keyword_opt_out_count: i64,
    /// Seconds, over the row's messages that answer by the first-answer
    /// rule; null when none does.
    pub min_response_time: Option<f64>,
    pub max_response_time: Option<f64>,
    pub average_response_time: Option<f64>,
    pub text_messages: i64,
    pub images: i64,
    pub audio: i64,
    pub video: i64,
    pub other_files: i64,
    pub all_messages: i64,
}

/// The JSON answer (documentation of [`crate::report::listing::Rows`]).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct IntervalRows {
    /// Ordered by `intervalStart`, `conversationId`, `senderType`, user id
    /// (null first), `fromAddress`, `toAddress` (each null first), then
    /// `channel`; text bytewise (C collation).
    rows: Vec<IntervalRow>,
    /// More rows matched than the 1,000 answered.
    truncated: bool,
}

impl ListingRow for IntervalRow {
    fn decode(row: &PgRow) -> sqlx::Result<Self> {
        let sender: String = row.try_get("sender_type")?;
        Ok(Self {
            interval_start: row.try_get("interval_start")?,
            interval_end: row.try_get("interval_end")?,
            interval_duration_minutes: row.try_get("minutes")?,
            conversation_id: row.try_get("conversation_id")?,
            user: Named::from_parts(row.try_get("user_id")?, row.try_get("user_name")?),
            initiation_method: row.try_get("initiation_method")?,
            channel: row.try_get("channel")?,
            sender_type: match sender.as_str() {
                "Contact" => SenderType::Contact,
                _ => SenderType::User,
            },
            from_address: row.try_get("from_address")?,
            to_address: row.try_get("to_address")?,
            keyword_opt_in_count: row.try_get("opt_in")?,
            keyword_opt_out_count: row.try_get("opt_out")?,
            min_response_time: row.try_get("min_response")?,
            max_response_time: row.try_get("max_response")?,
            average_response_time: row.try_get("average_response")?,
            text_messages: row.try_get("texts")?,
            images: row.try_get("images")?,
            audio: row.try_get("audio")?,
            video: row.try_get("video")?,
            other_files: row.try_get("files")?,
            all_messages: row.try_get("messages")?,
        })
    }

    fn push_csv(&self, out: &mut String) {
        let sender = match self.sender_type {
            SenderType::Contact => "Contact",
            SenderType::User => "User",
        };
        CsvRecord::new(out)
            .instant(Some(self.interval_start))
            .instant(Some(self.interval_end))
            .value(Some(self.interval_duration_minutes))
            .text(Some(&self.conversation_id))
            .value(self.user.as_ref().map(|u| u.id))
            .text(self.user.as_ref().and_then(|u| u.name.as_deref()))
            .text(self.initiation_method.as_deref())
            .text(Some(&self.channel))
            .text(Some(sender))
            .text(self.from_address.as_deref())
            .text(self.to_address.as_deref())
            .value(Some(self.keyword_opt_in_count))
            .value(Some(self.keyword_opt_out_count))
            .value(self.min_response_time)
            .value(self.max_response_time)
            .value(self.average_response_time)
            .value(Some(self.text_messages))
            .value(Some(self.images))
            .value(Some(self.audio))
            .value(Some(self.video))
            .value(Some(self.other_files))
            .value(Some(self.all_messages))
            .end();
    }
}

/// A validated intervals request.
#[derive(Debug)]
pub struct Intervals {
    scope: Scope,
    hours: i32,
}

impl Intervals {
    pub fn new(scope: Scope, hours: i32) -> Self {
        Self { scope, hours }
    }

    /// 00:00 UTC of `from`'s day: where the grid starts.
    fn origin(&self) -> DateTime<Utc> {
        let day = self.scope.from.date_naive();
        day.and_hms_opt(0, 0, 0)
            .map(|midnight| midnight.and_utc())
            .unwrap_or(self.scope.from - Duration::days(1))
    }
}

/// The response times: `cx_first_answers` (migration 0012) over each
/// touched conversation's messages before `to`, so the run a message
/// answers may lie in an earlier interval or before `from`. Between the
/// binds of tenant and `to`.
const ANSWERS: [&str; 3] = [
    "), answers as (select a.event_id, a.response_seconds from cx_first_answers(",
    ", array(select distinct conversation_id from scoped), ",
    ") a where a.response_seconds is not null",
];

/// Groups the counted messages (in `scoped`) by conversation, interval,
/// sender type, user, addresses (and channel, the messages' own: one value
/// unless a conversation changes channel within an interval).
const GROUPED: &str = r#"), grouped as (
    select s.tenant_id, s.interval_start, s.conversation_id,
        case s.direction when 'Inbound' then 'Contact' else 'User' end as sender_type,
        case when s.direction = 'Outbound' and not s.automated then s.user_id end as user_id,
        s.from_address, s.to_address, s.channel,
        count(*) filter (where s.keyword = 'OptIn') as opt_in,
        count(*) filter (where s.keyword = 'OptOut') as opt_out,
        round(min(a.response_seconds)::numeric, 3)::float8 as min_response,
        round(max(a.response_seconds)::numeric, 3)::float8 as max_response,
        round(avg(a.response_seconds)::numeric, 3)::float8 as average_response,
        count(*) filter (where s.content_type = 'Text') as texts,
        count(*) filter (where s.content_type = 'Image') as images,
        count(*) filter (where s.content_type = 'Audio') as audio,
        count(*) filter (where s.content_type = 'Video') as video,
        count(*) filter (where s.content_type = 'File') as files,
        count(*) as messages
    from scoped s left join answers a on a.event_id = s.event_id
    group by 1, 2, 3, 4, 5, 6, 7, 8
)
select g.*, du.first_name || ' ' || du.last_name as user_name, st.initiation_method,
    g.interval_start + "#;

/// Names the users and the conversations' initiation method (of the
/// latest `conversation.started`, as `conversations` keeps it; found by
/// `conversation_events_by_conversation`, which does not depend on a key
/// by event id), in the listing's order.
const NAMED: &str = r#"
from grouped g
left join directory_users du on du.tenant_id = g.tenant_id and du.user_id = g.user_id
left join conversations c on c.tenant_id = g.tenant_id and c.conversation_id = g.conversation_id
left join conversation_events st on st.tenant_id = g.tenant_id
    and st.conversation_id = g.conversation_id and st.event_id = c.started_event
order by g.interval_start, g.conversation_id collate "C", g.sender_type collate "C",
    g.user_id nulls first, g.from_address collate "C" nulls first,
    g.to_address collate "C" nulls first, g.channel collate "C"
limit "#;

impl Listing for Intervals {
    type Row = IntervalRow;
    const NAME: &'static str = "conversations-intervals";
    const COLUMNS: &'static [&'static str] = &[
        "intervalStart",
        "intervalEnd",
        "intervalDurationMinutes",
        "conversationId",
        "userId",
        "userName",
        "initiationMethod",
        "channel",
        "senderType",
        "fromAddress",
        "toAddress",
        "keywordOptInCount",
        "keywordOptOutCount",
        "minResponseTime",
        "maxResponseTime",
        "averageResponseTime",
        "textMessages",
        "images",
        "audio",
        "video",
        "otherFiles",
        "allMessages",
    ];

    /// The counted messages: a `conversationId`, `occurredAt` in the range
    /// (by `messages_by_time`), channel, queue and account as filtered;
    /// each placed on the grid by `date_bin`.
    fn sql(&self, tenant_id: Uuid, limit: i64) -> QueryBuilder<'_, Postgres> {
        let step = || " * interval '1 hour'";
        let mut qb = QueryBuilder::new(
            "with scoped as materialized (select m.tenant_id, m.event_id, m.conversation_id, \
             m.direction, m.automated, m.channel, m.user_id, m.from_address, m.to_address, \
             m.keyword, m.content_type, date_bin(",
        );
        qb.push_bind(self.hours)
            .push(step())
            .push(", m.occurred_at, ");
        qb.push_bind(self.origin());
        qb.push(") as interval_start from messages m where m.conversation_id is not null")
            .push(" and m.tenant_id = ")
            .push_bind(tenant_id);
        qb.push(" and m.occurred_at >= ").push_bind(self.scope.from);
        qb.push(" and m.occurred_at < ").push_bind(self.scope.to);
        self.scope
            .push_lists(&mut qb, "m.channel", "m.queue_id", "m.account_id");
        qb.push(ANSWERS[0]).push_bind(tenant_id);
        qb.push(ANSWERS[1]).push_bind(self.scope.to);
        qb.push(ANSWERS[2]).push(GROUPED);
        qb.push_bind(self.hours)
            .push(step())
            .push(" as interval_end, ");
        qb.push_bind(i64::from(self.hours) * 60).push(" as minutes");
        qb.push(NAMED).push_bind(limit);
        qb
    }
}
