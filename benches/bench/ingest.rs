//! Ingest over HTTP: batches generated round-robin over the tenants on a
//! blocking thread, `--concurrency` requests in flight.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{ensure, Context, Result};
use reqwest::Client;
use serde_json::Value;
use tokio::sync::{mpsc, Mutex};

use crate::dataset::{quotas, Disorder, Sent, TenantStream};
use crate::Args;

/// One ingest request: the tenant (an index into the tokens), its number
/// of events and its JSON body.
pub struct Batch {
    pub tenant: usize,
    pub events: u64,
    pub body: Vec<u8>,
}

/// What the service answered to every batch of one ingest, summed.
pub struct Posted {
    /// Events posted, duplicates included.
    pub posted: u64,
    pub inserted: u64,
    pub duplicates: u64,
    /// From the first request to the last answer.
    pub secs: f64,
}

/// What the ingest sent and what the service said it did.
pub struct Ingested {
    /// Events posted, duplicates included.
    pub posted: u64,
    /// The service's `inserted` and `duplicates`, summed.
    pub inserted: u64,
    pub duplicates: u64,
    /// What the generator sent out of place.
    pub sent: Sent,
    pub secs: f64,
}

/// Posts the whole dataset and checks the service stored each unique event
/// once and recognised every duplicate.
pub async fn ingest(
    args: &Args,
    client: &Client,
    base: &str,
    tokens: &[String],
) -> Result<Ingested> {
    let (tx, rx) = mpsc::channel::<Batch>(args.concurrency * 2);
    let (seed, days, size, total) = (args.seed, args.days, args.batch, args.events);
    let disorder = args.disorder();
    let counts = quotas(total, tokens.len());
    let producer = tokio::task::spawn_blocking(move || -> Result<Sent> {
        let mut streams: Vec<TenantStream> = (counts.iter().enumerate())
            .map(|(i, &quota)| TenantStream::new(seed, i, quota, days, disorder))
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
                    break; // a sender failed and reports why
                }
            }
        }
        Ok(streams.iter().fold(Sent::default(), |sum, s| Sent {
            late: sum.late + s.sent.late,
            duplicates: sum.duplicates + s.sent.duplicates,
        }))
    });

    let url = format!("{base}/ingest/v1/events");
    let posting = post_all(client, &url, tokens, rx, args.concurrency, total).await;
    let sent = producer.await.context("the generator panicked")??;
    let posted = posting?;
    let ingested = Ingested {
        posted: posted.posted,
        inserted: posted.inserted,
        duplicates: posted.duplicates,
        sent,
        secs: posted.secs,
    };
    ensure!(
        ingested.inserted == args.events,
        "the service inserted {} events, not the {} unique ones sent",
        ingested.inserted,
        args.events
    );
    ensure!(
        ingested.duplicates == sent.duplicates,
        "the service counted {} duplicates, not the {} sent",
        ingested.duplicates,
        sent.duplicates
    );
    ensure!(
        ingested.posted == args.events + sent.duplicates,
        "posted {} events, expected {} unique + {} duplicates",
        ingested.posted,
        args.events,
        sent.duplicates
    );
    Ok(ingested)
}

/// The generator's settings, for `Args`.
/// Posts the batches received on `rx`, `concurrency` requests in flight,
/// and sums the service's answers; prints progress at every tenth of
/// `total` events. Fails on the first answer that is not a success.
pub async fn post_all(
    client: &Client,
    url: &str,
    tokens: &[String],
    rx: mpsc::Receiver<Batch>,
    concurrency: usize,
    total: u64,
) -> Result<Posted> {
    let rx = Arc::new(Mutex::new(rx));
    let posted = AtomicU64::new(0);
    let started = Instant::now();
    // Progress at every tenth of the unique events (duplicates push it on a
    // little).
    let worker = || async {
        let (mut inserted, mut duplicates) = (0u64, 0u64);
        loop {
            // Take the lock only to receive: held across the request, it
            // would serialise the workers.
            let next = rx.lock().await.recv().await;
            let Some(batch) = next else { break };
            let response = (client.post(url).bearer_auth(&tokens[batch.tenant]))
                .header("content-type", "application/json")
                .body(batch.body)
                .send()
                .await?;
            let status = response.status();
            let text = response.text().await?;
            ensure!(status.is_success(), "ingest answered {status}: {text}");
            let answer: Value = serde_json::from_str(&text)?;
            inserted += answer["inserted"].as_u64().context("no `inserted`")?;
            duplicates += answer["duplicates"].as_u64().context("no `duplicates`")?;
            let before = posted.fetch_add(batch.events, Ordering::Relaxed);
            let after = before + batch.events;
            if after * 10 / total.max(1) > before * 10 / total.max(1) {
                let secs = started.elapsed().as_secs_f64();
                eprintln!("  posted {after:>10} events in {secs:6.1} s");
            }
        }
        Ok::<_, anyhow::Error>((inserted, duplicates))
    };
    let answers = futures::future::try_join_all((0..concurrency).map(|_| worker())).await;
    let secs = started.elapsed().as_secs_f64();
    drop(rx);
    let answers = answers?;
    Ok(Posted {
        posted: posted.load(Ordering::Relaxed),
        inserted: answers.iter().map(|a| a.0).sum(),
        duplicates: answers.iter().map(|a| a.1).sum(),
        secs,
    })
}

impl Args {
    pub fn disorder(&self) -> Disorder {
        Disorder {
            late: self.late_percent / 100.0,
            duplicate: self.duplicate_percent / 100.0,
        }
    }
}
