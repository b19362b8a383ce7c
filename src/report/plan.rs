//! The aggregation core: the planner sends a validated query to the rollups
//! ([`rollup`]) or to the family's raw table ([`raw`]), one SQL statement
//! either way, and turns the rows into an [`Answer`] that both renderers
//! (JSON and CSV) share.

use std::collections::HashMap;

use sqlx::{PgPool, Row};
use uuid::Uuid;

use super::buckets::{buckets, Bucket};
use super::request::{ByDate, Grouping, ReportQuery};
use super::tiles::{Dimension, Family};
use super::{durations, raw, rollup};
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
}

/// The kind of metric a family yields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    Count,
    /// Statistics over a seconds column of the source.
    Duration,
}

impl MetricKind {
    pub fn zero(self) -> MetricValue {
        match self {
            Self::Count => MetricValue::Count(0),
            Self::Duration => MetricValue::Duration(DurationStats::default()),
        }
    }

    /// Column names, for CSV headers.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Self::Count => &["count"],
            Self::Duration => &["count", "average", "min", "max", "p50", "p90"],
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
    cells: HashMap<(usize, usize), MetricValue>,
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
}

impl Plan {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rollup => "rollup",
            Self::Raw => "raw",
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
    let options: serde_json::Value = row.try_get("options")?;
    let options = options
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|o| {
                    Some((
                        o.get("id")?.as_str()?.to_owned(),
                        o.get("name")?.as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Some(DataTypeInfo {
        kind: DataKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == kind)
            .unwrap_or(DataKind::StringEditor),
        reportable: row.try_get("reportable")?,
        options,
    }))
}

/// Directory names of the keys of a dimension.
async fn names(
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
            || durations::eligible(family, query, bounds.as_deref()))
    {
        Plan::Rollup
    } else {
        Plan::Raw
    };
    let mut raw = match plan {
        Plan::Rollup if src.kind == MetricKind::Duration => {
            durations::fetch(pool, tenant_id, family, query, bounds).await?
        }
        Plan::Rollup => rollup::fetch(pool, tenant_id, query, bounds).await?,
        Plan::Raw => raw::fetch(pool, &src, tenant_id, query, bounds, data_type_id).await?,
    };
    // Rows outside the bucket list cannot occur (the range is inside it),
    // but never index out of it.
    raw.retain(|(_, bucket, _)| *bucket < n_buckets);

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

    let mut cells = HashMap::new();
    match &groups {
        None => {
            for (_, bucket, value) in raw {
                cells.insert((0, bucket), value);
            }
        }
        Some(groups) => {
            let index: HashMap<&str, usize> = groups
                .iter()
                .enumerate()
                .map(|(i, g)| (g.key.as_str(), i))
                .collect();
            for (key, bucket, value) in raw {
                if let Some(&g) = index.get(key.as_str()) {
                    cells.insert((g, bucket), value);
                }
            }
        }
    }
    Ok(Answer {
        by_date: bucket_list,
        groups,
        kind: src.kind,
        plan,
        cells,
    })
}
