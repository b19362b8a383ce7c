//! Advisor response times derived at query time, against the columns the
//! ingest step keeps: timed, and compared value by value.

use anyhow::Result;
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::figure;
use crate::questions::{art_at_query_time, art_values, Question};
use crate::timing::{call_sql, p50_p95};

/// Times (d) with its times derived at query time (a few runs), then
/// compares, message by message, the derivation with the stored
/// `advisor_response_seconds`. Returns the differences.
pub async fn derived(
    iterations: usize,
    pool: &PgPool,
    tenant: Uuid,
    d: &Question,
) -> Result<Vec<String>> {
    let sql = art_at_query_time();
    let (mut times, mut total) = (Vec::new(), 0i64);
    for _ in 0..iterations.min(5) {
        let (elapsed, rows) = call_sql(pool, &sql, d, tenant).await?;
        times.push(elapsed);
        total = rows
            .iter()
            .map(|r| r.try_get::<i64, _>(1))
            .sum::<Result<i64, _>>()?;
    }
    let (p50, p95) = p50_p95(times);
    figure(format!(
        "{:<40} | {:>11} | {:>11} | {p50:>8.2} ms | {p95:>8.2} ms |       |        | {total:>7} | \
         (vs (d), whose times were derived at ingest)",
        "(d) derived at query time, SQL", "", ""
    ));

    let (_, rows) = call_sql(pool, &art_values(), d, tenant).await?;
    let (mut with_time, mut differences) = (0, Vec::new());
    for row in &rows {
        let event: String = row.try_get(0)?;
        let derived: Option<f64> = row.try_get(1)?;
        let stored: Option<f64> = row.try_get(2)?;
        with_time += u64::from(derived.is_some() || stored.is_some());
        let same = match (derived, stored) {
            (None, None) => true,
            (Some(a), Some(b)) => (a - b).abs() <= 1e-6,
            _ => false,
        };
        if !same {
            differences.push(format!(
                "derived advisor response times: message {event}: stored {stored:?}, \
                 derived at query time {derived:?}"
            ));
        }
    }
    let verdict = match differences.len() {
        0 => "all equal".to_owned(),
        n => format!("{n} DIFFER"),
    };
    println!(
        "derived-time check: {} messages of the big tenant in (d)'s range, {with_time} with an \
         advisor response time, stored vs derived at query time value by value: {verdict}",
        rows.len()
    );
    for difference in differences.iter().take(5) {
        eprintln!("    {difference}");
    }
    Ok(differences)
}
