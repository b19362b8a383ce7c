-- UTC rollups of the count families (state audits, messages) at three
-- grains: 15 minutes (every current UTC offset is a multiple of 15 minutes,
-- so calendar buckets of any zone are unions of these), hours and days (so
-- long ranges read few rows). One row per tenant × source × queue × key ×
-- grain × bucket × old state, with a count per channel in columns c1..c10
-- (Channel order of the code: Email, SMS, Voice, WebChat, Facebook,
-- Instagram, Twitter, TrustPilot, WhatsApp, Telegram). queue_id is the nil UUID for the row of
-- all queues. Maintained in the ingest transaction, so always exact.
create table count_rollups (
    tenant_id uuid not null,
    -- 1: interaction_audits (k1 = new_state, k2 = old_state or '');
    -- 2: messages (k1 = direction, k2 = '')
    source smallint not null,
    queue_id uuid not null,
    k1 text not null,
    -- 0: 15 minutes, 1: hour, 2: day (UTC)
    grain smallint not null,
    bucket timestamptz not null,
    k2 text not null,
    c1 bigint not null default 0,
    c2 bigint not null default 0,
    c3 bigint not null default 0,
    c4 bigint not null default 0,
    c5 bigint not null default 0,
    c6 bigint not null default 0,
    c7 bigint not null default 0,
    c8 bigint not null default 0,
    c9 bigint not null default 0,
    c10 bigint not null default 0,
    primary key (tenant_id, source, queue_id, k1, grain, bucket, k2)
);

insert into count_rollups (tenant_id, source, queue_id, k1, grain, bucket, k2, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10)
select a.tenant_id, 1, q.queue_id, a.new_state, g.grain,
    date_bin(g.width, a.occurred_at, timestamptz '2000-01-01 00:00:00+00'), coalesce(a.old_state, ''),
    count(*) filter (where a.channel = 'Email'), count(*) filter (where a.channel = 'SMS'), count(*) filter (where a.channel = 'Voice'), count(*) filter (where a.channel = 'WebChat'), count(*) filter (where a.channel = 'Facebook'), count(*) filter (where a.channel = 'Instagram'), count(*) filter (where a.channel = 'Twitter'), count(*) filter (where a.channel = 'TrustPilot'), count(*) filter (where a.channel = 'WhatsApp'), count(*) filter (where a.channel = 'Telegram')
from interaction_audits a
cross join lateral (values ('00000000-0000-0000-0000-000000000000'::uuid), (a.queue_id)) as q(queue_id)
cross join (values (0::smallint, interval '15 minutes'), (1::smallint, interval '1 hour'), (2::smallint, interval '1 day')) as g(grain, width)
where q.queue_id is not null
group by 1, 2, 3, 4, 5, 6, 7;

insert into count_rollups (tenant_id, source, queue_id, k1, grain, bucket, k2, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10)
select m.tenant_id, 2, q.queue_id, m.direction, g.grain,
    date_bin(g.width, m.occurred_at, timestamptz '2000-01-01 00:00:00+00'), '',
    count(*) filter (where m.channel = 'Email'), count(*) filter (where m.channel = 'SMS'), count(*) filter (where m.channel = 'Voice'), count(*) filter (where m.channel = 'WebChat'), count(*) filter (where m.channel = 'Facebook'), count(*) filter (where m.channel = 'Instagram'), count(*) filter (where m.channel = 'Twitter'), count(*) filter (where m.channel = 'TrustPilot'), count(*) filter (where m.channel = 'WhatsApp'), count(*) filter (where m.channel = 'Telegram')
from messages m
cross join lateral (values ('00000000-0000-0000-0000-000000000000'::uuid), (m.queue_id)) as q(queue_id)
cross join (values (0::smallint, interval '15 minutes'), (1::smallint, interval '1 hour'), (2::smallint, interval '1 day')) as g(grain, width)
where q.queue_id is not null
group by 1, 2, 3, 4, 5, 6, 7;
