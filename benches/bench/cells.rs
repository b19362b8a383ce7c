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

/// A cell's statistics: the count, and for durations the rest in seconds;
/// for a metric of named fields, their values (and no count).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    pub count: i64,
    /// average, min, max, p50, p90 (durations only).
    pub seconds: [Option<f64>; 5],
    /// The named fields, in the metric's order ([`Metric::Fields`] only);
    /// 0 and null are one empty value, as a zero-filled cell holds either.
    pub fields: Vec<Option<f64>>,
}

impl Stats {
    fn is_empty(&self) -> bool {
        self.count == 0
            && self.seconds.iter().all(Option::is_none)
            && self.fields.iter().all(|f| f.unwrap_or(0.0) == 0.0)
    }
}

const SECONDS: [&str; 5] = ["average", "min", "max", "p50", "p90"];

/// Every cell of one answer.
#[derive(Debug, Default)]
pub struct Cells(BTreeMap<Place, Stats>);

impl Cells {
    /// The sum of the counts (of the first field, for named fields).
    pub fn total(&self) -> i64 {
        (self.0.values())
            .map(|s| s.count + s.fields.first().copied().flatten().unwrap_or(0.0) as i64)
            .sum()
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
            let mut stats = Stats::default();
            match question.metric {
                Metric::Fields(names) => {
                    for _ in names {
                        stats.fields.push(row.try_get(next())?);
                    }
                }
                Metric::Count | Metric::Duration => stats.count = row.try_get(next())?,
            }
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
            if !self.0.contains_key(place) && !expected.is_empty() {
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
            for (k, value) in got.fields.iter().enumerate() {
                let wanted = expected.fields.get(k).copied().flatten();
                let zero_or_null = |v: Option<f64>| v.unwrap_or(0.0) == 0.0;
                if !(same_seconds(*value, wanted) || zero_or_null(*value) && zero_or_null(wanted)) {
                    out.push(format!("{place}: field {k} {value:?} but SQL {wanted:?}"));
                }
            }
        }
        out
    }
}

fn stats_from_json(metric: Metric, cell: &Value) -> Result<Stats> {
    let number = |name: &str| -> Result<Option<f64>> {
        match &cell[name] {
            Value::Null => Ok(None),
            v => Ok(Some(
                v.as_f64()
                    .with_context(|| format!("`{name}` is not a number"))?,
            )),
        }
    };
    if let Metric::Fields(names) = metric {
        return Ok(Stats {
            fields: names.iter().map(|n| number(n)).collect::<Result<_>>()?,
            ..Stats::default()
        });
    }
    let mut stats = Stats {
        count: cell["count"]
            .as_i64()
            .context("cell without a whole `count`")?,
        ..Stats::default()
    };
    if metric == Metric::Duration {
        for (value, name) in stats.seconds.iter_mut().zip(SECONDS) {
            *value = number(name)?;
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
            .insert(
                place,
                Stats {
                    count,
                    seconds,
                    fields: Vec::new(),
                },
            )
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

    #[test]
    fn named_fields_compare_by_name_and_treat_zero_as_empty() {
        const FIELDS: &[&str] = &["contacts", "seconds", "cph"];
        let from = crate::dataset::dataset_end() - chrono::Duration::days(1);
        let q = question(
            "t",
            "presence/cph/count/by-users",
            Value::Null,
            "",
            List::None,
            from,
            Metric::Fields(FIELDS),
        );
        let answer = json!({"average": 2.0, "groups": [
            {"key": "u1", "contacts": 1, "seconds": 1800, "cph": 2.0},
            {"key": "u2", "contacts": 0, "seconds": 0, "cph": null},
        ]});
        let got = Cells::from_json(&q, &answer).expect("the answer's shape");
        let sql = |cph: f64| {
            let mut cells = Cells::default();
            let place = Place {
                group: "u1".into(),
                bucket: None,
            };
            let fields = vec![Some(1.0), Some(1800.0), Some(cph)];
            let stats = Stats {
                fields,
                ..Stats::default()
            };
            cells.insert(place, stats).expect("one cell");
            cells
        };
        assert_eq!(got.differences(&sql(2.0)), Vec::<String>::new());
        assert_eq!(got.total(), 1);
        assert_eq!(
            got.differences(&sql(3.0)),
            ["group u1: field 2 Some(2.0) but SQL Some(3.0)"]
        );
    }
}
