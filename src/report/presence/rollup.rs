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

const DAYS: &str = r#"
select user_id, day, available_us, logged_in_us, contacts_available, contacts_logged_in
from presence_days
where tenant_id = $1 and user_id = any($2::uuid[]) and day >= $3 and day <= $4
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
    let rows = sqlx::query(DAYS)
        .bind(tenant_id)
        .bind(users)
        .bind(from.date_naive())
        .bind(last_day)
        .fetch_all(pool)
        .await?;
    // The bucket of every hour from the first day's midnight (None: outside
    // `[from, to)`), computed once; then each row is summed by index.
    let first_day = from.date_naive();
    let first_midnight = first_day.and_time(chrono::NaiveTime::MIN).and_utc();
    let n_hours = usize::try_from((last_day - first_day).num_days() + 1).unwrap_or(0) * 24;
    let hour_bucket: Vec<Option<usize>> = (0..n_hours)
        .map(|i| {
            let t = first_midnight + Duration::hours(i as i64);
            if t < from || t >= to {
                None
            } else {
                bucket_of(bounds, t)
            }
        })
        .collect();
    let index: HashMap<Uuid, usize> = users.iter().enumerate().map(|(i, u)| (*u, i)).collect();
    let n_buckets = bounds.len().saturating_sub(1);
    // Per user × bucket: available, logged in, contacts available, logged in.
    let mut sums = vec![[0i64; 4]; users.len() * n_buckets];
    for row in rows {
        let user: Uuid = row.try_get("user_id")?;
        let day: NaiveDate = row.try_get("day")?;
        let columns: [Vec<i64>; 4] = [
            row.try_get("available_us")?,
            row.try_get("logged_in_us")?,
            row.try_get("contacts_available")?,
            row.try_get("contacts_logged_in")?,
        ];
        let (Some(&u), Ok(base)) = (
            index.get(&user),
            usize::try_from((day - first_day).num_days() * 24),
        ) else {
            continue;
        };
        for h in 0..24 {
            let Some(Some(b)) = hour_bucket.get(base + h) else {
                continue;
            };
            let cell = &mut sums[u * n_buckets + b];
            for (k, column) in columns.iter().enumerate() {
                cell[k] += column.get(h).copied().unwrap_or_default();
            }
        }
    }
    let mut time = TimeCells::new();
    let mut contacts = TimeCells::new();
    for (u, user) in users.iter().enumerate() {
        for b in 0..n_buckets {
            let [a, l, ca, cl] = sums[u * n_buckets + b];
            if a != 0 || l != 0 {
                time.insert((*user, b), (a, l));
            }
            if ca != 0 || cl != 0 {
                contacts.insert((*user, b), (ca, cl));
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
