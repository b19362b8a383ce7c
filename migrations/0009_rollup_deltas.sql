-- The ingest path no longer updates the rollups in place: each batch
-- appends its net changes to these delta tables (no conflict, no row lock
-- shared with another batch), and one background worker at a time folds
-- them into the rollups (`src/ingest/fold.rs`), in one transaction that
-- deletes the deltas it adds. Readers add the deltas not yet folded, so
-- every answer is exact at every moment, folded or not.
--
-- A delta is as narrow as the facts allow; the fold spreads it:
-- - count_rollup_deltas: one row per (source, the event's queue or the nil
--   UUID, k1, UTC hour, k2), counts per channel; folded into the rows of
--   that queue and of all queues (the nil UUID), at hour and day.
-- - duration_value_deltas: one row per (metric, queue or nil, bin, UTC
--   hour, value), the change of its multiplicity; folded into
--   duration_values (per queue and all queues) and into duration_rollups
--   (count, sum and bin counts, at hour and day).
-- Several rows of one key may wait. One small index each, for the readers'
-- range scans of a tenant's unfolded rows. Autovacuum visits them often
-- (the worker also vacuums them), since every row is deleted within a
-- second or so.
create table count_rollup_deltas (
    tenant_id uuid not null,
    source smallint not null,
    queue_id uuid not null,
    k1 text not null,
    bucket timestamptz not null,
    k2 text not null,
    c1 bigint not null,
    c2 bigint not null,
    c3 bigint not null,
    c4 bigint not null,
    c5 bigint not null,
    c6 bigint not null,
    c7 bigint not null,
    c8 bigint not null,
    c9 bigint not null,
    c10 bigint not null
);
create index count_rollup_deltas_by_hour on count_rollup_deltas (tenant_id, bucket);

create table duration_value_deltas (
    tenant_id uuid not null,
    metric smallint not null,
    queue_id uuid not null,
    bin smallint not null,
    bucket timestamptz not null,
    value_us bigint not null,
    n bigint not null
);
create index duration_value_deltas_by_hour on duration_value_deltas (tenant_id, metric, bucket);

alter table count_rollup_deltas set (autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 5000, autovacuum_vacuum_cost_delay = 0);
alter table duration_value_deltas set (autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 5000, autovacuum_vacuum_cost_delay = 0);

-- Room on each page for the folded updates of count_rollups and
-- duration_rollups, whose changed columns are in no index: heap-only
-- updates, pruned on the page, leave no dead index entries for readers.
alter table count_rollups set (fillfactor = 75);
alter table duration_rollups set (fillfactor = 75);
