-- The ingest path no longer updates the rollups in place: each batch
-- appends its net changes to these delta tables (no index, no conflict, no
-- row lock shared with another batch), and one background worker at a time
-- folds them into the rollups (`src/ingest/fold.rs`), in one transaction
-- that deletes the deltas it adds. Readers add the deltas not yet folded,
-- so every answer is exact at every moment, folded or not.
--
-- Same columns as the rollups, without their keys: several rows of one key
-- may wait here. One small index each, for the readers' range scans of a
-- tenant's unfolded rows (a sequential scan per segment of a tile would
-- read the whole table dozens of times while ingest runs). Autovacuum visits them often (the worker also vacuums
-- them), since every row is deleted within a second or so.
create table count_rollup_deltas (like count_rollups including defaults);
create table duration_rollup_deltas (like duration_rollups including defaults);
create table duration_value_deltas (like duration_values including defaults);
create index count_rollup_deltas_by_bucket on count_rollup_deltas (tenant_id, grain, bucket);
create index duration_rollup_deltas_by_bucket on duration_rollup_deltas (tenant_id, metric, grain, bucket);
create index duration_value_deltas_by_bin on duration_value_deltas (tenant_id, metric, queue_id, bin, bucket);

alter table count_rollup_deltas set (autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 5000, autovacuum_vacuum_cost_delay = 0);
alter table duration_rollup_deltas set (autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 5000, autovacuum_vacuum_cost_delay = 0);
alter table duration_value_deltas set (autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 5000, autovacuum_vacuum_cost_delay = 0);

-- Room on each page for the folded updates of count_rollups and
-- duration_rollups, whose changed columns are in no index: heap-only
-- updates, pruned on the page, leave no dead index entries for readers.
alter table count_rollups set (fillfactor = 75);
alter table duration_rollups set (fillfactor = 75);
