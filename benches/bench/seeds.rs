//! The other vendors' reports (API.md §5) at the bench's scale: the
//! two-way activity of one day (signed webhooks in, the listing's p50 and
//! the day's flat-file export out), the conversation interval summaries of
//! one day of the big tenant, and a data-source export. Exports are timed
//! like the others ([`crate::exports`]): rows/s and the service's memory
//! growth, with the row count checked.

use std::time::Instant;

use anyhow::{ensure, Result};
use chrono::{DateTime, Utc};
use futures::{stream, StreamExt, TryStreamExt};
use reqwest::Client;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::dataset::rfc3339;
use crate::exports::{export, Export};
use crate::figure;
use crate::service::Service;
use crate::timing::{call_service, p50_p95, WARM_UPS};

/// Data-source events per ingest request, and requests in flight.
const DATASOURCE_BATCH: u64 = 5_000;
const DATASOURCE_CONCURRENCY: usize = 2;

/// Two-way webhooks in flight at once (each request carries one event).
const WEBHOOK_CONCURRENCY: usize = 8;

/// The nine kinds, as (`event_type`, `event_subtype`).
const KINDS: [(&str, &str); 9] = [
    ("twoway_webhook", "channel_added"),
    ("twoway_webhook", "member_added"),
    ("twoway_webhook", "customer_message_sent"),
    ("twoway_webhook", "agent_message_sent"),
    ("twoway_webhook", "system_message_sent"),
    ("twoway", "agent_ping"),
    ("twoway", "agent_invite"),
    ("twoway_webhook", "member_removed"),
    ("twoway", "channel_closed"),
];

/// Event `i` of `n` spread evenly over `[from, from + 1 day)`: conversations
/// of nine events, one of each kind, in order.
fn twoway_event(i: u64, n: u64, from: DateTime<Utc>) -> Value {
    let at = from + chrono::Duration::microseconds((i as i64) * 86_400_000_000 / n.max(1) as i64);
    let (event_type, event_subtype) = KINDS[(i % 9) as usize];
    let sender = ["customer", "agent", "system"][(i % 3) as usize];
    json!({
        "ccid": format!("bench-cc-{i:09}"),
        "event_type": event_type,
        "event_subtype": event_subtype,
        "event_time": at.to_rfc3339(),
        "conversation_id": format!("bench-tw-{:08}", i / 9),
        "twoway_channel_sid": format!("CH{:032x}", i / 9),
        "agent_email": format!("agent{}@bench.example", i % 40),
        "agent_first_name": "Bench",
        "agent_last_name": format!("Agent {}", i % 40),
        "customer_first_name": "Casey",
        "customer_last_name": format!("Customer {}", i / 9),
        "sender_type": sender,
        "control_tag": "bench",
    })
}

/// Sends every request, `concurrency` at once; answers the sum of the
/// `inserted` they answer (an ingest answer), failing at the first refusal.
async fn send_all(
    requests: impl Iterator<Item = reqwest::RequestBuilder>,
    concurrency: usize,
    what: &str,
) -> Result<u64> {
    stream::iter(requests)
        .map(|request| async move {
            let response = request.send().await?;
            let status = response.status();
            let answer: Value = response.json().await?;
            ensure!(status.is_success(), "{what} answered {status}: {answer}");
            Ok(answer["inserted"].as_u64().unwrap_or(0))
        })
        .buffer_unordered(concurrency)
        .try_fold(0, |sum, n| async move { Ok(sum + n) })
        .await
}

/// A tenant of its own for the webhooks: its id, token and webhook secret.
pub struct WebhookTenant {
    pub id: Uuid,
    pub token: String,
    pub secret: String,
}

/// Posts `n` signed two-way events over one day; answers the events/s.
async fn post_twoway(
    client: &Client,
    base: &str,
    tenant: &WebhookTenant,
    n: u64,
    from: DateTime<Utc>,
) -> Result<f64> {
    let url = format!("{base}/ingest/v1/webhooks/twoway");
    let started = Instant::now();
    let requests = (0..n).map(|i| {
        let body = serde_json::to_vec(&twoway_event(i, n, from)).expect("json");
        let signature = cx_reporting::auth::secrets::sign(&tenant.secret, &body);
        client
            .post(&url)
            .header("content-type", "application/json")
            .header("x-tenant-id", tenant.id.to_string())
            .header("x-signature-256", signature)
            .body(body)
    });
    let inserted = send_all(requests, WEBHOOK_CONCURRENCY, "two-way webhook").await?;
    ensure!(inserted == n, "two-way: {inserted} of {n} webhooks stored");
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

/// p50/p95 of a JSON report over `iterations` uncached calls, and the
/// number of rows of its last answer.
async fn time_rows(
    client: &Client,
    url: &str,
    token: &str,
    body: &Value,
    iterations: usize,
) -> Result<(f64, f64, usize)> {
    let body = serde_json::to_vec(body)?;
    let mut times = Vec::with_capacity(iterations);
    let mut rows = 0;
    for i in 0..WARM_UPS + iterations {
        let answer = call_service(client, url, token, &body, true).await?;
        rows = answer.json["rows"].as_array().map_or(0, Vec::len);
        if i >= WARM_UPS {
            times.push(answer.elapsed);
        }
    }
    let (p50, p95) = p50_p95(times);
    Ok((p50, p95, rows))
}

/// The two-way figures: webhook ingest rate, the listing's p50 and the
/// day's export; answers the failed checks.
pub async fn twoway(
    client: &Client,
    service: &Service,
    tenant: &WebhookTenant,
    (events, day): (u64, DateTime<Utc>),
    iterations: usize,
) -> Result<Vec<String>> {
    let base = service.base.as_str();
    let rate = post_twoway(client, base, tenant, events, day).await?;
    figure(format!(
        "two-way webhooks: {events} signed events over one day, {WEBHOOK_CONCURRENCY} requests in \
         flight, one event each: {rate:.0} events/s (each also fed to the §3 families)"
    ));
    let filters = json!({"filters": {"from": rfc3339(day),
        "to": rfc3339(day + chrono::Duration::days(1))}});
    let url = format!("{base}/reporting/v1.2/twoway/activity");
    let (p50, p95, rows) = time_rows(client, &url, &tenant.token, &filters, iterations).await?;
    figure(format!(
        "two-way activity listing (one day, first 1,000 rows): p50 {p50:.2} ms, p95 {p95:.2} ms, \
         {rows} rows"
    ));
    let mut failures = Vec::new();
    if rows as u64 != events.min(1000) {
        failures.push(format!(
            "two-way listing: {rows} rows, expected {}",
            events.min(1000)
        ));
    }
    let spec = Export {
        name: "twoway/activity (the flat file of one day)".into(),
        path: "twoway/activity".into(),
        body: filters,
        expected_rows: Some(events.min(1_000_000)),
    };
    failures.extend(export(client, service, &tenant.token, &spec).await?);
    Ok(failures)
}

/// Distribution `i` of `n`, spread evenly over `[from, from + 30 days)`:
/// incoming, a queue of five, every kind of column filled.
fn distribution(i: u64, n: u64, from: DateTime<Utc>) -> Value {
    let span = 30 * 86_400_000_000i64;
    let at = from + chrono::Duration::microseconds((i as i64) * (span / n.max(1) as i64));
    let queue = Uuid::from_u128(0xbe9c_0000_0000_4000_8000_0000_0000_0000 + u128::from(i % 5));
    json!({
        "id": format!("bench-dist-{i:09}"), "type": "distribution.completed",
        "occurredAt": at.to_rfc3339(), "distributionId": format!("dist-{i:09}"),
        "direction": "Incoming", "correspondent": format!("+4479{i:08}"), "queueId": queue,
        "interactionId": format!("bench-int-{i}"), "messagingType": "WhatsApp",
        "distributionType": "Queue", "distributionEndDate": (at + chrono::Duration::minutes(9)).to_rfc3339(),
        "waitTime": (i % 300) as f64, "exchangeTime": 540.0, "interactionStatus": "Treated",
        "status": "Treated", "transferred": i % 10 == 0, "routingType": "Direct",
        "sessionStart": at.to_rfc3339(), "checkpoints": ["start", "queue"],
    })
}

/// Ingests `n` distributions over 30 days into `tenant`; answers events/s.
async fn post_distributions(
    client: &Client,
    base: &str,
    token: &str,
    n: u64,
    from: DateTime<Utc>,
) -> Result<f64> {
    let url = format!("{base}/ingest/v1/events");
    let started = Instant::now();
    let requests = (0..n).step_by(DATASOURCE_BATCH as usize).map(|start| {
        let batch: Vec<Value> = (start..(start + DATASOURCE_BATCH).min(n))
            .map(|i| distribution(i, n, from))
            .collect();
        client.post(&url).bearer_auth(token).json(&batch)
    });
    let inserted = send_all(requests, DATASOURCE_CONCURRENCY, "data-source ingest").await?;
    ensure!(
        inserted == n,
        "data sources: {inserted} of {n} events stored"
    );
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

/// The data-source figures: ingest rate, the rows listing's p50 and the
/// export of every row (at most the 1,000,000 cap); answers the failed checks.
pub async fn datasources(
    client: &Client,
    service: &Service,
    tenant: &WebhookTenant,
    (rows, from): (u64, DateTime<Utc>),
    iterations: usize,
) -> Result<Vec<String>> {
    let base = service.base.as_str();
    let rate = post_distributions(client, base, &tenant.token, rows, from).await?;
    figure(format!(
        "data sources: {rows} distribution.completed events over 30 days, batches of \
         {DATASOURCE_BATCH}, {DATASOURCE_CONCURRENCY} in flight: {rate:.0} events/s"
    ));
    let body = json!({"filters": {"from": rfc3339(from),
        "to": rfc3339(from + chrono::Duration::days(31))}});
    let url = format!("{base}/reporting/v1.2/datasources/incoming-distributions/rows");
    let (p50, p95, shown) = time_rows(client, &url, &tenant.token, &body, iterations).await?;
    figure(format!(
        "data source incoming-distributions rows (31 days, every column, first 1,000): \
         p50 {p50:.2} ms, p95 {p95:.2} ms, {shown} rows"
    ));
    let mut failures = Vec::new();
    if shown as u64 != rows.min(1000) {
        failures.push(format!(
            "data-source rows: {shown} rows, expected {}",
            rows.min(1000)
        ));
    }
    let spec = Export {
        name: "datasources/incoming-distributions/rows (31 days, every column)".into(),
        path: "datasources/incoming-distributions/rows".into(),
        body,
        expected_rows: Some(rows.min(1_000_000)),
    };
    failures.extend(export(client, service, &tenant.token, &spec).await?);
    Ok(failures)
}

/// The conversation reports of one day of the big tenant (its own data):
/// interval summaries (§5.2) and sessions (§5.4), JSON p50 and exports.
pub async fn conversations(
    client: &Client,
    service: &Service,
    token: &str,
    day: DateTime<Utc>,
    iterations: usize,
) -> Result<Vec<String>> {
    let base = service.base.as_str();
    let body = json!({"filters": {"from": rfc3339(day),
        "to": rfc3339(day + chrono::Duration::days(1))}});
    for (name, path) in [
        (
            "conversations/intervals (one day, 2-hour grid)",
            "conversations/intervals",
        ),
        ("sessions (started in one day)", "sessions"),
        ("sessions/metrics (ended in one day)", "sessions/metrics"),
    ] {
        let url = format!("{base}/reporting/v1.2/{path}");
        let (p50, p95, rows) = time_rows(client, &url, token, &body, iterations).await?;
        figure(format!(
            "{name}, the big tenant: p50 {p50:.2} ms, p95 {p95:.2} ms, {rows} rows (at most 1,000)"
        ));
    }
    let mut failures = Vec::new();
    for (name, path) in [
        (
            "conversations/intervals (one day)",
            "conversations/intervals",
        ),
        ("sessions/metrics (one day)", "sessions/metrics"),
    ] {
        let spec = Export {
            name: format!("{name}, the big tenant"),
            path: path.into(),
            body: body.clone(),
            expected_rows: None,
        };
        failures.extend(export(client, service, token, &spec).await?);
    }
    Ok(failures)
}
