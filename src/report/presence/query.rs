//! The queries of the presence tiles: time in state per user and bucket
//! from the maintained spans, contacts per user, bucket (and channel or
//! queue) from the unit-of-work audits, and advisor response times; then
//! the cells of the answer.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use uuid::Uuid;

use super::rollup;
use super::{
    value_keys, AdvisorMetrics, PresenceExtra, PresenceKind, PresenceParams, PresenceValue,
    UserState, UserValues, ValueCph,
};
use crate::error::Result;
use crate::report::buckets::buckets;
use crate::report::plan::{
    average_seconds, inconsistent, millis, names, Answer, GroupInfo, MetricKind, MetricValue, Plan,
};
use crate::report::raw::{bucket_index, containment_candidates, push_any};
use crate::report::request::{Params, ReportQuery};
use crate::report::tiles::{Dimension, Family};

/// Microseconds in an hour.
const HOUR_US: f64 = 3_600_000_000.0;

/// Time per user and bucket, in microseconds: available (`Online`) and
/// logged in (not `Offline`). Each user's spans overlapping `[$3, $4)`
/// (`$4` = min(to, now)) are the last one starting before `$3` (carried in)
/// and those starting inside; each is clipped to the range and cut at the
/// bucket bounds `$5` it crosses. Index range scans only.
const TIME_IN_STATE: &str = r#"
with spans as (
    select u.user_id, s.state, greatest(s.occurred_at, $3) as a,
        least(coalesce(s.ended_at, $4), $4) as b
    from unnest($2::uuid[]) as u(user_id)
    cross join lateral (
        (select p.state, p.occurred_at, p.ended_at from presence_changes p
         where p.tenant_id = $1 and p.user_id = u.user_id and p.occurred_at < $3
         order by p.occurred_at desc, p.event_id desc limit 1)
        union all
        (select p.state, p.occurred_at, p.ended_at from presence_changes p
         where p.tenant_id = $1 and p.user_id = u.user_id and p.occurred_at >= $3
           and p.occurred_at < $4)
    ) s
    where s.state <> 'Offline'
), pieces as (
    select sp.user_id, sp.state, i,
        extract(epoch from least(sp.b, $5[i + 1]) - greatest(sp.a, $5[i])) * 1000000 as us
    from spans sp
    cross join lateral generate_series(width_bucket(sp.a, $5::timestamptz[]),
        least(width_bucket(sp.b, $5::timestamptz[]), cardinality($5::timestamptz[]) - 1)) as i
    where sp.b > sp.a
)
select user_id, (i - 1)::int as bucket,
    coalesce(sum(us) filter (where state = 'Online'), 0)::bigint as available_us,
    sum(us)::bigint as logged_in_us
from pieces where us > 0
group by user_id, i
"#;

use super::rollup::TimeCells;
/// Contacts per (user, bucket, channel or queue): (available, logged in).
type ContactCells = HashMap<(Uuid, usize, String), (i64, i64)>;

async fn time_in_state(
    pool: &PgPool,
    tenant_id: Uuid,
    users: &[Uuid],
    from: DateTime<Utc>,
    cap: DateTime<Utc>,
    bounds: &[DateTime<Utc>],
) -> Result<TimeCells> {
    let rows = sqlx::query(TIME_IN_STATE)
        .bind(tenant_id)
        .bind(users)
        .bind(from)
        .bind(cap)
        .bind(bounds)
        .fetch_all(pool)
        .await?;
    let n = bounds.len().saturating_sub(1);
    let mut out = HashMap::new();
    for row in rows {
        let bucket = bucket_index(tenant_id, row.try_get("bucket")?, n)?;
        out.insert(
            (row.try_get("user_id")?, bucket),
            (row.try_get("available_us")?, row.try_get("logged_in_us")?),
        );
    }
    Ok(out)
}

/// The channel, queue and data filters of the request, on the table `s`.
fn push_filters(qb: &mut QueryBuilder<'_, Postgres>, query: &ReportQuery) {
    if let Some(channels) = &query.filters.channels {
        let channels: Vec<&str> = channels.iter().map(|c| c.as_str()).collect();
        push_any(qb, "s.channel", channels, "text");
    }
    if let Some(queues) = &query.filters.queues {
        push_any(qb, "s.queue_id", queues.clone(), "uuid");
    }
    for condition in &query.filters.data {
        qb.push(" and s.data @> any(")
            .push_bind(containment_candidates(condition))
            .push("::jsonb[])");
    }
}

/// Contacts (unit-of-work audits with an action) per user, bucket and, for
/// by-channels / by-queues, channel or queue.
async fn contacts(
    pool: &PgPool,
    tenant_id: Uuid,
    users: &[Uuid],
    query: &ReportQuery,
    bounds: &[DateTime<Utc>],
    by: Option<Dimension>,
) -> Result<ContactCells> {
    let key = match by {
        Some(Dimension::Channel) => "s.channel",
        Some(Dimension::Queue) => "s.queue_id::text",
        _ => "''",
    };
    let mut qb = QueryBuilder::<Postgres>::new("select s.user_id, ");
    qb.push(key)
        .push(" as key, (width_bucket(s.occurred_at, ")
        .push_bind(bounds.to_vec())
        .push(
            "::timestamptz[]) - 1)::int as bucket, \
             count(*) filter (where s.user_state = 'Online') as available, \
             count(*) filter (where s.user_state <> 'Offline') as logged_in \
             from units_of_work s where s.tenant_id = ",
        )
        .push_bind(tenant_id)
        .push(" and s.user_id = any(")
        .push_bind(users.to_vec())
        .push("::uuid[]) and s.occurred_at >= ")
        .push_bind(query.from)
        .push(" and s.occurred_at < ")
        .push_bind(query.to)
        // The predicate of the partial index units_of_work_contacts.
        .push(" and (closed > 0 or messages > 0 or data_changes > 0 or notes > 0)");
    push_filters(&mut qb, query);
    qb.push(" group by 1, 2, 3");
    let n = bounds.len().saturating_sub(1);
    let mut out = HashMap::new();
    for row in qb.build().fetch_all(pool).await? {
        let bucket = bucket_index(tenant_id, row.try_get("bucket")?, n)?;
        let key: Option<String> = row.try_get("key")?;
        out.insert(
            (row.try_get("user_id")?, bucket, key.unwrap_or_default()),
            (row.try_get("available")?, row.try_get("logged_in")?),
        );
    }
    Ok(out)
}

/// Per user, the mean AdvisorResponseTime of the responding messages the
/// user sent in the range (the filters apply to the messages).
async fn response_times(
    pool: &PgPool,
    tenant_id: Uuid,
    users: &[Uuid],
    query: &ReportQuery,
) -> Result<HashMap<Uuid, Option<f64>>> {
    let mut qb = QueryBuilder::<Postgres>::new(
        "select s.user_id, count(*)::bigint as n, \
         sum(round(s.advisor_response_seconds * 1000000)::bigint)::bigint as sum_us \
         from messages s where s.tenant_id = ",
    );
    qb.push_bind(tenant_id)
        .push(" and s.user_id = any(")
        .push_bind(users.to_vec())
        .push("::uuid[]) and s.occurred_at >= ")
        .push_bind(query.from)
        .push(" and s.occurred_at < ")
        .push_bind(query.to)
        .push(" and s.advisor_response_seconds is not null");
    push_filters(&mut qb, query);
    qb.push(" group by 1");
    let mut out = HashMap::new();
    for row in qb.build().fetch_all(pool).await? {
        let n: i64 = row.try_get("n")?;
        let sum_us: i64 = row.try_get("sum_us")?;
        out.insert(
            row.try_get("user_id")?,
            millis(average_seconds(sum_us.into(), n)),
        );
    }
    Ok(out)
}

fn seconds(us: i64) -> f64 {
    millis(Some(us as f64 / 1e6)).unwrap_or_default()
}

/// Contacts per hour of `us` microseconds; null when the time is zero.
fn cph(contacts: i64, us: i64) -> Option<f64> {
    (us > 0).then(|| contacts as f64 * HOUR_US / us as f64)
}

fn percentage(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}

fn mean(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values
        .into_iter()
        .fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// Runs a presence tile for a tenant. The moment of the request bounds the
/// last (open) span of every user, and all presence time.
pub async fn run(
    pool: &PgPool,
    tenant_id: Uuid,
    family: Family,
    query: &ReportQuery,
    use_rollups: bool,
) -> Result<Answer> {
    let Params::Presence(params) = &query.params else {
        return Err(inconsistent(
            tenant_id,
            "a presence tile without its params",
        ));
    };
    let PresenceParams { users, state } = params;
    let cap = query.to.min(Utc::now());
    let bucket_list = query
        .by_date
        .map(|b| (b, buckets(b.granularity, b.zone, query.from, query.to)));
    let bounds: Vec<DateTime<Utc>> = match &bucket_list {
        Some((_, list)) => {
            let mut bounds: Vec<_> = list.iter().map(|b| b.start).collect();
            bounds.extend(list.last().map(|b| b.end));
            bounds
        }
        None => vec![query.from, query.to],
    };
    let n_buckets = bounds.len().saturating_sub(1);
    let mut seen = HashSet::new();
    let distinct: Vec<Uuid> = users.iter().copied().filter(|u| seen.insert(*u)).collect();
    let (by, keys) = value_keys(query);

    let last = rollup::last_changes(pool, tenant_id, &distinct).await?;
    let range = (query.from, query.to);
    let plan = if use_rollups && rollup::eligible(range, &bounds, cap, &last) {
        Plan::Rollup
    } else {
        Plan::Spans
    };
    let unfiltered = by.is_none()
        && query.filters.channels.is_none()
        && query.filters.queues.is_none()
        && query.filters.data.is_empty();
    let (time, rolled_contacts) = match plan {
        Plan::Rollup => {
            rollup::fetch(pool, tenant_id, &distinct, range, &bounds, cap, &last).await?
        }
        _ => (
            time_in_state(pool, tenant_id, &distinct, query.from, cap, &bounds).await?,
            HashMap::new(),
        ),
    };
    let contacts = if plan == Plan::Rollup && unfiltered {
        rolled_contacts
            .into_iter()
            .map(|((user, bucket), c)| ((user, bucket, String::new()), c))
            .collect()
    } else {
        contacts(pool, tenant_id, &distinct, query, &bounds, by).await?
    };
    let responses = if family == Family::AdvisorMetrics {
        response_times(pool, tenant_id, &distinct, query).await?
    } else {
        HashMap::new()
    };
    let user_keys: Vec<String> = users.iter().map(Uuid::to_string).collect();
    let names = names(pool, tenant_id, Dimension::User, &user_keys).await?;

    // Contacts per (user, bucket), summed over channels or queues.
    let mut per_bucket: HashMap<(Uuid, usize), (i64, i64)> = HashMap::new();
    for ((user, bucket, _), (available, logged_in)) in &contacts {
        let cell = per_bucket.entry((*user, *bucket)).or_default();
        cell.0 += available;
        cell.1 += logged_in;
    }
    // The class a CPH tile counts: (contacts, microseconds).
    let pick = |(c_available, c_logged_in): (i64, i64), (t_available, t_logged_in): (i64, i64)| {
        match state {
            UserState::LoggedIn => (c_logged_in, t_logged_in),
            _ => (c_available, t_available),
        }
    };
    let totals = |user: Uuid| {
        (0..n_buckets).fold(((0, 0), (0, 0)), |(c, t), b| {
            let cb = per_bucket.get(&(user, b)).copied().unwrap_or_default();
            let tb = time.get(&(user, b)).copied().unwrap_or_default();
            ((c.0 + cb.0, c.1 + cb.1), (t.0 + tb.0, t.1 + tb.1))
        })
    };

    let kind = PresenceKind::of(family);
    let mut cells = HashMap::new();
    let mut values = Vec::new();
    for (g, user) in users.iter().enumerate() {
        for b in 0..n_buckets {
            let c = per_bucket.get(&(*user, b)).copied().unwrap_or_default();
            let t = time.get(&(*user, b)).copied().unwrap_or_default();
            let (available_us, logged_in_us) = t;
            let value = match kind {
                PresenceKind::Cph => {
                    let (contacts, us) = pick(c, t);
                    PresenceValue::Cph {
                        contacts,
                        seconds: seconds(us),
                        cph: cph(contacts, us),
                    }
                }
                PresenceKind::Seconds => PresenceValue::Seconds(seconds(match state {
                    UserState::Unavailable => logged_in_us - available_us,
                    _ => available_us,
                })),
                PresenceKind::Percentage => PresenceValue::Percentage {
                    percentage: percentage(available_us, logged_in_us),
                    available_seconds: seconds(available_us),
                    logged_in_seconds: seconds(logged_in_us),
                },
                PresenceKind::Advisor => PresenceValue::Advisor(AdvisorMetrics {
                    contacts_logged_in: c.1,
                    contacts_available: c.0,
                    cph_logged_in: cph(c.1, logged_in_us),
                    cph_available: cph(c.0, available_us),
                    logged_in_seconds: seconds(logged_in_us),
                    available_seconds: seconds(available_us),
                    unproductive_percentage: percentage(available_us, logged_in_us)
                        .map(|p| 100.0 - p),
                    average_response_time: responses.get(user).copied().flatten(),
                }),
            };
            cells.insert((g, b), MetricValue::Presence(value));
        }
        if by.is_some() {
            let (c, t) = totals(*user);
            let (_, us) = pick(c, t);
            let list: Vec<ValueCph> = keys
                .iter()
                .map(|key| {
                    let on = contacts
                        .get(&(*user, 0, key.clone()))
                        .copied()
                        .unwrap_or_default();
                    let (n, _) = pick(on, t);
                    ValueCph {
                        key: key.clone(),
                        contacts: n,
                        cph: cph(n, us),
                    }
                })
                .collect();
            let average = if us > 0 {
                mean(list.iter().filter_map(|v| v.cph))
            } else {
                None
            };
            values.push(UserValues {
                values: list,
                average,
            });
        }
    }
    let average = (kind == PresenceKind::Cph).then(|| {
        mean(distinct.iter().filter_map(|user| {
            let (c, t) = totals(*user);
            let (contacts, us) = pick(c, t);
            cph(contacts, us)
        }))
    });
    let groups = users
        .iter()
        .zip(user_keys)
        .map(|(_, key)| GroupInfo {
            name: names.get(&key).cloned(),
            key,
        })
        .collect();
    Ok(Answer {
        by_date: bucket_list,
        groups: Some(groups),
        kind: MetricKind::Presence(kind),
        plan,
        cells,
        presence: Some(PresenceExtra {
            average,
            values: by.map(|_| values),
        }),
    })
}
