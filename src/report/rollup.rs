//! The rollup path of the aggregation core: count tiles of the state and
//! message families answered from UTC rollups (`count_rollups`, at hour,
//! day and week grains, plus the deltas not yet folded into them) when the
//! request allows it, with the quarter-hour edges of zones such as +05:30
//! and +05:45 read from the raw rows in the same statement (the segments of
//! [`super::segments`]); the planner falls back to raw rows otherwise. Both paths give
//! identical answers (tested by comparing them).

use chrono::{DateTime, Timelike, Utc};
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use uuid::Uuid;

use super::plan::{inconsistent, MetricValue};
use super::raw::{bucket_count, bucket_index, push_any, push_key_conditions, CountKeys};
use super::request::{Grouping, ReportQuery};
use super::segments::QUARTER;
use super::tiles::{Dimension, Family};
use crate::domain::Channel;
use crate::error::Result;

pub(crate) fn aligned(t: DateTime<Utc>) -> bool {
    t.timestamp().rem_euclid(QUARTER) == 0 && t.nanosecond() == 0
}

/// Whether the rollups can answer `query` exactly: a count family, no data
/// conditions (the rollup does not keep snapshots), grouped by nothing,
/// channel or queue, and every boundary (range and buckets) on a quarter
/// hour of UTC.
pub fn eligible(family: Family, query: &ReportQuery, bounds: Option<&[DateTime<Utc>]>) -> bool {
    let family_ok = matches!(family, Family::InteractionState | Family::MessageVolume);
    let grouping_ok = match &query.grouping {
        Grouping::Total => true,
        Grouping::Keys { dimension, .. } => {
            matches!(dimension, Dimension::Channel | Dimension::Queue)
        }
        Grouping::Data { .. } => false,
    };
    family_ok
        && grouping_ok
        && !names_nil_queue(query)
        && query.filters.data.is_empty()
        && aligned(query.from)
        && aligned(query.to)
        && bounds.is_none_or(|b| b.iter().all(|t| aligned(*t)))
}

/// Whether the request names the nil UUID as a queue (group or filter):
/// the rollups keep all queues under that key, so only raw rows can say
/// which events named it.
pub(crate) fn names_nil_queue(query: &ReportQuery) -> bool {
    let keys = match &query.grouping {
        Grouping::Keys {
            dimension: Dimension::Queue,
            keys,
        } => keys.as_slice(),
        _ => &[],
    };
    keys.iter()
        .filter_map(|k| Uuid::parse_str(k).ok())
        .chain(query.filters.queues.iter().flatten().copied())
        .any(|q| q.is_nil())
}

pub(crate) use super::segments::{push_segments, segments};

/// The bucket of each row: its segment's (see [`super::segments`]).
pub(crate) const BUCKET: &str = "seg.b as bucket";

/// Whether `queues` asks for all queues (the nil UUID alone).
fn all_queues(queues: &[Uuid]) -> bool {
    queues == [Uuid::nil()]
}

/// The queue a row read from raw rows or rollup deltas (which sit under the
/// event's own queue) answers for: its own, or the nil UUID when all queues
/// are asked, so every row counts there.
pub(crate) fn queue_column(queues: &[Uuid], alias: &str) -> String {
    if all_queues(queues) {
        "'00000000-0000-0000-0000-000000000000'::uuid".to_owned()
    } else {
        format!("{alias}.queue_id")
    }
}

/// The queue condition of such rows: none when all queues are asked.
pub(crate) fn push_queue_filter(qb: &mut QueryBuilder<'_, Postgres>, queues: &[Uuid], alias: &str) {
    if !all_queues(queues) {
        push_any(qb, &format!("{alias}.queue_id"), queues.to_vec(), "uuid");
    }
}

/// Rows of (group key, bucket index, value), as the raw path yields them.
pub async fn fetch(
    pool: &PgPool,
    tenant_id: Uuid,
    query: &ReportQuery,
    bounds: Option<Vec<DateTime<Utc>>>,
) -> Result<Vec<(String, usize, MetricValue)>> {
    let by_queue = matches!(
        query.grouping,
        Grouping::Keys {
            dimension: Dimension::Queue,
            ..
        }
    );
    // Only the count families have rollup keys; the planner sends no other
    // here, and answering another from them would count nothing.
    let keys = CountKeys::of(&query.params).ok_or_else(|| {
        inconsistent(
            tenant_id,
            format!("the count rollups were asked for {:?}", query.params),
        )
    })?;
    let n_buckets = bucket_count(bounds.as_deref());
    // Each segment is read at its own grain; together they tile the range.
    let segments = segments(query.from, query.to, bounds.as_deref());
    let mut qb = QueryBuilder::<Postgres>::new("select ");
    qb.push(if by_queue { "r.queue_id::text" } else { "''" });
    qb.push(" as key, ");
    qb.push(BUCKET);
    for i in 1..=Channel::ALL.len() {
        qb.push(format_args!(", sum(r.c{i} * seg.sign)::bigint as c{i}"));
    }
    push_segments(&mut qb, &segments);
    // The nil queue holds every queue; queue rows split it.
    let queues: Vec<Uuid> = match (&query.grouping, &query.filters.queues) {
        (
            Grouping::Keys {
                dimension: Dimension::Queue,
                keys,
            },
            _,
        ) => keys
            .iter()
            .filter_map(|k| Uuid::parse_str(k).ok())
            .collect(),
        (_, Some(queues)) => queues.clone(),
        (_, None) => vec![Uuid::nil()],
    };
    let (source, table) = match keys {
        CountKeys::Direction(_) => (2, "messages"),
        CountKeys::State { .. } => (1, "interaction_audits"),
    };
    // A lateral subquery per segment, fenced by `offset 0` so the planner
    // cannot flatten it into a join: each segment is one index range scan,
    // of the rollups at grains 1 to 3, and of the raw rows for the
    // quarter-hour edges (grain 0), which are never longer than 45 minutes.
    let columns: Vec<String> = (1..=Channel::ALL.len())
        .map(|i| format!("r.c{i}"))
        .collect();
    qb.push(" cross join lateral ((select r.queue_id, r.bucket, ")
        .push(columns.join(", "))
        .push(format_args!(
            " from count_rollups r where seg.grain > 0 and r.grain = seg.grain \
             and r.bucket >= seg.s and r.bucket < seg.e and r.source = {source} and r.tenant_id = "
        ))
        .push_bind(tenant_id);
    push_key_conditions(&mut qb, keys, "r.k1", "r.k2");
    push_any(&mut qb, "r.queue_id", queues.clone(), "uuid");
    // The deltas not yet folded into the rollups (migration 0009): one row
    // per event key and UTC hour, under the event's own queue, so every
    // queue's rows count for all queues.
    qb.push(format_args!(
        " offset 0) union all (select {}, d.bucket",
        queue_column(&queues, "d")
    ));
    for i in 1..=Channel::ALL.len() {
        qb.push(format_args!(", d.c{i}"));
    }
    qb.push(format_args!(
        " from count_rollup_deltas d where seg.grain > 0 and d.bucket >= seg.s \
         and d.bucket < seg.e and d.source = {source} and d.tenant_id = "
    ))
    .push_bind(tenant_id);
    push_key_conditions(&mut qb, keys, "d.k1", "d.k2");
    push_queue_filter(&mut qb, &queues, "d");
    qb.push(format_args!(
        " offset 0) union all (select {}, s.occurred_at",
        queue_column(&queues, "s")
    ));
    for channel in Channel::ALL {
        qb.push(format_args!(
            ", (s.channel = '{}')::int::bigint",
            channel.as_str()
        ));
    }
    qb.push(format_args!(
        " from {table} s where seg.grain = 0 and s.occurred_at >= seg.s \
         and s.occurred_at < seg.e and s.tenant_id = "
    ))
    .push_bind(tenant_id);
    let (k1, k2) = match keys {
        CountKeys::Direction(_) => ("s.direction", ""),
        CountKeys::State { .. } => ("s.new_state", "s.old_state"),
    };
    push_key_conditions(&mut qb, keys, k1, k2);
    push_queue_filter(&mut qb, &queues, "s");
    qb.push(" offset 0)) r group by 1, 2");
    let rows = qb.build().fetch_all(pool).await?;

    // Channels counted: the filter's, each once (a channel listed twice in
    // the filter still counts its events once; found by the model test),
    // or all of them.
    let mut allowed: Vec<Channel> = Vec::new();
    for channel in query.filters.channels.as_deref().unwrap_or(Channel::ALL) {
        if !allowed.contains(channel) {
            allowed.push(*channel);
        }
    }
    // The groups of a by-channels request, each once (a channel requested
    // twice is two groups of the answer, filled from one row).
    let mut by_channel: Vec<(&str, Channel)> = Vec::new();
    if let Grouping::Keys {
        dimension: Dimension::Channel,
        keys,
    } = &query.grouping
    {
        for key in keys {
            let channel = Channel::ALL
                .iter()
                .copied()
                .find(|c| c.as_str() == key)
                .ok_or_else(|| inconsistent(tenant_id, format!("unknown channel key {key:?}")))?;
            if !by_channel.iter().any(|(k, _)| k == key) {
                by_channel.push((key.as_str(), channel));
            }
        }
    }
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let key: String = row.try_get("key")?;
        let bucket = bucket_index(tenant_id, row.try_get("bucket")?, n_buckets)?;
        // Column `c{i}` counts the i-th channel of `Channel::ALL`.
        let mut counts = [0i64; Channel::ALL.len()];
        for (i, count) in counts.iter_mut().enumerate() {
            *count = row
                .try_get::<Option<i64>, _>(format!("c{}", i + 1).as_str())?
                .unwrap_or(0);
        }
        let count = |channel: Channel| -> i64 {
            Channel::ALL
                .iter()
                .zip(counts)
                .filter(|(c, _)| **c == channel)
                .map(|(_, n)| n)
                .sum()
        };
        if by_channel.is_empty() {
            let total = allowed.iter().map(|c| count(*c)).sum();
            out.push((key, bucket, MetricValue::Count(total)));
        } else {
            for (key, channel) in &by_channel {
                if allowed.contains(channel) {
                    out.push((
                        (*key).to_owned(),
                        bucket,
                        MetricValue::Count(count(*channel)),
                    ));
                }
            }
        }
    }
    Ok(out)
}
