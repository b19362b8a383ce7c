//! The cost of row-level security (issue 10: at most 5% on tiles and
//! ingest). A second service runs on the same database with
//! `CX_ROW_LEVEL_SECURITY=false`; each question is asked of both,
//! alternately, uncached, so both meet the same data, cache state and
//! machine load; then the same generated batches are ingested into two
//! fresh tenants, one through each service, alternately, one request at a
//! time.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use reqwest::Client;
use sqlx::PgPool;

use crate::dataset::{Disorder, TenantStream};
use crate::questions::Question;
use crate::service::Service;
use crate::timing::{call_service, p50_p95};
use crate::{figure, webhook_tenant, JWT_SECRET};

/// Where the twin runs: the service binary, the database URL, its log.
pub struct Twin<'a> {
    pub bin: &'a Path,
    pub url: &'a str,
    pub log: &'a Path,
}

fn overhead(on: f64, off: f64) -> f64 {
    (on / off - 1.0) * 100.0
}

/// Times every question on both services and ingests `events` events
/// through each; prints the figures.
pub async fn cost(
    client: &Client,
    (service, twin): (&Service, Twin<'_>),
    pool: &PgPool,
    (questions, token): (&[Question], &str),
    (iterations, events, seed, days): (usize, u64, u64, i64),
) -> Result<()> {
    let off = Service::start(
        twin.bin,
        twin.url,
        JWT_SECRET,
        (twin.log, &[("CX_ROW_LEVEL_SECURITY", "false")]),
        client,
    )
    .await?;
    // A tile's overhead is a few hundredths of a millisecond: at least 100
    // calls each, so that the medians are steadier than that.
    let iterations = iterations.max(100);
    println!(
        "row-level security: a second service (pid {}) on the same database with \
         CX_ROW_LEVEL_SECURITY=false; each question asked of both alternately, {iterations} \
         calls each, uncached",
        off.pid
    );
    let mut overheads = Vec::new();
    for question in questions {
        let body = serde_json::to_vec(&question.body)?;
        let (mut with, mut without) = (Vec::new(), Vec::new());
        for i in 0..iterations + 2 {
            // Turn about (ABBA), so that neither service always answers
            // second, on data and caches the other just warmed.
            let mut pair = [(&service.base, &mut with), (&off.base, &mut without)];
            if i % 2 == 1 {
                pair.reverse();
            }
            for (base, times) in pair {
                let url = format!("{base}{}", question.path);
                let answer = call_service(client, &url, token, &body, true).await?;
                if i >= 2 {
                    times.push(answer.elapsed);
                }
            }
        }
        let ((on, _), (plain, _)) = (p50_p95(with), p50_p95(without));
        overheads.push(overhead(on, plain));
        figure(format!(
            "row-level security {:<40}: p50 {on:.2} ms with, {plain:.2} ms without ({:+.1}%)",
            question.name,
            overhead(on, plain)
        ));
    }
    overheads.sort_by(f64::total_cmp);
    let median = overheads
        .get(overheads.len() / 2)
        .copied()
        .unwrap_or(f64::NAN);
    figure(format!(
        "row-level security on tiles: median overhead {median:+.1}% over {} questions",
        overheads.len()
    ));

    // Ingest: the same batches into two fresh tenants, one per service.
    let on_tenant = webhook_tenant(pool, "bench-rls-on").await?;
    let off_tenant = webhook_tenant(pool, "bench-rls-off").await?;
    let disorder = Disorder {
        late: 0.0,
        duplicate: 0.0,
    };
    let mut stream = TenantStream::new(seed ^ 0x5EC, 0, events, days, disorder);
    let (mut with, mut without) = (Vec::<Duration>::new(), Vec::<Duration>::new());
    let mut posted = 0u64;
    loop {
        let batch = stream.batch(5_000);
        if batch.is_empty() {
            break;
        }
        posted += batch.len() as u64;
        let body = serde_json::to_vec(&batch)?;
        let mut pair = [
            (&service.base, &on_tenant, &mut with),
            (&off.base, &off_tenant, &mut without),
        ];
        if posted % 10_000 != 0 {
            pair.reverse();
        }
        for (base, tenant, times) in pair {
            let started = Instant::now();
            let response = (client.post(format!("{base}/ingest/v1/events")))
                .bearer_auth(&tenant.token)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await?;
            let status = response.status();
            let text = response.text().await?;
            ensure!(status.is_success(), "rls ingest answered {status}: {text}");
            times.push(started.elapsed());
        }
    }
    let total = |t: &[Duration]| t.iter().map(Duration::as_secs_f64).sum::<f64>();
    let (on, plain) = (total(&with), total(&without));
    figure(format!(
        "row-level security on ingest: {posted} events into each of two fresh tenants, batches \
         of 5000 alternated between the services: {:.0} events/s with, {:.0} without ({:+.1}% \
         time)",
        posted as f64 / on,
        posted as f64 / plain,
        overhead(on, plain)
    ));
    drop(off);
    Ok(())
}
