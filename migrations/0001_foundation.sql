-- Tenants and their credentials. Every primary key and index starts with
-- tenant_id so the schema can be sharded by tenant later.
create table tenants (
    tenant_id uuid primary key,
    name text not null,
    created_at timestamptz not null default now()
);

create table client_credentials (
    tenant_id uuid not null references tenants (tenant_id) on delete cascade,
    client_id text not null,
    -- argon2id PHC string; the secret itself is never stored
    secret_hash text not null,
    created_at timestamptz not null default now(),
    primary key (tenant_id, client_id)
);

create table tenant_settings (
    tenant_id uuid primary key references tenants (tenant_id) on delete cascade,
    -- the webhook secret is derived from the server key and this version, so
    -- it is never stored; bumping the version rotates it
    webhook_secret_version integer not null default 1,
    settings jsonb not null default '{}'::jsonb,
    updated_at timestamptz not null default now()
);

-- Every ingested event, verbatim: the idempotency record (one row per
-- client-chosen id) and the source from which every projection is derived.
create table events (
    tenant_id uuid not null,
    event_id text not null,
    event_type text not null,
    occurred_at timestamptz not null,
    received_at timestamptz not null default now(),
    payload jsonb not null,
    primary key (tenant_id, event_id)
);
create index events_by_type_time on events (tenant_id, event_type, occurred_at);

create table interaction_audits (
    tenant_id uuid not null,
    event_id text not null,
    interaction_id text not null,
    reference text,
    channel text not null,
    old_state text,
    new_state text not null,
    queue_id uuid,
    user_id uuid,
    occurred_at timestamptz not null,
    data jsonb,
    primary key (tenant_id, event_id)
);
create index interaction_audits_by_time on interaction_audits (tenant_id, occurred_at) include (new_state, old_state, channel, queue_id, user_id);
create index interaction_audits_by_interaction on interaction_audits (tenant_id, interaction_id, occurred_at);

create table messages (
    tenant_id uuid not null,
    event_id text not null,
    interaction_id text not null,
    conversation_id text,
    direction text not null,
    automated boolean not null,
    channel text not null,
    queue_id uuid,
    account_id uuid,
    user_id uuid,
    content_type text not null,
    from_address text,
    to_address text,
    keyword text,
    delivery_status text,
    status_code text,
    occurred_at timestamptz not null,
    data jsonb,
    -- derived, recomputed whenever an event of the same interaction arrives
    advisor_response_seconds double precision,
    originator_wait_seconds double precision,
    primary key (tenant_id, event_id)
);
create index messages_by_time on messages (tenant_id, occurred_at);
create index messages_by_interaction on messages (tenant_id, interaction_id, occurred_at);

create table conversation_events (
    tenant_id uuid not null,
    event_id text not null,
    conversation_id text not null,
    kind text not null,
    interaction_id text,
    channel text,
    account_id uuid,
    queue_id uuid,
    user_id uuid,
    direction text,
    initiation_method text,
    ended_by text,
    occurred_at timestamptz not null,
    data jsonb,
    primary key (tenant_id, event_id)
);
create index conversation_events_by_conversation on conversation_events (tenant_id, conversation_id, occurred_at);
create index conversation_events_by_time on conversation_events (tenant_id, kind, occurred_at);

create table presence_changes (
    tenant_id uuid not null,
    event_id text not null,
    user_id uuid not null,
    state text not null,
    occurred_at timestamptz not null,
    primary key (tenant_id, event_id)
);
create index presence_changes_by_user on presence_changes (tenant_id, user_id, occurred_at);

create table units_of_work (
    tenant_id uuid not null,
    event_id text not null,
    interaction_id text not null,
    user_id uuid not null,
    assigned_at timestamptz not null,
    user_state text not null,
    closed integer not null,
    messages integer not null,
    data_changes integer not null,
    notes integer not null,
    channel text not null,
    queue_id uuid,
    occurred_at timestamptz not null,
    data jsonb,
    primary key (tenant_id, event_id)
);
create index units_of_work_by_time on units_of_work (tenant_id, occurred_at);

-- The directory: the latest description of each user, queue, account and
-- data type, by occurredAt (ties broken by event id) so arrival order never
-- matters.
create table directory_users (
    tenant_id uuid not null,
    user_id uuid not null,
    email text not null,
    first_name text not null,
    last_name text not null,
    roles text[] not null,
    control_group text,
    as_of timestamptz not null,
    as_of_event text not null,
    primary key (tenant_id, user_id)
);

create table directory_queues (
    tenant_id uuid not null,
    queue_id uuid not null,
    name text not null,
    as_of timestamptz not null,
    as_of_event text not null,
    primary key (tenant_id, queue_id)
);

create table directory_accounts (
    tenant_id uuid not null,
    account_id uuid not null,
    name text not null,
    channel text not null,
    as_of timestamptz not null,
    as_of_event text not null,
    primary key (tenant_id, account_id)
);

create table directory_data_types (
    tenant_id uuid not null,
    data_type_id uuid not null,
    name text not null,
    kind text not null,
    reportable boolean not null,
    options jsonb not null,
    as_of timestamptz not null,
    as_of_event text not null,
    primary key (tenant_id, data_type_id)
);
