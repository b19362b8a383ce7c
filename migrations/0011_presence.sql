-- Presence spans, maintained at ingest (src/ingest/presence.rs): a user's
-- state holds from its presence.changed until the user's next change, so
-- each change is a span [occurred_at, ended_at) with ended_at the instant of
-- the next change (changes at one instant are ordered by event id: all but
-- the last are empty spans). The last change of a user is open (null); a
-- query stops it at min(to, the moment of the request). Recomputed for each
-- user a batch touches from the change before the batch's earliest change
-- of that user, so a late change that splits a span corrects it exactly.
alter table presence_changes add column ended_at timestamptz;

update presence_changes p set ended_at = n.next_at
from (
    select tenant_id, event_id,
        lead(occurred_at) over (partition by tenant_id, user_id order by occurred_at, event_id) as next_at
    from presence_changes
) n
where p.tenant_id = n.tenant_id and p.event_id = n.event_id and n.next_at is not null;

-- The spans of a user in time order, read by index only (the carried-in
-- span before `from` is the last entry below it).
drop index presence_changes_by_user;
create index presence_changes_spans on presence_changes (tenant_id, user_id, occurred_at, event_id)
    include (state, ended_at);

-- Contacts of a user in a range, read by index only.
create index units_of_work_contacts on units_of_work (tenant_id, user_id, occurred_at)
    include (user_state, channel, queue_id)
    where closed > 0 or messages > 0 or data_changes > 0 or notes > 0;

-- The day rollup, maintained at ingest (src/ingest/presence/days.rs): per
-- user and UTC day, 24 hourly cells, stored as running sums (element k =
-- the sum of the hours from 00:00 UTC to the end of hour k - 1, so a run of
-- hours is the difference of two elements), of microseconds
-- available (Online) and logged in (not Offline) of the closed spans (the
-- open last span is added at query time), and of contacts (unit-of-work
-- audits with an action) counting for Available (userState Online) and
-- LoggedIn (userState not Offline).
create table presence_days (
    tenant_id uuid not null,
    user_id uuid not null,
    day date not null,
    available_us bigint[] not null,
    logged_in_us bigint[] not null,
    contacts_available bigint[] not null,
    contacts_logged_in bigint[] not null,
    primary key (tenant_id, user_id, day)
);

with pieces as (
    select p.tenant_id, p.user_id, p.state, h,
        (extract(epoch from least(p.ended_at at time zone 'UTC', h + interval '1 hour')
            - greatest(p.occurred_at at time zone 'UTC', h)) * 1000000)::bigint as us
    from presence_changes p
    cross join lateral generate_series(date_trunc('hour', p.occurred_at at time zone 'UTC'),
        p.ended_at at time zone 'UTC' - interval '1 microsecond', interval '1 hour') as h
    where p.ended_at is not null and p.ended_at > p.occurred_at and p.state <> 'Offline'
), time_hours as (
    select tenant_id, user_id, h, coalesce(sum(us) filter (where state = 'Online'), 0) as a, sum(us) as l
    from pieces group by 1, 2, 3
), contact_hours as (
    select tenant_id, user_id, date_trunc('hour', occurred_at at time zone 'UTC') as h,
        count(*) filter (where user_state = 'Online') as ca,
        count(*) filter (where user_state <> 'Offline') as cl
    from units_of_work
    where closed > 0 or messages > 0 or data_changes > 0 or notes > 0
    group by 1, 2, 3
), hours as (
    select coalesce(t.tenant_id, c.tenant_id) as tenant_id, coalesce(t.user_id, c.user_id) as user_id,
        coalesce(t.h, c.h) as h, coalesce(t.a, 0) as a, coalesce(t.l, 0) as l,
        coalesce(c.ca, 0) as ca, coalesce(c.cl, 0) as cl
    from time_hours t
    full join contact_hours c on c.tenant_id = t.tenant_id and c.user_id = t.user_id and c.h = t.h
), days as (
    select distinct tenant_id, user_id, h::date as day from hours
)
insert into presence_days (tenant_id, user_id, day, available_us, logged_in_us,
    contacts_available, contacts_logged_in)
select tenant_id, user_id, day, array_agg(a order by g), array_agg(l order by g),
    array_agg(ca order by g), array_agg(cl order by g)
from (
    select d.tenant_id, d.user_id, d.day, g,
        (sum(coalesce(x.a, 0)) over w)::bigint as a, (sum(coalesce(x.l, 0)) over w)::bigint as l,
        (sum(coalesce(x.ca, 0)) over w)::bigint as ca, (sum(coalesce(x.cl, 0)) over w)::bigint as cl
    from days d
    cross join generate_series(0, 23) as g
    left join hours x on x.tenant_id = d.tenant_id and x.user_id = d.user_id
        and x.h = d.day + g * interval '1 hour'
    window w as (partition by d.tenant_id, d.user_id, d.day order by g)
) running
group by 1, 2, 3;
