//! The questions the bench times: each a report asked of the service and
//! the same question as hand-written SQL on the raw tables, cell for cell.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::dataset::{dataset_end, rfc3339, CHANNELS};

/// The list bound as `$4` in a question's SQL.
pub enum List {
    None,
    Channels(Vec<String>),
    Queues(Vec<Uuid>),
    Users(Vec<Uuid>),
    Accounts(Vec<Uuid>),
}

/// What each cell of an answer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// `{"count"}`.
    Count,
    /// `{"count","average","min","max","p50","p90"}` in seconds.
    Duration,
    /// Named numeric fields (SQL: each as float8, in this order).
    Fields(&'static [&'static str]),
}

/// A report asked of the service, and the same question as SQL.
///
/// The SQL binds `$1` tenant, `$2` from, `$3` to, `$4` the list, and its
/// rows are cells: the group key as text when `grouped`, the bucket's start
/// (timestamptz) when `bucketed`, then the statistics: the count (bigint),
/// and for durations the average, min, max, p50 and p90 (float8); for
/// named fields, each field (float8).
pub struct Question {
    pub name: &'static str,
    pub path: String,
    pub body: Value,
    pub sql: String,
    pub list: List,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub grouped: bool,
    pub bucketed: bool,
    pub metric: Metric,
}

impl Question {
    /// Closed interactions from `from` to the end of the dataset, asked of
    /// `interactions/state/{path}` with `more` filters beside the range.
    fn closed(name: &'static str, path: &str, from: DateTime<Utc>, more: Value) -> Self {
        let to = dataset_end();
        let mut filters = json!({"from": rfc3339(from), "to": rfc3339(to)});
        if let (Some(f), Value::Object(more)) = (filters.as_object_mut(), more) {
            f.extend(more);
        }
        let mut body = json!({"newState": ["Closed"], "filters": filters});
        if path.starts_with("by-date") {
            body["timeZone"] = json!("Europe/Berlin");
        }
        Self {
            name,
            path: format!("/reporting/v1.2/interactions/state/{path}"),
            body,
            sql: String::new(),
            list: List::None,
            from,
            to,
            grouped: path.contains("/by-"),
            bucketed: path.starts_with("by-date"),
            metric: Metric::Count,
        }
    }

    /// The same as SQL: `keys` before the count, `tail` after the filters.
    fn sql(mut self, keys: &str, tail: &str, list: List) -> Self {
        self.sql = format!(
            "select {keys}count(*)::bigint from interaction_audits where tenant_id = $1 \
             and occurred_at >= $2 and occurred_at < $3 and new_state = 'Closed'{tail}"
        );
        self.list = list;
        self
    }
}

/// A question on any tile, over `from` to the end of the dataset.
pub fn question(
    name: &'static str,
    tile: &str,
    body: Value,
    sql: &str,
    list: List,
    from: DateTime<Utc>,
    metric: Metric,
) -> Question {
    Question {
        name,
        path: format!("/reporting/v1.2/{tile}"),
        body,
        sql: sql.to_owned(),
        list,
        from,
        to: dataset_end(),
        grouped: tile.contains("/by-") && !tile.ends_with("/by-date"),
        bucketed: tile.contains("/by-date"),
        metric,
    }
}

/// Statistics of a seconds column of `table` as the service computes them.
fn duration_sql(table: &str, column: &str, keys: &str, tail: &str) -> String {
    format!(
        "select {keys}count({column})::bigint, avg({column})::float8, min({column})::float8, \
         max({column})::float8, percentile_cont(0.5) within group (order by {column})::float8, \
         percentile_cont(0.9) within group (order by {column})::float8 \
         from {table} where tenant_id = $1 and occurred_at >= $2 and occurred_at < $3 \
         and {column} is not null{tail}"
    )
}

/// The questions, (a) to (e) as named in the performance issue, then the
/// other families.
pub fn questions(queues: &[Uuid]) -> Vec<Question> {
    use Metric::{Count, Duration};
    let month = dataset_end() - chrono::Duration::days(31);
    let day = dataset_end() - chrono::Duration::hours(24);
    let channels: Vec<String> = CHANNELS.iter().map(|c| c.0.to_owned()).collect();
    let by_day = "date_trunc('day', occurred_at, 'Europe/Berlin'), ";
    let by_hour = "date_trunc('hour', occurred_at, 'Europe/Berlin'), ";
    let by_queue = "queue_id::text, ";
    let in_queues = " and queue_id = any($4) group by 1";
    let range = json!({"from": rfc3339(month), "to": rfc3339(dataset_end())});
    let with = |more: Value| {
        let mut filters = range.clone();
        if let (Some(f), Value::Object(more)) = (filters.as_object_mut(), more) {
            f.extend(more);
        }
        filters
    };
    let queue_list = || List::Queues(queues.to_vec());
    vec![
        Question::closed("(a) closed count, 31 d", "count", month, json!({})).sql("", "", List::None),
        Question::closed("(b) closed by day, Berlin, 31 d", "by-date", month, json!({"groupBy": "Day"}))
            .sql(by_day, " group by 1", List::None),
        Question::closed(
            "(c) closed by day x channel, 31 d",
            "by-date/by-channels",
            month,
            json!({"groupBy": "Day", "channels": channels}),
        )
        .sql(
            &format!("channel, {by_day}"),
            " and channel = any($4) group by 1, 2",
            List::Channels(channels),
        ),
        question(
            "(d) advisor response by 20 queues",
            "messages/response-times/count/by-queues",
            json!({"responseTime": "AdvisorResponseTime", "filters": with(json!({"queues": queues}))}),
            &duration_sql("messages", "advisor_response_seconds", by_queue, in_queues),
            queue_list(),
            month,
            Duration,
        ),
        Question::closed("(e) closed hourly, Berlin, 24 h", "by-date", day, json!({"groupBy": "Hour"}))
            .sql(by_hour, " group by 1", List::None),
        Question::closed("(f) closed by 20 queues, 31 d", "count/by-queues", month, json!({"queues": queues}))
            .sql(by_queue, in_queues, queue_list()),
        question(
            "(g) inbound messages by day, 31 d",
            "messages/volume/by-date",
            json!({"direction": "Inbound", "timeZone": "Europe/Berlin", "filters": with(json!({"groupBy": "Day"}))}),
            &format!(
                "select {by_day}count(*)::bigint from messages where tenant_id = $1 and occurred_at >= $2 \
                 and occurred_at < $3 and direction = 'Inbound' group by 1"
            ),
            List::None,
            month,
            Count,
        ),
        question(
            "(h) originator wait, 31 d",
            "messages/response-times/count",
            json!({"responseTime": "OriginatorWaitTime", "filters": range}),
            &duration_sql("messages", "originator_wait_seconds", "", ""),
            List::None,
            month,
            Duration,
        ),
        question(
            "(j) originator wait by Berlin day, 31 d",
            "messages/response-times/by-date",
            json!({"responseTime": "OriginatorWaitTime", "timeZone": "Europe/Berlin", "filters": with(json!({"groupBy": "Day"}))}),
            &duration_sql("messages", "originator_wait_seconds", by_day, " group by 1"),
            List::None,
            month,
            Duration,
        ),
        question(
            "(i) time in queue by 20 queues, 31 d",
            "interactions/queue-time/count/by-queues",
            json!({"filters": with(json!({"queues": queues}))}),
            &duration_sql("interaction_audits", "queue_seconds", by_queue, in_queues),
            queue_list(),
            month,
            Duration,
        ),
    ]
}

/// Advisor response times derived at query time (the alternative to
/// deriving them at ingest): a copy of the ingest step's window logic (API.md
/// §4) over every message of the interactions with a message in range, as
/// CTEs ending in `computed (event_id, queue_id, occurred_at, response)`.
const ART_CTES: &str = r#"
with touched as (
    select distinct interaction_id from messages
    where tenant_id = $1 and occurred_at >= $2 and occurred_at < $3
), m as (
    select m.event_id, m.interaction_id, m.occurred_at, m.queue_id,
        (m.direction = 'Outbound' and not m.automated) as responding,
        (m.direction = 'Inbound') as inbound,
        row_number() over (partition by m.interaction_id order by m.occurred_at, m.event_id) as pos
    from messages m join touched t using (interaction_id)
    where m.tenant_id = $1
), ordered as (
    select *,
        max(case when inbound then pos end) over w as last_in_pos,
        max(case when inbound then occurred_at end) over w as last_in_at,
        max(case when responding then pos end) over w as last_resp_pos,
        max(case when responding then occurred_at end) over w as last_resp_at
    from m
    window w as (partition by interaction_id order by pos rows between unbounded preceding and 1 preceding)
), computed as (
    select s.event_id, s.queue_id, s.occurred_at,
        case when not s.responding or st.new_state is distinct from 'Assigned' then null
             when s.last_in_pos is not null and s.last_resp_pos > s.last_in_pos then null
             when s.last_in_at is not null and s.last_in_at > st.occurred_at
                 then extract(epoch from s.occurred_at - s.last_in_at)::float8
             when s.last_resp_at is not null and s.last_resp_at >= st.occurred_at then null
             else extract(epoch from s.occurred_at - st.occurred_at)::float8 end as response
    from ordered s
    left join lateral (
        select a.new_state, a.occurred_at from interaction_audits a
        where a.tenant_id = $1 and a.interaction_id = s.interaction_id and a.occurred_at <= s.occurred_at
        order by a.occurred_at desc, a.event_id desc limit 1
    ) st on s.responding
)
"#;

/// (d) with the times derived at query time: its cells (queue, count,
/// average), timed against (d).
pub fn art_at_query_time() -> String {
    format!(
        "{ART_CTES} select queue_id::text, count(response)::bigint, avg(response)::float8 \
         from computed where occurred_at >= $2 and occurred_at < $3 and queue_id = any($4) \
         and response is not null group by 1"
    )
}

/// Every message in range with its time derived at query time and the
/// stored `advisor_response_seconds`, to compare value by value.
pub fn art_values() -> String {
    format!(
        "{ART_CTES} select c.event_id, c.response, s.advisor_response_seconds \
         from computed c join messages s on s.tenant_id = $1 and s.event_id = c.event_id \
         where c.occurred_at >= $2 and c.occurred_at < $3 order by c.event_id"
    )
}

/// The Berlin days of the range, and each user's time Online in each of
/// them from the raw presence changes: the state carried in from before
/// `$2` (the user's latest change before it), each state lasting until
/// the user's next change (ties by event id) or `$3`, clipped to each day.
const ONLINE_BY_DAY: &str = r#"
with days as (
    select g.d::date::timestamp at time zone 'Europe/Berlin' as start,
        (g.d::date + 1)::timestamp at time zone 'Europe/Berlin' as stop
    from generate_series(($2 at time zone 'Europe/Berlin')::date,
        (($3 - interval '1 microsecond') at time zone 'Europe/Berlin')::date, interval '1 day') as g(d)
), changes as (
    select p.user_id, p.state, p.occurred_at, p.event_id from presence_changes p
    where p.tenant_id = $1 and p.user_id = any($4) and p.occurred_at >= $2 and p.occurred_at < $3
    union all
    select u.id, l.state, l.occurred_at, l.event_id from unnest($4::uuid[]) as u(id)
    cross join lateral (
        select p.state, p.occurred_at, p.event_id from presence_changes p
        where p.tenant_id = $1 and p.user_id = u.id and p.occurred_at < $2
        order by p.occurred_at desc, p.event_id desc limit 1
    ) l
), spans as (
    select user_id, state, greatest(occurred_at, $2) as s,
        coalesce(lead(occurred_at) over (partition by user_id order by occurred_at, event_id), $3) as e
    from changes
), online as (
    select sp.user_id, d.start,
        sum(extract(epoch from least(sp.e, d.stop) - greatest(sp.s, d.start)))::float8 as seconds
    from spans sp join days d on sp.s < d.stop and sp.e > d.start
    where sp.state = 'Online' group by 1, 2
)
"#;

/// A live conversation of `channel` ended in range, with the latest of its
/// `conversation.started` (ties by event id), as CTE `c`.
fn ended_conversations(channel: &str, condition: &str) -> String {
    format!(
        "with c as (
    select e.conversation_id, e.occurred_at as ended_at, s.interaction_id, s.account_id
    from conversation_events e
    join lateral (
        select s.interaction_id, s.channel, s.account_id from conversation_events s
        where s.tenant_id = $1 and s.conversation_id = e.conversation_id and s.kind = 'started'
        order by s.occurred_at desc, s.event_id desc limit 1
    ) s on s.channel = '{channel}'{condition}
    where e.tenant_id = $1 and e.kind = 'ended' and e.occurred_at >= $2 and e.occurred_at < $3
)"
    )
}

/// The live-conversation and presence questions of the supervisor issue:
/// live tiles by Berlin day and by account over 31 days, availability and
/// contacts per hour for the tenant's 50 users by Berlin day over 31 days.
pub fn supervisor_questions(users: &[Uuid], accounts: &[Uuid]) -> Vec<Question> {
    const WEBCHAT: &[&str] = &[
        "total",
        "abandonedByCustomer",
        "abandonedByOperator",
        "handled",
    ];
    const VOICE: &[&str] = &["total", "abandonedInIvr", "abandoned", "handled"];
    let month = dataset_end() - chrono::Duration::days(31);
    let range = |more: Value| {
        let mut filters = json!({"from": rfc3339(month), "to": rfc3339(dataset_end())});
        if let (Some(f), Value::Object(more)) = (filters.as_object_mut(), more) {
            f.extend(more);
        }
        filters
    };
    let webchat_sql = format!(
        "{} select date_trunc('day', ended_at, 'Europe/Berlin'), count(*)::float8,
    count(*) filter (where last_op is null)::float8,
    count(*) filter (where last_op is not null and not responded)::float8,
    count(*) filter (where responded)::float8
from (
    select k.ended_at, k.last_op, k.last_op is not null and exists (
        select 1 from messages m where m.tenant_id = $1 and m.interaction_id = k.interaction_id
        and m.conversation_id = k.conversation_id and m.direction = 'Outbound' and not m.automated
        and m.occurred_at > k.last_op and m.occurred_at <= k.ended_at) as responded
    from (
        select c.*, (select max(o.occurred_at) from conversation_events o where o.tenant_id = $1
            and o.conversation_id = c.conversation_id and o.kind = 'operator_connected'
            and o.occurred_at <= c.ended_at) as last_op
        from c
    ) k
) x group by 1",
        ended_conversations("WebChat", "")
    );
    let voice_sql = format!(
        "{} select account_id::text, count(*)::float8,
    count(*) filter (where ivr = 'ivr_entered')::float8,
    count(*) filter (where ivr is distinct from 'ivr_entered' and not connected)::float8,
    count(*) filter (where ivr is distinct from 'ivr_entered' and connected)::float8
from (
    select c.account_id,
        (select i.kind from conversation_events i where i.tenant_id = $1
            and i.conversation_id = c.conversation_id and i.kind in ('ivr_entered', 'ivr_exited')
            and i.occurred_at <= c.ended_at order by i.occurred_at desc, i.event_id desc limit 1) as ivr,
        exists (select 1 from conversation_events o where o.tenant_id = $1
            and o.conversation_id = c.conversation_id and o.kind = 'operator_connected'
            and o.occurred_at <= c.ended_at) as connected
    from c
) k group by 1",
        ended_conversations("Voice", " and s.account_id = any($4)")
    );
    let cph_sql = format!(
        "{ONLINE_BY_DAY}, contacts as (
    select user_id, date_trunc('day', occurred_at, 'Europe/Berlin') as start, count(*)::float8 as n
    from units_of_work where tenant_id = $1 and user_id = any($4) and occurred_at >= $2
    and occurred_at < $3 and user_state = 'Online' and closed + messages + data_changes + notes > 0
    group by 1, 2
)
select coalesce(o.user_id, c.user_id)::text, coalesce(o.start, c.start), coalesce(c.n, 0),
    coalesce(o.seconds, 0), coalesce(c.n, 0) / nullif(o.seconds, 0) * 3600
from online o full join contacts c on c.user_id = o.user_id and c.start = o.start"
    );
    vec![
        question(
            "(k) live WebChat by Berlin day, 31 d",
            "conversations/live/by-date",
            json!({"newState": ["Closed"], "timeZone": "Europe/Berlin",
                   "filters": range(json!({"groupBy": "Day", "channel": "WebChat"}))}),
            &webchat_sql,
            List::None,
            month,
            Metric::Fields(WEBCHAT),
        ),
        question(
            "(l) live Voice by 5 accounts, 31 d",
            "conversations/live/count/by-accounts/totals",
            json!({"newState": ["Closed"], "accounts": accounts,
                   "filters": range(json!({"channel": "Voice"}))}),
            &voice_sql,
            List::Accounts(accounts.to_vec()),
            month,
            Metric::Fields(VOICE),
        ),
        question(
            "(m) Online seconds, 50 users x Berlin day",
            "presence/availability/by-date/by-users",
            json!({"userState": "Available", "userIds": users, "timeZone": "Europe/Berlin",
                   "filters": range(json!({"groupBy": "Day"}))}),
            &format!("{ONLINE_BY_DAY} select user_id::text, start, seconds from online"),
            List::Users(users.to_vec()),
            month,
            Metric::Fields(&["seconds"]),
        ),
        question(
            "(n) CPH Available, 50 users x Berlin day",
            "presence/cph/by-date/by-users",
            json!({"userState": "Available", "userIds": users, "timeZone": "Europe/Berlin",
                   "filters": range(json!({"groupBy": "Day"}))}),
            &cph_sql,
            List::Users(users.to_vec()),
            month,
            Metric::Fields(&["contacts", "seconds", "cph"]),
        ),
    ]
}
