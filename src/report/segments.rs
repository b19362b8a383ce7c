//! How the rollup readers (counts, live conversations, durations) cover a
//! request's range with rollup rows: each bucket clipped to `[from, to)`
//! becomes signed segments, each read at one grain. A piece of a bucket
//! inside one week, day or hour is read either directly at finer grains or
//! as that whole period minus the rest of it, whichever reads fewer rows:
//! a Berlin day is UTC day D plus hours 22–23 of D − 1 minus hours 22–23 of
//! D (5 rows instead of 24), and a 31-day range is a few weeks and days.
//! Rollup values are sums (counts, duration sums and bin counts), so a
//! subtracted row takes its part away exactly; deltas not yet folded are
//! read per segment with the same sign, so they cancel the same way.

use chrono::{DateTime, Utc};
use sqlx::{Postgres, QueryBuilder};

use super::buckets::{floor_to, DAY, HOUR};

/// The finest segment: every current UTC offset is a multiple of it.
pub(crate) const QUARTER: i64 = 15 * 60;

/// Seven days, aligned to 1970-01-01 (a Thursday), as the fold bins them
/// (`date_bin(interval '7 days', …, timestamptz '1970-01-01 00:00:00+00')`).
pub(crate) const WEEK: i64 = 7 * DAY;

/// The grains, coarsest first: (grain code as stored, length in seconds).
/// Grain 0 is not stored: quarter hours are read from the raw rows.
const GRAINS: [(i16, i64); 4] = [(3, WEEK), (2, DAY), (1, HOUR), (0, QUARTER)];

/// Rows a quarter hour read from raw rows is worth: its events, against
/// one rollup row per key for any stored period.
const RAW_WEIGHT: i64 = 4;

/// A part of one bucket read at one grain, added or (sign −1) subtracted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// 0 quarter hours (raw rows), 1 hours, 2 days, 3 weeks.
    pub grain: i16,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The bucket it counts for (0 without buckets).
    pub bucket: i32,
    pub sign: i16,
}

fn ceil_to(t: DateTime<Utc>, unit: i64) -> DateTime<Utc> {
    let floor = floor_to(t, unit);
    if floor == t {
        t
    } else {
        floor + chrono::Duration::seconds(unit)
    }
}

/// (grain, start, end, sign) before the bucket is known.
type Piece = (i16, DateTime<Utc>, DateTime<Utc>, i16);

/// Rows per key `pieces` read.
fn cost(pieces: &[Piece]) -> i64 {
    pieces
        .iter()
        .map(|&(grain, s, e, _)| {
            let (_, unit) = GRAINS[GRAINS.len() - 1 - grain as usize];
            let n = (e - s).num_seconds() / unit;
            if grain == 0 {
                n * RAW_WEIGHT
            } else {
                n
            }
        })
        .sum()
}

/// Covers `[s, e)` (on quarter hours) from the grain at `level` of
/// [`GRAINS`] down: the whole periods inside at that grain, the edges by
/// [`edge`].
fn split(s: DateTime<Utc>, e: DateTime<Utc>, level: usize, sign: i16, out: &mut Vec<Piece>) {
    if s >= e {
        return;
    }
    let (grain, unit) = GRAINS[level];
    if grain == 0 {
        out.push((0, s, e, sign));
        return;
    }
    let (inner_start, inner_end) = (ceil_to(s, unit), floor_to(e, unit));
    if inner_start < inner_end {
        edge(s, inner_start, level, sign, out);
        out.push((grain, inner_start, inner_end, sign));
        edge(inner_end, e, level, sign, out);
    } else if inner_start == inner_end && s < inner_start && inner_start < e {
        // Across one boundary: a piece in each period.
        edge(s, inner_start, level, sign, out);
        edge(inner_start, e, level, sign, out);
    } else {
        edge(s, e, level, sign, out);
    }
}

/// Covers `[a, b)`, inside one period of the grain at `level`: at the finer
/// grains, or as the whole period minus the rest of it when that reads
/// fewer rows (only tried when the piece is at least half the period).
fn edge(a: DateTime<Utc>, b: DateTime<Utc>, level: usize, sign: i16, out: &mut Vec<Piece>) {
    if a >= b {
        return;
    }
    let mut direct = Vec::new();
    split(a, b, level + 1, sign, &mut direct);
    let (grain, unit) = GRAINS[level];
    if 2 * (b - a).num_seconds() >= unit {
        let start = floor_to(a, unit);
        let end = start + chrono::Duration::seconds(unit);
        let mut whole = vec![(grain, start, end, sign)];
        split(start, a, level + 1, -sign, &mut whole);
        split(b, end, level + 1, -sign, &mut whole);
        if cost(&whole) < cost(&direct) {
            out.extend(whole);
            return;
        }
    }
    out.extend(direct);
}

/// The segments of a request: each bucket (or the whole range) clipped to
/// `[from, to)` (on quarter hours) and covered by [`split`]. Within a
/// bucket, the added segments tile it and each subtracted one lies inside
/// an added one of a coarser grain, outside the bucket's range.
pub fn segments(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    bounds: Option<&[DateTime<Utc>]>,
) -> Vec<Segment> {
    let ranges: Vec<(DateTime<Utc>, DateTime<Utc>)> = match bounds {
        Some(bounds) => bounds
            .windows(2)
            .map(|w| (w[0].max(from), w[1].min(to)))
            .collect(),
        None => vec![(from, to)],
    };
    let mut out = Vec::new();
    for (bucket, (s, e)) in ranges.into_iter().enumerate() {
        let mut pieces = Vec::new();
        split(s, e, 0, 1, &mut pieces);
        let bucket = i32::try_from(bucket).unwrap_or(i32::MAX);
        out.extend(pieces.into_iter().map(|(grain, start, end, sign)| Segment {
            grain,
            start,
            end,
            bucket,
            sign,
        }));
    }
    out
}

/// `from` the segments as rows `seg(grain, s, e, b, sign)`, for a lateral
/// scan each; the reader selects `seg.b` as the bucket and multiplies every
/// summed value by `seg.sign`.
pub(crate) fn push_segments(qb: &mut QueryBuilder<'_, Postgres>, segments: &[Segment]) {
    let grains: Vec<i16> = segments.iter().map(|s| s.grain).collect();
    let starts: Vec<DateTime<Utc>> = segments.iter().map(|s| s.start).collect();
    let ends: Vec<DateTime<Utc>> = segments.iter().map(|s| s.end).collect();
    let buckets: Vec<i32> = segments.iter().map(|s| s.bucket).collect();
    let signs: Vec<i16> = segments.iter().map(|s| s.sign).collect();
    qb.push(" from unnest(")
        .push_bind(grains)
        .push("::smallint[], ")
        .push_bind(starts)
        .push("::timestamptz[], ")
        .push_bind(ends)
        .push("::timestamptz[], ")
        .push_bind(buckets)
        .push("::int[], ")
        .push_bind(signs)
        .push("::smallint[]) as seg(grain, s, e, b, sign)");
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    fn short(list: &[Segment]) -> Vec<(i16, String, String, i16)> {
        list.iter()
            .map(|s| {
                (
                    s.grain,
                    s.start.format("%m-%d %H:%M").to_string(),
                    s.end.format("%m-%d %H:%M").to_string(),
                    s.sign,
                )
            })
            .collect()
    }

    /// A Berlin day is its UTC day, plus the two hours before it, minus its
    /// own last two hours: five rows instead of 24.
    #[test]
    fn a_berlin_day_is_a_utc_day_shifted_by_two_hours() {
        let bounds = [at("2026-10-06T22:00:00Z"), at("2026-10-07T22:00:00Z")];
        let list = segments(bounds[0], bounds[1], Some(&bounds[..]));
        assert_eq!(
            short(&list),
            vec![
                (1, "10-06 22:00".into(), "10-07 00:00".into(), 1),
                (2, "10-07 00:00".into(), "10-08 00:00".into(), 1),
                (1, "10-07 22:00".into(), "10-08 00:00".into(), -1),
            ]
        );
    }

    /// The bench's 31 days: weeks and days, not 31 days.
    #[test]
    fn thirty_one_days_read_weeks() {
        let list = segments(at("2026-09-30T00:00:00Z"), at("2026-10-31T00:00:00Z"), None);
        let rows: i64 = list
            .iter()
            .map(|s| (s.end - s.start).num_seconds() / [QUARTER, HOUR, DAY, WEEK][s.grain as usize])
            .sum();
        assert!(rows <= 10, "{:?}", short(&list));
    }

    /// A +05:45 hour bucket: the UTC hour minus its first quarter, plus the
    /// next hour's first quarter: two raw quarters rather than four.
    #[test]
    fn a_quarter_hour_zone_reads_whole_hours_where_it_can() {
        let bounds = [at("2026-01-01T18:15:00Z"), at("2026-01-01T19:15:00Z")];
        let list = segments(bounds[0], bounds[1], Some(&bounds[..]));
        assert_eq!(
            short(&list),
            vec![
                (1, "01-01 18:00".into(), "01-01 19:00".into(), 1),
                (0, "01-01 18:00".into(), "01-01 18:15".into(), -1),
                (0, "01-01 19:00".into(), "01-01 19:15".into(), 1),
            ]
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Within each bucket, the signed segments add up to exactly the
        /// bucket's part of the range, each on its grain's boundaries.
        #[test]
        fn segments_count_every_quarter_of_the_range_once(
            start in 0i64..200_000, quarters in 1i64..20_000, cut in 1i64..200
        ) {
            let base = Utc.timestamp_opt(1_767_225_600, 0).single().expect("t");
            let from = base + chrono::Duration::seconds(start * QUARTER);
            let to = from + chrono::Duration::seconds(quarters * QUARTER);
            let middle = from + chrono::Duration::seconds((cut % quarters) * QUARTER);
            let bounds = [from - chrono::Duration::hours(1), middle, to + chrono::Duration::hours(1)];
            for bounds in [None, Some(&bounds[..])] {
                let list = segments(from, to, bounds);
                // Net count of each quarter hour per bucket.
                let mut net = std::collections::BTreeMap::<(i32, i64), i64>::new();
                for s in &list {
                    let unit = [QUARTER, HOUR, DAY, WEEK][s.grain as usize];
                    prop_assert!(s.start < s.end);
                    prop_assert_eq!(floor_to(s.start, unit), s.start);
                    prop_assert_eq!(floor_to(s.end, unit), s.end);
                    let mut q = s.start.timestamp();
                    while q < s.end.timestamp() {
                        *net.entry((s.bucket, q)).or_default() += i64::from(s.sign);
                        q += QUARTER;
                    }
                }
                net.retain(|_, n| *n != 0);
                let ranges: Vec<(DateTime<Utc>, DateTime<Utc>)> = match bounds {
                    Some(b) => b.windows(2).map(|w| (w[0].max(from), w[1].min(to))).collect(),
                    None => vec![(from, to)],
                };
                let mut want = std::collections::BTreeMap::<(i32, i64), i64>::new();
                for (i, (s, e)) in ranges.iter().enumerate() {
                    let mut q = s.timestamp();
                    while q < e.timestamp() {
                        want.insert((i as i32, q), 1);
                        q += QUARTER;
                    }
                }
                prop_assert_eq!(net, want);
            }
        }
    }
}
