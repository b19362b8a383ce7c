//! An answer as cells (group × bucket → statistics), read from the service's
//! JSON or from SQL rows, and compared cell by cell.

use std::collections::BTreeMap;
use std::fmt;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::Row;

use crate::dataset::rfc3339;
use crate::questions::{Metric, Question};

/// A cell's place: the group key ("" when ungrouped) and the bucket's start
/// (when bucketed).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Place {
    group: String,
    bucket: Option<DateTime<Utc>>,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if !self.group.is_empty() {
            parts.push(format!("group {}", self.group));
        }
        if let Some(bucket) = self.bucket {
            parts.push(format!("bucket {}", rfc3339(bucket)));
        }
        match parts.is_empty() {
            true => f.write_str("the total"),
            false => f.write_str(&parts.join(", ")),
        }
    }
}

/// A cell's statistics: the count, and for durations the rest in seconds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    pub count: i64,
    /// average, min, max, p50, p90 (durations only).
    pub seconds: [Option<f64>; 5],
}

const SECONDS: [&str; 5] = ["average", "min", "max", "p50", "p90"];

/// Every cell of one answer.
#[derive(Debug, Default)]
pub struct Cells(BTreeMap<Place, Stats>);

impl Cells {
    /// The sum of the counts.
    pub fn total(&self) -> i64 {
        self.0.values().map(|s| s.count).sum()
    }

    /// The cells of a service answer of the question's shape (API.md §4:
    /// `{…M}`, `{"buckets"}`, `{"groups"}`, `{"groups":[{"buckets"}]}`).
    pub fn from_json(question: &Question, answer: &Value) -> Result<Self> {
        let mut cells = Cells::default();
        let groups: Vec<(String, &Value)> = if question.grouped {
            let groups = answer["groups"].as_array().context("no `groups`")?;
            let key = |g: &Value| {
                g["key"]
                    .as_str()
                    .map(str::to_owned)
                    .context("group without `key`")
            };
            groups
                .iter()
                .map(|g| Ok((key(g)?, g)))
                .collect::<Result<_>>()?
        } else {
            vec![(String::new(), answer)]
        };
        for (group, value) in groups {
            if !question.bucketed {
                let place = Place {
                    group,
                    bucket: None,
                };
                cells.insert(place, stats_from_json(question.metric, value)?)?;
                continue;
            }
            for bucket in value["buckets"].as_array().context("no `buckets`")? {
                let start = bucket["start"].as_str().context("bucket without `start`")?;
                let start = DateTime::parse_from_rfc3339(start)?.with_timezone(&Utc);
                let place = Place {
                    group: group.clone(),
                    bucket: Some(start),
                };
                cells.insert(place, stats_from_json(question.metric, bucket)?)?;
            }
        }
        Ok(cells)
    }

    /// The cells of the question's SQL rows (see [`Question`]).
    pub fn from_rows(question: &Question, rows: &[PgRow]) -> Result<Self> {
        let mut cells = Cells::default();
        for row in rows {
            let mut i = 0;
            let mut next = || {
                i += 1;
                i - 1
            };
            let group = match question.grouped {
                true => row
                    .try_get::<Option<String>, _>(next())?
                    .unwrap_or_default(),
                false => String::new(),
            };
            let bucket = match question.bucketed {
                true => Some(row.try_get::<DateTime<Utc>, _>(next())?),
                false => None,
            };
            let mut stats = Stats {
                count: row.try_get(next())?,
                ..Stats::default()
            };
            if question.metric == Metric::Duration {
                for value in &mut stats.seconds {
                    *value = row.try_get(next())?;
                }
            }
            cells.insert(Place { group, bucket }, stats)?;
        }
        Ok(cells)
    }

    fn insert(&mut self, place: Place, stats: Stats) -> Result<()> {
        if let Some(old) = self.0.insert(place.clone(), stats) {
            bail!("{place} appears twice (first {old:?})");
        }
        Ok(())
    }

    /// Every difference between the service's cells (`self`) and the SQL's
    /// (`sql`), one line each. A cell the SQL lacks is an empty one (count
    /// 0, no statistics: the service zero-fills); a cell the service lacks
    /// is a difference.
    pub fn differences(&self, sql: &Cells) -> Vec<String> {
        let empty = Stats::default();
        let mut out = Vec::new();
        for (place, expected) in &sql.0 {
            if !self.0.contains_key(place) && *expected != empty {
                out.push(format!(
                    "{place}: the service has no such cell; SQL {expected:?}"
                ));
            }
        }
        for (place, got) in &self.0 {
            let expected = sql.0.get(place).unwrap_or(&empty);
            if got.count != expected.count {
                out.push(format!(
                    "{place}: count {} but SQL {}",
                    got.count, expected.count
                ));
            }
            for (k, name) in SECONDS.iter().enumerate() {
                if !same_seconds(got.seconds[k], expected.seconds[k]) {
                    out.push(format!(
                        "{place}: {name} {:?} but SQL {:?}",
                        got.seconds[k], expected.seconds[k]
                    ));
                }
            }
        }
        out
    }
}

fn stats_from_json(metric: Metric, cell: &Value) -> Result<Stats> {
    let mut stats = Stats {
        count: cell["count"]
            .as_i64()
            .context("cell without a whole `count`")?,
        ..Stats::default()
    };
    if metric == Metric::Duration {
        for (value, name) in stats.seconds.iter_mut().zip(SECONDS) {
            *value = match &cell[name] {
                Value::Null => None,
                v => Some(
                    v.as_f64()
                        .with_context(|| format!("`{name}` is not a number"))?,
                ),
            };
        }
    }
    Ok(stats)
}

/// The service reports seconds rounded to the millisecond; SQL's are exact.
fn same_seconds(service: Option<f64>, sql: Option<f64>) -> bool {
    match (service, sql) {
        (None, None) => true,
        (Some(a), Some(b)) => (a - b).abs() <= 0.0005 + 1e-6 + 1e-12 * b.abs(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::questions::{question, List};
    use serde_json::json;

    fn by_queue_by_day() -> Question {
        let from = crate::dataset::dataset_end() - chrono::Duration::days(2);
        let tile = "interactions/queue-time/by-date/by-queues";
        question(
            "t",
            tile,
            Value::Null,
            "",
            List::None,
            from,
            Metric::Duration,
        )
    }

    /// Two queues × two Berlin days; `q1` has data on the first day only.
    fn answer(count: i64, p90: f64) -> Value {
        let stats = json!({"count": count, "average": 10.0, "min": 1.0, "max": 30.0, "p50": 8.0, "p90": p90});
        let empty = json!({"count": 0, "average": null, "min": null, "max": null, "p50": null, "p90": null});
        let bucket = |start: &str, cell: &Value| {
            let mut b = cell.clone();
            b["start"] = json!(start);
            b
        };
        let days = |first: &Value| {
            json!([
                bucket("2026-10-29T00:00:00+01:00", first),
                bucket("2026-10-30T00:00:00+01:00", &empty)
            ])
        };
        json!({"groupBy": "Day", "timeZone": "Europe/Berlin", "groups": [
            {"key": "q1", "buckets": days(&stats)},
            {"key": "q2", "buckets": days(&empty)},
        ]})
    }

    /// The SQL's cells: only the one non-empty cell (SQL has no zero rows).
    fn sql(count: i64, p90: f64) -> Cells {
        let mut cells = Cells::default();
        let place = Place {
            group: "q1".into(),
            bucket: Some(
                DateTime::parse_from_rfc3339("2026-10-28T23:00:00Z")
                    .expect("an instant")
                    .with_timezone(&Utc),
            ),
        };
        let seconds = [Some(10.0), Some(1.0), Some(30.0), Some(8.0), Some(p90)];
        cells
            .insert(place, Stats { count, seconds })
            .expect("one cell");
        cells
    }

    #[track_caller]
    fn differences(answer: &Value, sql: &Cells) -> Vec<String> {
        let cells = Cells::from_json(&by_queue_by_day(), answer).expect("the answer's shape");
        cells.differences(sql)
    }

    #[test]
    fn equal_answers_and_zero_filled_cells_agree() {
        assert_eq!(
            differences(&answer(5, 20.0), &sql(5, 20.0)),
            Vec::<String>::new()
        );
        let cells = Cells::from_json(&by_queue_by_day(), &answer(5, 20.0)).expect("shape");
        assert_eq!((cells.0.len(), cells.total()), (4, 5));
    }

    #[test]
    fn a_wrong_count_is_named_by_group_and_bucket() {
        assert_eq!(
            differences(&answer(6, 20.0), &sql(5, 20.0)),
            ["group q1, bucket 2026-10-28T23:00:00Z: count 6 but SQL 5"]
        );
    }

    #[test]
    fn a_percentile_off_by_more_than_the_rounding_is_named() {
        // The service rounds to the millisecond: 0.4 ms off is the same.
        assert!(differences(&answer(5, 20.0), &sql(5, 20.0004)).is_empty());
        let found = differences(&answer(5, 20.0), &sql(5, 20.002));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("q1") && found[0].contains("p90"),
            "{found:?}"
        );
    }

    #[test]
    fn a_cell_the_service_lacks_is_a_difference() {
        let mut answer = answer(5, 20.0);
        answer["groups"].as_array_mut().expect("groups").remove(0);
        let found = differences(&answer, &sql(5, 20.0));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("the service has no such cell"),
            "{found:?}"
        );
    }

    #[test]
    fn a_statistic_where_sql_has_none_is_a_difference() {
        let mut answer = answer(5, 20.0);
        answer["groups"][1]["buckets"][1]["max"] = json!(3.0);
        let found = differences(&answer, &sql(5, 20.0));
        assert_eq!(
            found,
            ["group q2, bucket 2026-10-29T23:00:00Z: max Some(3.0) but SQL None"]
        );
    }
}
