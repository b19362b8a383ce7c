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

use std::sync::LazyLock;
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
    /// Delta rows folded (all three tables).
    pub deltas: u64,
    /// Whether another process held the fold lock (nothing was done).
    pub skipped: bool,
}

/// A statement that deletes every visible row of `deltas` and adds their
/// sums, per key, to `table`: `keys` are the conflict target after
/// `tenant_id`, `sums` the added columns with their SQL types. It answers
/// the number of delta rows moved, and with `returning` also those columns
/// of each row written (one row each then, the count repeated).
fn fold_statement(
    table: &str,
    deltas: &str,
    keys: &[&str],
    sums: &[(String, &str)],
    having: &str,
    returning: Option<&str>,
) -> String {
    let keys = keys.join(", ");
    let names: Vec<&str> = sums.iter().map(|(name, _)| name.as_str()).collect();
    let totals: Vec<String> = sums
        .iter()
        .map(|(name, kind)| format!("sum({name})::{kind}"))
        .collect();
    let additions: Vec<String> = names
        .iter()
        .map(|c| format!("{c} = {table}.{c} + excluded.{c}"))
        .collect();
    let (returning, answer) = match returning {
        Some(columns) => (
            format!("returning {columns}"),
            format!("select (select count(*) from moved), {columns} from folded"),
        ),
        None => (String::new(), "select count(*) from moved".to_owned()),
    };
    format!(
        "with moved as (delete from {deltas} returning *), folded as (
insert into {table} (tenant_id, {keys}, {names})
select tenant_id, {keys}, {totals} from moved
group by tenant_id, {keys} {having}
order by tenant_id, {keys}
on conflict (tenant_id, {keys}) do update set {additions}
{returning})
{answer}",
        names = names.join(", "),
        totals = totals.join(", "),
        additions = additions.join(", "),
    )
}

static FOLD_COUNTS: LazyLock<String> = LazyLock::new(|| {
    let sums: Vec<(String, &str)> = (1..=Channel::ALL.len())
        .map(|i| (format!("c{i}"), "bigint"))
        .collect();
    fold_statement(
        "count_rollups",
        "count_rollup_deltas",
        &["source", "queue_id", "k1", "grain", "bucket", "k2"],
        &sums,
        "",
        None,
    )
});

static FOLD_DURATIONS: LazyLock<String> = LazyLock::new(|| {
    let mut sums: Vec<(String, &str)> =
        vec![("n".to_owned(), "bigint"), ("sum_us".to_owned(), "bigint")];
    sums.extend((0..BINS).map(|i| (format!("b{i}"), "integer")));
    fold_statement(
        "duration_rollups",
        "duration_rollup_deltas",
        &["metric", "queue_id", "grain", "bucket"],
        &sums,
        "",
        None,
    )
});

/// Values whose multiplicity the fold brought to zero come back, to be
/// deleted by [`DELETE_EMPTY_VALUES`] (a row cannot be changed twice in
/// one statement). Keys whose deltas cancel out are not written at all.
static FOLD_VALUES: LazyLock<String> = LazyLock::new(|| {
    fold_statement(
        "duration_values",
        "duration_value_deltas",
        &["metric", "queue_id", "bin", "bucket", "value_us"],
        &[("n".to_owned(), "bigint")],
        "having sum(n) <> 0",
        Some("tenant_id, metric, queue_id, bin, bucket, value_us, n"),
    )
});

const DELETE_EMPTY_VALUES: &str = r#"
delete from duration_values d
using unnest($1::uuid[], $2::smallint[], $3::uuid[], $4::smallint[], $5::timestamptz[], $6::bigint[])
    as u(tenant_id, metric, queue_id, bin, bucket, value_us)
where d.tenant_id = u.tenant_id and d.metric = u.metric and d.queue_id = u.queue_id
  and d.bin = u.bin and d.bucket = u.bucket and d.value_us = u.value_us and d.n = 0
"#;

type ValueRow = (i64, Uuid, i16, Uuid, i16, DateTime<Utc>, i64, i64);

/// Folds every delta committed so far, in one transaction; does nothing
/// when another process is folding.
pub async fn fold_once(pool: &PgPool) -> sqlx::Result<Folded> {
    let mut tx = pool.begin().await?;
    let locked: bool = sqlx::query_scalar("select pg_try_advisory_xact_lock($1)")
        .bind(FOLD_LOCK)
        .fetch_one(&mut *tx)
        .await?;
    if !locked {
        return Ok(Folded {
            deltas: 0,
            skipped: true,
        });
    }
    let mut deltas: i64 = 0;
    for statement in [FOLD_COUNTS.as_str(), FOLD_DURATIONS.as_str()] {
        deltas += sqlx::query_scalar::<_, i64>(statement)
            .fetch_one(&mut *tx)
            .await?;
    }
    let values: Vec<ValueRow> = sqlx::query_as(FOLD_VALUES.as_str())
        .fetch_all(&mut *tx)
        .await?;
    deltas += values.first().map_or(0, |row| row.0);
    let empty: Vec<&ValueRow> = values.iter().filter(|row| row.7 == 0).collect();
    if !empty.is_empty() {
        sqlx::query(DELETE_EMPTY_VALUES)
            .bind(empty.iter().map(|r| r.1).collect::<Vec<_>>())
            .bind(empty.iter().map(|r| r.2).collect::<Vec<_>>())
            .bind(empty.iter().map(|r| r.3).collect::<Vec<_>>())
            .bind(empty.iter().map(|r| r.4).collect::<Vec<_>>())
            .bind(empty.iter().map(|r| r.5).collect::<Vec<_>>())
            .bind(empty.iter().map(|r| r.6).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(Folded {
        deltas: deltas as u64,
        skipped: false,
    })
}

/// Folds every `every` for as long as the service runs, and vacuums the
/// delta tables after folds (at most every [`VACUUM_EVERY`]), so readers
/// never scan a long trail of deleted deltas. Errors are logged and the
/// next fold tries again: nothing is lost, the deltas stay until folded.
pub async fn run(pool: PgPool, every: Duration) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_vacuum = Instant::now();
    let mut unvacuumed: u64 = 0;
    loop {
        ticker.tick().await;
        match fold_once(&pool).await {
            Ok(folded) => unvacuumed += folded.deltas,
            Err(error) => {
                tracing::warn!(%error, "folding the rollup deltas failed; the next fold retries");
                continue;
            }
        }
        if unvacuumed > 0 && last_vacuum.elapsed() >= VACUUM_EVERY {
            let vacuum = "vacuum (skip_locked) count_rollup_deltas, duration_rollup_deltas, \
                          duration_value_deltas";
            if let Err(error) = sqlx::raw_sql(vacuum).execute(&pool).await {
                tracing::warn!(%error, "vacuuming the rollup deltas failed");
            }
            last_vacuum = Instant::now();
            unvacuumed = 0;
        }
    }
}
