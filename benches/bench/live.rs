//! Reads as users meet them: tiles (c) and (d) of the big tenant asked
//! uncached, one after the other, while the ingest runs and for the first
//! seconds after it, before any manual VACUUM (autovacuum as it comes).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use reqwest::Client;
use tokio::task::JoinHandle;

use crate::questions::Question;
use crate::timing::call_service;

/// Latencies of each question, in the order they were asked.
pub type Latencies = Vec<(&'static str, Vec<Duration>)>;

/// A reader running in the background until stopped.
pub struct Reader {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<Result<Latencies>>,
}

/// One request to repeat: its name, URL and body.
#[derive(Clone)]
pub struct Probe {
    name: &'static str,
    url: String,
    body: Vec<u8>,
}

pub fn probes(base: &str, questions: &[Question], names: &[&str]) -> Result<Vec<Probe>> {
    names
        .iter()
        .filter_map(|prefix| questions.iter().find(|q| q.name.starts_with(prefix)))
        .map(|q| {
            Ok(Probe {
                name: q.name,
                url: format!("{base}{}", q.path),
                body: serde_json::to_vec(&q.body)?,
            })
        })
        .collect()
}

async fn ask_until(
    client: &Client,
    token: &str,
    probes: &[Probe],
    done: impl Fn() -> bool,
) -> Result<Latencies> {
    let mut out: Latencies = probes.iter().map(|p| (p.name, Vec::new())).collect();
    while !done() {
        for (probe, (_, times)) in probes.iter().zip(out.iter_mut()) {
            let answer = call_service(client, &probe.url, token, &probe.body, true).await?;
            times.push(answer.elapsed);
        }
    }
    Ok(out)
}

/// Starts asking the probes in a loop until [`Reader::stop`].
pub fn start(client: Client, token: String, probes: Vec<Probe>) -> Reader {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let handle = tokio::spawn(async move {
        ask_until(&client, &token, &probes, || flag.load(Ordering::Relaxed)).await
    });
    Reader { stop, handle }
}

impl Reader {
    pub async fn stop(self) -> Result<Latencies> {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.await?
    }
}

/// Asks the probes in a loop for `window`.
pub async fn for_window(
    client: &Client,
    token: &str,
    probes: &[Probe],
    window: Duration,
) -> Result<Latencies> {
    let started = Instant::now();
    ask_until(client, token, probes, || started.elapsed() >= window).await
}

/// p50 and p99 in milliseconds (nearest rank), and the number of calls.
pub fn p50_p99(times: &[Duration]) -> (f64, f64, usize) {
    let mut ms: Vec<f64> = times.iter().map(|t| t.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    let rank = |p: f64| {
        let i = ((p * ms.len() as f64).ceil() as usize).clamp(1, ms.len().max(1)) - 1;
        ms.get(i).copied().unwrap_or(f64::NAN)
    };
    (rank(0.5), rank(0.99), ms.len())
}
