//! How soon an acknowledged event is visible to an uncached tile while the
//! main ingest runs: a probe tenant of its own gets one event every 100–250
//! ms (a Draft → Queued audit of a fresh interaction, inside the dataset's
//! days); from the 200 acknowledgement on, the probe asks that tenant's
//! Queued count tile with `Cache-Control: no-cache` until the count includes
//! the event. Only the HTTP API is used. The probe tenant holds nothing but
//! these events, so after k acknowledged probes the count must be k.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Client;
use serde_json::json;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::dataset::{dataset_end, rfc3339};
use crate::figure;
use crate::timing::call_service;

/// A probe event not visible this long after its acknowledgement fails the
/// run.
pub const GIVE_UP: Duration = Duration::from_secs(10);
/// The target for the p99 delay.
pub const TARGET: Duration = Duration::from_secs(1);
/// Pause between two asks of the tile for the same event.
const POLL_PAUSE: Duration = Duration::from_millis(5);

/// What the probe saw.
#[derive(Default)]
pub struct Visibility {
    /// Per visible event: acknowledgement to the first answer including it.
    pub delays: Vec<Duration>,
    /// `X-Query-Plan` of the answers that first included an event, counted.
    pub plans: BTreeMap<String, usize>,
    /// Checks that failed (the probe stops at the first).
    pub failures: Vec<String>,
}

/// The probe running in the background until stopped.
pub struct Prober {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<Result<Visibility>>,
}

impl Prober {
    /// Lets the probe in flight finish, then returns what it saw.
    pub async fn stop(self) -> Result<Visibility> {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.await.context("the visibility probe panicked")?
    }
}

/// Starts probing the tenant of `token` (which must hold no other data);
/// the first probe goes at once, whatever [`Prober::stop`] says.
pub fn start(client: Client, base: &str, token: String, days: i64) -> Prober {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let base = base.to_owned();
    let handle = tokio::spawn(async move {
        let probe = Probe::new(&base, token, days);
        probe.run(&client, &flag).await
    });
    Prober { stop, handle }
}

struct Probe {
    ingest: String,
    tile: String,
    tile_body: Vec<u8>,
    token: String,
    queue: Uuid,
    /// The tile's range: the last `min(days, 31)` days of the dataset.
    from: DateTime<Utc>,
    secs: i64,
}

/// Where the count stands for the k-th acknowledged probe event.
#[derive(Debug, PartialEq, Eq)]
pub enum Seen {
    Yes,
    NotYet,
    /// More than were acknowledged: something counts what it should not.
    TooMany,
}

/// The count of a tenant holding only probe events, `acked` of them
/// acknowledged, the last one being looked for.
pub fn seen(count: u64, acked: u64) -> Seen {
    match count {
        c if c == acked => Seen::Yes,
        c if c < acked => Seen::NotYet,
        _ => Seen::TooMany,
    }
}

/// The `occurredAt` of probe `k`: spread over the hours and days of the
/// range `[from, from + secs)` by a stride of an hour and 7 s.
pub fn probe_instant(k: u64, from: DateTime<Utc>, secs: i64) -> DateTime<Utc> {
    let offset = (k as i64).wrapping_mul(3_607).rem_euclid(secs.max(1));
    from + chrono::Duration::seconds(offset)
}

impl Probe {
    fn new(base: &str, token: String, days: i64) -> Self {
        let end = dataset_end();
        let from = end - chrono::Duration::days(days.clamp(1, 31));
        let body = json!({
            "newState": ["Queued"],
            "filters": {"from": rfc3339(from), "to": rfc3339(end)},
        });
        Self {
            ingest: format!("{base}/ingest/v1/events"),
            tile: format!("{base}/reporting/v1.2/interactions/state/count"),
            tile_body: serde_json::to_vec(&body).unwrap_or_default(),
            token,
            queue: Uuid::new_v4(),
            from,
            secs: (end - from).num_seconds(),
        }
    }

    async fn run(&self, client: &Client, stop: &AtomicBool) -> Result<Visibility> {
        let mut rng = StdRng::seed_from_u64(0x0050_524F_4245);
        let mut out = Visibility::default();
        let mut acked = 0u64;
        loop {
            let next = Instant::now() + Duration::from_millis(rng.gen_range(100..=250));
            acked += 1;
            let acknowledged = self.post(client, acked).await?;
            if let Err(failure) = self.until_seen(client, acked, acknowledged, &mut out).await {
                out.failures.push(failure);
                return Ok(out);
            }
            if stop.load(Ordering::Relaxed) {
                return Ok(out);
            }
            tokio::time::sleep_until(next.into()).await;
        }
    }

    /// Posts probe event `k`; the instant its acknowledgement arrived.
    async fn post(&self, client: &Client, k: u64) -> Result<Instant> {
        let at = probe_instant(k, self.from, self.secs);
        let event = json!([{
            "id": format!("probe-{k}"), "type": "interaction.state_changed",
            "occurredAt": rfc3339(at), "interactionId": format!("probe-{k}"),
            "reference": format!("P{k:08}"), "channel": "WebChat",
            "oldState": "Draft", "newState": "Queued", "queueId": self.queue,
        }]);
        let response = (client.post(&self.ingest).bearer_auth(&self.token))
            .json(&event)
            .send()
            .await?;
        let status = response.status();
        let text = response.text().await?;
        let acknowledged = Instant::now();
        ensure!(
            status.is_success(),
            "visibility probe: ingest answered {status}: {text}"
        );
        Ok(acknowledged)
    }

    /// Asks the tile until the count includes event `acked`; records the
    /// delay, or says why not.
    async fn until_seen(
        &self,
        client: &Client,
        acked: u64,
        acknowledged: Instant,
        out: &mut Visibility,
    ) -> std::result::Result<(), String> {
        let deadline = acknowledged + GIVE_UP;
        let mut last = None;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let answer = (!left.is_zero())
                .then(|| call_service(client, &self.tile, &self.token, &self.tile_body, true));
            let answer = match answer {
                Some(call) => tokio::time::timeout(left, call).await.ok(),
                None => None,
            };
            let Some(answer) = answer else {
                return Err(format!(
                    "visibility: probe event {acked} not in an uncached count tile {} s after \
                     its acknowledgement (last count {}, {acked} acknowledged)",
                    GIVE_UP.as_secs(),
                    last.map_or("none".to_owned(), |c: u64| c.to_string())
                ));
            };
            let answer = answer.map_err(|e| format!("visibility: the count tile failed: {e:#}"))?;
            let arrived = Instant::now();
            let count = answer.json["count"].as_u64();
            last = count;
            match count.map(|c| seen(c, acked)) {
                Some(Seen::Yes) => {
                    out.delays.push(arrived - acknowledged);
                    *out.plans.entry(answer.plan).or_default() += 1;
                    return Ok(());
                }
                Some(Seen::NotYet) => tokio::time::sleep(POLL_PAUSE).await,
                Some(Seen::TooMany) | None => {
                    return Err(format!(
                        "visibility: the probe tenant's count tile answered {} with {acked} \
                         probe events acknowledged",
                        answer.json
                    ))
                }
            }
        }
    }
}

/// Prints the probe's figure; returns its failures and its missed target
/// (p99 over [`TARGET`]), for the run's checks and speed targets.
pub fn report(seen: Visibility) -> (Vec<String>, Vec<String>) {
    let plans: Vec<String> = (seen.plans.iter())
        .map(|(plan, n)| format!("{plan} {n}"))
        .collect();
    let mut misses = Vec::new();
    match Summary::of(&seen.delays) {
        Some(s) => {
            figure(format!(
                "visibility under full ingest load: {} probes (one event each, every 100-250 ms, \
                 into a probe tenant of its own), acknowledgement to the first uncached count \
                 tile including it: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (answer plans: {})",
                s.n,
                s.p50,
                s.p99,
                s.max,
                plans.join(", ")
            ));
            if s.p99 > TARGET.as_secs_f64() * 1000.0 {
                misses.push(format!(
                    "visibility: p99 {:.1} ms from an event's acknowledgement to an uncached                      tile including it is over {} s",
                    s.p99,
                    TARGET.as_secs()
                ));
            }
        }
        None => figure("visibility under full ingest load: no probe event became visible".into()),
    }
    (seen.failures, misses)
}

/// Count, p50, p99 and max of some delays in milliseconds (nearest rank).
#[derive(Debug, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Summary {
    /// None for no delays.
    pub fn of(delays: &[Duration]) -> Option<Self> {
        let mut ms: Vec<f64> = delays.iter().map(|t| t.as_secs_f64() * 1000.0).collect();
        ms.sort_by(f64::total_cmp);
        let rank = |p: f64| {
            let i = (p * ms.len() as f64).ceil() as usize;
            ms.get(i.max(1) - 1).copied()
        };
        Some(Self {
            n: ms.len(),
            p50: rank(0.5)?,
            p99: rank(0.99)?,
            max: *ms.last()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    /// A Unix second as an instant.
    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).single().expect("in range")
    }

    #[test]
    fn percentiles_are_nearest_rank_and_max_the_largest() {
        let delays: Vec<Duration> = (1..=200).rev().map(Duration::from_millis).collect();
        let summary = Summary::of(&delays).expect("delays");
        assert_eq!(
            summary,
            Summary {
                n: 200,
                p50: 100.0,
                p99: 198.0,
                max: 200.0
            }
        );
        let one = Summary::of(&[Duration::from_micros(1_500)]).expect("one delay");
        assert_eq!((one.n, one.p50, one.p99, one.max), (1, 1.5, 1.5, 1.5));
        assert_eq!(Summary::of(&[]), None);
    }

    #[test]
    fn an_event_is_seen_when_the_count_reaches_the_acknowledged() {
        assert_eq!(seen(4, 5), Seen::NotYet);
        assert_eq!(seen(5, 5), Seen::Yes);
        assert_eq!(seen(6, 5), Seen::TooMany);
        assert_eq!(seen(0, 1), Seen::NotYet);
    }

    #[test]
    fn probe_instants_stay_inside_the_range_and_move_on() {
        let end = dataset_end();
        let from = end - chrono::Duration::days(2);
        let secs = (end - from).num_seconds();
        let instants: Vec<DateTime<Utc>> =
            (1..=5_000).map(|k| probe_instant(k, from, secs)).collect();
        assert!(instants.iter().all(|t| *t >= from && *t < end));
        let distinct: std::collections::HashSet<_> = instants.iter().collect();
        assert_eq!(distinct.len(), 5_000);
        assert_eq!(probe_instant(1, at(0), 86_400), at(3_607));
        assert_eq!(probe_instant(24, at(0), 86_400), at(24 * 3_607 - 86_400));
    }
}
