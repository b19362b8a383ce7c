//! The rollup path of the aggregation core: count tiles of the state and
//! message families answered from 15-minute UTC rollups (`count_rollups`)
//! when the request allows it; the planner falls back to raw rows otherwise.
//! Both paths give identical answers (tested by comparing them).

use chrono::{DateTime, Timelike, Utc};
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use uuid::Uuid;

use super::plan::MetricValue;
use super::request::{Grouping, Params, ReportQuery};
use super::tiles::{Dimension, Family};
use crate::domain::Channel;
use crate::error::Result;

/// The rollup's bucket width.
const ROLLUP_SECONDS: i64 = 15 * 60;

fn aligned(t: DateTime<Utc>) -> bool {
    t.timestamp().rem_euclid(ROLLUP_SECONDS) == 0 && t.nanosecond() == 0
}

/// Whether the rollups can answer `query` exactly: a count family, no data
/// conditions (the rollup does not keep snapshots), grouped by nothing,
/// channel or queue, and every boundary (range and buckets) on a 15-minute
/// UTC boundary.
pub fn eligible(family: Family, query: &ReportQuery, bounds: Option<&[DateTime<Utc>]>) -> bool {
    let family_ok = matches!(family, Family::InteractionState | Family::MessageVolume);
    let grouping_ok = match &query.grouping {
        Grouping::Total => true,
        Grouping::Keys { dimension, .. } => {
            matches!(dimension, Dimension::Channel | Dimension::Queue)
        }
        Grouping::Data { .. } => false,
    };
    family_ok
        && grouping_ok
        && query.filters.data.is_empty()
        && aligned(query.from)
        && aligned(query.to)
        && bounds.is_none_or(|b| b.iter().all(|t| aligned(*t)))
}

/// Rows of (group key, bucket index, value), as the raw path yields them.
pub async fn fetch(
    pool: &PgPool,
    tenant_id: Uuid,
    query: &ReportQuery,
    bounds: Option<Vec<DateTime<Utc>>>,
) -> Result<Vec<(String, usize, MetricValue)>> {
    let by_queue = matches!(
        query.grouping,
        Grouping::Keys {
            dimension: Dimension::Queue,
            ..
        }
    );
    let mut qb = QueryBuilder::<Postgres>::new("select ");
    qb.push(if by_queue { "r.queue_id::text" } else { "''" });
    qb.push(" as key, ");
    match bounds {
        Some(bounds) => {
            qb.push("(width_bucket(r.bucket, ")
                .push_bind(bounds)
                .push("::timestamptz[]) - 1)::int");
        }
        None => {
            qb.push("0::int");
        }
    }
    qb.push(" as bucket");
    for i in 1..=Channel::ALL.len() {
        qb.push(format_args!(", sum(r.c{i})::bigint as c{i}"));
    }
    qb.push(" from count_rollups r where r.tenant_id = ")
        .push_bind(tenant_id);
    match &query.params {
        Params::State {
            new_states,
            old_states,
        } => {
            let new: Vec<&str> = new_states.iter().map(|s| s.as_str()).collect();
            qb.push(" and r.source = 1 and r.k1 = any(")
                .push_bind(new)
                .push("::text[])");
            if let Some(old) = old_states {
                let old: Vec<&str> = old.iter().map(|s| s.as_str()).collect();
                qb.push(" and r.k2 = any(").push_bind(old).push("::text[])");
            }
        }
        Params::MessageVolume { direction } => {
            qb.push(" and r.source = 2 and r.k1 = ")
                .push_bind(direction.as_str());
        }
        // Not eligible; never reached.
        _ => {
            qb.push(" and false");
        }
    }
    // The nil queue holds every queue; queue rows split it.
    let queues: Vec<Uuid> = match (&query.grouping, &query.filters.queues) {
        (
            Grouping::Keys {
                dimension: Dimension::Queue,
                keys,
            },
            _,
        ) => keys
            .iter()
            .filter_map(|k| Uuid::parse_str(k).ok())
            .collect(),
        (_, Some(queues)) => queues.clone(),
        (_, None) => vec![Uuid::nil()],
    };
    qb.push(" and r.queue_id = any(")
        .push_bind(queues)
        .push("::uuid[])");
    qb.push(" and r.bucket >= ").push_bind(query.from);
    qb.push(" and r.bucket < ").push_bind(query.to);
    qb.push(" group by 1, 2");
    let rows = qb.build().fetch_all(pool).await?;

    // Channels counted: the filter's, or all of them.
    let allowed: Vec<Channel> = query
        .filters
        .channels
        .clone()
        .unwrap_or_else(|| Channel::ALL.to_vec());
    let index = |c: Channel| Channel::ALL.iter().position(|x| *x == c).unwrap_or(0) + 1;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let key: String = row.try_get("key")?;
        let Ok(bucket) = usize::try_from(row.try_get::<i32, _>("bucket")?) else {
            continue;
        };
        let count = |c: Channel| -> Result<i64> {
            Ok(row
                .try_get::<Option<i64>, _>(format!("c{}", index(c)).as_str())?
                .unwrap_or(0))
        };
        match &query.grouping {
            Grouping::Keys {
                dimension: Dimension::Channel,
                keys,
            } => {
                for key in keys {
                    if let Some(channel) = Channel::ALL.iter().find(|c| c.as_str() == key) {
                        if allowed.contains(channel) {
                            out.push((key.clone(), bucket, MetricValue::Count(count(*channel)?)));
                        }
                    }
                }
            }
            _ => {
                let mut total = 0;
                for channel in &allowed {
                    total += count(*channel)?;
                }
                out.push((key, bucket, MetricValue::Count(total)));
            }
        }
    }
    Ok(out)
}
