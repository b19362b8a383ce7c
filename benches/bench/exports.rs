//! CSV exports: rows/s, a row count checked against the expected one, and
//! how much the service's memory grows over what it held just before.

use std::time::Instant;

use anyhow::{ensure, Result};
use reqwest::Client;
use serde_json::Value;

use crate::figure;
use crate::service::{mib, Service};

/// An export to stream and the data rows it must hold.
pub struct Export {
    pub name: String,
    /// Under `/reporting/export/v1.2/`.
    pub path: String,
    pub body: Value,
    /// None when only the service knows (the figures are still printed).
    pub expected_rows: Option<u64>,
}

/// Streams one export and prints its figures; the error names a row count
/// that differs from the expected one.
pub async fn export(
    client: &Client,
    service: &Service,
    token: &str,
    export: &Export,
) -> Result<Option<String>> {
    let before = service.memory()?;
    let reset = service.reset_peak();
    let sampler = service.sample_rss();
    let started = Instant::now();
    let url = format!("{}/reporting/export/v1.2/{}", service.base, export.path);
    let mut response = (client.post(url).bearer_auth(token))
        .header("content-type", "application/json")
        .json(&export.body)
        .send()
        .await?;
    let status = response.status();
    ensure!(
        status.is_success(),
        "export {} answered {status}: {}",
        export.name,
        response.text().await?
    );
    let (mut bytes, mut lines) = (0u64, 0u64);
    while let Some(chunk) = response.chunk().await? {
        bytes += chunk.len() as u64;
        lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
    }
    let secs = started.elapsed().as_secs_f64();
    let sampled = sampler.peak().await?;
    let after = service.memory()?;
    // VmHWM after a reset is the exact peak; the samples catch most of it
    // when the kernel refuses the reset.
    let peak = match reset {
        true => after.hwm.max(sampled),
        false => sampled,
    };
    let how = match reset {
        true => "VmHWM reset before",
        false => "VmRSS sampled every 5 ms",
    };
    let rows = lines.saturating_sub(1); // the header
    figure(format!(
        "export {}: {rows} rows, {:.2} MB in {secs:.2} s = {:.0} rows/s; service RSS before {}, \
         peak {} (+{} KiB; {how}), after {}",
        export.name,
        bytes as f64 / 1e6,
        rows as f64 / secs,
        mib(before.rss),
        mib(peak),
        peak.saturating_sub(before.rss),
        mib(after.rss),
    ));
    Ok(export
        .expected_rows
        .filter(|e| *e != rows)
        .map(|expected| format!("export {}: {rows} rows, expected {expected}", export.name)))
}
