//! The aggregation core: the planner sends a validated query to the rollups
//! ([`rollup`]) or to the family's raw table ([`raw`]), one SQL statement
//! either way, and turns the rows into an [`Answer`] that both renderers
//! (JSON and CSV) share.

use std::collections::HashMap;

use sqlx::{PgPool, Row};
use uuid::Uuid;

use super::buckets::{buckets, Bucket};
use super::live::{LiveCounts, LiveShape};
use super::request::{ByDate, Grouping, ReportQuery};
use super::tiles::{Dimension, Family};
use super::{durations, live, presence, raw, rollup};
use crate::domain::{DataKind, SortOrder};
use crate::error::{ApiError, Result};

/// Statistics of a duration in seconds (metric object T).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DurationStats {
    pub count: i64,
    pub average: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
}

/// The value of one cell of an answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MetricValue {
    Count(i64),
    Duration(DurationStats),
    /// Live conversations: the total and each class ([`super::live`]).
    Live(LiveCounts),
    /// The presence tiles (29–36).
    Presence(presence::PresenceValue),
}

/// The kind of metric a family yields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    Count,
    /// Statistics over a seconds column of the source.
    Duration,
    /// Live conversation classes, as counts or percentages.
    Live(LiveShape),
    /// The presence tiles (29–36).
    Presence(presence::PresenceKind),
}

impl MetricKind {
    pub fn zero(self) -> MetricValue {
        match self {
            Self::Count => MetricValue::Count(0),
            Self::Duration => MetricValue::Duration(DurationStats::default()),
            Self::Live(shape) => MetricValue::Live(LiveCounts::zero(shape)),
            Self::Presence(kind) => MetricValue::Presence(kind.zero()),
        }
    }

    /// Column names, for CSV headers.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Self::Count => &["count"],
            Self::Duration => &["count", "average", "min", "max", "p50", "p90"],
            Self::Live(shape) => shape.columns(),
            Self::Presence(kind) => kind.columns(),
        }
    }
}

/// Seconds are reported with millisecond precision.
pub(crate) fn millis(value: Option<f64>) -> Option<f64> {
    value.map(|v| (v * 1000.0).round() / 1000.0)
}

/// The average in seconds of `n` durations summing to `sum_us`
/// microseconds (both paths compute it so, from the exact sum).
pub(crate) fn average_seconds(sum_us: i128, n: i64) -> Option<f64> {
    (n > 0).then(|| sum_us as f64 / n as f64 / 1e6)
}

/// A group of the answer: its key and, where the directory knows it, a name.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupInfo {
    pub key: String,
    pub name: Option<String>,
}

/// A computed answer: optional groups × optional buckets of metric values.
#[derive(Debug, Clone)]
pub struct Answer {
    pub by_date: Option<(ByDate, Vec<Bucket>)>,
    pub groups: Option<Vec<GroupInfo>>,
    pub kind: MetricKind,
    /// Which path computed it.
    pub plan: Plan,
    pub(crate) cells: HashMap<(usize, usize), MetricValue>,
    /// Presence tiles: the overall average and per-user values.
    pub presence: Option<presence::PresenceExtra>,
}

/// The two paths of the planner; their answers are identical.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// The rollups: counts and durations at hour and day grains (counts
    /// with quarter-hour edges from the raw rows), durations with their
    /// exact values.
    Rollup,
    /// The raw event tables.
    Raw,
    /// The presence spans maintained at ingest (presence tiles).
    Spans,
}

impl Plan {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rollup => "rollup",
            Self::Raw => "raw",
            Self::Spans => "spans",
        }
    }
}

impl Answer {
    /// The value of group `g` (0 without groups) in bucket `b` (0 for count).
    pub fn cell(&self, g: usize, b: usize) -> MetricValue {
        self.cells.get(&(g, b)).copied().unwrap_or(self.kind.zero())
    }
}

struct DataTypeInfo {
    kind: DataKind,
    reportable: bool,
    options: Vec<(String, String)>,
}

/// An internal inconsistency of the maintained state (rollups, directory),
/// for `tenant_id`: a 500 whose log line (error level, written once when the
/// response is rendered) names the tenant and what was inconsistent; the
/// client sees no internals.
pub(crate) fn inconsistent(tenant_id: Uuid, what: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(anyhow::anyhow!(
        "inconsistent state of tenant {tenant_id}: {what}"
    ))
}

async fn data_type(pool: &PgPool, tenant_id: Uuid, type_id: Uuid) -> Result<Option<DataTypeInfo>> {
    let row = sqlx::query(
        "select kind, reportable, options from directory_data_types where tenant_id = $1 and data_type_id = $2",
    )
    .bind(tenant_id)
    .bind(type_id)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let kind: String = row.try_get("kind")?;
    let kind = DataKind::ALL
        .iter()
        .copied()
        .find(|k| k.as_str() == kind)
        .ok_or_else(|| {
            inconsistent(
                tenant_id,
                format!("directory_data_types holds unknown kind {kind:?} for data type {type_id}"),
            )
        })?;
    let options: serde_json::Value = row.try_get("options")?;
    let malformed = || {
        inconsistent(
            tenant_id,
            format!("directory_data_types holds malformed options for data type {type_id}"),
        )
    };
    let options = options
        .as_array()
        .ok_or_else(malformed)?
        .iter()
        .map(|o| {
            let field = |name: &str| o.get(name)?.as_str().map(str::to_owned);
            field("id").zip(field("name")).ok_or_else(malformed)
        })
        .collect::<Result<_>>()?;
    Ok(Some(DataTypeInfo {
        kind,
        reportable: row.try_get("reportable")?,
        options,
    }))
}

/// Directory names of the keys of a dimension.
pub(crate) async fn names(
    pool: &PgPool,
    tenant_id: Uuid,
    dimension: Dimension,
    keys: &[String],
) -> Result<HashMap<String, String>> {
    let sql = match dimension {
        Dimension::Queue => "select queue_id::text, name from directory_queues where tenant_id = $1 and queue_id = any($2::uuid[])",
        Dimension::User => {
            "select user_id::text, trim(first_name || ' ' || last_name) from directory_users \
             where tenant_id = $1 and user_id = any($2::uuid[])"
        }
        Dimension::Account => "select account_id::text, name from directory_accounts where tenant_id = $1 and account_id = any($2::uuid[])",
        Dimension::Total | Dimension::Channel | Dimension::Data => return Ok(HashMap::new()),
    };
    let ids: Vec<Uuid> = keys
        .iter()
        .filter_map(|k| Uuid::parse_str(k).ok())
        .collect();
    let rows: Vec<(String, String)> = sqlx::query_as(sql)
        .bind(tenant_id)
        .bind(ids)
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Runs a query for a tenant.
pub async fn run(
    pool: &PgPool,
    tenant_id: Uuid,
    family: Family,
    query: &ReportQuery,
    use_rollups: bool,
) -> Result<Answer> {
    if presence::is_presence(family) {
        return presence::run(pool, tenant_id, family, query, use_rollups).await;
    }
    let src = raw::source(family, &query.params);
    let bucket_list = query
        .by_date
        .map(|b| (b, buckets(b.granularity, b.zone, query.from, query.to)));
    let bounds = bucket_list.as_ref().map(|(_, list)| {
        let mut bounds: Vec<_> = list.iter().map(|b| b.start).collect();
        bounds.extend(list.last().map(|b| b.end));
        bounds
    });

    // Resolve the data type of a by-data request before querying.
    let mut data_info = None;
    let data_type_id =
        match &query.grouping {
            Grouping::Data {
                type_id, values, ..
            } => {
                let info = data_type(pool, tenant_id, *type_id).await?;
                match (&info, values) {
                    (None, None) => return Err(ApiError::unprocessable(
                        "data.id",
                        "unknown data type: give `values`, or ingest its directory.data_type event",
                    )),
                    (Some(i), _) if i.kind == DataKind::StringEditor && !i.reportable => {
                        return Err(ApiError::unprocessable(
                            "data.id",
                            "this StringEditor data type is not reportable",
                        ))
                    }
                    _ => {}
                }
                data_info = info;
                Some(*type_id)
            }
            _ => None,
        };

    let n_buckets = bucket_list.as_ref().map(|(_, l)| l.len()).unwrap_or(1);
    let plan = if use_rollups
        && (rollup::eligible(family, query, bounds.as_deref())
            || durations::eligible(family, query, bounds.as_deref())
            || live::rollup::eligible(family, query, bounds.as_deref()))
    {
        Plan::Rollup
    } else {
        Plan::Raw
    };
    let raw = match plan {
        Plan::Rollup if src.kind == MetricKind::Duration => {
            durations::fetch(pool, tenant_id, family, query, bounds).await?
        }
        Plan::Rollup => match live::rollup::shape(src.kind) {
            Some(shape) => live::rollup::fetch(pool, tenant_id, shape, query, bounds).await?,
            None => rollup::fetch(pool, tenant_id, query, bounds).await?,
        },
        Plan::Raw | Plan::Spans => {
            raw::fetch(pool, &src, tenant_id, query, bounds, data_type_id).await?
        }
    };
    let groups: Option<Vec<GroupInfo>> = match &query.grouping {
        Grouping::Total => None,
        Grouping::Keys { dimension, keys } => {
            let names = names(pool, tenant_id, *dimension, keys).await?;
            Some(
                keys.iter()
                    .map(|k| GroupInfo {
                        key: k.clone(),
                        name: names.get(k).cloned(),
                    })
                    .collect(),
            )
        }
        Grouping::Data { values, order, .. } => {
            let option_names: HashMap<String, String> = data_info
                .as_ref()
                .map(|i| i.options.iter().cloned().collect())
                .unwrap_or_default();
            let mut totals: HashMap<&str, i64> = HashMap::new();
            for (key, _, value) in &raw {
                let n = match value {
                    MetricValue::Count(n) => *n,
                    MetricValue::Duration(stats) => stats.count,
                    MetricValue::Live(counts) => counts.total,
                    MetricValue::Presence(_) => 0,
                };
                *totals.entry(key.as_str()).or_default() += n;
            }
            let total_of = |k: &str| totals.get(k).copied().unwrap_or(0);
            let mut keys: Vec<String> = match (values, &data_info) {
                (Some(values), _) => values.clone(),
                (None, Some(info)) if info.kind != DataKind::StringEditor => {
                    info.options.iter().map(|(id, _)| id.clone()).collect()
                }
                (None, _) => {
                    // StringEditor: the 10 most (or least) used values.
                    let mut used: Vec<(&str, i64)> = totals.iter().map(|(k, n)| (*k, *n)).collect();
                    match order.unwrap_or(SortOrder::Descending) {
                        SortOrder::Descending => {
                            used.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)))
                        }
                        SortOrder::Ascending => {
                            used.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(b.0)))
                        }
                    }
                    used.into_iter()
                        .take(10)
                        .map(|(k, _)| k.to_owned())
                        .collect()
                }
            };
            match order {
                Some(SortOrder::Descending) => keys.sort_by_key(|k| std::cmp::Reverse(total_of(k))),
                Some(SortOrder::Ascending) => keys.sort_by_key(|k| total_of(k)),
                None => {}
            }
            Some(
                keys.into_iter()
                    .map(|k| GroupInfo {
                        name: option_names.get(&k).cloned(),
                        key: k,
                    })
                    .collect(),
            )
        }
    };

    let cells = place(
        tenant_id,
        raw,
        groups.as_deref(),
        &query.grouping,
        n_buckets,
    )?;
    Ok(Answer {
        by_date: bucket_list,
        groups,
        kind: src.kind,
        plan,
        cells,
        presence: None,
    })
}

/// Places the rows of a path into the cells of the answer: a row goes to
/// every group carrying its key (a key requested twice is two groups with
/// the same value). A row outside the bucket list, one repeated, or one
/// whose key is no requested group is an inconsistency of the path, never
/// silently dropped; only by-data answers leave out the values that are not
/// among their groups (options not listed, StringEditor values past the ten
/// most used).
pub(crate) fn place(
    tenant_id: Uuid,
    rows: Vec<(String, usize, MetricValue)>,
    groups: Option<&[GroupInfo]>,
    grouping: &Grouping,
    n_buckets: usize,
) -> Result<HashMap<(usize, usize), MetricValue>> {
    let mut index: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, group) in groups.unwrap_or_default().iter().enumerate() {
        index.entry(group.key.as_str()).or_default().push(i);
    }
    let ungrouped = [0];
    let mut cells = HashMap::new();
    for (key, bucket, value) in rows {
        if bucket >= n_buckets {
            return Err(inconsistent(
                tenant_id,
                format!("a row of group {key:?} lies in bucket {bucket} of {n_buckets}"),
            ));
        }
        let targets: &[usize] = match (groups, index.get(key.as_str())) {
            (None, _) => &ungrouped,
            (Some(_), Some(targets)) => targets,
            (Some(_), None) if matches!(grouping, Grouping::Data { .. }) => continue,
            (Some(_), None) => {
                return Err(inconsistent(
                    tenant_id,
                    format!("a row of key {key:?} is not among the requested groups"),
                ))
            }
        };
        for &g in targets {
            if cells.insert((g, bucket), value).is_some() {
                return Err(inconsistent(
                    tenant_id,
                    format!("two rows of group {key:?} in bucket {bucket}"),
                ));
            }
        }
    }
    Ok(cells)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(key: &str) -> GroupInfo {
        GroupInfo {
            key: key.to_owned(),
            name: None,
        }
    }

    fn keys() -> Grouping {
        Grouping::Keys {
            dimension: Dimension::Queue,
            keys: vec!["q1".into(), "q2".into(), "q1".into()],
        }
    }

    #[test]
    fn a_repeated_key_fills_each_of_its_groups() {
        let groups = [group("q1"), group("q2"), group("q1")];
        let rows = vec![
            ("q1".to_owned(), 1, MetricValue::Count(3)),
            ("q2".to_owned(), 0, MetricValue::Count(1)),
        ];
        let cells = place(Uuid::nil(), rows, Some(&groups), &keys(), 2).expect("cells");
        assert_eq!(cells.get(&(0, 1)), Some(&MetricValue::Count(3)));
        assert_eq!(cells.get(&(2, 1)), Some(&MetricValue::Count(3)));
        assert_eq!(cells.get(&(1, 0)), Some(&MetricValue::Count(1)));
        assert_eq!(cells.len(), 3);
    }

    #[test]
    fn rows_outside_the_answer_are_errors_not_dropped() {
        let tenant = Uuid::new_v4();
        let groups = [group("q1"), group("q2")];
        let row = |key: &str, bucket| vec![(key.to_owned(), bucket, MetricValue::Count(1))];
        let cases = [
            place(tenant, row("q1", 2), Some(&groups), &keys(), 2),
            place(tenant, row("", 1), None, &Grouping::Total, 1),
            place(tenant, row("q3", 0), Some(&groups), &keys(), 1),
            place(
                tenant,
                [row("q1", 0), row("q1", 0)].concat(),
                Some(&groups),
                &keys(),
                1,
            ),
        ];
        for result in cases {
            let error = result.expect_err("an inconsistency");
            assert!(matches!(error, ApiError::Internal(_)));
            assert!(error.to_string().contains(&tenant.to_string()), "{error}");
        }
    }

    #[test]
    fn by_data_leaves_out_values_that_are_not_groups() {
        let grouping = Grouping::Data {
            type_id: Uuid::nil(),
            values: None,
            order: None,
        };
        let groups = [group("a")];
        let rows = vec![
            ("a".to_owned(), 0, MetricValue::Count(2)),
            ("unlisted".to_owned(), 0, MetricValue::Count(5)),
        ];
        let cells = place(Uuid::nil(), rows, Some(&groups), &grouping, 1).expect("cells");
        assert_eq!(cells.len(), 1);
        assert_eq!(cells.get(&(0, 0)), Some(&MetricValue::Count(2)));
    }
}
