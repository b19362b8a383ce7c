-- The ino.cx data sources (API.md 5.5): one typed row per stored
-- distribution.completed and sms.sent event, every field of its kind in a
-- column (src/report/datasources/catalogue.rs names them). Rows are keyed
-- by event, like every event table; a distribution or SMS described by
-- several events is shown once, by its latest (occurredAt, then event id),
-- so the rows depend only on the set of events.
create table distributions (
    tenant_id uuid not null,
    event_id text not null,
    occurred_at timestamptz not null,
    distribution_id text not null,
    direction text not null,
    correspondent text,
    queue_id uuid,
    user_id uuid,
    distribution_end_date timestamptz,
    distribution_type text,
    messaging_type text,
    wait_time double precision,
    exchange_time double precision,
    post_interaction_time double precision,
    total_interaction_time double precision,
    interaction_status text,
    transferred boolean,
    detailed_interaction_status text,
    transfer_date timestamptz,
    transfer_release_date timestamptz,
    transfer_to_user boolean,
    transfer_to_queue text,
    transfer_to_queue_group text,
    transfer_to_smart_routing text,
    transfer_to_entry_point text,
    interaction_id text,
    routing_type text,
    call_switched_to_video boolean,
    video_call_duration double precision,
    video_call_wait_time double precision,
    queue_tag text,
    session_start timestamptz,
    session_end timestamptz,
    entry_point text,
    status text,
    smart_routing_name text,
    smart_routing_version_name text,
    checkpoints text[],
    primary key (tenant_id, event_id)
);

-- The rows are read by distribution date; the latest description of a
-- distribution is found by its id.
create index distributions_by_date on distributions (tenant_id, occurred_at, event_id);
create index distributions_by_id on distributions (tenant_id, distribution_id, occurred_at, event_id);

create table sms_sent (
    tenant_id uuid not null,
    event_id text not null,
    occurred_at timestamptz not null,
    sms_id text not null,
    sms_template text,
    sender text,
    origin text,
    sms_type text,
    sms_category text,
    recipient text,
    credits double precision,
    content text,
    checkpoints text[],
    status text,
    distribution_id text,
    interaction_id text,
    original_distribution_id text,
    original_interaction_id text,
    original_interaction_direction text,
    original_interaction_flow text,
    original_interaction_queue text,
    original_interaction_queue_tag text,
    payment_module text,
    payment_module_alias text,
    queue_id uuid,
    queue_tag text,
    sms_campaign text,
    sms_campaigns_alias text,
    sms_template_alias text,
    smart_routing text,
    smart_routing_version_alias text,
    user_id uuid,
    primary key (tenant_id, event_id)
);

create index sms_sent_by_date on sms_sent (tenant_id, occurred_at, event_id);
create index sms_sent_by_id on sms_sent (tenant_id, sms_id, occurred_at, event_id);
