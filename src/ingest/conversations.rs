//! Derived conversation state (tiles 24–27, `view/conversations`): one row
//! per conversation in `conversations` (migration 0010), recomputed from the
//! stored events for every conversation a batch touches, inside the batch's
//! transaction and under a per-conversation lock, so the row depends only on
//! the set of events, never on their order or batching.
//!
//! Each change of an ended conversation's class, end, channel, queue or
//! account is passed on to the count rollup deltas (source 3: k1 the class,
//! k2 the account): −1 under its old values, +1 under its new ones.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use super::events::ValidEvent;
use super::rollups::{self, Key, CHANNELS};
use crate::domain::Channel;
use crate::report::buckets::{floor_to, HOUR};

/// The `source` of ended conversations in the count rollups.
pub const LIVE_SOURCE: i16 = 3;

/// Serialises recomputation per conversation, as [`super::derive`] does per
/// interaction (its own key space, so the two lock sets never meet). Keys
/// are locked in sorted order, so two batches cannot deadlock.
const LOCK_CONVERSATIONS: &str = r#"
select count(pg_advisory_xact_lock(hashtextextended($1::text || '/conversation/' || c, 0)))
from unnest($2::text[]) as c
"#;

/// Recomputes the rows of the given conversations (those with at least one
/// stored conversation event; a message alone makes no row).
///
/// - The attributes are those of the latest `conversation.started`
///   (occurredAt, then event id); the end is the latest `conversation.ended`
///   the same way.
/// - Operator connections, IVR events and responding messages count when
///   they lie at or before the end (any time while the conversation has
///   not ended).
/// - It ended in the IVR when the latest `ivr_entered`/`ivr_exited` at or
///   before the end (ties: the greater event id) is an `ivr_entered`.
/// - A responding message (Outbound, not automated, same conversationId)
///   answers the last operator connection when it lies at or after it: at
///   one instant the connection comes first, as audits come before messages.
///
/// The stored rows are read one conversation at a time, by the conditions
/// only `conversation_events_by_conversation` (and, for messages,
/// `messages_by_conversation`) serves, fenced by `offset 0`; everything
/// else is computed from those few rows. (Given the kind as a condition
/// too, the planner once probed `conversation_events_by_time` by tenant and
/// kind for each conversation while the statistics of a growing table were
/// stale: a batch of 1,000 conversations took 10 s at 80,000 events in a
/// test run, against 40 ms once analysed.)
const RECOMPUTE: &str = r#"
with events as materialized (
    select e.*
    from unnest($2::text[]) as c(id)
    cross join lateral (
        select e.conversation_id, e.event_id, e.kind, e.occurred_at, e.interaction_id, e.channel,
            e.account_id, e.queue_id, e.direction, e.data
        from conversation_events e
        where e.tenant_id = $1 and e.conversation_id = c.id
        offset 0) e
), started as (
    select distinct on (conversation_id) *
    from events where kind = 'started'
    order by conversation_id, occurred_at desc, event_id desc
), ended as (
    select distinct on (conversation_id) conversation_id, occurred_at as ended_at
    from events where kind = 'ended'
    order by conversation_id, occurred_at desc, event_id desc
), operators as (
    select e.conversation_id, min(e.occurred_at) as first_at, max(e.occurred_at) as last_at
    from events e left join ended n on n.conversation_id = e.conversation_id
    where e.kind = 'operator_connected' and e.occurred_at <= coalesce(n.ended_at, 'infinity')
    group by e.conversation_id
), ivr as (
    select distinct on (e.conversation_id) e.conversation_id, e.kind = 'ivr_entered' as inside
    from events e left join ended n on n.conversation_id = e.conversation_id
    where e.kind in ('ivr_entered', 'ivr_exited') and e.occurred_at <= coalesce(n.ended_at, 'infinity')
    order by e.conversation_id, e.occurred_at desc, e.event_id desc
), computed as materialized (
    select k.conversation_id, st.event_id as started_event, st.interaction_id, st.channel,
        st.account_id, st.queue_id, st.direction, st.data, n.ended_at,
        op.first_at, op.last_at, coalesce(ivr.inside, false) as ended_in_ivr,
        (op.last_at is not null and exists (
            select 1
            from (select m.occurred_at, m.direction, m.automated
                from messages m
                where m.tenant_id = $1 and m.conversation_id = k.conversation_id
                offset 0) m
            where m.direction = 'Outbound' and not m.automated
              and m.occurred_at >= op.last_at
              and m.occurred_at <= coalesce(n.ended_at, 'infinity'))) as responded
    from (select distinct conversation_id from events) k
    left join started st on st.conversation_id = k.conversation_id
    left join ended n on n.conversation_id = k.conversation_id
    left join operators op on op.conversation_id = k.conversation_id
    left join ivr on ivr.conversation_id = k.conversation_id
), classified as (
    select c.*,
        cx_live_class(c.channel, c.ended_at, c.first_at, c.responded, c.ended_in_ivr) as class,
        case when c.ended_at is not null and c.first_at is not null
            then extract(epoch from c.ended_at - c.first_at)::float8 end as duration_seconds
    from computed c
), old as materialized (
    select t.conversation_id, t.class, t.ended_at, t.channel, t.queue_id, t.account_id
    from unnest($2::text[]) as c(id)
    join conversations t on t.tenant_id = $1 and t.conversation_id = c.id
), upserted as (
insert into conversations as t (tenant_id, conversation_id, started_event, interaction_id, channel,
    account_id, queue_id, direction, data, ended_at, first_connected_at, last_connected_at,
    ended_in_ivr, responded, class, duration_seconds)
select $1, conversation_id, started_event, interaction_id, channel, account_id, queue_id,
    direction, data, ended_at, first_at, last_at, ended_in_ivr, responded, class, duration_seconds
from classified
on conflict (tenant_id, conversation_id) do update set started_event = excluded.started_event,
    interaction_id = excluded.interaction_id, channel = excluded.channel,
    account_id = excluded.account_id, queue_id = excluded.queue_id,
    direction = excluded.direction, data = excluded.data, ended_at = excluded.ended_at,
    first_connected_at = excluded.first_connected_at, last_connected_at = excluded.last_connected_at,
    ended_in_ivr = excluded.ended_in_ivr, responded = excluded.responded, class = excluded.class,
    duration_seconds = excluded.duration_seconds
where (t.started_event, t.ended_at, t.first_connected_at, t.last_connected_at, t.ended_in_ivr,
        t.responded, t.class, t.duration_seconds)
    is distinct from (excluded.started_event, excluded.ended_at, excluded.first_connected_at,
        excluded.last_connected_at, excluded.ended_in_ivr, excluded.responded, excluded.class,
        excluded.duration_seconds)
returning t.conversation_id, t.class, t.ended_at, t.channel, t.queue_id, t.account_id
)
select -1::bigint as sign, o.class, o.ended_at, o.channel, o.queue_id,
    coalesce(o.account_id::text, '') as account
from old o join upserted u on u.conversation_id = o.conversation_id
where o.class is not null
union all
select 1::bigint, u.class, u.ended_at, u.channel, u.queue_id, coalesce(u.account_id::text, '')
from upserted u
where u.class is not null
"#;

/// The conversations a batch touches: those of its `conversation.*` events
/// and of its messages that carry a `conversationId`, sorted and distinct.
pub fn touched(events: &[ValidEvent]) -> Vec<String> {
    let ids: BTreeSet<&str> = events
        .iter()
        .filter(|e| {
            let kind = e.kind.as_str();
            kind.starts_with("conversation.") || kind == "message.created"
        })
        .filter_map(|e| e.payload.get("conversationId")?.as_str())
        .collect();
    ids.into_iter().map(str::to_owned).collect()
}

/// Recomputes the derived rows of every conversation `events` touch.
pub async fn recompute(
    tx: &mut Transaction<'_, Postgres>,
    tenant_id: Uuid,
    events: &[ValidEvent],
) -> sqlx::Result<()> {
    let conversations = touched(events);
    if conversations.is_empty() {
        return Ok(());
    }
    sqlx::query(LOCK_CONVERSATIONS)
        .bind(tenant_id)
        .bind(&conversations)
        .execute(&mut **tx)
        .await?;
    // Every row read is one conversation's, found by an index; as in
    // `derive`, sequential scans are ruled out so a large estimate of the
    // touched rows never turns into a scan of every tenant's events.
    sqlx::query("set local enable_seqscan = off")
        .execute(&mut **tx)
        .await?;
    let changes: Vec<Change> = sqlx::query_as(RECOMPUTE)
        .bind(tenant_id)
        .bind(&conversations)
        .fetch_all(&mut **tx)
        .await?;
    sqlx::query("set local enable_seqscan = on")
        .execute(&mut **tx)
        .await?;
    rollups::append(tx, tenant_id, deltas(&changes)).await
}

/// A class leaving (−1) or entering (+1) the rollups: the sign, class, end,
/// channel, queue and account (its id as text, empty for none) of an
/// ended conversation.
type Change = (
    i64,
    String,
    DateTime<Utc>,
    Option<String>,
    Option<Uuid>,
    String,
);

/// The rollup deltas of the changes: one row per (queue, class, UTC hour,
/// account), counted in the channel's column; changes that cancel out
/// leave no row.
fn deltas(changes: &[Change]) -> BTreeMap<Key<'_>, [i64; CHANNELS]> {
    let mut out: BTreeMap<Key<'_>, [i64; CHANNELS]> = BTreeMap::new();
    for (sign, class, ended_at, channel, queue, account) in changes {
        let Some(column) = Channel::ALL
            .iter()
            .position(|c| Some(c.as_str()) == channel.as_deref())
        else {
            continue;
        };
        let key = (
            LIVE_SOURCE,
            queue.unwrap_or_else(Uuid::nil),
            class.as_str(),
            floor_to(*ended_at, HOUR),
            account.as_str(),
        );
        out.entry(key).or_insert([0; CHANNELS])[column] += sign;
    }
    out.retain(|_, counts| counts.iter().any(|n| *n != 0));
    out
}
