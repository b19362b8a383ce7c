//! The rollup path of the duration tiles (queue time, IVR time, advisor
//! response and originator wait times), exact to the last bit:
//!
//! 1. `duration_rollups` gives, per group and bucket, the count, the sum in
//!    microseconds and the count of each of 128 value bins, read at day and
//!    hour grains like the count rollups (see [`rollup::segments`]).
//! 2. Min, max, p50 and p90 are values of ranks (0, n−1, and floor/ceil of
//!    p·(n−1), which `percentile_cont` interpolates between). The bin counts
//!    name the bin that holds each rank; `duration_values` then yields that
//!    bin's values in the range, one index range scan per queue and bin.
//!
//! Both levels add the deltas not yet folded into them (migration 0009,
//! `src/ingest/fold.rs`), read in the same snapshot.
//!
//! Values are whole microseconds; `k / 1e6` is the same double as the stored
//! seconds, and the statistics are computed as the raw path computes them,
//! so both paths give identical answers (tested by comparing them).

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Timelike, Utc};
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use uuid::Uuid;

use super::buckets::HOUR;
use super::plan::{average_seconds, inconsistent, millis, DurationStats, MetricValue};
use super::raw::{bucket_count, bucket_index, push_any};
use super::request::{Grouping, Params, ReportQuery};
use super::rollup::{names_nil_queue, push_queue_filter, push_segments, queue_column, segments};
use super::tiles::{Dimension, Family};
use crate::domain::ResponseTimeKind;
use crate::error::Result;
use crate::ingest::durations::BINS;

fn hour_aligned(t: DateTime<Utc>) -> bool {
    t.timestamp().rem_euclid(HOUR) == 0 && t.nanosecond() == 0
}

/// Whether the duration rollups can answer `query`: a duration family,
/// grouped by nothing or by queue, no channel or data filter (the rollups
/// keep neither), and every boundary on a UTC hour (their finest grain).
pub fn eligible(family: Family, query: &ReportQuery, bounds: Option<&[DateTime<Utc>]>) -> bool {
    let grouping_ok = match &query.grouping {
        Grouping::Total => true,
        Grouping::Keys { dimension, .. } => *dimension == Dimension::Queue,
        Grouping::Data { .. } => false,
    };
    metric(family, &query.params).is_some()
        && grouping_ok
        && !names_nil_queue(query)
        && query.filters.channels.is_none()
        && query.filters.data.is_empty()
        && hour_aligned(query.from)
        && hour_aligned(query.to)
        && bounds.is_none_or(|b| b.iter().all(|t| hour_aligned(*t)))
}

/// The metric code of the rollup tables (migration 0006).
fn metric(family: Family, params: &Params) -> Option<i16> {
    match (family, params) {
        (Family::QueueTime, _) => Some(1),
        (Family::IvrTime, _) => Some(2),
        (Family::ResponseTimes, Params::ResponseTime { kind }) => Some(match kind {
            ResponseTimeKind::AdvisorResponseTime => 3,
            ResponseTimeKind::OriginatorWaitTime => 4,
        }),
        _ => None,
    }
}

/// The percentiles of metric T.
const P50: f64 = 0.5;
const P90: f64 = 0.9;

/// Where `percentile_cont(p)` falls among `n` sorted values: p·(n−1), and
/// the ranks below and above it, as PostgreSQL computes them.
fn position(p: f64, n: i64) -> (f64, i64, i64) {
    let position = p * (n - 1) as f64;
    (position, position.floor() as i64, position.ceil() as i64)
}

/// `percentile_cont(p)` over `n` sorted values, `value(rank)` giving each
/// one: PostgreSQL's arithmetic (`lo + (p·(n−1) − floor) · (hi − lo)`).
/// `None` when a rank has no value.
pub(crate) fn percentile_cont(p: f64, n: i64, value: impl Fn(i64) -> Option<f64>) -> Option<f64> {
    let (position, first, second) = position(p, n);
    let (lo, hi) = (value(first)?, value(second)?);
    Some(lo + (position - first as f64) * (hi - lo))
}

/// The ranks whose values the statistics need.
fn ranks(n: i64) -> [i64; 6] {
    let (_, p50_lo, p50_hi) = position(P50, n);
    let (_, p90_lo, p90_hi) = position(P90, n);
    [0, n - 1, p50_lo, p50_hi, p90_lo, p90_hi]
}

/// A bin's values of one cell: (microseconds, multiplicity).
type ValueCounts = Vec<(i64, i64)>;

/// A cell of the answer, as level 1 gives it.
struct Cell {
    n: i64,
    sum_us: i128,
    bins: [i64; BINS],
}

impl Cell {
    /// The bin holding `rank`, and how many values lie in lower bins;
    /// `None` when the bins hold no such rank.
    fn bin_of(&self, rank: i64) -> Option<(usize, i64)> {
        let mut below = 0;
        for (bin, count) in self.bins.iter().enumerate() {
            if rank < below + count {
                return Some((bin, below));
            }
            below += count;
        }
        None
    }

    /// What is wrong with the cell's counts, if anything: a negative count,
    /// or bins that do not add up to `n`.
    fn inconsistency(&self) -> Option<String> {
        let binned: i64 = self.bins.iter().sum();
        if self.n < 0 || self.bins.iter().any(|b| *b < 0) || binned != self.n {
            Some(format!("count {} with bins adding up to {binned}", self.n))
        } else {
            None
        }
    }
}

/// Rows of (group key, bucket index, value), as the raw path yields them.
pub async fn fetch(
    pool: &PgPool,
    tenant_id: Uuid,
    family: Family,
    query: &ReportQuery,
    bounds: Option<Vec<DateTime<Utc>>>,
) -> Result<Vec<(String, usize, MetricValue)>> {
    let metric = metric(family, &query.params).ok_or_else(|| {
        inconsistent(
            tenant_id,
            format!("the duration rollups were asked for {family:?}"),
        )
    })?;
    let n_buckets = bucket_count(bounds.as_deref());
    // The queues of each group: one per group by queue; otherwise the
    // filter's queues, or the nil queue that holds them all.
    let groups: Vec<(String, Vec<Uuid>)> = match (&query.grouping, &query.filters.queues) {
        (Grouping::Keys { keys, .. }, _) => keys
            .iter()
            .filter_map(|k| Uuid::parse_str(k).ok().map(|q| (q.to_string(), vec![q])))
            .collect(),
        (_, Some(queues)) => vec![(String::new(), queues.clone())],
        (_, None) => vec![(String::new(), vec![Uuid::nil()])],
    };
    let key_of: HashMap<Uuid, &str> = groups
        .iter()
        .flat_map(|(key, queues)| queues.iter().map(move |q| (*q, key.as_str())))
        .collect();
    let queues: Vec<Uuid> = key_of.keys().copied().collect();

    // Both levels from one snapshot, so the ranks of level 1 are the values
    // of level 2 even while batches are being ingested.
    let mut tx = pool.begin().await?;
    sqlx::query("set transaction isolation level repeatable read, read only")
        .execute(&mut *tx)
        .await?;

    // Level 1: count, sum and bin counts per (queue, bucket), summed here
    // from the rollup rows and the value deltas not yet folded into them
    // (migration 0009), each with its segment's bucket and sign. Summing
    // in SQL cost more (planning 130 aggregates, about 1 ms a call) than
    // sending the few rows of the signed segments.
    let segments = segments(query.from, query.to, bounds.as_deref());
    let mut cells: HashMap<(&str, usize), Cell> = HashMap::new();
    let locate = |queue: Uuid, bucket: i32| -> Result<(&str, usize)> {
        let bucket = bucket_index(tenant_id, bucket, n_buckets)?;
        let key = key_of.get(&queue).ok_or_else(|| {
            inconsistent(
                tenant_id,
                format!("duration_rollups answered unasked queue {queue}"),
            )
        })?;
        Ok((*key, bucket))
    };
    let empty = || Cell {
        n: 0,
        sum_us: 0,
        bins: [0; BINS],
    };
    // One index range scan per segment (`offset 0` keeps it a subquery).
    let mut qb = QueryBuilder::<Postgres>::new("select r.queue_id, seg.b, seg.sign, r.n, r.sum_us");
    for i in 0..BINS {
        qb.push(format_args!(", r.b{i}"));
    }
    push_segments(&mut qb, &segments);
    qb.push(" cross join lateral (select r.queue_id, r.n, r.sum_us");
    for i in 0..BINS {
        qb.push(format_args!(", r.b{i}"));
    }
    qb.push(
        " from duration_rollups r where r.grain = seg.grain \
         and r.bucket >= seg.s and r.bucket < seg.e and r.tenant_id = ",
    )
    .push_bind(tenant_id)
    .push(" and r.metric = ")
    .push_bind(metric);
    push_any(&mut qb, "r.queue_id", queues.clone(), "uuid");
    qb.push(" offset 0) r");
    for row in qb.build().fetch_all(&mut *tx).await? {
        let sign = i64::from(row.try_get::<i16, _>(2)?);
        let at = locate(row.try_get(0)?, row.try_get(1)?)?;
        let cell = cells.entry(at).or_insert_with(empty);
        cell.n += sign * row.try_get::<i64, _>(3)?;
        cell.sum_us += i128::from(sign * row.try_get::<i64, _>(4)?);
        for (i, bin) in cell.bins.iter_mut().enumerate() {
            *bin += sign * i64::from(row.try_get::<i32, _>(5 + i)?);
        }
    }
    // The deltas: one row per value change and UTC hour, under the value's
    // own queue (so every queue's rows count for all queues).
    let mut qb = QueryBuilder::<Postgres>::new(format!(
        "select {}, seg.b, seg.sign, d.bin, d.n, d.value_us",
        queue_column(&queues, "d")
    ));
    push_segments(&mut qb, &segments);
    qb.push(
        " join duration_value_deltas d on seg.grain > 0 \
         and d.bucket >= seg.s and d.bucket < seg.e and d.tenant_id = ",
    )
    .push_bind(tenant_id)
    .push(" and d.metric = ")
    .push_bind(metric);
    push_queue_filter(&mut qb, &queues, "d");
    for row in qb.build().fetch_all(&mut *tx).await? {
        let sign = i64::from(row.try_get::<i16, _>(2)?);
        let (bin, n, value_us): (i16, i64, i64) =
            (row.try_get(3)?, row.try_get(4)?, row.try_get(5)?);
        let at = locate(row.try_get(0)?, row.try_get(1)?)?;
        let cell = cells.entry(at).or_insert_with(empty);
        let bin = usize::try_from(bin)
            .ok()
            .filter(|b| *b < BINS)
            .ok_or_else(|| inconsistent(tenant_id, format!("a duration delta in bin {bin}")))?;
        cell.n += sign * n;
        cell.sum_us += i128::from(sign * n) * i128::from(value_us);
        cell.bins[bin] += sign * n;
    }
    for ((key, bucket), cell) in &cells {
        if let Some(problem) = cell.inconsistency() {
            return Err(inconsistent(
                tenant_id,
                format!("duration_rollups of metric {metric}, group {key:?}, bucket {bucket}: {problem}"),
            ));
        }
    }
    cells.retain(|_, cell| cell.n > 0);

    // Level 2: the values of every (cell, queue, bin) some rank falls in,
    // each read over its cell's part of the range only.
    let span = |bucket: usize| match &bounds {
        Some(b) => (b[bucket].max(query.from), b[bucket + 1].min(query.to)),
        None => (query.from, query.to),
    };
    let queues_of: HashMap<&str, &[Uuid]> = groups
        .iter()
        .map(|(key, queues)| (key.as_str(), queues.as_slice()))
        .collect();
    let mut wanted: BTreeSet<(Uuid, i16, usize)> = BTreeSet::new();
    // Every rank has a bin: the cells were checked above.
    let bin_of = |cell: &Cell, key: &str, bucket: usize, rank: i64| {
        cell.bin_of(rank).ok_or_else(|| {
            inconsistent(
                tenant_id,
                format!("duration_rollups of metric {metric}, group {key:?}, bucket {bucket} hold no rank {rank}"),
            )
        })
    };
    for ((key, bucket), cell) in &cells {
        let queues = queues_of.get(key).copied().unwrap_or_default();
        for rank in ranks(cell.n) {
            let (bin, _) = bin_of(cell, key, *bucket, rank)?;
            wanted.extend(queues.iter().map(|q| (*q, bin as i16, *bucket)));
        }
    }
    let wanted: Vec<(Uuid, i16, usize)> = wanted.into_iter().collect();
    let mut values: HashMap<(&str, usize, i16), ValueCounts> = HashMap::new();
    if !wanted.is_empty() {
        // Equal values of a lookup arrive as one row.
        let rows = sqlx::query(
            "select k.i, f.value_us, sum(f.n)::bigint \
             from unnest($3::uuid[], $4::smallint[], $5::timestamptz[], $6::timestamptz[]) \
                 with ordinality as k(queue_id, bin, s, e, i) \
             cross join lateral ((select f.value_us, f.n from duration_values f \
                 where f.tenant_id = $1 and f.metric = $2 and f.queue_id = k.queue_id \
                 and f.bin = k.bin and f.bucket >= k.s and f.bucket < k.e and f.n <> 0 offset 0) \
               union all (select f.value_us, f.n from duration_value_deltas f \
                 where f.tenant_id = $1 and f.metric = $2 \
                 and (k.queue_id = '00000000-0000-0000-0000-000000000000' or f.queue_id = k.queue_id) \
                 and f.bin = k.bin and f.bucket >= k.s and f.bucket < k.e offset 0)) f \
             group by 1, 2 having sum(f.n) <> 0",
        )
        .bind(tenant_id)
        .bind(metric)
        .bind(wanted.iter().map(|w| w.0).collect::<Vec<_>>())
        .bind(wanted.iter().map(|w| w.1).collect::<Vec<_>>())
        .bind(wanted.iter().map(|w| span(w.2).0).collect::<Vec<_>>())
        .bind(wanted.iter().map(|w| span(w.2).1).collect::<Vec<_>>())
        .fetch_all(&mut *tx)
        .await?;
        // The group key of each lookup.
        let keys: Vec<Option<&str>> = wanted
            .iter()
            .map(|(q, _, _)| key_of.get(q).copied())
            .collect();
        for row in rows {
            let i: i64 = row.try_get(0)?;
            let (value_us, n): (i64, i64) = (row.try_get(1)?, row.try_get(2)?);
            let lookup = usize::try_from(i - 1).ok().filter(|i| *i < wanted.len());
            let Some((lookup, Some(key))) = lookup.map(|l| (l, keys[l])) else {
                return Err(inconsistent(
                    tenant_id,
                    format!("duration_values answered lookup {i} of {}", wanted.len()),
                ));
            };
            let (queue, bin, bucket) = wanted[lookup];
            if n <= 0 {
                return Err(inconsistent(
                    tenant_id,
                    format!("duration_values of metric {metric}, queue {queue}, bin {bin} hold {value_us} µs {n} times"),
                ));
            }
            values
                .entry((key, bucket, bin))
                .or_default()
                .push((value_us, n));
        }
    }
    tx.commit().await?;
    for list in values.values_mut() {
        list.sort_unstable();
    }

    let mut out = Vec::with_capacity(cells.len());
    for ((key, bucket), cell) in &cells {
        // Each bin a rank falls in must hold as many values as the rollups
        // count there; a missing value would otherwise become NaN.
        for rank in ranks(cell.n) {
            let (bin, _) = bin_of(cell, key, *bucket, rank)?;
            let held: i64 = values
                .get(&(*key, *bucket, bin as i16))
                .map_or(0, |list| list.iter().map(|(_, n)| n).sum());
            if held != cell.bins[bin] {
                return Err(inconsistent(
                    tenant_id,
                    format!(
                        "duration_values of metric {metric}, group {key:?}, bucket {bucket}, bin {bin} \
                         hold {held} values where duration_rollups count {}",
                        cell.bins[bin]
                    ),
                ));
            }
        }
        // The value of a rank: its bin's values in order, with multiplicity.
        let value = |rank: i64| -> Option<f64> {
            let (bin, below) = cell.bin_of(rank)?;
            let mut seen = below;
            for (value_us, n) in values.get(&(*key, *bucket, bin as i16))? {
                seen += n;
                if rank < seen {
                    return Some(*value_us as f64 / 1e6);
                }
            }
            None
        };
        let known = |statistic: Option<f64>| {
            statistic.ok_or_else(|| {
                inconsistent(
                    tenant_id,
                    format!("duration_values of metric {metric}, group {key:?}, bucket {bucket} lack a rank"),
                )
            })
        };
        let stats = DurationStats {
            count: cell.n,
            average: millis(average_seconds(cell.sum_us, cell.n)),
            min: millis(Some(known(value(0))?)),
            max: millis(Some(known(value(cell.n - 1))?)),
            p50: millis(Some(known(percentile_cont(P50, cell.n, value))?)),
            p90: millis(Some(known(percentile_cont(P90, cell.n, value))?)),
        };
        out.push(((*key).to_owned(), *bucket, MetricValue::Duration(stats)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn counts_that_do_not_add_up_are_inconsistent() {
        let mut cell = Cell {
            n: 2,
            sum_us: 0,
            bins: [0; BINS],
        };
        cell.bins[3] = 2;
        assert_eq!(cell.inconsistency(), None);
        assert_eq!(cell.bin_of(1), Some((3, 0)));
        assert_eq!(cell.bin_of(2), None, "no third value");
        cell.bins[3] = 1;
        assert!(
            cell.inconsistency().is_some(),
            "a value missing from the bins"
        );
        cell.bins[4] = 2;
        cell.bins[5] = -1;
        assert!(cell.inconsistency().is_some(), "a negative bin");
        assert_eq!(percentile_cont(0.5, 2, |r| (r == 0).then_some(1.0)), None);
    }

    proptest! {
        /// The interpolation agrees with the textbook definition, and each
        /// rank's bin holds it.
        #[test]
        fn percentiles_and_bins(mut values in prop::collection::vec(0i64..5_000, 1..200), p in 0.0f64..=1.0) {
            values.sort_unstable();
            let n = values.len() as i64;
            let at = |r: i64| values[r as usize] as f64;
            let got = percentile_cont(p, n, |r| Some(at(r))).expect("every rank");
            let position = p * (n - 1) as f64;
            let (lo, hi) = (at(position.floor() as i64), at(position.ceil() as i64));
            prop_assert!((got - (lo + (hi - lo) * (position - position.floor()))).abs() < 1e-9);
            let mut cell = Cell { n, sum_us: 0, bins: [0; BINS] };
            for v in &values {
                cell.bins[(*v as usize / 100).min(BINS - 1)] += 1;
            }
            prop_assert_eq!(cell.inconsistency(), None);
            for rank in ranks(n) {
                let (bin, below) = cell.bin_of(rank).expect("a bin");
                prop_assert!(below <= rank && rank < below + cell.bins[bin]);
                prop_assert_eq!((values[rank as usize] as usize / 100).min(BINS - 1), bin);
            }
        }
    }
}
