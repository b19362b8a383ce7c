//! Issue 13's guarantee, end to end against the real binary: an
//! acknowledged batch survives `kill -9` of the service, a batch is stored
//! whole or not at all, a refused batch stores nothing, ingestion is
//! idempotent per (tenant, event id), and after the crash the count and
//! duration tiles still equal what the raw tables say.
//!
//! The service runs as a child process (`cx-reporting serve`) on a fresh
//! database; three clients post batches over HTTP while it is killed. Only
//! HTTP and the raw tables (`events`, `interaction_audits`, `messages`) are
//! looked at, never the rollups themselves, so the test holds whatever way
//! the rollups are kept.

mod batches;
mod service;
mod tiles;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use cx_reporting::auth::{self, Claims};
use rand::Rng;
use reqwest::Client;
use serde_json::{json, Value};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{fresh_database_url, JWT_SECRET};
use batches::{batch, invalid_batch, Batch, AUDITS, INTERACTIONS_PER_BATCH, MESSAGES};
use service::Service;

/// At least 32 characters and not the JWT secret, as the service demands.
const WEBHOOK_KEY: &str = "crash-test-webhook-key-0123456789abcdef";
const CLIENTS: usize = 3;
const BATCHES_PER_CLIENT: usize = 12;
/// The service is killed (after a little jitter) once this many batches
/// were acknowledged.
const KILL_AFTER_ACKS: usize = 5;

/// What became of a batch posted before the crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Acknowledged,
    /// Answered, but not 200.
    Refused(u16),
    /// Sent, and the connection died without an answer.
    Unanswered,
    NotSent,
}

/// What every step needs: the database, the tenant, an HTTP client and a
/// token with the roles Ingest and Analytics.
pub struct Run {
    url: String,
    pool: PgPool,
    tenant: Uuid,
    token: String,
    client: Client,
}

impl Run {
    async fn new() -> Self {
        let url = fresh_database_url().await;
        // One connection: `pg_backend_pid()` then tells ours from the service's.
        let pool = (PgPoolOptions::new().max_connections(1))
            .connect(&url)
            .await
            .expect("connect");
        let tenant = (cx_reporting::auth::tenants::create(&pool, WEBHOOK_KEY, "Crash"))
            .await
            .expect("create tenant")
            .tenant_id;
        let claims = Claims {
            sub: Uuid::new_v4().to_string(),
            tid: tenant,
            roles: vec!["Ingest".into(), "Analytics".into()],
            exp: Utc::now().timestamp() + 3600,
            iat: None,
        };
        let token = auth::mint(JWT_SECRET, &claims).expect("mint");
        let client = (Client::builder().timeout(Duration::from_secs(60)))
            .build()
            .expect("client");
        Self {
            url,
            pool,
            tenant,
            token,
            client,
        }
    }

    /// Starts the service on this run's database, logging to
    /// `<target tmp>/<database>-<label>.log`.
    async fn start(&self, label: &str) -> Service {
        let path = self.url.rsplit('/').next().unwrap_or("db");
        let db = path.split('?').next().unwrap_or(path);
        let log = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{db}-{label}.log"));
        Service::start(&self.url, log, &self.client).await
    }

    /// POSTs a batch: the status and body, or `None` when no answer came.
    async fn post(&self, base: &str, body: &Value) -> Option<(u16, Value)> {
        let response = (self.client.post(format!("{base}/ingest/v1/events")))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .ok()?;
        let status = response.status().as_u16();
        Some((status, response.json().await.ok()?))
    }

    /// Calls a tile, uncached, and asserts 200.
    async fn ask(&self, base: &str, tile: &str, body: Value) -> Value {
        let response = (self.client.post(format!("{base}/reporting/v1.2/{tile}")))
            .bearer_auth(&self.token)
            .header("cache-control", "no-cache")
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{tile}: no answer ({e})"));
        let status = response.status().as_u16();
        let answer: Value = response.json().await.expect("a JSON answer");
        assert_eq!(status, 200, "{tile}: {answer}");
        answer
    }

    /// How many of `ids` the tenant has in `table` (a name from a closed set).
    async fn stored(&self, table: &str, ids: &[String]) -> i64 {
        let sql = match table {
            "events" => "select count(*) from events where tenant_id = $1 and event_id = any($2)",
            "interaction_audits" => {
                "select count(*) from interaction_audits \
                 where tenant_id = $1 and event_id = any($2)"
            }
            "messages" => {
                "select count(*) from messages where tenant_id = $1 and event_id = any($2)"
            }
            other => panic!("no table {other}"),
        };
        (sqlx::query_scalar(sql).bind(self.tenant).bind(ids))
            .fetch_one(&self.pool)
            .await
            .expect("count stored rows")
    }

    /// Waits until the killed service's connections are gone (their open
    /// transactions then aborted), so what is stored no longer changes.
    async fn wait_for_orphans(&self) {
        let since = Instant::now();
        loop {
            let left: i64 = sqlx::query_scalar(
                "select count(*) from pg_stat_activity where datname = current_database() \
                 and backend_type = 'client backend' and pid <> pg_backend_pid()",
            )
            .fetch_one(&self.pool)
            .await
            .expect("pg_stat_activity");
            if left == 0 {
                return;
            }
            assert!(
                since.elapsed() < Duration::from_secs(60),
                "{left} connections of the killed service still open after 60 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Client `task` posts its batches in turn (and its invalid batch second)
/// until one gets no answer; the outcome of each, and the invalid batch's
/// status.
async fn client(
    run: Arc<Run>,
    base: String,
    task: usize,
    acked: Arc<AtomicUsize>,
) -> (Vec<Outcome>, Option<u16>) {
    let mut outcomes = vec![Outcome::NotSent; BATCHES_PER_CLIENT];
    let mut refused = None;
    for (i, outcome) in outcomes.iter_mut().enumerate() {
        if i == 1 {
            refused = (run.post(&base, &invalid_batch(task).body).await).map(|(s, _)| s);
        }
        let batch = batch(task * BATCHES_PER_CLIENT + i);
        *outcome = match run.post(&base, &batch.body).await {
            Some((200, _)) => {
                acked.fetch_add(1, Ordering::SeqCst);
                Outcome::Acknowledged
            }
            Some((status, _)) => Outcome::Refused(status),
            None => Outcome::Unanswered,
        };
        if *outcome == Outcome::Unanswered {
            break;
        }
    }
    (outcomes, refused)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_batches_survive_kill_9_whole_and_exactly_once() {
    // Arrange: a fresh database, a tenant, a token, the service.
    let run = Arc::new(Run::new().await);
    let service = run.start("first").await;
    let batches: Vec<Batch> = (0..CLIENTS * BATCHES_PER_CLIENT).map(batch).collect();

    // Act: three clients post batches; kill -9 while they are in flight.
    let acked = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|task| {
            let base = service.base.clone();
            tokio::spawn(client(run.clone(), base, task, acked.clone()))
        })
        .collect();
    let waiting = Instant::now();
    while acked.load(Ordering::SeqCst) < KILL_AFTER_ACKS {
        assert!(
            waiting.elapsed() < Duration::from_secs(120),
            "only {} batches acknowledged in 120 s; {}",
            acked.load(Ordering::SeqCst),
            service.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    // Jitter up to about one batch's time (unoptimised, on a loaded
    // machine), so the kill lands at different points of the batches.
    let jitter = rand::thread_rng().gen_range(0..300);
    tokio::time::sleep(Duration::from_millis(jitter)).await;
    service.kill().await;
    let (mut outcomes, mut refused) = (Vec::new(), Vec::new());
    for client in clients {
        let (o, r) = client.await.expect("client task");
        outcomes.extend(o);
        refused.push(r);
    }
    let count = |wanted: Outcome| outcomes.iter().filter(|o| **o == wanted).count();
    assert!(
        count(Outcome::Acknowledged) < batches.len(),
        "every batch was acknowledged before the kill: nothing was in flight"
    );
    run.wait_for_orphans().await;

    // Assert: every acknowledged batch is stored, every batch whole (in
    // every table) or not at all, the refused ones not at all.
    let mut stored_before = Vec::new();
    let whole = (
        (INTERACTIONS_PER_BATCH * (AUDITS + MESSAGES)) as i64,
        (INTERACTIONS_PER_BATCH * AUDITS) as i64,
        (INTERACTIONS_PER_BATCH * MESSAGES) as i64,
    );
    for (g, (b, outcome)) in batches.iter().zip(&outcomes).enumerate() {
        let rows = (
            run.stored("events", &b.ids).await,
            run.stored("interaction_audits", &b.ids).await,
            run.stored("messages", &b.ids).await,
        );
        assert!(
            rows == whole || rows == (0, 0, 0),
            "batch {g} ({outcome:?}) half stored: (events, audits, messages) = {rows:?}"
        );
        match outcome {
            Outcome::Acknowledged => assert_eq!(rows, whole, "acknowledged batch {g} lost"),
            Outcome::Refused(status) => assert_eq!(rows.0, 0, "batch {g} refused ({status})"),
            Outcome::Unanswered | Outcome::NotSent => {}
        }
        stored_before.push(rows == whole);
    }
    for (task, status) in refused.iter().enumerate() {
        if let Some(status) = status {
            assert_eq!(*status, 422, "the invalid batch of client {task}");
        }
        let ids = invalid_batch(task).ids;
        let stored = run.stored("events", &ids).await;
        assert_eq!(stored, 0, "the refused batch of client {task} was stored");
    }
    let answerless_stored = (outcomes.iter().zip(&stored_before))
        .filter(|(o, s)| **o != Outcome::Acknowledged && **s)
        .count();
    eprintln!(
        "killed {jitter} ms after the {KILL_AFTER_ACKS}th acknowledgement: {} acknowledged, \
         {} unanswered, {answerless_stored} stored without an answer",
        count(Outcome::Acknowledged),
        count(Outcome::Unanswered),
    );

    // The restarted service answers from what survived, exactly.
    let service = run.start("second").await;
    run.tiles_match_raw(&service.base, "after the restart")
        .await;

    // Re-posting every batch stores each missing one once and nothing twice.
    let reposts: Vec<_> = (0..CLIENTS)
        .map(|task| {
            let (run, base) = (run.clone(), service.base.clone());
            tokio::spawn(async move {
                let mut answers = Vec::new();
                for g in task * BATCHES_PER_CLIENT..(task + 1) * BATCHES_PER_CLIENT {
                    answers.push((g, run.post(&base, &batch(g).body).await));
                }
                answers
            })
        })
        .collect();
    for repost in reposts {
        for (g, answer) in repost.await.expect("re-post task") {
            let len = batches[g].ids.len() as u64;
            let (status, body) = answer.unwrap_or_else(|| {
                panic!("re-post of batch {g}: no answer; {}", service.log_tail())
            });
            assert_eq!(status, 200, "re-post of batch {g}: {body}");
            let inserted = if stored_before[g] { 0 } else { len };
            assert_eq!(
                body,
                json!({"received": len, "inserted": inserted, "duplicates": len - inserted}),
                "re-post of batch {g} ({:?} before the kill)",
                outcomes[g]
            );
        }
    }
    let n = batches.len() as i64;
    let events: i64 = sqlx::query_scalar("select count(*) from events where tenant_id = $1")
        .bind(run.tenant)
        .fetch_one(&run.pool)
        .await
        .expect("count events");
    assert_eq!(events, n * whole.0, "every event once, and nothing else");
    let all: Vec<String> = batches.iter().flat_map(|b| b.ids.clone()).collect();
    assert_eq!(run.stored("interaction_audits", &all).await, n * whole.1);
    assert_eq!(run.stored("messages", &all).await, n * whole.2);
    run.derived_times_once(n * INTERACTIONS_PER_BATCH as i64)
        .await;
    let queued = (run.tiles_match_raw(&service.base, "after the re-post")).await;
    assert_eq!(
        queued,
        n * INTERACTIONS_PER_BATCH as i64,
        "one Queued audit each"
    );
    service.kill().await;
}

impl Run {
    /// Each of `interactions` has its derived times exactly once: one queue
    /// time, two response times and two wait times.
    async fn derived_times_once(&self, interactions: i64) {
        let counts: (i64, i64, i64) = sqlx::query_as(
            "select (select count(queue_seconds) from interaction_audits where tenant_id = $1), \
             (select count(advisor_response_seconds) from messages where tenant_id = $1), \
             (select count(originator_wait_seconds) from messages where tenant_id = $1)",
        )
        .bind(self.tenant)
        .fetch_one(&self.pool)
        .await
        .expect("derived times");
        let each = (
            batches::QUEUE_TIMES as i64,
            batches::RESPONSE_TIMES as i64,
            batches::WAIT_TIMES as i64,
        );
        assert_eq!(
            counts,
            (
                interactions * each.0,
                interactions * each.1,
                interactions * each.2
            ),
            "derived (queue, response, wait) times"
        );
    }
}
