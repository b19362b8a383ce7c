//! Issue 10, faults: PostgreSQL stopped (`pg_ctl stop -m fast`) and
//! crashed (`pg_ctl restart -m immediate`) under the real service while
//! clients stream ingest batches and retry what failed. While the database
//! is away the service answers 503 problem+json with `Retry-After`
//! (readiness fails, liveness holds); it recovers by itself, without a
//! restart; afterwards the stored set is exactly what was sent, event by
//! event, and the tiles equal the raw tables.
//!
//! The database is a cluster of the test's own with production durability,
//! so that an acknowledged commit must survive the immediate shutdown.

mod cluster;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::Connection;

use crate::crash::batches::batch;
use crate::crash::service::Service;
use crate::crash::{check_stored, Outcome, Run};
use cluster::Cluster;

const CLIENTS: usize = 2;
const BATCHES_PER_CLIENT: usize = 12;

/// What one client saw: for each of its batches, the failed attempts
/// before the one that was acknowledged.
type Failures = Vec<(usize, Vec<Option<u16>>)>;

/// Posts batch `g` until it is acknowledged (at most 120 s): the statuses of
/// the failed attempts (`None`: no answer).
async fn post_until_acknowledged(run: &Run, base: &str, g: usize) -> Vec<Option<u16>> {
    let started = Instant::now();
    let mut failed = Vec::new();
    loop {
        match run.post(base, &batch(g).body).await {
            Some((200, _)) => return failed,
            Some((status, body)) => {
                assert!(
                    status == 503,
                    "batch {g}: {status} {body} is not a retryable answer"
                );
                failed.push(Some(status));
            }
            None => failed.push(None),
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "batch {g} not acknowledged in 120 s: {failed:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn client(run: Arc<Run>, base: String, task: usize, acked: Arc<AtomicUsize>) -> Failures {
    let mut failures = Vec::new();
    for i in 0..BATCHES_PER_CLIENT {
        let g = task * BATCHES_PER_CLIENT + i;
        failures.push((g, post_until_acknowledged(&run, &base, g).await));
        acked.fetch_add(1, Ordering::SeqCst);
    }
    failures
}

/// Waits until at least `n` batches are acknowledged.
async fn until_acked(acked: &AtomicUsize, n: usize) {
    let started = Instant::now();
    while acked.load(Ordering::SeqCst) < n {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "only {} of {n} batches acknowledged in 120 s",
            acked.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// `pg_ctl <args>` off the async workers.
async fn pg_ctl(cluster: &Arc<Cluster>, args: &'static [&'static str]) {
    let cluster = cluster.clone();
    tokio::task::spawn_blocking(move || cluster.pg_ctl(args))
        .await
        .expect("pg_ctl task");
}

/// With the database stopped: liveness 200, readiness, a tile and an
/// ingest batch 503 problem+json with `Retry-After`, each within 10 s.
async fn check_unavailable(run: &Run, service: &Service) {
    let base = &service.base;
    let timed = |what: &str, started: Instant| {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{what} took {:?} while the database was away",
            started.elapsed()
        )
    };
    let started = Instant::now();
    let live = run.client.get(format!("{base}/healthz")).send().await;
    assert_eq!(live.expect("/healthz answers").status(), 200);
    timed("/healthz", started);
    let started = Instant::now();
    let ready = run.client.get(format!("{base}/readyz")).send().await;
    let ready = ready.expect("/readyz answers");
    assert_eq!(ready.status(), 503);
    assert!(ready.headers().contains_key("retry-after"));
    timed("/readyz", started);
    let tile = json!({"newState": ["Closed"],
        "filters": {"from": "2026-01-01T00:00:00Z", "to": "2026-01-31T00:00:00Z"}});
    for (path, body) in [
        ("/reporting/v1.2/interactions/state/count", tile),
        ("/ingest/v1/events", batch(10_000).body),
    ] {
        let started = Instant::now();
        let response = (run.client.post(format!("{base}{path}")))
            .bearer_auth(run.token())
            .header("cache-control", "no-cache")
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path} gave no answer: {e}"));
        assert_eq!(response.status(), 503, "{path}");
        assert!(response.headers().contains_key("retry-after"), "{path}");
        let kind = response.headers().get("content-type").cloned();
        assert_eq!(
            kind.as_ref().and_then(|v| v.to_str().ok()),
            Some("application/problem+json"),
            "{path}"
        );
        timed(path, started);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_and_crashed_under_ingest_loses_nothing_and_recovers() {
    let cluster = Arc::new(
        tokio::task::spawn_blocking(Cluster::start)
            .await
            .expect("initdb"),
    );
    let mut conn = sqlx::PgConnection::connect(&cluster.url())
        .await
        .expect("connect to the test's cluster");
    cx_reporting::state::MIGRATOR
        .run(&mut conn)
        .await
        .expect("migrate");
    conn.close().await.expect("close");
    let run = Arc::new(Run::on(cluster.url()).await);
    let env = [
        ("CX_DB_ACQUIRE_TIMEOUT_MS", "500"),
        ("CX_REQUEST_TIMEOUT_SECONDS", "10"),
    ];
    let service = Service::start_with(&cluster.url(), run.log("faults"), &run.client, &env).await;

    let acked = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|task| {
            let (run, base) = (run.clone(), service.base.clone());
            tokio::spawn(client(run, base, task, acked.clone()))
        })
        .collect();

    // A clean stop while batches are in flight: the service answers 503
    // meanwhile, and the clients' retries get through once it is back.
    until_acked(&acked, 3).await;
    pg_ctl(&cluster, &["stop", "-m", "fast"]).await;
    check_unavailable(&run, &service).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    pg_ctl(&cluster, &["start"]).await;
    // A crash (immediate shutdown: recovery from the WAL at start).
    let before = acked.load(Ordering::SeqCst);
    until_acked(&acked, before + 3).await;
    pg_ctl(&cluster, &["restart", "-m", "immediate"]).await;

    let mut retried = 0;
    for client in clients {
        for (g, failed) in client.await.expect("client task") {
            if !failed.is_empty() {
                eprintln!("batch {g}: {} failed attempts {failed:?}", failed.len());
            }
            retried += failed.len();
        }
    }
    assert!(
        retried > 0,
        "no attempt failed: the outages missed the clients"
    );

    // The service recovered by itself.
    let ready = run
        .client
        .get(format!("{}/readyz", service.base))
        .send()
        .await;
    assert_eq!(ready.expect("/readyz").status(), 200);
    // Every batch whole, every event exactly once, nothing else.
    let batches = CLIENTS * BATCHES_PER_CLIENT;
    let outcomes = vec![Outcome::Acknowledged; batches];
    check_stored(&run, &outcomes, "after the outages").await;
    let stored: Vec<String> =
        sqlx::query_scalar("select event_id from events where tenant_id = $1 order by 1")
            .bind(run.tenant)
            .fetch_all(&run.pool)
            .await
            .expect("stored event ids");
    let stored_set: BTreeSet<String> = stored.iter().cloned().collect();
    let sent: BTreeSet<String> = (0..batches).flat_map(|g| batch(g).ids).collect();
    assert_eq!(stored.len(), stored_set.len(), "an event stored twice");
    assert_eq!(stored_set, sent, "the stored events are not the sent ones");
    // The tiles equal the raw tables, and the fold worker recovered too:
    // every delta is folded within 30 s.
    run.tiles_match_raw(&service.base, "after the outages")
        .await;
    let started = Instant::now();
    loop {
        let unfolded: i64 = sqlx::query_scalar(
            "select (select count(*) from count_rollup_deltas where tenant_id = $1) \
             + (select count(*) from duration_value_deltas where tenant_id = $1)",
        )
        .bind(run.tenant)
        .fetch_one(&run.pool)
        .await
        .expect("count the deltas");
        if unfolded == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{unfolded} deltas still unfolded 30 s after the outages"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    run.tiles_match_raw(&service.base, "after the fold").await;
    service.kill().await;
    std::fs::remove_file(run.log("faults")).ok();
}
