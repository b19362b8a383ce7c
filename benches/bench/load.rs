//! Sustained mixed load (issue 10): for `--load-seconds`, at the same time
//! - ingest: 2 clients posting batches of 1,000 new events into a tenant of
//!   their own (the same generator as the main stream),
//! - uncached tiles: 4 clients asking (c), (d), (g) and (i) of the big
//!   tenant with `Cache-Control: no-cache`,
//! - cached tiles: 8 clients asking (b) of the big tenant (cache hits),
//! - exports: 1 client streaming a tile export of the big tenant,
//!
//! then prints per kind: requests, throughput, p50/p99 latency and error
//! rate, and the service's memory at the start and the end.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use reqwest::Client;
use tokio::sync::Mutex;

use crate::dataset::{Disorder, TenantStream};
use crate::figure;
use crate::questions::Question;

/// What one kind of client saw.
#[derive(Default)]
struct Kind {
    times: Vec<Duration>,
    errors: u64,
}

/// One request of a kind: URL, body, whether uncached, and the token.
#[derive(Clone)]
struct Call {
    url: String,
    body: Vec<u8>,
    no_cache: bool,
    token: String,
}

async fn send(client: &Client, call: &Call) -> Result<()> {
    let mut request = (client.post(&call.url).bearer_auth(&call.token))
        .header("content-type", "application/json")
        .body(call.body.clone());
    if call.no_cache {
        request = request.header("cache-control", "no-cache");
    }
    let response = request.send().await?;
    let status = response.status();
    // Read the whole body: an export is timed to its last byte.
    let bytes = response.bytes().await?;
    anyhow::ensure!(
        status.is_success(),
        "{status}: {}",
        String::from_utf8_lossy(&bytes)
    );
    Ok(())
}

/// Records one call's outcome (the first three errors of a kind printed).
async fn record(kind: &Mutex<Kind>, result: Result<()>, elapsed: Duration, label: &str) {
    let mut kind = kind.lock().await;
    match result {
        Ok(()) => kind.times.push(elapsed),
        Err(error) => {
            if kind.errors < 3 {
                eprintln!("    load error ({label}): {error}");
            }
            kind.errors += 1;
        }
    }
}

/// Repeats the calls in turn until `stop`, recording each.
async fn repeat(client: Client, calls: Vec<Call>, stop: Arc<AtomicBool>, kind: Arc<Mutex<Kind>>) {
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        let call = &calls[i % calls.len()];
        i += 1;
        let started = Instant::now();
        let result = send(&client, call).await;
        record(&kind, result, started.elapsed(), &call.url).await;
    }
}

/// Posts batches from a stream of its own until `stop`.
async fn ingest(
    client: Client,
    url: String,
    token: String,
    mut stream: TenantStream,
    stop: Arc<AtomicBool>,
    kind: Arc<Mutex<Kind>>,
) {
    while !stop.load(Ordering::Relaxed) {
        let batch = stream.batch(1_000);
        if batch.is_empty() {
            break;
        }
        let call = Call {
            url: url.clone(),
            body: serde_json::to_vec(&batch).unwrap_or_default(),
            no_cache: false,
            token: token.clone(),
        };
        let started = Instant::now();
        let result = send(&client, &call).await;
        record(&kind, result, started.elapsed(), "ingest").await;
    }
}

/// The inputs of the load phase.
pub struct Load<'a> {
    pub base: &'a str,
    pub big_token: &'a str,
    /// Tokens of two fresh tenants for the ingest clients.
    pub ingest_tokens: [String; 2],
    pub questions: &'a [Question],
    pub export: (String, serde_json::Value),
    pub seconds: u64,
    pub seed: u64,
    pub days: i64,
}

/// Runs the load and prints its figures; `memory` gives the service's RSS
/// in KiB.
pub async fn run(client: &Client, load: Load<'_>, memory: impl Fn() -> Result<u64>) -> Result<()> {
    let question = |prefix: &str| load.questions.iter().find(|q| q.name.starts_with(prefix));
    let call = |q: &Question, no_cache: bool| Call {
        url: format!("{}{}", load.base, q.path),
        body: serde_json::to_vec(&q.body).unwrap_or_default(),
        no_cache,
        token: load.big_token.to_owned(),
    };
    let uncached: Vec<Call> = ["(c)", "(d)", "(g)", "(i)"]
        .iter()
        .filter_map(|p| question(p))
        .map(|q| call(q, true))
        .collect();
    let cached: Vec<Call> = question("(b)")
        .map(|q| call(q, false))
        .into_iter()
        .collect();
    let export = vec![Call {
        url: format!("{}/reporting/export/v1.2/{}", load.base, load.export.0),
        body: serde_json::to_vec(&load.export.1)?,
        no_cache: false,
        token: load.big_token.to_owned(),
    }];
    anyhow::ensure!(
        !uncached.is_empty() && !cached.is_empty(),
        "the load's questions are missing"
    );

    let stop = Arc::new(AtomicBool::new(false));
    let kinds: Vec<(&str, Arc<Mutex<Kind>>)> =
        ["ingest", "uncached tiles", "cached tiles", "exports"]
            .iter()
            .map(|name| (*name, Arc::new(Mutex::new(Kind::default()))))
            .collect();
    let rss_start = memory()?;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (i, token) in load.ingest_tokens.iter().enumerate() {
        let disorder = Disorder {
            late: 0.01,
            duplicate: 0.0,
        };
        let stream = TenantStream::new(
            load.seed ^ 0x10ad,
            1000 + i,
            u64::MAX / 4,
            load.days,
            disorder,
        );
        tasks.push(tokio::spawn(ingest(
            client.clone(),
            format!("{}/ingest/v1/events", load.base),
            token.clone(),
            stream,
            stop.clone(),
            kinds[0].1.clone(),
        )));
    }
    for (clients, calls, kind) in [(4, &uncached, 1), (8, &cached, 2), (1, &export, 3)] {
        for _ in 0..clients {
            tasks.push(tokio::spawn(repeat(
                client.clone(),
                calls.clone(),
                stop.clone(),
                kinds[kind].1.clone(),
            )));
        }
    }
    tokio::time::sleep(Duration::from_secs(load.seconds)).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await?;
    }
    let secs = started.elapsed().as_secs_f64();
    let rss_end = memory()?;
    println!();
    println!(
        "sustained mixed load for {secs:.0} s: 2 ingest clients (batches of 1,000 events into \
         tenants of their own), 4 uncached tile clients ((c), (d), (g), (i)), 8 cached tile \
         clients ((b)), 1 export client ({})",
        load.export.0
    );
    for (name, kind) in &kinds {
        let kind = kind.lock().await;
        let mut times = kind.times.clone();
        times.sort();
        let at = |p: f64| {
            let rank = ((p * times.len() as f64).ceil() as usize).clamp(1, times.len().max(1));
            times
                .get(rank - 1)
                .map_or(0.0, |t| t.as_secs_f64() * 1000.0)
        };
        let total = times.len() as u64 + kind.errors;
        let per_second = times.len() as f64 / secs;
        let extra = if *name == "ingest" {
            format!(" = {:.0} events/s", per_second * 1_000.0)
        } else {
            String::new()
        };
        figure(format!(
            "load {name}: {total} requests, {per_second:.1}/s{extra}, p50 {:.1} ms, p99 {:.1} ms, \
             errors {} ({:.2}%)",
            at(0.50),
            at(0.99),
            kind.errors,
            kind.errors as f64 * 100.0 / total.max(1) as f64
        ));
    }
    figure(format!(
        "load: service RSS {} at the start, {} at the end",
        crate::service::mib(rss_start),
        crate::service::mib(rss_end)
    ));
    Ok(())
}
