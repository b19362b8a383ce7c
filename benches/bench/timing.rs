//! Timing reports through HTTP and as SQL, and cached throughput.

use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use reqwest::Client;
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::PgPool;
use uuid::Uuid;

use crate::cells::Cells;
use crate::figure;
use crate::questions::{List, Question};

/// Timed calls are preceded by this many untimed ones.
pub const WARM_UPS: usize = 3;

/// One reporting call, timed from sending to the last byte of the answer.
pub struct Answer {
    pub elapsed: Duration,
    pub json: Value,
    /// `X-Cache: HIT`.
    pub hit: bool,
    /// `X-Query-Plan` (`rollup` or `raw`), when the service says.
    pub plan: String,
}

pub async fn call_service(
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

/// One run of `sql` with the question's binds: its time and its rows.
pub async fn call_sql(
    pool: &PgPool,
    sql: &str,
    question: &Question,
    tenant: Uuid,
) -> Result<(Duration, Vec<PgRow>)> {
    let started = Instant::now();
    let query = sqlx::query(sql)
        .bind(tenant)
        .bind(question.from)
        .bind(question.to);
    let query = match &question.list {
        List::None => query,
        List::Channels(channels) => query.bind(channels),
        List::Queues(ids) | List::Users(ids) | List::Accounts(ids) => query.bind(ids),
    };
    let rows = query.fetch_all(pool).await?;
    Ok((started.elapsed(), rows))
}

/// p50 and p95 in milliseconds (nearest rank).
pub fn p50_p95(mut times: Vec<Duration>) -> (f64, f64) {
    times.sort();
    let at = |p: f64| {
        let rank = ((p * times.len() as f64).ceil() as usize).clamp(1, times.len());
        times[rank - 1].as_secs_f64() * 1000.0
    };
    (at(0.50), at(0.95))
}

/// Times one question through HTTP (uncached) and as SQL, prints its row of
/// the table, and returns every cell in which the answers differ (the last
/// answer of each, cell by cell).
pub async fn time_question(
    iterations: usize,
    service: (&Client, &str, &str),
    sql: (&PgPool, Uuid),
    question: &Question,
) -> Result<(Vec<String>, (f64, f64))> {
    let (client, base, token) = service;
    let url = format!("{base}{}", question.path);
    let body = serde_json::to_vec(&question.body)?;
    let (mut http_times, mut sql_times) = (Vec::new(), Vec::new());
    let (mut got, mut plan) = (Cells::default(), String::new());
    for i in 0..WARM_UPS + iterations {
        let answer = call_service(client, &url, token, &body, true).await?;
        (got, plan) = (Cells::from_json(question, &answer.json)?, answer.plan);
        if i >= WARM_UPS {
            http_times.push(answer.elapsed);
        }
    }
    let mut expected = Cells::default();
    for i in 0..WARM_UPS + iterations {
        let (elapsed, rows) = call_sql(sql.0, &question.sql, question, sql.1).await?;
        expected = Cells::from_rows(question, &rows)?;
        if i >= WARM_UPS {
            sql_times.push(elapsed);
        }
    }
    let differences = got.differences(&expected);
    let total = got.total();
    let (http, plain) = (p50_p95(http_times), p50_p95(sql_times));
    let check = match differences.len() {
        0 => "OK".to_owned(),
        n => format!("MISMATCH in {n} cells (SQL total {})", expected.total()),
    };
    figure(format!(
        "{:<40} | {:>8.2} ms | {:>8.2} ms | {:>8.2} ms | {:>8.2} ms | {:>5.2} | {plan:>6} | {total:>7} | {check}",
        question.name, http.0, http.1, plain.0, plain.1, plain.0 / http.0
    ));
    for difference in differences.iter().take(5) {
        eprintln!("    {}: {difference}", question.name);
    }
    let differences = differences
        .into_iter()
        .map(|d| format!("{}: {d}", question.name))
        .collect();
    Ok((differences, http))
}

/// Calls and cache hits of `tasks` tasks repeating one cacheable request
/// for `duration`, and the seconds it took.
pub async fn cached_throughput(
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
