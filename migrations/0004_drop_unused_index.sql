-- Nothing reads events by type and time (the typed tables serve every
-- report); the index only slowed ingestion.
drop index if exists events_by_type_time;
-- The typed tables keep every field of their kind; the verbatim payload is
-- kept only where a table keeps less (directory history).
alter table events alter column payload drop not null;
