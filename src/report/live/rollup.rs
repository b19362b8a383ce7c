//! The rollup path of the live count tiles (24–26): ended conversations
//! are kept in the count rollups as source 3 (k1 the class, k2 the account,
//! one column per channel; [`crate::ingest::conversations`]), at hour and
//! day grains plus the deltas not yet folded, with the quarter-hour edges
//! read from the derived rows, as [`crate::report::rollup`] does for the
//! other count families. Identical to the raw path (tested by comparing
//! them).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use uuid::Uuid;

use super::{LiveCounts, LiveMeasure, LiveShape};
use crate::error::Result;
use crate::ingest::conversations::LIVE_SOURCE;
use crate::report::plan::{inconsistent, MetricKind, MetricValue};
use crate::report::raw::{bucket_count, bucket_index, push_any};
use crate::report::request::{Grouping, Params, ReportQuery};
use crate::report::rollup::{
    aligned, names_nil_queue, push_queue_filter, push_segments, segments, BUCKET,
};
use crate::report::tiles::{Dimension, Family};

/// Whether the rollups can answer `query`: a live count (totals or
/// percentages), grouped by nothing or by account, without `direction` or
/// data conditions (the rollups keep neither), and every boundary on a
/// quarter hour of UTC.
pub fn eligible(family: Family, query: &ReportQuery, bounds: Option<&[DateTime<Utc>]>) -> bool {
    let measure_ok = matches!(
        family,
        Family::Live(LiveMeasure::Totals | LiveMeasure::Percentages)
    );
    let params_ok = matches!(
        query.params,
        Params::Live {
            direction: None,
            ..
        }
    );
    let grouping_ok = match &query.grouping {
        Grouping::Total => true,
        Grouping::Keys { dimension, .. } => *dimension == Dimension::Account,
        Grouping::Data { .. } => false,
    };
    measure_ok
        && params_ok
        && grouping_ok
        && !names_nil_queue(query)
        && query.filters.data.is_empty()
        && aligned(query.from)
        && aligned(query.to)
        && bounds.is_none_or(|b| b.iter().all(|t| aligned(*t)))
}

/// The index of a class in the metric object (after `total`).
fn class_index(class: &str) -> Option<usize> {
    match class {
        "abandonedByCustomer" | "abandonedInIvr" => Some(0),
        "abandonedByOperator" | "abandoned" => Some(1),
        "handled" => Some(2),
        _ => None,
    }
}

/// Rows of (group key, bucket index, value), as the raw path yields them.
pub async fn fetch(
    pool: &PgPool,
    tenant_id: Uuid,
    shape: LiveShape,
    query: &ReportQuery,
    bounds: Option<Vec<DateTime<Utc>>>,
) -> Result<Vec<(String, usize, MetricValue)>> {
    let accounts: Option<Vec<String>> = match &query.grouping {
        Grouping::Keys {
            dimension: Dimension::Account,
            keys,
        } => Some(keys.clone()),
        _ => None,
    };
    let n_buckets = bucket_count(bounds.as_deref());
    let segments = segments(query.from, query.to, bounds.as_deref());
    let queues: Vec<Uuid> = query.filters.queues.clone().unwrap_or(vec![Uuid::nil()]);
    // The channel's column of the rollups (`c{i}` counts `Channel::ALL[i-1]`).
    let channel = shape.channel.channel();
    let column = crate::domain::Channel::ALL
        .iter()
        .position(|c| *c == channel)
        .map_or(0, |i| i + 1);

    let mut qb = QueryBuilder::<Postgres>::new("select ");
    qb.push(if accounts.is_some() { "r.k2" } else { "''" });
    qb.push(" as key, ");
    qb.push(BUCKET);
    qb.push(", r.k1 as class, sum(r.n * seg.sign)::bigint as n");
    push_segments(&mut qb, &segments);
    // One index range scan per segment and part: the rollups (grains 1
    // to 3), their unfolded deltas, and the derived rows of the
    // quarter-hour edges; each fenced by `offset 0`.
    qb.push(format_args!(
        " cross join lateral ((select r.bucket, r.k1, r.k2, r.c{column} as n from count_rollups r \
         where seg.grain > 0 and r.grain = seg.grain and r.bucket >= seg.s and r.bucket < seg.e \
         and r.source = {LIVE_SOURCE} and r.tenant_id = "
    ))
    .push_bind(tenant_id);
    push_any(&mut qb, "r.queue_id", queues.clone(), "uuid");
    // The channel's classes, named: with k1 (the key column after the
    // queue) left open, the index scan read every live rollup row of the
    // tenant and queue whatever its bucket, and grew with the history
    // (123 ms at 20M events in a bench run).
    let classes: Vec<String> = shape.channel.classes().map(String::from).into();
    push_any(&mut qb, "r.k1", classes, "text");
    if let Some(accounts) = &accounts {
        push_any(&mut qb, "r.k2", accounts.clone(), "text");
    }
    qb.push(format_args!(
        " offset 0) union all (select d.bucket, d.k1, d.k2, d.c{column} from count_rollup_deltas d \
         where seg.grain > 0 and d.bucket >= seg.s and d.bucket < seg.e \
         and d.source = {LIVE_SOURCE} and d.tenant_id = "
    ))
    .push_bind(tenant_id);
    push_queue_filter(&mut qb, &queues, "d");
    if let Some(accounts) = &accounts {
        push_any(&mut qb, "d.k2", accounts.clone(), "text");
    }
    qb.push(
        " offset 0) union all (select s.occurred_at, s.class, coalesce(s.account_id::text, ''), \
         1::bigint from conversation_outcomes s where seg.grain = 0 and s.occurred_at >= seg.s \
         and s.occurred_at < seg.e and s.class is not null and s.channel = ",
    )
    .push_bind(channel.as_str())
    .push(" and s.tenant_id = ")
    .push_bind(tenant_id);
    push_queue_filter(&mut qb, &queues, "s");
    if let Some(accounts) = &accounts {
        push_any(&mut qb, "s.account_id::text", accounts.clone(), "text");
    }
    qb.push(" offset 0)) r group by 1, 2, 3");
    let rows = qb.build().fetch_all(pool).await?;

    let mut cells: HashMap<(String, usize), LiveCounts> = HashMap::new();
    for row in rows {
        let key: String = row.try_get("key")?;
        let bucket = bucket_index(tenant_id, row.try_get("bucket")?, n_buckets)?;
        let class: String = row.try_get("class")?;
        let n: i64 = row.try_get::<Option<i64>, _>("n")?.unwrap_or(0);
        if n == 0 {
            continue;
        }
        let index = class_index(&class).ok_or_else(|| {
            inconsistent(tenant_id, format!("the live rollups hold class {class:?}"))
        })?;
        let cell = cells
            .entry((key, bucket))
            .or_insert_with(|| LiveCounts::zero(shape));
        cell.total += n;
        cell.classes[index] += n;
    }
    Ok(cells
        .into_iter()
        .map(|((key, bucket), counts)| (key, bucket, MetricValue::Live(counts)))
        .collect())
}

/// The metric shape of a live count query, if it is one.
pub fn shape(kind: MetricKind) -> Option<LiveShape> {
    match kind {
        MetricKind::Live(shape) => Some(shape),
        MetricKind::Count | MetricKind::Duration | MetricKind::Presence(_) => None,
    }
}
