//! Calendar buckets for the model, found by searching instants rather than
//! by the service's arithmetic. An hour bucket runs from an instant at
//! which the local clock reads a whole hour to the next such instant (so
//! the repeated hour is two buckets and the skipped hour none; where the
//! clock jumps past an hour mark without reading it, as Chatham's at 02:45,
//! the bucket runs on to the next hour the clock reads). Day, week and
//! month buckets are maximal runs of instants with the same local date,
//! ISO week or month.

use chrono::{DateTime, Datelike, Duration, NaiveDate, SecondsFormat, Timelike, Utc};
use chrono_tz::Tz;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grain {
    Hour,
    Day,
    Week,
    Month,
}

impl Grain {
    pub fn name(self) -> &'static str {
        match self {
            Self::Hour => "Hour",
            Self::Day => "Day",
            Self::Week => "Week",
            Self::Month => "Month",
        }
    }
}

/// Whether the local clock reads a whole hour at `t`.
fn on_the_hour(tz: Tz, t: DateTime<Utc>) -> bool {
    let local = t.with_timezone(&tz);
    local.minute() == 0 && local.second() == 0 && t.nanosecond() == 0
}

/// The hour bucket holding `t`: whole-hour readings of the clock before
/// and after (offsets are whole minutes, so a minute walk finds them).
fn hour_bucket(tz: Tz, t: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let minute = t
        .with_second(0)
        .and_then(|m| m.with_nanosecond(0))
        .expect("minute");
    let mut start = minute;
    while !on_the_hour(tz, start) {
        start -= Duration::minutes(1);
    }
    let mut end = start + Duration::minutes(1);
    while !on_the_hour(tz, end) {
        end += Duration::minutes(1);
    }
    (start, end)
}

/// The label of the bucket holding `t`: equal labels, same bucket.
fn label(grain: Grain, tz: Tz, t: DateTime<Utc>) -> (NaiveDate, i64) {
    let date = t.with_timezone(&tz).date_naive();
    match grain {
        Grain::Hour => unreachable!("hour buckets are not labelled runs"),
        Grain::Day => (date, 0),
        Grain::Week => (
            date - Duration::days(i64::from(date.weekday().num_days_from_monday())),
            0,
        ),
        Grain::Month => (date.with_day(1).expect("day 1"), 0),
    }
}

/// The first whole second of `lo..=hi` at which `inside` turns from false
/// to true (`inside(lo)` false, `inside(hi)` true; bounds fall on whole
/// seconds, so the search runs on whole seconds).
fn first_second(
    lo: DateTime<Utc>,
    hi: DateTime<Utc>,
    inside: impl Fn(DateTime<Utc>) -> bool,
) -> DateTime<Utc> {
    let at = |s: i64| DateTime::<Utc>::from_timestamp(s, 0).expect("instant");
    let (mut lo, mut hi) = (lo.timestamp(), hi.timestamp());
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if inside(at(mid)) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    at(hi)
}

/// The first instant of the run of instants labelled like `t`.
fn run_start(grain: Grain, tz: Tz, t: DateTime<Utc>) -> DateTime<Utc> {
    let want = label(grain, tz, t);
    let span = match grain {
        Grain::Hour | Grain::Day => Duration::days(2),
        Grain::Week => Duration::days(8),
        Grain::Month => Duration::days(32),
    };
    first_second(t - span, t, |s| label(grain, tz, s) == want)
}

/// The first instant after the run starting at `start` (a whole second).
fn run_end(grain: Grain, tz: Tz, start: DateTime<Utc>) -> DateTime<Utc> {
    let want = label(grain, tz, start);
    let step = Duration::hours(6);
    let mut t = start;
    // Walk forward coarsely, then search the change exactly.
    while label(grain, tz, t + step) == want {
        t += step;
    }
    first_second(t, t + step, |s| label(grain, tz, s) != want)
}

/// Every bucket from the one holding `from` to the one holding the last
/// instant before `to`.
pub fn buckets(
    grain: Grain,
    tz: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut out = Vec::new();
    let bucket = |t: DateTime<Utc>| match grain {
        Grain::Hour => hour_bucket(tz, t),
        _ => {
            let start = run_start(grain, tz, t);
            (start, run_end(grain, tz, start))
        }
    };
    let mut start = bucket(from).0;
    while start < to {
        let end = bucket(start).1;
        out.push((start, end));
        start = end;
    }
    out
}

/// An instant written in the zone's offset at that instant.
pub fn written(tz: Tz, t: DateTime<Utc>) -> String {
    t.with_timezone(&tz)
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}
