//! The presence day rollup (`presence_days`): per user and UTC day, 24
//! hourly cells (stored as running sums) of available and logged-in
//! microseconds (closed spans
//! only: the open last span of a user is added at query time) and of
//! contacts (unit-of-work audits with an action) by class. Time cells move
//! by the exact difference of each span whose end the recompute changed;
//! contact cells are recounted from `units_of_work` for each (user, day)
//! the batch touches. Both happen under the per-user lock, so concurrent
//! batches never lose an update.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};
use sqlx::{Postgres, Row, Transaction};
use uuid::Uuid;

use crate::report::buckets::{floor_to, HOUR};

/// One user's day: hourly cells (index = UTC hour).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayCells {
    pub available_us: [i64; 24],
    pub logged_in_us: [i64; 24],
    pub contacts_available: [i64; 24],
    pub contacts_logged_in: [i64; 24],
}

/// Cells keyed by (user, UTC day).
pub type Days = BTreeMap<(Uuid, NaiveDate), DayCells>;

/// A span whose end the recompute changed: `old_end`/`new_end` are null
/// for an open span (which the rollup does not hold).
#[derive(Debug, Clone)]
pub struct ChangedSpan {
    pub user_id: Uuid,
    pub state: String,
    pub start: DateTime<Utc>,
    pub old_end: Option<DateTime<Utc>>,
    pub new_end: Option<DateTime<Utc>>,
}

/// Adds `sign` × the span `[start, end)` to the hourly time cells of its
/// class (nothing for `Offline`).
pub fn add_span(
    days: &mut Days,
    user: Uuid,
    state: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    sign: i64,
) {
    if state == "Offline" || end <= start {
        return;
    }
    let online = state == "Online";
    let mut hour = floor_to(start, HOUR);
    while hour < end {
        let next = hour + Duration::hours(1);
        let piece = (end.min(next) - start.max(hour))
            .num_microseconds()
            .unwrap_or_default();
        let cells = days.entry((user, hour.date_naive())).or_default();
        let h = hour.hour() as usize;
        cells.logged_in_us[h] += sign * piece;
        if online {
            cells.available_us[h] += sign * piece;
        }
        hour = next;
    }
}

/// The time deltas of the changed spans.
pub fn time_deltas(changed: &[ChangedSpan]) -> Days {
    let mut days = Days::new();
    for span in changed {
        if let Some(end) = span.old_end {
            add_span(&mut days, span.user_id, &span.state, span.start, end, -1);
        }
        if let Some(end) = span.new_end {
            add_span(&mut days, span.user_id, &span.state, span.start, end, 1);
        }
    }
    days
}

const READ_DAYS: &str = r#"
select d.user_id, d.day, d.available_us, d.logged_in_us, d.contacts_available, d.contacts_logged_in
from unnest($2::uuid[], $3::date[]) as k(user_id, day)
join presence_days d on d.tenant_id = $1 and d.user_id = k.user_id and d.day = k.day
"#;

/// Contacts per (user, day, hour) of the given days, recounted.
const COUNT_CONTACTS: &str = r#"
select k.user_id, k.day, extract(hour from s.occurred_at at time zone 'UTC')::int as hour,
    count(*) filter (where s.user_state = 'Online') as available,
    count(*) filter (where s.user_state <> 'Offline') as logged_in
from unnest($2::uuid[], $3::date[]) as k(user_id, day)
join units_of_work s on s.tenant_id = $1 and s.user_id = k.user_id
    and s.occurred_at >= k.day::timestamp at time zone 'UTC'
    and s.occurred_at < (k.day + 1)::timestamp at time zone 'UTC'
    and (closed > 0 or messages > 0 or data_changes > 0 or notes > 0)
group by 1, 2, 3
"#;

const WRITE_DAYS: &str = r#"
insert into presence_days (tenant_id, user_id, day, available_us, logged_in_us,
    contacts_available, contacts_logged_in)
select $1, k.user_id, k.day,
    array(select jsonb_array_elements_text(k.cells->0)::bigint),
    array(select jsonb_array_elements_text(k.cells->1)::bigint),
    array(select jsonb_array_elements_text(k.cells->2)::bigint),
    array(select jsonb_array_elements_text(k.cells->3)::bigint)
from unnest($2::uuid[], $3::date[], $4::jsonb[]) as k(user_id, day, cells)
on conflict (tenant_id, user_id, day) do update set available_us = excluded.available_us,
    logged_in_us = excluded.logged_in_us, contacts_available = excluded.contacts_available,
    contacts_logged_in = excluded.contacts_logged_in
"#;

/// The hourly cells of a stored column, which holds their running sums
/// (element h = the sum of hours 0..=h), so that a reader takes any run of
/// hours as the difference of two elements.
fn cells(row: &sqlx::postgres::PgRow, column: &str) -> sqlx::Result<[i64; 24]> {
    let sums: Vec<i64> = row.try_get(column)?;
    let sums: [i64; 24] = sums.try_into().map_err(|v: Vec<i64>| {
        sqlx::Error::Decode(
            format!("presence_days.{column} holds {} cells, not 24", v.len()).into(),
        )
    })?;
    let mut hours = sums;
    for h in 1..24 {
        hours[h] = sums[h] - sums[h - 1];
    }
    Ok(hours)
}

/// The running sums of hourly cells, as stored.
pub fn running(hours: &[i64; 24]) -> [i64; 24] {
    let mut sums = *hours;
    for h in 1..24 {
        sums[h] += sums[h - 1];
    }
    sums
}

/// Applies the time deltas of `changed` and recounts the contacts of
/// `contact_days`, writing every (user, day) row either touches.
pub async fn apply(
    tx: &mut Transaction<'_, Postgres>,
    tenant_id: Uuid,
    changed: &[ChangedSpan],
    contact_days: &BTreeSet<(Uuid, NaiveDate)>,
) -> sqlx::Result<()> {
    let deltas = time_deltas(changed);
    let keys: BTreeSet<(Uuid, NaiveDate)> = deltas
        .keys()
        .copied()
        .chain(contact_days.iter().copied())
        .collect();
    if keys.is_empty() {
        return Ok(());
    }
    let users: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
    let dates: Vec<NaiveDate> = keys.iter().map(|k| k.1).collect();
    let mut days = Days::new();
    for row in sqlx::query(READ_DAYS)
        .bind(tenant_id)
        .bind(&users)
        .bind(&dates)
        .fetch_all(&mut **tx)
        .await?
    {
        days.insert(
            (row.try_get("user_id")?, row.try_get("day")?),
            DayCells {
                available_us: cells(&row, "available_us")?,
                logged_in_us: cells(&row, "logged_in_us")?,
                contacts_available: cells(&row, "contacts_available")?,
                contacts_logged_in: cells(&row, "contacts_logged_in")?,
            },
        );
    }
    for (key, delta) in &deltas {
        let day = days.entry(*key).or_default();
        for h in 0..24 {
            day.available_us[h] += delta.available_us[h];
            day.logged_in_us[h] += delta.logged_in_us[h];
        }
    }
    if !contact_days.is_empty() {
        let users: Vec<Uuid> = contact_days.iter().map(|k| k.0).collect();
        let dates: Vec<NaiveDate> = contact_days.iter().map(|k| k.1).collect();
        for key in contact_days {
            let day = days.entry(*key).or_default();
            day.contacts_available = [0; 24];
            day.contacts_logged_in = [0; 24];
        }
        for row in sqlx::query(COUNT_CONTACTS)
            .bind(tenant_id)
            .bind(&users)
            .bind(&dates)
            .fetch_all(&mut **tx)
            .await?
        {
            let key = (row.try_get("user_id")?, row.try_get("day")?);
            let hour: i32 = row.try_get("hour")?;
            let day = days.entry(key).or_default();
            let h = usize::try_from(hour).unwrap_or_default().min(23);
            day.contacts_available[h] = row.try_get("available")?;
            day.contacts_logged_in[h] = row.try_get("logged_in")?;
        }
    }
    let mut users = Vec::with_capacity(keys.len());
    let mut dates = Vec::with_capacity(keys.len());
    let mut values = Vec::with_capacity(keys.len());
    for key in &keys {
        let day = days.get(key).cloned().unwrap_or_default();
        users.push(key.0);
        dates.push(key.1);
        values.push(serde_json::json!([
            running(&day.available_us),
            running(&day.logged_in_us),
            running(&day.contacts_available),
            running(&day.contacts_logged_in)
        ]));
    }
    sqlx::query(WRITE_DAYS)
        .bind(tenant_id)
        .bind(&users)
        .bind(&dates)
        .bind(&values)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, h, m, 0)
            .single()
            .expect("instant")
    }

    #[test]
    fn a_span_is_cut_at_hours_and_days_and_a_split_moves_only_its_difference() {
        let user = Uuid::nil();
        let mut days = Days::new();
        add_span(
            &mut days,
            user,
            "Online",
            at(22, 30),
            at(23, 0) + Duration::hours(2),
            1,
        );
        let first = &days[&(user, at(0, 0).date_naive())];
        assert_eq!(first.available_us[22], 1_800_000_000);
        assert_eq!(first.available_us[23], 3_600_000_000);
        let second = &days[&(user, at(0, 0).date_naive() + Duration::days(1))];
        assert_eq!(second.logged_in_us[0], 3_600_000_000);
        // A late change at 23:15 shortens the span: the delta removes 23:15-01:00.
        let delta = time_deltas(&[ChangedSpan {
            user_id: user,
            state: "Online".into(),
            start: at(22, 30),
            old_end: Some(at(23, 0) + Duration::hours(2)),
            new_end: Some(at(23, 15)),
        }]);
        assert_eq!(
            delta[&(user, at(0, 0).date_naive())].available_us[23],
            -2_700_000_000
        );
        assert_eq!(delta[&(user, at(0, 0).date_naive())].available_us[22], 0);
        let mut away = Days::new();
        add_span(&mut away, user, "Away", at(1, 0), at(2, 0), 1);
        assert_eq!(away[&(user, at(0, 0).date_naive())].available_us[1], 0);
        assert_eq!(
            away[&(user, at(0, 0).date_naive())].logged_in_us[1],
            3_600_000_000
        );
        add_span(&mut away, user, "Offline", at(3, 0), at(4, 0), 1);
        assert_eq!(away[&(user, at(0, 0).date_naive())].logged_in_us[3], 0);
    }
}
