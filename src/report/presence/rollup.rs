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
    let mut time = TimeCells::new();
    let mut contacts = TimeCells::new();
    for row in rows {
        let user: Uuid = row.try_get("user_id")?;
        let day: NaiveDate = row.try_get("day")?;
        let available: Vec<i64> = row.try_get("available_us")?;
        let logged_in: Vec<i64> = row.try_get("logged_in_us")?;
        let c_available: Vec<i64> = row.try_get("contacts_available")?;
        let c_logged_in: Vec<i64> = row.try_get("contacts_logged_in")?;
        let midnight = day.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
        let Some(midnight) = midnight else { continue };
        for h in 0..24 {
            let t = midnight + Duration::hours(h as i64);
            if t < from || t >= to {
                continue;
            }
            let Some(b) = bucket_of(bounds, t) else {
                continue;
            };
            let cell = |v: &[i64]| v.get(h).copied().unwrap_or_default();
            let (a, l) = (cell(&available), cell(&logged_in));
            if a != 0 || l != 0 {
                let entry = time.entry((user, b)).or_insert((0, 0));
                entry.0 += a;
                entry.1 += l;
            }
            let (ca, cl) = (cell(&c_available), cell(&c_logged_in));
            if ca != 0 || cl != 0 {
                let entry = contacts.entry((user, b)).or_insert((0, 0));
                entry.0 += ca;
                entry.1 += cl;
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
