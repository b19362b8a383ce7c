//! The background worker that folds the rollup deltas (migration 0009) into
//! the rollups. Ingest appends each batch's net changes to the delta tables
//! and updates no rollup row in place; the worker moves them over in one
//! transaction per fold (delete the visible deltas, add their sums to the
//! rollups, drop value rows whose multiplicity fell to zero), so a reader,
//! which adds the unfolded deltas to the rollups in one snapshot, sees each
//! change exactly once, before or after a fold. One fold at a time across
//! every process of the service (a transaction-level advisory lock), so
//! several replicas can run the worker. A delta committed while a fold runs
//! is not visible to it and waits for the next one.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::durations::BINS;
use crate::domain::Channel;

/// Key of the advisory lock that makes folds one at a time.
const FOLD_LOCK: i64 = 0x6378_666f_6c64; // "cxfold"

/// The delta tables are vacuumed at most this often (every delta row is
/// deleted within a fold interval; autovacuum may come later than that).
const VACUUM_EVERY: Duration = Duration::from_secs(2);

/// What one fold moved.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Folded {
    /// Delta rows folded (both delta tables).
    pub deltas: u64,
    /// Whether a table had more than [`FOLD_LIMIT`] rows to fold: the
    /// deltas are behind.
    pub full: bool,
    /// Whether another process held the fold lock (nothing was done).
    pub skipped: bool,
}

/// The row of all queues and the delta's own queue (once when that is the
/// nil UUID), as `q(queue_id)` for a delta row `m`.
const QUEUES: &str = "cross join lateral (values ('00000000-0000-0000-0000-000000000000'::uuid), \
     (nullif(m.queue_id, '00000000-0000-0000-0000-000000000000'::uuid))) as q(queue_id)";

/// The hour, day and week (migration 0018; seven days from 1970-01-01)
/// grains of a delta's UTC hour `m.bucket`, as `g(grain, bucket)`.
const GRAINS: &str = "cross join lateral (values (1::smallint, m.bucket), \
     (2::smallint, date_bin(interval '1 day', m.bucket, timestamptz '2000-01-01 00:00:00+00')), \
     (3::smallint, date_bin(interval '7 days', m.bucket, timestamptz '1970-01-01 00:00:00+00'))) \
     as g(grain, bucket)";

/// `c = table.c + excluded.c` for each column.
fn additions(table: &str, columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| format!("{c} = {table}.{c} + excluded.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Moves every visible count delta into `count_rollups`; answers the
/// number of delta rows moved.
static FOLD_COUNTS: LazyLock<String> = LazyLock::new(|| {
    let counters: Vec<String> = (1..=Channel::ALL.len()).map(|i| format!("c{i}")).collect();
    // Per-delta counts are small: summed as integers, not numerics.
    let sums: Vec<String> = counters
        .iter()
        .map(|c| format!("sum(m.{c}::integer)::bigint"))
        .collect();
    format!(
        "with moved as (delete from count_rollup_deltas where ctid = any(array(
    select ctid from count_rollup_deltas limit $1)) returning *), folded as (
insert into count_rollups (tenant_id, source, queue_id, k1, grain, bucket, k2, {columns})
select m.tenant_id, m.source, q.queue_id, m.k1, g.grain, g.bucket, m.k2, {sums}
from moved m {QUEUES} {GRAINS}
where q.queue_id is not null
group by 1, 2, 3, 4, 5, 6, 7 order by 1, 2, 3, 4, 5, 6, 7
on conflict (tenant_id, source, queue_id, k1, grain, bucket, k2) do update set {additions})
select count(*) from moved",
        columns = counters.join(", "),
        sums = sums.join(", "),
        additions = additions("count_rollups", &counters),
    )
});

/// Moves every visible value delta into `duration_rollups` (count, sum and
/// bin counts at hour, day and week) and `duration_values`; answers, for each
/// value row written, its key and new multiplicity (those at zero are then
/// deleted by [`DELETE_EMPTY_VALUES`]: a row cannot be changed twice in
/// one statement), each with the number of delta rows moved.
static FOLD_DURATIONS: LazyLock<String> = LazyLock::new(|| {
    let mut columns: Vec<String> = vec!["n".into(), "sum_us".into()];
    columns.extend((0..BINS).map(|i| format!("b{i}")));
    let bins: Vec<String> = (0..BINS)
        .map(|i| format!("coalesce(sum(s.n::integer) filter (where s.bin = {i}), 0)::integer"))
        .collect();
    format!(
        "with moved as (delete from duration_value_deltas where ctid = any(array(
    select ctid from duration_value_deltas limit $1)) returning *), spread as (
select m.tenant_id, m.metric, q.queue_id, m.bin, m.bucket, m.value_us, m.n
from moved m {QUEUES} where q.queue_id is not null
), rollups as (
insert into duration_rollups (tenant_id, metric, queue_id, grain, bucket, {columns})
select s.tenant_id, s.metric, s.queue_id, g.grain, g.bucket, sum(s.n)::bigint,
    sum(s.n * s.value_us)::bigint, {bins}
from spread s {grains}
group by 1, 2, 3, 4, 5 order by 1, 2, 3, 4, 5
on conflict (tenant_id, metric, queue_id, grain, bucket) do update set {additions}
), folded as (
insert into duration_values (tenant_id, metric, queue_id, bin, bucket, value_us, n)
select tenant_id, metric, queue_id, bin, bucket, value_us, sum(n)::bigint
from spread group by 1, 2, 3, 4, 5, 6 having sum(n) <> 0 order by 1, 2, 3, 4, 5, 6
on conflict (tenant_id, metric, queue_id, bin, bucket, value_us) do update set
    n = duration_values.n + excluded.n
returning tenant_id, metric, queue_id, bin, bucket, value_us, n
)
select (select count(*) from moved), f.tenant_id, f.metric, f.queue_id, f.bin, f.bucket,
    f.value_us, f.n
from (select 1) as one left join folded f on true",
        columns = columns.join(", "),
        bins = bins.join(", "),
        grains = GRAINS.replace("m.bucket", "s.bucket"),
        additions = additions("duration_rollups", &columns),
    )
});

const DELETE_EMPTY_VALUES: &str = r#"
delete from duration_values d
using unnest($1::uuid[], $2::smallint[], $3::uuid[], $4::smallint[], $5::timestamptz[], $6::bigint[])
    as u(tenant_id, metric, queue_id, bin, bucket, value_us)
where d.tenant_id = u.tenant_id and d.metric = u.metric and d.queue_id = u.queue_id
  and d.bin = u.bin and d.bucket = u.bucket and d.value_us = u.value_us and d.n = 0
"#;

/// The delta rows moved, then a value row written (none when no row was).
type ValueRow = (
    i64,
    Option<Uuid>,
    Option<i16>,
    Option<Uuid>,
    Option<i16>,
    Option<DateTime<Utc>>,
    Option<i64>,
    Option<i64>,
);

/// At most this many rows of each delta table are folded by one
/// transaction, so a fold's time stays bounded however far behind it is
/// (an unbounded fold of a backlog ran past the statement timeout at 20M
/// events, was rolled back, and so never caught up); the worker folds
/// again at once while a fold comes back full. Large enough that a fold
/// keeping up is never full: at 1M events a bound of 50,000 let the
/// deltas fall behind (the tile read after the ingest took 320 ms against
/// 3.6 ms unbounded).
pub const FOLD_LIMIT: i64 = 400_000;

/// Folds up to [`FOLD_LIMIT`] rows of each delta table, in one
/// transaction; does nothing when another process is folding.
pub async fn fold_once(pool: &PgPool) -> sqlx::Result<Folded> {
    fold_at_most(pool, FOLD_LIMIT).await
}

/// [`fold_once`] with another bound (tests fold a row at a time).
pub async fn fold_at_most(pool: &PgPool, limit: i64) -> sqlx::Result<Folded> {
    let mut tx = pool.begin().await?;
    let locked: bool = sqlx::query_scalar("select pg_try_advisory_xact_lock($1)")
        .bind(FOLD_LOCK)
        .fetch_one(&mut *tx)
        .await?;
    if !locked {
        return Ok(Folded {
            deltas: 0,
            full: false,
            skipped: true,
        });
    }
    // A bounded fold may take longer than a request's statement timeout.
    sqlx::query("set local statement_timeout = '600s'")
        .execute(&mut *tx)
        .await?;
    let counts: i64 = sqlx::query_scalar(FOLD_COUNTS.as_str())
        .bind(limit)
        .fetch_one(&mut *tx)
        .await?;
    let values: Vec<ValueRow> = sqlx::query_as(FOLD_DURATIONS.as_str())
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
    let durations = values.first().map_or(0, |row| row.0);
    let empty: Vec<(Uuid, i16, Uuid, i16, DateTime<Utc>, i64)> = values
        .iter()
        .filter_map(|row| match *row {
            (_, Some(t), Some(m), Some(q), Some(b), Some(h), Some(v), Some(0)) => {
                Some((t, m, q, b, h, v))
            }
            _ => None,
        })
        .collect();
    if !empty.is_empty() {
        sqlx::query(DELETE_EMPTY_VALUES)
            .bind(empty.iter().map(|r| r.0).collect::<Vec<_>>())
            .bind(empty.iter().map(|r| r.1).collect::<Vec<_>>())
            .bind(empty.iter().map(|r| r.2).collect::<Vec<_>>())
            .bind(empty.iter().map(|r| r.3).collect::<Vec<_>>())
            .bind(empty.iter().map(|r| r.4).collect::<Vec<_>>())
            .bind(empty.iter().map(|r| r.5).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(Folded {
        deltas: (counts + durations) as u64,
        full: counts >= limit || durations >= limit,
        skipped: false,
    })
}

/// Folds every `every` for as long as the service runs, at once again
/// while a fold comes back full, and vacuums the delta tables after folds
/// (at most every [`VACUUM_EVERY`]), so readers never scan a long trail of
/// deleted deltas. `behind` is set while the folds are behind: ingest in
/// this process then waits a little before each batch (back pressure, so
/// the deltas cannot outgrow the fold). Errors are logged and the next
/// fold tries again: nothing is lost, the deltas stay until folded.
pub async fn run(pool: PgPool, every: Duration, behind: Arc<AtomicBool>) {
    // The first fold comes one interval after the start, like every other
    // (readers add unfolded deltas, so leftovers of a crash wait safely);
    // a first fold at once raced a test's ingest that meant to keep its
    // deltas unfolded under a long interval.
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_vacuum = Instant::now();
    let mut unvacuumed: u64 = 0;
    loop {
        if !behind.load(Ordering::Relaxed) {
            ticker.tick().await;
        }
        match fold_once(&pool).await {
            Ok(folded) => {
                unvacuumed += folded.deltas;
                behind.store(folded.full, Ordering::Relaxed);
            }
            Err(error) => {
                behind.store(false, Ordering::Relaxed);
                tracing::warn!(%error, "folding the rollup deltas failed; the next fold retries");
                continue;
            }
        }
        if unvacuumed > 0 && last_vacuum.elapsed() >= VACUUM_EVERY {
            let vacuum = "vacuum (skip_locked) count_rollup_deltas, duration_value_deltas";
            if let Err(error) = sqlx::raw_sql(vacuum).execute(&pool).await {
                tracing::warn!(%error, "vacuuming the rollup deltas failed");
            }
            last_vacuum = Instant::now();
            unvacuumed = 0;
        }
    }
}
