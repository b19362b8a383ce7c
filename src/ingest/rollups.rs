//! Maintenance of the count rollups (`count_rollups`): the state audits and
//! messages a batch newly stored are counted here per key (source, queue,
//! state or direction, UTC hour), one count per channel, and appended as
//! one row per key to `count_rollup_deltas` in the batch's transaction;
//! the fold spreads each to the rows of its queue and of all queues (the
//! nil UUID), at the hour, day and week grains. Nothing is updated in place, so concurrent batches share no
//! row locks; [`super::fold`] adds the deltas to the rollups in the
//! background, and readers add those not yet folded.

use std::collections::{BTreeMap, HashSet};
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use super::events::{EventKind, ValidEvent};
use crate::domain::Channel;
use crate::report::buckets::{floor_to, HOUR};

/// Key of a delta row: source (1 audits, 2 messages, 3 ended conversations
/// by class and account, [`super::conversations`]), the event's queue (the
/// nil UUID when it names none), k1, UTC hour, k2.
pub(crate) type Key<'a> = (i16, Uuid, &'a str, DateTime<Utc>, &'a str);

pub(crate) const CHANNELS: usize = Channel::ALL.len();

fn text<'a>(payload: &'a Value, field: &str) -> &'a str {
    payload
        .get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The rollup deltas of the events whose ids were newly stored.
fn deltas<'a>(
    events: &'a [ValidEvent],
    stored: &HashSet<&str>,
) -> BTreeMap<Key<'a>, [i64; CHANNELS]> {
    let mut out: BTreeMap<Key, [i64; CHANNELS]> = BTreeMap::new();
    // An id repeated in the batch was stored once, from its first event.
    let mut counted: HashSet<&str> = HashSet::with_capacity(stored.len());
    for event in events {
        let (source, k1, k2) = match event.kind {
            EventKind::InteractionStateChanged => (
                1,
                text(&event.payload, "newState"),
                text(&event.payload, "oldState"),
            ),
            EventKind::MessageCreated => (2, text(&event.payload, "direction"), ""),
            _ => continue,
        };
        if !stored.contains(event.id.as_str()) || !counted.insert(event.id.as_str()) {
            continue;
        }
        let channel = text(&event.payload, "channel");
        let Some(column) = Channel::ALL.iter().position(|c| c.as_str() == channel) else {
            continue;
        };
        // One delta per event key; the fold spreads it to the row of all
        // queues (the nil UUID) and the event's queue, at hour, day and week.
        let queue = event
            .payload
            .get("queueId")
            .and_then(Value::as_str)
            .and_then(|q| Uuid::parse_str(q).ok())
            .unwrap_or_else(Uuid::nil);
        let key = (source, queue, k1, floor_to(event.occurred_at, HOUR), k2);
        out.entry(key).or_insert([0; CHANNELS])[column] += 1;
    }
    out
}

/// An insert of one delta row per key into the delta table `table`
/// (migration 0009; folded into its rollup by [`super::fold`]). `scalars`
/// (the key columns after `tenant_id`, then any sums) come as one array
/// each, bound from `$2` in order, with their SQL element types; the
/// counter columns `counters` (e.g. `c1..c10`) come flat in the last
/// parameter, row `o`'s at `[(o - 1) * width + 1 ..= o * width]`.
pub(crate) fn delta_insert(table: &str, scalars: &[(&str, &str)], counters: &[String]) -> String {
    let flat = scalars.len() + 2;
    let width = counters.len();
    let names: Vec<&str> = scalars.iter().map(|(name, _)| *name).collect();
    let arrays: Vec<String> = scalars
        .iter()
        .enumerate()
        .map(|(i, (_, kind))| format!("${}::{kind}[]", i + 2))
        .collect();
    let picks: Vec<String> = (1..=width)
        .map(|i| format!("${flat}[(u.o - 1) * {width} + {i}]"))
        .collect();
    format!(
        "insert into {table} (tenant_id, {names}, {counters})
select $1, {values}, {picks}
from unnest({arrays}) with ordinality as u({names}, o)",
        names = names.join(", "),
        counters = counters.join(", "),
        values = names
            .iter()
            .map(|n| format!("u.{n}"))
            .collect::<Vec<_>>()
            .join(", "),
        picks = picks.join(", "),
        arrays = arrays.join(", "),
    )
}

/// Appends the deltas, one row per key, the channel counts in `c1..c10`.
static INSERT_DELTAS: LazyLock<String> = LazyLock::new(|| {
    let counters: Vec<String> = (1..=CHANNELS).map(|i| format!("c{i}")).collect();
    delta_insert(
        "count_rollup_deltas",
        &[
            ("source", "smallint"),
            ("queue_id", "uuid"),
            ("k1", "text"),
            ("bucket", "timestamptz"),
            ("k2", "text"),
        ],
        &counters,
    )
});

/// Appends the counts of the audits and messages a batch newly stored to
/// the rollup deltas.
pub async fn apply(
    tx: &mut Transaction<'_, Postgres>,
    tenant_id: Uuid,
    events: &[ValidEvent],
    stored: &HashSet<&str>,
) -> sqlx::Result<()> {
    append(tx, tenant_id, deltas(events, stored)).await
}

/// Appends delta rows, one per key, the channel counts in `c1..c10`.
pub(crate) async fn append(
    tx: &mut Transaction<'_, Postgres>,
    tenant_id: Uuid,
    deltas: BTreeMap<Key<'_>, [i64; CHANNELS]>,
) -> sqlx::Result<()> {
    if deltas.is_empty() {
        return Ok(());
    }
    let mut source = Vec::with_capacity(deltas.len());
    let mut queue = Vec::with_capacity(deltas.len());
    let mut k1 = Vec::with_capacity(deltas.len());
    let mut bucket = Vec::with_capacity(deltas.len());
    let mut k2 = Vec::with_capacity(deltas.len());
    let mut counts = Vec::with_capacity(deltas.len() * CHANNELS);
    for ((s, q, a, b, o), c) in deltas {
        source.push(s);
        queue.push(q);
        k1.push(a);
        bucket.push(b);
        k2.push(o);
        counts.extend_from_slice(&c);
    }
    sqlx::query(INSERT_DELTAS.as_str())
        .bind(tenant_id)
        .bind(source)
        .bind(queue)
        .bind(k1)
        .bind(bucket)
        .bind(k2)
        .bind(counts)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
