-- Exact rollups of the duration tiles (queue time, IVR time, advisor
-- response and originator wait times), so that count, average, min, max and
-- the continuous percentiles p50 and p90 are answered without reading every
-- raw row, and exactly:
--
-- * duration_rollups (level 1): per tenant × metric × queue (the nil UUID
--   for all queues) × UTC hour or day, the count, the sum in microseconds
--   and how many values fall in each of 64 logarithmic bins (b0..b63, see
--   cx_duration_bin). Count and sum give the average; the bin counts tell
--   which bin holds the value of any rank.
-- * duration_values (level 2): per tenant × metric × queue × bin × UTC hour,
--   every distinct value (microseconds) with its multiplicity. The value of
--   a rank is read from the one bin that holds it, in value order; min, max,
--   p50 and p90 are values of ranks (percentile_cont interpolates between
--   the values of ranks floor and ceil of p·(n−1)).
--
-- Both are maintained in the ingest transaction from the changes of the
-- derived times (old value out, new value in), so late events keep them
-- exact. Metrics: 1 queue time, 2 IVR time, 3 advisor response time,
-- 4 originator wait time.

-- The bin of a duration: 0 below one second, then four bins per doubling
-- (1 s, 1.19 s, 1.41 s, ...), the last (63) from 2^15.5 s ≈ 12.9 h upwards.
-- Only this function assigns bins, at ingest and in this backfill.
create function cx_duration_bin(value_us bigint) returns smallint
language sql immutable parallel safe
return case when value_us < 1000000 then 0
    else least(63, 1 + floor(4 * ln(value_us::float8 / 1000000) / ln(2::float8)))::smallint end;

create table duration_rollups (
    tenant_id uuid not null,
    metric smallint not null,
    queue_id uuid not null,
    -- 1: hour, 2: day (UTC)
    grain smallint not null,
    bucket timestamptz not null,
    n bigint not null default 0,
    sum_us bigint not null default 0,
    b0 integer not null default 0,
    b1 integer not null default 0,
    b2 integer not null default 0,
    b3 integer not null default 0,
    b4 integer not null default 0,
    b5 integer not null default 0,
    b6 integer not null default 0,
    b7 integer not null default 0,
    b8 integer not null default 0,
    b9 integer not null default 0,
    b10 integer not null default 0,
    b11 integer not null default 0,
    b12 integer not null default 0,
    b13 integer not null default 0,
    b14 integer not null default 0,
    b15 integer not null default 0,
    b16 integer not null default 0,
    b17 integer not null default 0,
    b18 integer not null default 0,
    b19 integer not null default 0,
    b20 integer not null default 0,
    b21 integer not null default 0,
    b22 integer not null default 0,
    b23 integer not null default 0,
    b24 integer not null default 0,
    b25 integer not null default 0,
    b26 integer not null default 0,
    b27 integer not null default 0,
    b28 integer not null default 0,
    b29 integer not null default 0,
    b30 integer not null default 0,
    b31 integer not null default 0,
    b32 integer not null default 0,
    b33 integer not null default 0,
    b34 integer not null default 0,
    b35 integer not null default 0,
    b36 integer not null default 0,
    b37 integer not null default 0,
    b38 integer not null default 0,
    b39 integer not null default 0,
    b40 integer not null default 0,
    b41 integer not null default 0,
    b42 integer not null default 0,
    b43 integer not null default 0,
    b44 integer not null default 0,
    b45 integer not null default 0,
    b46 integer not null default 0,
    b47 integer not null default 0,
    b48 integer not null default 0,
    b49 integer not null default 0,
    b50 integer not null default 0,
    b51 integer not null default 0,
    b52 integer not null default 0,
    b53 integer not null default 0,
    b54 integer not null default 0,
    b55 integer not null default 0,
    b56 integer not null default 0,
    b57 integer not null default 0,
    b58 integer not null default 0,
    b59 integer not null default 0,
    b60 integer not null default 0,
    b61 integer not null default 0,
    b62 integer not null default 0,
    b63 integer not null default 0,
    primary key (tenant_id, metric, queue_id, grain, bucket)
);

create table duration_values (
    tenant_id uuid not null,
    metric smallint not null,
    queue_id uuid not null,
    bin smallint not null,
    -- the UTC hour
    bucket timestamptz not null,
    value_us bigint not null,
    n bigint not null,
    -- n is included so that reading a bin's values is an index-only scan
    primary key (tenant_id, metric, queue_id, bin, bucket, value_us) include (n)
);

-- Backfill from the derived times already stored.
create temporary table duration_backfill on commit drop as
select v.tenant_id, v.metric, q.queue_id, v.occurred_at, v.value_us, cx_duration_bin(v.value_us) as bin
from (
    select tenant_id, 1::smallint as metric, queue_id, occurred_at, round(queue_seconds * 1000000)::bigint as value_us
    from interaction_audits where queue_seconds is not null
    union all
    select tenant_id, 2::smallint, queue_id, occurred_at, round(ivr_seconds * 1000000)::bigint
    from interaction_audits where ivr_seconds is not null
    union all
    select tenant_id, 3::smallint, queue_id, occurred_at, round(advisor_response_seconds * 1000000)::bigint
    from messages where advisor_response_seconds is not null
    union all
    select tenant_id, 4::smallint, queue_id, occurred_at, round(originator_wait_seconds * 1000000)::bigint
    from messages where originator_wait_seconds is not null
) v
cross join lateral (values ('00000000-0000-0000-0000-000000000000'::uuid), (v.queue_id)) as q(queue_id)
where q.queue_id is not null;

insert into duration_values (tenant_id, metric, queue_id, bin, bucket, value_us, n)
select tenant_id, metric, queue_id, bin, date_bin(interval '1 hour', occurred_at, timestamptz '2000-01-01 00:00:00+00'),
    value_us, count(*)
from duration_backfill
group by 1, 2, 3, 4, 5, 6;

insert into duration_rollups (tenant_id, metric, queue_id, grain, bucket, n, sum_us, b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14, b15, b16, b17, b18, b19, b20, b21, b22, b23, b24, b25, b26, b27, b28, b29, b30, b31, b32, b33, b34, b35, b36, b37, b38, b39, b40, b41, b42, b43, b44, b45, b46, b47, b48, b49, b50, b51, b52, b53, b54, b55, b56, b57, b58, b59, b60, b61, b62, b63)
select tenant_id, metric, queue_id, g.grain, date_bin(g.width, occurred_at, timestamptz '2000-01-01 00:00:00+00'),
    count(*), sum(value_us),
    count(*) filter (where bin = 0),
    count(*) filter (where bin = 1),
    count(*) filter (where bin = 2),
    count(*) filter (where bin = 3),
    count(*) filter (where bin = 4),
    count(*) filter (where bin = 5),
    count(*) filter (where bin = 6),
    count(*) filter (where bin = 7),
    count(*) filter (where bin = 8),
    count(*) filter (where bin = 9),
    count(*) filter (where bin = 10),
    count(*) filter (where bin = 11),
    count(*) filter (where bin = 12),
    count(*) filter (where bin = 13),
    count(*) filter (where bin = 14),
    count(*) filter (where bin = 15),
    count(*) filter (where bin = 16),
    count(*) filter (where bin = 17),
    count(*) filter (where bin = 18),
    count(*) filter (where bin = 19),
    count(*) filter (where bin = 20),
    count(*) filter (where bin = 21),
    count(*) filter (where bin = 22),
    count(*) filter (where bin = 23),
    count(*) filter (where bin = 24),
    count(*) filter (where bin = 25),
    count(*) filter (where bin = 26),
    count(*) filter (where bin = 27),
    count(*) filter (where bin = 28),
    count(*) filter (where bin = 29),
    count(*) filter (where bin = 30),
    count(*) filter (where bin = 31),
    count(*) filter (where bin = 32),
    count(*) filter (where bin = 33),
    count(*) filter (where bin = 34),
    count(*) filter (where bin = 35),
    count(*) filter (where bin = 36),
    count(*) filter (where bin = 37),
    count(*) filter (where bin = 38),
    count(*) filter (where bin = 39),
    count(*) filter (where bin = 40),
    count(*) filter (where bin = 41),
    count(*) filter (where bin = 42),
    count(*) filter (where bin = 43),
    count(*) filter (where bin = 44),
    count(*) filter (where bin = 45),
    count(*) filter (where bin = 46),
    count(*) filter (where bin = 47),
    count(*) filter (where bin = 48),
    count(*) filter (where bin = 49),
    count(*) filter (where bin = 50),
    count(*) filter (where bin = 51),
    count(*) filter (where bin = 52),
    count(*) filter (where bin = 53),
    count(*) filter (where bin = 54),
    count(*) filter (where bin = 55),
    count(*) filter (where bin = 56),
    count(*) filter (where bin = 57),
    count(*) filter (where bin = 58),
    count(*) filter (where bin = 59),
    count(*) filter (where bin = 60),
    count(*) filter (where bin = 61),
    count(*) filter (where bin = 62),
    count(*) filter (where bin = 63)
from duration_backfill
cross join (values (1::smallint, interval '1 hour'), (2::smallint, interval '1 day')) as g(grain, width)
group by 1, 2, 3, 4, 5;
