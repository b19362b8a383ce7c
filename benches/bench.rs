//! cx-bench: ingest throughput and reporting latency of cx-reporting on a
//! generated multi-tenant dataset, against plain SQL on the same tables.
//!
//! One run:
//! 1. creates a fresh database `cx_bench_<random>` on the server named by
//!    `DATABASE_URL` (a maintenance database such as `.../postgres`), migrates
//!    it and serves the app in-process on 127.0.0.1 (an ephemeral port);
//! 2. creates `--tenants` tenants; the first ("big") holds 40% of the events,
//!    the others share the rest. Each tenant has 20 queues and 50 users; its
//!    interactions go Draft → Created → Queued → Assigned → Closed (10% are
//!    reopened: Closed → Queued → Assigned → Closed) and 30% carry 2–6
//!    inbound/outbound `message.created` events. Times are spread over
//!    `--days` days ending 2026-10-31T00:00Z, busier in office hours. The
//!    data is a function of `--seed` and is generated one batch at a time;
//! 3. ingests it over HTTP, `--concurrency` requests of `--batch` events in
//!    flight, and prints events per second;
//! 4. runs `VACUUM ANALYZE` (`ANALYZE` with `--analyze-only`), then times
//!    the state, message and duration tiles for the big tenant through HTTP with `Cache-Control:
//!    no-cache` and as hand-written SQL on `interaction_audits` (p50/p95
//!    over `--iterations` after 3 warm-ups), checks that both give the same
//!    total, and measures cached throughput (16 tasks, 5 s, cache hits);
//! 5. drops the database unless `--keep` (useful only with your own
//!    `DATABASE_URL`: the ephemeral server of `scripts/bench` goes anyway).
//!
//! Run: `scripts/bench` (starts an ephemeral PostgreSQL when `DATABASE_URL`
//! is unset), e.g. `scripts/bench --events 200000 --iterations 20`.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use clap::Parser;
use cx_reporting::auth::{self, tenants, Claims};
use cx_reporting::config::{Config, RateQuota};
use cx_reporting::state::{AppState, MIGRATOR};
use rand::distributions::{Distribution, WeightedIndex};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use reqwest::Client;
use serde_json::{json, Value};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool, Row};
use tokio::sync::{mpsc, Mutex};
use uuid::Uuid;

/// Ingest throughput and reporting latency of cx-reporting against plain SQL,
/// on a generated dataset. Needs DATABASE_URL (a maintenance database);
/// scripts/bench starts a throwaway server when it is unset.
#[derive(Parser, Debug, Clone)]
#[command(name = "cx-bench")]
struct Args {
    /// Total events across all tenants.
    #[arg(long, default_value_t = 1_000_000)]
    events: u64,
    /// Tenants; the first holds 40% of the events.
    #[arg(long, default_value_t = 50)]
    tenants: usize,
    /// Days the events are spread over, ending 2026-10-31T00:00Z.
    #[arg(long, default_value_t = 90)]
    days: i64,
    /// Timed calls per question (after 3 warm-ups).
    #[arg(long, default_value_t = 30)]
    iterations: usize,
    /// Ingest requests in flight.
    #[arg(long, default_value_t = 2)]
    concurrency: usize,
    /// Events per ingest request (at most 10,000).
    #[arg(long, default_value_t = 5000)]
    batch: usize,
    /// Seed of the dataset.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Run only ANALYZE after the ingest, not VACUUM ANALYZE (which sets
    /// the visibility map, so plain SQL can use index-only scans: the fair
    /// baseline, and the default).
    #[arg(long)]
    analyze_only: bool,
    /// Keep the bench database instead of dropping it.
    #[arg(long)]
    keep: bool,
}

/// The channels of API.md §3 with their relative frequency in the dataset.
const CHANNELS: [(&str, u32); 10] = [
    ("Email", 30),
    ("SMS", 8),
    ("Voice", 15),
    ("WebChat", 20),
    ("Facebook", 5),
    ("Instagram", 4),
    ("Twitter", 3),
    ("TrustPilot", 2),
    ("WhatsApp", 10),
    ("Telegram", 3),
];
const JWT_SECRET: &str = "cx-bench-secret-cx-bench-secret-0123456789";
const WARM_UPS: usize = 3;

fn dataset_end() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 31, 0, 0, 0)
        .single()
        .expect("a valid instant")
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

// ---------------------------------------------------------------- dataset

/// The events of one tenant, made an interaction at a time so that only
/// one batch is ever held in memory. Everything follows from the seed.
struct TenantStream {
    rng: StdRng,
    channels: WeightedIndex<u32>,
    queues: Vec<Uuid>,
    users: Vec<Uuid>,
    accounts: Vec<Uuid>,
    data_type: Uuid,
    options: Vec<Uuid>,
    /// Events still to make.
    left: u64,
    next_interaction: u64,
    pending: VecDeque<Value>,
    /// The dataset's window in Unix seconds, and its length in days.
    start: i64,
    end: i64,
    days: i64,
}

impl TenantStream {
    fn new(seed: u64, tenant: usize, quota: u64, days: i64) -> Self {
        let mixed = seed ^ (tenant as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut rng = StdRng::seed_from_u64(mixed);
        let mut ids = |n: usize| -> Vec<Uuid> {
            (0..n)
                .map(|_| uuid::Builder::from_random_bytes(rng.gen()).into_uuid())
                .collect()
        };
        let (queues, users, accounts, options, data_type) =
            (ids(20), ids(50), ids(5), ids(8), ids(1)[0]);
        let end = dataset_end().timestamp();
        Self {
            rng,
            channels: WeightedIndex::new(CHANNELS.map(|c| c.1)).expect("positive weights"),
            queues,
            users,
            accounts,
            data_type,
            options,
            left: quota,
            next_interaction: 0,
            pending: VecDeque::new(),
            start: end - days * 86_400,
            end,
            days,
        }
    }

    /// Up to `max` events; empty once the tenant's quota is used up (the
    /// last interaction may be cut short).
    fn batch(&mut self, max: usize) -> Vec<Value> {
        let mut out = Vec::with_capacity(max.min(self.left as usize));
        while out.len() < max && self.left > 0 {
            if self.pending.is_empty() {
                self.interaction();
            }
            if let Some(event) = self.pending.pop_front() {
                out.push(event);
                self.left -= 1;
            }
        }
        out
    }

    /// Queues the events of the next interaction, in time order.
    fn interaction(&mut self) {
        let n = self.next_interaction;
        self.next_interaction += 1;
        let rng = &mut self.rng;
        let pick = |ids: &[Uuid], rng: &mut StdRng| *ids.choose(rng).expect("non-empty");
        let channel = CHANNELS[self.channels.sample(rng)].0;
        let (queue, agent) = (pick(&self.queues, rng), pick(&self.users, rng));
        let account = pick(&self.accounts, rng);
        let data = rng
            .gen_bool(0.5)
            .then(|| json!([{"id": self.data_type, "values": [pick(&self.options, rng)]}]));

        // The lifecycle as offsets in seconds from its first audit.
        let mut t = 0i64;
        let mut after = |rng: &mut StdRng, lo: i64, hi: i64| {
            t += rng.gen_range(lo..hi);
            t
        };
        let mut audits = vec![(0, None, "Draft")];
        audits.push((after(rng, 5, 120), Some("Draft"), "Created"));
        audits.push((after(rng, 10, 300), Some("Created"), "Queued"));
        audits.push((after(rng, 60, 7_200), Some("Queued"), "Assigned"));
        let mut messages = Vec::new();
        if rng.gen_bool(0.3) {
            for k in 0..rng.gen_range(2..=6) {
                let inbound = k % 2 == 0;
                let automated = !inbound && rng.gen_bool(0.1);
                messages.push((after(rng, 30, 1_800), inbound, automated));
            }
        }
        audits.push((after(rng, 120, 3_600), Some("Assigned"), "Closed"));
        if rng.gen_bool(0.1) {
            audits.push((after(rng, 3_600, 172_800), Some("Closed"), "Queued"));
            audits.push((after(rng, 60, 3_600), Some("Queued"), "Assigned"));
            audits.push((after(rng, 120, 3_600), Some("Assigned"), "Closed"));
        }

        // Start on a random day, mostly in office hours, so that the whole
        // lifecycle ends before the end of the dataset.
        let second = if rng.gen_bool(0.75) {
            rng.gen_range(8 * 3_600..18 * 3_600)
        } else {
            rng.gen_range(0..86_400)
        };
        let mut t0 = self.start + rng.gen_range(0..self.days) * 86_400 + second;
        if t0 + t >= self.end {
            t0 = (self.end - t - rng.gen_range(1..3_600)).max(self.start);
        }
        let at = |offset: i64| {
            let instant = Utc.timestamp_opt(t0 + offset, 0).single();
            rfc3339(instant.expect("in range"))
        };

        let interaction = format!("int-{n}");
        let mut events: Vec<(i64, Value)> = Vec::with_capacity(audits.len() + messages.len());
        for (k, &(offset, old, new)) in audits.iter().enumerate() {
            let queued = !matches!(new, "Draft" | "Created");
            let by_agent = matches!(new, "Assigned" | "Closed");
            events.push((
                offset,
                json!({
                    "id": format!("a{n}-{k}"), "type": "interaction.state_changed",
                    "occurredAt": at(offset), "interactionId": interaction,
                    "reference": format!("R{n:08}"), "channel": channel,
                    "oldState": old, "newState": new,
                    "queueId": queued.then_some(queue), "userId": by_agent.then_some(agent),
                    "data": data,
                }),
            ));
        }
        for (k, &(offset, inbound, automated)) in messages.iter().enumerate() {
            events.push((
                offset,
                json!({
                    "id": format!("m{n}-{k}"), "type": "message.created",
                    "occurredAt": at(offset), "interactionId": interaction,
                    "direction": if inbound { "Inbound" } else { "Outbound" },
                    "automated": automated, "channel": channel,
                    "queueId": queue, "accountId": account,
                    "userId": (!inbound && !automated).then_some(agent),
                }),
            ));
        }
        events.sort_by_key(|e| e.0);
        self.pending.extend(events.into_iter().map(|e| e.1));
    }
}

/// Events per tenant: 40% to the first, the rest shared evenly.
fn quotas(events: u64, tenants: usize) -> Vec<u64> {
    if tenants == 1 {
        return vec![events];
    }
    let big = events * 2 / 5;
    let (rest, others) = (events - big, tenants as u64 - 1);
    let mut out = vec![big];
    out.extend((0..others).map(|i| rest / others + u64::from(i < rest % others)));
    out
}

// ---------------------------------------------------------------- ingest

struct Batch {
    tenant: usize,
    events: u64,
    body: Vec<u8>,
}

/// Generates batches round-robin over the tenants (on a blocking thread) and
/// posts them with `concurrency` requests in flight. Returns events inserted.
async fn ingest(args: &Args, client: &Client, base: &str, tokens: &[String]) -> Result<u64> {
    let (tx, rx) = mpsc::channel::<Batch>(args.concurrency * 2);
    let (seed, days, size, total) = (args.seed, args.days, args.batch, args.events);
    let counts = quotas(total, tokens.len());
    let producer = tokio::task::spawn_blocking(move || -> Result<()> {
        let mut streams: Vec<TenantStream> = (counts.iter().enumerate())
            .map(|(i, &quota)| TenantStream::new(seed, i, quota, days))
            .collect();
        let mut produced = true;
        while produced {
            produced = false;
            for (tenant, stream) in streams.iter_mut().enumerate() {
                let events = stream.batch(size);
                if events.is_empty() {
                    continue;
                }
                produced = true;
                let body = serde_json::to_vec(&events)?;
                let batch = Batch {
                    tenant,
                    events: events.len() as u64,
                    body,
                };
                if tx.blocking_send(batch).is_err() {
                    return Ok(()); // a sender failed and reports why
                }
            }
        }
        Ok(())
    });

    let rx = Arc::new(Mutex::new(rx));
    let done = AtomicU64::new(0);
    let started = Instant::now();
    let url = format!("{base}/ingest/v1/events");
    let worker = || async {
        let mut inserted = 0u64;
        loop {
            // Take the lock only to receive: held across the request, it
            // would serialise the workers.
            let next = rx.lock().await.recv().await;
            let Some(batch) = next else { break };
            let response = (client.post(&url).bearer_auth(&tokens[batch.tenant]))
                .header("content-type", "application/json")
                .body(batch.body)
                .send()
                .await?;
            let status = response.status();
            let text = response.text().await?;
            ensure!(status.is_success(), "ingest answered {status}: {text}");
            let answer: Value = serde_json::from_str(&text)?;
            inserted += answer["inserted"].as_u64().context("no `inserted`")?;
            // A progress line at every tenth of the events.
            let before = done.fetch_add(batch.events, Ordering::Relaxed);
            let after = before + batch.events;
            if after * 10 / total > before * 10 / total {
                let secs = started.elapsed().as_secs_f64();
                eprintln!("  ingested {after:>10} events in {secs:6.1} s");
            }
        }
        Ok::<u64, anyhow::Error>(inserted)
    };
    let inserted = futures::future::try_join_all((0..args.concurrency).map(|_| worker())).await;
    drop(rx);
    producer.await.context("the generator panicked")??;
    Ok(inserted?.iter().sum())
}

// ---------------------------------------------------------------- questions

/// The list bound as `$4` in a question's SQL.
enum List {
    None,
    Channels(Vec<String>),
    Queues(Vec<Uuid>),
}

/// A report asked of the service, and the same question as SQL.
struct Question {
    name: &'static str,
    path: String,
    body: Value,
    /// `$1` tenant, `$2` from, `$3` to, `$4` the list; every row ends in a
    /// count.
    sql: String,
    list: List,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
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
        let path = format!("/reporting/v1.2/interactions/state/{path}");
        let (sql, list) = (String::new(), List::None);
        Self {
            name,
            path,
            body,
            sql,
            list,
            from,
            to,
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

/// A question on any tile: `sql` must end every row in the count that the
/// service's `count` fields add up to.
fn question(
    name: &'static str,
    tile: &str,
    body: Value,
    sql: &str,
    list: List,
    from: DateTime<Utc>,
) -> Question {
    Question {
        name,
        path: format!("/reporting/v1.2/{tile}"),
        body,
        sql: sql.to_owned(),
        list,
        from,
        to: dataset_end(),
    }
}

/// Statistics of a seconds column as the service computes them, count last.
fn duration_sql(column: &str, keys: &str, tail: &str) -> String {
    format!(
        "select {keys}avg({column}), min({column}), max({column}), \
         percentile_cont(0.5) within group (order by {column}), \
         percentile_cont(0.9) within group (order by {column}), count({column})::bigint \
         from TABLE where tenant_id = $1 and occurred_at >= $2 and occurred_at < $3 \
         and {column} is not null{tail}"
    )
}

/// The questions, (a) to (e) as named in the performance issue, then the
/// other families.
fn questions(queues: &[Uuid]) -> Vec<Question> {
    let month = dataset_end() - chrono::Duration::days(31);
    let day = dataset_end() - chrono::Duration::hours(24);
    let channels: Vec<String> = CHANNELS.iter().map(|c| c.0.to_owned()).collect();
    let by_day = "date_trunc('day', occurred_at, 'Europe/Berlin'), ";
    let by_hour = "date_trunc('hour', occurred_at, 'Europe/Berlin'), ";
    let range = json!({"from": rfc3339(month), "to": rfc3339(dataset_end())});
    let with = |more: Value| {
        let mut filters = range.clone();
        if let (Some(f), Value::Object(more)) = (filters.as_object_mut(), more) {
            f.extend(more);
        }
        filters
    };
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
            &duration_sql("advisor_response_seconds", "queue_id, ", " and queue_id = any($4) group by 1")
                .replace("TABLE", "messages"),
            List::Queues(queues.to_vec()),
            month,
        ),
        Question::closed("(e) closed hourly, Berlin, 24 h", "by-date", day, json!({"groupBy": "Hour"}))
            .sql(by_hour, " group by 1", List::None),
        Question::closed("(f) closed by 20 queues, 31 d", "count/by-queues", month, json!({"queues": queues}))
            .sql("queue_id, ", " and queue_id = any($4) group by 1", List::Queues(queues.to_vec())),
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
        ),
        question(
            "(h) originator wait, 31 d",
            "messages/response-times/count",
            json!({"responseTime": "OriginatorWaitTime", "filters": range}),
            &duration_sql("originator_wait_seconds", "", "").replace("TABLE", "messages"),
            List::None,
            month,
        ),
        question(
            "(j) originator wait by Berlin day, 31 d",
            "messages/response-times/by-date",
            json!({"responseTime": "OriginatorWaitTime", "timeZone": "Europe/Berlin", "filters": with(json!({"groupBy": "Day"}))}),
            &duration_sql("originator_wait_seconds", by_day, " group by 1").replace("TABLE", "messages"),
            List::None,
            month,
        ),
        question(
            "(i) time in queue by 20 queues, 31 d",
            "interactions/queue-time/count/by-queues",
            json!({"filters": with(json!({"queues": queues}))}),
            &duration_sql("queue_seconds", "queue_id, ", " and queue_id = any($4) group by 1")
                .replace("TABLE", "interaction_audits"),
            List::Queues(queues.to_vec()),
            month,
        ),
    ]
}

/// Advisor response time by queue with the times derived at query time (the
/// alternative to deriving them at ingest): the same window logic as the
/// ingest step, over every message of the interactions with a message in
/// range.
const ART_AT_QUERY_TIME: &str = r#"
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
    select s.queue_id, s.occurred_at,
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
select queue_id, avg(response), count(response)::bigint from computed
where occurred_at >= $2 and occurred_at < $3 and queue_id = any($4) and response is not null
group by 1
"#;

// ---------------------------------------------------------------- timing

/// The sum of every `count` in a report answer, however it is grouped.
fn total_count(value: &Value) -> i64 {
    match value {
        Value::Object(map) => (map.iter())
            .map(|(k, v)| match k.as_str() {
                "count" => v.as_i64().unwrap_or(0),
                _ => total_count(v),
            })
            .sum(),
        Value::Array(items) => items.iter().map(total_count).sum(),
        _ => 0,
    }
}

/// One reporting call, timed from sending to the last byte of the answer.
struct Answer {
    elapsed: Duration,
    json: Value,
    /// `X-Cache: HIT`.
    hit: bool,
    /// `X-Query-Plan` (`rollup` or `raw`), when the service says.
    plan: String,
}

async fn call_service(
    client: &Client,
    url: &str,
    token: &str,
    body: &[u8],
    no_cache: bool,
) -> Result<Answer> {
    let started = Instant::now();
    let mut request = (client.post(url).bearer_auth(token))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if no_cache {
        request = request.header("cache-control", "no-cache");
    }
    let response = request.send().await?;
    let status = response.status();
    let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok());
    let hit = header("x-cache") == Some("HIT");
    let plan = header("x-query-plan").unwrap_or("-").to_owned();
    let bytes = response.bytes().await?;
    let elapsed = started.elapsed();
    let text = || String::from_utf8_lossy(&bytes);
    ensure!(status.is_success(), "{url} answered {status}: {}", text());
    let json = serde_json::from_slice(&bytes)?;
    Ok(Answer {
        elapsed,
        json,
        hit,
        plan,
    })
}

/// One run of a question's SQL: its time and the sum of its counts.
async fn call_sql(pool: &PgPool, question: &Question, tenant: Uuid) -> Result<(Duration, i64)> {
    let started = Instant::now();
    let query = sqlx::query(&question.sql)
        .bind(tenant)
        .bind(question.from)
        .bind(question.to);
    let query = match &question.list {
        List::None => query,
        List::Channels(channels) => query.bind(channels),
        List::Queues(queues) => query.bind(queues),
    };
    let rows = query.fetch_all(pool).await?;
    let elapsed = started.elapsed();
    let mut total = 0i64;
    for row in &rows {
        total += row.try_get::<i64, _>(row.len() - 1)?;
    }
    Ok((elapsed, total))
}

/// p50 and p95 in milliseconds (nearest rank).
fn p50_p95(mut times: Vec<Duration>) -> (f64, f64) {
    times.sort();
    let at = |p: f64| {
        let rank = ((p * times.len() as f64).ceil() as usize).clamp(1, times.len());
        times[rank - 1].as_secs_f64() * 1000.0
    };
    (at(0.50), at(0.95))
}

/// Times one question through HTTP (uncached) and as SQL, prints its row of
/// the table, and tells whether both gave the same total.
async fn time_question(
    iterations: usize,
    service: (&Client, &str, &str),
    sql: (&PgPool, Uuid),
    question: &Question,
) -> Result<bool> {
    let (client, base, token) = service;
    let url = format!("{base}{}", question.path);
    let body = serde_json::to_vec(&question.body)?;
    let (mut http_times, mut sql_times) = (Vec::new(), Vec::new());
    let (mut http_total, mut sql_total, mut plan) = (0, 0, String::new());
    for i in 0..WARM_UPS + iterations {
        let answer = call_service(client, &url, token, &body, true).await?;
        (http_total, plan) = (total_count(&answer.json), answer.plan);
        if i >= WARM_UPS {
            http_times.push(answer.elapsed);
        }
    }
    for i in 0..WARM_UPS + iterations {
        let (elapsed, total) = call_sql(sql.0, question, sql.1).await?;
        sql_total = total;
        if i >= WARM_UPS {
            sql_times.push(elapsed);
        }
    }
    let (http, plain) = (p50_p95(http_times), p50_p95(sql_times));
    let check = match http_total == sql_total {
        true => "OK".to_owned(),
        false => format!("MISMATCH (SQL {sql_total})"),
    };
    println!(
        "{:<34} | {:>8.2} ms | {:>8.2} ms | {:>8.2} ms | {:>8.2} ms | {:>5.2} | {plan:>6} | {http_total:>7} | {check}",
        question.name, http.0, http.1, plain.0, plain.1, plain.0 / http.0
    );
    Ok(http_total == sql_total)
}

/// The bench process's resident set and its peak so far, in KiB.
fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        (status.lines())
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Streams the big tenant's state audits (all of them, up to the 1,000,000
/// cap) as CSV and prints rows/s and how much the process's peak memory grew.
async fn export_rate(client: &Client, base: &str, token: &str) -> Result<()> {
    let from = dataset_end() - chrono::Duration::days(365);
    let body = json!({"filters": {"from": rfc3339(from), "to": rfc3339(dataset_end())}});
    let (rss_before, peak_before) = rss_kib();
    let started = Instant::now();
    let mut response = (client.post(format!("{base}/reporting/export/v1.2/view/interactions")))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .json(&body)
        .send()
        .await?;
    ensure!(
        response.status().is_success(),
        "export answered {}",
        response.status()
    );
    let (mut bytes, mut lines) = (0u64, 0u64);
    while let Some(chunk) = response.chunk().await? {
        bytes += chunk.len() as u64;
        lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
    }
    let secs = started.elapsed().as_secs_f64();
    let (_, peak_after) = rss_kib();
    let rows = lines.saturating_sub(1);
    println!();
    println!(
        "export view/interactions CSV: {rows} rows, {:.1} MB in {secs:.2} s = {:.0} rows/s; \
         RSS before {} MiB, peak grew by {} MiB",
        bytes as f64 / 1e6,
        rows as f64 / secs,
        rss_before / 1024,
        peak_after.saturating_sub(peak_before.max(rss_before)) / 1024
    );
    Ok(())
}

/// Calls and cache hits of `tasks` tasks repeating one cacheable request
/// for `duration`, and the seconds it took.
async fn cached_throughput(
    service: (&Client, &str, &str),
    body: &[u8],
    tasks: usize,
    duration: Duration,
) -> Result<(u64, u64, f64)> {
    let (client, url, token) = service;
    call_service(client, url, token, body, false).await?; // fills the cache
    let started = Instant::now();
    let deadline = started + duration;
    let task = || async {
        let (mut calls, mut hits) = (0u64, 0u64);
        while Instant::now() < deadline {
            let answer = call_service(client, url, token, body, false).await?;
            calls += 1;
            hits += u64::from(answer.hit);
        }
        Ok::<_, anyhow::Error>((calls, hits))
    };
    let counts = futures::future::try_join_all((0..tasks).map(|_| task())).await?;
    let (calls, hits) = (counts.iter()).fold((0, 0), |(c, h), &(dc, dh)| (c + dc, h + dh));
    Ok((calls, hits, started.elapsed().as_secs_f64()))
}

// ---------------------------------------------------------------- main

/// The service's settings: rate limits out of the way, generous timeouts.
fn config(database_url: String, args: &Args) -> Result<Config> {
    let unlimited = RateQuota {
        limit: 10_000_000,
        period: Duration::from_secs(60),
    };
    Ok(Config {
        database_url,
        bind: "127.0.0.1:0".parse()?,
        jwt_secret: JWT_SECRET.into(),
        jwt_public_key_pem: None,
        admin_token: None,
        webhook_key: "cx-bench-webhook-key".into(),
        token_ttl: Duration::from_secs(3600),
        cache_ttl: Duration::from_secs(600),
        cache_max_bytes: 64 << 20,
        rate_reporting: unlimited,
        rate_export: unlimited,
        rate_ingest: unlimited,
        db_pool_size: (args.concurrency as u32 + 4).max(10),
        db_acquire_timeout: Duration::from_secs(60),
        statement_timeout: Duration::from_secs(300),
        export_statement_timeout: Duration::from_secs(300),
        request_timeout: Duration::from_secs(300),
        rollups: true,
    })
}

/// Everything after the database exists: migrate, serve, measure.
async fn bench(args: &Args, options: PgConnectOptions) -> Result<()> {
    let config = config(options.to_url_lossy().to_string(), args)?;
    let pool = cx_reporting::state::connect(&config).await?;
    MIGRATOR.run(&pool).await.context("migrate")?;
    let router = cx_reporting::app(AppState::new(pool.clone(), config.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let sql_pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await?;
    let outcome = measure(args, &config, &pool, &sql_pool, &base).await;
    server.abort();
    sql_pool.close().await;
    pool.close().await;
    outcome
}

async fn measure(
    args: &Args,
    config: &Config,
    pool: &PgPool,
    sql_pool: &PgPool,
    base: &str,
) -> Result<()> {
    let client = Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(600))
        .build()?;
    let (mut ids, mut tokens) = (Vec::new(), Vec::new());
    let exp = Utc::now().timestamp() + 10 * 365 * 86_400;
    for i in 0..args.tenants {
        let tenant = tenants::create(pool, &config.webhook_key, &format!("bench-{i}")).await?;
        let claims = Claims {
            sub: tenant.client_id.clone(),
            tid: tenant.tenant_id,
            roles: vec!["Analytics".into(), "Ingest".into()],
            exp,
            iat: None,
        };
        tokens.push(auth::mint(JWT_SECRET, &claims)?);
        ids.push(tenant.tenant_id);
    }
    println!(
        "dataset: {} events, {} tenants (the big one {}), {} days to {}, seed {}",
        args.events,
        args.tenants,
        quotas(args.events, args.tenants)[0],
        args.days,
        rfc3339(dataset_end()),
        args.seed
    );

    let (concurrency, batch) = (args.concurrency, args.batch);
    println!("ingest: {concurrency} requests of {batch} events in flight");
    let started = Instant::now();
    let inserted = ingest(args, &client, base, &tokens).await?;
    let secs = started.elapsed().as_secs_f64();
    let rate = args.events as f64 / secs;
    println!("ingest: {inserted} events in {secs:.1} s = {rate:.0} events/s");
    ensure!(
        inserted == args.events,
        "only {inserted} events were stored"
    );

    let started = Instant::now();
    let maintenance = if args.analyze_only {
        "analyze"
    } else {
        "vacuum analyze"
    };
    sqlx::query(maintenance).execute(pool).await?;
    println!("{maintenance}: {:.1} s", started.elapsed().as_secs_f64());
    let (audits, messages, size): (i64, i64, String) = sqlx::query_as(
        "select (select count(*) from interaction_audits), (select count(*) from messages), \
         pg_size_pretty(pg_database_size(current_database()))",
    )
    .fetch_one(pool)
    .await?;
    println!("stored: {audits} state audits, {messages} messages; database {size}");

    let queues = TenantStream::new(args.seed, 0, 0, args.days).queues;
    let questions = questions(&queues);
    println!(
        "timing: the big tenant, {} calls per question after {WARM_UPS} warm-ups; HTTP with \
         Cache-Control: no-cache, SQL on one connection",
        args.iterations
    );
    println!();
    println!(
        "{:<34} | {:>11} | {:>11} | {:>11} | {:>11} | {:>5} | {:>6} | {:>7} | check",
        "question", "service p50", "service p95", "SQL p50", "SQL p95", "ratio", "plan", "total"
    );
    println!("{}", "-".repeat(130));
    let mut mismatches = 0;
    for question in &questions {
        let service = (&client, base, tokens[0].as_str());
        if !time_question(args.iterations, service, (sql_pool, ids[0]), question).await? {
            mismatches += 1;
        }
    }
    println!(
        "(ratio = SQL p50 / service p50, > 1 when the service beats the raw-table SQL; \
         plan = the service's X-Query-Plan)"
    );

    // Derived times: read at query time from the columns the ingest step
    // keeps, versus computed at query time from the messages.
    let derived = Question {
        name: "(d) derived at query time, SQL",
        sql: ART_AT_QUERY_TIME.to_owned(),
        ..question(
            "",
            "",
            Value::Null,
            "",
            List::Queues(queues.clone()),
            dataset_end() - chrono::Duration::days(31),
        )
    };
    let mut times = Vec::new();
    let mut derived_total = 0;
    for _ in 0..args.iterations.min(5) {
        let (elapsed, total) = call_sql(sql_pool, &derived, ids[0]).await?;
        times.push(elapsed);
        derived_total = total;
    }
    let (p50, p95) = p50_p95(times);
    println!(
        "{:<34} | {:>11} | {:>11} | {p50:>8.2} ms | {p95:>8.2} ms |       |        | {derived_total:>7} | \
         (vs (d), whose times were derived at ingest)",
        derived.name, "", ""
    );

    export_rate(&client, base, &tokens[0]).await?;

    let question = &questions[1];
    let url = format!("{base}{}", question.path);
    let body = serde_json::to_vec(&question.body)?;
    let service = (&client, url.as_str(), tokens[0].as_str());
    let (calls, hits, secs) = cached_throughput(service, &body, 16, Duration::from_secs(5)).await?;
    println!();
    println!(
        "cached {}: 16 tasks for {secs:.1} s: {calls} requests = {:.0} requests/s, {:.1}% hits",
        question.name,
        calls as f64 / secs,
        hits as f64 * 100.0 / calls.max(1) as f64
    );
    ensure!(mismatches == 0, "{mismatches} answers differ from SQL");
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let counts = [
        args.events,
        args.tenants as u64,
        args.days as u64,
        args.iterations as u64,
    ];
    ensure!(
        counts.iter().all(|&n| n >= 1) && args.concurrency >= 1,
        "--events, --tenants, --days, --iterations and --concurrency must be positive"
    );
    ensure!(
        (1..=10_000).contains(&args.batch),
        "--batch must be 1 to 10000"
    );
    let url = std::env::var("DATABASE_URL").context(
        "DATABASE_URL must name a maintenance database, e.g. \
         postgres://postgres@127.0.0.1/postgres (scripts/bench starts a server when unset)",
    )?;
    let server: PgConnectOptions = url
        .parse()
        .context("DATABASE_URL is not a PostgreSQL URL")?;
    let mut admin = server.connect().await.context("connect to DATABASE_URL")?;
    let version: String = sqlx::query_scalar("select version()")
        .fetch_one(&mut admin)
        .await?;
    let name = format!("cx_bench_{}", Uuid::new_v4().simple());
    sqlx::query(&format!("create database {name}"))
        .execute(&mut admin)
        .await?;
    println!("cx-bench on {version}");
    let fate = if args.keep {
        "kept"
    } else {
        "dropped at the end"
    };
    println!("database {name} ({fate})");

    let outcome = bench(&args, server.clone().database(&name)).await;

    if !args.keep {
        sqlx::query(&format!("drop database if exists {name} with (force)"))
            .execute(&mut admin)
            .await
            .context("drop the bench database")?;
    }
    admin.close().await?;
    outcome
}
