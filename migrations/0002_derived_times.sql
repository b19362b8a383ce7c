-- Derived durations, recomputed at ingest for every interaction a batch
-- touches, so they depend only on the set of events, never on arrival order.

-- Seconds since the interaction entered Queued, on each Queued -> Assigned audit.
alter table interaction_audits add column queue_seconds double precision;
-- Seconds since the interaction entered Automation, on each audit leaving
-- Automation for Closed, Assigned or Queued.
alter table interaction_audits add column ivr_seconds double precision;

create index messages_by_user_time on messages (tenant_id, user_id, occurred_at);
create index units_of_work_by_user_time on units_of_work (tenant_id, user_id, occurred_at);
