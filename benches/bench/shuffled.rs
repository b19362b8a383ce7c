//! The adversarial order: events of the same generator, each tenant's in
//! random order across its batches, ingested into tenants of their own after
//! the tile timings (so the big tenant's figures are not disturbed), to set
//! their rate beside the main stream's (time order, `--late-percent` late).

use anyhow::{ensure, Context, Result};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use reqwest::Client;
use sqlx::PgPool;
use tokio::sync::mpsc;

use crate::dataset::{quotas, Disorder, TenantStream};
use crate::ingest::{post_all, Batch, Posted};
use crate::{figure, Args};

/// Shuffled events when `--shuffled-events` is not given: 20% of the main
/// stream, at least 50,000 (fewer make a noisy rate).
pub fn default_count(events: u64) -> u64 {
    (events / 5).max(50_000)
}

/// Mixes the seed so that the shuffled tenants' data differ from the main
/// tenants' (same generator, same shape).
const SEED_MIX: u64 = 0x5348_5546_464C_4544;

/// Every event of `quota` for tenant `tenant` of the generator, in time
/// order, as JSON text: nothing late, nothing twice (the shuffle puts
/// nearly every event out of place anyway).
fn tenant_events(seed: u64, tenant: usize, quota: u64, days: i64) -> Result<Vec<String>> {
    let disorder = Disorder {
        late: 0.0,
        duplicate: 0.0,
    };
    let mut stream = TenantStream::new(seed ^ SEED_MIX, tenant, quota, days, disorder);
    let mut out = Vec::with_capacity(quota as usize);
    loop {
        let batch = stream.batch(10_000);
        if batch.is_empty() {
            return Ok(out);
        }
        for event in &batch {
            out.push(serde_json::to_string(event)?);
        }
    }
}

/// The batches to post: each tenant's events shuffled whole, cut into
/// batches of at most `size`, round-robin over the tenants as the main
/// ingest goes.
pub fn shuffled_batches(per_tenant: Vec<Vec<String>>, size: usize, rng: &mut StdRng) -> Vec<Batch> {
    let mut lists: Vec<std::vec::IntoIter<String>> = per_tenant
        .into_iter()
        .map(|mut events| {
            events.shuffle(rng);
            events.into_iter()
        })
        .collect();
    let mut out = Vec::new();
    loop {
        let before = out.len();
        for (tenant, list) in lists.iter_mut().enumerate() {
            let events: Vec<String> = list.by_ref().take(size).collect();
            if events.is_empty() {
                continue;
            }
            let body = format!("[{}]", events.join(",")).into_bytes();
            out.push(Batch {
                tenant,
                events: events.len() as u64,
                body,
            });
        }
        if out.len() == before {
            return out;
        }
    }
}

/// Generates `total` events over `tokens.len()` tenants (40% to the first,
/// as the main stream), shuffles them (untimed), then posts them with the
/// main ingest's concurrency and batch size, and checks that the service
/// inserted every one and counted no duplicate.
pub async fn ingest(
    client: &Client,
    base: &str,
    tokens: &[String],
    (seed, days, total): (u64, i64, u64),
    (concurrency, size): (usize, usize),
) -> Result<Posted> {
    let counts = quotas(total, tokens.len());
    let batches = tokio::task::spawn_blocking(move || -> Result<Vec<Batch>> {
        let per_tenant = (counts.iter().enumerate())
            .map(|(i, &quota)| tenant_events(seed, i, quota, days))
            .collect::<Result<Vec<_>>>()?;
        let mut rng = StdRng::seed_from_u64(seed ^ SEED_MIX);
        Ok(shuffled_batches(per_tenant, size, &mut rng))
    })
    .await
    .context("the shuffling generator panicked")??;
    let (tx, rx) = mpsc::channel::<Batch>(batches.len().max(1));
    for batch in batches {
        tx.send(batch)
            .await
            .ok()
            .context("the batch queue closed")?;
    }
    drop(tx);
    let url = format!("{base}/ingest/v1/events");
    let posted = post_all(client, &url, tokens, rx, concurrency, total).await?;
    ensure!(
        posted.inserted == total && posted.duplicates == 0 && posted.posted == total,
        "posted {} events, the service inserted {} and counted {} duplicates, \
         not the {total} unique ones sent",
        posted.posted,
        posted.inserted,
        posted.duplicates
    );
    Ok(posted)
}

/// Creates `--tenants` fresh tenants, ingests `total` shuffled events into
/// them, checks the tables hold every one, and prints their rate beside
/// `in_order`, the main stream's unique events per second.
pub async fn run(
    args: &Args,
    (client, base): (&Client, &str),
    pool: &PgPool,
    total: u64,
    in_order: f64,
) -> Result<()> {
    let (mut ids, mut tokens) = (Vec::new(), Vec::new());
    for i in 0..args.tenants {
        let (id, token) = crate::tenant(pool, &format!("bench-shuffled-{i}")).await?;
        ids.push(id);
        tokens.push(token);
    }
    println!(
        "shuffled ingest: {total} events of the same generator into {} fresh tenants (40% to the \
         first), each tenant's in random order across its batches, none late or twice; {} \
         requests of {} events in flight",
        args.tenants, args.concurrency, args.batch
    );
    let shape = (args.seed, args.days, total);
    let posted = ingest(client, base, &tokens, shape, (args.concurrency, args.batch)).await?;
    let stored: i64 = crate::stored_rows(pool, &ids).await?.iter().sum();
    ensure!(
        stored as u64 == total,
        "{stored} rows stored for {total} unique events"
    );
    println!(
        "shuffled ingest check: the service inserted {} and the tables hold {stored}: OK",
        posted.inserted
    );
    figure(format!(
        "ingest rate by order: in order + {}% late: {in_order:.0} unique events/s; shuffled: {:.0} \
         unique events/s ({total} events in {:.1} s, after the timings, with the main dataset \
         stored, no reads beside it)",
        args.late_percent,
        total as f64 / posted.secs,
        posted.secs
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn ids(batch: &Batch) -> Vec<String> {
        let events: Vec<serde_json::Value> =
            serde_json::from_slice(&batch.body).expect("a JSON array");
        assert_eq!(events.len() as u64, batch.events);
        (events.iter())
            .map(|e| e["id"].as_str().expect("an id").to_owned())
            .collect()
    }

    #[test]
    fn shuffled_batches_hold_every_event_once_in_random_order() {
        let per_tenant = vec![
            tenant_events(7, 0, 6_000, 30).expect("events"),
            tenant_events(7, 1, 1_500, 30).expect("events"),
        ];
        assert_eq!(per_tenant[0].len(), 6_000);
        let in_order: Vec<Vec<String>> = (per_tenant.iter())
            .map(|events| {
                (events.iter())
                    .map(|e| {
                        let v: serde_json::Value = serde_json::from_str(e).expect("JSON");
                        v["id"].as_str().expect("an id").to_owned()
                    })
                    .collect()
            })
            .collect();
        let mut rng = StdRng::seed_from_u64(1);
        let batches = shuffled_batches(per_tenant, 500, &mut rng);
        // 12 + 3 batches, round-robin while both tenants have events.
        assert_eq!(batches.len(), 15);
        assert_eq!(
            (batches.iter().take(6).map(|b| b.tenant)).collect::<Vec<_>>(),
            [0, 1, 0, 1, 0, 1]
        );
        for (tenant, expected) in in_order.iter().enumerate() {
            let sent: Vec<String> = (batches.iter())
                .filter(|b| b.tenant == tenant)
                .inspect(|b| assert!(b.events <= 500, "a batch of {}", b.events))
                .flat_map(ids)
                .collect();
            let unique: HashSet<&String> = sent.iter().collect();
            assert_eq!(
                unique.len(),
                expected.len(),
                "tenant {tenant}: each event once"
            );
            assert_eq!(
                unique,
                expected.iter().collect::<HashSet<_>>(),
                "tenant {tenant}"
            );
            // In random order: most events follow one that came later in
            // time order (in order, none does).
            let rank: std::collections::HashMap<&String, usize> = (expected.iter().enumerate())
                .map(|(i, id)| (id, i))
                .collect();
            let descents = (sent.windows(2))
                .filter(|w| rank[&w[0]] > rank[&w[1]])
                .count();
            assert!(
                descents * 10 >= sent.len() * 4,
                "tenant {tenant}: {descents} of {} out of order",
                sent.len()
            );
        }
    }

    #[test]
    fn the_default_is_a_fifth_of_the_events_and_at_least_50000() {
        assert_eq!(default_count(1_000_000), 200_000);
        assert_eq!(default_count(100_000), 50_000);
        assert_eq!(default_count(1_000), 50_000);
    }
}
