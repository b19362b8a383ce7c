-- Live conversations (tiles 24-27, view/conversations): one row per
-- conversation, derived at ingest from the stored conversation events and
-- the messages carrying its conversationId, recomputed whenever a batch
-- holds one of them (src/ingest/conversations.rs), so it depends only on
-- the set of events.
create table conversations (
    tenant_id uuid not null,
    conversation_id text not null,
    -- the attributes of its conversation.started (the latest by occurredAt,
    -- then event id); null while none is stored
    started_event text,
    interaction_id text,
    channel text,
    account_id uuid,
    queue_id uuid,
    direction text,
    data jsonb,
    -- its conversation.ended (the latest by occurredAt, then event id)
    ended_at timestamptz,
    -- operator connections at or before the end
    first_connected_at timestamptz,
    last_connected_at timestamptz,
    -- the latest IVR event at or before the end is an ivr_entered
    ended_in_ivr boolean not null default false,
    -- a responding message at or after the last connection, at or before the end
    responded boolean not null default false,
    -- WebChat: abandonedByCustomer, abandonedByOperator, handled;
    -- Voice: abandonedInIvr, abandoned, handled; null unless ended
    class text,
    -- end minus first operator connection; null without a connection
    duration_seconds double precision,
    primary key (tenant_id, conversation_id)
);

-- The tiles and the view read ended conversations by their end; the index
-- covers every column they filter or group by, and ends in the key (the
-- view's order is the end, then the conversation id).
create index conversations_by_end on conversations (tenant_id, ended_at, conversation_id)
    include (channel, account_id, queue_id, direction, class, duration_seconds, interaction_id)
    where ended_at is not null;

-- What the tiles and the view read: ended conversations, with the column
-- names every report source shares (the instant a tile counts is the end).
create view conversation_outcomes as
select tenant_id, conversation_id, conversation_id as event_id, interaction_id, channel,
    account_id, queue_id, null::uuid as user_id, direction, data, ended_at as occurred_at,
    class, duration_seconds
from conversations
where ended_at is not null;

-- The recompute finds a conversation's responding messages by index.
create index messages_by_conversation on messages (tenant_id, conversation_id, occurred_at)
    where conversation_id is not null;

-- The class of a conversation (API.md 4, live conversations), the one
-- definition the ingest recompute and the backfill below share. WebChat:
-- no operator connected, abandonedByCustomer; connected but no responding
-- message after the last connection, abandonedByOperator; else handled.
-- Voice: ended inside the IVR, abandonedInIvr; else no operator connected,
-- abandoned; else handled. Null while the conversation has not ended.
create function cx_live_class(channel text, ended_at timestamptz, first_at timestamptz,
    responded boolean, ended_in_ivr boolean) returns text
language sql immutable as $$
    select case
        when ended_at is null then null
        when channel = 'WebChat' then case
            when first_at is null then 'abandonedByCustomer'
            when not responded then 'abandonedByOperator'
            else 'handled' end
        when channel = 'Voice' then case
            when ended_in_ivr then 'abandonedInIvr'
            when first_at is null then 'abandoned'
            else 'handled' end
    end
$$;

-- The conversations of the events stored before this migration, by the
-- rules of src/ingest/conversations.rs (RECOMPUTE), which every later batch
-- applies to the conversations it touches, and their rollup counts.
-- tests/api/live/backfill.rs runs these statements against ingested events
-- and compares the answers with those of the ingest.
-- backfill:begin
-- Set-based: each part is one pass over the events, joined by hash.
with events as materialized (
    select tenant_id, conversation_id, event_id, kind, occurred_at, interaction_id, channel,
        account_id, queue_id, direction, data
    from conversation_events
), started as (
    select distinct on (tenant_id, conversation_id) *
    from events where kind = 'started'
    order by tenant_id, conversation_id, occurred_at desc, event_id desc
), ended as (
    select distinct on (tenant_id, conversation_id) tenant_id, conversation_id, occurred_at as ended_at
    from events where kind = 'ended'
    order by tenant_id, conversation_id, occurred_at desc, event_id desc
), operators as (
    select e.tenant_id, e.conversation_id, min(e.occurred_at) as first_at, max(e.occurred_at) as last_at
    from events e
    left join ended n on n.tenant_id = e.tenant_id and n.conversation_id = e.conversation_id
    where e.kind = 'operator_connected' and e.occurred_at <= coalesce(n.ended_at, 'infinity')
    group by e.tenant_id, e.conversation_id
), ivr as (
    select distinct on (e.tenant_id, e.conversation_id) e.tenant_id, e.conversation_id,
        e.kind = 'ivr_entered' as inside
    from events e
    left join ended n on n.tenant_id = e.tenant_id and n.conversation_id = e.conversation_id
    where e.kind in ('ivr_entered', 'ivr_exited') and e.occurred_at <= coalesce(n.ended_at, 'infinity')
    order by e.tenant_id, e.conversation_id, e.occurred_at desc, e.event_id desc
), computed as (
    select k.tenant_id, k.conversation_id, st.event_id as started_event, st.interaction_id,
        st.channel, st.account_id, st.queue_id, st.direction, st.data, n.ended_at,
        op.first_at, op.last_at, coalesce(ivr.inside, false) as ended_in_ivr,
        (op.last_at is not null and exists (
            select 1 from messages m
            where m.tenant_id = k.tenant_id and m.conversation_id = k.conversation_id
              and m.direction = 'Outbound' and not m.automated
              and m.occurred_at >= op.last_at
              and m.occurred_at <= coalesce(n.ended_at, 'infinity'))) as responded
    from (select distinct tenant_id, conversation_id from events) k
    left join started st on st.tenant_id = k.tenant_id and st.conversation_id = k.conversation_id
    left join ended n on n.tenant_id = k.tenant_id and n.conversation_id = k.conversation_id
    left join operators op on op.tenant_id = k.tenant_id and op.conversation_id = k.conversation_id
    left join ivr on ivr.tenant_id = k.tenant_id and ivr.conversation_id = k.conversation_id
)
insert into conversations (tenant_id, conversation_id, started_event, interaction_id, channel,
    account_id, queue_id, direction, data, ended_at, first_connected_at, last_connected_at,
    ended_in_ivr, responded, class, duration_seconds)
select c.tenant_id, c.conversation_id, c.started_event, c.interaction_id, c.channel, c.account_id,
    c.queue_id, c.direction, c.data, c.ended_at, c.first_at, c.last_at, c.ended_in_ivr, c.responded,
    cx_live_class(c.channel, c.ended_at, c.first_at, c.responded, c.ended_in_ivr),
    case when c.ended_at is not null and c.first_at is not null
        then extract(epoch from c.ended_at - c.first_at)::float8 end
from computed c
on conflict (tenant_id, conversation_id) do nothing;

-- Their counts in the count rollups (source 3: k1 the class, k2 the
-- account or ''), at hour and day, under their queue and all queues, as
-- the ingest's deltas are folded.
insert into count_rollups (tenant_id, source, queue_id, k1, grain, bucket, k2, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10)
select c.tenant_id, 3, q.queue_id, c.class, g.grain,
    date_bin(g.width, c.ended_at, timestamptz '2000-01-01 00:00:00+00'), coalesce(c.account_id::text, ''),
    count(*) filter (where c.channel = 'Email'), count(*) filter (where c.channel = 'SMS'), count(*) filter (where c.channel = 'Voice'), count(*) filter (where c.channel = 'WebChat'), count(*) filter (where c.channel = 'Facebook'), count(*) filter (where c.channel = 'Instagram'), count(*) filter (where c.channel = 'Twitter'), count(*) filter (where c.channel = 'TrustPilot'), count(*) filter (where c.channel = 'WhatsApp'), count(*) filter (where c.channel = 'Telegram')
from conversations c
cross join lateral (values ('00000000-0000-0000-0000-000000000000'::uuid), (nullif(c.queue_id, '00000000-0000-0000-0000-000000000000'::uuid))) as q(queue_id)
cross join (values (1::smallint, interval '1 hour'), (2::smallint, interval '1 day')) as g(grain, width)
where q.queue_id is not null and c.class is not null
group by 1, 2, 3, 4, 5, 6, 7
on conflict (tenant_id, source, queue_id, k1, grain, bucket, k2) do nothing;
-- backfill:end
