//! The rollup path of the aggregation core: count tiles of the state and
//! message families answered from UTC rollups (`count_rollups`, at hour and
//! day grains, plus the deltas not yet folded into them) when the request allows it, with the quarter-hour edges of
//! zones such as +05:30 and +05:45 read from the raw rows in the same
//! statement; the planner falls back to raw rows otherwise. Both paths give
//! identical answers (tested by comparing them).

use chrono::{DateTime, Timelike, Utc};
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use uuid::Uuid;

use super::buckets::{floor_to, DAY, HOUR};
use super::plan::{inconsistent, MetricValue};
use super::raw::{bucket_count, bucket_index, push_any, push_key_conditions, CountKeys};
use super::request::{Grouping, ReportQuery};
use super::tiles::{Dimension, Family};
use crate::domain::Channel;
use crate::error::Result;

/// The finest segment: every current UTC offset is a multiple of it.
const ROLLUP_SECONDS: i64 = 15 * 60;

pub(crate) fn aligned(t: DateTime<Utc>) -> bool {
    t.timestamp().rem_euclid(ROLLUP_SECONDS) == 0 && t.nanosecond() == 0
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

fn ceil_to(t: DateTime<Utc>, unit: i64) -> DateTime<Utc> {
    let floor = floor_to(t, unit);
    if floor == t {
        t
    } else {
        floor + chrono::Duration::seconds(unit)
    }
}

/// A part of the range read at one grain: (grain, start, end), with grain
/// 1 = hour, 2 = day, as stored by the ingest step, and 0 = quarter hours,
/// read from the raw rows.
pub(crate) type Segment = (i16, DateTime<Utc>, DateTime<Utc>);

/// Splits `[s, e)` (on quarter hours) into whole UTC days, then whole hours,
/// then quarter hours at the edges: the fewest rollup rows that cover it.
fn split(s: DateTime<Utc>, e: DateTime<Utc>, unit: i64, out: &mut Vec<Segment>) {
    if s >= e {
        return;
    }
    let grain = match unit {
        DAY => 2,
        HOUR => 1,
        _ => 0,
    };
    let (inner_start, inner_end) = (ceil_to(s, unit), floor_to(e, unit));
    if grain == 0 || inner_start >= inner_end {
        match unit {
            DAY => split(s, e, HOUR, out),
            HOUR => split(s, e, ROLLUP_SECONDS, out),
            _ => out.push((0, s, e)),
        }
        return;
    }
    let finer = if unit == DAY { HOUR } else { ROLLUP_SECONDS };
    split(s, inner_start, finer, out);
    out.push((grain, inner_start, inner_end));
    split(inner_end, e, finer, out);
}

/// The segments of a request: each bucket (or the whole range) clipped to
/// `[from, to)` and split by [`split`]. No rollup row lies in two segments,
/// and every segment lies in one bucket.
pub fn segments(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    bounds: Option<&[DateTime<Utc>]>,
) -> Vec<Segment> {
    let ranges: Vec<(DateTime<Utc>, DateTime<Utc>)> = match bounds {
        Some(bounds) => bounds
            .windows(2)
            .map(|w| (w[0].max(from), w[1].min(to)))
            .collect(),
        None => vec![(from, to)],
    };
    let mut out = Vec::new();
    for (s, e) in ranges {
        split(s, e, DAY, &mut out);
    }
    out
}

/// The bucket index of a rollup row `r` (0 without buckets), `as bucket`.
pub(crate) fn push_bucket_index(
    qb: &mut QueryBuilder<'_, Postgres>,
    bounds: Option<Vec<DateTime<Utc>>>,
) {
    match bounds {
        Some(bounds) => {
            qb.push("(width_bucket(r.bucket, ")
                .push_bind(bounds)
                .push("::timestamptz[]) - 1)::int as bucket");
        }
        None => {
            qb.push("0::int as bucket");
        }
    }
}

/// `from` the segments as rows `seg(grain, s, e)`, for a lateral scan each.
pub(crate) fn push_segments(qb: &mut QueryBuilder<'_, Postgres>, segments: &[Segment]) {
    let grains: Vec<i16> = segments.iter().map(|s| s.0).collect();
    let starts: Vec<DateTime<Utc>> = segments.iter().map(|s| s.1).collect();
    let ends: Vec<DateTime<Utc>> = segments.iter().map(|s| s.2).collect();
    qb.push(" from unnest(")
        .push_bind(grains)
        .push("::smallint[], ")
        .push_bind(starts)
        .push("::timestamptz[], ")
        .push_bind(ends)
        .push("::timestamptz[]) as seg(grain, s, e)");
}

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
    push_bucket_index(&mut qb, bounds);
    for i in 1..=Channel::ALL.len() {
        qb.push(format_args!(", sum(r.c{i})::bigint as c{i}"));
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
    // of the rollups at grains 1 and 2, and of the raw rows for the
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    proptest! {
        /// Segments tile the range exactly, each on its grain's boundaries.
        #[test]
        fn segments_tile_the_range(start in 0i64..200_000, quarters in 1i64..5_000, cut in 1i64..200) {
            let base = Utc.timestamp_opt(1_767_225_600, 0).single().expect("t");
            let from = base + chrono::Duration::seconds(start * ROLLUP_SECONDS);
            let to = from + chrono::Duration::seconds(quarters * ROLLUP_SECONDS);
            let middle = from + chrono::Duration::seconds((cut % quarters) * ROLLUP_SECONDS);
            let bounds = [from - chrono::Duration::hours(1), middle, to + chrono::Duration::hours(1)];
            for bounds in [None, Some(&bounds[..])] {
                let list = segments(from, to, bounds);
                let mut at = from;
                for (grain, s, e) in &list {
                    prop_assert_eq!(*s, at);
                    prop_assert!(s < e);
                    let unit = [ROLLUP_SECONDS, HOUR, DAY][*grain as usize];
                    prop_assert_eq!(floor_to(*s, unit), *s);
                    prop_assert_eq!(floor_to(*e, unit), *e);
                    at = *e;
                }
                prop_assert_eq!(at, to);
            }
        }
    }
}
