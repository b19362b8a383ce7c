//! The rollup path of the presence tiles: time in state (and, without
//! filters, contacts) from the day rollup `presence_days`, whose hourly
//! cells hold the closed spans, plus each user's open last span, stopped at
//! min(to, the moment of the request). Exact when the range and every
//! bucket bound are whole UTC hours and no user has a change after that
//! moment; the planner checks both ([`eligible`]).

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::error::Result;
use crate::report::buckets::HOUR;
use crate::report::raw::bucket_index;

/// Time per (user, bucket): (available, logged in) microseconds.
pub type TimeCells = HashMap<(Uuid, usize), (i64, i64)>;

/// A user's last presence change.
#[derive(Debug, Clone)]
pub struct LastChange {
    pub state: String,
    pub at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

const LAST_CHANGES: &str = r#"
select u.user_id, l.state, l.occurred_at, l.ended_at
from unnest($2::uuid[]) as u(user_id)
cross join lateral (
    select p.state, p.occurred_at, p.ended_at from presence_changes p
    where p.tenant_id = $1 and p.user_id = u.user_id
    order by p.occurred_at desc, p.event_id desc limit 1) l
"#;

/// Sums per (user, bucket) of the pieces of each bucket: runs `[lo, hi)`
/// of UTC hours of one day. Day k (from `$3`) has its pieces at
/// `(k * $7, (k + 1) * $7]` of `$4`-`$6` (padded with nulls), so each row
/// finds its own without a join. The stored cells are running sums, so a
/// piece is the difference of two elements (element k: hours 0..k).
const PIECES: &str = r#"
select user_id, bucket, sum(a)::bigint as a, sum(l)::bigint as l, sum(ca)::bigint as ca,
    sum(cl)::bigint as cl
from (
    select d.user_id, p.bucket,
        d.available_us[p.hi] - coalesce(d.available_us[p.lo], 0) as a,
        d.logged_in_us[p.hi] - coalesce(d.logged_in_us[p.lo], 0) as l,
        d.contacts_available[p.hi] - coalesce(d.contacts_available[p.lo], 0) as ca,
        d.contacts_logged_in[p.hi] - coalesce(d.contacts_logged_in[p.lo], 0) as cl
    from presence_days d
    cross join lateral unnest(
        ($4::int[])[(d.day - $3) * $7 + 1 : (d.day - $3 + 1) * $7],
        ($5::int[])[(d.day - $3) * $7 + 1 : (d.day - $3 + 1) * $7],
        ($6::int[])[(d.day - $3) * $7 + 1 : (d.day - $3 + 1) * $7]) as p(lo, hi, bucket)
    where d.tenant_id = $1 and d.user_id = any($2::uuid[]) and d.day >= $3 and d.day <= $8
      and p.bucket is not null
    offset 0
) x
group by 1, 2
"#;

/// The last change of each user that has one.
pub async fn last_changes(
    pool: &PgPool,
    tenant_id: Uuid,
    users: &[Uuid],
) -> Result<HashMap<Uuid, LastChange>> {
    let rows = sqlx::query(LAST_CHANGES)
        .bind(tenant_id)
        .bind(users)
        .fetch_all(pool)
        .await?;
    let mut out = HashMap::new();
    for row in rows {
        out.insert(
            row.try_get("user_id")?,
            LastChange {
                state: row.try_get("state")?,
                at: row.try_get("occurred_at")?,
                ended_at: row.try_get("ended_at")?,
            },
        );
    }
    Ok(out)
}

/// Whether the rollup answers exactly: the range and every bucket bound on
/// whole UTC hours and, when the range reaches past the moment of the
/// request (`cap` < `to`), no user's last change after it (so every closed
/// span in the hourly cells ends by then; otherwise changes after `to` do
/// not matter: the cells are whole hours before it).
pub fn eligible(
    range: (DateTime<Utc>, DateTime<Utc>),
    bounds: &[DateTime<Utc>],
    cap: DateTime<Utc>,
    last: &HashMap<Uuid, LastChange>,
) -> bool {
    [range.0, range.1]
        .iter()
        .chain(bounds)
        .all(|b| b.timestamp().rem_euclid(HOUR) == 0)
        && (cap >= range.1 || last.values().all(|l| l.at <= cap))
}

/// The bucket holding `t` (bounds ascending; `t` within them).
fn bucket_of(bounds: &[DateTime<Utc>], t: DateTime<Utc>) -> Option<usize> {
    let n = bounds.partition_point(|b| *b <= t);
    (n >= 1 && n < bounds.len()).then(|| n - 1)
}

/// Time (and contacts, per (user, bucket): (available, logged in)) in
/// `[from, to)` from the rollup and the open spans.
pub async fn fetch(
    pool: &PgPool,
    tenant_id: Uuid,
    users: &[Uuid],
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    bounds: &[DateTime<Utc>],
    cap: DateTime<Utc>,
    last: &HashMap<Uuid, LastChange>,
) -> Result<(TimeCells, TimeCells)> {
    let last_day: NaiveDate = (to - Duration::microseconds(1)).date_naive();
    // The pieces: runs of whole UTC hours of one day in one bucket, per day.
    let first_day = from.date_naive();
    let mut per_day: Vec<Vec<(i32, i32, i32)>> = Vec::new();
    let mut day = first_day;
    while day <= last_day {
        let midnight = day.and_time(chrono::NaiveTime::MIN).and_utc();
        let bucket_at = |h: i64| {
            let t = midnight + Duration::hours(h);
            (t >= from && t < to)
                .then(|| bucket_of(bounds, t))
                .flatten()
        };
        let mut pieces = Vec::new();
        let mut h = 0;
        while h < 24 {
            let bucket = bucket_at(h);
            let mut end = h + 1;
            while end < 24 && bucket_at(end) == bucket {
                end += 1;
            }
            if let Some(b) = bucket.and_then(|b| i32::try_from(b).ok()) {
                pieces.push((h as i32, end as i32, b));
            }
            h = end;
        }
        per_day.push(pieces);
        day = day.succ_opt().unwrap_or(NaiveDate::MAX);
    }
    let width = per_day.iter().map(Vec::len).max().unwrap_or(0).max(1);
    let (mut los, mut his, mut buckets) = (Vec::new(), Vec::new(), Vec::new());
    for pieces in &per_day {
        for k in 0..width {
            let piece = pieces.get(k);
            los.push(piece.map(|p| p.0));
            his.push(piece.map(|p| p.1));
            buckets.push(piece.map(|p| p.2));
        }
    }
    let n_buckets = bounds.len().saturating_sub(1);
    let mut time = TimeCells::new();
    let mut contacts = TimeCells::new();
    for row in sqlx::query(PIECES)
        .bind(tenant_id)
        .bind(users)
        .bind(first_day)
        .bind(&los)
        .bind(&his)
        .bind(&buckets)
        .bind(i32::try_from(width).unwrap_or(i32::MAX))
        .bind(last_day)
        .fetch_all(pool)
        .await?
    {
        let user: Uuid = row.try_get("user_id")?;
        let b = bucket_index(tenant_id, row.try_get("bucket")?, n_buckets)?;
        let (a, l): (i64, i64) = (row.try_get("a")?, row.try_get("l")?);
        let (ca, cl): (i64, i64) = (row.try_get("ca")?, row.try_get("cl")?);
        if a != 0 || l != 0 {
            time.insert((user, b), (a, l));
        }
        if ca != 0 || cl != 0 {
            contacts.insert((user, b), (ca, cl));
        }
    }
    // The open last spans, stopped at `cap`.
    for (user, change) in last {
        if change.ended_at.is_some() || change.state == "Offline" {
            continue;
        }
        let (start, end) = (change.at.max(from), cap.min(to));
        for (b, window) in bounds.windows(2).enumerate() {
            let piece = (end.min(window[1]) - start.max(window[0]))
                .num_microseconds()
                .unwrap_or_default();
            if piece > 0 {
                let entry = time.entry((*user, b)).or_insert((0, 0));
                if change.state == "Online" {
                    entry.0 += piece;
                }
                entry.1 += piece;
            }
        }
    }
    Ok((time, contacts))
}
