-- Two-way activity (API.md §5.3): the webhook events, verbatim in their
-- twenty properties, and the scheduled flat files.

-- One row per two-way event; its identity is (ccid, event_type,
-- event_subtype, event_time), so a re-delivery stores nothing new. The
-- lengths are the seed's (checked at ingest too, to name the field).
-- after_hours_flag is always stored: computed at ingest when absent.
create table twoway_events (
    tenant_id uuid not null,
    ccid varchar(255) collate "C" not null,
    event_type varchar(100) not null,
    event_subtype varchar(100) not null,
    event_time timestamptz not null,
    agent_email varchar(100),
    agent_first_name varchar(100),
    agent_last_name varchar(100),
    agent_roles varchar(1024),
    agent_control_group varchar(100),
    customer_first_name varchar(100),
    customer_last_name varchar(100),
    product_group_id varchar(255),
    control_tag varchar(100),
    twoway_channel_sid varchar(100),
    conversation_id varchar(256),
    closed_reason varchar(256),
    closed_additional_information varchar(1024),
    after_hours_flag boolean not null,
    sender_type varchar(50),
    conversation_status varchar(50),
    received_at timestamptz not null default now(),
    primary key (tenant_id, ccid, event_type, event_subtype, event_time)
);
-- The listing and the files read a range of event_time in order.
create index twoway_events_by_time on twoway_events (tenant_id, event_time, ccid);

-- One file per tenant and period, written once and never rewritten: the
-- unique key makes a second writer (a restart, another process) a no-op.
create table twoway_files (
    tenant_id uuid not null,
    file_id uuid not null,
    schedule text not null check (schedule in ('Daily', 'Weekly', 'Monthly')),
    period_from timestamptz not null,
    period_to timestamptz not null,
    csv bytea not null,
    rows bigint not null,
    bytes bigint not null,
    created_at timestamptz not null default now(),
    primary key (tenant_id, file_id),
    unique (tenant_id, schedule, period_from, period_to)
);
create index twoway_files_by_period on twoway_files (tenant_id, period_from desc);
