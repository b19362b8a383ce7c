//! The rollup path of the presence tiles: time in state (and, without
//! filters, contacts) from the day rollup `presence_days`, whose hourly
//! cells hold the closed spans, plus each user's open last span, stopped at
//! min(to, the moment of the request). Exact when the range and every
//! bucket bound are whole UTC hours and no user has a change after that
//! moment; the planner checks both ([`eligible`]).

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use futures::TryStreamExt;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use uuid::Uuid;

use crate::error::Result;
use crate::report::buckets::HOUR;

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

/// The four running sums of a day row (`presence_days`).
const SUMS: [&str; 4] = [
    "available_us",
    "logged_in_us",
    "contacts_available",
    "contacts_logged_in",
];

/// The day rows of the users in a range of UTC days, with only the
/// elements of the running sums that the pieces need (`ends`, 1-based:
/// element k holds hours 0..k), as plain columns: for each sum in [`SUMS`]
/// order, one column per end. A Berlin day needs two or three of 24.
/// Sending whole arrays (four of 24 elements a row) cost most of the
/// tile's time; the differences are taken in Rust.
fn days_query<'a>(
    tenant_id: Uuid,
    users: &'a [Uuid],
    days: (NaiveDate, NaiveDate),
    ends: &[i32],
) -> QueryBuilder<'a, Postgres> {
    let mut qb = QueryBuilder::new("select user_id, day");
    for sums in SUMS {
        for end in ends {
            qb.push(", ").push(sums).push("[").push_bind(*end).push("]");
        }
    }
    qb.push(" from presence_days where tenant_id = ")
        .push_bind(tenant_id)
        .push(" and user_id = any(")
        .push_bind(users)
        .push(") and day >= ")
        .push_bind(days.0)
        .push(" and day <= ")
        .push_bind(days.1);
    qb
}

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
    let mut per_day: Vec<Vec<(usize, usize, usize)>> = Vec::new();
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
            if let Some(b) = bucket {
                pieces.push((h as usize, end as usize, b));
            }
            h = end;
        }
        per_day.push(pieces);
        day = day.succ_opt().unwrap_or(NaiveDate::MAX);
    }
    // The running-sum elements the pieces need, and where each is in the
    // fetched arrays (hour 0 is the start of the day: zero).
    let mut ends: Vec<i32> = per_day
        .iter()
        .flatten()
        .flat_map(|&(lo, hi, _)| [lo, hi])
        .filter(|&e| e > 0)
        .filter_map(|e| i32::try_from(e).ok())
        .collect();
    ends.sort_unstable();
    ends.dedup();
    let slot = |e: usize| {
        i32::try_from(e)
            .ok()
            .and_then(|e| ends.binary_search(&e).ok())
    };
    let n_buckets = bounds.len().saturating_sub(1);
    let mut time = TimeCells::new();
    let mut contacts = TimeCells::new();
    if ends.is_empty() {
        return Ok((time, contacts));
    }
    let mut qb = days_query(tenant_id, users, (first_day, last_day), &ends);
    let mut rows = qb.build().fetch(pool);
    while let Some(row) = rows.try_next().await? {
        let user: Uuid = row.try_get("user_id")?;
        let day: NaiveDate = row.try_get("day")?;
        let Some(pieces) = usize::try_from((day - first_day).num_days())
            .ok()
            .and_then(|k| per_day.get(k))
        else {
            continue;
        };
        // The fetched elements: columns 2.. in [`SUMS`] order, `ends` each.
        let mut values = Vec::with_capacity(SUMS.len() * ends.len());
        for column in 2..2 + SUMS.len() * ends.len() {
            values.push(row.try_get::<i64, _>(column)?);
        }
        let sums: Vec<&[i64]> = values.chunks(ends.len()).collect();
        let [available, logged_in, contacts_available, contacts_logged_in] = sums[..] else {
            continue;
        };
        // Hours `[lo, hi)` of one running sum: the difference of two
        // fetched elements (hour 0: zero).
        let run = |sums: &[i64], lo: usize, hi: usize| {
            let at = |e: usize| slot(e).and_then(|i| sums.get(i)).copied().unwrap_or(0);
            at(hi) - at(lo)
        };
        for &(lo, hi, b) in pieces {
            if b >= n_buckets {
                continue;
            }
            let (a, l) = (run(available, lo, hi), run(logged_in, lo, hi));
            let (ca, cl) = (
                run(contacts_available, lo, hi),
                run(contacts_logged_in, lo, hi),
            );
            if a != 0 || l != 0 {
                let cell = time.entry((user, b)).or_insert((0, 0));
                cell.0 += a;
                cell.1 += l;
            }
            if ca != 0 || cl != 0 {
                let cell = contacts.entry((user, b)).or_insert((0, 0));
                cell.0 += ca;
                cell.1 += cl;
            }
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
