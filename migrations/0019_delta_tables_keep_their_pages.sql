-- The delta tables are emptied by every fold and refilled by the next
-- batch. Autovacuum truncating their emptied tail takes an access
-- exclusive lock (seen as VacuumTruncate waits under sustained ingest at
-- 16M events), and the next batch only grows them again: keep the pages.
alter table count_rollup_deltas set (vacuum_truncate = off);
alter table duration_value_deltas set (vacuum_truncate = off);
