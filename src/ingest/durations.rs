//! Maintenance of the exact duration rollups (migration 0006): every change
//! of a derived time, as the recompute statements report it (the old value
//! leaves, the new one enters), is added to the hour and day rows of
//! `duration_rollups` and to the hour rows of `duration_values`, for its
//! queue and for all queues (the nil UUID), by way of their delta tables
//! (migration 0009, folded by [`super::fold`]). The bin of each value is
//! assigned by the SQL function `cx_duration_bin` alone.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use super::rollups::delta_insert;
use crate::report::buckets::{floor_to, DAY, HOUR};

/// Bins per level-1 row (`b0..b127`).
pub const BINS: usize = 128;

/// One value entering (`sign` 1) or leaving (−1) a duration metric.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Change {
    pub metric: i16,
    pub queue_id: Option<Uuid>,
    pub occurred_at: DateTime<Utc>,
    pub value_us: i64,
    pub sign: i64,
    pub bin: i16,
}

/// Key of a level-1 row: metric, queue, grain (1 hour, 2 day), bucket.
type RollupKey = (i16, Uuid, i16, DateTime<Utc>);
/// Key of a level-2 row: metric, queue, bin, hour, value.
type ValueKey = (i16, Uuid, i16, DateTime<Utc>, i64);

struct RollupDelta {
    n: i64,
    sum_us: i64,
    bins: [i32; BINS],
}

/// The net effect of `changes` on both tables; entries that cancel out
/// are dropped. A bin outside `0..BINS` (from `cx_duration_bin`) is an
/// error that fails the batch, never a value counted in another bin.
fn deltas(changes: &[Change]) -> sqlx::Result<Deltas> {
    let mut rollups: BTreeMap<RollupKey, RollupDelta> = BTreeMap::new();
    let mut values: BTreeMap<ValueKey, i64> = BTreeMap::new();
    for change in changes {
        let bin = usize::try_from(change.bin)
            .ok()
            .filter(|b| *b < BINS)
            .ok_or_else(|| {
                sqlx::Error::Protocol(format!(
                    "cx_duration_bin gave bin {} for {} µs, outside 0..{BINS}",
                    change.bin, change.value_us
                ))
            })?;
        let hour = floor_to(change.occurred_at, HOUR);
        let day = floor_to(change.occurred_at, DAY);
        // The nil UUID is the row of all queues: a value whose queue is the
        // nil UUID is counted there once.
        let queue = change.queue_id.filter(|q| !q.is_nil());
        for queue in [Some(Uuid::nil()), queue].into_iter().flatten() {
            *values
                .entry((change.metric, queue, bin as i16, hour, change.value_us))
                .or_default() += change.sign;
            for (grain, bucket) in [(1, hour), (2, day)] {
                let delta = rollups
                    .entry((change.metric, queue, grain, bucket))
                    .or_insert(RollupDelta {
                        n: 0,
                        sum_us: 0,
                        bins: [0; BINS],
                    });
                delta.n += change.sign;
                delta.sum_us += change.sign * change.value_us;
                delta.bins[bin] += change.sign as i32;
            }
        }
    }
    rollups.retain(|_, d| d.n != 0 || d.sum_us != 0 || d.bins.iter().any(|b| *b != 0));
    values.retain(|_, n| *n != 0);
    Ok((rollups, values))
}

type Deltas = (BTreeMap<RollupKey, RollupDelta>, BTreeMap<ValueKey, i64>);

/// Appends level-1 deltas: count, sum and the bins `b0..b127`.
static INSERT_ROLLUP_DELTAS: LazyLock<String> = LazyLock::new(|| {
    let counters: Vec<String> = (0..BINS).map(|i| format!("b{i}")).collect();
    delta_insert(
        "duration_rollup_deltas",
        &[
            ("metric", "smallint"),
            ("queue_id", "uuid"),
            ("grain", "smallint"),
            ("bucket", "timestamptz"),
            ("n", "bigint"),
            ("sum_us", "bigint"),
        ],
        &counters,
    )
});

/// Appends level-2 deltas: a change of each value's multiplicity.
const INSERT_VALUE_DELTAS: &str = r#"
insert into duration_value_deltas (tenant_id, metric, queue_id, bin, bucket, value_us, n)
select $1, u.metric, u.queue_id, u.bin, u.bucket, u.value_us, u.n
from unnest($2::smallint[], $3::uuid[], $4::smallint[], $5::timestamptz[], $6::bigint[], $7::bigint[])
    as u(metric, queue_id, bin, bucket, value_us, n)
"#;

/// Appends the net effect of `changes` to the duration deltas, in the
/// caller's transaction ([`super::fold`] adds them to the rollups).
pub async fn apply(
    tx: &mut Transaction<'_, Postgres>,
    tenant_id: Uuid,
    changes: &[Change],
) -> sqlx::Result<()> {
    let (rollups, values) = deltas(changes)?;
    if !rollups.is_empty() {
        let mut metric = Vec::with_capacity(rollups.len());
        let mut queue = Vec::with_capacity(rollups.len());
        let mut grain = Vec::with_capacity(rollups.len());
        let mut bucket = Vec::with_capacity(rollups.len());
        let mut n = Vec::with_capacity(rollups.len());
        let mut sum = Vec::with_capacity(rollups.len());
        let mut bins = Vec::with_capacity(rollups.len() * BINS);
        for ((m, q, g, b), delta) in &rollups {
            metric.push(*m);
            queue.push(*q);
            grain.push(*g);
            bucket.push(*b);
            n.push(delta.n);
            sum.push(delta.sum_us);
            bins.extend_from_slice(&delta.bins);
        }
        sqlx::query(INSERT_ROLLUP_DELTAS.as_str())
            .bind(tenant_id)
            .bind(metric)
            .bind(queue)
            .bind(grain)
            .bind(bucket)
            .bind(n)
            .bind(sum)
            .bind(bins)
            .execute(&mut **tx)
            .await?;
    }
    if !values.is_empty() {
        let mut metric = Vec::with_capacity(values.len());
        let mut queue = Vec::with_capacity(values.len());
        let mut bin = Vec::with_capacity(values.len());
        let mut bucket = Vec::with_capacity(values.len());
        let mut value = Vec::with_capacity(values.len());
        let mut n = Vec::with_capacity(values.len());
        for ((m, q, b, h, v), count) in &values {
            metric.push(*m);
            queue.push(*q);
            bin.push(*b);
            bucket.push(*h);
            value.push(*v);
            n.push(*count);
        }
        sqlx::query(INSERT_VALUE_DELTAS)
            .bind(tenant_id)
            .bind(&metric)
            .bind(&queue)
            .bind(&bin)
            .bind(&bucket)
            .bind(&value)
            .bind(&n)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(bin: i16) -> Change {
        Change {
            metric: 1,
            queue_id: None,
            occurred_at: DateTime::from_timestamp(1_780_000_000, 0).unwrap_or_default(),
            value_us: 5_000_000,
            sign: 1,
            bin,
        }
    }

    #[test]
    fn a_bin_outside_the_table_fails_the_batch_instead_of_being_clamped() {
        assert!(deltas(&[change(BINS as i16)]).is_err());
        assert!(deltas(&[change(-1)]).is_err());
        let (rollups, values) = deltas(&[change(BINS as i16 - 1)]).expect("in range");
        // The row of all queues, at hour and day grain; one value.
        assert_eq!(rollups.len(), 2);
        assert!(rollups.values().all(|d| d.bins[BINS - 1] == 1 && d.n == 1));
        assert_eq!(values.len(), 1);
    }
}
