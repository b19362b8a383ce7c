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
}

/// What each cell of an answer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// `{"count"}`.
    Count,
    /// `{"count","average","min","max","p50","p90"}` in seconds.
    Duration,
}

/// A report asked of the service, and the same question as SQL.
///
/// The SQL binds `$1` tenant, `$2` from, `$3` to, `$4` the list, and its
/// rows are cells: the group key as text when `grouped`, the bucket's start
/// (timestamptz) when `bucketed`, then the statistics: the count (bigint),
/// and for durations the average, min, max, p50 and p90 (float8).
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
