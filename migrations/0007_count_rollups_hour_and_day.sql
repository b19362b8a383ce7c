-- Count rollups keep the hour and day grains only: the quarter-hour edges
-- of ranges in zones such as +05:30 and +05:45 (at most 45 minutes at each
-- end of a bucket) are read from the raw rows' time indexes, which costs
-- less than writing a third grain for every ingested event.
--
-- They are rebuilt rather than trimmed: an event naming the nil UUID as its
-- queue was counted twice in the row of all queues (which is the nil UUID);
-- it now counts there once.
truncate count_rollups;

insert into count_rollups (tenant_id, source, queue_id, k1, grain, bucket, k2, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10)
select a.tenant_id, 1, q.queue_id, a.new_state, g.grain,
    date_bin(g.width, a.occurred_at, timestamptz '2000-01-01 00:00:00+00'), coalesce(a.old_state, ''),
    count(*) filter (where a.channel = 'Email'), count(*) filter (where a.channel = 'SMS'), count(*) filter (where a.channel = 'Voice'), count(*) filter (where a.channel = 'WebChat'), count(*) filter (where a.channel = 'Facebook'), count(*) filter (where a.channel = 'Instagram'), count(*) filter (where a.channel = 'Twitter'), count(*) filter (where a.channel = 'TrustPilot'), count(*) filter (where a.channel = 'WhatsApp'), count(*) filter (where a.channel = 'Telegram')
from interaction_audits a
cross join lateral (values ('00000000-0000-0000-0000-000000000000'::uuid), (nullif(a.queue_id, '00000000-0000-0000-0000-000000000000'::uuid))) as q(queue_id)
cross join (values (1::smallint, interval '1 hour'), (2::smallint, interval '1 day')) as g(grain, width)
where q.queue_id is not null
group by 1, 2, 3, 4, 5, 6, 7;

insert into count_rollups (tenant_id, source, queue_id, k1, grain, bucket, k2, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10)
select m.tenant_id, 2, q.queue_id, m.direction, g.grain,
    date_bin(g.width, m.occurred_at, timestamptz '2000-01-01 00:00:00+00'), '',
    count(*) filter (where m.channel = 'Email'), count(*) filter (where m.channel = 'SMS'), count(*) filter (where m.channel = 'Voice'), count(*) filter (where m.channel = 'WebChat'), count(*) filter (where m.channel = 'Facebook'), count(*) filter (where m.channel = 'Instagram'), count(*) filter (where m.channel = 'Twitter'), count(*) filter (where m.channel = 'TrustPilot'), count(*) filter (where m.channel = 'WhatsApp'), count(*) filter (where m.channel = 'Telegram')
from messages m
cross join lateral (values ('00000000-0000-0000-0000-000000000000'::uuid), (nullif(m.queue_id, '00000000-0000-0000-0000-000000000000'::uuid))) as q(queue_id)
cross join (values (1::smallint, interval '1 hour'), (2::smallint, interval '1 day')) as g(grain, width)
where q.queue_id is not null
group by 1, 2, 3, 4, 5, 6, 7;
