//! Derived facts: queue and IVR times on state audits, advisor response and
//! originator wait times on messages. They are recomputed from the stored
//! set for every interaction a batch touches, inside the batch's
//! transaction and under a per-interaction lock, so the answer depends only
//! on the set of events: a late or out-of-order event corrects earlier
//! values. Every change is passed on to the duration rollups
//! ([`super::durations`]).

use std::sync::LazyLock;

use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use super::durations::{self, Change};

/// Serialises recomputation per interaction: whichever of two concurrent
/// batches touching the same interaction recomputes second sees both.
/// Keys are locked in sorted order, so two batches cannot deadlock.
const LOCK_INTERACTIONS: &str = r#"
select count(pg_advisory_xact_lock(hashtextextended($1::text || '/' || i, 0)))
from unnest($2::text[]) as i
"#;

/// `computed` is materialised: with an estimate of one row (a fresh
/// tenant), the planner once joined the update to it in a nested loop that
/// re-ran the whole window chain per message (12 s for one batch in a
/// bench run, found by the shuffled ingest).
///
/// The rows of the touched interactions are read one interaction at a time
/// (a lateral index scan each): given the whole list as `= any($2)`, the
/// planner sometimes chose a sequential scan of every tenant's rows, which
/// took 0.8 s per batch at 300k events in a bench run and grows with the
/// table.
///
/// "Entered state S" is the latest audit at or before the moment whose
/// newState is S; ties on the instant are ordered by event id.
const QUEUE_AND_IVR_TIMES_TEMPLATE: &str = r#"
with computed as materialized (
    select a.row_id, a.event_id, a.queue_id, a.occurred_at,
        a.queue_seconds as old_queue_seconds, a.ivr_seconds as old_ivr_seconds,
        case when a.old_state = 'Queued' and a.new_state = 'Assigned' then (
            select extract(epoch from a.occurred_at - q.occurred_at)::float8
            from interaction_audits q
            where q.tenant_id = a.tenant_id and q.interaction_id = a.interaction_id
              and q.new_state = 'Queued' and (q.occurred_at, q.event_id) < (a.occurred_at, a.event_id)
            order by q.occurred_at desc, q.event_id desc limit 1) end as queue_seconds,
        case when a.old_state = 'Automation' and a.new_state in ('Closed', 'Assigned', 'Queued') then (
            select extract(epoch from a.occurred_at - q.occurred_at)::float8
            from interaction_audits q
            where q.tenant_id = a.tenant_id and q.interaction_id = a.interaction_id
              and q.new_state = 'Automation' and (q.occurred_at, q.event_id) < (a.occurred_at, a.event_id)
            order by q.occurred_at desc, q.event_id desc limit 1) end as ivr_seconds
    from unnest($2::text[]) as i(id)
    cross join lateral (
        select a.ctid as row_id, a.* from interaction_audits a
        where a.tenant_id = $1 and a.interaction_id = i.id
          and ((a.old_state = 'Queued' and a.new_state = 'Assigned')
            or (a.old_state = 'Automation' and a.new_state in ('Closed', 'Assigned', 'Queued')))
        offset 0) a
), changed as (
    update interaction_audits a set queue_seconds = c.queue_seconds, ivr_seconds = c.ivr_seconds
    from computed c
    where a.ctid = c.row_id
      and (a.queue_seconds is distinct from c.queue_seconds or a.ivr_seconds is distinct from c.ivr_seconds)
    returning c.*
)
CHANGES
"#;

/// Messages of an interaction in order (instant, then event id). A message
/// *responds* when it is Outbound and not automated; automated messages
/// take no part. For a responding message at t:
/// - OriginatorWaitTime = t − the earliest inbound after the previous
///   responding message (messages with the same count of responding
///   messages before them form one "segment").
/// - AdvisorResponseTime: only when the latest audit at or before t is
///   Assigned (A = its instant). L = the latest inbound before t. A
///   responding message between L and t: unset. L after A: t − L. Else
///   t − A, unless a responding message lies at or after A (then unset).
///   At one instant an audit comes before the messages ("at or before"),
///   so an inbound at A's instant is after A (found by the model test:
///   with a responding message between A and that inbound, the time was
///   wrongly unset).
const MESSAGE_TIMES_TEMPLATE: &str = r#"
with m as (
    select row_id, event_id, interaction_id, occurred_at, queue_id,
        advisor_response_seconds as old_response, originator_wait_seconds as old_wait,
        (direction = 'Outbound' and not automated) as responding,
        (direction = 'Inbound') as inbound,
        row_number() over (partition by interaction_id order by occurred_at, event_id) as pos
    from unnest($2::text[]) as i(id)
    cross join lateral (
        select ctid as row_id, * from messages
        where tenant_id = $1 and interaction_id = i.id
        offset 0) msg
), ordered as (
    select *,
        max(case when inbound then pos end) over w as last_in_pos,
        max(case when inbound then occurred_at end) over w as last_in_at,
        max(case when responding then pos end) over w as last_resp_pos,
        max(case when responding then occurred_at end) over w as last_resp_at,
        coalesce(sum(case when responding then 1 else 0 end) over w, 0) as segment
    from m
    window w as (partition by interaction_id order by pos rows between unbounded preceding and 1 preceding)
), segmented as (
    select *, min(case when inbound then occurred_at end)
        over (partition by interaction_id, segment) as first_in_at
    from ordered
), computed as materialized (
    select s.row_id, s.event_id, s.queue_id, s.occurred_at, s.old_response, s.old_wait,
        case when s.responding and s.first_in_at is not null
             then extract(epoch from s.occurred_at - s.first_in_at)::float8 end as wait,
        case when not s.responding or st.new_state is distinct from 'Assigned' then null
             when s.last_in_pos is not null and s.last_resp_pos > s.last_in_pos then null
             when s.last_in_at is not null and s.last_in_at >= st.occurred_at
                 then extract(epoch from s.occurred_at - s.last_in_at)::float8
             when s.last_resp_at is not null and s.last_resp_at >= st.occurred_at then null
             else extract(epoch from s.occurred_at - st.occurred_at)::float8 end as response
    from segmented s
    left join lateral (
        select a.new_state, a.occurred_at
        from interaction_audits a
        where a.tenant_id = $1 and a.interaction_id = s.interaction_id and a.occurred_at <= s.occurred_at
        order by a.occurred_at desc, a.event_id desc
        limit 1
    ) st on s.responding
), changed as (
    update messages msg set advisor_response_seconds = c.response, originator_wait_seconds = c.wait
    from computed c
    where msg.ctid = c.row_id
      and (msg.advisor_response_seconds is distinct from c.response
           or msg.originator_wait_seconds is distinct from c.wait)
    returning c.*
)
CHANGES
"#;

static QUEUE_AND_IVR_TIMES: LazyLock<String> = LazyLock::new(|| {
    QUEUE_AND_IVR_TIMES_TEMPLATE.replace(
        "CHANGES",
        &changes([
            (1, "old_queue_seconds", "queue_seconds"),
            (2, "old_ivr_seconds", "ivr_seconds"),
        ]),
    )
});

static MESSAGE_TIMES: LazyLock<String> = LazyLock::new(|| {
    MESSAGE_TIMES_TEMPLATE.replace(
        "CHANGES",
        &changes([(3, "old_response", "response"), (4, "old_wait", "wait")]),
    )
});

/// The final select of a recompute statement: for each updated row of
/// `changed`, the old value of each metric leaves the duration rollups
/// (sign −1) and the new one enters them (+1); unchanged pairs cancel out.
fn changes(metrics: [(i16, &str, &str); 2]) -> String {
    let values: Vec<String> = metrics
        .iter()
        .flat_map(|(metric, old, new)| {
            [
                format!("({metric}::smallint, c.{old}, -1::bigint)"),
                format!("({metric}::smallint, c.{new}, 1::bigint)"),
            ]
        })
        .collect();
    format!(
        "select x.metric, c.queue_id, c.occurred_at, v.value_us, x.sign, cx_duration_bin(v.value_us) as bin
from changed c
cross join lateral (values {}) as x(metric, seconds, sign)
cross join lateral (select round(x.seconds * 1000000)::bigint as value_us) as v
where x.seconds is not null",
        values.join(", ")
    )
}

/// Recomputes every derived time of the given interactions.
pub async fn recompute(
    tx: &mut Transaction<'_, Postgres>,
    tenant_id: Uuid,
    interactions: &mut Vec<String>,
) -> sqlx::Result<()> {
    if interactions.is_empty() {
        return Ok(());
    }
    interactions.sort();
    interactions.dedup();
    sqlx::query(LOCK_INTERACTIONS)
        .bind(tenant_id)
        .bind(&*interactions)
        .execute(&mut **tx)
        .await?;
    // Every row these statements read or update is found by an index (the
    // interaction's rows, then each by its address). With a large estimate of
    // the touched rows the planner chose to join the update by a
    // sequential scan of every tenant's audits instead, and at 5M events
    // one such statement ran past the 15 s statement timeout during a
    // bench ingest: sequential scans are ruled out for these two.
    sqlx::query("set local enable_seqscan = off")
        .execute(&mut **tx)
        .await?;
    let mut changes: Vec<Change> = sqlx::query_as(QUEUE_AND_IVR_TIMES.as_str())
        .bind(tenant_id)
        .bind(&*interactions)
        .fetch_all(&mut **tx)
        .await?;
    changes.extend(
        sqlx::query_as::<_, Change>(MESSAGE_TIMES.as_str())
            .bind(tenant_id)
            .bind(&*interactions)
            .fetch_all(&mut **tx)
            .await?,
    );
    sqlx::query("set local enable_seqscan = on")
        .execute(&mut **tx)
        .await?;
    durations::apply(tx, tenant_id, &changes).await?;
    Ok(())
}
