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

pub mod batches;
pub mod service;
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
use batches::{
    batch, invalid_batch, Batch, AUDITS, INTERACTIONS_PER_BATCH, MESSAGES, QUEUE_TIMES,
    RESPONSE_TIMES, WAIT_TIMES,
};
use service::Service;

/// At least 32 characters and not the JWT secret, as the service demands.
pub const WEBHOOK_KEY: &str = "crash-test-webhook-key-0123456789abcdef";
/// Crashes in one test: each finds the rollups of the batches before it.
const ROUNDS: usize = 3;
const CLIENTS: usize = 3;
/// Per client and round; the kill comes long before the last is posted.
const BATCHES_PER_CLIENT: usize = 8;
/// In each round the service is killed (after some jitter) once this many
/// batches were acknowledged.
const KILL_AFTER_ACKS: usize = 5;

/// What became of a batch posted before the crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Acknowledged,
    /// Answered, but not 200.
    Refused(u16),
    /// Sent, and the connection died without an answer.
    Unanswered,
    NotSent,
}

/// What is stored of one batch: (events, audits, messages) rows and
/// derived (queue, response, wait) times.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Stored {
    rows: (i64, i64, i64),
    derived: (i64, i64, i64),
}

/// What every step needs: the database, the tenant, an HTTP client and a
/// token with the roles Ingest and Analytics.
pub(crate) struct Run {
    url: String,
    pub(crate) pool: PgPool,
    pub(crate) tenant: Uuid,
    token: String,
    pub(crate) client: Client,
}

impl Run {
    async fn new() -> Self {
        Self::on(fresh_database_url().await).await
    }

    /// A run on the migrated database at `url`.
    pub(crate) async fn on(url: String) -> Self {
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

    /// A token with the roles Ingest and Analytics for the run's tenant.
    pub(crate) fn token(&self) -> &str {
        &self.token
    }

    /// `<target tmp>/<database>-<label>.log`: the service's log.
    pub(crate) fn log(&self, label: &str) -> PathBuf {
        let path = self.url.rsplit('/').next().unwrap_or("db");
        let db = path.split('?').next().unwrap_or(path);
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{db}-{label}.log"))
    }

    /// Starts the service on this run's database, logging to `log(label)`.
    async fn start(&self, label: &str) -> Service {
        Service::start(&self.url, self.log(label), &self.client).await
    }

    /// POSTs a batch: the status and body, or `None` when no answer came.
    pub(crate) async fn post(&self, base: &str, body: &Value) -> Option<(u16, Value)> {
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

    /// What is stored of each of the first `n` batches, read with one
    /// query per table (batch `g`'s event ids are `c<g>-…`).
    async fn stored_by_batch(&self, n: usize) -> Vec<Stored> {
        let mut stored = vec![Stored::default(); n];
        let batch_of = "substring(event_id from '^c([0-9]+)-')::int4";
        let events: Vec<(i32, i64)> = sqlx::query_as(&format!(
            "select {batch_of}, count(*) from events \
             where tenant_id = $1 and event_id ~ '^c[0-9]+-' group by 1"
        ))
        .bind(self.tenant)
        .fetch_all(&self.pool)
        .await
        .expect("events by batch");
        let audits: Vec<(i32, i64, i64)> = sqlx::query_as(&format!(
            "select {batch_of}, count(*), count(queue_seconds) from interaction_audits \
             where tenant_id = $1 and event_id ~ '^c[0-9]+-' group by 1"
        ))
        .bind(self.tenant)
        .fetch_all(&self.pool)
        .await
        .expect("audits by batch");
        let messages: Vec<(i32, i64, i64, i64)> = sqlx::query_as(&format!(
            "select {batch_of}, count(*), count(advisor_response_seconds), \
             count(originator_wait_seconds) from messages \
             where tenant_id = $1 and event_id ~ '^c[0-9]+-' group by 1"
        ))
        .bind(self.tenant)
        .fetch_all(&self.pool)
        .await
        .expect("messages by batch");
        for (g, count) in events {
            stored[g as usize].rows.0 = count;
        }
        for (g, count, queue_times) in audits {
            stored[g as usize].rows.1 = count;
            stored[g as usize].derived.0 = queue_times;
        }
        for (g, count, response_times, wait_times) in messages {
            stored[g as usize].rows.2 = count;
            stored[g as usize].derived.1 = response_times;
            stored[g as usize].derived.2 = wait_times;
        }
        stored
    }

    /// How many events of the invalid batches are stored.
    async fn stored_invalid(&self) -> i64 {
        sqlx::query_scalar(
            "select count(*) from events where tenant_id = $1 and event_id like 'refused-%'",
        )
        .bind(self.tenant)
        .fetch_one(&self.pool)
        .await
        .expect("count invalid events")
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

/// The index of batch `i` of client `task` in round `round`.
fn batch_index(round: usize, task: usize, i: usize) -> usize {
    (round * CLIENTS + task) * BATCHES_PER_CLIENT + i
}

/// Client `task` posts its batches of `round` in turn (and an invalid
/// batch second) until one gets no answer: the outcome of each, and the
/// invalid batch's status.
async fn client(
    run: Arc<Run>,
    base: String,
    round: usize,
    task: usize,
    acked: Arc<AtomicUsize>,
) -> (Vec<(usize, Outcome)>, Option<u16>) {
    let mut outcomes = Vec::new();
    let mut refused = None;
    for i in 0..BATCHES_PER_CLIENT {
        if i == 1 {
            let invalid = invalid_batch(round * CLIENTS + task);
            refused = (run.post(&base, &invalid.body).await).map(|(s, _)| s);
        }
        let g = batch_index(round, task, i);
        let outcome = match run.post(&base, &batch(g).body).await {
            Some((200, _)) => {
                acked.fetch_add(1, Ordering::SeqCst);
                Outcome::Acknowledged
            }
            Some((status, _)) => Outcome::Refused(status),
            None => Outcome::Unanswered,
        };
        outcomes.push((g, outcome));
        if outcome == Outcome::Unanswered {
            break;
        }
    }
    (outcomes, refused)
}

/// One round: the clients post their batches of `round` to `service`,
/// which is killed with SIGKILL once `KILL_AFTER_ACKS` were acknowledged
/// plus a random part of the time a batch took. Records each batch's
/// outcome; checks the invalid batches were refused.
async fn crash_round(run: &Arc<Run>, service: Service, round: usize, outcomes: &mut [Outcome]) {
    let acked = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|task| {
            let base = service.base.clone();
            tokio::spawn(client(run.clone(), base, round, task, acked.clone()))
        })
        .collect();
    while acked.load(Ordering::SeqCst) < KILL_AFTER_ACKS {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "only {} batches acknowledged in 120 s; {}",
            acked.load(Ordering::SeqCst),
            service.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    // Each client had about KILL_AFTER_ACKS / CLIENTS batches answered: a
    // random part of one batch's time more lands the kill anywhere in the
    // batches in flight, however fast or loaded the machine.
    let per_batch = started.elapsed() * CLIENTS as u32 / KILL_AFTER_ACKS as u32;
    let jitter = per_batch.mul_f64(rand::thread_rng().gen_range(0.0..1.0));
    tokio::time::sleep(jitter).await;
    service.kill().await;
    for (task, client) in clients.into_iter().enumerate() {
        let (posted, refused) = client.await.expect("client task");
        for (g, outcome) in posted {
            outcomes[g] = outcome;
        }
        if let Some(status) = refused {
            assert_eq!(
                status, 422,
                "the invalid batch of client {task} in round {round}"
            );
        }
    }
    let round_outcomes = (0..CLIENTS * BATCHES_PER_CLIENT)
        .map(|k| outcomes[round * CLIENTS * BATCHES_PER_CLIENT + k]);
    let count = |wanted| round_outcomes.clone().filter(|o| *o == wanted).count();
    eprintln!(
        "round {round}: killed {jitter:?} after the {KILL_AFTER_ACKS}th acknowledgement \
         (a batch took about {per_batch:?}): {} acknowledged, {} unanswered",
        count(Outcome::Acknowledged),
        count(Outcome::Unanswered),
    );
    assert!(
        count(Outcome::Acknowledged) < CLIENTS * BATCHES_PER_CLIENT,
        "every batch of round {round} was acknowledged before the kill"
    );
}

/// Checks what the killed service left: every acknowledged batch stored,
/// every batch whole (its events, audits, messages and derived times) or
/// not at all, refused batches not at all. Which batches are stored.
pub(crate) async fn check_stored(run: &Run, outcomes: &[Outcome], when: &str) -> Vec<bool> {
    let per_batch = INTERACTIONS_PER_BATCH as i64;
    let whole = Stored {
        rows: (
            per_batch * (AUDITS + MESSAGES) as i64,
            per_batch * AUDITS as i64,
            per_batch * MESSAGES as i64,
        ),
        derived: (
            per_batch * QUEUE_TIMES as i64,
            per_batch * RESPONSE_TIMES as i64,
            per_batch * WAIT_TIMES as i64,
        ),
    };
    let stored = run.stored_by_batch(outcomes.len()).await;
    for (g, (stored, outcome)) in stored.iter().zip(outcomes).enumerate() {
        assert!(
            *stored == whole || *stored == Stored::default(),
            "batch {g} ({outcome:?}) half stored {when}: {stored:?}, whole is {whole:?}"
        );
        match outcome {
            Outcome::Acknowledged => {
                assert_eq!(*stored, whole, "acknowledged batch {g} lost {when}")
            }
            Outcome::Refused(status) => {
                assert_eq!(*stored, Stored::default(), "batch {g} refused ({status})")
            }
            Outcome::Unanswered | Outcome::NotSent => {}
        }
    }
    assert_eq!(
        run.stored_invalid().await,
        0,
        "invalid batches stored {when}"
    );
    stored.iter().map(|s| *s == whole).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_batches_survive_kill_9_whole_and_exactly_once() {
    // Arrange: a fresh database, a tenant, a token, the service.
    let run = Arc::new(Run::new().await);
    let batches: Vec<Batch> = (0..ROUNDS * CLIENTS * BATCHES_PER_CLIENT)
        .map(batch)
        .collect();
    let mut outcomes = vec![Outcome::NotSent; batches.len()];
    let mut service = run.start("start").await;

    // Act and assert, several times: kill -9 while batches are in flight,
    // check what is stored, restart, check the tiles against the raw rows.
    for round in 0..ROUNDS {
        crash_round(&run, service, round, &mut outcomes).await;
        run.wait_for_orphans().await;
        let when = format!("after crash {round}");
        check_stored(&run, &outcomes, &when).await;
        service = run.start(&format!("restart-{round}")).await;
        run.tiles_match_raw(&service.base, &when).await;
    }
    let stored_before = check_stored(&run, &outcomes, "at the end").await;

    // Re-posting every batch stores each missing one once and nothing twice.
    let per_client = batches.len() / CLIENTS;
    let reposts: Vec<_> = (0..CLIENTS)
        .map(|task| {
            let (run, base) = (run.clone(), service.base.clone());
            tokio::spawn(async move {
                let mut answers = Vec::new();
                for g in task * per_client..(task + 1) * per_client {
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
    let all_stored = check_stored(&run, &outcomes, "after the re-post").await;
    assert!(
        all_stored.iter().all(|s| *s),
        "every batch stored after the re-post"
    );
    let events: i64 = sqlx::query_scalar("select count(*) from events where tenant_id = $1")
        .bind(run.tenant)
        .fetch_one(&run.pool)
        .await
        .expect("count events");
    let expected = batches.iter().map(|b| b.ids.len() as i64).sum::<i64>();
    assert_eq!(events, expected, "every event once, and nothing else");
    let queued = (run.tiles_match_raw(&service.base, "after the re-post")).await;
    let interactions = (batches.len() * INTERACTIONS_PER_BATCH) as i64;
    assert_eq!(queued, interactions, "one Queued audit per interaction");
    service.kill().await;
    // Passed: the logs are only wanted when a check fails.
    let labels = ["start".to_owned()].into_iter();
    for label in labels.chain((0..ROUNDS).map(|r| format!("restart-{r}"))) {
        std::fs::remove_file(run.log(&label)).ok();
    }
}
