//! Maintenance of the exact duration rollups (migration 0006): every change
//! of a derived time, as the recompute statements report it (the old value
//! leaves, the new one enters), is appended to `duration_value_deltas`
//! (migration 0009) as a change of that value's multiplicity in its queue
//! and UTC hour; [`super::fold`] adds it to the hour and day rows of
//! `duration_rollups` and to the hour rows of `duration_values`, for its
//! queue and for all queues (the nil UUID). The bin of each value is
//! assigned by the SQL function `cx_duration_bin` alone.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use crate::report::buckets::{floor_to, HOUR};

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

/// Key of a delta row: metric, the value's queue (the nil UUID when it
/// has none), bin, UTC hour, value.
type ValueKey = (i16, Uuid, i16, DateTime<Utc>, i64);

/// The net change of each value's multiplicity; entries that cancel out
/// are dropped. A bin outside `0..BINS` (from `cx_duration_bin`) is an
/// error that fails the batch, never a value counted in another bin.
fn deltas(changes: &[Change]) -> sqlx::Result<BTreeMap<ValueKey, i64>> {
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
        let queue = change.queue_id.unwrap_or_else(Uuid::nil);
        let hour = floor_to(change.occurred_at, HOUR);
        *values
            .entry((change.metric, queue, bin as i16, hour, change.value_us))
            .or_default() += change.sign;
    }
    values.retain(|_, n| *n != 0);
    Ok(values)
}

/// Appends the deltas: a change of each value's multiplicity, from which
/// the fold derives both levels.
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
    let values = deltas(changes)?;
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
        let values = deltas(&[change(BINS as i16 - 1)]).expect("in range");
        // One value, under the nil UUID (no queue), in the last bin.
        assert_eq!(values.len(), 1);
        assert!(values
            .iter()
            .all(|((_, q, b, _, _), n)| q.is_nil() && *b == BINS as i16 - 1 && *n == 1));
    }

    #[test]
    fn a_value_that_leaves_and_enters_again_is_no_delta() {
        let mut leaves = change(3);
        leaves.sign = -1;
        assert!(deltas(&[change(3), leaves]).expect("valid").is_empty());
    }
}
