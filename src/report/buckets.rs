//! Calendar buckets in an IANA zone: hours (as instants), days, ISO weeks
//! and months, across DST changes.

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;

use crate::domain::Granularity;

/// Seconds of the UTC rollup grains.
pub const HOUR: i64 = 3600;
pub const DAY: i64 = 86_400;

/// `t` rounded down to a multiple of `unit` seconds since the epoch (for
/// hours and days: the UTC hour or day holding it).
pub fn floor_to(t: DateTime<Utc>, unit: i64) -> DateTime<Utc> {
    let secs = t.timestamp();
    Utc.timestamp_opt(secs - secs.rem_euclid(unit), 0)
        .single()
        .unwrap_or(t)
}

/// One bucket: `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// The first instant at or after local `naive` in `tz`: the earlier of two
/// when the local time is repeated, the end of the gap when it is skipped.
fn first_instant_at_or_after(tz: Tz, naive: NaiveDateTime) -> DateTime<Utc> {
    let mut probe = naive;
    // Gaps are at most a few hours; step in 15-minute increments (every
    // current offset is a multiple of 15 minutes).
    for _ in 0..(4 * 24) {
        match tz.from_local_datetime(&probe) {
            LocalResult::Single(t) => return t.with_timezone(&Utc),
            LocalResult::Ambiguous(a, b) => return a.min(b).with_timezone(&Utc),
            LocalResult::None => probe += Duration::minutes(15),
        }
    }
    Utc.from_utc_datetime(&naive)
}

fn start_of_day(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    first_instant_at_or_after(tz, date.and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// The local calendar date that starts the bucket of `granularity` holding `date`.
fn period_start_date(granularity: Granularity, date: NaiveDate) -> NaiveDate {
    match granularity {
        Granularity::Hour | Granularity::Day => date,
        Granularity::Week => date - Duration::days(date.weekday().num_days_from_monday() as i64),
        Granularity::Month => date.with_day(1).unwrap_or(date),
    }
}

fn next_period_date(granularity: Granularity, date: NaiveDate) -> NaiveDate {
    match granularity {
        Granularity::Hour | Granularity::Day => date + Duration::days(1),
        Granularity::Week => date + Duration::days(7),
        Granularity::Month => date
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(date + Duration::days(31)),
    }
}

/// The start of the hour bucket holding `t`: `t` with its local minutes and
/// seconds taken off under `t`'s own offset, so a repeated hour (clocks going
/// back) yields two distinct buckets.
fn hour_start(tz: Tz, t: DateTime<Utc>) -> DateTime<Utc> {
    let local = t.with_timezone(&tz);
    t - Duration::seconds(i64::from(local.minute()) * 60 + i64::from(local.second()))
        - Duration::nanoseconds(i64::from(local.nanosecond()))
}

/// The start of the bucket holding instant `t`.
fn bucket_start(granularity: Granularity, tz: Tz, t: DateTime<Utc>) -> DateTime<Utc> {
    match granularity {
        Granularity::Hour => hour_start(tz, t),
        _ => {
            let date = t.with_timezone(&tz).date_naive();
            start_of_day(tz, period_start_date(granularity, date))
        }
    }
}

/// The end of the bucket that starts at `start`.
fn bucket_end(granularity: Granularity, tz: Tz, start: DateTime<Utc>) -> DateTime<Utc> {
    match granularity {
        Granularity::Hour => {
            // The next instant on a local hour: an hour of elapsed time later
            // for whole-hour offset changes; for a 30-minute change (Lord
            // Howe) the hour that straddles it, if it ends on a local hour,
            // else a plain hour of elapsed time.
            let next = start + Duration::hours(1);
            let on_the_hour = |t: DateTime<Utc>| {
                let local = t.with_timezone(&tz);
                local.minute() == 0 && local.second() == 0
            };
            let aligned = hour_start(tz, next);
            if on_the_hour(next) || aligned <= start || !on_the_hour(aligned) {
                next
            } else {
                aligned
            }
        }
        _ => {
            let date = start.with_timezone(&tz).date_naive();
            start_of_day(
                tz,
                next_period_date(granularity, period_start_date(granularity, date)),
            )
        }
    }
}

/// Every bucket from the one holding `from` to the one holding the last
/// instant before `to`, in order, not clipped to the range.
pub fn buckets(
    granularity: Granularity,
    tz: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<Bucket> {
    let mut out = Vec::new();
    if to <= from {
        return out;
    }
    let last = to - Duration::nanoseconds(1);
    let mut start = bucket_start(granularity, tz, from);
    while start <= last {
        let end = bucket_end(granularity, tz, start);
        out.push(Bucket { start, end });
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .expect("valid instant")
    }

    #[test]
    fn berlin_spring_forward_day_has_23_hours_and_23_hour_buckets() {
        let tz: Tz = "Europe/Berlin".parse().expect("zone");
        let days = buckets(
            Granularity::Day,
            tz,
            utc("2026-03-28T23:00:00Z"),
            utc("2026-03-29T22:00:00Z"),
        );
        assert_eq!(days.len(), 1);
        assert_eq!(days[0].end - days[0].start, Duration::hours(23));
        let hours = buckets(
            Granularity::Hour,
            tz,
            utc("2026-03-28T23:00:00Z"),
            utc("2026-03-29T22:00:00Z"),
        );
        assert_eq!(hours.len(), 23);
    }

    #[test]
    fn berlin_fall_back_day_has_25_hour_buckets() {
        let tz: Tz = "Europe/Berlin".parse().expect("zone");
        let hours = buckets(
            Granularity::Hour,
            tz,
            utc("2026-10-24T22:00:00Z"),
            utc("2026-10-25T23:00:00Z"),
        );
        assert_eq!(hours.len(), 25);
        // The repeated 02:00 local hour is two buckets: 00:00Z and 01:00Z.
        assert_eq!(hours[2].start, utc("2026-10-25T00:00:00Z"));
        assert_eq!(hours[3].start, utc("2026-10-25T01:00:00Z"));
    }

    #[test]
    fn kathmandu_hours_start_at_quarter_past() {
        let tz: Tz = "Asia/Kathmandu".parse().expect("zone");
        let hours = buckets(
            Granularity::Hour,
            tz,
            utc("2026-01-01T00:00:00Z"),
            utc("2026-01-01T02:00:00Z"),
        );
        assert_eq!(hours[0].start, utc("2025-12-31T23:15:00Z"));
        assert_eq!(hours.len(), 3);
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        let tz: Tz = "Asia/Kolkata".parse().expect("zone");
        let weeks = buckets(
            Granularity::Week,
            tz,
            utc("2026-03-04T00:00:00Z"),
            utc("2026-03-10T00:00:00Z"),
        );
        assert_eq!(weeks[0].start, utc("2026-03-01T18:30:00Z"));
        assert_eq!(weeks.len(), 2);
        let months = buckets(
            Granularity::Month,
            tz,
            utc("2026-01-15T00:00:00Z"),
            utc("2026-03-01T00:00:00Z"),
        );
        assert_eq!(months.len(), 3);
        assert_eq!(months[1].start, utc("2026-01-31T18:30:00Z"));
    }

    #[test]
    fn lord_howe_half_hour_shift_keeps_the_range_inside_its_hours() {
        // 2024-10-06 02:00 +10:30 becomes 02:30 +11:00: the hour from 01:00
        // lasts until 02:30 local.
        let tz: Tz = "Australia/Lord_Howe".parse().expect("zone");
        let from = utc("2024-10-05T15:00:00Z");
        let hours = buckets(Granularity::Hour, tz, from, from + Duration::minutes(1));
        assert_eq!(
            hours,
            vec![Bucket {
                start: utc("2024-10-05T14:30:00Z"),
                end: utc("2024-10-05T15:30:00Z")
            }]
        );
    }

    #[test]
    fn havana_repeated_midnight_day_starts_at_the_first_midnight() {
        // 2026-11-01 01:00 CDT (05:00Z) falls back to 00:00 CST: local
        // midnight happens twice, at 04:00Z and 05:00Z; the day starts at the first.
        let tz: Tz = "America/Havana".parse().expect("zone");
        let days = buckets(
            Granularity::Day,
            tz,
            utc("2026-11-01T12:00:00Z"),
            utc("2026-11-01T13:00:00Z"),
        );
        assert_eq!(
            days,
            vec![Bucket {
                start: utc("2026-11-01T04:00:00Z"),
                end: utc("2026-11-02T05:00:00Z")
            }]
        );
    }

    proptest! {
        /// Buckets tile the range with no gap or overlap, every boundary is a
        /// local calendar boundary, and the first and last hold the range ends.
        #[test]
        fn buckets_tile_the_range(
            zone in prop::sample::select(vec!["UTC", "Europe/Berlin", "Asia/Kolkata", "Asia/Kathmandu",
                "America/New_York", "Australia/Lord_Howe", "America/Santiago", "Pacific/Chatham",
                "America/Havana", "Asia/Beirut"]),
            granularity in prop::sample::select(Granularity::ALL.to_vec()),
            start in 1_700_000_000i64..1_900_000_000i64,
            minutes in 1i64..(60 * 24 * 40),
        ) {
            let tz: Tz = zone.parse().expect("zone");
            let from = Utc.timestamp_opt(start, 0).single().expect("instant");
            let to = from + Duration::minutes(minutes);
            let list = buckets(granularity, tz, from, to);
            prop_assert!(!list.is_empty());
            prop_assert!(list[0].start <= from && from < list[0].end);
            let last = list[list.len() - 1];
            prop_assert!(last.start < to && to <= last.end);
            for pair in list.windows(2) {
                prop_assert_eq!(pair[0].end, pair[1].start);
            }
            for b in &list {
                prop_assert!(b.start < b.end);
                let local = b.start.with_timezone(&tz);
                if granularity == Granularity::Hour {
                    // Lord Howe shifts by 30 minutes: its hours may start on the half hour.
                    prop_assert!(local.minute() == 0 || zone == "Australia/Lord_Howe");
                    continue;
                }
                // Day, week and month buckets start and end at the first
                // instant of a local day (local midnight, or the end of a gap
                // that swallows it): the instant just before has an earlier
                // local date. Checked without the code under test.
                for edge in [b.start, b.end] {
                    let date = edge.with_timezone(&tz).date_naive();
                    let before = (edge - Duration::nanoseconds(1)).with_timezone(&tz).date_naive();
                    prop_assert!(before < date, "{} is not the first instant of {} in {}", edge, date, zone);
                }
                let start = local.date_naive();
                let end = b.end.with_timezone(&tz).date_naive();
                match granularity {
                    Granularity::Day => prop_assert_eq!(end, start + Duration::days(1)),
                    Granularity::Week => {
                        prop_assert_eq!(start.weekday(), chrono::Weekday::Mon, "{} in {}", b.start, zone);
                        prop_assert_eq!(end, start + Duration::days(7));
                    }
                    Granularity::Month => {
                        prop_assert_eq!(start.day(), 1, "{} in {}", b.start, zone);
                        prop_assert_eq!(end.day(), 1);
                        prop_assert_eq!(
                            (end.year() * 12 + end.month0() as i32) - (start.year() * 12 + start.month0() as i32),
                            1
                        );
                    }
                    Granularity::Hour => unreachable!("handled above"),
                }
            }
        }
    }
}
