-- The time index of the state audits ends in event_id (the views' order
-- is occurredAt, then event id) and covers every column of the
-- interactions view except the data snapshot, so an export streams from an
-- index-only scan in order: no sort, and no random heap reads, however many
-- rows the tenant has. It still covers the count tiles' columns.
drop index interaction_audits_by_time;
create index interaction_audits_by_time on interaction_audits (tenant_id, occurred_at, event_id)
    include (interaction_id, reference, channel, queue_id, user_id, new_state, old_state);
