//! The scheduled two-way files (API.md §5.3): for each tenant, the flat
//! file of each finished period of its `twoWayFileSchedule`, in UTC — a
//! day, a Monday–Sunday week, or a calendar month (due on the first
//! Saturday of the next month) — written exactly once and never rewritten.
//!
//! Once: a file's period is unique per tenant and schedule (an insert that
//! meets an existing one does nothing), and writers of one tenant take a
//! transaction-level advisory lock, so a restart or a second process never
//! writes a period twice or builds a file another is building. A file is
//! the rows committed when it is written: an event arriving later is in the
//! listing and the export, not in the file.
//!
//! Where periods start: the first whole period of the tenant's current
//! schedule that starts at or after the end of its latest file (of any
//! schedule), or at or after its creation when it has none. So a change of
//! schedule applies from the next period of the new schedule, and no two
//! files overlap (the days between the last file of the old schedule and
//! the first whole period of the new one are in no file).

use std::time::Duration as StdDuration;

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, TimeZone, Utc, Weekday};
use futures::StreamExt;
use sqlx::PgPool;
use uuid::Uuid;

use super::activity::{decode, header, push_csv, ActivityQuery};
use crate::settings::FileSchedule;

/// How often the running service looks for periods to write.
pub const EVERY: StdDuration = StdDuration::from_secs(60);

/// One period of a schedule, `[from, to)` in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

fn midnight(date: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&date.and_time(chrono::NaiveTime::MIN))
}

/// The period of `schedule` that starts at `start` (a period boundary).
fn period_at(schedule: FileSchedule, start: NaiveDate) -> Period {
    let end = match schedule {
        FileSchedule::Daily => start + Days::new(1),
        FileSchedule::Weekly => start + Days::new(7),
        FileSchedule::Monthly => start + Months::new(1),
    };
    Period {
        from: midnight(start),
        to: midnight(end),
    }
}

/// The first whole period of `schedule` that starts at or after `at`.
pub fn first_period(schedule: FileSchedule, at: DateTime<Utc>) -> Period {
    let day = at.date_naive();
    let day = if midnight(day) < at {
        day + Days::new(1)
    } else {
        day
    };
    let start = match schedule {
        FileSchedule::Daily => day,
        FileSchedule::Weekly => {
            let ahead = (7 - day.weekday().num_days_from_monday()) % 7;
            day + Days::new(u64::from(ahead))
        }
        FileSchedule::Monthly if day.day() == 1 => day,
        FileSchedule::Monthly => day.with_day(1).unwrap_or(day) + Months::new(1),
    };
    period_at(schedule, start)
}

/// The period after `period`.
pub fn next_period(schedule: FileSchedule, period: Period) -> Period {
    period_at(schedule, period.to.date_naive())
}

/// When a period's file is due: at its end; a month's on the first
/// Saturday of the next month (00:00 UTC), which is its first day when
/// that is a Saturday.
pub fn due(schedule: FileSchedule, period: Period) -> DateTime<Utc> {
    match schedule {
        FileSchedule::Daily | FileSchedule::Weekly => period.to,
        FileSchedule::Monthly => {
            let first = period.to.date_naive();
            let ahead = (Weekday::Sat.num_days_from_monday() + 7
                - first.weekday().num_days_from_monday())
                % 7;
            midnight(first + Days::new(u64::from(ahead)))
        }
    }
}

fn schedule_name(schedule: FileSchedule) -> &'static str {
    match schedule {
        FileSchedule::Daily => "Daily",
        FileSchedule::Weekly => "Weekly",
        FileSchedule::Monthly => "Monthly",
    }
}

/// The tenants with their creation, stored schedule and latest file end.
const TENANTS: &str = "select t.tenant_id, t.created_at, s.settings->>'twoWayFileSchedule', \
    (select max(f.period_to) from twoway_files f where f.tenant_id = t.tenant_id) \
    from tenants t left join tenant_settings s on s.tenant_id = t.tenant_id \
    order by t.tenant_id";

/// Writes every file due at `now` that is not written yet, for every
/// tenant; answers how many this call wrote. Safe to call from several
/// tasks or processes at once, and again after a restart. A tenant whose
/// file fails is left for the next call (its later periods wait, so files
/// stay in order) and the others go on; the first failure is returned.
pub async fn write_due(pool: &PgPool, now: DateTime<Utc>) -> sqlx::Result<u64> {
    type TenantRow = (Uuid, DateTime<Utc>, Option<String>, Option<DateTime<Utc>>);
    let tenants: Vec<TenantRow> = sqlx::query_as(TENANTS).fetch_all(pool).await?;
    let mut written = 0;
    let mut failure = None;
    for (tenant_id, created_at, schedule, last_end) in tenants {
        match write_due_for(pool, now, tenant_id, created_at, schedule, last_end).await {
            Ok(n) => written += n,
            Err(error) => {
                tracing::warn!(tenant = %tenant_id, %error, "a two-way file failed; retried next round");
                failure.get_or_insert(error);
            }
        }
    }
    match failure {
        Some(error) => Err(error),
        None => Ok(written),
    }
}

/// [`write_due`] for one tenant.
async fn write_due_for(
    pool: &PgPool,
    now: DateTime<Utc>,
    tenant_id: Uuid,
    created_at: DateTime<Utc>,
    schedule: Option<String>,
    last_end: Option<DateTime<Utc>>,
) -> sqlx::Result<u64> {
    let schedule = match schedule.as_deref() {
        Some("Weekly") => FileSchedule::Weekly,
        Some("Monthly") => FileSchedule::Monthly,
        _ => FileSchedule::Daily,
    };
    let start = last_end.map_or(created_at, |end| end.max(created_at));
    let mut period = first_period(schedule, start);
    let mut written = 0;
    while due(schedule, period) <= now {
        if write_file(pool, tenant_id, schedule, period).await? {
            written += 1;
        }
        period = next_period(schedule, period);
    }
    Ok(written)
}

/// Writes one period's file unless it exists; answers whether it wrote.
pub async fn write_file(
    pool: &PgPool,
    tenant_id: Uuid,
    schedule: FileSchedule,
    period: Period,
) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    // One writer per tenant at a time, across processes.
    sqlx::query("select pg_advisory_xact_lock(hashtextextended($1::text, 5303))")
        .bind(tenant_id)
        .execute(&mut *tx)
        .await?;
    // A month of events may take longer than a request's statement timeout.
    sqlx::query("set local statement_timeout = '600s'")
        .execute(&mut *tx)
        .await?;
    let exists: bool = sqlx::query_scalar(
        "select exists(select 1 from twoway_files where tenant_id = $1 and schedule = $2 \
         and period_from = $3 and period_to = $4)",
    )
    .bind(tenant_id)
    .bind(schedule_name(schedule))
    .bind(period.from)
    .bind(period.to)
    .fetch_one(&mut *tx)
    .await?;
    if exists {
        return Ok(false);
    }
    let query = ActivityQuery {
        from: period.from,
        to: period.to,
    };
    let mut csv = header();
    let mut rows: i64 = 0;
    {
        let mut qb = query.build(tenant_id, None);
        let mut stream = qb.build().fetch(&mut *tx);
        while let Some(row) = stream.next().await {
            push_csv(&decode(&row?)?, &mut csv);
            rows += 1;
        }
    }
    let bytes = csv.into_bytes();
    let inserted = sqlx::query(
        "insert into twoway_files (tenant_id, file_id, schedule, period_from, period_to, csv, \
         rows, bytes) values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict do nothing",
    )
    .bind(tenant_id)
    .bind(Uuid::new_v4())
    .bind(schedule_name(schedule))
    .bind(period.from)
    .bind(period.to)
    .bind(&bytes)
    .bind(rows)
    .bind(bytes.len() as i64)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    tx.commit().await?;
    if inserted {
        tracing::info!(tenant = %tenant_id, schedule = schedule_name(schedule),
            from = %period.from, rows, "two-way file written");
    }
    Ok(inserted)
}

/// Writes the due files every [`EVERY`] for as long as the service runs
/// (first at once); errors are logged and the next round retries.
pub async fn run(pool: PgPool) {
    let mut ticker = tokio::time::interval(EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if let Err(error) = write_due(&pool, Utc::now()).await {
            tracing::warn!(%error, "writing the two-way files failed; the next round retries");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("an instant")
    }

    #[test]
    fn periods_start_at_the_first_whole_one_after_the_start() {
        use FileSchedule::*;
        let created = at("2026-07-15T10:00:00Z");
        let day = first_period(Daily, created);
        assert_eq!(
            (day.from, day.to),
            (at("2026-07-16T00:00:00Z"), at("2026-07-17T00:00:00Z"))
        );
        // 15 July 2026 is a Wednesday: the first whole week starts Monday 20th.
        let week = first_period(Weekly, created);
        assert_eq!(
            (week.from, week.to),
            (at("2026-07-20T00:00:00Z"), at("2026-07-27T00:00:00Z"))
        );
        let month = first_period(Monthly, created);
        assert_eq!(
            (month.from, month.to),
            (at("2026-08-01T00:00:00Z"), at("2026-09-01T00:00:00Z"))
        );
        // A start on a boundary is that period's.
        assert_eq!(first_period(Monthly, at("2026-08-01T00:00:00Z")), month);
        assert_eq!(first_period(Weekly, at("2026-07-20T00:00:00Z")), week);
        assert_eq!(next_period(Monthly, month).to, at("2026-10-01T00:00:00Z"));
    }

    #[test]
    fn a_month_is_due_on_the_first_saturday_of_the_next() {
        use FileSchedule::*;
        // July 2026 → 1 August 2026 is itself a Saturday.
        let july = first_period(Monthly, at("2026-07-01T00:00:00Z"));
        assert_eq!(due(Monthly, july), at("2026-08-01T00:00:00Z"));
        // August 2026 → 1 September is a Tuesday; the Saturday is the 5th.
        let august = next_period(Monthly, july);
        assert_eq!(due(Monthly, august), at("2026-09-05T00:00:00Z"));
        let day = first_period(Daily, at("2026-07-01T00:00:00Z"));
        assert_eq!(due(Daily, day), day.to);
    }
}
