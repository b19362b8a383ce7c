//! The raw path of the aggregation core: one SQL statement over the
//! family's event table, built from closed column names and bound values.

use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use uuid::Uuid;

use super::live;
use super::plan::{average_seconds, inconsistent, millis, DurationStats, MetricKind, MetricValue};
use super::request::{DataCondition, Grouping, Params, ReportQuery};
use super::tiles::{Dimension, Family};
use crate::domain::{Direction, InteractionState, ResponseTimeKind, UnitOfWorkAction};
use crate::error::Result;

/// How many buckets `bounds` delimit (1 for a count answer).
pub(crate) fn bucket_count(bounds: Option<&[chrono::DateTime<chrono::Utc>]>) -> usize {
    bounds.map_or(1, |b| b.len().saturating_sub(1))
}

/// The bucket index a query computed for a row: one outside `0..n_buckets`
/// means the row lies outside the bucket list, which the range filter rules
/// out; it is an inconsistency, not a row to skip.
pub(crate) fn bucket_index(tenant_id: Uuid, index: i32, n_buckets: usize) -> Result<usize> {
    usize::try_from(index)
        .ok()
        .filter(|i| *i < n_buckets)
        .ok_or_else(|| {
            inconsistent(
                tenant_id,
                format!("a row lies in bucket {index}, outside the {n_buckets} buckets"),
            )
        })
}

/// Rows of (group key, bucket index, value) from the raw tables.
pub(crate) async fn fetch(
    pool: &PgPool,
    src: &Source,
    tenant_id: Uuid,
    query: &ReportQuery,
    bounds: Option<Vec<chrono::DateTime<chrono::Utc>>>,
    data_type_id: Option<Uuid>,
) -> Result<Vec<(String, usize, MetricValue)>> {
    let n_buckets = bucket_count(bounds.as_deref());
    let mut qb = build_sql(src, tenant_id, query, bounds, data_type_id);
    let rows = qb.build().fetch_all(pool).await?;
    let mut raw = Vec::with_capacity(rows.len());
    for row in rows {
        let key: Option<String> = row.try_get("key")?;
        let bucket = bucket_index(tenant_id, row.try_get("bucket")?, n_buckets)?;
        let value = match src.kind {
            MetricKind::Count => MetricValue::Count(row.try_get("n")?),
            MetricKind::Live(shape) => MetricValue::Live(live::decode(shape, &row)?),
            MetricKind::Presence(_) => {
                return Err(inconsistent(tenant_id, "a presence metric on the raw path"))
            }
            MetricKind::Duration => MetricValue::Duration(DurationStats {
                count: row.try_get("n")?,
                average: millis(average_seconds(
                    row.try_get::<i64, _>("sum_us")?.into(),
                    row.try_get("n")?,
                )),
                min: millis(row.try_get("min")?),
                max: millis(row.try_get("max")?),
                p50: millis(row.try_get("p50")?),
                p90: millis(row.try_get("p90")?),
            }),
        };
        raw.push((key.unwrap_or_default(), bucket, value));
    }
    Ok(raw)
}

/// Where a family's events live. Every source is aliased `s`; columns are
/// fixed text, never user input.
pub(crate) struct Source {
    table: &'static str,
    channel: &'static str,
    queue: &'static str,
    user: &'static str,
    account: &'static str,
    pub(crate) kind: MetricKind,
    /// The seconds column of a duration metric.
    seconds: &'static str,
}

const AUDITS: Source = Source {
    table: "interaction_audits s",
    channel: "s.channel",
    queue: "s.queue_id",
    user: "s.user_id",
    account: "null::uuid",
    kind: MetricKind::Count,
    seconds: "",
};

const MESSAGES: Source = Source {
    table: "messages s",
    channel: "s.channel",
    queue: "s.queue_id",
    user: "s.user_id",
    account: "s.account_id",
    kind: MetricKind::Count,
    seconds: "",
};

/// Ended conversations (the view over the rows derived at ingest).
const CONVERSATIONS: Source = Source {
    table: "conversation_outcomes s",
    channel: "s.channel",
    queue: "s.queue_id",
    user: "s.user_id",
    account: "s.account_id",
    kind: MetricKind::Duration,
    seconds: "s.duration_seconds",
};

pub(crate) fn source(family: Family, params: &Params) -> Source {
    match (family, params) {
        (Family::Live(measure), Params::Live { channel, .. }) => Source {
            kind: live::kind(measure, *channel),
            ..CONVERSATIONS
        },
        (Family::Live(_), _) => CONVERSATIONS,
        (Family::QueueTime, _) => Source {
            kind: MetricKind::Duration,
            seconds: "s.queue_seconds",
            ..AUDITS
        },
        (Family::IvrTime, _) => Source {
            kind: MetricKind::Duration,
            seconds: "s.ivr_seconds",
            ..AUDITS
        },
        (
            Family::UnitOfWork
            | Family::ContactsPerHour
            | Family::Availability
            | Family::AvailabilityPercentage
            | Family::AdvisorMetrics,
            _,
        ) => Source {
            table: "units_of_work s",
            ..AUDITS
        },
        (Family::ResponseTimes, Params::ResponseTime { kind }) => Source {
            kind: MetricKind::Duration,
            seconds: match kind {
                ResponseTimeKind::AdvisorResponseTime => "s.advisor_response_seconds",
                ResponseTimeKind::OriginatorWaitTime => "s.originator_wait_seconds",
            },
            ..MESSAGES
        },
        (Family::MessageVolume | Family::ResponseTimes, _) => MESSAGES,
        (Family::InteractionState, _) => AUDITS,
    }
}

impl Source {
    fn key_column(&self, dimension: Dimension) -> &'static str {
        match dimension {
            Dimension::Total => "''",
            Dimension::Channel => self.channel,
            Dimension::Queue => self.queue,
            Dimension::User => self.user,
            Dimension::Account => self.account,
            Dimension::Data => "dv.value",
        }
    }
}

/// The condition selecting the unit-of-work audits of an advisor action
/// (§4): that action's count > 0, `None` all four 0, `Any` any of them > 0.
pub(crate) fn unit_of_work_condition(action: UnitOfWorkAction) -> &'static str {
    match action {
        UnitOfWorkAction::Closed => " and s.closed > 0",
        UnitOfWorkAction::Message => " and s.messages > 0",
        UnitOfWorkAction::Data => " and s.data_changes > 0",
        UnitOfWorkAction::Note => " and s.notes > 0",
        UnitOfWorkAction::None => {
            " and s.closed = 0 and s.messages = 0 and s.data_changes = 0 and s.notes = 0"
        }
        UnitOfWorkAction::Any => {
            " and (s.closed > 0 or s.messages > 0 or s.data_changes > 0 or s.notes > 0)"
        }
    }
}

/// The keys of a count family, which the count rollups keep as `k1`/`k2`
/// (the raw tables as state or direction columns). Only the state and
/// message-volume families have them, so a condition on keys always
/// selects something meaningful.
#[derive(Debug, Clone, Copy)]
pub(crate) enum CountKeys<'a> {
    State {
        new_states: &'a [InteractionState],
        old_states: Option<&'a [InteractionState]>,
    },
    Direction(Direction),
}

impl<'a> CountKeys<'a> {
    /// The keys of the family of `params`; `None` for the families the
    /// count rollups do not keep.
    pub(crate) fn of(params: &'a Params) -> Option<Self> {
        match params {
            Params::State {
                new_states,
                old_states,
            } => Some(Self::State {
                new_states,
                old_states: old_states.as_deref(),
            }),
            Params::MessageVolume { direction } => Some(Self::Direction(*direction)),
            Params::ResponseTime { .. }
            | Params::Live { .. }
            | Params::QueueTime
            | Params::IvrTime
            | Params::UnitOfWork { .. }
            | Params::Presence(_) => None,
        }
    }
}

/// The conditions on the keys of a count family: the rollup's `k1`/`k2`
/// or the raw table's state (new, old) or direction columns.
pub(crate) fn push_key_conditions(
    qb: &mut QueryBuilder<'_, Postgres>,
    keys: CountKeys<'_>,
    k1: &str,
    k2: &str,
) {
    match keys {
        CountKeys::State {
            new_states,
            old_states,
        } => {
            let new: Vec<&str> = new_states.iter().map(|s| s.as_str()).collect();
            push_any(qb, k1, new, "text");
            if let Some(old) = old_states {
                let old: Vec<&str> = old.iter().map(|s| s.as_str()).collect();
                push_any(qb, k2, old, "text");
            }
        }
        CountKeys::Direction(direction) => {
            qb.push(format_args!(" and {k1} = "))
                .push_bind(direction.as_str());
        }
    }
}

/// The conditions of a family's parameters.
fn push_params(qb: &mut QueryBuilder<'_, Postgres>, src: &Source, params: &Params) {
    match params {
        Params::State {
            new_states,
            old_states,
        } => {
            let keys = CountKeys::State {
                new_states,
                old_states: old_states.as_deref(),
            };
            push_key_conditions(qb, keys, "s.new_state", "s.old_state");
        }
        Params::MessageVolume { direction } => {
            push_key_conditions(qb, CountKeys::Direction(*direction), "s.direction", "");
        }
        Params::QueueTime | Params::IvrTime | Params::ResponseTime { .. } => {
            qb.push(" and ").push(src.seconds).push(" is not null");
        }
        Params::UnitOfWork { action } => {
            qb.push(unit_of_work_condition(*action));
        }
        Params::Live { direction, .. } => live::push_conditions(qb, src.kind, *direction),
        // Answered from the presence spans, never here.
        Params::Presence(_) => {}
    }
}

/// Data conditions as jsonb containment candidates: the snapshot matches a
/// condition when it contains any one of them.
pub(crate) fn containment_candidates(condition: &DataCondition) -> Vec<serde_json::Value> {
    let id = condition.id.to_string();
    match &condition.values {
        Some(values) if !values.is_empty() => values
            .iter()
            .map(|v| serde_json::json!([{ "id": id, "values": [v] }]))
            .collect(),
        _ => vec![serde_json::json!([{ "id": id }])],
    }
}

/// ` and {column} = any(values::{sql_type}[])`: a bound list filter.
pub(crate) fn push_any<'a, T>(
    qb: &mut QueryBuilder<'a, Postgres>,
    column: &str,
    values: T,
    sql_type: &str,
) where
    T: 'a + sqlx::Encode<'a, Postgres> + sqlx::Type<Postgres>,
{
    qb.push(format_args!(" and {column} = any("))
        .push_bind(values)
        .push(format_args!("::{sql_type}[])"));
}

/// Pushes a bound list filter on a uuid or text column.
fn push_in_list(
    qb: &mut QueryBuilder<'_, Postgres>,
    column: &str,
    dimension: Dimension,
    keys: &[String],
) {
    match dimension {
        Dimension::Queue | Dimension::User | Dimension::Account => {
            let ids: Vec<Uuid> = keys
                .iter()
                .filter_map(|k| Uuid::parse_str(k).ok())
                .collect();
            push_any(qb, column, ids, "uuid");
        }
        _ => push_any(qb, column, keys.to_vec(), "text"),
    }
}

/// Builds the one statement of a query: rows of (key, bucket index, metric).
fn build_sql<'a>(
    src: &Source,
    tenant_id: Uuid,
    query: &'a ReportQuery,
    bounds: Option<Vec<chrono::DateTime<chrono::Utc>>>,
    data_type: Option<Uuid>,
) -> QueryBuilder<'a, Postgres> {
    let mut qb = QueryBuilder::<Postgres>::new("select ");
    let dimension = match &query.grouping {
        Grouping::Total => Dimension::Total,
        Grouping::Keys { dimension, .. } => *dimension,
        Grouping::Data { .. } => Dimension::Data,
    };
    qb.push(src.key_column(dimension)).push("::text as key, ");
    match bounds {
        Some(bounds) => {
            qb.push("(width_bucket(s.occurred_at, ")
                .push_bind(bounds)
                .push("::timestamptz[]) - 1)::int as bucket, ");
        }
        None => {
            qb.push("0::int as bucket, ");
        }
    }
    match src.kind {
        MetricKind::Count | MetricKind::Presence(_) => qb.push("count(*)::bigint as n"),
        MetricKind::Live(_) => qb.push(live::COUNT_COLUMNS),
        MetricKind::Duration => qb
            .push("count(*)::bigint as n, sum(round(")
            .push(src.seconds)
            .push(" * 1000000)::bigint)::bigint as sum_us, min(")
            .push(src.seconds)
            .push(") as min, max(")
            .push(src.seconds)
            .push(") as max, percentile_cont(0.5) within group (order by ")
            .push(src.seconds)
            .push(") as p50, percentile_cont(0.9) within group (order by ")
            .push(src.seconds)
            .push(") as p90"),
    };
    qb.push(" from ").push(src.table);
    if let Some(type_id) = data_type {
        // Each distinct value of the type once per event, however often
        // the snapshot repeats it (found by the model test).
        qb.push(
            " cross join lateral (select distinct v.value \
              from jsonb_array_elements(coalesce(s.data, '[]'::jsonb)) dd \
              cross join lateral jsonb_array_elements_text(coalesce(dd->'values', '[]'::jsonb)) v(value) \
              where dd->>'id' = ",
        )
        .push_bind(type_id.to_string())
        .push(") dv where ");
    } else {
        qb.push(" where ");
    }
    qb.push("s.tenant_id = ").push_bind(tenant_id);
    qb.push(" and s.occurred_at >= ").push_bind(query.from);
    qb.push(" and s.occurred_at < ").push_bind(query.to);
    push_params(&mut qb, src, &query.params);
    if let Some(channels) = &query.filters.channels {
        let channels: Vec<&str> = channels.iter().map(|c| c.as_str()).collect();
        push_any(&mut qb, src.channel, channels, "text");
    }
    if let Some(queues) = &query.filters.queues {
        push_any(&mut qb, src.queue, queues.clone(), "uuid");
    }
    for condition in &query.filters.data {
        qb.push(" and s.data @> any(")
            .push_bind(containment_candidates(condition))
            .push("::jsonb[])");
    }
    match &query.grouping {
        Grouping::Keys { dimension, keys } => {
            push_in_list(&mut qb, src.key_column(*dimension), *dimension, keys)
        }
        Grouping::Data {
            values: Some(values),
            ..
        } => push_any(&mut qb, "dv.value", values.clone(), "text"),
        _ => {}
    }
    // Group by the column itself (uuid compares faster than its text).
    match dimension {
        Dimension::Total => qb.push(" group by 2"),
        _ => qb
            .push(" group by ")
            .push(src.key_column(dimension))
            .push(", 2"),
    };
    qb
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_index_outside_the_list_is_an_error() {
        let tenant = Uuid::new_v4();
        assert_eq!(bucket_index(tenant, 0, 1).expect("first"), 0);
        assert_eq!(bucket_index(tenant, 2, 3).expect("last"), 2);
        for (index, n) in [(-1, 3), (3, 3), (1, 1), (0, 0)] {
            let error = bucket_index(tenant, index, n).expect_err("outside");
            assert!(error.to_string().contains(&tenant.to_string()), "{error}");
        }
    }

    #[test]
    fn only_the_count_families_have_keys() {
        let state = Params::State {
            new_states: vec![InteractionState::Closed],
            old_states: None,
        };
        let volume = Params::MessageVolume {
            direction: Direction::Inbound,
        };
        assert!(CountKeys::of(&state).is_some() && CountKeys::of(&volume).is_some());
        for params in [
            Params::QueueTime,
            Params::IvrTime,
            Params::ResponseTime {
                kind: ResponseTimeKind::OriginatorWaitTime,
            },
            Params::UnitOfWork {
                action: UnitOfWorkAction::Any,
            },
        ] {
            assert!(CountKeys::of(&params).is_none(), "{params:?}");
        }
    }
}
