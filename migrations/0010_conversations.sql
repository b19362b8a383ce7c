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
