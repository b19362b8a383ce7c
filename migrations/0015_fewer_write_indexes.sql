-- Fewer btrees where events land (issue 13): every btree on the write path
-- costs about half of the insert rate that is left (WRITE-LIMITS.md).
--
-- * The typed tables' primary keys (tenant_id, event_id) repeated the
--   primary key of `events`, which alone makes ingestion idempotent: a
--   typed row is only written for an event id `events` newly accepted. The
--   recomputations of derived times and presence spans now update the rows
--   they have just read by their physical address (ctid), under the
--   per-interaction or per-user lock that already serialises them.
alter table interaction_audits drop constraint interaction_audits_pkey;
alter table messages drop constraint messages_pkey;
alter table conversation_events drop constraint conversation_events_pkey;
alter table presence_changes drop constraint presence_changes_pkey;
alter table units_of_work drop constraint units_of_work_pkey;
